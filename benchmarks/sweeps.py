"""A 16-run sweep side by side in one run: one after another in one process (1 torch thread, and
all of them as `alstudio run` has), the local engine (a process pool), and Ray (a local cluster).

    .venv/bin/python benchmarks/sweeps.py [--parallel 2] [--epochs 4] [--cycles 3] [--skip-ray]
                                          [--skip-all-threads] [--json F]

Grid: dataset.bias_strength=0.7,0.9 x training.grad_lambda=0,1 (4 cells) x random, bald x 2 seeds =
16 runs on a small config (pool 600 at 16x16, scratch trunk). The dataset is cached before any clock
starts, as the sweep's driver does before dispatch. Per-run overhead of a parallel engine =
(wall x runs at once - one-after-another wall at 1 thread) / runs: what starting processes, dispatch
and journal reads add to each run (negative: the runs gained more than that from running side by side).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

GRID = "active.strategy=random,bald; dataset.bias_strength=0.7,0.9; training.grad_lambda=0,1"


def bench_config(epochs: int, cycles: int):
    from alstudio.engine import config as configs

    return configs.validate({
        "dataset": {"pool_size": 600, "test_size": 200, "resolution": 16, "bias": "correlation"},
        "model": {"init": "scratch"},
        "training": {"epochs": epochs, "batch_size": 16, "device": "cpu"},
        "active": {"initial_labels": 20, "query_size": 20, "cycles": cycles, "mc_samples": 10},
    })


def new_sweep(root: Path, name: str, base, seeds: int, **execution):
    from alstudio.engine.sweep import ExecutionSettings, Sweep, parse_grid, strategies_of

    axes = parse_grid(GRID, base)
    return Sweep.create(root / name, base, axes, strategies_of(axes), seeds,
                        execution=ExecutionSettings(**execution))


def one_after_another(sweep) -> float:
    """Every cell's experiment run in this process, as `alstudio run` would (all torch threads)."""
    from alstudio.engine.annotators import build_annotator
    from alstudio.engine.data import load_or_generate
    from alstudio.engine.runner import run_experiment

    started = time.perf_counter()
    for cell in sweep.cells:
        experiment = cell.experiment()
        dataset, _ = load_or_generate(experiment.config.dataset)
        for _ in run_experiment(experiment, dataset, annotator_for=build_annotator):
            pass
    return time.perf_counter() - started


def with_engine(sweep) -> float:
    from alstudio.engine.sweep import executor_for, run_sweep

    started = time.perf_counter()
    outcome = run_sweep(sweep, executor_for(sweep.execution), torch_threads=sweep.execution.cpus_per_run)
    assert outcome.complete, outcome
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--skip-all-threads", action="store_true", help="leave out alstudio run's own layout")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()

    import torch

    from alstudio.engine.sweep import prepare_inputs, ray_installed

    root = Path(tempfile.mkdtemp(prefix="alstudio-bench-sweeps-"))
    os.environ.setdefault("ALSTUDIO_CACHE_DIR", str(root / "cache"))
    base = bench_config(args.epochs, args.cycles)
    results = {}
    try:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        sequential = new_sweep(root, "sequential", base, args.seeds)
        prepare_inputs(sequential)  # the dataset cached before any clock starts
        runs = len(sequential.cells) * len(sequential.strategies) * args.seeds
        results["one after another (1 process, 1 torch thread)"] = (one_after_another(sequential), 1)
        sequential.release()
        torch.set_num_threads(threads)
        if not args.skip_all_threads:
            sequential = new_sweep(root, "all-threads", base, args.seeds)
            results[f"one after another (1 process, {threads} torch threads: `alstudio run`)"] = (
                one_after_another(sequential), 1)
            sequential.release()
        local = new_sweep(root, "local", base, args.seeds, max_parallel=args.parallel)
        results[f"local engine ({args.parallel} processes x 1 thread)"] = (with_engine(local), args.parallel)
        local.release()
        if ray_installed() and not args.skip_ray:
            ray = new_sweep(root, "ray", base, args.seeds, engine="ray")
            results[f"Ray, local cluster ({os.cpu_count()} CPUs, 1 per run; its start included)"] = (
                with_engine(ray), os.cpu_count() or 1)
            ray.release()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    baseline = next(iter(results.values()))[0]
    print(f"{runs} runs, {args.epochs} epochs x {args.cycles + 1} cycles each; {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, torch {torch.__version__}")
    print("| how | wall time | vs one after another | overhead per run |")
    print("|---|---|---|---|")
    rows = []
    for name, (wall, slots) in results.items():
        overhead = (wall * slots - baseline) / runs
        rows.append({"how": name, "wall_s": wall, "speedup": baseline / wall, "overhead_per_run_s": overhead})
        print(f"| {name} | {wall:.1f} s | {baseline / wall:.2f}x | "
              f"{'-' if slots == 1 else f'{overhead:.1f} s'} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

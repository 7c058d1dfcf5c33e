"""`alstudio sweep`, and what `resume` and `report` do with a sweep folder (cli.py hands them over)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .engine.errors import UserInputError

ENGINE_OPTIONS = ("engine", "address", "cpus_per_run", "gpus_per_run", "max_parallel")
SWEEP_ONLY_OPTIONS = (*ENGINE_OPTIONS, "mlflow")  # what `resume` takes for a sweep folder alone


def add_engine_arguments(parser: argparse.ArgumentParser, resuming: bool = False) -> None:
    later = " (default: as the sweep was started)" if resuming else ""
    parser.add_argument("--engine", choices=["local", "ray"], help="local: a process pool on this machine "
                        f"(default); ray: one Ray task per run{later}")
    parser.add_argument("--address", metavar="auto|HOST:PORT", help="ray: join a running cluster (auto: the one "
                        f"`ray start` began on this machine); without it a local Ray is started{later}")
    parser.add_argument("--cpus-per-run", type=int, metavar="N",
                        help=f"CPU cores (torch threads) per run (default 1){later}")
    parser.add_argument("--gpus-per-run", type=float, metavar="G",
                        help=f"ray: GPUs per run, e.g. 0.25 (default 0){later}")
    parser.add_argument("--max-parallel", type=int, metavar="N", help="runs at once (default: cores // "
                        f"cpus-per-run, or what the Ray cluster's resources allow){later}")
    parser.add_argument("--mlflow", metavar="URI", help="log each finished run (config, per-cycle metrics) and "
                        "the report figure to MLflow; a path is a local mlruns/-style folder "
                        "(pip install 'alstudio[mlflow]')")


def add_sweep_parser(commands, add_config_arguments) -> None:
    sweep = commands.add_parser("sweep", help="run a grid of experiments (config keys x strategies x seeds) in "
                                "parallel, locally or on Ray; resumable")
    add_config_arguments(sweep)
    sweep.add_argument("--grid", required=True, metavar="'KEY=V1,V2; ...'", help="axes over config keys, e.g. "
                       "'active.strategy=random,bald; dataset.bias_strength=0.7,0.9; training.grad_lambda=0,1'; "
                       "active.strategy gives the strategies every cell compares")
    sweep.add_argument("--out", required=True, metavar="DIR", help="sweep folder to create (empty)")
    sweep.add_argument("--seeds", type=int, metavar="N", help="repetitions per cell and strategy "
                       "(default: active.repetitions)")
    sweep.add_argument("--strategies", metavar="S1,S2", help="the strategies every cell compares, when the grid has "
                       "no active.strategy axis (default: active.strategies, or active.strategy)")
    sweep.add_argument("--retries", type=int, default=2, metavar="N", help="attempts after a run's first failure "
                       "before it is reported failed (default 2)")
    add_engine_arguments(sweep)
    sweep.set_defaults(handler=cmd_sweep)


def _strategies(args, axes, config) -> list[str]:
    from .engine.sweep import strategies_of

    from_grid = strategies_of(axes)
    if from_grid is not None and args.strategies is not None:
        raise UserInputError("give the strategies either as the active.strategy axis of --grid or with "
                             "--strategies, not both")
    if from_grid is not None:
        return from_grid
    if args.strategies is not None:
        names = [s.strip() for s in args.strategies.split(",")]
        if not all(names):
            raise UserInputError(f"--strategies: give strategy names separated by commas, got {args.strategies!r}")
        return names
    return config.active.run_strategies()


def execution_settings(args, start=None):
    """The engine options given on the command line over `start` (the sweep's own, when resuming)."""
    from pydantic import ValidationError

    from .engine.sweep import RAY_MISSING, ExecutionSettings, ray_installed

    values = start.model_dump() if start is not None else {}
    values.update({name: getattr(args, name) for name in ENGINE_OPTIONS if getattr(args, name) is not None})
    if values.get("cpus_per_run", 1) < 1:
        raise UserInputError(f"--cpus-per-run must be at least 1, got {values['cpus_per_run']}")
    if values.get("gpus_per_run", 0.0) < 0:
        raise UserInputError(f"--gpus-per-run must be 0 or more, got {values['gpus_per_run']}")
    if values.get("max_parallel") is not None and values["max_parallel"] < 1:
        raise UserInputError(f"--max-parallel must be at least 1, got {values['max_parallel']}")
    try:
        settings = ExecutionSettings(**values)
    except ValidationError as err:
        first = err.errors()[0]
        raise UserInputError(f"--{str(first['loc'][0]).replace('_', '-')}: {first['msg']}") from None
    if settings.engine != "ray" and (settings.address or settings.gpus_per_run):
        raise UserInputError("--address and --gpus-per-run need --engine ray")
    if settings.engine == "ray" and not ray_installed():
        raise UserInputError(RAY_MISSING)
    return settings


def cmd_sweep(args: argparse.Namespace) -> int:
    from .cli import _config_from
    from .engine.sweep import Sweep, parse_grid
    from .engine.sweep.folder import cell_config, check_cells_run_here
    from .engine.sweep.grid import cells_of

    config = _config_from(args)
    axes = parse_grid(args.grid, config)
    strategies = _strategies(args, axes, config)
    seeds = config.active.repetitions if args.seeds is None else args.seeds
    settings = execution_settings(args)
    _check_mlflow(args)
    check_cells_run_here([cell_config(config, cell) for cell in cells_of(axes)], strategies,
                         on_this_machine=settings.engine == "local")
    sweep = Sweep.create(args.out, config, axes, strategies, seeds, args.retries, settings)
    try:
        code = drive_sweep(sweep)
        return max(code, _log_to_mlflow(sweep, args.mlflow))
    finally:
        sweep.release()


def _check_mlflow(args) -> None:
    from .engine.sweep.tracking import MLFLOW_MISSING, mlflow_installed

    if args.mlflow is not None and not mlflow_installed():
        raise UserInputError(MLFLOW_MISSING)


def _log_to_mlflow(sweep, uri_text: str | None) -> int:
    """The sweep's report figure, then its finished runs not logged yet, to MLflow; 0, or 2 with one
    sentence when the tracking server or folder refuses (the sweep itself is done and kept)."""
    if uri_text is None:
        return 0
    from .engine.sweep import sweep_status
    from .engine.sweep.tracking import log_sweep, tracking_uri
    from .report import draw_sweep_report

    uri = tracking_uri(uri_text)
    figure = sweep.folder / "report.png"
    if sweep_status(sweep).done:
        draw_sweep_report(sweep.folder, figure)
    try:
        logged = log_sweep(sweep, uri, figure)
    except Exception as err:  # MlflowException, a refused connection, a full disk: MLflow's own types
        first = (str(err).strip().splitlines() or [err.__class__.__name__])[0]
        print(f"alstudio: error: --mlflow {uri_text}: cannot log there ({first})", file=sys.stderr)
        return 2
    print(f"logged {logged} run(s) to MLflow at {uri}")
    return 0


def resume_sweep(args: argparse.Namespace) -> int:
    from .engine.sweep import Sweep, sweep_results_are_stale, sweep_status, write_sweep_results

    sweep = Sweep.open(args.folder)
    settings = execution_settings(args, sweep.execution)
    _check_mlflow(args)
    sweep.execution = settings
    sweep.for_writing()
    try:
        status = sweep_status(sweep)
        left = status.runs - status.done
        if not left:
            print(f"{args.folder}: every run is finished; nothing to resume")
            if sweep_results_are_stale(sweep):  # a driver killed after its last run, before it wrote them
                write_sweep_results(sweep)
                print(f"rewrote {sweep.folder / 'metrics.csv'} and {sweep.folder / 'summary.json'}, "
                      "which were out of date")
            return _log_to_mlflow(sweep, args.mlflow)
        print(f"resuming {left} unfinished run(s) of {status.runs}")
        code = drive_sweep(sweep)
        return max(code, _log_to_mlflow(sweep, args.mlflow))
    finally:
        sweep.release()


def drive_sweep(sweep) -> int:
    """Prepare, run with one line per cell, then the failures and a short table; 1 if a run failed."""
    from .cli import _over_seeds, _stage_bars
    from .engine.progress import eta_text
    from .engine.sweep import executor_for, run_sweep
    from .textprogress import StatusLines

    settings = sweep.execution
    executor = executor_for(settings)
    runs = len(sweep.cells) * len(sweep.strategies) * sweep.seeds
    where = f"Ray ({settings.address or 'a local cluster'})" if settings.engine == "ray" else "this machine"
    at_once = (f"up to {executor.slots} at once" if settings.engine == "local" or settings.max_parallel
               else "as many at once as the cluster's resources allow")
    kinds = "strategy" if len(sweep.strategies) == 1 else "strategies"
    print(f"{len(sweep.cells)} cell(s) x {len(sweep.strategies)} {kinds} ({', '.join(sweep.strategies)}) x "
          f"{sweep.seeds} seed(s) = {runs} runs on {where}, {settings.cpus_per_run} CPU(s) each, {at_once}; "
          f"journals under {sweep.folder / 'cells'}")
    lines = StatusLines()

    def show(status) -> None:
        cells = status.lines()
        keys = [f"{c.cell} {c.done} {c.running} {c.failed}" for c in status.cells]
        total = f"all: {status.done}/{status.runs} done, {status.running} running, {status.failed} failed"
        lines.show([*cells, f"{total}  {eta_text(status.eta_seconds)}".rstrip()], [*keys, total])

    with _stage_bars() as progress:
        outcome = run_sweep(sweep, executor, show, on_prepare=lambda stage, step, steps, done, total:
                            progress(stage, done, total), torch_threads=settings.cpus_per_run)
    lines.close()
    for failure in outcome.failed:
        print(f"alstudio: error: {failure.cell}: {failure.strategy} seed {failure.seed} failed after "
              f"{failure.attempts} attempt(s): {failure.message}", file=sys.stderr)
    summary = json.loads((sweep.folder / "summary.json").read_text(encoding="utf-8"))
    width = max(len(cell) for cell in summary)
    for cell, entry in summary.items():
        for strategy, stats in entry["strategies"].items():
            print(f"{cell:<{width}}  {strategy:>12}: final accuracy {_over_seeds(stats['final_accuracy'])}, "
                  f"area under curve {_over_seeds(stats['aulc_accuracy'])} ({stats['seeds']} seeds)")
    print(f"wrote {sweep.folder / 'metrics.csv'} and {sweep.folder / 'summary.json'}")
    if outcome.failed:
        print(f"{len(outcome.failed)} run(s) failed (listed in {sweep.folder / 'failures.json'}); "
              f"alstudio resume {sweep.folder} tries them again", file=sys.stderr)
        return 1
    return 0 if outcome.complete else 1


def refresh_stale_sweep_results(folder) -> None:
    """As for an experiment: rewrite the sweep's metrics.csv and summary.json when they lag behind its
    journals and no driver runs it."""
    from .engine.folder_lock import FolderInUseError
    from .engine.sweep import Sweep, sweep_results_are_stale, write_sweep_results

    sweep = Sweep.open(folder)
    if not sweep_results_are_stale(sweep):
        return
    try:
        sweep.for_writing()
    except FolderInUseError:
        return  # the driver rewrites them as it ends
    try:
        write_sweep_results(sweep)
        print(f"rewrote {Path(folder) / 'metrics.csv'} and {Path(folder) / 'summary.json'}, which were out of date")
    finally:
        sweep.release()

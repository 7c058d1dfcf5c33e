"""Cost of one active-learning cycle and peak memory against the pool size and the MC samples.

    .venv/bin/python benchmarks/scale.py [--pools 1000,5000,20000,50000] [--samples 5,20,50]
                                         [--large 20000] [--batchbald 1000,5000,20000,50000]
                                         [--batchbald-subset 2000]
                                         [--threads 1] [--figure docs/figures/scale.png] [--json results.json]
                                         [--quick]

Each point is one fresh process running the loop's own path (`engine.loop.run`, oracle annotator, no
"why this sample" table) until cycle 0's result: train a small CNN from scratch on a fixed labelled
set (500 images, 5 epochs, batch 64), evaluate on 1,000 test images, score every unlabelled image
of the pool with BALD (or BatchBALD) and query 100. Its peak RSS is the process's high-water mark
(VmHWM), which includes the interpreter, torch and the dataset's arrays. Each point uses --threads
torch threads (default 1: on a shared machine, spinning intra-op threads make the timings swing tenfold).

The pools are prefixes of one cached dataset per resolution (the plan's order is random, so a prefix
is a random sample of the pool); generating those is reported apart and not counted in a cycle.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATASET = {"classes": ["a", "d"], "sensitive_attribute": "color", "groups": ["blue", "red"], "bias": "correlation",
           "bias_strength": 0.9, "test_size": 1000}
LABELLED, EPOCHS, QUERY = 500, 5, 100
RSS_LIMIT = 2e9  # the requirement: one cycle on 50,000 images at 32x32 (or 20,000 at 64x64) under 2 GB


# ---- one point, in its own process --------------------------------------------------------------

def peak_rss() -> int:
    """This process's peak resident set in bytes (VmHWM where Linux says it, else getrusage)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def current_rss() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_point(point: dict) -> dict:
    import torch

    torch.set_num_threads(point["threads"])

    from alstudio.engine import config as configs
    from alstudio.engine.annotators import OracleAnnotator
    from alstudio.engine.data.dataset import SynbolsDataset
    from alstudio.engine.journal import Journal
    from alstudio.engine.loop import CycleResult, Failed, Progress, new_run_fingerprint, run

    after_imports = current_rss()
    dataset, _ = SynbolsDataset.load(point["file"])
    with_dataset = current_rss()
    config = configs.validate({
        "dataset": {**DATASET, "pool_size": point["pool"], "resolution": point["resolution"]},
        "model": {"architecture": "cnn", "init": "scratch"},
        "training": {"epochs": EPOCHS, "batch_size": 64, "device": "cpu"},
        "active": {"strategy": point["strategy"], "initial_labels": LABELLED, "query_size": QUERY, "cycles": 1,
                   "mc_samples": point["samples"], "pool_subset": point.get("subset", 0)},
    })
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "journal.sqlite")
        journal = Journal.create(path, config, point["strategy"], 0, new_run_fingerprint(config, 0))
        try:
            started = time.perf_counter()
            events = run(journal, dataset, OracleAnnotator(), explain=False)
            for event in events:
                now = time.perf_counter()
                if isinstance(event, Progress) and event.stage in ("evaluating", "scoring"):
                    times.setdefault(event.stage, now)
                elif isinstance(event, Failed):
                    raise SystemExit(f"the run failed: {event.message}\n{event.traceback}")
                elif isinstance(event, CycleResult):
                    times["result"] = now
                    events.close()
                    break
            cycle = journal.cycles()[0]
        finally:
            journal.close()
    return {**point, "torch_threads": torch.get_num_threads(),
            "train_s": cycle["train_seconds"], "evaluate_s": times["scoring"] - times["evaluating"],
            "query_s": cycle["query_seconds"], "run_s": times["result"] - started,
            "rss_imports": after_imports, "rss_dataset": with_dataset, "peak_rss": peak_rss(),
            "load": os.getloadavg()[0]}


# ---- the driver ---------------------------------------------------------------------------------

def datasets(resolutions: dict[int, int], folder: Path) -> tuple[dict[tuple[int, int], Path], list[str]]:
    """One cached dataset per resolution (its largest pool), cut into a file per pool size."""
    from alstudio.engine import config as configs
    from alstudio.engine.data.cache import cache_path, load_or_generate
    from alstudio.engine.data.dataset import SPLIT_FIELDS, Split

    files, notes = {}, []
    for resolution, sizes in resolutions.items():
        largest = max(sizes)
        dataset_config = configs.validate(
            {"dataset": {**DATASET, "pool_size": largest, "resolution": resolution}}).dataset
        started = time.perf_counter()
        dataset, cached = load_or_generate(dataset_config)
        seconds = time.perf_counter() - started
        images = largest + dataset_config.test_size
        notes.append(f"{images:,} images at {resolution}x{resolution}: "
                     + (f"loaded from the cache in {seconds:.1f} s" if cached else
                        f"generated in {seconds:.0f} s ({images / seconds:.0f} images/s on {os.cpu_count()} "
                        f"cores) and cached in {cache_path(dataset_config).parent}"))
        for size in sorted(set(sizes)):
            if size == largest:
                files[resolution, size] = cache_path(dataset_config)
                continue
            pool = Split(**{name: getattr(dataset.pool, name)[:size] for name in SPLIT_FIELDS})
            files[resolution, size] = Path(folder, f"pool-{resolution}-{size}.npz")
            dataclasses.replace(dataset, pool=pool).save(files[resolution, size])
        del dataset
    return files, notes


def measure(point: dict) -> dict:
    """Run one point in a fresh interpreter and read its JSON line."""
    threads = str(point["threads"])  # numpy's BLAS (BatchBALD's products) as well as torch
    env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    done = subprocess.run([sys.executable, __file__, "--point", json.dumps(point)], capture_output=True, text=True,
                          env=env)
    if done.returncode != 0:
        raise SystemExit(f"point {point} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:,.0f}"


def table(results: list[dict]) -> str:
    lines = ["| images | pool | strategy | T | train (s) | evaluate (s) | score + query (s) | cycle (s) | "
             "score + query per 1,000 (ms) | peak RSS (MB) | RSS: torch + dataset (MB) | load |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        strategy = r["strategy"] + (f" (subset {r['subset']:,})" if r.get("subset") else "")
        scored = r.get("subset") or r["pool"] - LABELLED
        cycle = r["train_s"] + r["evaluate_s"] + r["query_s"]
        flag = "" if r["peak_rss"] < RSS_LIMIT else " (over 2 GB)"
        lines.append(
            f"| {r['resolution']}x{r['resolution']} | {r['pool']:,} | {strategy} | {r['samples']} | {r['train_s']:.2f} "
            f"| {r['evaluate_s']:.2f} | {r['query_s']:.2f} | {cycle:.2f} | {1000 * r['query_s'] / scored:.1f} | "
            f"{_mb(r['peak_rss'])}{flag} | {_mb(r['rss_dataset'])} | {r['load']:.1f} |")
    return "\n".join(lines)


def slopes(results: list[dict]) -> str:
    """log-log slope of score + query time against the scored images, per series (1 = linear)."""
    import numpy as np

    out = []
    series: dict[tuple, list[dict]] = {}
    for r in results:
        if r["resolution"] == 32 and not r.get("subset"):
            series.setdefault((r["strategy"], r["samples"]), []).append(r)
    for (strategy, samples), rows in series.items():
        if len({r["pool"] for r in rows}) < 2:
            continue
        x = np.log([r["pool"] - LABELLED for r in rows])
        y = np.log([r["query_s"] for r in rows])
        out.append(f"{strategy} T={samples}: {np.polyfit(x, y, 1)[0]:.2f}")
    return "; ".join(out)


def _log_ticks(plot, axis: str, values) -> None:
    """Label a log axis at these values only (pyqtgraph's own minor labels crowd a short range)."""
    import math

    plot.getAxis(axis).setTicks([[(math.log10(v), f"{v:,.0f}" if v >= 1 else f"{v:g}") for v in values], []])


def draw(results: list[dict], png: Path, compare: list[dict] | None = None, compare_label: str = "",
         width: int = 1300, height: int = 540) -> None:
    """Two log-log panels, seconds per cycle and peak RSS against the pool size (pyqtgraph, offscreen);
    `compare`: another tree's points (--compare), drawn hollow on the memory panel."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

    from alstudio.report import save_widget

    app = QApplication.instance() or QApplication([])
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    sheet = QWidget()
    layout = QHBoxLayout(sheet)
    panels = []
    for title, left in (("One cycle at 32x32: score + query (solid), whole cycle (dashed)", "seconds"),
                        ("Peak RSS of the process during one cycle", "MB")):
        plot = pg.PlotWidget(title=title)
        plot.setLogMode(x=True, y=True)
        plot.showGrid(x=True, y=True, alpha=0.3)
        plot.setLabel("bottom", "pool size (images)")
        plot.setLabel("left", left)
        plot.addLegend(offset=(10, 10))
        layout.addWidget(plot)
        panels.append(plot)
    cost, memory = panels
    series: dict[str, list[dict]] = {}
    for r in results:
        if r["resolution"] == 32 and not r.get("subset"):
            series.setdefault(f"{r['strategy']} T={r['samples']}", []).append(r)
    for i, (name, rows) in enumerate(series.items()):
        rows = sorted(rows, key=lambda r: r["pool"])
        pools = [r["pool"] for r in rows]
        colour = colours[i % len(colours)]
        cost.plot(pools, [r["query_s"] for r in rows], pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=7,
                  symbolBrush=colour, name=name)
        cost.plot(pools, [r["train_s"] + r["evaluate_s"] + r["query_s"] for r in rows],
                  pen=pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashLine))
        memory.plot(pools, [r["peak_rss"] / 1e6 for r in rows], pen=pg.mkPen(colour, width=2), symbol="o",
                    symbolSize=7, symbolBrush=colour, name=name)
    for r in results:
        if r.get("subset"):
            cost.plot([r["pool"]], [r["query_s"]], pen=None, symbol="t", symbolSize=11, symbolBrush="#d62728",
                      name=f"{r['strategy']} T={r['samples']}, pool_subset {r['subset']:,}")
    large = [r for r in results if r["resolution"] != 32]
    if large:
        memory.plot([r["pool"] for r in large], [r["peak_rss"] / 1e6 for r in large], pen=None, symbol="s",
                    symbolSize=9, symbolBrush="k", name=f"{large[0]['resolution']}x{large[0]['resolution']}, "
                    f"{large[0]['strategy']} T={large[0]['samples']}")
    named = set()
    for r in compare or []:
        size = r["resolution"]
        name = f"{compare_label}, {size}x{size}" if compare_label and size not in named else None
        named.add(size)
        memory.plot([r["pool"]], [r["peak_rss"] / 1e6], pen=None, symbol="s" if size != 32 else "o", symbolSize=10,
                    symbolBrush=None, symbolPen=pg.mkPen("k", width=1.5), name=name)
    pools = sorted({r["pool"] for r in results + (compare or [])})
    memory.plot(pools, [RSS_LIMIT / 1e6] * len(pools), pen=pg.mkPen("#777", width=1.5, style=Qt.PenStyle.DotLine),
                name="2 GB")
    for plot in panels:
        _log_ticks(plot, "bottom", pools)
    _log_ticks(cost, "left", [0.1, 0.3, 1, 3, 10, 30, 100, 300])
    _log_ticks(memory, "left", [500, 700, 1000, 1500, 2000, 3000, 4000])
    save_widget(app, sheet, png, width, height)


def _sizes(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", type=_sizes, default=[1000, 5000, 20000, 50000], help="pool sizes at 32x32")
    parser.add_argument("--samples", type=_sizes, default=[5, 20, 50], help="MC-dropout samples T")
    parser.add_argument("--large", type=_sizes, default=[20000], help="pool sizes at 64x64 (BALD, T = 20)")
    parser.add_argument("--batchbald", type=_sizes, default=[1000, 5000, 20000, 50000],
                        help="pool sizes at 32x32 scored whole by BatchBALD (T = 20)")
    parser.add_argument("--batchbald-subset", type=int, default=2000,
                        help="BatchBALD on the largest pool with active.pool_subset = this (0: skip)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads in each point's process")
    parser.add_argument("--figure", type=Path, help="write the log-log figure to this PNG")
    parser.add_argument("--json", type=Path, help="also write every point's measurements here")
    parser.add_argument("--from-json", type=Path, help="measure nothing: the table and figure of a --json file")
    parser.add_argument("--compare", type=Path, help="a --json file of another tree, drawn hollow on the memory panel")
    parser.add_argument("--compare-label", default="other tree", help="the legend's name for --compare")
    parser.add_argument("--quick", action="store_true", help="pools 1000 and 5000, T 5 and 20, nothing else")
    parser.add_argument("--point", help=argparse.SUPPRESS)  # one point, in a fresh process
    args = parser.parse_args()
    if args.point:
        print(json.dumps(run_point(json.loads(args.point))))
        return
    if args.quick:
        args.pools, args.samples, args.large, args.batchbald, args.batchbald_subset = [1000, 5000], [5, 20], [], [], 0
    if args.from_json:
        results = json.loads(args.from_json.read_text())
        print(report(results))
    else:
        results = measure_all(args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.figure:
        compare = json.loads(args.compare.read_text()) if args.compare else None
        draw(results, args.figure, compare, args.compare_label)
        print(f"figure: {args.figure}")


def measure_all(args) -> list[dict]:
    import torch

    points = [{"resolution": 32, "pool": pool, "samples": t, "strategy": "bald"}
              for t in args.samples for pool in args.pools]
    points += [{"resolution": 64, "pool": pool, "samples": 20, "strategy": "bald"} for pool in args.large]
    points += [{"resolution": 32, "pool": pool, "samples": 20, "strategy": "batchbald"} for pool in args.batchbald]
    if args.batchbald_subset:
        points.append({"resolution": 32, "pool": max(args.pools), "samples": 20, "strategy": "batchbald",
                       "subset": args.batchbald_subset})
    resolutions: dict[int, list[int]] = {}
    for point in points:
        resolutions.setdefault(point["resolution"], []).append(point["pool"])
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"torch {torch.__version__}, CPU; load average at start {os.getloadavg()[0]:.1f}", flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        files, notes = datasets(resolutions, Path(folder))
        for note in notes:
            print("dataset: " + note, flush=True)
        results = []
        for point in points:
            file = files[point["resolution"], point["pool"]]
            result = measure({**point, "threads": args.threads, "file": str(file)})
            results.append(result)
            print(f"  {point}: cycle {result['train_s'] + result['evaluate_s'] + result['query_s']:.1f} s, "
                  f"peak RSS {_mb(result['peak_rss'])} MB", flush=True)
    print(f"\n{report(results)}")
    print(f"{time.perf_counter() - started:.0f} s in all; load average at the end {os.getloadavg()[0]:.1f}. "
          f"Command: `{' '.join(sys.argv)}`")
    return results


def report(results: list[dict]) -> str:
    imports = sorted(r["rss_imports"] for r in results)[len(results) // 2]
    lines = [table(results), "",
             f"log-log slope of score + query against the images scored: {slopes(results)}",
             f"RSS after importing torch and the engine, before any data: {_mb(imports)} MB (median over the points); "
             f"{results[0]['torch_threads']} torch thread(s) per point."]
    over = [r for r in results if r["peak_rss"] >= RSS_LIMIT]
    if over:
        lines.append(f"{len(over)} point(s) over 2 GB peak RSS")
    return "\n".join(lines)

if __name__ == "__main__":
    main()

"""What the workbench's sweep window costs per poll, on benchmarks/sweeps.py's 16-run grid (2 bias
strengths x 2 GRAD lambdas x random, bald x 2 seeds), finished, so that every journal holds every cycle:

    .venv/bin/python benchmarks/sweep_poll.py [--repeats 20] [--json F]

- a full poll (gui/sweep/poller.read_snapshot: the lock, sweep_summary and sweep_status), on the
  poller's thread; and each of its two reads alone;
- a light poll (the lock alone), what the window does every 2 s while no driver runs the sweep;
- showing a snapshot in the window (table model, colours, column widths, per-cell status): the only
  part on the GUI thread.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def timed(call, repeats: int) -> dict:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return {"median_ms": 1000 * statistics.median(seconds), "max_ms": 1000 * max(seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("ALSTUDIO_CACHE_DIR", str(Path(tmp) / "cache"))
        from sweeps import bench_config, new_sweep

        from alstudio.engine.sweep import LocalExecutor, Sweep, run_sweep, sweep_status, sweep_summary

        sweep = new_sweep(Path(tmp), "sweep", bench_config(epochs=1, cycles=2), seeds=2, max_parallel=2)
        try:
            assert run_sweep(sweep, LocalExecutor(2)).complete
        finally:
            sweep.release()

        from PySide6.QtWidgets import QApplication

        from alstudio.gui.sweep.poller import read_snapshot
        from alstudio.gui.sweep.view import SweepView

        app = QApplication.instance() or QApplication(sys.argv[:1])
        reader = Sweep.open(sweep.folder)
        snapshot = read_snapshot(reader, journals_too=True)
        view = SweepView(reader)
        view.poller.stop()  # the figures below are taken here, one at a time
        results = {
            "runs": snapshot.status.runs,
            "full_poll": timed(lambda: read_snapshot(reader, journals_too=True), args.repeats),
            "sweep_summary": timed(lambda: sweep_summary(reader), args.repeats),
            "sweep_status": timed(lambda: sweep_status(reader), args.repeats),
            "light_poll": timed(lambda: read_snapshot(reader, journals_too=False), args.repeats),
            "show_snapshot_on_gui_thread": timed(lambda: view._on_snapshot(snapshot), args.repeats),
            "load_average": os.getloadavg()[0],
        }
        view.close()
        app.processEvents()
    for name, value in results.items():
        print(f"{name:>28}: {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

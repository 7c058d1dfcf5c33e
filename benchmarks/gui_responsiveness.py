"""Event-loop stalls of the workbench during a run, measured with a 10 ms QTimer heartbeat.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_responsiveness.py [--preset NAME] [--cycles N]

A heartbeat fires every 10 ms on the GUI thread; the gap between consecutive beats minus 10 ms is
how long the event loop was blocked. Prints p50, p99 and max, and the same with no run for
comparison (the offscreen platform still paints). Exits 1 when p99 during the run is longer than one
frame at 60 Hz (16 ms), so a window that stutters fails loudly.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np


def measure(app, seconds: float | None, until=None) -> np.ndarray:
    from PySide6.QtCore import QTimer

    beats = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: beats.append(time.perf_counter()))
    timer.start()
    start = time.perf_counter()
    while True:
        app.processEvents()
        time.sleep(0.001)
        if seconds is not None and time.perf_counter() - start > seconds:
            break
        if until is not None and until():
            break
    timer.stop()
    return np.maximum(np.diff(beats) * 1000 - 10, 0)


def row(label: str, stalls: np.ndarray) -> str:
    return (f"| {label} | {len(stalls)} | {np.percentile(stalls, 50):.1f} | {np.percentile(stalls, 99):.1f} | "
            f"{stalls.max():.1f} |")


ONE_FRAME_MS = 16.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="lecture-bald-vs-random")
    parser.add_argument("--cycles", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from alstudio.engine import config as configs
    from alstudio.engine.runner import prepare
    from alstudio.gui.main_window import MainWindow

    data = configs.load_preset(args.preset).model_dump()
    data["active"]["cycles"] = args.cycles
    config = configs.validate(data)
    prepare(config)  # measure the run, not the first generation of the dataset or the trunk
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(config)
    window.show()
    idle = measure(app, seconds=3.0)
    finished = []
    window.controller.done.connect(finished.append)
    window.start()
    started = time.perf_counter()
    running = measure(app, seconds=None, until=lambda: bool(finished))
    wall = time.perf_counter() - started
    window.close()
    print(f"preset {args.preset}, {args.cycles} cycles, strategies {window.experiment.strategies}, "
          f"{os.cpu_count()} cores; run took {wall:.0f} s\n")
    print("| event loop | heartbeats | p50 stall (ms) | p99 stall (ms) | max stall (ms) |")
    print("|---|---|---|---|---|")
    print(row("idle window", idle))
    print(row("during a run", running))
    p99 = float(np.percentile(running, 99))
    if p99 > ONE_FRAME_MS:
        print(f"\nFAIL: p99 stall during the run is {p99:.1f} ms, longer than one frame ({ONE_FRAME_MS:.0f} ms); "
              "the window stutters", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Python's cyclic garbage collector runs in whichever thread happens to allocate. When it frees Qt
objects (widgets, pixmaps, threads) from a worker thread, Qt crashes. So automatic collection is
turned off and the GUI thread collects on a timer instead.

The timer is pyqtgraph's GarbageCollector: each tick collects only the generations whose thresholds
were passed, as automatic collection would have, so most ticks walk only the young objects. A full
`gc.collect()` every tick walked everything alive, torch's modules included, and stalled the window
for about 230 ms every second (docs/benchmarks.md).
"""

from __future__ import annotations

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QObject


def collect_on_gui_thread(parent: QObject, interval_s: float = 1.0) -> GarbageCollector:
    """Call on the GUI thread and keep the collector; its timer is deleted with `parent`."""
    collector = GarbageCollector(interval=interval_s)  # also gc.disable()
    collector.timer.setParent(parent)
    collector.timer.setObjectName("garbageCollectionTimer")
    return collector

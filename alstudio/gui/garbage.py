"""Python's cyclic garbage collector runs in whichever thread happens to allocate. When it frees Qt
objects (widgets, pixmaps, threads) from a worker thread, Qt crashes. So automatic collection is
turned off and the GUI thread collects on a timer instead."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


def collect_on_gui_thread(parent: QObject, interval_ms: int = 1000) -> QTimer:
    gc.disable()
    timer = QTimer(parent)
    timer.setObjectName("garbageCollectionTimer")
    timer.timeout.connect(gc.collect)
    timer.start(interval_ms)
    return timer

"""Watches a sweep folder: its table rows and per-cell status, read off the GUI thread.

sweep_summary and sweep_status read every journal (read-only, no lock): about 0.25 s for a 16-run
sweep on a 2-core machine, far too long for the GUI thread. A poll therefore runs on a worker thread,
one at a time, and while no driver holds the sweep only its lock is looked at (a flock, well under a
millisecond): the journals are read again when a driver starts, while it runs, and once after it ends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot

from ...engine.errors import UserInputError
from ...engine.folder_lock import is_locked
from ...engine.sweep import SummaryRow, Sweep, SweepStatus, sweep_status, sweep_summary

POLL_EVERY_MS = 2000


@dataclass(frozen=True)
class SweepSnapshot:
    """What a poll read: the table's rows and the per-cell status (None when only the lock was looked
    at and nothing could have changed), or the sentence saying why the journals could not be read."""

    driver_running: bool
    rows: tuple[SummaryRow, ...] | None = None
    status: SweepStatus | None = None
    error: str | None = None
    seconds: float = 0.0  # how long the poll took


def read_snapshot(sweep: Sweep, journals_too: bool) -> SweepSnapshot:
    """A poll (on any thread): the lock, and the journals when `journals_too` or a driver holds the sweep."""
    started = time.perf_counter()
    driver = is_locked(sweep.folder)
    if not (journals_too or driver):
        return SweepSnapshot(False, seconds=time.perf_counter() - started)
    try:
        rows, status = tuple(sweep_summary(sweep)), sweep_status(sweep)
    except UserInputError as err:  # a journal a driver is replacing right now, a damaged file: say which
        return SweepSnapshot(driver, error=str(err), seconds=time.perf_counter() - started)
    except OSError as err:
        return SweepSnapshot(driver, error=f"{sweep.folder}: cannot be read ({err.strerror or err})",
                             seconds=time.perf_counter() - started)
    return SweepSnapshot(status.driver_running, rows, status, seconds=time.perf_counter() - started)


def _end_thread(thread: QThread) -> None:
    thread.quit()
    thread.wait()


class _PollJob(QObject):
    polled = Signal(object)  # SweepSnapshot

    def __init__(self, sweep: Sweep):
        super().__init__()
        self.sweep = sweep

    @Slot(bool)
    def poll(self, journals_too: bool) -> None:
        self.polled.emit(read_snapshot(self.sweep, journals_too))

    @Slot()
    def retire(self) -> None:
        # Back to the GUI thread before the thread ends, to be deleted there (as gui/worker.py does).
        self.moveToThread(QCoreApplication.instance().thread())
        QThread.currentThread().quit()


class SweepPoller(QObject):
    """Polls `folder`'s sweep every POLL_EVERY_MS on its own thread; `snapshot` carries each result that
    read the journals. `refresh()` asks for a full read now (it waits for a poll in flight)."""

    snapshot = Signal(object)  # SweepSnapshot
    _ask = Signal(bool)
    _retire = Signal()

    def __init__(self, folder: str | Path, parent: QObject | None = None):
        super().__init__(parent)
        self._thread = QThread(self)
        self._thread.setObjectName("sweepPollThread")
        self._job = _PollJob(Sweep.open(folder))  # its own reader: a driver in this process has another
        self._job.moveToThread(self._thread)
        self._ask.connect(self._job.poll)
        self._retire.connect(self._job.retire)
        self._job.polled.connect(self._on_polled)
        self._in_flight = False
        self._full_wanted = True  # the first poll reads everything
        self._driver_seen = False
        self.last: SweepSnapshot | None = None
        self._timer = QTimer(self, interval=POLL_EVERY_MS)
        self._timer.setObjectName("sweepPollTimer")
        self._timer.timeout.connect(self._tick)
        # Qt aborts when a running QThread is deleted with its parent: `destroyed` comes before the
        # children go (a view deleted with the workbench, never closed), so the thread ends first.
        self.destroyed.connect(partial(_end_thread, self._thread))
        self._thread.start()
        self._timer.start()
        self._tick()

    def refresh(self) -> None:
        self._full_wanted = True
        self._tick()

    def stop(self) -> None:
        """No more polls; waits for the one in flight (a fraction of a second)."""
        self._timer.stop()
        if self._thread.isRunning():
            self._retire.emit()
            self._thread.wait()

    @Slot()
    def _tick(self) -> None:
        if self._in_flight or not self._thread.isRunning():
            return
        # Once more after a driver has gone, for what it wrote last.
        journals_too = self._full_wanted or self._driver_seen
        self._full_wanted = False
        self._in_flight = True
        self._ask.emit(journals_too)

    @Slot(object)
    def _on_polled(self, snapshot: SweepSnapshot) -> None:
        self._in_flight = False
        self._driver_seen = snapshot.driver_running
        if snapshot.rows is None and snapshot.error is None:
            return  # only the lock was read: nothing changed
        self.last = snapshot
        self.snapshot.emit(snapshot)

"""Drives a sweep from the workbench: engine.sweep.run_sweep with a LocalExecutor on a QThread.

run_sweep blocks until every run has ended, so it runs on its own thread; its progress (a frozen
SweepStatus with the driver's ETA) crosses to the GUI thread as a signal. Stop is cooperative (a
threading.Event): queued runs are dropped and running ones end 'stopped', resumable, before the
thread ends. The sweep is locked by whoever starts the runner and released here when the drive ends.
"""

from __future__ import annotations

import threading
import traceback

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from ...engine.errors import UserInputError
from ...engine.loop import Failed
from ...engine.sweep import LocalExecutor, Sweep, run_sweep


class _SweepWorker(QObject):
    progress = Signal(object)  # engine.sweep.SweepStatus
    preparing = Signal(str)  # what is made before the runs start, e.g. "generating (400 of 3,000)"
    finished = Signal(object)  # engine.sweep.SweepOutcome
    failed = Signal(object)  # engine.loop.Failed: the drive itself broke (a failed run is in the outcome)

    def __init__(self, sweep: Sweep, max_parallel: int, stop: threading.Event):
        super().__init__()
        self.sweep, self.max_parallel, self.stop = sweep, max_parallel, stop

    @Slot()
    def run(self) -> None:
        try:
            outcome = run_sweep(self.sweep, LocalExecutor(self.max_parallel, cpus_per_run=1), self.progress.emit,
                                self.stop, on_prepare=self._preparing, torch_threads=1)
        except UserInputError as err:  # a full disk, an unreadable journal: the engine's one sentence
            self.failed.emit(Failed(str(err), ""))
        except Exception as err:
            self.failed.emit(Failed(str(err) or err.__class__.__name__, traceback.format_exc()))
        else:
            self.finished.emit(outcome)
        finally:
            self.sweep.release()
            self.moveToThread(QCoreApplication.instance().thread())  # to be deleted on the GUI thread
            QThread.currentThread().quit()

    def _preparing(self, stage: str, step: int, steps: int, done: int, total: int) -> None:
        self.preparing.emit(f"{stage} ({done:,} of {total:,})" if total else stage)  # as ProgressReport says it


class SweepRunner(QObject):
    """One drive of one sweep (locked by the caller); made per start, its signals re-emit the worker's."""

    progress = Signal(object)
    preparing = Signal(str)
    finished = Signal(object)
    failed = Signal(object)
    ended = Signal()  # after finished or failed: the thread is done and the sweep released

    def __init__(self, sweep: Sweep, max_parallel: int, parent: QObject | None = None):
        super().__init__(parent)
        self.folder = sweep.folder
        self._stop = threading.Event()
        self._thread = QThread(self)
        self._thread.setObjectName("sweepDriverThread")
        self._worker = _SweepWorker(sweep, max_parallel, self._stop)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        for name in ("progress", "preparing", "finished", "failed"):
            getattr(self._worker, name).connect(getattr(self, name))
        self._thread.finished.connect(self._on_thread_finished)

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self, wait: bool = False) -> None:
        """Ask the sweep to stop; with `wait`, block until its running runs have ended (resumable)."""
        self._stop.set()
        if wait:
            self._thread.wait()
            QCoreApplication.sendPostedEvents(self)  # the worker's last signals, before the caller goes on

    @Slot()
    def _on_thread_finished(self) -> None:
        self._worker = None
        self.ended.emit()

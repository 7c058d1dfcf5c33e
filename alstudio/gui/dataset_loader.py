"""Generates or loads a dataset on a QThread and reports back with signals carrying plain data."""

from __future__ import annotations

import threading
import traceback

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..engine.data import GenerationCancelled, load_or_generate


class _Job(QObject):
    progress = Signal(int, int)
    loaded = Signal(object, bool)  # SynbolsDataset, came from the cache
    failed = Signal(str, str)  # message, traceback
    cancelled = Signal()

    def __init__(self, dataset_config, cancel: threading.Event, workers: int | None):
        super().__init__()
        self._config, self._cancel, self._workers = dataset_config, cancel, workers

    @Slot()
    def run(self) -> None:
        try:
            dataset, cached = load_or_generate(
                self._config, progress=self.progress.emit, cancel=self._cancel, workers=self._workers)
        except GenerationCancelled:
            self.cancelled.emit()
        except Exception as err:  # shown to the user in a dialog; the app keeps running
            self.failed.emit(str(err) or err.__class__.__name__, traceback.format_exc())
        else:
            self.loaded.emit(dataset, cached)


class DatasetLoader(QObject):
    """One generation at a time; starting a new one cancels the previous."""

    progress = Signal(int, int)
    loaded = Signal(object, bool)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None, workers: int | None = None):
        super().__init__(parent)
        self._workers = workers
        self._thread: QThread | None = None
        self._cancel = threading.Event()

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def start(self, dataset_config) -> None:
        self.stop()
        self._cancel = threading.Event()
        thread, job = QThread(self), _Job(dataset_config, self._cancel, self._workers)
        job.moveToThread(thread)
        thread.started.connect(job.run)
        job.progress.connect(self.progress)
        job.loaded.connect(self.loaded)
        job.failed.connect(self.failed)
        for done in (job.loaded, job.failed, job.cancelled):
            done.connect(thread.quit)
        thread.finished.connect(job.deleteLater)
        self._thread, self._job = thread, job
        thread.start()

    def stop(self) -> None:
        """Cancel cooperatively and wait for the thread (generation checks every 0.1 s)."""
        if self._thread is not None:
            self._cancel.set()
            self._thread.quit()
            self._thread.wait()
            self._thread.deleteLater()
            self._thread = None

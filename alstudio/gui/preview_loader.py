"""Live dataset previews: a small sample dataset rendered on a QThread, newest request wins.

A preview must follow the user's edits within about a second, so it renders a small pool with the
same classes, groups, bias and seed (in-process, uncached) instead of the configured dataset. A new
request cancels the older ones through their cancel events and only the newest one is delivered,
so a burst of edits never shows a stale picture.
"""

from __future__ import annotations

import threading
from functools import partial

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from ..engine.config import DatasetConfig
from ..engine.data import GenerationCancelled, generate_dataset
from ..engine.data.preview import preview_image

PREVIEW_POOL_SIZE = 160
PREVIEW_COLUMNS = 16  # 160 images in 10 rows: a 90/10 pool shows 9 rows against 1
# Larger images would make the preview slow to render without showing the bias any better.
PREVIEW_MAX_RESOLUTION = 64
_TILE_PIXELS = 40


def preview_config(dataset: DatasetConfig) -> DatasetConfig:
    """`dataset`'s classes, groups, fonts, bias and seed, at a size that renders in a fraction of a second."""
    values = dataset.model_dump()
    values.update(pool_size=PREVIEW_POOL_SIZE, test_size=len(dataset.classes) * len(dataset.groups),
                  resolution=min(dataset.resolution, PREVIEW_MAX_RESOLUTION))
    return DatasetConfig.model_validate(values)


def render_preview(dataset_config: DatasetConfig, cancel: threading.Event | None = None):
    """The preview grid (a PIL image) of `dataset_config`'s sample pool, one block per group."""
    small = preview_config(dataset_config)
    # In-process rendering takes the engine's render lock chunk by chunk (synbols is not thread-safe).
    dataset = generate_dataset(small, cancel=cancel, workers=1)
    scale = max(1, _TILE_PIXELS // small.resolution)
    rows = -(-PREVIEW_POOL_SIZE // PREVIEW_COLUMNS)
    return preview_image(dataset, "pool", columns=PREVIEW_COLUMNS, rows=rows, scale=scale)


def _cancel_and_wait(running: dict) -> None:
    for thread, _, cancel in running.values():
        cancel.set()
        thread.quit()
    for thread, _, _ in running.values():
        thread.wait()
    running.clear()


class _PreviewJob(QObject):
    done = Signal(int, object)  # request id, PIL image (None when cancelled)
    failed = Signal(int, str)

    def __init__(self, request_id: int, dataset_config: DatasetConfig, cancel: threading.Event):
        super().__init__()
        self._id, self._config, self._cancel = request_id, dataset_config, cancel

    @Slot()
    def run(self) -> None:
        try:
            image = render_preview(self._config, self._cancel)
        except GenerationCancelled:
            self._tell(self.done, self._id, None)
        except Exception as err:  # shown in the panel; the workbench keeps running
            self._tell(self.failed, self._id, str(err) or err.__class__.__name__)
        else:
            self._tell(self.done, self._id, image)

    @staticmethod
    def _tell(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the window closed while this rendered: nobody is waiting for the picture
            pass


class PreviewLoader(QObject):
    """Renders previews off the GUI thread; `ready` carries only the newest request's picture."""

    ready = Signal(int, object)  # request id, PIL RGB image
    failed = Signal(int, str)  # request id, message

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._latest = 0
        self._running: dict[int, tuple[QThread, _PreviewJob, threading.Event]] = {}
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)
        # Qt deletes a running QThread child with its parent and aborts; `destroyed` comes before the
        # children go, so the threads are cancelled and waited for first (the panel may be deleted with
        # its window, never closed).
        self.destroyed.connect(partial(_cancel_and_wait, self._running))

    @property
    def busy(self) -> bool:
        """True while the newest request is still rendering."""
        return self._latest in self._running

    @property
    def latest_request(self) -> int:
        return self._latest

    def request(self, dataset_config: DatasetConfig) -> int:
        """Start rendering `dataset_config`'s preview; older requests are cancelled. Returns the request id."""
        for _, _, cancel in self._running.values():
            cancel.set()
        self._latest += 1
        cancel = threading.Event()
        thread, job = QThread(self), _PreviewJob(self._latest, dataset_config, cancel)
        job.moveToThread(thread)
        thread.started.connect(job.run)
        job.done.connect(self._on_done)
        job.failed.connect(self._on_failed)
        job.done.connect(thread.quit)
        job.failed.connect(thread.quit)
        # The job is deleted with its entry in _running, once its thread has finished (never while Python
        # still holds it: a deleteLater from the thread as well would delete it twice).
        thread.finished.connect(self._forget_finished)
        self._running[self._latest] = (thread, job, cancel)
        thread.start()
        return self._latest

    def stop(self) -> None:
        """Cancel every request and wait for the threads (rendering checks the event between chunks)."""
        self._latest += 1  # whatever is still in flight is now stale
        for thread, _, _ in self._running.values():
            thread.deleteLater()
        _cancel_and_wait(self._running)

    @Slot(int, object)
    def _on_done(self, request_id: int, image) -> None:
        if request_id == self._latest and image is not None:
            self.ready.emit(request_id, image)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        if request_id == self._latest:
            self.failed.emit(request_id, message)

    @Slot()
    def _forget_finished(self) -> None:
        for request_id, (thread, _, _) in list(self._running.items()):
            if thread.isFinished():
                del self._running[request_id]
                thread.deleteLater()

"""The hand-off from a run to a person: the labeling dialog for the samples a run waits for.

Each answer goes to the run's HumanAnnotator the moment it is given (the loop journals it), so a
postponed batch, a closed window or a crash loses nothing; postponing pauses the run and Resume asks
for the rest. While a person labels a sample, the gallery hides its class and group.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from ..engine import config as configs
from ..engine.annotators import HumanAnnotator
from ..engine.progress import ProgressReport
from .dialogs.labeling import LabelingDialog, LabelItem
from .plots.gallery import QueryGallery
from .worker import LabelRequest, QueriedSample


def prediction_text(probs: tuple[float, ...], class_names: list[str]) -> str:
    best = max(range(len(probs)), key=probs.__getitem__)
    return f"{class_names[best]} ({probs[best]:.2f})"


class LabelingHandoff(QObject):
    """Opens the labeling dialog (a child of `window`) for a run's LabelRequest and hands its answers to
    the run's HumanAnnotator. `pending` is the request still to be answered, `dialog` the open dialog."""

    postponed = Signal()  # the person put the batch off: the run should pause

    def __init__(self, window: QWidget, gallery: QueryGallery):
        super().__init__(window)
        self._window, self._gallery = window, gallery
        self.pending: LabelRequest | None = None
        self.dialog: LabelingDialog | None = None
        self.predictions: dict[int, str] = {}  # queried sample -> the model's prediction, for the hints
        self._context = None  # (pool, config, human) of the request: what reopening the dialog needs

    def show_predictions(self, queried: tuple[QueriedSample, ...], class_names: list[str]) -> None:
        """The model's predictions for the batch just queried, shown as hints when it is labeled."""
        self.predictions = {q.sample: prediction_text(q.probs, class_names) for q in queried if q.probs}

    def ask(self, request: LabelRequest, pool, config: configs.ExperimentConfig, human: HumanAnnotator) -> None:
        """Ask a person for these labels: `pool` holds the images, `human` takes the answers."""
        self.pending = request
        self._context = (pool, config, human)
        self._gallery.set_hidden(request.samples)  # what the LLM decided may show; what you label may not
        self._open()

    def reopen(self) -> None:
        """After a postponement, when the run resumes: the dialog again, for the samples not yet answered."""
        if self.pending is not None and self.dialog is None:
            self._open()

    def on_progress(self, report: ProgressReport) -> None:
        if report.stage == "training" and self._gallery.hidden():
            self._gallery.set_hidden(())  # training again: every label of the batch is in

    def forget(self) -> None:
        """The run ended: a later run asks again for whatever is missing, with its own annotator."""
        if self.dialog is not None:
            self.dialog.blockSignals(True)  # closing is no postponement: the run has already ended
            self.dialog.close()
        self.pending, self.dialog, self._context = None, None, None

    def _open(self) -> None:
        pool, config, human = self._context
        request = self.pending
        groups = config.dataset.groups
        items = [LabelItem(s, pool.images[s], groups[int(pool.groups[s])], self.predictions.get(s),
                           tuple("?" if v is None else v for v in request.votes.get(s, ())))
                 for s in request.samples]
        # A human annotator's batch carries empty vote lists: only an LLM's flags are "unsure".
        what = "samples the LLM was unsure of" if config.annotator.kind == "llm" else "queried samples"
        title = f"Label {len(items)} {what} — {request.run}, cycle {request.cycle}"
        dialog = LabelingDialog(items, list(config.dataset.classes), self._window, title=title)
        dialog.answered.connect(human.submit)
        dialog.retracted.connect(human.retract)
        dialog.submitted.connect(self._on_submitted)
        dialog.postponed.connect(self._on_postponed)
        self.dialog = dialog
        dialog.open()

    def _on_submitted(self) -> None:
        self._context[2].close_batch()
        self._gallery.set_hidden(())
        self.pending, self.dialog = None, None

    def _on_postponed(self) -> None:
        # Answers given so far are journalled; the rest waits, with the run paused, until Resume.
        if self.dialog is not None:
            answered = set(self.dialog.answers())
            self.pending = dataclasses.replace(
                self.pending, samples=tuple(s for s in self.pending.samples if s not in answered))
        self.dialog = None
        self.postponed.emit()

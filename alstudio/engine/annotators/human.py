"""A human annotator: questions wait in a queue until the GUI (or a script) submits answers."""

from __future__ import annotations

import queue

from .base import RETRACTED, Annotator, Answer, QueryItem


class HumanAnnotator(Annotator):
    """Thread-safe: the loop's thread requests and polls, the GUI thread submits."""

    source = "human"

    def __init__(self):
        self._answers: queue.SimpleQueue[Answer] = queue.SimpleQueue()
        self.pending: list[QueryItem] = []
        self._closed = True

    def request(self, items: list[QueryItem]) -> None:
        self.pending.extend(items)
        self._closed = False

    def awaiting_human(self) -> list[int]:
        return [item.sample for item in self.pending]

    def close_batch(self) -> None:
        """The labeller submitted the batch (Enter): the run may train on it."""
        self._closed = True
        self.pending = []

    @property
    def batch_closed(self) -> bool:
        return self._closed

    def submit(self, sample: int, label: int) -> None:
        self._answers.put(Answer(sample, label, self.source))

    def retract(self, sample: int) -> None:
        """Take back the answer for `sample` (undo); the loop asks for it again."""
        self._answers.put(Answer(sample, RETRACTED, self.source))

    def poll(self) -> list[Answer]:
        answers = []
        while True:
            try:
                answers.append(self._answers.get_nowait())
            except queue.Empty:
                return answers


class DeferredHumanAnnotator(Annotator):
    """Nobody answers now: the samples stay pending in the journal, and the run waits, until a
    person labels them in a later workbench session (`alstudio run --human defer`)."""

    source = "human"

    def __init__(self):
        self.pending: list[int] = []

    def request(self, items: list[QueryItem]) -> None:
        self.pending.extend(item.sample for item in items)

    def poll(self) -> list[Answer]:
        return []

    def awaiting_human(self) -> list[int]:
        return list(self.pending)

    @property
    def defers_to_later(self) -> bool:
        return True

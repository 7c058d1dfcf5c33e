"""A human annotator: questions wait in a queue until the GUI (or a script) submits answers."""

from __future__ import annotations

import queue

from .base import Annotator, Answer, QueryItem


class HumanAnnotator(Annotator):
    """Thread-safe: the loop's thread requests and polls, the GUI thread submits."""

    source = "human"

    def __init__(self):
        self._answers: queue.SimpleQueue[Answer] = queue.SimpleQueue()
        self.pending: list[QueryItem] = []

    def request(self, items: list[QueryItem]) -> None:
        self.pending = list(items)

    def submit(self, sample: int, label: int) -> None:
        self._answers.put(Answer(sample, label, self.source))

    def poll(self) -> list[Answer]:
        answers = []
        while True:
            try:
                answers.append(self._answers.get_nowait())
            except queue.Empty:
                return answers

"""Annotators that answer at once: the ground truth, or a seeded noisy stand-in for people or LLMs."""

from __future__ import annotations

import numpy as np

from .accounting import Accounting
from .base import Annotator, Answer, QueryItem


class _Immediate(Annotator):
    def __init__(self):
        self._ready: list[Answer] = []

    def request(self, items: list[QueryItem]) -> None:
        self._ready.extend(Answer(item.sample, self.label(item), self.source) for item in items)

    def poll(self) -> list[Answer]:
        ready, self._ready = self._ready, []
        return ready

    def label(self, item: QueryItem) -> int:
        raise NotImplementedError


class OracleAnnotator(_Immediate):
    source = "oracle"

    def label(self, item: QueryItem) -> int:
        return item.true_label


class SimulatedHumanAnnotator(OracleAnnotator):
    """The ground truth standing in for a person who labels what the LLM could not (CLI --human oracle)."""

    source = "human_simulated"


class NoisyAnnotator(_Immediate):
    """Gives a wrong class with probability `error_rate` (`error_group_rate` for one group).

    Each sample's answer depends only on (seed, sample), so a resumed run hears the same
    answers as an uninterrupted one, whatever the order of the questions.
    """

    source = "noisy"

    def __init__(self, n_classes: int, seed: int, error_rate: float, error_group: int | None = None,
                 error_group_rate: float = 0.0):
        super().__init__()
        self.n_classes, self.seed = n_classes, seed
        self.error_rate, self.error_group, self.error_group_rate = error_rate, error_group, error_group_rate

    def label(self, item: QueryItem) -> int:
        rng = np.random.default_rng([self.seed, item.sample])
        rate = self.error_group_rate if item.group == self.error_group else self.error_rate
        if self.n_classes < 2 or rng.random() >= rate:
            return item.true_label
        wrong = int(rng.integers(self.n_classes - 1))
        return wrong + (wrong >= item.true_label)


class SimulatedLLMAnnotator(Annotator):
    """A stand-in for an LLM of a given accuracy, with the same consistency check as LLMAnnotator.

    Each of `samples` votes is right with probability `accuracy` (else a uniformly wrong class),
    seeded per (seed, sample). Unanimous votes are accepted with source "llm"; the rest go to
    `flagged_to` (the ground truth as human_simulated by default). For studying mixed annotation
    without paying for an endpoint.
    """

    source = "llm"

    def __init__(self, n_classes: int, seed: int, accuracy: float, samples: int = 3,
                 flagged_to: Annotator | None = None):
        self.n_classes, self.seed, self.accuracy, self.samples = n_classes, seed, accuracy, samples
        self.fallback = flagged_to or SimulatedHumanAnnotator()
        self._ready: list[Answer] = []
        self.accounting = Accounting()
        self._journal = None

    def attach(self, journal, dataset) -> None:
        self._journal = journal
        self.accounting = Accounting.restore(journal)  # a resumed run goes on counting
        self.fallback.attach(journal, dataset)

    def _votes(self, item: QueryItem) -> list[int]:
        rng = np.random.default_rng([self.seed, item.sample, 7])
        votes = []
        for _ in range(self.samples):
            if rng.random() < self.accuracy:
                votes.append(item.true_label)
            else:
                wrong = int(rng.integers(self.n_classes - 1))
                votes.append(wrong + (wrong >= item.true_label))
        return votes

    def request(self, items: list[QueryItem]) -> None:
        self.accounting.new_batch(item.sample for item in items)
        for item in items:
            votes = self._votes(item)
            accepted = len(set(votes)) == 1
            self.accounting.decide(item.sample, accepted, votes[0] == item.true_label)
            if accepted:
                self._ready.append(Answer(item.sample, votes[0], self.source))
            else:
                self.fallback.request([item])
        if self._journal is not None:
            self.accounting.save(self._journal)

    def poll(self) -> list[Answer]:
        ready, self._ready = self._ready + self.fallback.poll(), []
        return ready

    def stats(self) -> dict:
        return self.accounting.stats()

"""The annotator interface: the loop hands over a queried batch and polls for answers.

Answers may arrive at once (oracle, simulated) or much later (a human in a dialog, an LLM over
HTTP); the loop journals each answer the moment it arrives, so none is lost on a crash.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueryItem:
    sample: int  # index into the pool
    true_label: int  # ground truth, known in simulation; annotators that are not oracles must not peek
    group: int
    score: float


@dataclass(frozen=True)
class Answer:
    sample: int
    label: int  # RETRACTED takes back an earlier answer for this sample
    source: str  # the journal's label source: oracle, noisy, human, human_simulated, llm


RETRACTED = -1


class Annotator:
    """Base class. `request` may answer synchronously; `poll` never blocks."""

    source = ""

    def request(self, items: list[QueryItem]) -> None:
        raise NotImplementedError

    def poll(self) -> list[Answer]:
        raise NotImplementedError

    def awaiting_human(self) -> list[int]:
        """Samples waiting for a person to label them; none for automatic annotators."""
        return []

    def votes(self, sample: int) -> list[str | None]:
        """What an automatic annotator answered for a sample it handed to a person."""
        return []

    def stats(self) -> dict:
        """Numbers for the cycle's metrics (the LLM annotator's cost and agreement); none by default."""
        return {}

    def attach(self, journal, dataset) -> None:
        """Called once by the loop before the first request; most annotators need neither."""

    def use_context(self, labeled: dict[int, tuple[int, str]], features) -> None:
        """Before each request the loop offers what was labeled before this batch (sample -> (label,
        source)) and `features(pool_indices) -> [n, d]`, the queried cycle's trunk features: the LLM
        annotator picks demonstrations from them. Most annotators ignore both."""

    @property
    def defers_to_later(self) -> bool:
        """Whether samples awaiting a person wait for a later session instead of holding up the run."""
        return False

    @property
    def batch_closed(self) -> bool:
        """Whether the loop may go on once every item is answered (a human may still undo)."""
        return True

    def close(self) -> None:
        """Release connections or threads; the default has none."""

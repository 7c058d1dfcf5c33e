"""Annotators: oracle (ground truth), noisy (simulated), human (answers arrive later)."""

from __future__ import annotations

from ..errors import UserInputError
from .base import RETRACTED, Annotator, Answer, QueryItem
from .human import HumanAnnotator
from .simulated import NoisyAnnotator, OracleAnnotator


def build_annotator(config, seed: int) -> Annotator:
    """The annotator an ExperimentConfig asks for; `seed` is the run's seed."""
    kind = config.annotator
    if kind.kind == "oracle":
        return OracleAnnotator()
    if kind.kind == "noisy":
        groups = config.dataset.groups
        error_group = groups.index(kind.error_group) if kind.error_group else None
        return NoisyAnnotator(len(config.dataset.classes), seed, kind.error_rate, error_group,
                              kind.error_group_rate)
    if kind.kind == "human":
        return HumanAnnotator()
    raise UserInputError(f"annotator.kind {kind.kind!r} is not available yet; use oracle, noisy or human")


__all__ = ["RETRACTED", "Annotator", "Answer", "HumanAnnotator", "NoisyAnnotator", "OracleAnnotator", "QueryItem",
           "build_annotator"]

"""Annotators: oracle (ground truth), noisy (simulated), human (answers arrive later), llm."""

from __future__ import annotations

from .base import RETRACTED, Annotator, Answer, QueryItem
from .human import DeferredHumanAnnotator, HumanAnnotator
from .llm import LLMAnnotator
from .simulated import NoisyAnnotator, OracleAnnotator, SimulatedHumanAnnotator, SimulatedLLMAnnotator


def build_annotator(config, seed: int, flagged_to: Annotator | None = None) -> Annotator:
    """The annotator an ExperimentConfig asks for; `seed` is the run's seed. `flagged_to` answers
    what the LLM annotator flags (a HumanAnnotator in the workbench, SimulatedHumanAnnotator in the CLI)."""
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
    return LLMAnnotator(kind, config.dataset.classes, flagged_to)


__all__ = ["RETRACTED", "Annotator", "Answer", "DeferredHumanAnnotator", "HumanAnnotator", "LLMAnnotator",
           "NoisyAnnotator", "OracleAnnotator", "QueryItem", "SimulatedHumanAnnotator", "SimulatedLLMAnnotator",
           "build_annotator"]

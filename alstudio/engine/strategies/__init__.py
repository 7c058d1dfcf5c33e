"""Query strategies: one small class per strategy, registered by being defined (base.py).

To add one, define a Strategy subclass in the module of its family (or a new module imported
below) and declare its facts on it; see docs/architecture.md, "Strategies". The family modules
are imported here, in the order the workbench lists them, so importing the package fills the
registry. None of them imports torch: only ScoringContext (context.py) does, loaded on first use.
"""

from __future__ import annotations

from . import heuristics
from .base import STRATEGIES, Strategy, baseline, get_strategy

# isort: off
# Families in the order the workbench lists them: simplest first (the registry keeps definition order).
from .passive import Random
from .uncertainty import Entropy, LeastConfidence, Margin
from .bayesian import Bald, BatchBald, PowerBald
from .learning_loss import LearningLoss
from .diversity import CoreSet
from .fairness_aware import BalancedBald, BalancedRandom, GroupBalanced, RepresentativeBald, group_balanced
# isort: on

__all__ = [
    "STRATEGIES", "Strategy", "ScoringContext", "baseline", "get_strategy", "heuristics", "group_balanced",
    "Random", "Entropy", "LeastConfidence", "Margin", "Bald", "BatchBald", "PowerBald", "LearningLoss", "CoreSet",
    "GroupBalanced", "BalancedBald", "BalancedRandom", "RepresentativeBald",
]


def __getattr__(name: str):
    # ScoringContext imports torch; config validation imports this package and must not.
    if name == "ScoringContext":
        from .context import ScoringContext

        return ScoringContext
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

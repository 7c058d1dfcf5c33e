"""The Strategy base class and the registry: a strategy joins it by being defined.

Everything alstudio knows about a strategy is a class attribute declared here and set on the
subclass; config, models, the loop, the CLI and the workbench read those, never a list of names.
No torch here or in any strategy module: config validation reads the registry's names, and loading
a config must stay light. Only the ScoringContext (context.py) touches the model; a strategy calls
methods on what the context hands it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from ..errors import UserInputError
from . import heuristics

if TYPE_CHECKING:
    from .context import ScoringContext

# Every registered strategy, by name, in the order the package imports them (the workbench's order).
STRATEGIES: dict[str, type[Strategy]] = {}

# A name is a config value and part of a run's folder name (runs/<name>-seed<k>).
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class Strategy:
    """Scores the candidates (higher = more worth labeling) and picks k of them.

    A subclass that sets its own non-empty `name` is registered; one without (a shared base such as
    GroupBalanced) is not.
    """

    name = ""  # the value of active.strategy / active.strategies
    title = ""  # shown wherever a person chooses or reads a strategy
    description = ""  # a sentence or two: what it picks, and where it comes from
    # Reads the MC-dropout head samples (ctx.mc_probs, probs, bald); the others never sample it.
    needs_mc_samples = False
    # The model is built with a loss-prediction module, and cannot be scored without one.
    needs_loss_module = False
    # The architecture must give intermediate feature maps (model.architecture's trunk.map_channels).
    needs_feature_maps = False
    # False where the score a pick is shown with is a random key that means nothing on its own.
    score_is_informative = True
    # Its per-sample score is shown for every queried sample ("why this sample"): cheap, meaningful alone, and
    # one sample's score never depends on the other candidates (the loop scores the batch alone, ctx.subset).
    explains = False
    # The one strategy every other is compared against (paired differences, the CLI's summary).
    is_baseline = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("name"):
            _register(cls)

    def scores(self, ctx: ScoringContext) -> np.ndarray:
        raise NotImplementedError

    def select(self, ctx: ScoringContext, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions into the candidates, best first, and the scores shown for them."""
        scores = self.scores(ctx)
        chosen = heuristics.top_k(scores, k)
        return chosen, scores[chosen]


def _register(cls: type[Strategy]) -> None:
    # Checked at definition time, so a new strategy missing a fact fails on import, not in the workbench.
    where = f"{cls.__module__}.{cls.__qualname__}"
    if not _NAME.fullmatch(cls.name):
        raise TypeError(f"{where}: strategy name {cls.name!r} must be lowercase letters, digits and _")
    if cls.name in STRATEGIES:
        taken = STRATEGIES[cls.name]
        raise TypeError(f"{where}: strategy name {cls.name!r} is taken by {taken.__module__}.{taken.__qualname__}")
    if not (cls.title and cls.description):
        raise TypeError(f"{where}: strategy {cls.name!r} needs a title and a description")
    STRATEGIES[cls.name] = cls


def get_strategy(name: str) -> Strategy:
    try:
        return STRATEGIES[name]()
    except KeyError:
        raise UserInputError(f"unknown strategy {name!r}; valid names: {', '.join(STRATEGIES)}") from None


def baseline() -> str:
    """The name of the strategy the others are compared against."""
    return next(name for name, cls in STRATEGIES.items() if cls.is_baseline)

"""Query strategies: a registry of small classes over a shared, lazily filled scoring context.

Every strategy scores the candidates (higher = more worth labelling) and picks `k` of them.
The context computes the trunk features once per candidate and samples only the dropout head
`mc_samples` times, so every MC strategy shares one pass over the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch

from ..errors import UserInputError
from ..training import mc_probabilities, predict_features, predicted_losses
from . import heuristics


@dataclass
class ScoringContext:
    model: torch.nn.Module
    candidate_images: torch.Tensor  # the unlabelled candidates, on the model's device
    labelled_images: torch.Tensor
    mc_samples: int
    seed: int
    power_beta: float = 1.0
    rng: np.random.Generator = field(init=False)

    def __post_init__(self):
        self.rng = np.random.default_rng(self.seed)

    @property
    def size(self) -> int:
        return len(self.candidate_images)

    @cached_property
    def features(self) -> torch.Tensor:
        return predict_features(self.model, self.candidate_images)

    @cached_property
    def labelled_features(self) -> torch.Tensor:
        return predict_features(self.model, self.labelled_images)

    @cached_property
    def mc_probs(self) -> np.ndarray:
        return mc_probabilities(self.model, self.features, self.mc_samples, self.seed)

    @cached_property
    def probs(self) -> np.ndarray:
        """The MC-averaged (Bayesian model average) predictive distribution."""
        return self.mc_probs.mean(axis=2)

    @cached_property
    def bald(self) -> np.ndarray:
        return heuristics.bald(self.mc_probs)


class Strategy:
    name = ""
    title = ""

    def scores(self, ctx: ScoringContext) -> np.ndarray:
        raise NotImplementedError

    def select(self, ctx: ScoringContext, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions into the candidates, best first, and the scores shown for them."""
        scores = self.scores(ctx)
        chosen = heuristics.top_k(scores, k)
        return chosen, scores[chosen]


class Random(Strategy):
    name, title = "random", "Random (i.i.d.)"

    def scores(self, ctx):
        return ctx.rng.random(ctx.size)


class Entropy(Strategy):
    name, title = "entropy", "Entropy"

    def scores(self, ctx):
        return heuristics.entropy(ctx.probs)


class LeastConfidence(Strategy):
    name, title = "least_confidence", "Least confidence"

    def scores(self, ctx):
        return heuristics.least_confidence(ctx.probs)


class Margin(Strategy):
    name, title = "margin", "Margin (breaking ties)"

    def scores(self, ctx):
        return heuristics.margin(ctx.probs)


class Bald(Strategy):
    name, title = "bald", "BALD (MC dropout)"

    def scores(self, ctx):
        return ctx.bald


class BatchBald(Strategy):
    name, title = "batchbald", "BatchBALD"

    def scores(self, ctx):
        return ctx.bald  # a single point's BatchBALD gain is its BALD score

    def select(self, ctx, k):
        return heuristics.batchbald(ctx.mc_probs, k, ctx.rng)


class PowerBald(Strategy):
    name, title = "power_bald", "PowerBALD"

    def scores(self, ctx):
        return ctx.bald

    def select(self, ctx, k):
        scores = ctx.bald
        chosen = heuristics.power_sample(scores, k, ctx.rng, beta=ctx.power_beta)
        return chosen, scores[chosen]


class LearningLoss(Strategy):
    name, title = "learning_loss", "Learning loss"

    def scores(self, ctx):
        if getattr(ctx.model, "loss_module", None) is None:
            raise UserInputError("strategy 'learning_loss' needs a model with a loss-prediction module")
        return predicted_losses(ctx.model, ctx.candidate_images)


class CoreSet(Strategy):
    name, title = "coreset", "Core-set (k-center greedy)"

    def scores(self, ctx):
        return heuristics.kcenter_distances(ctx.features.cpu().numpy(), ctx.labelled_features.cpu().numpy())

    def select(self, ctx, k):
        chosen = np.asarray(heuristics.kcenter_greedy(
            ctx.features.cpu().numpy(), ctx.labelled_features.cpu().numpy(), k), dtype=np.int64)
        return chosen, self.scores(ctx)[chosen]


STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (Random, Entropy, LeastConfidence, Margin, Bald, BatchBald, PowerBald,
                              LearningLoss, CoreSet)
}


def get_strategy(name: str) -> Strategy:
    try:
        return STRATEGIES[name]()
    except KeyError:
        raise UserInputError(f"unknown strategy {name!r}; valid names: {', '.join(STRATEGIES)}") from None

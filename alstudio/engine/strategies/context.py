"""The scoring context: what strategies read about the candidates, computed lazily and cached.

The trunk features are computed once per candidate and only the dropout head is sampled
`mc_samples` times, so every strategy scoring the same candidates shares one pass over the pool.
`subset` hands on what is cached already: the queried batch's explanations and predictions read
the pool's MC samples instead of drawing new ones, and compute for the batch alone what the
querying strategy never needed (a random run samples the head for its batch, not for the pool).
The only module of the package that imports torch: strategies call methods on what it hands them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch

from ..training import mc_probabilities, predict_features, predicted_losses
from . import heuristics


@dataclass
class ScoringContext:
    model: torch.nn.Module
    candidate_images: torch.Tensor  # the unlabeled candidates, on the model's device
    labeled_images: torch.Tensor
    mc_samples: int
    seed: int
    power_beta: float = 1.0
    # The candidates' sensitive groups (the true attribute, [N] ints), for the group-aware strategies.
    groups: np.ndarray | None = None
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
    def labeled_features(self) -> torch.Tensor:
        return predict_features(self.model, self.labeled_images)

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

    @cached_property
    def predicted_losses(self) -> np.ndarray:
        """The loss-prediction module's output per candidate (the model must have one)."""
        return predicted_losses(self.model, self.candidate_images)

    def subset(self, positions) -> ScoringContext:
        """The context of some of the candidates (positions into them), same model, labeled set and seed.

        Whatever this context has computed is indexed, never recomputed, so a per-sample score read from
        the subset is the one the whole pool got; what it has not computed, the subset computes for its
        own candidates only, when asked.
        """
        positions = np.asarray(positions, dtype=np.int64)
        index = torch.from_numpy(positions).to(self.candidate_images.device)
        part = ScoringContext(self.model, self.candidate_images[index], self.labeled_images, self.mc_samples,
                              self.seed, self.power_beta,
                              groups=None if self.groups is None else np.asarray(self.groups)[positions])
        for name, value in self.__dict__.items():
            if name in _PER_CANDIDATE:
                part.__dict__[name] = value[index] if isinstance(value, torch.Tensor) else value[positions]
            elif name in _SHARED:
                part.__dict__[name] = value
        return part


# The cached properties a subset indexes (one row per candidate), and those it shares as they are.
_PER_CANDIDATE = frozenset({"features", "mc_probs", "probs", "bald", "predicted_losses"})
_SHARED = frozenset({"labeled_features"})

"""Diversity in the trunk's feature space: cover the pool rather than chase uncertainty."""

from __future__ import annotations

import numpy as np

from . import heuristics
from .base import Strategy


class CoreSet(Strategy):
    name, title = "coreset", "Core-set (k-center greedy)"
    description = ("Greedy k-center in the trunk's feature space: each pick is the candidate farthest from "
                   "everything labeled or picked so far (Sener & Savarese 2018).")
    explains = True

    def scores(self, ctx):
        return heuristics.kcenter_distances(ctx.features.cpu().numpy(), ctx.labeled_features.cpu().numpy())

    def select(self, ctx, k):
        chosen = np.asarray(heuristics.kcenter_greedy(
            ctx.features.cpu().numpy(), ctx.labeled_features.cpu().numpy(), k), dtype=np.int64)
        return chosen, self.scores(ctx)[chosen]

"""Passive sampling: the baseline every strategy is compared against."""

from __future__ import annotations

from .base import Strategy


class Random(Strategy):
    name, title = "random", "Random (i.i.d.)"
    description = "Candidates drawn uniformly at random: the baseline the other strategies are compared against."
    score_is_informative = False
    is_baseline = True

    def scores(self, ctx):
        return ctx.rng.random(ctx.size)

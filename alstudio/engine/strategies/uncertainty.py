"""Uncertainty of the MC-averaged prediction: single-point scores, the top k taken."""

from __future__ import annotations

from . import heuristics
from .base import Strategy


class Entropy(Strategy):
    name, title = "entropy", "Entropy"
    description = "Predictive entropy of the MC-averaged class probabilities: high where they spread over the classes."
    needs_mc_samples = True
    explains = True

    def scores(self, ctx):
        return heuristics.entropy(ctx.probs)


class LeastConfidence(Strategy):
    name, title = "least_confidence", "Least confidence"
    description = ("One minus the MC-averaged probability of the most likely class: high where even the best "
                   "guess is unsure.")
    needs_mc_samples = True
    explains = True

    def scores(self, ctx):
        return heuristics.least_confidence(ctx.probs)


class Margin(Strategy):
    name, title = "margin", "Margin (breaking ties)"
    description = ("The gap between the two most likely classes of the MC-averaged prediction, smallest first: "
                   "candidates near a decision boundary.")
    needs_mc_samples = True
    explains = True

    def scores(self, ctx):
        return heuristics.margin(ctx.probs)

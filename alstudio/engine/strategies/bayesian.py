"""BALD and its batch versions: the disagreement of MC-dropout samples (epistemic uncertainty)."""

from __future__ import annotations

from . import heuristics
from .base import Strategy


class Bald(Strategy):
    name, title = "bald", "BALD (MC dropout)"
    description = ("Mutual information between a candidate's label and the model's weights over the MC-dropout "
                   "samples: high where the samples disagree (Houlsby et al. 2011; Gal et al. 2017).")
    needs_mc_samples = True
    explains = True

    def scores(self, ctx):
        return ctx.bald


class BatchBald(Strategy):
    name, title = "batchbald", "BatchBALD"
    description = ("Grows the batch greedily by the joint mutual information of the batch, so a near-duplicate of "
                   "a pick adds nothing (Kirsch et al. 2019).")
    needs_mc_samples = True

    def scores(self, ctx):
        return ctx.bald  # a single point's BatchBALD gain is its BALD score

    def select(self, ctx, k):
        return heuristics.batchbald(ctx.mc_probs, k, ctx.rng)


class PowerBald(Strategy):
    name, title = "power_bald", "PowerBALD"
    description = ("Draws the batch with probability proportional to BALD ** active.power_beta instead of taking "
                   "the top scores, which spreads it at no extra cost (Kirsch et al. 2023).")
    needs_mc_samples = True

    def scores(self, ctx):
        return ctx.bald

    def select(self, ctx, k):
        scores = ctx.bald
        chosen = heuristics.power_sample(scores, k, ctx.rng, beta=ctx.power_beta)
        return chosen, scores[chosen]

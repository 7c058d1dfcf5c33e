"""Fairness-aware baselines: they read the candidates' true sensitive groups (ScoringContext.groups)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..data.bias import largest_remainder
from . import heuristics
from .base import Strategy
from .bayesian import Bald
from .passive import Random

if TYPE_CHECKING:
    from .context import ScoringContext


def _candidate_groups(ctx: ScoringContext, strategy: str) -> np.ndarray:
    if ctx.groups is None:
        raise ValueError(f"strategy {strategy!r} needs the candidates' sensitive groups (ScoringContext.groups)")
    groups = np.asarray(ctx.groups)
    if groups.shape != (ctx.size,):
        raise ValueError(f"ScoringContext.groups must hold one group per candidate ({ctx.size}), got {groups.shape}")
    return groups


class GroupBalanced(Strategy):
    """A base strategy's ranking, taken from each sensitive group in turn (BaaL's BalancedHeuristic).

    It reads the candidates' TRUE sensitive attribute, as the fairness paper's `--oracle` runs did:
    a fair-by-construction upper bound to compare the other strategies against, not a method a
    real deployment could always use. Candidates are ranked by the base strategy's per-sample
    scores (so over a batch-aware base such as batchbald or coreset it would rank by their
    single-point scores); see heuristics.round_robin_by_group for the turns. The scores shown are
    the base strategy's.
    """

    base: type[Strategy] = Strategy

    def scores(self, ctx):
        return self.base().scores(ctx)

    def select(self, ctx, k):
        groups = _candidate_groups(ctx, self.name)
        scores = np.asarray(self.scores(ctx), dtype=np.float64)
        chosen = heuristics.round_robin_by_group(scores, groups, k)
        return chosen, scores[chosen]


def group_balanced(base: type[Strategy], label: str) -> type[Strategy]:
    """The group-balanced version of `base`, registered as ``balanced_<base name>``."""
    return type(f"Balanced{base.__name__}", (GroupBalanced,), {
        "__module__": __name__,
        "__doc__": f"{base.title}, group-balanced with the true sensitive attribute (an upper bound).",
        "base": base,
        "name": f"balanced_{base.name}",
        "title": f"Group-balanced {label} (true groups: upper bound)",
        "description": (f"{base.title} ranks the candidates; the batch takes from each sensitive group in turn, "
                        "best first. Uses the true sensitive attribute: a fair-by-construction upper bound."),
        # What the base reads and what its score means carry over; the ranking is the base's.
        "needs_mc_samples": base.needs_mc_samples,
        "needs_loss_module": base.needs_loss_module,
        "needs_feature_maps": base.needs_feature_maps,
        "score_is_informative": base.score_is_informative,
    })


BalancedBald = group_balanced(Bald, "BALD")
BalancedRandom = group_balanced(Random, "random")


class RepresentativeBald(Strategy):
    """Representative subgroups, BALD within each: a sampler in the spirit of ReSGrAL.

    ReSGrAL (van Liebergen, Schaaphok & Sileno, "Fairness-Sensitive Active Learning", 2024) samples
    representative subgroups; its exact algorithm is not in our notes and this does not claim to
    reproduce it. Here a subgroup is (sensitive group, the model's predicted class): the group is
    the candidates' true sensitive attribute (visible without labeling, unlike the class), the
    class is the MC-averaged prediction's argmax. The batch is split over the subgroups in
    proportion to each one's share of the unlabeled candidates (largest-remainder rounding), and
    each subgroup gives its highest-BALD candidates. Quotas from the candidates' own shares never
    exceed a subgroup's size, but heuristics.stratified_top_k would make up any shortfall from the
    best BALD scores left. The scores shown are BALD.
    """

    name = "representative_bald"
    title = "Representative subgroups × BALD (in the spirit of ReSGrAL)"
    description = ("The batch is split over (sensitive group × predicted class) subgroups in proportion to "
                   "their share of the unlabeled candidates; the highest-BALD candidates of each are taken. "
                   "Inspired by ReSGrAL (van Liebergen et al. 2024), not a reproduction of it.")
    needs_mc_samples = True

    def scores(self, ctx):
        return ctx.bald

    def quotas(self, ctx: ScoringContext, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Each candidate's subgroup and each subgroup's share of a batch of k."""
        groups = _candidate_groups(ctx, self.name).astype(np.int64)
        n_classes = ctx.probs.shape[1]
        subgroups = groups * n_classes + ctx.probs.argmax(axis=1)
        counts = np.bincount(subgroups, minlength=1)
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        k = min(int(k), ctx.size)
        return subgroups, largest_remainder(k, counts) if k else np.zeros_like(counts)

    def select(self, ctx, k):
        subgroups, quotas = self.quotas(ctx, k)
        scores = ctx.bald
        chosen = heuristics.stratified_top_k(scores, subgroups, quotas)
        return chosen, scores[chosen]

"""Which (class, group) each sample gets: the bias kinds, and the bias as exact cell counts.

`BIAS_KINDS` is the one table of bias kinds: each entry carries every fact about its kind (the
pool's shares, its minority cells, the words the workbench and the report use), and config, the
generator, results, the report and the dataset panel all read it.

Counts are fixed by largest-remainder rounding of the target shares rather than drawn at
random, so a 90/10 pool really is 90/10; only the order of the samples is random.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SplitPlan:
    classes: np.ndarray  # int64 [n]
    groups: np.ndarray  # int64 [n]
    seeds: np.ndarray  # uint32 [n], one synbols seed per image


def largest_remainder(total: int, shares: np.ndarray) -> np.ndarray:
    """Integers summing to `total`, as close as possible to total * shares (ties: lower index)."""
    exact = total * np.asarray(shares, float) / np.sum(shares)
    counts = np.floor(exact).astype(np.int64)
    remainder = exact - counts
    order = np.lexsort((np.arange(len(exact)), -remainder))
    counts[order[: total - counts.sum()]] += 1
    return counts


@dataclass(frozen=True)
class BiasSpec:
    """The bias of one pool: the four values every kind's facts depend on."""

    kind: str
    strength: float
    n_classes: int
    n_groups: int

    @classmethod
    def of(cls, dataset_config) -> BiasSpec:
        d = dataset_config
        return cls(d.bias, d.bias_strength, len(d.classes), len(d.groups))

    @property
    def rest(self) -> float:
        """Each unfavoured group's share of a class when one group takes `strength` of it."""
        return (1.0 - self.strength) / (self.n_groups - 1)


def is_even(strength: float, n_groups: int) -> bool:
    """Whether a group taking `strength` of a class is no more common than the others: no bias left."""
    return abs(strength - 1 / n_groups) < 1e-9


def balanced_shares(n_classes: int, n_groups: int) -> np.ndarray:
    """Every group equally common in every class: the test set, and the unbiased pool."""
    return np.full((n_classes, n_groups), 1.0 / n_groups)


def below_even_share(spec: BiasSpec, shares: np.ndarray) -> np.ndarray:
    """The usual minority cells: those with less than an even share of their class."""
    return shares < 1.0 / spec.n_groups - 1e-12


@dataclass(frozen=True)
class BiasKind:
    """Every fact about one bias kind; adding a kind is one entry in BIAS_KINDS (docs/architecture.md)."""

    name: str  # the value of dataset.bias: saved experiments hold it, so never rename one
    title: str  # the chooser's label
    description: str  # one line on what the kind does to the pool (the chooser's tooltip)
    minority_words: str  # what the report's acquired-share axis calls the minority cells
    # P(group | class) in the pool, [n_classes, n_groups], each row summing to one. Cached datasets
    # are keyed by config, not by these numbers: changing an existing kind's shares needs a new name.
    shares: Callable[[BiasSpec], np.ndarray]
    group_roles: Callable[[Sequence[str], int], list[str]]  # (classes, n_groups) -> a tag per group, "" for none
    # (strength, classes, groups) -> the pool in words, at least two groups; says when the strength does nothing
    describe: Callable[[float, Sequence[str], Sequence[str]], str]
    biased: bool = True  # False: the strength means nothing, and there is no minority to plot
    # (spec, shares) -> [n_classes, n_groups] True for the cells the pool under-represents: what
    # results count as the labeled share of minority cells and the pool's base rate of them.
    minority_rule: Callable[[BiasSpec, np.ndarray], np.ndarray] = below_even_share

    def minority_cells(self, spec: BiasSpec) -> np.ndarray:
        return self.minority_rule(spec, self.shares(spec))


def _no_bias_shares(spec: BiasSpec) -> np.ndarray:
    return balanced_shares(spec.n_classes, spec.n_groups)


def _minority_shares(spec: BiasSpec) -> np.ndarray:
    shares = np.full((spec.n_classes, spec.n_groups), spec.rest)
    shares[:, 0] = spec.strength
    return shares


def _paired_group(n_classes: int, n_groups: int) -> np.ndarray:
    """Class k goes with group k modulo the number of groups."""
    return np.arange(n_classes) % n_groups


def _correlation_shares(spec: BiasSpec) -> np.ndarray:
    shares = np.full((spec.n_classes, spec.n_groups), spec.rest)
    shares[np.arange(spec.n_classes), _paired_group(spec.n_classes, spec.n_groups)] = spec.strength
    return shares


def _minority_roles(classes: Sequence[str], n_groups: int) -> list[str]:
    return ["majority"] + ["minority"] * (n_groups - 1)


def _correlation_roles(classes: Sequence[str], n_groups: int) -> list[str]:
    paired = _paired_group(len(classes), n_groups)
    tags = []
    for k in range(n_groups):
        with_k = [c for c, g in zip(classes, paired) if g == k]
        tags.append(f"with {', '.join(with_k)}" if with_k else "minority")
    return tags


def _no_roles(classes: Sequence[str], n_groups: int) -> list[str]:
    return [""] * n_groups


def _describe_minority(strength: float, classes: Sequence[str], groups: Sequence[str]) -> str:
    if is_even(strength, len(groups)):
        return f"At {strength:.2f} the groups are equally common: no group is a minority."
    return (f"{groups[0]} makes up {strength:.0%} of the pool; {', '.join(groups[1:])} share the rest. "
            "The class does not depend on the group.")


def _describe_correlation(strength: float, classes: Sequence[str], groups: Sequence[str]) -> str:
    if is_even(strength, len(groups)):
        return f"At {strength:.2f} every class comes equally often in every group: no correlation."
    pairs = [f"{c} {groups[i % len(groups)]}" for i, c in enumerate(classes[:4])]
    more = ", …" if len(classes) > 4 else ""
    if strength == 1.0:
        return f"Every class always comes in its paired group: {', '.join(pairs)}{more}."
    others = "the other group" if len(groups) == 2 else "the other groups"
    return (f"Each class comes in its paired group in {strength:.0%} of its images ({', '.join(pairs)}{more}), "
            f"the rest in {others}.")


def _describe_no_bias(strength: float, classes: Sequence[str], groups: Sequence[str]) -> str:
    return "Every group is equally common and independent of the class."


# The chooser lists the kinds in this order.
BIAS_KINDS: dict[str, BiasKind] = {kind.name: kind for kind in (
    BiasKind("none", "None", "Groups are uniform and independent of the class", "no minority (unbiased pool)",
             _no_bias_shares, _no_roles, _describe_no_bias, biased=False),
    BiasKind("minority", "Minority", "The first group makes up most of the pool, independently of the class",
             "the minority group(s)", _minority_shares, _minority_roles, _describe_minority),
    BiasKind("correlation", "Correlation", "Group k goes with class k: the attribute is a shortcut to the class",
             "bias-conflicting cells (class not paired with its group)", _correlation_shares, _correlation_roles,
             _describe_correlation),
)}


def bias_kind(dataset_config) -> BiasKind:
    return BIAS_KINDS[dataset_config.bias]


def pool_shares(dataset_config) -> np.ndarray:
    """P(group | class) as an [n_classes, n_groups] matrix for the pool a DatasetConfig describes."""
    return bias_kind(dataset_config).shares(BiasSpec.of(dataset_config))


def minority_cells(dataset_config) -> np.ndarray:
    """[n_classes, n_groups] True where the pool a DatasetConfig describes under-represents the cell."""
    return bias_kind(dataset_config).minority_cells(BiasSpec.of(dataset_config))


def cell_counts(n: int, shares: np.ndarray) -> np.ndarray:
    """[n_classes, n_groups] sample counts: classes balanced, groups split by `shares` within each."""
    per_class = largest_remainder(n, np.ones(shares.shape[0]))
    return np.stack([largest_remainder(k, row) for k, row in zip(per_class, shares)])


def pool_counts(dataset_config) -> np.ndarray:
    """[n_classes, n_groups] image counts of the pool a DatasetConfig describes (exactly what is generated)."""
    return cell_counts(dataset_config.pool_size, pool_shares(dataset_config))


def balanced_test_counts(dataset_config) -> np.ndarray:
    """[n_classes, n_groups] image counts of the (group-balanced) test set a DatasetConfig describes."""
    d = dataset_config
    return cell_counts(d.test_size, balanced_shares(len(d.classes), len(d.groups)))


def size_for_every_cell(shares: np.ndarray) -> int:
    """A split size at which every cell with a positive share gets at least one image."""
    smallest = shares[shares > 0].min()
    # Each class gets at least floor(n / n_classes) images, and a cell whose exact share of those is
    # at least 1 is never rounded down to 0.
    return shares.shape[0] * math.ceil(1.0 / smallest - 1e-9)


def plan_split(counts: np.ndarray, rng: np.random.Generator) -> SplitPlan:
    classes, groups = np.nonzero(np.ones_like(counts))
    reps = counts[classes, groups]
    order = rng.permutation(int(counts.sum()))
    return SplitPlan(
        classes=np.repeat(classes, reps)[order].astype(np.int64),
        groups=np.repeat(groups, reps)[order].astype(np.int64),
        seeds=rng.integers(0, np.iinfo(np.uint32).max, size=len(order), dtype=np.uint32),
    )


def plan_dataset(dataset_config) -> tuple[SplitPlan, SplitPlan]:
    """Pool with the configured bias; test set balanced over groups, independent of the class."""
    pool_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(dataset_config.seed).spawn(2))
    return (plan_split(pool_counts(dataset_config), pool_rng),
            plan_split(balanced_test_counts(dataset_config), test_rng))

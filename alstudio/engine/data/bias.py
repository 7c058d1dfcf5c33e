"""Which (class, group) each sample gets: the bias, as exact cell counts.

Counts are fixed by largest-remainder rounding of the target shares rather than drawn at
random, so a 90/10 pool really is 90/10; only the order of the samples is random.
"""

from __future__ import annotations

import math
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


def group_shares(bias: str, strength: float, n_classes: int, n_groups: int) -> np.ndarray:
    """P(group | class) as an [n_classes, n_groups] matrix for the pool."""
    shares = np.full((n_classes, n_groups), 1.0 / n_groups)
    rest = (1.0 - strength) / (n_groups - 1)
    if bias == "minority":
        shares[:] = rest
        shares[:, 0] = strength
    elif bias == "correlation":
        shares[:] = rest
        shares[np.arange(n_classes), np.arange(n_classes) % n_groups] = strength
    elif bias != "none":
        raise ValueError(f"unknown bias {bias!r}")
    return shares


def minority_cells(bias: str, strength: float, n_classes: int, n_groups: int) -> np.ndarray:
    """[n_classes, n_groups] True where the pool under-represents the (class, group) cell: the
    non-majority groups for `minority`, the unpaired groups for `correlation`, none for `none`."""
    return group_shares(bias, strength, n_classes, n_groups) < 1.0 / n_groups - 1e-12


def cell_counts(n: int, shares: np.ndarray) -> np.ndarray:
    """[n_classes, n_groups] sample counts: classes balanced, groups split by `shares` within each."""
    per_class = largest_remainder(n, np.ones(shares.shape[0]))
    return np.stack([largest_remainder(k, row) for k, row in zip(per_class, shares)])


def pool_counts(dataset_config) -> np.ndarray:
    """[n_classes, n_groups] image counts of the pool a DatasetConfig describes (exactly what is generated)."""
    d = dataset_config
    return cell_counts(d.pool_size, group_shares(d.bias, d.bias_strength, len(d.classes), len(d.groups)))


def balanced_test_counts(dataset_config) -> np.ndarray:
    """[n_classes, n_groups] image counts of the (group-balanced) test set a DatasetConfig describes."""
    d = dataset_config
    return cell_counts(d.test_size, group_shares("none", 0.5, len(d.classes), len(d.groups)))


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


def plan_dataset(bias: str, strength: float, n_classes: int, n_groups: int,
                 pool_size: int, test_size: int, seed: int) -> tuple[SplitPlan, SplitPlan]:
    """Pool with the configured bias; test set balanced over groups, independent of the class."""
    pool_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    pool = plan_split(cell_counts(pool_size, group_shares(bias, strength, n_classes, n_groups)), pool_rng)
    test = plan_split(cell_counts(test_size, group_shares("none", 0.5, n_classes, n_groups)), test_rng)
    return pool, test

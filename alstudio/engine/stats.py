"""Statistics over seeds: the mean with its 95 % confidence interval, and the paired difference
between two strategies that ran on the same seeds (the same initial labels and model inits), with
its interval and the paired t-test's p-value.

Seeds are few (3 to 10), so intervals use Student's t; with 5 seeds a Wilcoxon signed-rank test could
never go below p = 0.0625, which is why the paired t-test is the one reported.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats as scipy_stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PairedDifference:
    """b - a over the seeds both ran, e.g. bald's final accuracy minus random's."""

    mean: float
    low: float
    high: float
    p_value: float  # two-sided paired t-test; nan with fewer than 2 pairs or no spread
    n: int

    def as_dict(self) -> dict:
        return asdict(self)


def _half_width(values: np.ndarray) -> float:
    n = len(values)
    if n < 2:
        return math.nan
    return float(scipy_stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * values.std(ddof=1) / math.sqrt(n))


def mean_interval(values) -> Interval:
    """The mean and its 95 % t-interval (nan bounds below two values); NaNs are left out."""
    array = np.asarray(values, dtype=float)
    array = array[np.isfinite(array)]
    if not len(array):
        return Interval(math.nan, math.nan, math.nan, 0)
    mean, half = float(array.mean()), _half_width(array)
    return Interval(mean, mean - half, mean + half, len(array))


def paired_difference(a, b) -> PairedDifference:
    """b minus a, pair by pair (the same seed at the same index); pairs with a NaN are left out."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired values need the same shape, got {a.shape} and {b.shape}")
    keep = np.isfinite(a) & np.isfinite(b)
    differences = b[keep] - a[keep]
    interval = mean_interval(differences)
    p_value = math.nan
    if len(differences) >= 2 and np.ptp(differences) > 0:
        p_value = float(scipy_stats.ttest_1samp(differences, 0.0).pvalue)
    elif len(differences) >= 2 and differences[0] != 0:
        p_value = 0.0  # every pair differs by the same non-zero amount
    return PairedDifference(interval.mean, interval.low, interval.high, p_value, interval.n)

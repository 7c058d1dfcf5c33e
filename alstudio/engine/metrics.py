"""Accuracy and group-fairness metrics for a classifier evaluated on a biased test set.

Pure numpy so the engine can compute metrics in a worker process without torch or Qt.
Every metric is derived from one (group, true class, predicted class) count tensor, so
all of them agree on the same data. Quantities that are undefined (a group with no
samples, a class never predicted in a group) are NaN and left out of gaps rather than
counted as 0, which would invent a disparity that the data does not show.
Results are plain python floats and lists so they can be written to JSON directly.

FAIRNESS_METRICS is the one list of fairness metrics: metrics.csv, summary.json, the fairness plot's
chooser, the report and the CLI all read it (see "Adding a fairness metric" in docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np


def _as_index_array(values, n: int, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.int64).reshape(-1)
    # bincount on a flattened index would silently mix cells up for out-of-range values
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{name} must lie in [0, {n}), got values in [{arr.min()}, {arr.max()}]")
    return arr


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den == 0, without a runtime warning."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.full(np.broadcast(num, den).shape, np.nan), where=den > 0)


def _spread(values: np.ndarray, min_defined: int = 1) -> np.ndarray:
    """max - min over the last axis, ignoring NaN; NaN where fewer than min_defined are defined.

    Written with masks instead of np.nanmax so all-NaN rows do not emit a RuntimeWarning.
    """
    defined = ~np.isnan(values)
    hi = np.max(np.where(defined, values, -np.inf), axis=-1, initial=-np.inf)
    lo = np.min(np.where(defined, values, np.inf), axis=-1, initial=np.inf)
    enough = defined.sum(axis=-1) >= max(min_defined, 1)
    return np.where(enough, hi - lo, np.nan)


def _max_defined(values: np.ndarray) -> np.ndarray:
    """max over the last axis ignoring NaN; NaN if nothing is defined (no warning)."""
    defined = ~np.isnan(values)
    hi = np.max(np.where(defined, values, -np.inf), axis=-1, initial=-np.inf)
    return np.where(defined.any(axis=-1), hi, np.nan)


def _mean_defined(values: np.ndarray) -> float:
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if defined.size else float("nan")


class GroupConfusion:
    """One evaluation's (group, true class, predicted class) counts and the per-group rates derived from them.

    Every group metric of (labels, predictions, groups) is a function of these counts, so every fairness
    metric reads this one object and they all agree; each rate is computed once, on first use. The arrays
    themselves stay available as `labels`, `predictions` and `groups`.
    """

    def __init__(self, y_true, y_pred, groups, n_classes: int, n_groups: int):
        self.labels = _as_index_array(y_true, n_classes, "y_true")
        self.predictions = _as_index_array(y_pred, n_classes, "y_pred")
        self.groups = _as_index_array(groups, n_groups, "groups")
        if not (len(self.labels) == len(self.predictions) == len(self.groups)):
            raise ValueError(f"length mismatch: y_true={len(self.labels)}, y_pred={len(self.predictions)}, "
                             f"groups={len(self.groups)}")
        self.n_classes, self.n_groups = n_classes, n_groups
        k = n_classes
        flat = (self.groups * k + self.labels) * k + self.predictions
        # counts[g, t, p] = number of samples of group g with true class t predicted as p
        self.counts = np.bincount(flat, minlength=n_groups * k * k).reshape(n_groups, k, k).astype(float)

    @cached_property
    def per_group(self) -> np.ndarray:
        return self.counts.sum(axis=(1, 2))

    @cached_property
    def correct_per_group(self) -> np.ndarray:
        return np.trace(self.counts, axis1=1, axis2=2)

    @cached_property
    def hits(self) -> np.ndarray:
        """[c, g]: true c predicted c."""
        return np.diagonal(self.counts, axis1=1, axis2=2).T

    @cached_property
    def true_per_class(self) -> np.ndarray:
        """[c, g]: samples whose true class is c."""
        return self.counts.sum(axis=2).T

    @cached_property
    def predicted_per_class(self) -> np.ndarray:
        """[c, g]: samples predicted as c."""
        return self.counts.sum(axis=1).T

    @cached_property
    def accuracy(self) -> float:
        return float(_ratio(self.correct_per_group.sum(), self.per_group.sum()))

    @cached_property
    def accuracy_per_group(self) -> np.ndarray:
        return _ratio(self.correct_per_group, self.per_group)

    @cached_property
    def ppv(self) -> np.ndarray:
        """[c, g]: precision of class c within group g."""
        return _ratio(self.hits, self.predicted_per_class)

    @cached_property
    def ppv_gap_per_class(self) -> np.ndarray:
        # a class defined in only one group has no disparity to measure, so it must not dilute ppv_gap with a 0
        return _spread(self.ppv, min_defined=2)

    # One-vs-rest rates [c, g] with class c as the positive label.
    @cached_property
    def tpr(self) -> np.ndarray:
        return _ratio(self.hits, self.true_per_class)

    @cached_property
    def fpr(self) -> np.ndarray:
        return _ratio(self.predicted_per_class - self.hits, self.per_group - self.true_per_class)

    @cached_property
    def selection_rate(self) -> np.ndarray:
        return _ratio(self.predicted_per_class, self.per_group)


@dataclass(frozen=True)
class FairnessMetric:
    """Every fact about one fairness metric; its `name` is its metrics.csv column, its key in the cycle's
    metrics and, as final_<name>, in summary.json, so it must never change once released."""

    name: str
    label: str  # the fairness plot's menu entry and y axis
    short: str  # the CLI's per-cycle line, where space is tight
    title: str  # a plot's title (the report)
    axis_label: str  # the report's y axis, before the direction
    description: str  # what it measures, in one sentence (the menu entry's tooltip)
    compute: Callable[[GroupConfusion], float]
    lower_is_fairer: bool = True
    paired: bool = False  # summary.json also compares it pair by pair between strategies

    @property
    def direction(self) -> str:
        return "lower is fairer" if self.lower_is_fairer else "higher is fairer"


def _accuracy_gap(c: GroupConfusion) -> float:
    return float(_spread(c.accuracy_per_group))


def _ppv_gap(c: GroupConfusion) -> float:
    return _mean_defined(c.ppv_gap_per_class)


def _eo_diff(c: GroupConfusion) -> float:
    return float(_max_defined(_max_defined(np.stack([_spread(c.tpr), _spread(c.fpr)], axis=-1))))


def _dp_diff(c: GroupConfusion) -> float:
    return float(_max_defined(_spread(c.selection_rate)))


# In the order of metrics.csv's columns (users' scripts may read them by position); keyed by name.
FAIRNESS_METRICS: dict[str, FairnessMetric] = {m.name: m for m in (
    FairnessMetric("accuracy_gap", "Accuracy gap", "accuracy gap", "Accuracy gap",
                   "largest difference in accuracy between groups",
                   "Largest difference in test accuracy between groups", _accuracy_gap, paired=True),
    FairnessMetric("ppv_gap", "PPV gap", "PPV gap", "Predictive-parity gap", "PPV gap, mean over classes",
                   "Predictive-parity gap: per class, the largest difference in precision between groups, "
                   "averaged over classes", _ppv_gap, paired=True),
    FairnessMetric("eo_diff", "Equalized odds", "EO diff", "Equalized-odds difference",
                   "largest gap in true- or false-positive rate",
                   "Equalized-odds difference: the largest gap between groups in true- or false-positive rate",
                   _eo_diff),
    FairnessMetric("dp_diff", "Demographic parity", "DP diff", "Demographic-parity difference",
                   "largest gap in how often a class is predicted",
                   "Demographic-parity difference: the largest gap between groups in how often a class is "
                   "predicted", _dp_diff),
)}
# The fairness paper's metric: the one the report draws, the CLI sums up and the fairness plot opens on.
HEADLINE_FAIRNESS_METRIC = "ppv_gap"


def fairness_metrics_headline_first() -> list[FairnessMetric]:
    """The registry with the headline metric first (menus, and summary.json's paired metrics)."""
    return sorted(FAIRNESS_METRICS.values(), key=lambda m: m.name != HEADLINE_FAIRNESS_METRIC)


def classification_metrics(y_true, y_pred, groups, n_classes: int, n_groups: int) -> dict[str, float | list]:
    """Overall and per-group accuracy, per-group precision, and every metric in FAIRNESS_METRICS.

    All gaps are max - min over groups. For two classes ``eo_diff`` and ``dp_diff`` equal fairlearn's
    ``equalized_odds_difference`` / ``demographic_parity_difference`` (positive label 1) whenever every
    group contains both true classes; with more classes each class is taken as the positive label in turn
    (one-vs-rest) and the worst class is reported.
    """
    confusion = GroupConfusion(y_true, y_pred, groups, n_classes, n_groups)
    result: dict[str, float | list] = {
        "accuracy": confusion.accuracy,
        "accuracy_per_group": confusion.accuracy_per_group.tolist(),
        "ppv": confusion.ppv.tolist(),
        "ppv_gap_per_class": confusion.ppv_gap_per_class.tolist(),
    }
    result.update({name: float(metric.compute(confusion)) for name, metric in FAIRNESS_METRICS.items()})
    return result


def labeled_composition(classes, groups, n_classes: int, n_groups: int) -> dict[str, list]:
    """Counts of the labeled set per (class, group) and each group's share of it."""
    classes = _as_index_array(classes, n_classes, "classes")
    groups = _as_index_array(groups, n_groups, "groups")
    if len(classes) != len(groups):
        raise ValueError(f"length mismatch: classes={len(classes)}, groups={len(groups)}")
    count = np.bincount(classes * n_groups + groups, minlength=n_classes * n_groups).reshape(n_classes, n_groups)
    per_group = count.sum(axis=0)
    total = per_group.sum()
    # an empty labeled set has no composition yet; zeros plot cleanly where NaN would not
    share = per_group / total if total else np.zeros(n_groups)
    return {"count": count.tolist(), "group_share": share.astype(float).tolist()}


def area_under_curve(n_labeled, values) -> float:
    """Trapezoid area under a learning curve divided by its x-range, i.e. the curve's mean height.

    Normalising makes runs with different labeling budgets comparable: a constant curve at v gives v.
    """
    x = np.asarray(n_labeled, dtype=float).reshape(-1)
    y = np.asarray(values, dtype=float).reshape(-1)
    if len(x) != len(y):
        raise ValueError(f"length mismatch: n_labeled={len(x)}, values={len(y)}")
    if len(y) == 0:
        return float("nan")
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    width = x[-1] - x[0]
    if width == 0:
        # a single point (or repeated evaluations at one budget) has no extent to integrate over
        return float(y.mean())
    return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)) / width)

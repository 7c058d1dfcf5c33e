"""Accuracy and group-fairness metrics for a classifier evaluated on a biased test set.

Pure numpy so the engine can compute metrics in a worker process without torch or Qt.
Every metric is derived from one (group, true class, predicted class) count tensor, so
all of them agree on the same data. Quantities that are undefined (a group with no
samples, a class never predicted in a group) are NaN and left out of gaps rather than
counted as 0, which would invent a disparity that the data does not show.
Results are plain python floats and lists so they can be written to JSON directly.
"""

from __future__ import annotations

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


def classification_metrics(y_true, y_pred, groups, n_classes: int, n_groups: int) -> dict[str, float | list]:
    """Overall and per-group accuracy plus predictive-parity, equalized-odds and demographic-parity gaps.

    All gaps are max - min over groups. For two classes ``eo_diff`` and ``dp_diff`` equal fairlearn's
    ``equalized_odds_difference`` / ``demographic_parity_difference`` (positive label 1) whenever every
    group contains both true classes; with more classes each class is taken as the positive label in turn
    (one-vs-rest) and the worst class is reported.
    """
    y_true = _as_index_array(y_true, n_classes, "y_true")
    y_pred = _as_index_array(y_pred, n_classes, "y_pred")
    groups = _as_index_array(groups, n_groups, "groups")
    if not (len(y_true) == len(y_pred) == len(groups)):
        raise ValueError(f"length mismatch: y_true={len(y_true)}, y_pred={len(y_pred)}, groups={len(groups)}")

    k = n_classes
    # cm[g, t, p] = number of samples of group g with true class t predicted as p
    flat = (groups * k + y_true) * k + y_pred
    cm = np.bincount(flat, minlength=n_groups * k * k).reshape(n_groups, k, k).astype(float)

    n_g = cm.sum(axis=(1, 2))  # samples per group
    correct_g = np.trace(cm, axis1=1, axis2=2)  # correct predictions per group
    hits = np.diagonal(cm, axis1=1, axis2=2).T  # [c, g]: true c predicted c
    true_c = cm.sum(axis=2).T  # [c, g]: samples whose true class is c
    pred_c = cm.sum(axis=1).T  # [c, g]: samples predicted as c

    acc_g = _ratio(correct_g, n_g)
    ppv = _ratio(hits, pred_c)
    # a class defined in only one group has no disparity to measure, so it must not dilute ppv_gap with a 0
    ppv_gap_c = _spread(ppv, min_defined=2)

    # One-vs-rest rates with class c as the positive label.
    tpr = _ratio(hits, true_c)
    fpr = _ratio(pred_c - hits, n_g - true_c)
    selection = _ratio(pred_c, n_g)
    eo_c = _max_defined(np.stack([_spread(tpr), _spread(fpr)], axis=-1))

    return {
        "accuracy": float(_ratio(correct_g.sum(), n_g.sum())),
        "accuracy_per_group": acc_g.tolist(),
        "accuracy_gap": float(_spread(acc_g)),
        "ppv": ppv.tolist(),
        "ppv_gap_per_class": ppv_gap_c.tolist(),
        "ppv_gap": _mean_defined(ppv_gap_c),
        "eo_diff": float(_max_defined(eo_c)),
        "dp_diff": float(_max_defined(_spread(selection))),
    }


def labelled_composition(classes, groups, n_classes: int, n_groups: int) -> dict[str, list]:
    """Counts of the labelled set per (class, group) and each group's share of it."""
    classes = _as_index_array(classes, n_classes, "classes")
    groups = _as_index_array(groups, n_groups, "groups")
    if len(classes) != len(groups):
        raise ValueError(f"length mismatch: classes={len(classes)}, groups={len(groups)}")
    count = np.bincount(classes * n_groups + groups, minlength=n_classes * n_groups).reshape(n_classes, n_groups)
    per_group = count.sum(axis=0)
    total = per_group.sum()
    # an empty labelled set has no composition yet; zeros plot cleanly where NaN would not
    share = per_group / total if total else np.zeros(n_groups)
    return {"count": count.tolist(), "group_share": share.astype(float).tolist()}


def area_under_curve(n_labeled, values) -> float:
    """Trapezoid area under a learning curve divided by its x-range, i.e. the curve's mean height.

    Normalising makes runs with different labelling budgets comparable: a constant curve at v gives v.
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

import json
import math
import warnings

import numpy as np
import pytest
from fairlearn.metrics import MetricFrame, demographic_parity_difference, equalized_odds_difference
from sklearn.metrics import accuracy_score, precision_score

from alstudio.engine.metrics import area_under_curve, classification_metrics, labeled_composition

KEYS = {
    "accuracy",
    "accuracy_per_group",
    "accuracy_gap",
    "ppv",
    "ppv_gap_per_class",
    "ppv_gap",
    "eo_diff",
    "dp_diff",
}
nan = float("nan")


def metrics(y_true, y_pred, groups, n_classes, n_groups):
    """classification_metrics with every warning (e.g. a 0/0 RuntimeWarning) turned into a failure."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return classification_metrics(
            np.asarray(y_true), np.asarray(y_pred), np.asarray(groups), n_classes=n_classes, n_groups=n_groups
        )


def assert_close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float), equal_nan=True)


def biased_binary(seed, n_groups, n=400):
    """Random binary labels whose prevalence and error rates differ per group, so every gap is non-zero."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, size=n)
    prevalence = rng.uniform(0.3, 0.7, size=n_groups)[groups]
    y_true = (rng.random(n) < prevalence).astype(int)
    flip = rng.uniform(0.05, 0.4, size=n_groups)[groups]
    y_pred = np.where(rng.random(n) < flip, 1 - y_true, y_true)
    return y_true, y_pred, groups


# --- agreement with fairlearn / sklearn on random binary data -------------------------------------------


@pytest.mark.parametrize("n_groups", [2, 3])
@pytest.mark.parametrize("seed", range(5))
def test_binary_matches_fairlearn(seed, n_groups):
    y_true, y_pred, groups = biased_binary(seed, n_groups)
    m = metrics(y_true, y_pred, groups, 2, n_groups)

    assert m["eo_diff"] == pytest.approx(equalized_odds_difference(y_true, y_pred, sensitive_features=groups))
    assert m["dp_diff"] == pytest.approx(demographic_parity_difference(y_true, y_pred, sensitive_features=groups))

    acc = MetricFrame(metrics=accuracy_score, y_true=y_true, y_pred=y_pred, sensitive_features=groups)
    assert m["accuracy"] == pytest.approx(acc.overall)
    assert_close(m["accuracy_per_group"], acc.by_group.sort_index().to_numpy())
    assert m["accuracy_gap"] == pytest.approx(acc.difference())

    for c in range(2):
        prec = MetricFrame(
            metrics=lambda t, p, c=c: precision_score(t, p, pos_label=c, zero_division=np.nan),
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=groups,
        )
        assert_close(m["ppv"][c], prec.by_group.sort_index().to_numpy())
        assert m["ppv_gap_per_class"][c] == pytest.approx(prec.difference())
    assert m["ppv_gap"] == pytest.approx(np.mean(m["ppv_gap_per_class"]))
    assert m["eo_diff"] > 0 and m["dp_diff"] > 0 and m["ppv_gap"] > 0


@pytest.mark.parametrize("seed", range(5))
def test_binary_gaps_do_not_depend_on_which_class_is_positive(seed):
    # The one-vs-rest generalisation takes the max over both classes; for two classes that must
    # collapse to fairlearn's single positive-label-1 value because TPR/FPR swap roles as 1 - FPR/1 - TPR.
    y_true, y_pred, groups = biased_binary(seed, 3)
    m = metrics(y_true, y_pred, groups, 2, 3)
    for fn, key in [(equalized_odds_difference, "eo_diff"), (demographic_parity_difference, "dp_diff")]:
        as_label_1 = fn(y_true, y_pred, sensitive_features=groups)
        as_label_0 = fn(1 - y_true, 1 - y_pred, sensitive_features=groups)
        assert as_label_0 == pytest.approx(as_label_1)
        assert m[key] == pytest.approx(as_label_1)


@pytest.mark.parametrize("seed", range(3))
def test_multiclass_is_worst_one_vs_rest_fairlearn_value(seed):
    rng = np.random.default_rng(seed)
    n, k, n_groups = 600, 3, 3
    groups = rng.integers(0, n_groups, size=n)
    y_true = rng.integers(0, k, size=n)
    # each group confuses classes at its own rate so the per-class gaps differ
    noise = rng.random(n) < rng.uniform(0.1, 0.5, size=n_groups)[groups]
    y_pred = np.where(noise, rng.integers(0, k, size=n), y_true)
    m = metrics(y_true, y_pred, groups, k, n_groups)

    eo = [equalized_odds_difference(y_true == c, y_pred == c, sensitive_features=groups) for c in range(k)]
    dp = [demographic_parity_difference(y_true == c, y_pred == c, sensitive_features=groups) for c in range(k)]
    assert m["eo_diff"] == pytest.approx(max(eo))
    assert m["dp_diff"] == pytest.approx(max(dp))


# --- hand-computed examples -----------------------------------------------------------------------------


def test_binary_ppv_and_gaps_by_hand():
    # group 0: (true, pred) = (0,0) (0,0) (1,0) (1,1)        -> ppv class 0 = 2/3, class 1 = 1/1, acc 3/4
    # group 1: (0,0) (0,1) (1,1) (1,1) (1,0)                  -> ppv class 0 = 1/2, class 1 = 2/3, acc 3/5
    y_true = [0, 0, 1, 1, 0, 0, 1, 1, 1]
    y_pred = [0, 0, 0, 1, 0, 1, 1, 1, 0]
    groups = [0, 0, 0, 0, 1, 1, 1, 1, 1]
    m = metrics(y_true, y_pred, groups, 2, 2)

    assert m["accuracy"] == pytest.approx(6 / 9)
    assert_close(m["accuracy_per_group"], [3 / 4, 3 / 5])
    assert m["accuracy_gap"] == pytest.approx(3 / 4 - 3 / 5)
    assert_close(m["ppv"], [[2 / 3, 1 / 2], [1.0, 2 / 3]])
    assert_close(m["ppv_gap_per_class"], [2 / 3 - 1 / 2, 1 - 2 / 3])
    assert m["ppv_gap"] == pytest.approx((1 / 6 + 1 / 3) / 2)


def test_three_classes_by_hand():
    # group 0: (0,1) (0,0) (1,1) (2,2)    group 1: (0,0) (0,0) (1,1) (2,2)
    # class 0 as positive: TPR 1/2 vs 1 -> 0.5, FPR 0 vs 0
    # class 1 as positive: TPR 1 vs 1,       FPR 1/3 vs 0 -> 1/3
    # class 2 as positive: everything equal  -> 0
    # so eo_diff = 0.5 comes from class 0; a "positive label = 1" reading would give only 1/3.
    # selection rates g0: 1/4, 2/4, 1/4   g1: 2/4, 1/4, 1/4   -> dp gaps 1/4, 1/4, 0
    y_true = [0, 0, 1, 2, 0, 0, 1, 2]
    y_pred = [1, 0, 1, 2, 0, 0, 1, 2]
    groups = [0, 0, 0, 0, 1, 1, 1, 1]
    m = metrics(y_true, y_pred, groups, 3, 2)

    assert m["eo_diff"] == pytest.approx(0.5)
    assert m["dp_diff"] == pytest.approx(0.25)
    assert_close(m["ppv"], [[1.0, 1.0], [0.5, 1.0], [1.0, 1.0]])
    assert_close(m["ppv_gap_per_class"], [0.0, 0.5, 0.0])
    assert m["ppv_gap"] == pytest.approx(0.5 / 3)
    assert_close(m["accuracy_per_group"], [3 / 4, 1.0])


# --- degenerate inputs: NaN / zeros, never a warning or an exception -------------------------------------


def test_group_without_samples_is_nan_and_ignored_in_gaps():
    y_true, y_pred, groups = biased_binary(0, 2, n=100)
    two = metrics(y_true, y_pred, groups, 2, 2)
    three = metrics(y_true, y_pred, groups, 2, 3)  # group 2 is declared but empty

    assert math.isnan(three["accuracy_per_group"][2])
    assert all(math.isnan(row[2]) for row in three["ppv"])
    assert_close(three["accuracy_per_group"][:2], two["accuracy_per_group"])
    for key in ["accuracy", "accuracy_gap", "ppv_gap", "eo_diff", "dp_diff"]:
        assert three[key] == pytest.approx(two[key]), key
    assert_close(three["ppv_gap_per_class"], two["ppv_gap_per_class"])


def test_all_predictions_one_class():
    y_true = [0, 1, 1, 0, 1, 0, 0]
    y_pred = [0] * 7
    groups = [0, 0, 0, 1, 1, 1, 1]
    m = metrics(y_true, y_pred, groups, 2, 2)

    # class 1 is never predicted: its precision is undefined everywhere, not 0
    assert all(math.isnan(v) for v in m["ppv"][1])
    assert math.isnan(m["ppv_gap_per_class"][1])
    # class 0 precision: 1/3 in group 0, 3/4 in group 1; the undefined class does not dilute the mean
    assert_close(m["ppv"][0], [1 / 3, 3 / 4])
    assert m["ppv_gap"] == pytest.approx(3 / 4 - 1 / 3)
    # a constant classifier treats every group alike
    assert m["dp_diff"] == 0.0
    assert m["eo_diff"] == 0.0
    assert m["dp_diff"] == pytest.approx(demographic_parity_difference(y_true, y_pred, sensitive_features=groups))
    assert m["eo_diff"] == pytest.approx(equalized_odds_difference(y_true, y_pred, sensitive_features=groups))


def test_group_without_positives_does_not_count_as_tpr_zero():
    # Group 1 has no true positives, so its TPR is undefined. fairlearn's true_positive_rate reports 0.0 there
    # (sklearn's normalised confusion matrix fills 0/0 with 0) and would give eo = 0.5; we leave the group out
    # of the TPR gap. The FPRs are 1/2 in both groups, so the model shows no measurable disparity.
    y_true = [0, 0, 1, 1, 0, 0]
    y_pred = [0, 1, 1, 0, 1, 0]
    groups = [0, 0, 0, 0, 1, 1]
    m = metrics(y_true, y_pred, groups, 2, 2)
    assert m["eo_diff"] == 0.0


def test_ppv_defined_in_one_group_only_has_no_gap():
    # class 1 is predicted only in group 0, so there is nothing to compare it with
    y_true = [1, 0, 0, 1, 0, 1]
    y_pred = [1, 1, 0, 0, 0, 0]
    groups = [0, 0, 0, 1, 1, 1]
    m = metrics(y_true, y_pred, groups, 2, 2)
    assert_close(m["ppv"][1], [0.5, nan])
    assert math.isnan(m["ppv_gap_per_class"][1])
    assert m["ppv_gap"] == pytest.approx(m["ppv_gap_per_class"][0])


def test_single_group_has_zero_disparity():
    m = metrics([0, 1, 1], [0, 1, 0], [0, 0, 0], 2, 1)
    assert m["accuracy_gap"] == 0.0
    assert m["eo_diff"] == 0.0
    assert m["dp_diff"] == 0.0
    assert math.isnan(m["ppv_gap"])  # PPV parity needs two groups to compare


def test_empty_evaluation_is_all_nan():
    m = metrics([], [], [], 2, 2)
    assert set(m) == KEYS
    for key in ["accuracy", "accuracy_gap", "ppv_gap", "eo_diff", "dp_diff"]:
        assert math.isnan(m[key]), key
    assert all(math.isnan(v) for v in m["accuracy_per_group"])


def test_out_of_range_labels_are_rejected():
    with pytest.raises(ValueError):
        classification_metrics(np.array([0, 2]), np.array([0, 1]), np.array([0, 0]), n_classes=2, n_groups=1)
    with pytest.raises(ValueError):
        classification_metrics(np.array([0, 1]), np.array([0, 1]), np.array([0, 1]), n_classes=2, n_groups=1)


def test_result_is_plain_json():
    y_true, y_pred, groups = biased_binary(1, 3, n=50)
    m = metrics(y_true, y_pred, groups, 2, 4)  # group 3 empty -> NaN entries
    assert set(m) == KEYS
    assert len(m["accuracy_per_group"]) == 4
    assert len(m["ppv"]) == 2 and all(len(row) == 4 for row in m["ppv"])
    assert len(m["ppv_gap_per_class"]) == 2
    for key in ["accuracy", "accuracy_gap", "ppv_gap", "eo_diff", "dp_diff"]:
        assert type(m[key]) is float, key
    assert all(type(v) is float for v in m["accuracy_per_group"])
    assert all(type(v) is float for row in m["ppv"] for v in row)
    assert json.loads(json.dumps(m)).keys() == m.keys()


# --- labeled-set composition -----------------------------------------------------------------------------


def test_composition_counts_and_shares():
    classes = [0, 0, 1, 1, 1, 2]
    groups = [0, 1, 0, 0, 1, 0]
    comp = labeled_composition(np.array(classes), np.array(groups), n_classes=3, n_groups=3)
    assert comp["count"] == [[1, 1, 0], [2, 1, 0], [1, 0, 0]]
    assert all(type(v) is int for row in comp["count"] for v in row)
    assert_close(comp["group_share"], [4 / 6, 2 / 6, 0.0])
    json.dumps(comp)


def test_composition_of_empty_set_is_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        comp = labeled_composition(np.array([], dtype=int), np.array([], dtype=int), n_classes=2, n_groups=3)
    assert comp["count"] == [[0, 0, 0], [0, 0, 0]]
    assert comp["group_share"] == [0.0, 0.0, 0.0]


# --- area under the learning curve --------------------------------------------------------------------------


def test_auc_of_constant_curve_is_its_value():
    assert area_under_curve([10, 20, 50, 100], [0.7] * 4) == pytest.approx(0.7)


def test_auc_of_linear_curve_is_its_mean_height():
    x = np.array([0, 20, 30, 100])
    assert area_under_curve(x, 0.2 + 0.006 * x) == pytest.approx(0.2 + 0.006 * 50)


def test_auc_weights_by_label_budget_not_by_point():
    # 0 -> 1 over the first 10 labels, then flat at 1 for 90 more: area 5 + 90 over a width of 100
    assert area_under_curve([0, 10, 100], [0.0, 1.0, 1.0]) == pytest.approx(0.95)
    assert area_under_curve([100, 0, 10], [1.0, 0.0, 1.0]) == pytest.approx(0.95)


def test_auc_of_single_point_is_that_point():
    assert area_under_curve([40], [0.83]) == pytest.approx(0.83)

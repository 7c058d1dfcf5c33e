import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from alstudio.engine.stats import mean_interval, paired_difference


def test_mean_interval_is_the_student_t_interval():
    values = [0.61, 0.72, 0.58, 0.69, 0.75]
    interval = mean_interval(values)
    low, high = scipy_stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=scipy_stats.sem(values))
    assert interval.n == 5
    assert interval.mean == pytest.approx(np.mean(values))
    assert (interval.low, interval.high) == pytest.approx((low, high))


def test_mean_interval_by_hand():
    # 1, 2, 3: mean 2, sd 1; t(0.975, 2 df) = 4.302653, so 2 +- 4.302653 / sqrt(3).
    interval = mean_interval([1.0, 2.0, 3.0])
    assert (interval.mean, interval.low, interval.high) == pytest.approx((2.0, -0.484138, 4.484138), abs=1e-6)
    assert interval.as_dict() == {"mean": interval.mean, "low": interval.low, "high": interval.high, "n": 3}


def test_mean_interval_leaves_nans_out_and_has_no_bounds_below_two_values():
    assert mean_interval([1.0, math.nan, 2.0, 3.0, math.inf]) == mean_interval([1.0, 2.0, 3.0])
    one = mean_interval([0.7, math.nan])
    assert one.mean == 0.7 and one.n == 1 and math.isnan(one.low) and math.isnan(one.high)
    for nothing in ([], [math.nan, math.nan]):
        empty = mean_interval(nothing)
        assert empty.n == 0 and all(math.isnan(v) for v in (empty.mean, empty.low, empty.high))


def test_paired_difference_is_the_paired_t_test_of_b_minus_a():
    a = [0.55, 0.61, 0.58, 0.66, 0.52]
    b = [0.71, 0.69, 0.74, 0.80, 0.63]
    result = paired_difference(a, b)
    differences = np.subtract(b, a)
    low, high = scipy_stats.t.interval(0.95, 4, loc=differences.mean(), scale=scipy_stats.sem(differences))
    assert result.n == 5 and result.mean == pytest.approx(differences.mean())
    assert (result.low, result.high) == pytest.approx((low, high))
    assert result.p_value == pytest.approx(scipy_stats.ttest_rel(b, a).pvalue)
    assert paired_difference(b, a).mean == pytest.approx(-result.mean)  # b - a, not a - b


def test_paired_difference_by_hand():
    # Differences 1, 2, 3: t = 2 / (1 / sqrt(3)) = 3.4641 on 2 df, whose two-sided p is
    # 1 - t / sqrt(2 + t^2) = 0.074180 (the t distribution with 2 df has a closed-form CDF).
    result = paired_difference([0.0, 0.0, 0.0], [1.0, 2.0, 3.0])
    assert (result.mean, result.low, result.high) == pytest.approx((2.0, -0.484138, 4.484138), abs=1e-6)
    assert result.p_value == pytest.approx(0.074180, abs=1e-6)
    assert set(result.as_dict()) == {"mean", "low", "high", "p_value", "n"}


def test_paired_difference_drops_pairs_with_a_nan():
    result = paired_difference([0.0, math.nan, 0.0, 0.0, 5.0], [1.0, 9.0, 2.0, 3.0, math.nan])
    assert result == paired_difference([0.0, 0.0, 0.0], [1.0, 2.0, 3.0])


def test_paired_difference_below_two_pairs_and_without_spread():
    one = paired_difference([0.5], [0.7])
    assert one.n == 1 and one.mean == pytest.approx(0.2)
    assert math.isnan(one.low) and math.isnan(one.high) and math.isnan(one.p_value)
    none = paired_difference([math.nan, 0.5], [0.4, math.nan])
    assert none.n == 0 and math.isnan(none.mean) and math.isnan(none.p_value)
    same = paired_difference([0.25, 0.5, 0.75], [0.375, 0.625, 0.875])  # always 0.125 better
    assert same.p_value == 0.0 and same.low == same.high == same.mean == 0.125
    equal = paired_difference([0.5, 0.6], [0.5, 0.6])
    assert equal.mean == 0.0 and math.isnan(equal.p_value)


def test_paired_difference_needs_pairs():
    with pytest.raises(ValueError, match="same shape"):
        paired_difference([0.1, 0.2], [0.1, 0.2, 0.3])

"""summary.json's intervals and paired differences, and the CI of curves(), on hand-made rows."""

import json
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from alstudio.engine.results import LLMAccounting, band_caption, compared_pairs, curve_band, curves, summarize

# t(0.975, 2 df) / sqrt(3): the half-width of a 95 % interval over three values, per unit of sd.
T3 = 4.302653 / math.sqrt(3)


def _row(strategy, seed, cycle, accuracy, ppv_gap=0.0, accuracy_gap=0.0) -> dict:
    return {"strategy": strategy, "seed": seed, "cycle": cycle, "n_labeled": 10 + 10 * cycle, "accuracy": accuracy,
            "accuracy_gap": accuracy_gap, "ppv_gap": ppv_gap, "eo_diff": 0.0, "dp_diff": 0.0}


def _rows() -> list[dict]:
    """random and bald on seeds 1-3 (two cycles), random also on seed 4; bald's seed 4 stopped after
    cycle 0. Cycle 0 is 0.4 everywhere, so the area under a curve is (0.4 + final) / 2."""
    finals = {  # seed: (random accuracy, bald accuracy, random PPV gap, bald PPV gap, random acc gap, bald acc gap)
        1: (0.5, 0.6, 0.2, 0.1, 0.25, 0.375),
        2: (0.5, 0.7, 0.3, 0.1, 0.5, 0.625),
        3: (0.5, 0.8, 0.1, 0.1, 0.75, 0.875),
    }
    rows = []
    for seed, (acc_r, acc_b, ppv_r, ppv_b, gap_r, gap_b) in finals.items():
        rows += [_row("random", seed, 0, 0.4), _row("bald", seed, 0, 0.4),
                 _row("random", seed, 1, acc_r, ppv_r, gap_r), _row("bald", seed, 1, acc_b, ppv_b, gap_b)]
    rows += [_row("random", 4, 0, 0.4), _row("random", 4, 1, 0.9), _row("bald", 4, 0, 0.4)]
    return rows


def test_summary_keeps_its_keys_and_adds_the_95_percent_interval():
    summary = summarize([r for r in _rows() if r["seed"] != 4])
    bald = summary["bald"]
    assert bald["seeds"] == 3 and bald["final_n_labeled"] == 20
    accuracy = bald["final_accuracy"]
    assert accuracy["n"] == 3 and accuracy["mean"] == pytest.approx(0.7) and accuracy["std"] == pytest.approx(0.1)
    assert (accuracy["ci_low"], accuracy["ci_high"]) == pytest.approx((0.7 - 0.1 * T3, 0.7 + 0.1 * T3), abs=1e-6)
    aulc = bald["aulc_accuracy"]  # 0.5, 0.55, 0.6
    assert (aulc["mean"], aulc["ci_low"], aulc["ci_high"]) == pytest.approx(
        (0.55, 0.55 - 0.05 * T3, 0.55 + 0.05 * T3), abs=1e-6)
    for name in ("accuracy_gap", "ppv_gap", "eo_diff", "dp_diff"):
        assert {"mean", "std", "n", "ci_low", "ci_high"} <= set(bald[f"final_{name}"])
    constant = summary["random"]["final_accuracy"]  # 0.5 on every seed: an interval of no width
    assert constant["ci_low"] == constant["ci_high"] == pytest.approx(0.5)
    one_seed = summarize([r for r in _rows() if r["seed"] == 1])["bald"]["final_accuracy"]
    assert one_seed["n"] == 1 and one_seed["std"] == 0.0 and math.isnan(one_seed["ci_low"])


def test_summary_pairs_strategies_on_the_seeds_both_finished():
    summary = summarize(_rows())
    assert "versus" not in summary["random"]
    paired = summary["bald"]["versus"]["random"]  # bald - random
    assert paired["seeds"] == [1, 2, 3]  # random's seed 4 has no bald run to the same cycle
    accuracy = paired["final_accuracy"]  # differences 0.1, 0.2, 0.3
    assert accuracy["n"] == 3
    assert (accuracy["mean"], accuracy["low"], accuracy["high"]) == pytest.approx(
        (0.2, 0.2 - 0.1 * T3, 0.2 + 0.1 * T3), abs=1e-6)
    assert accuracy["p_value"] == pytest.approx(0.074180, abs=1e-6)  # t = 2 sqrt(3) on 2 df: 1 - t / sqrt(2 + t^2)
    aulc = paired["aulc_accuracy"]  # differences 0.05, 0.1, 0.15
    assert (aulc["mean"], aulc["low"], aulc["high"]) == pytest.approx((0.1, 0.1 - 0.05 * T3, 0.1 + 0.05 * T3), abs=1e-6)
    assert aulc["p_value"] == pytest.approx(0.074180, abs=1e-6)
    ppv = paired["final_ppv_gap"]  # differences -0.1, -0.2, 0: t = -sqrt(3)
    assert ppv["mean"] == pytest.approx(-0.1) and ppv["p_value"] == pytest.approx(1 - math.sqrt(3 / 5), abs=1e-6)
    gap = paired["final_accuracy_gap"]  # always 0.125 more
    assert gap["mean"] == gap["low"] == gap["high"] == 0.125 and gap["p_value"] == 0.0
    assert summary["random"]["seeds"] == 4 and summary["bald"]["seeds"] == 4  # per strategy, every seed counts
    assert json.loads(json.dumps(summary))["bald"]["versus"]["random"]["seeds"] == [1, 2, 3]


def test_every_strategy_is_compared_against_random_and_the_others_in_order():
    assert compared_pairs(["bald", "random", "entropy"]) == [("random", "bald"), ("bald", "entropy"),
                                                             ("random", "entropy")]
    rows = [dict(r, strategy={"random": "entropy", "bald": "random"}[r["strategy"]]) for r in _rows()]
    rows += [dict(r, strategy="bald") for r in _rows() if r["strategy"] == "bald"]
    rows.sort(key=lambda r: ("entropy", "random", "bald").index(r["strategy"]))  # the experiment's order
    summary = summarize(rows)
    assert set(summary["entropy"]["versus"]) == {"random"}  # random - entropy would be the wrong way round
    assert set(summary["bald"]["versus"]) == {"entropy", "random"}
    assert summary["entropy"]["versus"]["random"]["final_accuracy"]["mean"] == pytest.approx(-0.2)
    assert summary["bald"]["versus"]["random"]["final_accuracy"]["mean"] == pytest.approx(0.0)


def test_strategies_without_a_shared_seed_are_not_paired():
    rows = [r for r in _rows() if not (r["strategy"] == "bald" and r["seed"] != 4)]  # bald: only seed 4, unfinished
    assert "versus" not in summarize(rows)["bald"]


def test_curves_carry_the_95_percent_interval_of_the_mean_over_seeds():
    rows = _rows()
    rows.append(_row("bald", 1, 2, 0.9))  # at x = 30 only one seed
    bald = curves(rows, "accuracy")["bald"]
    np.testing.assert_array_equal(bald["x"], [10, 20, 30])
    np.testing.assert_array_equal(bald["n"], [4, 3, 1])
    values = [0.6, 0.7, 0.8]
    low, high = scipy_stats.t.interval(0.95, 2, loc=np.mean(values), scale=scipy_stats.sem(values))
    np.testing.assert_allclose(bald["ci_low"][:2], [0.4, low])
    np.testing.assert_allclose(bald["ci_high"][:2], [0.4, high])
    assert np.isnan(bald["ci_low"][2]) and np.isnan(bald["ci_high"][2])


def test_the_band_is_the_interval_from_three_seeds_on_and_the_std_below():
    rows = _rows()
    three = curves([r for r in rows if r["seed"] != 4], "accuracy")["bald"]
    low, high, is_ci = curve_band(three)
    assert is_ci.all()
    np.testing.assert_allclose(low, three["ci_low"])
    np.testing.assert_allclose(high, three["ci_high"])
    assert band_caption([three]) == "mean, 95 % CI over 3 seeds"
    two = curves([r for r in rows if r["seed"] <= 2], "accuracy")["bald"]
    low, high, is_ci = curve_band(two)
    assert not is_ci.any()
    np.testing.assert_allclose(low, two["mean"] - two["std"])
    np.testing.assert_allclose(high, two["mean"] + two["std"])
    assert band_caption([two]) == "mean ± std over 2 seeds"
    assert band_caption([two, three]) == "95 % CI; ± std below 3 seeds"
    assert band_caption([curves([r for r in rows if r["seed"] == 1], "accuracy")["bald"]]) == "1 seed"
    assert band_caption([]) == "mean over seeds"
    # A curve made without n and the interval (a benchmark's own) gets them from its seeds.
    bare = {key: three[key] for key in ("x", "mean", "std", "seeds")}
    np.testing.assert_allclose(curve_band(bare)[0], three["ci_low"])


def test_the_llm_accounting_reads_back_the_metrics_csv_columns_it_writes():
    metrics = {"labels_by_source": {"llm": 7, "human": 2},
               "annotator": {"flagged": 2, "llm_accuracy": 0.875, "llm_cost_usd": 0.0123, "llm_requests": 9,
                             "llm_tokens_in": 4000, "llm_tokens_out": 90}}
    llm = LLMAccounting.from_metrics(metrics)
    assert LLMAccounting.from_row(llm.columns()) == llm
    assert (llm.labels, llm.flagged, llm.agreement_text()) == (7, 2, "88%")
    assert LLMAccounting().agreement_text() == "n/a"  # before the LLM answered anything

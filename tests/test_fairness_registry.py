"""engine.metrics.FAIRNESS_METRICS is the one place a fairness metric is declared: a metric registered
there alone reaches the cycle's metrics, metrics.csv, summary.json, the CLI and the fairness plot's chooser."""

import csv
import json
import math

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from conftest import small_dataset_config  # noqa: E402
from engine_helpers import tiny_toml  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from alstudio.engine import metrics  # noqa: E402
from alstudio.engine.metrics import (  # noqa: E402
    FAIRNESS_METRICS,
    HEADLINE_FAIRNESS_METRIC,
    FairnessMetric,
    classification_metrics,
    fairness_metrics_headline_first,
)
from alstudio.engine.results import metrics_csv_text, metrics_row, paired_metrics, summarize  # noqa: E402
from alstudio.gui.plots import FairnessPlot  # noqa: E402

# Two groups of four: group 0 predicted perfectly, group 1 right on half of each class.
Y_TRUE = [0, 0, 1, 1, 0, 0, 1, 1]
Y_PRED = [0, 0, 1, 1, 0, 1, 0, 1]
GROUPS = [0, 0, 0, 0, 1, 1, 1, 1]

TINY_TOML = tiny_toml(training={"epochs": 1}, active={"cycles": 1, "mc_samples": 2})


def _tpr_gap(confusion) -> float:
    """Largest difference between groups in recall averaged over classes."""
    recall = confusion.tpr.mean(axis=0)
    return float(recall.max() - recall.min())


TPR_GAP = FairnessMetric("tpr_gap", "TPR gap", "TPR gap", "True-positive-rate gap", "TPR gap, mean over classes",
                         "Largest difference between groups in recall averaged over classes", _tpr_gap)


@pytest.fixture
def tpr_gap(monkeypatch):
    """The registry with one more metric, for this test only (monkeypatch takes it out again)."""
    monkeypatch.setitem(metrics.FAIRNESS_METRICS, TPR_GAP.name, TPR_GAP)
    return TPR_GAP


def _fake_cycle_metrics(y_pred) -> dict:
    m = classification_metrics(Y_TRUE, y_pred, GROUPS, n_classes=2, n_groups=2)
    m.update({"labeled_share": [0.5, 0.5], "labeled_count": [[2, 2], [2, 2]], "labels_by_source": {"initial": 8}})
    return m


def test_the_released_names_keep_their_metrics_csv_order():
    # users' metrics.csv files and summary.json keys depend on these names and this order; new ones go after
    assert list(FAIRNESS_METRICS)[:4] == ["accuracy_gap", "ppv_gap", "eo_diff", "dp_diff"]
    assert fairness_metrics_headline_first()[0].name == HEADLINE_FAIRNESS_METRIC == "ppv_gap"
    assert paired_metrics()[:4] == ("final_accuracy", "aulc_accuracy", "final_ppv_gap", "final_accuracy_gap")


@pytest.mark.parametrize("name", list(FAIRNESS_METRICS))
def test_every_registered_metric_is_complete_and_zero_when_the_groups_are_alike(name):
    metric = FAIRNESS_METRICS[name]
    assert metric.name == name
    for text in (metric.label, metric.short, metric.title, metric.axis_label, metric.description):
        assert text.strip() and "\n" not in text
    # group 1 is a copy of group 0, so no metric may see a disparity
    alike = classification_metrics(Y_TRUE[:4] * 2, Y_PRED[4:] * 2, GROUPS, n_classes=2, n_groups=2)
    assert isinstance(alike[name], float)
    if metric.lower_is_fairer:
        assert alike[name] == 0.0


def test_a_metric_registered_in_metrics_py_alone_reaches_the_csv_the_summary_and_the_chooser(tpr_gap, qtbot):
    m = classification_metrics(Y_TRUE, Y_PRED, GROUPS, n_classes=2, n_groups=2)
    assert m["tpr_gap"] == pytest.approx(1.0 - 0.5)

    config = small_dataset_config()
    rows = [metrics_row(strategy, seed, cycle, 8 + 4 * cycle, _fake_cycle_metrics(Y_PRED if cycle else Y_TRUE), config)
            for strategy in ("random", "bald") for seed in (1, 2) for cycle in (0, 1)]
    assert [r["tpr_gap"] for r in rows[:2]] == [0.0, 0.5]
    header = next(csv.reader(metrics_csv_text(rows).splitlines()))
    assert header.index("tpr_gap") == header.index("dp_diff") + 1  # after the released columns, which keep theirs
    summary = json.loads(json.dumps(summarize(rows)))
    assert summary["bald"]["final_tpr_gap"]["mean"] == pytest.approx(0.5)
    assert "final_tpr_gap" not in summary["bald"]["versus"]["random"]  # not declared paired

    plot = FairnessPlot()
    qtbot.addWidget(plot)
    box = plot.metric_box
    offered = [box.itemData(i) for i in range(box.count())]
    assert offered[:4] == ["ppv_gap", "accuracy_gap", "eo_diff", "dp_diff"] and offered[-1] == "tpr_gap"
    assert box.currentData() == "ppv_gap"  # the headline still opens the chooser
    plot.set_rows(rows)
    plot.set_metric("tpr_gap")
    assert box.currentText() == "TPR gap"
    assert "recall" in box.itemData(box.currentIndex(), Qt.ItemDataRole.ToolTipRole)
    assert plot.plot.getPlotItem().getAxis("left").labelText == "TPR gap (lower is fairer)"
    np.testing.assert_allclose(plot.plot._items["bald"]["mean"].yData, [0.0, 0.5])


def test_a_journal_without_a_newer_metric_reads_as_not_measured(tpr_gap):
    old = _fake_cycle_metrics(Y_PRED)
    del old["tpr_gap"]  # a cycle journalled before tpr_gap was registered
    row = metrics_row("random", 1, 0, 8, old, small_dataset_config())
    assert math.isnan(row["tpr_gap"]) and row["ppv_gap"] == old["ppv_gap"]


def test_a_tiny_experiment_writes_and_prints_a_newly_registered_metric(tpr_gap, tmp_path, capsys):
    from alstudio.cli import main

    config = tmp_path / "tiny.toml"
    config.write_text(TINY_TOML)
    out = tmp_path / "exp"
    assert main(["run", str(config), "--out", str(out), "--strategies", "random", "--seeds", "1"]) == 0
    with open(out / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and all(0.0 <= float(r["tpr_gap"]) <= 1.0 for r in rows)
    assert "final_tpr_gap" in json.loads((out / "summary.json").read_text())["random"]
    assert "TPR gap " in capsys.readouterr().out  # the per-cycle line

"""The table of bias kinds (engine.data.bias.BIAS_KINDS): every kind's facts, the exact counts of the
shipped kinds, and a kind added in a test that reaches config, generation, results, the report and the
dataset panel without any other file knowing it."""

import numpy as np
import pytest

from alstudio.engine import config as configs
from alstudio.engine.data import generate_dataset
from alstudio.engine.data.bias import (
    BIAS_KINDS,
    BiasKind,
    BiasSpec,
    balanced_shares,
    balanced_test_counts,
    cell_counts,
    minority_cells,
    pool_counts,
    pool_shares,
)
from alstudio.engine.errors import ConfigError
from alstudio.engine.results import metrics_row, pool_minority_share

SHIPPED = ("none", "minority", "correlation")  # saved experiments hold these names


def test_the_shipped_kinds_stay_in_the_table_first_in_the_choosers_order():
    assert tuple(BIAS_KINDS)[:len(SHIPPED)] == SHIPPED
    assert all(name == kind.name for name, kind in BIAS_KINDS.items())


@pytest.mark.parametrize("name", list(BIAS_KINDS))
@pytest.mark.parametrize(("strength", "n_classes", "n_groups"), [(0.5, 2, 2), (0.9, 5, 3), (1.0, 4, 6), (0.6, 10, 2)])
def test_every_kind_declares_shares_minority_cells_and_words(name, strength, n_classes, n_groups):
    kind = BIAS_KINDS[name]
    spec = BiasSpec(name, strength, n_classes, n_groups)
    shares = kind.shares(spec)
    assert shares.shape == (n_classes, n_groups) and (shares >= 0).all()
    assert np.allclose(shares.sum(axis=1), 1.0)
    minority = kind.minority_cells(spec)
    assert minority.shape == shares.shape and minority.dtype == bool
    assert (shares[minority] < 1 / n_groups).all()  # a minority cell is under-represented
    classes, groups = [chr(ord("a") + i) for i in range(n_classes)], [f"g{k}" for k in range(n_groups)]
    assert len(kind.group_roles(classes, n_groups)) == n_groups
    assert kind.title and kind.description and kind.minority_words and kind.describe(strength, classes, groups)
    if not kind.biased:
        assert not minority.any()


# Pinned from the code before the table existed: cached datasets and journals' fingerprints rely on them.
@pytest.mark.parametrize(("name", "strength", "n_classes", "n_groups", "size", "counts", "minority"), [
    ("none", 0.5, 3, 4, 997, [[84, 83, 83, 83], [83, 83, 83, 83], [83, 83, 83, 83]], [[0] * 4] * 3),
    ("minority", 0.9, 3, 3, 997, [[300, 17, 16], [299, 17, 16], [299, 17, 16]], [[0, 1, 1]] * 3),
    ("minority", 0.97, 2, 2, 5000, [[2425, 75], [2425, 75]], [[0, 1], [0, 1]]),
    ("correlation", 0.9, 5, 3, 997, [[180, 10, 10], [10, 180, 10], [10, 10, 179], [179, 10, 10], [10, 179, 10]],
     [[0, 1, 1], [1, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1]]),
    ("correlation", 0.95, 4, 2, 1001, [[238, 13], [13, 237], [237, 13], [13, 237]], [[0, 1], [1, 0], [0, 1], [1, 0]]),
])
def test_the_shipped_kinds_keep_their_exact_counts(name, strength, n_classes, n_groups, size, counts, minority):
    spec = BiasSpec(name, strength, n_classes, n_groups)
    assert cell_counts(size, BIAS_KINDS[name].shares(spec)).tolist() == counts
    assert BIAS_KINDS[name].minority_cells(spec).astype(int).tolist() == minority


def test_config_accepts_exactly_the_tables_names():
    assert configs.validate({"dataset": {"bias": "correlation"}}).dataset.bias == "correlation"
    with pytest.raises(ConfigError, match="dataset.bias must be one of 'none', 'minority' or 'correlation', "
                                          "got 'first_class_skewed'"):
        configs.validate({"dataset": {"bias": "first_class_skewed"}})


# ---- a kind added in a test ---------------------------------------------------------------------

def _first_class_shares(spec: BiasSpec) -> np.ndarray:
    shares = balanced_shares(spec.n_classes, spec.n_groups)
    shares[0] = spec.rest
    shares[0, 0] = spec.strength
    return shares


FIRST_CLASS_SKEWED = BiasKind(
    name="first_class_skewed", title="First class skewed",
    description="Only the first class comes mostly in the first group; the others are even",
    minority_words="the first class outside the first group",
    shares=_first_class_shares,
    group_roles=lambda classes, n_groups: [f"most of {classes[0]}"] + [f"rare in {classes[0]}"] * (n_groups - 1),
    describe=lambda strength, classes, groups: f"{classes[0]} comes in {groups[0]} in {strength:.0%} of its images.",
)

SMALL_RUN = {
    "dataset": {"bias": "first_class_skewed", "bias_strength": 0.8, "classes": ["a", "d", "x"],
                "groups": ["blue", "red"], "pool_size": 90, "test_size": 24, "resolution": 16},
    "model": {"init": "scratch"},
    "training": {"epochs": 1, "batch_size": 8},
    "active": {"initial_labels": 8, "query_size": 4, "cycles": 1, "mc_samples": 2, "strategy": "random"},
}


@pytest.fixture
def first_class_skewed(monkeypatch):
    """The kind, registered for this test only: nothing else in alstudio names it."""
    monkeypatch.setitem(BIAS_KINDS, FIRST_CLASS_SKEWED.name, FIRST_CLASS_SKEWED)
    return configs.validate(SMALL_RUN)


def test_a_new_kind_generates_its_shares_and_counts_its_minority(first_class_skewed):
    dataset = first_class_skewed.dataset
    assert np.allclose(pool_shares(dataset), [[0.8, 0.2], [0.5, 0.5], [0.5, 0.5]])
    data = generate_dataset(dataset, workers=1)
    assert data.counts("pool").tolist() == pool_counts(dataset).tolist() == [[24, 6], [15, 15], [15, 15]]
    assert data.counts("test").tolist() == balanced_test_counts(dataset).tolist()  # the test set stays even
    assert minority_cells(dataset).tolist() == [[False, True], [False, False], [False, False]]
    assert pool_minority_share(dataset) == pytest.approx(6 / 90)
    metrics = {"accuracy": 0.5, "accuracy_gap": 0.0, "ppv_gap": 0.0, "eo_diff": 0.0, "dp_diff": 0.0,
               "accuracy_per_group": [0.5, 0.5], "labeled_share": [0.5, 0.5],
               "labeled_count": [[1, 3], [2, 2], [1, 1]], "labels_by_source": {"initial": 10}}
    assert metrics_row("random", 1, 0, 10, metrics, dataset)["labeled_share_minority_cells"] == pytest.approx(0.3)


def test_a_new_kind_runs_and_is_reported_in_its_own_words(first_class_skewed, tmp_path, qtbot):
    from PIL import Image

    from alstudio.cli import main
    from alstudio.engine.experiment import Experiment
    from alstudio.engine.loop import Failed, Finished
    from alstudio.engine.results import collect_rows
    from alstudio.engine.runner import run_experiment
    from alstudio.report import _experiment_plots

    out = tmp_path / "exp"
    experiment = Experiment.create(out, first_class_skewed, ["random"], 1)
    events = [event for _, event in run_experiment(experiment, generate_dataset(first_class_skewed.dataset, workers=1))]
    experiment.release()
    assert not any(isinstance(event, Failed) for event in events) and isinstance(events[-1], Finished)
    assert main(["report", str(out), "--png", str(tmp_path / "report.png")]) == 0
    assert Image.open(tmp_path / "report.png").size[0] >= 1200
    experiment = Experiment.open(out)
    plots = _experiment_plots(experiment, collect_rows(experiment))
    for plot in plots:
        qtbot.addWidget(plot)
    assert FIRST_CLASS_SKEWED.minority_words in plots[-1].getAxis("left").labelText


def test_the_dataset_panel_offers_a_new_kind_with_its_roles_and_note(first_class_skewed, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QComboBox, QListWidget, QSlider, QWidget

    from alstudio.gui.config_model import ConfigModel
    from alstudio.gui.panels.dataset import DatasetPanel

    panel = DatasetPanel(ConfigModel(first_class_skewed))
    qtbot.addWidget(panel)
    box = panel.findChild(QComboBox, "biasBox")
    index = box.findData("first_class_skewed")
    assert box.itemText(index) == "First class skewed" and box.currentIndex() == index
    assert box.itemData(index, Qt.ItemDataRole.ToolTipRole) == FIRST_CLASS_SKEWED.description
    groups = panel.findChild(QListWidget, "groupsList")
    assert [groups.item(row).text() for row in range(2)] == ["blue   — most of a", "red   — rare in a"]
    assert panel.findChild(QWidget, "biasHint").text() == "a comes in blue in 80% of its images."
    assert panel.findChild(QSlider, "biasStrengthSlider").isEnabled()
    panel.findChild(QSlider, "biasStrengthSlider").setValue(70)  # an edit: the model validates the new kind
    assert panel.config_model.error is None and panel.config_model.config.dataset.bias == "first_class_skewed"

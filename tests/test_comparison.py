"""Human-only, oracle and LLM-assisted experiments side by side: in the workbench and in `alstudio report`."""

import hashlib

import numpy as np
import pytest
from engine_helpers import tiny_toml
from openai_stub import Reply, StubServer, image_urls
from PIL import Image

from alstudio.cli import main
from alstudio.engine.experiment import Experiment
from alstudio.engine.results import collect_rows, curves

TOML = tiny_toml(training={"epochs": 1}, active={"strategy": "random"})


def half_unsure(request, index):
    """About half the images (by a hash of the picture) get inconsistent answers; the others a steady 'a'."""
    unsure = hashlib.sha256(image_urls(request)[-1].encode()).digest()[0] % 2 == 0
    label = ("a" if request["temperature"] == 0.0 else "d") if unsure else "a"
    return Reply(contents=[f'{{"label": "{label}"}}'] * (request.get("n") or 1))


@pytest.fixture(scope="module")
def experiments(tmp_path_factory):
    """An oracle experiment and an LLM-assisted one (the ground truth answering what the LLM flags)."""
    folder = tmp_path_factory.mktemp("compare")
    oracle, llm = folder / "oracle", folder / "llm"
    (folder / "oracle.toml").write_text(TOML)
    assert main(["run", str(folder / "oracle.toml"), "--out", str(oracle)]) == 0
    with StubServer(half_unsure) as server:
        (folder / "llm.toml").write_text(TOML + f'[annotator]\nkind = "llm"\nbase_url = "{server.base_url}"\n'
                                         'model = "stub-vision"\nrequest_timeout = 2.0\n')
        assert main(["run", str(folder / "llm.toml"), "--out", str(llm), "--human", "oracle"]) == 0
    return oracle, llm


def test_labels_from_people_leave_out_what_the_llm_labeled(experiments):
    _, llm = experiments
    rows = collect_rows(Experiment.open(llm))
    assert all(r["people_labels"] == r["n_labeled"] - r["llm_labels"] for r in rows)
    assert rows[-1]["llm_labels"] > 0
    by_people = curves(rows, "accuracy", x="people_labels")["random"]["x"]
    by_all = curves(rows, "accuracy")["random"]["x"]
    assert by_people[-1] < by_all[-1] and by_people[0] == by_all[0] == 8


def test_the_workbench_compares_experiments_by_labels_and_by_human_effort(experiments, qtbot, tmp_path):
    from alstudio.gui.main_window import MainWindow

    oracle, llm = experiments
    window = MainWindow(Experiment.open(llm).config, workers=1)
    qtbot.addWidget(window)
    window.show()
    window.open_experiment(llm)
    plot = window.learning_plot
    assert plot.curve_names() == ["random"]
    window.compare_with(oracle)
    assert plot.curve_names() == ["LLM + oracle · random", "oracle · random"]
    assert "oracle" in plot.compared_label.text()
    ours = plot.plot._items["LLM + oracle · random"]["mean"]
    theirs = plot.plot._items["oracle · random"]["mean"]
    assert list(ours.xData) == list(theirs.xData) == [8, 12, 16]
    plot.set_x_axis("people_labels")
    ours = plot.plot._items["LLM + oracle · random"]["mean"]
    assert ours.xData[-1] < 16  # the LLM's labels cost no human effort
    assert list(plot.plot._items["oracle · random"]["mean"].xData) == [8, 12, 16]
    assert plot.plot.getAxis("bottom").labelText.startswith("labels from people")
    window.grab().save(str(tmp_path / "compare.png"))
    window.clear_comparison()
    assert plot.curve_names() == ["random"]


def test_report_draws_several_experiments_side_by_side(experiments, tmp_path, capsys):
    oracle, llm = experiments
    png = tmp_path / "compare.png"
    assert main(["report", str(oracle), str(llm), "--png", str(png)]) == 0
    image = np.asarray(Image.open(png).convert("RGB"))
    assert image.shape[1] >= 1200 and image.std() > 10
    assert main(["report", str(oracle), str(tmp_path / "missing"), "--png", str(png)]) == 2
    assert "missing" in capsys.readouterr().err


def test_a_compared_baseline_stays_while_a_new_experiment_runs(experiments, qtbot):
    from alstudio.gui.main_window import MainWindow

    oracle, llm = experiments
    window = MainWindow(Experiment.open(llm).config, workers=1)
    qtbot.addWidget(window)
    window.show()
    window.compare_with(oracle)
    window.open_experiment(llm)
    assert window.learning_plot.curve_names() == ["LLM + oracle · random", "oracle · random"]
    window.new_experiment()  # a fresh set-up to run live against the baseline
    assert window.learning_plot.curve_names() == ["oracle · random"]
    assert window.learning_plot.compared == ["oracle"]


def test_comparing_with_an_experiment_on_another_set_up_says_how_they_differ(experiments, qtbot, tmp_path):
    from alstudio.gui.main_window import MainWindow

    oracle, _ = experiments
    other = tmp_path / "stronger-bias"
    stronger = TOML.replace('bias = "correlation"', 'bias = "correlation"\nbias_strength = 0.7')
    (tmp_path / "other.toml").write_text(stronger)
    assert main(["run", str(tmp_path / "other.toml"), "--out", str(other)]) == 0
    window = MainWindow(Experiment.open(oracle).config, workers=1)
    qtbot.addWidget(window)
    window.open_experiment(oracle)
    window.compare_with(oracle)  # the same dataset: nothing to warn about
    assert "another set-up" not in window.learning_plot.compared_label.text()
    window.compare_with(other)
    warning = window.learning_plot.compared_label.text()
    assert "another set-up" in warning and "dataset.bias_strength 0.9 vs 0.7" in warning
    assert "dataset.bias_strength 0.9 vs 0.7" in window.statusBar().currentMessage()


def test_compared_experiments_are_named_by_what_sets_them_apart():
    from types import SimpleNamespace

    from engine_helpers import tiny_config

    from alstudio.engine.results import compared_curves, experiment_labels

    def experiment(**sections):
        return SimpleNamespace(config=tiny_config(**sections), flagged_to="oracle")

    same = [experiment(), experiment()]
    assert experiment_labels(same) == ["", ""]
    pair = [experiment(model={"init": "pretrained"}), experiment(training={"grad_lambda": 1.0})]
    assert experiment_labels(pair) == ["pretrained trunk, no GRAD", "scratch trunk, GRAD λ = 1"]
    # In a study, what most conditions share goes without saying.
    study = [experiment(), experiment(), experiment(training={"grad_lambda": 1.0}),
             experiment(model={"init": "pretrained"})]
    assert experiment_labels(study) == ["", "", "GRAD λ = 1", "pretrained trunk"]
    rows = [{"strategy": "bald", "seed": 0, "n_labeled": 8, "accuracy": 0.5}]
    assert list(compared_curves({"": rows, "scratch trunk": rows}, "accuracy")) == ["bald", "scratch trunk · bald"]

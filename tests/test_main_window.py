"""The workbench end to end, offscreen: set-up, runs, plots, labeling, errors, closing."""

import sqlite3

import pytest
from engine_helpers import tiny_config
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

pytestmark = pytest.mark.usefixtures("modal_dialogs_fail")


def run_to_end(qtbot, win, timeout=120_000):
    with qtbot.waitSignal(win.controller.done, timeout=timeout) as blocker:
        win.start()
    return blocker.args[0]


def test_every_control_has_a_stable_name(window):
    win = window()
    for name in ("startButton", "pauseButton", "stepButton", "stopButton", "learningCurvePlot", "parityPlot",
                 "acquisitionPlot", "queryGallery", "datasetPanel", "strategiesPanel", "trainingPanel",
                 "annotatorPanel", "runProgress", "stageLabel"):
        widget = win.findChild(object, name)
        assert widget is not None, name


def test_panels_change_the_config(window, qtbot):
    win = window()
    slider = win.dataset_panel.findChild(object, "biasStrengthSlider")
    slider.setValue(slider.maximum())
    assert win.config.dataset.bias_strength == pytest.approx(1.0)


def test_a_run_streams_every_cycle_into_the_plots(window, qtbot):
    win = window()
    assert run_to_end(qtbot, win) is True
    strategies = win.experiment.strategies
    assert "bald" in strategies
    for strategy in strategies:
        assert win.learning_plot.point_count(strategy) == 3
    assert len(win.rows) == 3 * len(strategies)
    assert win.start_action.isEnabled() and not win.stop_action.isEnabled()
    journal = win.experiment.runs()[0].journal_path
    with sqlite3.connect(journal) as db:
        assert db.execute("SELECT value FROM meta WHERE key='status'").fetchone() == ("finished",)


def test_an_opened_experiment_shows_its_plots(window, qtbot):
    first = window()
    run_to_end(qtbot, first)
    second = window()
    second.open_experiment(first.experiment.folder)
    assert len(second.rows) == len(first.rows)
    for strategy in first.experiment.strategies:
        assert second.learning_plot.point_count(strategy) == 3
    assert "finished" in second.statusBar().currentMessage()


def test_the_labeling_hints_carry_the_models_prediction(window, qtbot):
    win = window(tiny_config(annotator={"kind": "human"}, active={"cycles": 1}))
    win.start()
    qtbot.waitUntil(lambda: win.labeling_dialog is not None, timeout=60_000)
    requested = win.pending_labels.samples
    assert set(requested) <= set(win.predictions)
    assert all(text.split(" ")[0] in ("a", "d") for text in win.predictions.values())


def test_the_worker_sends_typed_payloads_never_dicts(window, qtbot):
    import dataclasses

    from alstudio.engine.loop import Failed
    from alstudio.engine.progress import ProgressReport
    from alstudio.gui.worker import CycleReport, LabelRequest, QueriedSample

    win = window(tiny_config(annotator={"kind": "human"}, active={"cycles": 1}))
    seen = {"progress": [], "cycle_result": [], "need_labels": [], "failed": []}
    for name, payloads in seen.items():
        getattr(win.controller, name).connect(payloads.append)
    win.start()
    qtbot.waitUntil(lambda: win.labeling_dialog is not None, timeout=60_000)
    for name, payloads in seen.items():
        for payload in payloads:
            assert dataclasses.is_dataclass(payload) and payload.__dataclass_params__.frozen, (name, payload)
    assert seen["progress"] and all(isinstance(p, ProgressReport) for p in seen["progress"])
    assert all(isinstance(p, Failed) for p in seen["failed"])
    result = seen["cycle_result"][-1]
    assert isinstance(result, CycleReport) and result.queried
    assert all(isinstance(q, QueriedSample) and isinstance(q.scores, tuple) and isinstance(q.probs, tuple)
               for q in result.queried)
    request = seen["need_labels"][-1]
    assert isinstance(request, LabelRequest) and set(request.samples) == {q.sample for q in result.queried}
    # Nothing string-keyed but the metrics.csv row (the table's record, as collect_rows reads it back).
    for payload in (*seen["progress"], result, *result.queried, request):
        for field in dataclasses.fields(payload):
            value = getattr(payload, field.name)
            assert field.name == "row" or not (isinstance(value, dict) and any(isinstance(k, str) for k in value))


def test_pause_resume_step_and_stop(window, qtbot):
    win = window(tiny_config(active={"cycles": 4}))
    with qtbot.waitSignal(win.cycle_shown, timeout=60_000):
        win.start()
    win.toggle_pause()
    qtbot.waitUntil(lambda: win.controller.paused, timeout=5_000)
    shown = len(win.rows)
    qtbot.wait(1500)
    assert len(win.rows) <= shown + 1  # at most the cycle already under way
    shown = len(win.rows)
    with qtbot.waitSignal(win.cycle_shown, timeout=60_000):
        win.step()
    qtbot.waitUntil(lambda: win.controller.paused, timeout=5_000)
    assert len(win.rows) == shown + 1
    win.toggle_pause()  # resume
    assert not win.controller.paused
    with qtbot.waitSignal(win.controller.done, timeout=60_000):
        win.stop()
    qtbot.waitUntil(lambda: not win.controller.running, timeout=5_000)  # the thread ends just after `done`


def test_human_labeling_through_the_dialog_lands_in_the_journal(window, qtbot):
    win = window(tiny_config(annotator={"kind": "human"}, active={"cycles": 1}))
    win.start()
    qtbot.waitUntil(lambda: win.labeling_dialog is not None, timeout=60_000)
    dialog = win.labeling_dialog
    assert dialog.objectName() == "labelingDialog"
    qtbot.keyClick(dialog, Qt.Key.Key_A)
    qtbot.keyClick(dialog, Qt.Key.Key_D)
    journal = win.experiment.runs()[0].journal_path

    def human_labels():
        with sqlite3.connect(journal) as db:
            return db.execute("SELECT sample, label FROM labels WHERE source='human'").fetchall()

    qtbot.waitUntil(lambda: len(human_labels()) == 2, timeout=10_000)
    qtbot.keyClick(dialog, Qt.Key.Key_Backspace)
    qtbot.waitUntil(lambda: len(human_labels()) == 1, timeout=10_000)
    # Postpone, then the app is closed: the answer survives and a reopened experiment asks only the rest.
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    win.controller.stop(wait=True)
    qtbot.waitUntil(lambda: not win.experiment.lock.held, timeout=10_000)  # a stopped run lets the folder go
    answered = {s for s, _ in human_labels()}
    second = window()
    second.open_experiment(win.experiment.folder)
    second.start()
    qtbot.waitUntil(lambda: second.labeling_dialog is not None, timeout=60_000)
    asked = {item.sample for item in second.labeling_dialog.items} if hasattr(second.labeling_dialog, "items") \
        else set(second.pending_labels.samples)
    assert asked and not (asked & answered)
    assert len(asked) == 4 - len(answered)


def test_an_error_in_the_worker_becomes_a_dialog_and_the_app_survives(window, qtbot, monkeypatch):
    from alstudio.engine.strategies import Bald

    def broken(self, ctx):
        raise RuntimeError("the scorer broke")

    monkeypatch.setattr(Bald, "scores", broken)
    win = window()
    run_to_end(qtbot, win)
    qtbot.waitUntil(lambda: getattr(win, "error_box", None) is not None, timeout=5_000)
    assert win.error_box.text() == "the scorer broke"
    assert "Traceback" in win.error_box.detailedText()
    assert win.isVisible() and win.start_action.isEnabled()


def test_closing_during_a_run_asks_stops_and_keeps_everything(window, qtbot, monkeypatch):
    win = window(tiny_config(active={"cycles": 4}))
    with qtbot.waitSignal(win.cycle_shown, timeout=60_000):
        win.start()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    win.close()
    assert win.isVisible() and win.controller.running
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    win.close()
    assert not win.controller.running
    journal = win.experiment.runs()[0].journal_path
    with sqlite3.connect(journal) as db:
        assert db.execute("SELECT value FROM meta WHERE key='status'").fetchone() == ("stopped",)
        assert db.execute("SELECT COUNT(*) FROM cycles").fetchone()[0] >= 1

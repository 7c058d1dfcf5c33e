"""The workbench's run controls as a user meets them: what may start work, the progress bar and its
stage line, read-only settings of an experiment, and saving and reopening a set-up."""

import pytest
from engine_helpers import tiny_config
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QLineEdit, QListWidget, QSpinBox, QWidget

from alstudio.engine import config as configs
from alstudio.engine.progress import ProgressReport

pytestmark = pytest.mark.usefixtures("modal_dialogs_fail")


def type_classes(qtbot, win, text):
    edit = win.dataset_panel.findChild(QLineEdit, "classesEdit")
    edit.selectAll()
    edit.del_()
    qtbot.keyClicks(edit, text)


def test_no_control_starts_work_while_the_set_up_is_wrong(window, qtbot):
    win = window()
    win.toggle_lecture_mode()  # the presenter's Right key steps too
    type_classes(qtbot, win, "a")
    assert "dataset.classes" in win.statusBar().currentMessage()
    for action in (win.start_action, win.step_action, win.right_action):
        assert not action.isEnabled(), action.objectName()
    win.step()  # the shortcut or a script calling it: refused all the same
    win.start()
    assert win.experiment is None and not win.controller.running
    assert "dataset.classes" in win.statusBar().currentMessage()
    type_classes(qtbot, win, "ad")
    for action in (win.start_action, win.step_action, win.right_action):
        assert action.isEnabled(), action.objectName()


def test_the_progress_bar_never_goes_back_and_the_stage_line_tells_the_truth(window, qtbot):
    win = window(tiny_config(active={"cycles": 3, "strategies": ["random", "bald"]}))
    values, texts = [], []
    win.progress_bar.valueChanged.connect(values.append)
    win.controller.progress.connect(lambda p: texts.append(win.stage_label.text()))
    with qtbot.waitSignal(win.controller.done, timeout=120_000):
        win.start()
    assert values == sorted(values) and values[-1] == win.progress_bar.maximum()
    assert len(set(values)) > 10  # it moved through the run, not only at the end
    assert any("left" in text for text in texts)  # an ETA once stages were timed
    assert win.stage_label.text() == "Finished"


def test_paused_stays_paused_and_shows_no_time_left(window, qtbot):
    win = window(tiny_config(active={"cycles": 4}, training={"epochs": 6}))
    with qtbot.waitSignal(win.cycle_shown, timeout=60_000):
        win.start()
    win.toggle_pause()
    qtbot.waitUntil(lambda: win.controller.paused, timeout=5_000)
    # The epoch under way when Pause was pressed still reports its end: it must not overwrite "Paused".
    win.controller.progress.emit(ProgressReport("bald seed 1", "training", 2, 6, 1, 0.4, 300.0))
    seen = [win.stage_label.text()]
    for _ in range(15):  # 1.5 s while nothing moves
        qtbot.wait(100)
        seen.append(win.stage_label.text())
    assert all(text.startswith("Paused") and "left" not in text for text in seen), seen
    win.stop()
    qtbot.waitUntil(lambda: not win.controller.running, timeout=60_000)


def test_no_time_left_is_shown_while_waiting_for_labels(window, qtbot):
    win = window(tiny_config(annotator={"kind": "human"}, active={"cycles": 1}))
    win.start()
    qtbot.waitUntil(lambda: win.labeling_dialog is not None, timeout=60_000)
    qtbot.wait(500)  # "waiting for labels" progress arrives every 50 ms
    assert "waiting for labels" in win.stage_label.text() and "left" not in win.stage_label.text()


def test_the_labeling_dialog_of_a_human_annotator_does_not_mention_an_llm(window, qtbot):
    win = window(tiny_config(annotator={"kind": "human"}, active={"cycles": 1}))
    win.start()
    qtbot.waitUntil(lambda: win.labeling_dialog is not None, timeout=60_000)
    title = win.labeling_dialog.windowTitle()
    assert "queried samples" in title and "LLM" not in title


def test_the_gallery_hides_class_and_group_of_samples_a_person_is_labeling(window, qtbot):
    win = window(tiny_config(annotator={"kind": "human"}, active={"cycles": 1}))
    win.start()
    qtbot.waitUntil(lambda: win.labeling_dialog is not None, timeout=60_000)
    tiles = [win.gallery.tiles.item(row) for row in range(win.gallery.tile_count())]
    assert len(tiles) == 4
    captions = " ".join(tile.text() + tile.toolTip() + str(tile.data(Qt.ItemDataRole.AccessibleTextRole))
                        for tile in tiles)
    assert "label pending" in captions
    groups = win.config.dataset.groups
    assert not any(f"· {g}" in captions or f"group <b>{g}" in captions or f"group {g}" in captions for g in groups)
    for key in (Qt.Key.Key_A, Qt.Key.Key_D, Qt.Key.Key_A, Qt.Key.Key_D):
        qtbot.keyClick(win.labeling_dialog, key)
    qtbot.keyClick(win.labeling_dialog, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.labeling_dialog is None, timeout=10_000)
    assert all("label pending" not in tile.text() for tile in tiles)
    assert any(f"· {g}" in tile.text() for tile in tiles for g in groups)


def test_an_experiments_settings_are_read_only_until_new_from_this_config(window, qtbot):
    win = window()
    epochs = win.training_panel.findChild(QSpinBox, "epochsSpin")
    with qtbot.waitSignal(win.cycle_shown, timeout=60_000):
        win.start()
    win.stop()
    qtbot.waitUntil(lambda: not win.controller.running, timeout=60_000)
    assert win.start_action.text() == "Resume"
    # Stopped: the panels still show what the journal runs with, and cannot be changed.
    assert not epochs.isEnabled() and epochs.value() == 2
    assert win.findChild(QWidget, "settingsLockedLabel").isVisible()
    folder = win.experiment.folder
    win.new_from_config_action.trigger()
    assert win.experiment is None and epochs.isEnabled() and epochs.value() == 2
    assert not win.findChild(QWidget, "settingsLockedLabel").isVisible()
    epochs.setValue(5)
    assert win.config.training.epochs == 5
    assert configs.load(folder / "experiment.toml").training.epochs == 2  # the stopped experiment kept its own


def test_a_saved_set_up_reopens_to_the_same_experiment(window, qtbot, tmp_path, monkeypatch):
    from test_panels import UNUSUAL

    data = {section: dict(values) for section, values in UNUSUAL.items()}
    data["dataset"]["pool_size"] = 2000  # room for four strategies' worth of cycles
    win = window(configs.validate(data))
    strategies = win.strategies_panel.findChild(QListWidget, "strategyList")
    for row in range(strategies.count()):
        item = strategies.item(row)
        if item.data(Qt.ItemDataRole.UserRole) == "bald":
            item.setCheckState(Qt.CheckState.Checked)  # a fourth strategy, ticked by hand
    win.strategies_panel.findChild(QSpinBox, "seedsSpin").setValue(3)
    assert win.config.active.run_strategies() == ["coreset", "margin", "entropy", "bald"]
    path = tmp_path / "set-up.toml"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), "TOML (*.toml)"))
    win.save_config_dialog()
    saved = configs.load(path)
    assert saved == win.config and saved.active.repetitions == 3
    reopened = window(saved)
    assert reopened.config == win.config
    assert reopened.strategies_panel.strategies() == win.strategies_panel.strategies()
    assert reopened.strategies_panel.seeds() == 3
    assert reopened.config_model.data() == win.config_model.data()  # what the panels wrote is what was saved


def test_a_config_naming_one_strategy_runs_only_that_one(window, qtbot):
    win = window(tiny_config(active={"strategy": "bald", "cycles": 1}))
    assert win.strategies_panel.strategies() == ["bald"]
    with qtbot.waitSignal(win.controller.done, timeout=120_000):
        win.start()
    assert win.experiment.strategies == ("bald",)
    assert {row["strategy"] for row in win.rows} == {"bald"}

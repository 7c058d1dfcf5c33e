import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QDialog, QLabel, QPushButton  # noqa: E402

from alstudio.gui.dialogs.labeling import LabelingDialog, LabelItem, LabelTile  # noqa: E402

SAMPLES = [40, 41, 42, 43, 44, 45]


def _items(answers=None, extra=None):
    rng = np.random.default_rng(0)
    answers, extra = answers or {}, extra or {}
    return [LabelItem(sample, rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), "red" if sample % 2 else "blue",
                      answer=answers.get(sample), **extra.get(sample, {}))
            for sample in SAMPLES]


def _dialog(qtbot, items=None, classes=("a", "d"), columns=3):
    dialog = LabelingDialog(items or _items(), list(classes), title="Label 6 queried samples — cycle 3",
                            columns=columns)
    qtbot.addWidget(dialog)
    dialog.show()
    record = {"answered": [], "retracted": [], "submitted": 0, "postponed": 0}
    dialog.answered.connect(lambda sample, label: record["answered"].append((sample, label)))
    dialog.retracted.connect(record["retracted"].append)
    dialog.submitted.connect(lambda: record.__setitem__("submitted", record["submitted"] + 1))
    dialog.postponed.connect(lambda: record.__setitem__("postponed", record["postponed"] + 1))
    return dialog, record


def _progress(dialog):
    return dialog.findChild(QLabel, "labelingProgress").text()


def _status(dialog):
    return dialog.findChild(QLabel, "labelingStatus").text()


def _tile(dialog, sample):
    return dialog.findChild(LabelTile, f"labelTile_{sample}")


def test_class_keys_label_the_framed_image_and_move_to_the_next_unanswered(qtbot):
    dialog, record = _dialog(qtbot)
    assert dialog.objectName() == "labelingDialog" and dialog.accessibleName() == "Labeling dialog"
    assert dialog.windowTitle() == "Label 6 queried samples — cycle 3"
    assert dialog.current_sample() == 40 and _progress(dialog) == "0 of 6 labeled"
    assert _tile(dialog, 40).badge.text() == "?"

    qtbot.keyClick(dialog, Qt.Key_D)
    qtbot.keyClick(dialog, Qt.Key_A)
    assert record["answered"] == [(40, 1), (41, 0)]
    assert dialog.answers() == {40: 1, 41: 0}
    assert dialog.current_sample() == 42
    assert _progress(dialog) == "2 of 6 labeled"
    assert _tile(dialog, 40).badge.text() == "d" and _tile(dialog, 40).answered
    assert "labeled d" in _tile(dialog, 40).accessibleName()
    assert not _tile(dialog, 42).answered


def test_focus_skips_answered_items_and_wraps_around(qtbot):
    dialog, record = _dialog(qtbot, _items({42: 0}))
    qtbot.keyClick(dialog, Qt.Key_Right)  # on 41
    qtbot.keyClick(dialog, Qt.Key_A)
    assert dialog.current_sample() == 43  # 42 was answered already
    for _ in range(3):
        qtbot.keyClick(dialog, Qt.Key_D)  # 43, 44, 45
    assert dialog.current_sample() == 40  # wrapped back to the one left


def test_arrows_move_the_focus_in_the_grid_and_stop_at_its_edges(qtbot):
    dialog, _ = _dialog(qtbot, columns=3)  # rows: 40 41 42 / 43 44 45
    qtbot.keyClick(dialog, Qt.Key_Left)
    assert dialog.current_sample() == 40
    qtbot.keyClick(dialog, Qt.Key_Right)
    qtbot.keyClick(dialog, Qt.Key_Down)
    assert dialog.current_sample() == 44
    qtbot.keyClick(dialog, Qt.Key_Down)
    assert dialog.current_sample() == 44
    qtbot.keyClick(dialog, Qt.Key_Right)
    qtbot.keyClick(dialog, Qt.Key_Up)
    assert dialog.current_sample() == 42
    assert _tile(dialog, 42).current and not _tile(dialog, 40).current


def test_clicking_an_image_selects_it_and_clicking_a_class_button_labels_it(qtbot):
    dialog, record = _dialog(qtbot)
    qtbot.mouseClick(_tile(dialog, 44), Qt.LeftButton)
    assert dialog.current_sample() == 44
    button = dialog.findChild(QPushButton, "classButton_1")
    assert button.text() == "d  [D]" and button.accessibleName() == "Label as d"
    qtbot.mouseClick(button, Qt.LeftButton)
    assert record["answered"] == [(44, 1)]
    assert dialog.current_sample() == 45


def test_backspace_undoes_the_last_answer_and_returns_to_it(qtbot):
    dialog, record = _dialog(qtbot)
    qtbot.keyClick(dialog, Qt.Key_A)
    qtbot.keyClick(dialog, Qt.Key_D)
    qtbot.keyClick(dialog, Qt.Key_Backspace)
    assert record["retracted"] == [41]
    assert dialog.answers() == {40: 0}
    assert dialog.current_sample() == 41 and _tile(dialog, 41).badge.text() == "?"
    assert _progress(dialog) == "1 of 6 labeled"
    qtbot.keyClick(dialog, Qt.Key_Backspace)
    qtbot.keyClick(dialog, Qt.Key_Backspace)  # nothing left to undo
    assert record["retracted"] == [41, 40]
    assert dialog.answers() == {}
    assert "Nothing to undo" in _status(dialog)


def test_changing_an_answer_retracts_the_old_one_and_undo_restores_it(qtbot):
    # The loop keeps the first answer it journalled for a sample, so a change must retract it first.
    dialog, record = _dialog(qtbot, _items({40: 0}))
    qtbot.keyClick(dialog, Qt.Key_Left)  # from 41 back to the answered 40
    qtbot.keyClick(dialog, Qt.Key_D)
    assert record["retracted"] == [40] and record["answered"] == [(40, 1)]
    qtbot.keyClick(dialog, Qt.Key_Backspace)
    assert record["retracted"] == [40, 40] and record["answered"] == [(40, 1), (40, 0)]
    assert dialog.answers() == {40: 0}


def test_enter_submits_only_when_every_image_is_labeled(qtbot):
    dialog, record = _dialog(qtbot)
    for key in (Qt.Key_A, Qt.Key_D, Qt.Key_A, Qt.Key_A):
        qtbot.keyClick(dialog, key)
    qtbot.keyClick(dialog, Qt.Key_Return)
    assert record["submitted"] == 0 and dialog.isVisible()
    assert "2 images left" in _status(dialog)
    assert not dialog.findChild(QPushButton, "submitButton").isEnabled()

    qtbot.keyClick(dialog, Qt.Key_D)
    qtbot.keyClick(dialog, Qt.Key_D)
    assert dialog.findChild(QPushButton, "submitButton").isEnabled()
    qtbot.keyClick(dialog, Qt.Key_Enter)
    assert record["submitted"] == 1 and record["postponed"] == 0
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    assert dialog.answers() == {40: 0, 41: 1, 42: 0, 43: 0, 44: 1, 45: 1}


def test_escape_postpones_and_keeps_the_answers(qtbot):
    dialog, record = _dialog(qtbot)
    qtbot.keyClick(dialog, Qt.Key_A)
    qtbot.keyClick(dialog, Qt.Key_Escape)
    assert record["postponed"] == 1 and record["submitted"] == 0
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.isVisible()
    assert dialog.answers() == {40: 0}


def test_items_answered_before_count_as_done_and_are_not_asked_again(qtbot):
    dialog, record = _dialog(qtbot, _items({40: 1, 41: 0, 43: 1}))
    assert _progress(dialog) == "3 of 6 labeled"
    assert dialog.current_sample() == 42
    assert _tile(dialog, 40).badge.text() == "d"
    for _ in range(3):
        qtbot.keyClick(dialog, Qt.Key_A)
    assert [sample for sample, _ in record["answered"]] == [42, 44, 45]
    qtbot.keyClick(dialog, Qt.Key_Return)
    assert record["submitted"] == 1
    assert dialog.answers() == {40: 1, 41: 0, 42: 0, 43: 1, 44: 0, 45: 0}


@pytest.mark.parametrize("classes", [["a", "A"], ["é", "ü"], ["?", "a"]])
def test_keys_fall_back_to_digits_when_classes_collide_or_cannot_be_typed(qtbot, classes):
    dialog, record = _dialog(qtbot, classes=classes)
    assert dialog.keys() == ["1", "2"]
    assert dialog.findChild(QPushButton, "classButton_0").text() == f"{classes[0]}  [1]"
    qtbot.keyClick(dialog, Qt.Key_A)  # not a key any more, even where "a" is a class
    assert record["answered"] == []
    qtbot.keyClick(dialog, Qt.Key_2)
    qtbot.keyClick(dialog, Qt.Key_1)
    assert record["answered"] == [(40, 1), (41, 0)]
    assert _tile(dialog, 40).badge.text() == classes[1]


def test_class_characters_are_keys_when_distinct(qtbot):
    dialog, record = _dialog(qtbot, classes=["x", "7", "b"])
    assert dialog.keys() == ["X", "7", "B"]
    qtbot.keyClick(dialog, Qt.Key_7)
    qtbot.keyClick(dialog, Qt.Key_1)  # no class "1"
    qtbot.keyClick(dialog, Qt.Key_B)
    assert record["answered"] == [(40, 1), (41, 2)]


def test_hints_are_off_by_default_and_the_checkbox_shows_group_and_prediction(qtbot):
    extra = {40: {"prediction": "d (0.83)"}, 41: {"votes": ("a", "d", "a")}}
    dialog, _ = _dialog(qtbot, _items(extra=extra))
    check = dialog.findChild(type(dialog.hints_check), "showHintsCheck")
    assert check.text() == "Show group and prediction" and not check.isChecked()
    first, second = _tile(dialog, 40), _tile(dialog, 41)
    assert not first.hints.isVisible() and not second.hints.isVisible()
    assert second.votes.isVisible() and "a · d · a" in second.votes.text()  # flagged: shown regardless
    assert not first.votes.isVisible()

    check.setChecked(True)
    assert first.hints.isVisible() and second.hints.isVisible()
    assert "blue" in first.hints.text() and "d (0.83)" in first.hints.text()
    assert "red" in second.hints.text() and "model" not in second.hints.text()
    check.setChecked(False)
    assert not first.hints.isVisible()

"""One config model behind the set-up panels: each edit writes its keys once and validates the whole
config once; the window's Start follows the model's error (issue 12, item 6)."""

import pytest

pytest.importorskip("pytestqt")

from engine_helpers import tiny_config  # noqa: E402
from PySide6.QtWidgets import QSpinBox  # noqa: E402

from alstudio.engine import config as configs  # noqa: E402
from alstudio.gui.config_model import ConfigModel  # noqa: E402

pytestmark = pytest.mark.usefixtures("modal_dialogs_fail")


@pytest.fixture
def validations(monkeypatch):
    """Every call of the engine's config validation, counted."""
    calls = []
    real = configs.validate

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(configs, "validate", counting)
    return calls


def test_an_edit_validates_once_and_a_bad_one_keeps_the_last_valid_config(qtbot, validations):
    first = tiny_config()
    model = ConfigModel(first)
    validations.clear()  # building the tiny config validated it
    with qtbot.waitSignal(model.changed) as edited:
        model.edit("training", epochs=5)
    assert edited.args == ["training"] and len(validations) == 1
    assert model.config.training.epochs == 5 and model.error is None

    model.edit("active", query_size=10_000)
    assert len(validations) == 2
    assert "active.query_size" in model.error
    assert model.value("active", "query_size") == 10_000  # shown as typed
    assert model.config.active.query_size == first.active.query_size  # the last valid set-up

    with qtbot.assertNotEmitted(model.changed):
        model.edit("active", query_size=10_000)  # nothing new: no validation either
    assert len(validations) == 2
    model.edit("active", query_size=4)
    assert model.error is None and model.config.active.query_size == 4


def test_loading_shows_a_config_as_it_is_without_validating_it(qtbot, validations):
    config = tiny_config(training={"epochs": 7})
    model = ConfigModel()
    validations.clear()
    model.edit("dataset", classes=["a"])
    assert model.error is not None
    with qtbot.waitSignal(model.loaded), qtbot.assertNotEmitted(model.changed):
        model.load(config)
    assert len(validations) == 1  # the edit's only
    assert model.config is config and model.error is None and model.data() == config.model_dump()
    model.data()["training"]["epochs"] = 1  # a copy: the model changes only through edit
    assert model.value("training", "epochs") == 7


def test_a_noisier_group_that_leaves_the_dataset_gives_way_to_the_last_group(validations):
    model = ConfigModel(tiny_config(dataset={"sensitive_attribute": "color", "groups": ["blue", "red", "green"]},
                                    annotator={"kind": "noisy", "error_group": "red"}))
    validations.clear()
    model.edit("dataset", groups=["blue", "green"])
    assert model.value("annotator", "error_group") == "green" and model.error is None
    assert len(validations) == 1
    model.edit("dataset", groups=["green", "blue"])  # still there: kept
    assert model.value("annotator", "error_group") == "green"


def test_one_spin_box_edit_in_the_window_validates_the_config_once(window, qtbot, validations):
    win = window()
    qtbot.wait(400)  # the dataset preview of the window's first config is asked for
    validations.clear()
    win.training_panel.findChild(QSpinBox, "epochsSpin").setValue(3)
    assert len(validations) == 1 and win.config.training.epochs == 3
    win.dataset_panel.findChild(QSpinBox, "poolSizeSpin").setValue(90)
    qtbot.wait(400)  # past the preview's delay: the preview reads the validated config, it validates nothing
    assert len(validations) == 2 and win.config.dataset.pool_size == 90


def test_start_follows_the_models_error(window, qtbot):
    win = window()
    win.strategies_panel.findChild(QSpinBox, "querySizeSpin").setValue(1000)
    assert win.config_model.error is not None and not win.can_start() and not win.start_action.isEnabled()
    assert "active.query_size" in win.statusBar().currentMessage()
    win.strategies_panel.findChild(QSpinBox, "querySizeSpin").setValue(4)
    assert win.config_model.error is None and win.can_start() and win.start_action.isEnabled()
    assert win.statusBar().currentMessage() == ""

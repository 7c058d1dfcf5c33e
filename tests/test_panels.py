import html
import threading
import time

import pytest

pytest.importorskip("pytestqt")

import shiboken6  # noqa: E402
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QRadioButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QWidget,
)

from alstudio.engine import config as configs  # noqa: E402
from alstudio.engine.data.attributes import BACKGROUNDS  # noqa: E402
from alstudio.engine.strategies import STRATEGIES  # noqa: E402
from alstudio.engine.training import device_description, pick_device  # noqa: E402
from alstudio.gui import preview_loader  # noqa: E402
from alstudio.gui.config_model import ConfigModel  # noqa: E402
from alstudio.gui.panels import AnnotatorPanel, DatasetPanel, StrategiesPanel, TrainingPanel  # noqa: E402
from alstudio.gui.preview_loader import PreviewLoader  # noqa: E402

# Every key some panel writes; the round-trip test blanks them so that a key a panel forgets fails.
PANEL_KEYS = {
    "dataset": ["classes", "sensitive_attribute", "groups", "bias", "bias_strength", "pool_size", "test_size", "seed"],
    "model": ["architecture", "init"],
    "training": ["epochs", "batch_size", "learning_rate", "optimizer", "reset_each_cycle", "grad_lambda", "device"],
    "active": ["strategy", "strategies", "repetitions", "initial_labels", "query_size", "cycles", "mc_samples"],
    "annotator": ["kind", "error_rate", "error_group", "error_group_rate", "base_url", "model", "api_key_env",
                  "samples", "few_shot", "few_shot_selection"],
}
# Far from the defaults in every panel-owned key, so the round trip cannot pass by leaving defaults alone.
UNUSUAL = {
    "dataset": {"classes": ["x", "7", "Q"], "sensitive_attribute": "font", "groups": ["Lato", "Caladea", "Manrope"],
                "bias": "correlation", "bias_strength": 0.63, "pool_size": 777, "test_size": 90, "seed": 4_000_000_000},
    "model": {"architecture": "resnet18", "init": "scratch"},
    "training": {"epochs": 3, "batch_size": 100, "learning_rate": 0.0003, "optimizer": "sgd",
                 "reset_each_cycle": False, "grad_lambda": 2.5, "device": "cpu"},
    "active": {"strategy": "margin", "strategies": ["coreset", "margin", "entropy"], "repetitions": 4,
               "initial_labels": 7, "query_size": 9, "cycles": 30, "mc_samples": 5},
    "annotator": {"kind": "noisy", "error_rate": 0.25, "error_group": "Manrope", "error_group_rate": 0.6,
                  "base_url": "http://127.0.0.1:8000/v1", "model": "qwen-vl", "api_key_env": "VLLM_KEY", "samples": 5,
                  "few_shot": 4, "few_shot_selection": "random"},
}
PANELS = (DatasetPanel, StrategiesPanel, TrainingPanel, AnnotatorPanel)
CONTROL_TYPES = (QComboBox, QSlider, QListWidget, QLineEdit, QSpinBox, QDoubleSpinBox, QCheckBox, QRadioButton,
                 QToolButton)


def _small(**dataset):
    values = {"pool_size": 200, "test_size": 40}
    values.update(dataset)
    return configs.validate({"dataset": values, "active": {"initial_labels": 4, "query_size": 4, "cycles": 2}})


def _panel(qtbot, cls, config=None):
    panel = cls(ConfigModel(config) if config is not None else None)
    qtbot.addWidget(panel)
    return panel


def _show_active(qtbot, panel) -> None:
    """Shortcuts and clicks need a laid-out, active window, as a user has."""
    with qtbot.waitActive(panel):
        panel.show()
        panel.activateWindow()


def _click_radio(qtbot, radio) -> None:
    """A click on the radio's circle: its hit area is the circle and the text, not the whole row."""
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(8, radio.height() // 2))


def _applied(panel) -> dict:
    """The set-up as the panel's edits left it in its model."""
    return panel.config_model.data()


def _checked(list_widget: QListWidget) -> list[str]:
    items = [list_widget.item(row) for row in range(list_widget.count())]
    return [item.data(Qt.ItemDataRole.UserRole) for item in items if item.checkState() == Qt.CheckState.Checked]


def _item(list_widget: QListWidget, value: str):
    for row in range(list_widget.count()):
        if list_widget.item(row).data(Qt.ItemDataRole.UserRole) == value:
            return list_widget.item(row)
    raise AssertionError(f"{value!r} is not offered")


def _image_bytes(panel) -> bytes:
    image = panel.findChild(QWidget, "datasetPreview").source().toImage()
    return bytes(image.constBits())


# ---- every panel ----------------------------------------------------------------------------------


def _shown(panels) -> dict:
    """Every panel-owned key as the panels' controls show it, read back from the controls alone."""
    def control(name):
        found = [panel.findChild(QWidget, name) for panel in panels]
        return next(widget for widget in found if widget is not None)

    def values(section, names):
        return {key: control(name).value() for key, name in names.items()}

    def choices(section, names):
        return {key: control(name).currentData() for key, name in names.items()}

    grad = control("gradLambdaSpin").value() if control("gradCheck").isChecked() else 0.0
    group = control("errorGroupBox").currentText() if control("errorGroupCheck").isChecked() else None
    return {
        "dataset": {**choices("dataset", {"bias": "biasBox", "sensitive_attribute": "attributeBox"}),
                    "bias_strength": control("biasStrengthSlider").value() / 100,
                    "groups": _checked(control("groupsList")),
                    "classes": [c for c in control("classesEdit").text() if not c.isspace()],
                    **values("dataset", {"pool_size": "poolSizeSpin", "test_size": "testSizeSpin"}),
                    "seed": int(control("datasetSeedSpin").value())},
        "model": choices("model", {"architecture": "architectureBox", "init": "initBox"}),
        "training": {**values("training", {"epochs": "epochsSpin", "batch_size": "batchSizeSpin",
                                           "learning_rate": "learningRateSpin"}),
                     **choices("training", {"optimizer": "optimizerBox", "device": "deviceBox"}),
                     "reset_each_cycle": control("resetEachCycleCheck").isChecked(), "grad_lambda": grad},
        "active": {"strategies": sorted(_checked(control("strategyList"))),
                   **values("active", {"repetitions": "seedsSpin", "initial_labels": "initialLabelsSpin",
                                       "query_size": "querySizeSpin", "cycles": "cyclesSpin",
                                       "mc_samples": "mcSamplesSpin"})},
        "annotator": {"kind": next(k for k in ("oracle", "noisy", "human", "llm")
                                   if control(f"{k}Radio").isChecked()),
                      **values("annotator", {"error_rate": "errorRateSpin", "error_group_rate": "errorGroupRateSpin",
                                             "samples": "llmSamplesSpin", "few_shot": "fewShotSpin"}),
                      "error_group": group, "base_url": control("endpointEdit").text(),
                      "model": control("modelEdit").text(), "api_key_env": control("apiKeyEnvEdit").text(),
                      "few_shot_selection": control("fewShotSelectionBox").currentData()},
    }


def _expected(config) -> dict:
    data = config.model_dump()
    shown = {section: {key: data[section][key] for key in keys} for section, keys in PANEL_KEYS.items()}
    shown["dataset"]["bias_strength"] = round(config.dataset.bias_strength, 2)  # the slider's steps
    del shown["active"]["strategy"]  # shown as the checked strategies, which are what runs
    shown["active"]["strategies"] = sorted(config.active.run_strategies())
    return shown


@pytest.mark.parametrize("source", configs.preset_names() + ["unusual"])
def test_every_panel_shows_the_models_config_without_an_edit(qtbot, source):
    config = configs.validate(UNUSUAL) if source == "unusual" else configs.load_preset(source)
    model = ConfigModel()
    panels = [cls(model) for cls in PANELS]
    for panel in panels:
        qtbot.addWidget(panel)
    with qtbot.assertNotEmitted(model.changed):
        model.load(config)
    assert _shown(panels) == _expected(config)
    assert model.data() == config.model_dump() and model.config == config and model.error is None


def _edit(qtbot, control) -> None:
    """Change one control as a user would, by one step, one key or one click."""
    if isinstance(control, (QSpinBox, QDoubleSpinBox)):
        control.stepBy(1 if control.value() < control.maximum() else -1)
    elif isinstance(control, QSlider):
        control.setValue(control.value() + (1 if control.value() < control.maximum() else -1))
    elif isinstance(control, QComboBox):
        control.setCurrentIndex((control.currentIndex() + 1) % control.count())
    elif isinstance(control, (QCheckBox, QRadioButton)):
        control.click()
    elif isinstance(control, QLineEdit):
        qtbot.keyClicks(control, "z")
    elif isinstance(control, QListWidget):
        item = next(control.item(row) for row in range(control.count())
                    if control.item(row).checkState() == Qt.CheckState.Unchecked)
        item.setCheckState(Qt.CheckState.Checked)
    elif isinstance(control, QToolButton):  # the group moves: the second group goes up, down or first
        control.parent().findChild(QListWidget, "groupsList").setCurrentRow(1)
        control.click()


@pytest.mark.parametrize("kind", ["noisy", "llm"])
def test_each_edit_of_any_control_writes_the_model_once_and_validates_once(qtbot, monkeypatch, kind):
    data = {section: dict(values) for section, values in UNUSUAL.items()}
    data["annotator"]["kind"] = kind  # its options are enabled: a user can edit them
    config = configs.validate(data)
    model = ConfigModel(config)
    panels = [cls(model) for cls in PANELS]
    for panel in panels:
        qtbot.addWidget(panel)
    real = configs.validate
    validations = []
    monkeypatch.setattr(configs, "validate", lambda *args, **kwargs: validations.append(1) or real(*args, **kwargs))
    edited = 0
    for panel in panels:
        for control in [c for kind_ in CONTROL_TYPES for c in panel.findChildren(kind_)]:
            model.load(config)  # every edit starts from the same set-up
            if not control.isEnabled() or control.objectName() == "apiKeyEdit":  # the key never enters a config
                continue
            if isinstance(control.parent(), (QSpinBox, QDoubleSpinBox)) or (
                    isinstance(control, QRadioButton) and control.isChecked()):
                continue  # a spin box's own editor; a chosen radio (a click leaves it chosen)
            before, signals, validations[:] = model.data(), [], []
            model.changed.connect(signals.append)
            _edit(qtbot, control)
            model.changed.disconnect(signals.append)
            name = control.objectName()
            assert model.data() != before, f"{name}: the edit did not reach the model"
            assert len(signals) == 1 and len(validations) == 1, (name, len(signals), len(validations))
            edited += 1
    assert edited >= 30


def test_every_control_is_named_described_and_has_an_accessible_name(qtbot):
    for cls in PANELS:
        panel = _panel(qtbot, cls)
        controls = [control for kind in CONTROL_TYPES for control in panel.findChildren(kind)
                    if not isinstance(control.parent(), (QSpinBox, QDoubleSpinBox))]  # a spin box's own editor
        assert len(controls) >= 4
        for control in controls:
            assert control.objectName() and control.accessibleName() and control.toolTip(), (cls.__name__, control)


# ---- dataset --------------------------------------------------------------------------------------


def test_bias_slider_edits_strength_and_is_off_without_bias(qtbot):
    panel = _panel(qtbot, DatasetPanel)
    slider = panel.findChild(QSlider, "biasStrengthSlider")
    with qtbot.waitSignal(panel.config_model.changed, timeout=1000):
        slider.setValue(80)
    assert _applied(panel)["dataset"]["bias_strength"] == 0.8
    assert panel.findChild(QWidget, "biasStrengthValue").text() == "0.80"
    qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert _applied(panel)["dataset"]["bias_strength"] == 0.81

    bias_box = panel.findChild(QComboBox, "biasBox")
    bias_box.setCurrentIndex(bias_box.findData("none"))
    assert _applied(panel)["dataset"]["bias"] == "none"
    assert not slider.isEnabled()


def test_switching_the_attribute_offers_its_values_with_two_checked(qtbot):
    panel = _panel(qtbot, DatasetPanel)
    attribute = panel.findChild(QComboBox, "attributeBox")
    groups = panel.findChild(QListWidget, "groupsList")
    with qtbot.waitSignal(panel.config_model.changed, timeout=1000):
        attribute.setCurrentIndex(attribute.findData("background"))
    offered = [groups.item(row).data(Qt.ItemDataRole.UserRole) for row in range(groups.count())]
    assert sorted(offered) == sorted(BACKGROUNDS)
    assert _checked(groups) == ["gradient", "camouflage"]
    data = _applied(panel)
    assert data["dataset"]["sensitive_attribute"] == "background"
    assert data["dataset"]["groups"] == ["gradient", "camouflage"]
    configs.validate(data)


def test_groups_keep_two_checked_and_any_can_be_made_the_majority(qtbot):
    panel = _panel(qtbot, DatasetPanel, _small())
    groups = panel.findChild(QListWidget, "groupsList")
    assert "majority" in _item(groups, "blue").text()

    _item(groups, "red").setCheckState(Qt.CheckState.Unchecked)
    assert _checked(groups) == ["blue", "red"]  # a bias needs two groups: the uncheck is refused

    _item(groups, "green").setCheckState(Qt.CheckState.Checked)
    assert _applied(panel)["dataset"]["groups"] == ["blue", "red", "green"]
    groups.setCurrentItem(_item(groups, "green"))
    with qtbot.waitSignal(panel.config_model.changed, timeout=1000):
        qtbot.mouseClick(panel.findChild(QToolButton, "groupFirstButton"), Qt.MouseButton.LeftButton)
    assert _applied(panel)["dataset"]["groups"] == ["green", "blue", "red"]
    assert "majority" in _item(groups, "green").text() and "majority" not in _item(groups, "blue").text()

    _show_active(qtbot, panel)
    groups.setFocus()
    groups.setCurrentItem(_item(groups, "red"))
    qtbot.keyClick(groups, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert _applied(panel)["dataset"]["groups"] == ["green", "red", "blue"]


def test_classes_are_typed_as_characters_and_cannot_repeat(qtbot):
    panel = _panel(qtbot, DatasetPanel)
    edit = panel.findChild(QLineEdit, "classesEdit")
    edit.clear()
    with qtbot.waitSignal(panel.config_model.changed, timeout=1000):
        qtbot.keyClicks(edit, "a d e")
    assert _applied(panel)["dataset"]["classes"] == ["a", "d", "e"]
    qtbot.keyClicks(edit, "a")  # a second "a" is refused by the field
    assert edit.text() == "a d e"


def test_sizes_and_seed_are_bounded_by_the_config(qtbot):
    panel = _panel(qtbot, DatasetPanel)
    pool = panel.findChild(QSpinBox, "poolSizeSpin")
    assert (pool.minimum(), pool.maximum()) == (10, 1_000_000)
    seed = panel.findChild(QDoubleSpinBox, "datasetSeedSpin")
    seed.setValue(2**32 - 1)
    pool.setValue(1234)
    data = _applied(panel)
    assert data["dataset"]["seed"] == 2**32 - 1 and data["dataset"]["pool_size"] == 1234


# ---- preview --------------------------------------------------------------------------------------


def test_preview_regenerates_off_the_gui_thread_after_an_edit(qtbot, monkeypatch):
    threads = []
    real = preview_loader.generate_dataset

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(preview_loader, "generate_dataset", recording)
    panel = _panel(qtbot, DatasetPanel)
    with qtbot.waitSignal(panel.loader.ready, timeout=10_000):
        panel.config_model.load(_small(bias_strength=0.9))
    first = _image_bytes(panel)
    assert threads and all(t is not threading.main_thread() for t in threads)

    with qtbot.waitSignal(panel.loader.ready, timeout=10_000):
        panel.findChild(QSlider, "biasStrengthSlider").setValue(50)
    assert _image_bytes(panel) != first
    assert "5,000" not in panel.findChild(QWidget, "previewStatus").text()  # the status names the pool: 200
    assert "200" in panel.findChild(QWidget, "previewStatus").text()


def test_preview_says_generating_while_busy(qtbot, monkeypatch):
    release = threading.Event()
    real = preview_loader.render_preview

    def slow(*args, **kwargs):
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(preview_loader, "render_preview", slow)
    panel = _panel(qtbot, DatasetPanel, _small())
    status = panel.findChild(QWidget, "previewStatus")
    qtbot.waitUntil(lambda: status.text() == "generating…", timeout=5000)
    with qtbot.waitSignal(panel.loader.ready, timeout=10_000):
        release.set()
    assert status.text() != "generating…"


def test_deleting_the_panel_mid_preview_cancels_the_render(qtbot, monkeypatch):
    real = preview_loader.render_preview

    def until_cancelled(config, cancel=None):
        cancel.wait(10)  # a render that only ends when it is cancelled
        return real(config, cancel)

    monkeypatch.setattr(preview_loader, "render_preview", until_cancelled)
    window = QMainWindow()
    panel = DatasetPanel()
    window.setCentralWidget(panel)
    panel.config_model.load(_small())
    qtbot.waitUntil(lambda: panel.loader.busy, timeout=5000)
    started = time.perf_counter()
    shiboken6.delete(window)  # deleted with its window, never closed: Qt would abort on a running thread
    assert time.perf_counter() - started < 5


def test_a_burst_of_edits_renders_once(qtbot):
    panel = _panel(qtbot, DatasetPanel)
    with qtbot.waitSignal(panel.loader.ready, timeout=10_000):
        panel.config_model.load(_small())
    before = panel.loader.latest_request
    slider = panel.findChild(QSlider, "biasStrengthSlider")
    with qtbot.waitSignal(panel.loader.ready, timeout=10_000):
        for value in (60, 70, 55):
            slider.setValue(value)
    assert panel.loader.latest_request == before + 1


def test_invalid_settings_keep_the_previous_preview(qtbot):
    panel = _panel(qtbot, DatasetPanel)
    with qtbot.waitSignal(panel.loader.ready, timeout=10_000):
        panel.config_model.load(_small())
    shown, requests = _image_bytes(panel), panel.loader.latest_request
    edit = panel.findChild(QLineEdit, "classesEdit")
    edit.clear()
    qtbot.keyClicks(edit, "a")  # one class is not a classification task
    status = panel.findChild(QWidget, "previewStatus")
    qtbot.waitUntil(lambda: status.text().startswith("Preview unchanged"), timeout=5000)
    assert "dataset.classes" in status.text()
    assert panel.loader.latest_request == requests and _image_bytes(panel) == shown


def test_loader_delivers_only_the_newest_request(qtbot):
    loader = PreviewLoader()
    delivered = []
    loader.ready.connect(lambda request, image: delivered.append((request, image)))
    older = [loader.request(_small(bias_strength=s).dataset) for s in (0.6, 0.7)]
    newest_config = _small(sensitive_attribute="background", bias="none").dataset
    with qtbot.waitSignal(loader.ready, timeout=10_000):
        newest = loader.request(newest_config)
    qtbot.waitUntil(lambda: not loader.busy, timeout=10_000)
    loader.stop()
    assert [request for request, _ in delivered] == [newest] and newest not in older
    expected = preview_loader.render_preview(newest_config)
    assert delivered[0][1].tobytes() == expected.tobytes()


# ---- strategies -----------------------------------------------------------------------------------


def test_strategies_are_exactly_the_configs(qtbot):
    # A config naming one strategy runs that one only (Random was ticked as well, so two runs happened).
    panel = _panel(qtbot, StrategiesPanel, configs.validate({"active": {"strategy": "margin"}}))
    strategies = panel.findChild(QListWidget, "strategyList")
    assert strategies.count() == len(STRATEGIES)
    assert _checked(strategies) == ["margin"] == panel.strategies()
    assert {strategies.item(row).data(Qt.ItemDataRole.UserRole) for row in range(strategies.count())} == set(STRATEGIES)
    for row in range(strategies.count()):  # the tooltip: the config's name and the registry's description
        name = strategies.item(row).data(Qt.ItemDataRole.UserRole)
        assert f"<b>{name}</b>" in strategies.item(row).toolTip()
        assert html.escape(STRATEGIES[name].description) in strategies.item(row).toolTip()
    # A config listing several runs them in its own order, each as often as it says.
    listing = configs.validate({"active": {"strategies": ["bald", "random", "coreset"], "repetitions": 3}})
    panel.config_model.load(listing)
    assert panel.strategies() == ["bald", "random", "coreset"] and panel.seeds() == 3
    assert panel.findChild(QWidget, "runsLabel").text().endswith("= 9 runs")


def test_unchecking_a_strategy_removes_it_but_one_always_stays(qtbot):
    panel = _panel(qtbot, StrategiesPanel, configs.validate({"active": {"strategies": ["random", "bald"]}}))
    strategies = panel.findChild(QListWidget, "strategyList")
    with qtbot.waitSignal(panel.config_model.changed, timeout=1000):
        _item(strategies, "bald").setCheckState(Qt.CheckState.Unchecked)
    assert panel.strategies() == ["random"]
    assert _applied(panel)["active"]["strategy"] == "random"
    _item(strategies, "random").setCheckState(Qt.CheckState.Unchecked)
    assert panel.strategies() == ["random"]

    _item(strategies, "entropy").setCheckState(Qt.CheckState.Checked)
    panel.findChild(QSpinBox, "seedsSpin").setValue(3)
    assert panel.strategies() == ["random", "entropy"] and panel.seeds() == 3
    assert panel.findChild(QWidget, "runsLabel").text().endswith("= 6 runs")


def test_grad_off_writes_zero_and_on_restores_lambda(qtbot):
    panel = _panel(qtbot, StrategiesPanel, configs.validate({"training": {"grad_lambda": 2.0}}))
    grad, weight = panel.findChild(QCheckBox, "gradCheck"), panel.findChild(QDoubleSpinBox, "gradLambdaSpin")
    assert grad.isChecked() and weight.isEnabled()
    with qtbot.waitSignal(panel.config_model.changed, timeout=1000):
        grad.setChecked(False)
    assert _applied(panel)["training"]["grad_lambda"] == 0.0 and not weight.isEnabled()
    grad.setChecked(True)
    assert _applied(panel)["training"]["grad_lambda"] == 2.0 and weight.isEnabled()


def test_loop_settings_are_written_to_active(qtbot):
    panel = _panel(qtbot, StrategiesPanel)
    for name, value in (("initialLabelsSpin", 30), ("querySizeSpin", 15), ("cyclesSpin", 4), ("mcSamplesSpin", 8)):
        with qtbot.waitSignal(panel.config_model.changed, timeout=1000):
            panel.findChild(QSpinBox, name).setValue(value)
    active = _applied(panel)["active"]
    assert (active["initial_labels"], active["query_size"], active["cycles"], active["mc_samples"]) == (30, 15, 4, 8)
    assert "90 labels" in panel.findChild(QWidget, "labelBudget").text()


# ---- training -------------------------------------------------------------------------------------


def test_training_controls_write_their_keys(qtbot):
    panel = _panel(qtbot, TrainingPanel, configs.ExperimentConfig())
    rate = panel.findChild(QDoubleSpinBox, "learningRateSpin")
    with qtbot.waitSignal(panel.config_model.changed, timeout=1000):
        rate.stepUp()  # 0.001 -> 0.003: arrows walk the usual learning rates
    optimizer = panel.findChild(QComboBox, "optimizerBox")
    optimizer.setCurrentIndex(optimizer.findData("sgd"))
    panel.findChild(QCheckBox, "resetEachCycleCheck").setChecked(False)
    panel.findChild(QSpinBox, "epochsSpin").setValue(7)
    data = _applied(panel)
    assert data["training"]["learning_rate"] == pytest.approx(0.003)
    assert (data["training"]["optimizer"], data["training"]["reset_each_cycle"], data["training"]["epochs"]) == (
        "sgd", False, 7)
    rate.stepDown()
    rate.stepDown()
    assert _applied(panel)["training"]["learning_rate"] == pytest.approx(0.0003)


def test_device_shows_what_was_detected_and_disables_what_is_missing(qtbot):
    panel = _panel(qtbot, TrainingPanel)
    label = panel.findChild(QWidget, "deviceLabel")
    assert label.text() == f"Detected: {device_description(pick_device('auto'))}"
    box = panel.findChild(QComboBox, "deviceBox")
    cuda = box.model().item(box.findData("cuda"))
    assert cuda.isEnabled() == (pick_device("auto").type == "cuda")
    box.setCurrentIndex(box.findData("cpu"))
    assert _applied(panel)["training"]["device"] == "cpu"


# ---- annotator ------------------------------------------------------------------------------------


def test_choosing_noisy_writes_kind_and_error_rates(qtbot):
    panel = _panel(qtbot, AnnotatorPanel, _small())
    _show_active(qtbot, panel)
    rate = panel.findChild(QDoubleSpinBox, "errorRateSpin")
    assert not rate.isEnabled()  # the oracle has no error rate
    with qtbot.waitSignal(panel.config_model.changed, timeout=1000):
        _click_radio(qtbot, panel.findChild(QRadioButton, "noisyRadio"))
    assert rate.isEnabled()
    rate.setValue(0.25)
    applied = _applied(panel)["annotator"]
    assert {key: applied[key] for key in ("kind", "error_rate", "error_group", "error_group_rate")} == {
        "kind": "noisy", "error_rate": 0.25, "error_group": None, "error_group_rate": 0.3}
    panel.findChild(QCheckBox, "errorGroupCheck").setChecked(True)
    panel.findChild(QDoubleSpinBox, "errorGroupRateSpin").setValue(0.5)
    data = _applied(panel)
    assert (data["annotator"]["error_group"], data["annotator"]["error_group_rate"]) == ("red", 0.5)
    configs.validate(data)

    panel.config_model.edit("dataset", groups=["blue", "green"])  # red left the dataset: the noisier group follows
    assert panel.findChild(QComboBox, "errorGroupBox").currentText() == "green"
    assert _applied(panel)["annotator"]["error_group"] == "green" and panel.config_model.error is None
    _click_radio(qtbot, panel.findChild(QRadioButton, "humanRadio"))
    assert _applied(panel)["annotator"]["kind"] == "human" and not rate.isEnabled()


def test_llm_demonstrations_are_set_in_the_panel(qtbot):
    panel = _panel(qtbot, AnnotatorPanel, _small())
    _show_active(qtbot, panel)
    _click_radio(qtbot, panel.findChild(QRadioButton, "llmRadio"))
    shots = panel.findChild(QSpinBox, "fewShotSpin")
    chosen = panel.findChild(QComboBox, "fewShotSelectionBox")
    assert shots.text() == "none (zero-shot)" and not chosen.isEnabled()
    with qtbot.waitSignal(panel.config_model.changed, timeout=1000):
        shots.setValue(3)
    assert chosen.isEnabled()
    chosen.setCurrentIndex(chosen.findData("random"))
    applied = _applied(panel)["annotator"]
    assert (applied["kind"], applied["few_shot"], applied["few_shot_selection"]) == ("llm", 3, "random")


@pytest.mark.parametrize("bias", ["minority", "correlation"])
def test_the_strength_note_says_when_the_bias_does_nothing(qtbot, bias):
    panel = _panel(qtbot, DatasetPanel, configs.validate({"dataset": {"bias": bias, "bias_strength": 0.5}}))
    note = panel.findChild(QWidget, "biasHint").text()
    assert "no correlation" in note if bias == "correlation" else "no group is a minority" in note
    assert "mostly" not in note and "%" not in note
    panel.findChild(QSlider, "biasStrengthSlider").setValue(90)
    assert "90%" in panel.findChild(QWidget, "biasHint").text()


def test_a_locked_panel_stays_locked_and_unlocks_to_what_the_set_up_enables(qtbot):
    panel = _panel(qtbot, AnnotatorPanel, _small())
    rate = panel.findChild(QDoubleSpinBox, "errorRateSpin")
    chosen = panel.findChild(QComboBox, "fewShotSelectionBox")
    assert not rate.isEnabled() and not chosen.isEnabled()  # the oracle has neither
    panel.set_editable(False)
    llm = configs.validate({"annotator": {"kind": "llm", "few_shot": 3}})
    panel.config_model.load(llm)  # another experiment opened while the settings are read-only
    assert not chosen.isEnabled()
    panel.set_editable(True)
    assert chosen.isEnabled()
    panel.findChild(QRadioButton, "noisyRadio").setChecked(True)
    assert rate.isEnabled()  # greyed by its group before the lock, it follows the group again

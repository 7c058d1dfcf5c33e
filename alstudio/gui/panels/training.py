"""Training: the model, how it is fitted each cycle, and on which device."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QVBoxLayout, QWidget

from ...engine.config import TrainingConfig
from ...engine.training import available_devices, device_description, pick_device
from ..config_model import ConfigModel
from . import SetupPanel, describe, field_bounds, form_layout, int_spin

ARCHITECTURES = {"cnn": "Small CNN", "resnet18": "ResNet-18 (for small images)"}
INITS = {"pretrained": "Pretrained on other characters", "self_supervised": "Self-supervised on this pool",
         "scratch": "From scratch (random weights)"}
OPTIMIZERS = {"adam": "Adam", "sgd": "SGD with momentum"}
DEVICES = {
    "auto": "Automatic",
    "cpu": "CPU",
    "cuda": "CUDA (NVIDIA GPU)",
    "mps": "Apple MPS",
}


def device_available(kind: str) -> bool:
    return kind == "auto" or kind in available_devices()


class LearningRateSpin(QDoubleSpinBox):
    """A learning rate: arrows step through 1, 3, 10, 30… x 10^k (the values people try), any value
    in range may be typed, and values show compactly (0.0003, 1e-05)."""

    LADDER = tuple(m * 10.0**e for e in range(-7, 2) for m in (1, 3))

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        low, high, low_open, _ = field_bounds(TrainingConfig, "learning_rate")
        self.setDecimals(10)  # Qt rounds values to this many decimals; a learning rate needs many
        self.setRange(1e-8 if low_open else low, high)
        self.setKeyboardTracking(False)
        self.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.setMinimumWidth(90)

    def stepBy(self, steps: int) -> None:
        value = self.value()
        if steps > 0:
            higher = [x for x in self.LADDER if x > value * (1 + 1e-9) and x <= self.maximum()]
            target = higher[min(steps, len(higher)) - 1] if higher else self.maximum()
        else:
            lower = [x for x in self.LADDER if x < value * (1 - 1e-9) and x >= self.minimum()]
            target = lower[max(len(lower) + steps, 0)] if lower else self.minimum()
        self.setValue(target)

    def textFromValue(self, value: float) -> str:
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:
        return float(text)

    def validate(self, text: str, pos: int):
        try:
            value = float(text)
        except ValueError:
            return QValidator.State.Intermediate  # e.g. "1e-" on the way to "1e-4"
        if math.isfinite(value) and self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable
        return QValidator.State.Intermediate

    def fixup(self, text: str) -> str:
        return self.textFromValue(self.value())


class TrainingPanel(SetupPanel):
    """model.architecture and .init, training.* (epochs, batch size, learning rate, optimizer, reset, device)."""

    def __init__(self, config_model: ConfigModel | None = None, parent: QWidget | None = None):
        super().__init__("trainingPanel", "Training", config_model, parent)

        self.architecture_box = describe(_combo(ARCHITECTURES), "architectureBox", "Architecture",
                                         "The trunk under the MC-dropout head")
        self.init_box = describe(_combo(INITS), "initBox", "Trunk weights",
                                 "Pretrained: the trunk starts from weights learned on characters that are not "
                                 "this experiment's classes (built once and cached: about half a minute for the "
                                 "small CNN on a laptop CPU), as the fairness paper started from ImageNet. "
                                 "Self-supervised: learned without labels, by telling how far this pool's own "
                                 "images were rotated. From scratch: random weights, which learn little from "
                                 "tens of labels")
        self.epochs_spin = describe(int_spin(TrainingConfig, "epochs"), "epochsSpin", "Epochs",
                                    "Passes over the labeled set in every cycle")
        self.batch_spin = describe(int_spin(TrainingConfig, "batch_size"), "batchSizeSpin", "Batch size",
                                   "Labeled images per gradient step; small batches suit the few labels of "
                                   "early cycles")
        self.learning_rate_spin = describe(LearningRateSpin(), "learningRateSpin", "Learning rate",
                                           "Arrow keys step through 0.0001, 0.0003, 0.001, 0.003…; any value "
                                           "above 0 and up to 10 can be typed")
        self.optimizer_box = describe(_combo(OPTIMIZERS), "optimizerBox", "Optimizer",
                                      "Adam adapts a step size per weight; SGD uses training.momentum (0.9 by default)")
        self.reset_check = describe(QCheckBox("&Fresh model every cycle"), "resetEachCycleCheck",
                                    "Fresh model every cycle",
                                    "On: each cycle trains a new model, from the pretrained trunk (or random "
                                    "weights) and a new head. Off: each cycle "
                                    "continues from the previous cycle's model (warm start)")

        self.device_box = describe(_combo(DEVICES), "deviceBox", "Device",
                                   "Where training runs; Automatic picks CUDA, then Apple MPS, then the CPU")
        detected = pick_device("auto")
        for row, kind in enumerate(DEVICES):
            if kind in ("cuda", "mps") and not device_available(kind):
                item = self.device_box.model().item(row)
                item.setEnabled(False)
                item.setToolTip("Not available on this machine")
        self.device_label = describe(QLabel(f"Detected: {device_description(detected)}"), "deviceLabel",
                                     "Detected device", "What Automatic uses on this machine")
        self.device_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # Each control writes its own key; a box's item data and a spin's value are the config's values.
        # One slot reads the sender: a lambda or partial per control would keep the panel alive through it.
        self._keys = {self.architecture_box: ("model", "architecture"), self.init_box: ("model", "init"),
                      self.optimizer_box: ("training", "optimizer"), self.device_box: ("training", "device"),
                      self.epochs_spin: ("training", "epochs"), self.batch_spin: ("training", "batch_size"),
                      self.learning_rate_spin: ("training", "learning_rate"),
                      self.reset_check: ("training", "reset_each_cycle")}
        for box in (self.architecture_box, self.init_box, self.optimizer_box, self.device_box):
            box.currentIndexChanged.connect(self._on_edit)
        for spin in (self.epochs_spin, self.batch_spin, self.learning_rate_spin):
            spin.valueChanged.connect(self._on_edit)
        self.reset_check.toggled.connect(self._on_edit)

        form = form_layout()
        form.addRow("Architect&ure:", self.architecture_box)
        form.addRow("Trunk &weights:", self.init_box)
        form.addRow("Epochs:", self.epochs_spin)
        form.addRow("Batch si&ze:", self.batch_spin)
        form.addRow("&Learning rate:", self.learning_rate_spin)
        form.addRow("Optimizer:", self.optimizer_box)
        form.addRow("", self.reset_check)
        form.addRow("De&vice:", self.device_box)
        form.addRow("", self.device_label)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)

        self._bind()

    def _show(self) -> None:
        read = self._read
        self.architecture_box.setCurrentIndex(self.architecture_box.findData(read("model", "architecture")))
        self.init_box.setCurrentIndex(self.init_box.findData(read("model", "init")))
        self.epochs_spin.setValue(read("training", "epochs"))
        self.batch_spin.setValue(read("training", "batch_size"))
        self.learning_rate_spin.setValue(read("training", "learning_rate"))
        self.optimizer_box.setCurrentIndex(self.optimizer_box.findData(read("training", "optimizer")))
        self.reset_check.setChecked(read("training", "reset_each_cycle"))
        self.device_box.setCurrentIndex(self.device_box.findData(read("training", "device")))

    def _on_edit(self) -> None:
        control = self.sender()
        section, key = self._keys[control]
        if isinstance(control, QComboBox):
            value = control.currentData()
        elif isinstance(control, QCheckBox):
            value = control.isChecked()
        else:
            value = control.value()
        self._write(section, **{key: value})


def _combo(choices: dict[str, str]) -> QComboBox:
    box = QComboBox()
    for value, text in choices.items():
        box.addItem(text, value)
    return box


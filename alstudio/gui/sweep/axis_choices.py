"""The New sweep dialog's tickable axes: the strategies every cell compares, and a few config keys with
values worth comparing (the current set-up's value among them, ticked)."""

from __future__ import annotations

import html
import typing
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QGroupBox, QHBoxLayout, QWidget

from ...engine import config as configs
from ...engine.strategies import STRATEGIES
from ..panels import describe
from ..panels.training import INITS
from .plan import axis_text, grid_value


@dataclass(frozen=True)
class AxisOffer:
    key: str
    title: str
    tooltip: str
    values: tuple
    current: object  # the set-up's own value, ticked when the axis is

    def label(self, value) -> str:
        return value.replace("_", "-") if isinstance(value, str) else grid_value(value).removesuffix(".0")


def offered_axes(config: configs.ExperimentConfig) -> tuple[AxisOffer, ...]:
    strength, grad = config.dataset.bias_strength, config.training.grad_lambda
    inits = typing.get_args(configs.ModelConfig.model_fields["init"].annotation)
    return (
        AxisOffer("dataset.bias_strength", "Bias strength", "How biased the pool is (minority: the first group's "
                  "share; correlation: how often a class comes in its paired group)",
                  tuple(sorted({0.6, 0.7, 0.8, 0.9, 0.95, strength})), strength),
        AxisOffer("training.grad_lambda", "GRAD lambda", "Weight of the adversarial debiasing head's reversed "
                  "gradient; 0 is no GRAD", tuple(sorted({0.0, 0.1, 1.0, 10.0, grad})), grad),
        AxisOffer("model.init", "Trunk weights", " ".join(f"{name}: {text}." for name, text in INITS.items()),
                  tuple(inits), config.model.init),
    )


class AxisBox(QGroupBox):
    """One offered axis: tick the box to vary the key, then the values to run."""

    changed = Signal()

    def __init__(self, offer: AxisOffer, parent: QWidget | None = None):
        super().__init__(f"{offer.title} ({offer.key})", parent)
        self.offer = offer
        name = offer.key.replace(".", "_")
        describe(self, f"axis_{name}", f"Vary {offer.title}", f"{offer.tooltip}. Tick to make {offer.key} an "
                 "axis of the grid; each ticked value gives its own cells")
        self.setCheckable(True)
        self.setChecked(False)
        row = QHBoxLayout(self)
        self.boxes: list[tuple[object, QCheckBox]] = []
        for value in offer.values:
            label = offer.label(value) + (" (current)" if value == offer.current else "")
            box = describe(QCheckBox(label), f"axis_{name}_{offer.label(value)}", f"{offer.title} {offer.label(value)}")
            box.setChecked(value == offer.current)
            box.toggled.connect(self.changed)
            row.addWidget(box)
            self.boxes.append((value, box))
        row.addStretch(1)
        self.toggled.connect(self.changed)

    def ticked(self) -> list:
        return [value for value, box in self.boxes if box.isChecked()]

    def tick(self, values) -> None:
        """Vary this axis over `values` (for scripts and tests)."""
        self.setChecked(True)
        for value, box in self.boxes:
            box.setChecked(value in values)

    def grid_part(self) -> str | None:
        """Its --grid text, "" when not varied, None when varied with no value ticked."""
        if not self.isChecked():
            return ""
        values = self.ticked()
        return axis_text(self.offer.key, values) if values else None


class StrategyBox(QGroupBox):
    """Every registered strategy; the ticked ones are the strategies every cell compares."""

    changed = Signal()
    COLUMNS = 2  # the longest titles run to about 60 characters

    def __init__(self, ticked: list[str], parent: QWidget | None = None):
        super().__init__("Strategies every cell compares (active.strategy)", parent)
        describe(self, "sweepStrategies", "Strategies compared", "Each cell runs every ticked strategy, seed by seed")
        grid = QGridLayout(self)
        self.boxes: dict[str, QCheckBox] = {}
        for number, (name, strategy) in enumerate(STRATEGIES.items()):
            box = describe(QCheckBox(strategy.title), f"strategy_{name}", strategy.title,
                           f"<p><b>{name}</b>: {html.escape(strategy.description)}</p>")
            box.setChecked(name in ticked)
            box.toggled.connect(self.changed)
            grid.addWidget(box, number // self.COLUMNS, number % self.COLUMNS)
            self.boxes[name] = box

    def ticked(self) -> list[str]:
        return [name for name, box in self.boxes.items() if box.isChecked()]

    def tick(self, names) -> None:
        for name, box in self.boxes.items():
            box.setChecked(name in names)

"""The experiment set-up panels, each a QWidget meant to sit in a QDockWidget.

Every panel reads from and writes to one ConfigModel (`config_model`, shared by the window's panels):
it shows the model's values when a config is loaded, writes the keys of each user edit to the model
(which validates once), and refreshes what it derives from the model whenever it changes. The
helpers here keep the panels' controls alike: named, described, and bounded by the config's own
Field constraints, so that most invalid values cannot be typed at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import annotated_types
from pydantic import BaseModel
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QSpinBox,
    QWidget,
)

from ..config_model import ConfigModel

_QT_INT_MAX = 2**31 - 1


class SetupPanel(QWidget):
    """Base of the set-up panels. A subclass builds its controls, then calls `_bind()`; it implements
    `_show()` (every control from the model) and may implement `_refresh(section)` (what it derives
    from the model: summaries, notes, enabled states). Without a model it makes its own, on the defaults."""

    def __init__(self, object_name: str, accessible_name: str, config_model: ConfigModel | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAccessibleName(accessible_name)
        self.config_model = config_model if config_model is not None else ConfigModel(parent=self)
        self._showing = False
        self._locked: dict[QWidget, bool] = {}

    def _bind(self) -> None:
        self.config_model.loaded.connect(self._on_loaded)
        self.config_model.changed.connect(self._refresh)
        self._on_loaded()

    def _on_loaded(self) -> None:
        with self._showing_config():
            self._show()
        self._refresh("")

    def _show(self) -> None:
        raise NotImplementedError

    def _refresh(self, section: str) -> None:
        """After a load ("") or an edit of `section`: bring derived text and states up to date."""

    @contextmanager
    def _showing_config(self) -> Iterator[None]:
        # Control signals fired while the panel shows the model are not user edits.
        showing, self._showing = self._showing, True
        try:
            yield
        finally:
            self._showing = showing

    def _read(self, section: str, key: str):
        return self.config_model.value(section, key)

    def _write(self, section: str, **values) -> None:
        """A user edit: these keys go to the model in one edit (one validation)."""
        if not self._showing:
            self.config_model.edit(section, **values)

    def set_editable(self, editable: bool) -> None:
        """Lock the inputs during a run but keep pictures and text readable (a disabled panel greys out);
        unlocking restores each input's own enabled state."""
        if not editable and not self._locked:
            inputs = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit, QListWidget)
            # Its own state, not isEnabled(): an input greyed by its disabled group box must follow the box
            # again after unlocking, not stay disabled for good.
            self._locked = {c: not c.testAttribute(Qt.WidgetAttribute.WA_ForceDisabled)
                            for c in self.findChildren(QWidget) if isinstance(c, inputs)}
            for control in self._locked:
                control.setEnabled(False)
        elif editable and self._locked:
            for control, enabled in self._locked.items():
                control.setEnabled(enabled)
            self._locked = {}

    def _enable(self, widget: QWidget, enabled: bool) -> None:
        """Enable or disable an input as the set-up asks; while the panel is locked, once it is unlocked."""
        if widget in self._locked:
            self._locked[widget] = enabled
        else:
            widget.setEnabled(enabled)


def describe(widget, object_name: str, accessible_name: str, tooltip: str = ""):
    """Give a control its stable objectName, its accessible name and, when useful, a tooltip."""
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible_name)
    if tooltip:
        widget.setToolTip(tooltip)
    return widget


def field_bounds(section: type[BaseModel], name: str) -> tuple[float | None, float | None, bool, bool]:
    """(low, high, low_is_open, high_is_open) of a config field, read from its pydantic constraints."""
    low = high = None
    low_open = high_open = False
    for rule in section.model_fields[name].metadata:
        if isinstance(rule, annotated_types.Ge):
            low = rule.ge
        elif isinstance(rule, annotated_types.Gt):
            low, low_open = rule.gt, True
        elif isinstance(rule, annotated_types.Le):
            high = rule.le
        elif isinstance(rule, annotated_types.Lt):
            high, high_open = rule.lt, True
    return low, high, low_open, high_open


def int_spin(section: type[BaseModel], name: str, maximum: int | None = None) -> QSpinBox:
    """A spin box bounded by the field's range; `maximum` caps fields that have no upper bound."""
    low, high, low_open, high_open = field_bounds(section, name)
    spin = QSpinBox()
    spin.setRange(int(low) + low_open if low is not None else 0,
                  min(int(high) - high_open if high is not None else maximum or _QT_INT_MAX, _QT_INT_MAX))
    _common_spin_setup(spin)
    return spin


def float_spin(section: type[BaseModel], name: str, decimals: int, step: float) -> QDoubleSpinBox:
    low, high, low_open, high_open = field_bounds(section, name)
    tick = 10.0 ** -decimals  # an open bound becomes the nearest value the box can show
    spin = QDoubleSpinBox()
    spin.setDecimals(decimals)
    minimum = (low or 0.0) + (tick if low_open else 0.0)
    maximum = (high if high is not None else 1e9) - (tick if high_open else 0.0)
    spin.setRange(minimum, maximum)
    spin.setSingleStep(step)
    _common_spin_setup(spin)
    return spin


def _common_spin_setup(spin) -> None:
    # Report a value once it is typed (Enter, Tab, arrows), not at every keystroke: "5000" would
    # otherwise pass through 5, 50 and 500, each a config the window would complain about.
    spin.setKeyboardTracking(False)
    spin.setGroupSeparatorShown(True)
    spin.setAlignment(Qt.AlignmentFlag.AlignRight)
    spin.setMinimumWidth(90)


def form_layout() -> QFormLayout:
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    return form


def hint_label(text: str = "", object_name: str = "") -> QLabel:
    """A muted, word-wrapped line of explanation under a control."""
    label = QLabel(text)
    if object_name:
        label.setObjectName(object_name)
    label.setWordWrap(True)
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText))
    label.setPalette(palette)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.92)
    label.setFont(font)
    return label


# The panel modules import the helpers above, so they are re-exported only after them.
from .annotator import AnnotatorPanel  # noqa: E402
from .dataset import DatasetPanel  # noqa: E402
from .strategies import StrategiesPanel  # noqa: E402
from .training import TrainingPanel  # noqa: E402

__all__ = [
    "AnnotatorPanel", "DatasetPanel", "SetupPanel", "StrategiesPanel", "TrainingPanel", "describe",
    "field_bounds", "float_spin", "form_layout", "hint_label", "int_spin",
]

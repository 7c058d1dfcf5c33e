"""A curve plot with a labelled menu above it (the fairness metric, the learning curve's x-axis)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...plotting import CurvePlot, export_plot


def fill_menu(box: QComboBox, choices) -> None:
    """(text, data, tooltip) per item, in order."""
    for index, (text, data, tooltip) in enumerate(choices):
        box.addItem(text, data)
        box.setItemData(index, tooltip, Qt.ItemDataRole.ToolTipRole)


def plot_under_menu(owner: QWidget, label_text: str, box: QComboBox, plot: QWidget,
                    beside: QWidget | None = None) -> None:
    """Lay `owner` out as `label_text` and `box` (and `beside`, which takes the rest of the row) above `plot`.
    The label's mnemonic focuses the menu."""
    label = QLabel(label_text)
    label.setBuddy(box)
    top = QHBoxLayout()
    top.addWidget(label)
    top.addWidget(box)
    if beside is None:
        top.addStretch(1)
    else:
        top.addWidget(beside, 1)
    layout = QVBoxLayout(owner)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addLayout(top)
    layout.addWidget(plot, 1)


class CurvesUnderMenu(QWidget):
    """Base of the plots laid out by plot_under_menu: what the window asks of them goes to `self.plot`."""

    plot: CurvePlot

    def curve_names(self) -> list[str]:
        return self.plot.curve_names()

    def point_count(self, name: str) -> int:
        return self.plot.point_count(name)

    def export(self, path: str | Path) -> Path:
        return export_plot(self.plot, path)

    def set_text_scale(self, scale: float) -> None:
        """The plot's text at `scale` times its size (the menu above it follows the application font)."""
        self.plot.set_text_scale(scale)

    def set_line_width(self, width: float) -> None:
        self.plot.set_line_width(width)

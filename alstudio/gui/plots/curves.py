"""A plot of one metric against the labelled count: per strategy a mean line, a ±std band over
seeds, and each seed faintly behind."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

# Colour-blind-safe palette (Okabe & Ito), one colour per strategy in a fixed order.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000", "#999999")
STRATEGY_ORDER = ("random", "bald", "entropy", "margin", "least_confidence", "batchbald", "power_bald",
                  "learning_loss", "coreset")


def strategy_color(strategy: str) -> QColor:
    index = STRATEGY_ORDER.index(strategy) if strategy in STRATEGY_ORDER else hash(strategy) % len(PALETTE)
    return QColor(PALETTE[index % len(PALETTE)])


def palette_colors(names) -> dict[str, str]:
    """A palette colour per curve name, in order: for compared experiments, whose strategies repeat."""
    return {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(names)}


def _with_alpha(color: QColor, alpha: int) -> QColor:
    faded = QColor(color)
    faded.setAlpha(alpha)
    return faded


class CurvePlot(pg.PlotWidget):
    def __init__(self, title: str, y_label: str, y_units: str | None = None, parent=None,
                 line_width: float = 2.5, colors: dict[str, str] | None = None):
        super().__init__(parent=parent, background="w")
        self.line_width = line_width
        self.colors = dict(colors or {})  # curve name -> colour, for curves that are not strategies
        self.setTitle(title, color="#222", size="12pt")
        self.setLabel("bottom", "labelled images")
        self.setLabel("left", y_label, units=y_units)
        self.showGrid(x=True, y=True, alpha=0.25)
        self.legend = self.addLegend(offset=(-10, 10), labelTextColor="#222")
        for axis in ("left", "bottom"):
            self.getAxis(axis).enableAutoSIPrefix(False)  # shares and accuracies read best as plain numbers
            self.getAxis(axis).setTextPen("#333")
            self.getAxis(axis).setPen("#666")
        self._items: dict[str, dict] = {}
        self._references: list = []

    def set_curves(self, curves: dict[str, dict]) -> None:
        """`curves` as from engine.results.curves: strategy -> x, mean, std, seeds [S, len(x)]."""
        for strategy, data in curves.items():
            items = self._items.get(strategy) or self._create(strategy)
            x, mean, std = data["x"], data["mean"], data["std"]
            finite = np.isfinite(mean)
            items["mean"].setData(x[finite], mean[finite])
            low, high = mean - np.nan_to_num(std), mean + np.nan_to_num(std)
            items["low"].setData(x[finite], low[finite])
            items["high"].setData(x[finite], high[finite])
            seeds = data["seeds"]
            while len(items["seeds"]) < len(seeds):
                line = self.plot(pen=pg.mkPen(_with_alpha(self.color(strategy), 70), width=1))
                line.setZValue(-5)
                items["seeds"].append(line)
            for line, row in zip(items["seeds"], seeds):
                ok = np.isfinite(row)
                line.setData(x[ok], row[ok])

    def color(self, name: str) -> QColor:
        return QColor(self.colors[name]) if name in self.colors else strategy_color(name)

    def _create(self, strategy: str) -> dict:
        color = self.color(strategy)
        low = pg.PlotDataItem(pen=pg.mkPen(None))
        high = pg.PlotDataItem(pen=pg.mkPen(None))
        band = pg.FillBetweenItem(low, high, brush=pg.mkBrush(_with_alpha(color, 50)))
        band.setZValue(-10)
        self.addItem(band)
        mean = self.plot(name=strategy, pen=pg.mkPen(color, width=self.line_width),
                         symbol="o", symbolSize=5, symbolBrush=color, symbolPen=None)
        items = {"mean": mean, "low": low, "high": high, "band": band, "seeds": []}
        self._items[strategy] = items
        return items

    def set_line_width(self, width: float) -> None:
        """Thicker mean lines for a projector (lecture mode)."""
        self.line_width = width
        for strategy, items in self._items.items():
            items["mean"].setPen(pg.mkPen(self.color(strategy), width=width))

    def add_reference(self, value: float, label: str) -> None:
        """A dashed horizontal line, e.g. the pool's base rate of a group."""
        line = pg.InfiniteLine(pos=value, angle=0, pen=pg.mkPen("#555", width=1.5, style=Qt.PenStyle.DashLine),
                               label=label, labelOpts={"position": 0.8, "color": "#333", "anchors": [(1, 1), (1, 1)]})
        self.addItem(line)
        self._references.append(line)

    def clear_curves(self) -> None:
        """Remove every curve (its line, band and seeds) and its legend entry."""
        for items in self._items.values():
            for item in (items["mean"], items["low"], items["high"], items["band"], *items["seeds"]):
                self.removeItem(item)
        self.legend.clear()
        self._items.clear()

    def curve_names(self) -> list[str]:
        return list(self._items)

    def point_count(self, strategy: str) -> int:
        items = self._items.get(strategy)
        return 0 if items is None else len(items["mean"].xData if items["mean"].xData is not None else [])

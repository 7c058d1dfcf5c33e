"""What the strategies acquire: each group's share of the labeled set against the labeled count,
per strategy, with the pool's base rate of each group as a dashed line to compare against."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPen

from ...engine.data.bias import pool_counts
from ...engine.results import curve_band, curves
from ...plotting import CurvePlot, export_plot, strategy_color

# Colour is the strategy everywhere in the workbench, so here the group is the line style (and the
# marker): every curve stays visible at once, which a group selector would hide, and with 2-3
# strategies x 2-3 groups the legend needs only one entry per strategy plus one per group instead of
# one per pair. Dashes are left to the base-rate lines so that a curve never reads as a reference.
GROUP_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotDotLine)
GROUP_SYMBOLS = ("o", "t", "s", "d", "star")
_KEY_GREY = "#444"


def pool_group_rates(dataset_config) -> np.ndarray:
    """Each group's share of the pool, from the exact counts the generator uses."""
    counts = pool_counts(dataset_config)
    return counts.sum(axis=0) / counts.sum()


class AcquisitionPlot(CurvePlot):
    def __init__(self, dataset_config, parent=None):
        super().__init__("What the strategies acquire ({band})", "labeled share of the group", "%", parent=parent)
        self.setObjectName("acquisitionPlot")
        self.setAccessibleName("Labeled share of each group per strategy")
        self.setToolTip("Solid, dotted and dash-dotted lines are the groups; dashed grey lines are each "
                        "group's share of the pool. Click a legend entry to hide its curves.")
        self.groups = list(dataset_config.groups)
        self.base_rates = {g: float(r) for g, r in zip(self.groups, pool_group_rates(dataset_config))}
        self.setYRange(0, 100, padding=0.02)  # a share always lies in 0-100 %, so the axis stays put
        self._curves: dict[tuple[str, str], dict] = {}
        self._strategy_keys: dict[str, pg.PlotDataItem] = {}
        self._group_keys = {g: self._key_item(self._pen(_KEY_GREY, 2, g), self._symbol(g),
                                              _KEY_GREY) for g in self.groups}
        self.base_rate_lines: dict[str, pg.InfiniteLine] = {}  # group -> its line (groups at one rate share one)
        self._add_base_rates()
        self._rebuild_legend()

    # -- data ------------------------------------------------------------------------------------
    def set_rows(self, rows: list[dict]) -> None:
        """metrics.csv rows (engine.results.metrics_row) with a labeled_share_<group> column per group."""
        if not rows:
            return
        new_strategy = False
        for group in self.groups:
            for strategy, data in curves(rows, f"labeled_share_{group}").items():
                if strategy not in self._strategy_keys:
                    self._strategy_keys[strategy] = self._key_item(
                        pg.mkPen(strategy_color(strategy), width=self.line_width), None, None)
                    new_strategy = True
                items = self._curves.get((strategy, group)) or self._create_pair(strategy, group)
                items["data"] = data
                x, mean = data["x"], 100 * data["mean"]
                low, high, _ = curve_band(data)
                finite = np.isfinite(mean)
                items["mean"].setData(x[finite], mean[finite])
                items["low"].setData(x[finite], 100 * low[finite])
                items["high"].setData(x[finite], 100 * high[finite])
        if new_strategy:
            self._rebuild_legend()
        self.show_band_caption(items["data"] for items in self._curves.values())
        self._apply_visibility()
        self._show_data_state()
        self._place_line_labels()

    def _data_items(self) -> list[pg.PlotDataItem]:
        return [items["mean"] for items in self._curves.values()]

    def mean_item(self, strategy: str, group: str) -> pg.PlotDataItem | None:
        items = self._curves.get((strategy, group))
        return None if items is None else items["mean"]

    def point_count(self, strategy: str, group: str | None = None) -> int:
        item = self.mean_item(strategy, group or self.groups[0])
        return 0 if item is None or item.xData is None else len(item.xData)

    def export(self, path: str | Path) -> Path:
        return export_plot(self, path)

    def set_line_width(self, width: float) -> None:
        """Thicker curves for a projector, each keeping its group's line style."""
        self.line_width = width
        for (strategy, group), items in self._curves.items():
            items["mean"].setPen(self._pen(strategy_color(strategy), width, group))
        for strategy, key in self._strategy_keys.items():
            key.setPen(pg.mkPen(strategy_color(strategy), width=width))

    # -- drawing ---------------------------------------------------------------------------------
    def _pen(self, color, width: float, group: str) -> QPen:
        pen = pg.mkPen(color, width=width, style=GROUP_STYLES[self.groups.index(group) % len(GROUP_STYLES)])
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)  # round dots read as dots, not as the base rates' dashes
        return pen

    def _symbol(self, group: str) -> str:
        return GROUP_SYMBOLS[self.groups.index(group) % len(GROUP_SYMBOLS)]

    def _create_pair(self, strategy: str, group: str) -> dict:
        color = strategy_color(strategy)
        low = pg.PlotDataItem(pen=pg.mkPen(None))
        high = pg.PlotDataItem(pen=pg.mkPen(None))
        faint = QColor(color)
        faint.setAlpha(40)
        band = pg.FillBetweenItem(low, high, brush=pg.mkBrush(faint))
        band.setZValue(-10)
        self.addItem(band)
        mean = pg.PlotDataItem(pen=self._pen(color, self.line_width, group),
                               symbol=self._symbol(group), symbolSize=6, symbolBrush=color, symbolPen=None)
        self.addItem(mean)
        items = {"mean": mean, "low": low, "high": high, "band": band}
        self._curves[(strategy, group)] = items
        return items

    def _add_base_rates(self) -> None:
        """One dashed line per distinct base rate, naming every group at that rate ("blue, red: 50% of
        pool": a correlation bias gives every group the same share, and two labels would overprint)."""
        at_rate: dict[str, list[str]] = {}
        for group in self.groups:
            at_rate.setdefault(f"{100 * self.base_rates[group]:.3g}", []).append(group)
        for text, groups in at_rate.items():
            names = ", ".join(groups)
            line = self.add_reference(100 * self.base_rates[groups[0]], f"{names}: {text}% of pool",
                                      short=f"{names}: {text}%")
            self.base_rate_lines.update(dict.fromkeys(groups, line))

    def _key_item(self, pen, symbol: str | None, brush) -> pg.PlotDataItem:
        """A legend-only item: clicking its legend entry hides or shows the curves it stands for."""
        key = pg.PlotDataItem(pen=pen, symbol=symbol, symbolBrush=brush, symbolPen=None, symbolSize=7)
        key.visibleChanged.connect(self._apply_visibility)
        return key

    def _rebuild_legend(self) -> None:
        self.legend.clear()
        for strategy, key in self._strategy_keys.items():
            self.legend.addItem(key, strategy)
        for group, key in self._group_keys.items():
            self.legend.addItem(key, group)
        self._fit_legend()

    def _apply_visibility(self) -> None:
        for (strategy, group), items in self._curves.items():
            shown = self._strategy_keys[strategy].isVisible() and self._group_keys[group].isVisible()
            items["mean"].setVisible(shown)
            items["band"].setVisible(shown)
        self._place_line_labels()  # a hidden curve frees its spot, a shown one may take a label's

"""The sweep's table: one row per cell x strategy, the grid's axes, the strategy, its seeds, and final
accuracy, AULC and the headline fairness gap, each as its mean and band, colour-scaled per column.

Every cell x strategy of the grid has its row from the start; a row's numbers appear once its runs have
a finished cycle (engine.sweep.sweep_summary) and follow them while the sweep runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QIcon, QPixmap

from ...engine.metrics import FAIRNESS_METRICS, HEADLINE_FAIRNESS_METRIC
from ...engine.results import CI_MIN_SEEDS
from ...engine.strategies import STRATEGIES
from ...engine.sweep import Band, SummaryRow, Sweep
from ...plotting.curves import strategy_color
from .colours import TEXT_ON_SHADE, fractions, shade

SORT_ROLE = Qt.ItemDataRole.UserRole  # numbers sort as numbers, not as their text
_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


@dataclass(frozen=True)
class MetricColumn:
    title: str
    tooltip: str
    higher_is_better: bool
    band: Callable[[SummaryRow], Band]

    @property
    def better(self) -> str:
        return "higher is better" if self.higher_is_better else "lower is better"


def metric_columns() -> tuple[MetricColumn, ...]:
    """Final accuracy, AULC and the headline fairness metric, whose direction its registry entry gives."""
    fairness = FAIRNESS_METRICS[HEADLINE_FAIRNESS_METRIC]
    return (
        MetricColumn("Final accuracy", "Test accuracy after the last cycle", True, lambda r: r.final_accuracy),
        MetricColumn("AULC", "Area under the learning curve (accuracy against labels, normalised): "
                     "how good the model was along the way, not only at the end", True, lambda r: r.aulc),
        MetricColumn(fairness.label, f"{fairness.description}, after the last cycle ({fairness.direction})",
                     not fairness.lower_is_fairer, lambda r: r.fairness_gap),
    )


def band_text(band: Band) -> str:
    """"0.812 [0.790, 0.834]" (95 % CI), "0.812 ± 0.011" (std, below CI_MIN_SEEDS seeds), "0.812" (one seed)."""
    if not math.isfinite(band.mean):
        return "n/a"
    if band.is_ci:
        return f"{band.mean:.3f} [{band.low:.3f}, {band.high:.3f}]"
    if band.n < 2:
        return f"{band.mean:.3f}"
    return f"{band.mean:.3f} ± {band.high - band.mean:.3f}"


def band_words(band: Band) -> str:
    """What the band is, in words, for a tooltip."""
    seeds = f"{band.n} seed{'s' if band.n != 1 else ''}"
    if band.is_ci:
        return f"mean {band.mean:.4f}, 95 % CI [{band.low:.4f}, {band.high:.4f}] over {seeds}"
    if band.n < 2:
        return f"{band.mean:.4f} from {seeds}"
    return (f"mean {band.mean:.4f} ± std {band.high - band.mean:.4f} over {seeds} "
            f"(a 95 % CI from {CI_MIN_SEEDS} seeds on)")


def value_text(value) -> str:
    """An axis value as the grid writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(map(value_text, value))
    return str(value)


def _swatch(strategy: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(strategy_color(strategy))  # the strategy's colour in every plot
    return QIcon(pixmap)


@dataclass
class _Row:
    cell: str
    settings: dict
    folder: Path
    strategy: str
    summary: SummaryRow | None = None


class SweepTableModel(QAbstractTableModel):
    """The rows of one sweep; `show_summary` brings in the numbers (and their colours) as they come."""

    def __init__(self, sweep: Sweep, parent=None):
        super().__init__(parent)
        self.seeds = sweep.seeds
        self.axes = sweep.cell_axes
        self.metrics = metric_columns()
        self._rows = [_Row(cell.id, cell.settings, cell.folder, strategy)
                      for cell in sweep.cells for strategy in sweep.strategies]
        self._icons = {strategy: _swatch(strategy) for strategy in sweep.strategies}
        self._shades: list[list[QColor | None]] = [[None] * len(self.metrics) for _ in self._rows]
        self.titles = [axis.field for axis in self.axes] + ["Strategy", "Seeds"] + [m.title for m in self.metrics]
        self.first_metric = len(self.axes) + 2

    # ---- contents -----------------------------------------------------------------------------
    def show_summary(self, summary: list[SummaryRow]) -> None:
        """sweep_summary's rows: every row with numbers gets them, the colours are scaled again."""
        by_key = {(s.cell, s.strategy): s for s in summary}
        for row in self._rows:
            row.summary = by_key.get((row.cell, row.strategy))
        columns = []
        for metric in self.metrics:
            means = [metric.band(r.summary).mean if r.summary else None for r in self._rows]
            places = fractions(means, metric.higher_is_better)
            columns.append([shade(p) if p is not None else None for p in places])
        self._shades = [list(shades) for shades in zip(*columns)] if self._rows else []
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(self.titles) - 1))

    def folder(self, row: int) -> Path:
        return self._rows[row].folder

    def cell_id(self, row: int) -> str:
        return self._rows[row].cell

    def strategy(self, row: int) -> str:
        return self._rows[row].strategy

    def summary(self, row: int) -> SummaryRow | None:
        return self._rows[row].summary

    def shade(self, row: int, metric: int) -> QColor | None:
        """The background of metric column `metric` (0: final accuracy, …) in `row`, None when unscaled."""
        return self._shades[row][metric]

    # ---- QAbstractTableModel ------------------------------------------------------------------
    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.titles)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.titles[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._header_tip(section)
        return None

    def _header_tip(self, column: int) -> str:
        if column < len(self.axes):
            return f"Grid axis {self.axes[column].key}: the value this row's cell runs with"
        if column == len(self.axes):
            return "The strategy (its colour in the plots); every cell compares the same strategies"
        if column == len(self.axes) + 1:
            return f"Seeds with results so far, of the {self.seeds} each cell x strategy runs"
        metric = self.metrics[column - self.first_metric]
        return (f"{metric.tooltip}. Mean over seeds with its 95 % confidence interval [low, high] from "
                f"{CI_MIN_SEEDS} seeds on, ± std below. Greener is better within the column ({metric.better})")

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = self._rows[index.row()], index.column()
        if column < len(self.axes):
            value = row.settings.get(self.axes[column].key)
            if role == Qt.ItemDataRole.DisplayRole:
                return value_text(value)
            if role == SORT_ROLE:
                return value if isinstance(value, (int, float, str)) else value_text(value)
            return None
        if column == len(self.axes):
            return self._strategy_data(row.strategy, role)
        if column == len(self.axes) + 1:
            seeds = row.summary.seeds if row.summary else 0
            if role == Qt.ItemDataRole.DisplayRole:
                return str(seeds) if seeds == self.seeds else f"{seeds} of {self.seeds}"
            if role == SORT_ROLE:
                return seeds
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        return self._metric_data(index.row(), column - self.first_metric, role)

    def _strategy_data(self, strategy: str, role: int):
        if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
            return STRATEGIES[strategy].title if strategy in STRATEGIES else strategy
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icons[strategy]
        if role == Qt.ItemDataRole.ToolTipRole and strategy in STRATEGIES:
            return f"{strategy}: {STRATEGIES[strategy].description}"
        return None

    def _metric_data(self, row_number: int, metric_number: int, role: int):
        row, metric = self._rows[row_number], self.metrics[metric_number]
        band = metric.band(row.summary) if row.summary else None
        colour = self._shades[row_number][metric_number]
        if role == Qt.ItemDataRole.DisplayRole:
            return band_text(band) if band else "—"
        if role == SORT_ROLE:
            return band.mean if band and math.isfinite(band.mean) else None
        if role == Qt.ItemDataRole.BackgroundRole:
            return colour
        if role == Qt.ItemDataRole.ForegroundRole:
            return TEXT_ON_SHADE if colour is not None else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if band is None:
                return f"{metric.title}: no finished cycle yet"
            scale = ("; the greener, the better within this column" if colour is not None
                     else "; no colour: nothing to compare it with yet")
            return f"{metric.title} of {self._strategy_data(row.strategy, SORT_ROLE)} in {row.cell}: " \
                   f"{band_words(band)} ({metric.better}){scale}"
        return None

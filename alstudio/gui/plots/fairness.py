"""The fairness curve of a chosen metric (any in engine.metrics.FAIRNESS_METRICS) against the labelled
count, per strategy; plus the PNG/SVG export every plot shares."""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (registers pg.exporters)
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...engine.metrics import fairness_metrics_headline_first
from ...engine.results import curves
from .curves import CurvePlot


def export_plot(plot: pg.PlotWidget, path: str | Path) -> Path:
    """Write the plot as PNG or SVG, chosen by the file's extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    item = plot.getPlotItem()
    if suffix == ".png":
        image = pg.exporters.ImageExporter(item).export(toBytes=True)
        if not image.save(str(path), "PNG"):
            raise OSError(f"{path}: cannot be written")
    elif suffix == ".svg":
        exporter = pg.exporters.SVGExporter(item)
        try:
            exporter.export(str(path))
        except ValueError:
            # pyqtgraph 0.14.0 cannot parse the closed paths ("... Z") that recent Qt (6.12 here) writes
            # (pyqtgraph issue #3495); draw the same item straight into Qt's SVG generator instead.
            _render_svg(plot, exporter, path)
    else:
        raise ValueError(f"{path.name}: a plot exports to .png or .svg, not {suffix or 'no extension'}")
    return path


def _render_svg(plot: pg.PlotWidget, exporter, path: Path) -> None:
    item = plot.getPlotItem()
    source = exporter.getSourceRect()
    target = QRectF(0, 0, source.width(), source.height())
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(source.size().toSize())
    generator.setViewBox(target)
    generator.setResolution(plot.logicalDpiX())  # axes replay QPictures, which rescale to a device of another dpi
    generator.setTitle(item.titleLabel.text or "plot")
    painter = QPainter(generator)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(target, plot.backgroundBrush())  # the view paints the background, not the scene
        exporter.setExportMode(True, {"painter": painter, "antialias": True, "background": None})
        item.scene().render(painter, target, source)
    finally:
        exporter.setExportMode(False)
        painter.end()


class FairnessPlot(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("parityPlot")
        self.setAccessibleName("Fairness plot")
        self._rows: list[dict] = []

        self.metric_box = QComboBox()
        self.metric_box.setObjectName("fairnessMetricBox")
        self.metric_box.setAccessibleName("Fairness metric")
        # read when the plot is made, so a metric registered at run time (a test's) is offered too
        self._metrics = fairness_metrics_headline_first()
        directions = {metric.direction for metric in self._metrics}
        self.metric_box.setToolTip(f"Which fairness metric to plot; {directions.pop()} for every one of them."
                                   if len(directions) == 1 else "Which fairness metric to plot.")
        for index, metric in enumerate(self._metrics):
            self.metric_box.addItem(metric.label, metric.name)
            self.metric_box.setItemData(index, f"{metric.description} ({metric.direction}).",
                                        Qt.ItemDataRole.ToolTipRole)
        label = QLabel("&Metric:")
        label.setBuddy(self.metric_box)  # Alt+M focuses the menu

        self.plot = CurvePlot("Fairness ({band})", self._y_label())
        self.plot.setObjectName("fairnessCurves")
        self.plot.setAccessibleName("Fairness curves per strategy")

        top = QHBoxLayout()
        top.addWidget(label)
        top.addWidget(self.metric_box)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)

        self.metric_box.currentIndexChanged.connect(self._metric_changed)

    @property
    def column(self) -> str:
        return self.metric_box.currentData()

    def set_rows(self, rows: list[dict]) -> None:
        """metrics.csv rows (engine.results.metrics_row); kept so a metric switch needs no new data."""
        self._rows = list(rows)
        self._redraw()

    def set_metric(self, column: str) -> None:
        index = self.metric_box.findData(column)
        if index < 0:
            raise ValueError(f"unknown fairness column {column!r}")
        self.metric_box.setCurrentIndex(index)

    def export(self, path: str | Path) -> Path:
        return export_plot(self.plot, path)

    def set_text_scale(self, scale: float) -> None:
        """The plot's text at `scale` times its size (the menu above it follows the application font)."""
        self.plot.set_text_scale(scale)

    def set_line_width(self, width: float) -> None:
        self.plot.set_line_width(width)

    def _y_label(self) -> str:
        metric = self._metrics[max(self.metric_box.currentIndex(), 0)]
        return f"{metric.label} ({metric.direction})"

    def _metric_changed(self) -> None:
        self.plot.setLabel("left", self._y_label())
        self._redraw()

    def _redraw(self) -> None:
        if self._rows:
            self.plot.set_curves(curves(self._rows, self.column))

"""The fairness curve of a chosen metric (any in engine.metrics.FAIRNESS_METRICS) against the labeled
count, per strategy, with a menu to choose the metric."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from ...engine.metrics import fairness_metrics_headline_first
from ...engine.results import curves
from ...plotting import CurvePlot
from .chooser import CurvesUnderMenu, fill_menu, plot_under_menu


class FairnessPlot(CurvesUnderMenu):
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
        fill_menu(self.metric_box, ((metric.label, metric.name, f"{metric.description} ({metric.direction}).")
                                    for metric in self._metrics))

        self.plot = CurvePlot("Fairness ({band})", self._y_label())
        self.plot.setObjectName("fairnessCurves")
        self.plot.setAccessibleName("Fairness curves per strategy")
        plot_under_menu(self, "&Metric:", self.metric_box, self.plot)  # Alt+M focuses the menu

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

    def _y_label(self) -> str:
        metric = self._metrics[max(self.metric_box.currentIndex(), 0)]
        return f"{metric.label} ({metric.direction})"

    def _metric_changed(self) -> None:
        self.plot.setLabel("left", self._y_label())
        self._redraw()

    def _redraw(self) -> None:
        if self._rows:
            self.plot.set_curves(curves(self._rows, self.column))

"""The learning curve: test accuracy against all labels or only the labels people gave, for the
experiment on screen and any others opened for comparison (human-only, oracle, LLM-assisted)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel

from ...engine.results import compared_curves, curves
from ...plotting import CurvePlot, palette_colors
from .chooser import CurvesUnderMenu, fill_menu, plot_under_menu

# (menu text, metrics column, axis title, what it means); the first is the default.
X_AXES = (
    ("all labels", "n_labeled", "labeled images",
     "Every label in the training set, whoever gave it"),
    ("labels from people", "people_labels", "labels from people (initial labels included)",
     "Only the labels a person (or the oracle standing in for one) gave: the human effort an LLM annotator saves"),
)


class LearningCurvePlot(CurvesUnderMenu):
    def __init__(self, line_width: float = 2.5, parent=None):
        super().__init__(parent)
        self.setObjectName("learningCurvePlot")
        self.setAccessibleName("Learning curve")
        self._rows: list[dict] = []
        self._name = ""
        self._compared: dict[str, list[dict]] = {}
        self._caveats: dict[str, str] = {}  # compared name -> why it is not like for like

        self.x_box = QComboBox(objectName="learningXAxisBox")
        self.x_box.setAccessibleName("Learning curve x-axis")
        self.x_box.setToolTip("Count all labels, or only those people gave (compare LLM-assisted runs by human effort)")
        fill_menu(self.x_box, ((text, column, meaning) for text, column, _, meaning in X_AXES))
        self.compared_label = QLabel("", objectName="comparedLabel")
        self.compared_label.setAccessibleName("Compared experiments")
        self.compared_label.setTextFormat(Qt.TextFormat.RichText)
        self.compared_label.setWordWrap(True)

        self.plot = CurvePlot("Learning curve ({band})", "test accuracy", line_width=line_width)
        self.plot.setObjectName("learningCurves")
        self.plot.setAccessibleName("Learning curves per strategy")
        plot_under_menu(self, "&Against:", self.x_box, self.plot, beside=self.compared_label)
        self.x_box.currentIndexChanged.connect(self._rebuild)

    @property
    def x_column(self) -> str:
        return self.x_box.currentData()

    def set_rows(self, rows: list[dict], name: str = "") -> None:
        """The experiment on screen: metrics.csv rows, and its name when others are compared."""
        stale = (bool(self._rows) and not rows) or name != self._name
        self._rows, self._name = list(rows), name
        if stale:
            self._rebuild()  # the previous experiment's curves go
        else:
            self._redraw()

    def set_x_axis(self, column: str) -> None:
        index = self.x_box.findData(column)
        if index < 0:
            raise ValueError(f"unknown x-axis column {column!r}")
        self.x_box.setCurrentIndex(index)

    def compare(self, name: str, rows: list[dict], caveat: str = "") -> str:
        """Add another experiment's curves; returns the name it is shown under (made unique).
        `caveat` says what makes them not quite comparable (e.g. another dataset), beside its name."""
        shown, n = name, 2
        while shown in self._compared or shown == self._name:
            shown, n = f"{name} ({n})", n + 1
        self._compared[shown] = list(rows)
        self._caveats[shown] = caveat
        self._rebuild()
        return shown

    def clear_comparisons(self) -> None:
        self._compared.clear()
        self._caveats.clear()
        self._rebuild()

    @property
    def compared(self) -> list[str]:
        return list(self._compared)

    def _curves(self) -> dict[str, dict]:
        if not self._compared:
            return curves(self._rows, "accuracy", self.x_column) if self._rows else {}
        named = {self._name or "this experiment": self._rows} if self._rows else {}
        return compared_curves({**named, **self._compared}, "accuracy", self.x_column)

    def _redraw(self) -> None:
        data = self._curves()
        if self._compared:  # one colour per curve, in order, since strategy colours repeat across experiments
            for name, color in palette_colors(data).items():
                self.plot.colors.setdefault(name, color)
        self.plot.set_curves(data)

    def _rebuild(self) -> None:
        self.plot.clear_curves()
        self.plot.colors.clear()
        self.plot.setLabel("bottom", X_AXES[max(self.x_box.currentIndex(), 0)][2])
        names = [html.escape(name) + (f" <b style='color:#b35900'>({html.escape(self._caveats[name])})</b>"
                                      if self._caveats[name] else "") for name in self._compared]
        self.compared_label.setText(f"compared with: {', '.join(names)}" if names else "")
        self._redraw()

"""The workbench's results: the plot grid (learning curve, fairness, acquisition, last queried batch)
drawn from metrics rows, the presenter's cycle counter, comparison with other experiments and export."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from ..engine import config as configs
from ..engine.errors import UserInputError
from ..engine.experiment import Experiment
from ..engine.results import annotation_name, collect_rows
from .lecture import LECTURE_SCALE
from .plots import LearningCurvePlot
from .plots.acquisition import AcquisitionPlot
from .plots.fairness import FairnessPlot
from .plots.gallery import GalleryItem, QueryGallery
from .worker import CycleReport


class ResultsArea(QWidget):
    """The window's central widget. It holds the metrics rows on screen (`rows`) and redraws every
    plot from them; the fairness and acquisition plots are made anew for each experiment (the
    acquisition plot's groups are the dataset's)."""

    def __init__(self, dataset: configs.DatasetConfig, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("plotArea")
        self.rows: list[dict] = []
        self.lecture = False
        # Made once and only emptied: the experiments compared with survive a new run (a baseline to beat).
        self.learning_plot = LearningCurvePlot(line_width=self._line_width())
        self._make_result_plots(dataset)
        self.gallery = QueryGallery()
        self.gallery.setAccessibleName("Last queried batch")
        self.cycle_counter = QLabel("", objectName="cycleCounter", alignment=Qt.AlignmentFlag.AlignCenter)
        self.cycle_counter.setAccessibleName("Current cycle")
        self.cycle_counter.setVisible(False)
        self._grid = grid = QGridLayout(self)
        grid.addWidget(self.cycle_counter, 0, 0, 1, 2)
        grid.addWidget(self.learning_plot, 1, 0)
        grid.addWidget(self.fairness_plot, 1, 1)
        grid.addWidget(self.acquisition_plot, 2, 0)
        grid.addWidget(self.gallery, 2, 1)
        self._apply_plot_style()  # and the plots' minimum sizes

    def _make_result_plots(self, dataset: configs.DatasetConfig) -> None:
        self.fairness_plot = FairnessPlot()
        self.fairness_plot.setAccessibleName("Fairness plot")
        self.acquisition_plot = AcquisitionPlot(dataset)
        self.acquisition_plot.setAccessibleName("Acquisition plot")

    # ---- rows ---------------------------------------------------------------------------------
    def show_rows(self, rows: list[dict], name: str) -> None:
        """Every plot drawn from these rows; `name` tells this experiment's curves from compared ones."""
        self.rows = list(rows)
        self.redraw(name)

    def add_row(self, row: dict, name: str) -> None:
        self.rows.append(row)
        self.redraw(name)

    def redraw(self, name: str) -> None:
        self.learning_plot.set_rows(self.rows, name)
        self.fairness_plot.set_rows(self.rows)
        self.acquisition_plot.set_rows(self.rows)

    def clear(self, dataset: configs.DatasetConfig) -> None:
        """No rows and an empty gallery; fresh fairness and acquisition plots for this dataset's groups.
        The learning curve keeps the experiments compared with."""
        self.rows = []
        self.learning_plot.set_rows([], "")
        for old in (self.fairness_plot, self.acquisition_plot):
            self._grid.removeWidget(old)
            old.hide()  # until the event loop deletes it, it would still paint under its successor
            old.deleteLater()
        self._make_result_plots(dataset)
        self._grid.addWidget(self.fairness_plot, 1, 1)
        self._grid.addWidget(self.acquisition_plot, 2, 0)
        self._apply_plot_style()
        self.gallery.clear()

    def show_cycle(self, payload: CycleReport, config: configs.ExperimentConfig, dataset) -> None:
        """The presenter's counter and the queried batch of a cycle result (its row is added separately).
        `dataset` holds the pool's images; a batch a person still has to label shows neither class nor group."""
        self.cycle_counter.setText(f"{payload.run} — cycle {payload.cycle} of {config.active.cycles} — "
                                   f"{payload.n_labeled} labels")
        if not payload.queried or dataset is None:
            return
        names, groups = config.dataset.classes, config.dataset.groups
        items = [GalleryItem(q.sample, dataset.pool.images[q.sample], names[q.class_index], groups[q.group],
                             q.score, dict(q.scores)) for q in payload.queried]
        asks_people = config.annotator.kind in ("human", "llm")
        pending = [item.sample for item in items] if asks_people else []
        self.gallery.show_batch(payload.strategy, payload.cycle, items, hidden=pending)

    # ---- comparison ---------------------------------------------------------------------------
    def compare_with(self, folder: str | Path, config: configs.ExperimentConfig) -> str:
        """Another experiment's learning curves next to this one's; the status line to show, or a
        UserInputError saying why not. `config` is this experiment's, to say how the set-ups differ."""
        other = Experiment.open(folder)
        rows = collect_rows(other)
        if not rows:
            raise UserInputError(f"{folder}: no finished cycle to compare yet")
        differ = (configs.differences(config.dataset, other.config.dataset, "dataset.")
                  + configs.differences(config.model, other.config.model, "model."))
        caveat = f"another set-up: {'; '.join(differ)}" if differ else ""
        shown = self.learning_plot.compare(annotation_name(other), rows, caveat)
        warning = f" Careful, {caveat} (ours vs theirs)." if caveat else ""
        return (f"Learning curves of {Path(folder).name} added as “{shown}”; "
                f"Against: labels from people compares human effort.{warning}")

    def clear_comparison(self) -> None:
        self.learning_plot.clear_comparisons()

    # ---- export -------------------------------------------------------------------------------
    def export(self, folder: str | Path) -> list[Path]:
        """Every plot as PNG and SVG in `folder`: all of them, or none and a UserInputError saying why.
        Each plot widget exports itself; the files are written under temporary names, then renamed."""
        folder = Path(folder)
        if not folder.is_dir():
            raise UserInputError(f"{folder}: not a folder, so the plots cannot be exported there")
        plots = {"learning_curve": self.learning_plot, "fairness": self.fairness_plot,
                 "acquisition": self.acquisition_plot}
        staged: list[tuple[Path, Path]] = []
        try:
            for name, plot in plots.items():
                for extension in ("png", "svg"):
                    path = folder / f"{name}.{extension}"
                    if path.is_dir():
                        raise IsADirectoryError(21, "a folder has that name", str(path))
                    partial = folder / f".{name}.partial.{extension}"
                    staged.append((partial, path))
                    plot.export(partial)
                    if not partial.is_file() or partial.stat().st_size == 0:
                        raise OSError(5, "nothing was written", str(path))
            for partial, path in staged:
                partial.replace(path)
        except OSError as err:
            for partial, _ in staged:
                partial.unlink(missing_ok=True)
            reason = f" ({err.strerror})" if err.strerror else ""
            raise UserInputError(f"{path}: cannot be written{reason}") from None
        return [path for _, path in staged]

    # ---- lecture mode -------------------------------------------------------------------------
    def set_lecture(self, on: bool, font: QFont) -> None:
        """Lecture mode's plots: thicker lines, larger text, more room, and the counter in `font`, enlarged."""
        self.lecture = on
        self.cycle_counter.setVisible(on)
        counter_font = QFont(font)
        counter_font.setPointSizeF(font.pointSizeF() * 2)
        counter_font.setBold(True)
        self.cycle_counter.setFont(counter_font)
        self._apply_plot_style()

    def _line_width(self) -> float:
        return 5.0 if self.lecture else 2.5

    def _apply_plot_style(self) -> None:
        """Lines, text and room of every plot for the current mode. The plots size their text
        themselves (pyqtgraph does not follow the application font)."""
        for plot in (self.learning_plot, self.fairness_plot, self.acquisition_plot):
            plot.set_line_width(self._line_width())
        for widget in (self.learning_plot, self.fairness_plot, self.acquisition_plot, self.gallery):
            widget.set_text_scale(LECTURE_SCALE if self.lecture else 1.0)
        # Below this a plot has no room left for its curves under its title, legend and axes, so the
        # docks give way first (they scroll). A lecture-mode window still fits an 800 x 600 projector.
        width, height = (360, 220) if self.lecture else (240, 170)
        for column in (0, 1):
            self._grid.setColumnMinimumWidth(column, width)
        for row in (1, 2):
            self._grid.setRowMinimumHeight(row, height)

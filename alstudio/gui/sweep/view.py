"""The sweep window: the grid as a colour-scaled table (cell x strategy), where each cell stands, and
Stop / Resume. Enter or a double-click on a row opens that cell's plots in the workbench window.

It watches the folder (SweepPoller), so a sweep that `alstudio sweep` runs in a terminal updates here
as one this window drives does; a drive of its own (SweepRunner, attached) adds the driver's ETA.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...engine.progress import eta_text
from ...engine.results import CI_MIN_SEEDS
from ...engine.sweep import Sweep, SweepOutcome, SweepStatus
from ..panels import describe
from .cell_status import CellStatusTable
from .colours import legend_html
from .poller import SweepPoller, SweepSnapshot
from .runner import SweepRunner
from .table import SORT_ROLE, SweepTableModel


def _button(text: str, name: str, shortcut: str, tip: str, slot) -> QPushButton:
    button = describe(QPushButton(text), name, text.replace("&", ""), f"{tip} ({shortcut})")
    button.setShortcut(QKeySequence(shortcut))
    button.clicked.connect(slot)
    return button


def _in_sentence(title: str) -> str:
    """"Final accuracy" -> "final accuracy"; acronyms ("AULC", "PPV gap") stay as they are."""
    return title if title[:2].isupper() else title[:1].lower() + title[1:]


class SweepView(QMainWindow):
    STOPPING = "Stopping after the current batches; every run so far is kept…"
    cell_opened = Signal(object)  # Path: the experiment folder of the cell to show
    resume_asked = Signal(object)  # Path: the sweep folder, to be driven again by this process
    closed = Signal(object)  # Path: the sweep folder

    def __init__(self, sweep: Sweep, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window)  # its own window, closed with the workbench
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.folder = sweep.folder
        self.setObjectName("sweepView")
        self.setAccessibleName(f"Sweep {sweep.folder.name}")
        self.setWindowTitle(f"alstudio sweep — {sweep.folder.name}")
        self.runner: SweepRunner | None = None
        self.status: SweepStatus | None = None  # the newest, the driver's when this window drives
        self._cells = {cell.id: cell.folder for cell in sweep.cells}
        self._outcome_text: str | None = None  # how this window's last drive ended
        self._fitted_width: int | None = None  # the width the table last gave the window
        self._driver_reported = False  # this window's drive has sent its status (with the ETA) since attach
        self.model = SweepTableModel(sweep, self)
        self.table = self._build_table()
        self.cell_table = CellStatusTable([cell.id for cell in sweep.cells])
        self.cell_table.activated.connect(self._open_cell)
        self._build_layout(sweep)
        self.resize(760, 680)
        self._fit_columns()
        self.poller = SweepPoller(sweep.folder, self)
        self.poller.snapshot.connect(self._on_snapshot)
        self._refresh_buttons()
        close = QAction("Close", self)
        close.setShortcut(QKeySequence.StandardKey.Close)
        close.triggered.connect(self.close)
        self.addAction(close)
        self.table.setFocus()

    # ---- construction -------------------------------------------------------------------------
    def _build_table(self) -> QTableView:
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        table = describe(QTableView(), "sweepTable", "Sweep results per cell and strategy",
                         "One row per cell x strategy; click a header to sort; Enter or a double-click "
                         "opens the cell's learning, fairness and acquisition plots")
        table.setModel(self.proxy)
        table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the grid's order first
        table.setSortingEnabled(True)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setWordWrap(False)
        table.verticalHeader().setVisible(False)
        table.activated.connect(self._open_row)  # Enter, or a double-click
        return table

    def _fit_columns(self) -> None:
        """Columns widen to their text (never narrow: a column the user widened stays so), and the window
        widens with them until the user gives it a width of their own."""
        header = self.table.horizontalHeader()
        for column in range(self.model.columnCount()):
            needed = max(self.table.sizeHintForColumn(column), header.sectionSizeHint(column))
            if self.table.columnWidth(column) < needed:
                self.table.setColumnWidth(column, needed)
        if self._fitted_width in (None, self.width()):
            wanted = header.length() + 2 * self.table.frameWidth() + 60
            screen = self.screen().availableGeometry().width() if self.screen() else wanted
            self.resize(min(max(self.width(), wanted), screen), self.height())
            self._fitted_width = self.width()

    def _build_layout(self, sweep: Sweep) -> None:
        metrics = self.model.metrics
        better = ", ".join(f"{'higher' if m.higher_is_better else 'lower'} {_in_sentence(m.title)}" for m in metrics)
        self.legend = describe(QLabel(), "sweepLegend", "What the colours mean")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.legend.setText(f"{legend_html()}&nbsp;&nbsp; Each column is coloured on its own: greener is better "
                            f"({better}). Numbers are the mean over seeds with its 95 % CI [low, high] from "
                            f"{CI_MIN_SEEDS} seeds on, ± std below; while runs go on, their latest cycle counts.")
        self.legend.setToolTip(metrics[-1].tooltip)
        self.grid_label = describe(QLabel(self._grid_text(sweep)), "sweepGrid", "The sweep's grid")
        self.grid_label.setWordWrap(True)
        self.grid_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = _button("&Open cell's plots", "openCellButton", "Ctrl+Return",
                                   "Show the selected cell in the workbench window: learning, fairness and "
                                   "acquisition plots (also Enter or a double-click on a row)", self._open_current)
        self.refresh_button = _button("Re&fresh", "refreshSweepButton", "F5", "Read the journals again now",
                                      self.refresh)
        self.resume_button = _button("&Resume", "resumeSweepButton", "Ctrl+R",
                                     "Run the unfinished and failed runs here, as alstudio resume does", self._resume)
        self.stop_button = _button("&Stop", "stopSweepButton", "Ctrl+.",
                                   "Stop after the current batches; every run is kept and can be resumed", self.stop)
        buttons = QHBoxLayout()
        for button in (self.open_button, self.refresh_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.resume_button)
        buttons.addWidget(self.stop_button)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.grid_label)
        top_layout.addWidget(self.table, 1)
        top_layout.addWidget(self.legend)
        splitter = QSplitter(Qt.Orientation.Vertical, objectName="sweepSplitter")
        splitter.addWidget(top)
        splitter.addWidget(self.cell_table)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        # Room for every row of both tables where the window allows (the results first).
        rows = max(self.model.rowCount(), 1), max(len(self._cells), 1)
        splitter.setSizes([120 + 30 * rows[0], 40 + 30 * rows[1]])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        self.setCentralWidget(central)

        self.progress_bar = describe(QProgressBar(), "sweepProgress", "Sweep progress",
                                     "Cycles evaluated, of every run's cycles")
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(240)
        self.state_label = describe(QLabel("Reading the journals…"), "sweepState", "Sweep state")
        self.statusBar().addWidget(self.state_label, 1)
        self.statusBar().addPermanentWidget(self.progress_bar)

    @staticmethod
    def _grid_text(sweep: Sweep) -> str:
        axes = "; ".join(f"{axis.key} = {', '.join(map(str, axis.values))}" for axis in sweep.cell_axes)
        runs = len(sweep.cells) * len(sweep.strategies) * sweep.seeds
        return (f"{sweep.folder}: {len(sweep.cells)} cell(s) ({axes or 'no axis but the strategies'}) x "
                f"{len(sweep.strategies)} strategies x {sweep.seeds} seed(s) = {runs} runs")

    # ---- a drive in this window ---------------------------------------------------------------
    def attach(self, runner: SweepRunner) -> None:
        """Show `runner`'s drive of this sweep: its status with the ETA, Stop, and how it ended."""
        self.runner = runner
        self._outcome_text = None
        self._driver_reported = False
        runner.progress.connect(self._on_driver_status)
        # Bound methods, never lambdas: Qt cuts these connections when this window is deleted first.
        runner.preparing.connect(self._on_preparing)
        runner.finished.connect(self._on_outcome)
        runner.failed.connect(self._on_failure)
        runner.ended.connect(self._on_detached)
        self.state_label.setText(self.STOPPING if runner.stopping else "Starting the sweep…")
        self._refresh_buttons()

    @property
    def driving(self) -> bool:
        return self.runner is not None and self.runner.running

    def stop(self) -> None:
        if self.driving:
            self.runner.stop()
            self.state_label.setText(self.STOPPING)
            self._refresh_buttons()

    def _on_preparing(self, text: str) -> None:
        self.state_label.setText(f"Preparing the runs' inputs: {text}")

    def _on_driver_status(self, status: SweepStatus) -> None:
        self._driver_reported = True
        self._show_status(status)

    def _on_outcome(self, outcome: SweepOutcome) -> None:
        if outcome.failed:
            box = QMessageBox(QMessageBox.Icon.Warning, "Runs failed",
                              f"{len(outcome.failed)} run(s) of the sweep failed after every attempt.", parent=self)
            box.setObjectName("sweepFailuresDialog")
            box.setInformativeText(f"The others went on. {self.folder / 'failures.json'} holds the errors; "
                                   "Resume tries the failed runs again.")
            box.setDetailedText("\n".join(f"{f.cell}: {f.strategy} seed {f.seed}, {f.attempts} attempt(s): "
                                          f"{f.message}" for f in outcome.failed))
            box.open()
        self._outcome_text = ("Finished: every run is done" if outcome.complete else
                              "Stopped: unfinished runs are kept; Resume continues them" if outcome.stopped else
                              f"Ended with {len(outcome.failed)} failed run(s); Resume tries them again")

    def _on_failure(self, failure) -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, "The sweep stopped", failure.message, parent=self)
        box.setObjectName("sweepErrorDialog")
        box.setInformativeText("Every run's journal is kept; Resume continues once the problem is put right.")
        if failure.traceback:
            box.setDetailedText(failure.traceback)
        box.open()
        self._outcome_text = f"Stopped: {failure.message}"

    def _on_detached(self) -> None:
        self.runner = None
        self.poller.refresh()  # what the driver wrote last
        self.state_label.setText(self._outcome_text or "Not running")
        self._refresh_buttons()

    # ---- what the poller reads ----------------------------------------------------------------
    def refresh(self) -> None:
        """Read the journals again now."""
        self.poller.refresh()

    def _on_snapshot(self, snapshot: SweepSnapshot) -> None:
        if snapshot.error is not None:
            self.statusBar().showMessage(f"Cannot read the sweep now: {snapshot.error}", 10_000)
            return
        self.model.show_summary(list(snapshot.rows))
        self._fit_columns()
        if not self.driving:
            self._show_status(snapshot.status)
        elif not self._driver_reported:  # the drive prepares its inputs: counts, but keep its stage line
            self._show_counts(snapshot.status)
        # Otherwise the drive here reports its own status, with the ETA.

    def _show_counts(self, status: SweepStatus) -> None:
        self.status = status
        self.cell_table.show_status(status)
        total = sum(c.cycles_total for c in status.cells)
        done = sum(min(c.cycles_done, c.cycles_total) for c in status.cells)
        self.progress_bar.setValue(round(1000 * done / total) if total else 0)
        self.progress_bar.setFormat(f"{status.done}/{status.runs} runs")
        self._refresh_buttons()

    def _show_status(self, status: SweepStatus) -> None:
        self._show_counts(status)
        if self.driving and self.runner.stopping:
            return  # "Stopping…" stays until the drive ends
        pending = status.runs - status.done - status.running - status.failed
        counts = (f"{status.done}/{status.runs} runs done, {status.running} running, {status.failed} failed, "
                  f"{pending} pending")
        if self.driving:
            where = "running here" + (f", {eta_text(status.eta_seconds)}" if status.eta_seconds is not None else "")
        elif status.driver_running:
            where = "another process runs it (alstudio sweep or resume)"
        elif self.runner is None and self._outcome_text is not None:
            where = self._outcome_text
        else:
            where = "finished" if status.done == status.runs else "not running; Resume continues it"
        self.state_label.setText(f"{counts} — {where}")

    def _refresh_buttons(self) -> None:
        self.stop_button.setEnabled(self.driving and not self.runner.stopping)
        status = self.status
        unfinished = status is not None and status.done < status.runs
        self.resume_button.setEnabled(self.runner is None and unfinished and not status.driver_running)
        self.open_button.setEnabled(self.model.rowCount() > 0)

    # ---- opening a cell -----------------------------------------------------------------------
    def _open_row(self, index: QModelIndex) -> None:
        if index.isValid():
            self.cell_opened.emit(self.model.folder(self.proxy.mapToSource(index).row()))

    def _open_current(self) -> None:
        index = self.table.currentIndex()
        self._open_row(index if index.isValid() else self.proxy.index(0, 0))

    def _open_cell(self, index: QModelIndex) -> None:
        self.cell_opened.emit(self._cells[self.cell_table.cell_at(index.row())])

    def _resume(self) -> None:
        self.resume_asked.emit(self.folder)

    # ---- closing ------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if self.driving and not self.runner.stopping:
            answer = QMessageBox.question(
                self, "Stop the sweep?", "This window runs the sweep. Stop it? The running runs end after their "
                "current batch; everything so far is kept, and Resume (or alstudio resume) continues it.")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.runner.stop()
        self.poller.stop()
        self.closed.emit(self.folder)
        super().closeEvent(event)

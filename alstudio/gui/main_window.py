"""The workbench window: set-up docks, run controls, live plots and the labeling dialog."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QFrame,
    QGridLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QToolBar,
    QWidget,
)

from ..engine import config as configs
from ..engine.errors import ConfigError, UserInputError
from ..engine.experiment import Experiment
from ..engine.loop import Failed
from ..engine.paths import experiments_dir
from ..engine.progress import ProgressReport, eta_text
from ..engine.results import annotation_name, collect_rows, write_metrics_csv
from ..engine.runner import samples_awaiting_labels, unfinished_runs
from .dialogs.labeling import LabelingDialog, LabelItem
from .garbage import collect_on_gui_thread
from .panels.annotator import AnnotatorPanel, agreement_text
from .panels.dataset import DatasetPanel
from .panels.strategies import StrategiesPanel
from .panels.training import TrainingPanel
from .plots import LearningCurvePlot
from .plots.acquisition import AcquisitionPlot
from .plots.fairness import FairnessPlot
from .plots.gallery import GalleryItem, QueryGallery
from .worker import CycleReport, LabelRequest, RunController

RECENT_KEY = "recentExperiments"
LECTURE_SCALE = 1.5  # text in lecture mode, against its normal size


def _prediction_text(probs: tuple[float, ...], class_names: list[str]) -> str:
    best = max(range(len(probs)), key=probs.__getitem__)
    return f"{class_names[best]} ({probs[best]:.2f})"


class MainWindow(QMainWindow):
    cycle_shown = Signal(int)  # for scripted mode and tests: a cycle result reached the plots

    def __init__(self, config: configs.ExperimentConfig, workers: int | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setAccessibleName("alstudio workbench")
        self.config = config
        self.experiment: Experiment | None = None
        self.dataset = None
        self.rows: list[dict] = []
        self.pending_labels: LabelRequest | None = None
        self.predictions: dict[int, str] = {}  # queried sample -> the model's prediction, for the hints
        self.labeling_dialog: LabelingDialog | None = None
        self.lecture_mode = False
        self._state = "idle"  # of the run: idle, running or paused
        self.config_error: str | None = None  # what is wrong with the panels' set-up, if anything
        self._stage: tuple[str, float | None] = ("", None)  # the last stage shown, and its ETA
        self._stopping = False
        self._garbage_collector = collect_on_gui_thread(self)
        self.controller = RunController(self, workers)
        self._connect_controller()
        self._build_docks()
        self._build_plots()
        self._build_toolbar()
        self._build_menus()
        self.statusBar().setObjectName("statusBar")
        self.llm_label = QLabel("", objectName="llmAccountingLabel")
        self.llm_label.setAccessibleName("LLM annotator accounting")
        self.llm_label.setToolTip("The LLM annotator in this run: answers accepted, images flagged to you, "
                                  "agreement with the true class where known, and the cost so far")
        self.statusBar().addPermanentWidget(self.llm_label)
        self.locked_label = QLabel("Settings fixed by this experiment (Ctrl+Shift+N: edit a copy)",
                                   objectName="settingsLockedLabel")
        self.locked_label.setAccessibleName("Settings are read-only")
        self.locked_label.setToolTip("The panels show the settings this experiment runs with. To change them, "
                                     "File > New from this config starts a new experiment with a copy.")
        self.statusBar().addPermanentWidget(self.locked_label)
        self._show_config(config)
        self._update_title()
        self._set_state("idle")
        self.resize(1500, 950)

    # ---- construction -------------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        # A panel taller or wider than its dock scrolls there, instead of painting over the tab bar.
        scroll = QScrollArea(objectName=f"{name}Scroll", widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setWidget(widget)
        dock.setWidget(scroll)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        return dock

    def _build_docks(self) -> None:
        self.dataset_panel = DatasetPanel()
        self.strategies_panel = StrategiesPanel()
        self.training_panel = TrainingPanel()
        self.annotator_panel = AnnotatorPanel()
        self.panels = [self.dataset_panel, self.strategies_panel, self.training_panel, self.annotator_panel]
        docks = [self._dock("Dataset && bias", "datasetDock", self.dataset_panel),
                 self._dock("Strategies", "strategiesDock", self.strategies_panel),
                 self._dock("Training", "trainingDock", self.training_panel),
                 self._dock("Annotator", "annotatorDock", self.annotator_panel)]
        for dock in docks[1:]:
            self.tabifyDockWidget(docks[0], dock)
        docks[0].raise_()
        self.docks = docks
        for panel in self.panels:
            panel.changed.connect(self._on_panel_changed)

    def _make_result_plots(self) -> None:
        """Fresh fairness and acquisition plots for the current config (the acquisition plot's groups)."""
        self.fairness_plot = FairnessPlot()
        self.fairness_plot.setAccessibleName("Fairness plot")
        self.acquisition_plot = AcquisitionPlot(self.config.dataset)
        self.acquisition_plot.setAccessibleName("Acquisition plot")

    def _build_plots(self) -> None:
        # Made once and only emptied: the experiments compared with survive a new run (a baseline to beat).
        self.learning_plot = LearningCurvePlot(line_width=self._line_width())
        self._make_result_plots()
        self.gallery = QueryGallery()
        self.gallery.setAccessibleName("Last queried batch")
        self.cycle_counter = QLabel("", objectName="cycleCounter", alignment=Qt.AlignmentFlag.AlignCenter)
        self.cycle_counter.setAccessibleName("Current cycle")
        self.cycle_counter.setVisible(False)
        central = QWidget(objectName="plotArea")
        grid = QGridLayout(central)
        grid.addWidget(self.cycle_counter, 0, 0, 1, 2)
        grid.addWidget(self.learning_plot, 1, 0)
        grid.addWidget(self.fairness_plot, 1, 1)
        grid.addWidget(self.acquisition_plot, 2, 0)
        grid.addWidget(self.gallery, 2, 1)
        self.setCentralWidget(central)
        self._apply_plot_style()  # and the plots' minimum sizes

    def _action(self, text: str, name: str, shortcut, slot, tip: str) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{tip} ({action.shortcut().toString()})" if shortcut else tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_toolbar(self) -> None:
        bar = QToolBar("Run", self)
        bar.setObjectName("runToolbar")
        bar.setMovable(False)
        self.start_action = self._action("Start", "startAction", "Ctrl+R", self.start, "Start the experiment")
        self.pause_action = self._action("Pause", "pauseAction", "Ctrl+P", self.toggle_pause,
                                         "Pause after the current batch, or resume")
        self.step_action = self._action("Step", "stepAction", "Ctrl+T", self.step, "Run one more cycle, then pause")
        self.stop_action = self._action("Stop", "stopAction", "Ctrl+.", self.stop, "Stop; everything so far is kept")
        for action, name in ((self.start_action, "startButton"), (self.pause_action, "pauseButton"),
                             (self.step_action, "stepButton"), (self.stop_action, "stopButton")):
            bar.addAction(action)
            button = bar.widgetForAction(action)
            button.setObjectName(name)
            button.setAccessibleName(action.text())
        bar.addSeparator()
        self.progress_bar = QProgressBar(objectName="runProgress")
        self.progress_bar.setAccessibleName("Run progress")
        # The bar gives way to the stage text, so that in an 800-pixel-wide window the stage is read in
        # full rather than hidden in the toolbar's overflow menu; a longer one is cut, not hidden.
        self.progress_bar.setRange(0, 1000)  # in thousandths of the experiment
        self.progress_bar.setMinimumWidth(120)
        self.progress_bar.setMaximumWidth(420)  # a wide window gives the room to the stage text
        self.progress_bar.setTextVisible(True)
        self.stage_label = QLabel("Ready", objectName="stageLabel")
        self.stage_label.setAccessibleName("Run stage")
        self.stage_label.setMinimumWidth(160)
        bar.addWidget(self.progress_bar)
        bar.addWidget(self.stage_label)
        self.addToolBar(bar)
        self.toolbar = bar

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self._action("&New experiment", "newAction", QKeySequence.StandardKey.New,
                                         self.new_experiment, "Start over from the default experiment"))
        self.new_from_config_action = self._action(
            "New &from this config", "newFromConfigAction", "Ctrl+Shift+N", self.new_from_this_config,
            "A new experiment with these settings, editable (an experiment's own settings are fixed)")
        file_menu.addAction(self.new_from_config_action)
        file_menu.addAction(self._action("&Open experiment folder…", "openAction", QKeySequence.StandardKey.Open,
                                         self.open_experiment_dialog, "Show a finished or interrupted experiment"))
        file_menu.addAction(self._action("Open confi&g…", "openConfigAction", "Ctrl+Shift+T", self.open_config_dialog,
                                         "Set up a new experiment from a TOML config file"))
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.setObjectName("recentMenu")
        self._fill_recent_menu()
        file_menu.addAction(self._action("&Save config as…", "saveConfigAction", QKeySequence.StandardKey.Save,
                                         self.save_config_dialog, "Save the current set-up as a TOML file"))
        file_menu.addAction(self._action("&Compare with experiment…", "compareAction", "Ctrl+Shift+O",
                                         self.compare_dialog, "Add another experiment's learning curves, e.g. "
                                         "human-only or oracle runs next to LLM-assisted ones"))
        file_menu.addAction(self._action("C&lear comparison", "clearComparisonAction", None, self.clear_comparison,
                                         "Show only this experiment's learning curves again"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("Export plots…", "exportPlotsAction", "Ctrl+E", self.export_plots_dialog,
                                         "Save the three plots as PNG and SVG in a folder"))
        file_menu.addAction(self._action("Export metrics CSV…", "exportCsvAction", "Ctrl+Shift+E",
                                         self.export_csv_dialog, "Save every cycle's metrics as CSV"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", "quitAction", QKeySequence.StandardKey.Quit, self.close, "Quit"))
        view_menu = menu.addMenu("&View")
        self.lecture_action = self._action("&Lecture mode", "lectureAction", "F11", self.toggle_lecture_mode,
                                           "Large fonts and lines; Space pauses or resumes, Right runs one cycle")
        self.lecture_action.setCheckable(True)
        view_menu.addAction(self.lecture_action)
        for dock in self.docks:
            view_menu.addAction(dock.toggleViewAction())
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("&About alstudio", "aboutAction", None, self.about, "About"))
        # Presenter keys, active only in lecture mode.
        self.space_action = self._action("Pause or resume", "presenterPause", "Space", self.toggle_pause, "")
        self.right_action = self._action("One more cycle", "presenterStep", "Right", self.step, "")

    def _connect_controller(self) -> None:
        c = self.controller
        c.progress.connect(self._on_progress)
        c.dataset_ready.connect(self._on_dataset_ready)
        c.cycle_result.connect(self._on_cycle_result)
        c.need_labels.connect(self._on_need_labels)
        c.failed.connect(self._on_failed)
        c.done.connect(self._on_done)
        c.state_changed.connect(self._set_state)

    # ---- config -------------------------------------------------------------------------------
    def _show_config(self, config: configs.ExperimentConfig) -> None:
        for panel in self.panels:
            panel.set_config(config)

    def _on_panel_changed(self) -> None:
        data = self.config.model_dump()
        for panel in self.panels:
            panel.apply_to(data)
        try:
            self.config = configs.validate(data, "the set-up")
        except ConfigError as err:
            self.config_error = str(err)  # self.config keeps the last valid set-up, which must not run
            self.statusBar().showMessage(self.config_error)
        else:
            if self.config_error is not None:
                self.statusBar().clearMessage()
            self.config_error = None
        self._refresh_actions()

    # ---- experiments --------------------------------------------------------------------------
    def new_experiment(self) -> None:
        self._new_from(configs.load_preset(configs.DEFAULT_PRESET))

    def new_from_this_config(self) -> None:
        """A new, editable experiment with the settings on screen (an experiment's own are fixed)."""
        self._new_from(self.config)

    def _new_from(self, config: configs.ExperimentConfig) -> bool:
        """False when the user kept the run going instead."""
        if not self._confirm_leaving_run():
            return False
        self.experiment = None
        self.config, self.config_error = config, None
        self._show_config(self.config)
        self._clear_results()
        self._update_title()
        self.start_action.setText("Start")
        self._refresh_actions()
        return True

    def _new_experiment_folder(self) -> Path:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        return experiments_dir() / f"{stamp}-{self.config.dataset.bias}-{self.config.dataset.sensitive_attribute}"

    def can_start(self) -> bool:
        """Whether Start, Step and the presenter's Right key may begin work now."""
        return self._state == "idle" and self.config_error is None

    def start(self) -> None:
        if self.controller.running:
            return
        if self.config_error is not None:
            self.statusBar().showMessage(f"Cannot start: {self.config_error}")
            return
        try:
            if self.experiment is None or not unfinished_runs(self.experiment):
                folder = self._new_experiment_folder()
                folder.parent.mkdir(parents=True, exist_ok=True)
                active = self.config.active
                self.experiment = Experiment.create(folder, self.config, active.run_strategies(),
                                                    active.repetitions, flagged_to="human")
                self._clear_results()
                self.progress_bar.setValue(0)
            else:  # resuming: one writer per folder, be it this window, another one or `alstudio run`
                self.experiment = self.experiment.for_writing()
            self._remember_recent(self.experiment.folder)
        except (UserInputError, OSError) as err:
            QMessageBox.warning(self, "Cannot start", str(err))
            return
        self._update_title()
        self.controller.start(self.experiment)

    def toggle_pause(self) -> None:
        if not self.controller.running:
            return
        if self.controller.paused:
            self.controller.resume()
            if self.pending_labels is not None and self.labeling_dialog is None:
                self._open_labeling_dialog()
        else:
            self.controller.pause()

    def step(self) -> None:
        if not self.controller.running:
            self.start()  # refuses an invalid set-up, and then there is nothing to step
        self.controller.step()

    def stop(self) -> None:
        if self.controller.running:
            self._stopping = True
            self._show_stage()
        self.controller.stop(wait=False)

    def open_experiment_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open experiment folder", str(experiments_dir()))
        if folder:
            self.open_experiment(folder)

    def open_experiment(self, folder: str | Path) -> None:
        if not self._confirm_leaving_run():
            return
        try:
            experiment = Experiment.open(folder)
            rows = collect_rows(experiment)
            pending = unfinished_runs(experiment)
            awaiting = samples_awaiting_labels(experiment)
        except UserInputError as err:
            QMessageBox.warning(self, "Cannot open experiment", str(err))
            return
        self.experiment, self.config, self.config_error = experiment, experiment.config, None
        self._show_config(self.config)
        self._clear_results()
        self.rows = rows
        self._redraw()
        self._refresh_actions()
        cycles = len(experiment.runs()) * (self.config.active.cycles + 1)
        self.progress_bar.setValue(round(1000 * len(rows) / cycles))
        self._stage = ("", None)
        self.stage_label.setText("Interrupted; press Resume to continue" if pending else "Finished")
        if rows and self.config.annotator.kind == "llm":
            self.annotator_panel.show_accounting(rows[-1])
        self._remember_recent(experiment.folder)
        self._update_title()
        if pending:
            self.start_action.setText("Resume")
            waits = f"; {awaiting} sample(s) the LLM was unsure of wait for your labels" if awaiting else ""
            self.statusBar().showMessage(f"{len(pending)} unfinished run(s){waits}: press Resume to continue them")
        else:
            self.statusBar().showMessage("This experiment is finished")

    def open_config_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open config", "", "TOML config (*.toml);;All files (*)")
        if path:
            self.open_config(path)

    def open_config(self, path: str | Path) -> bool:
        """A TOML config in the panels, as a new experiment not yet started. A file with a problem
        changes nothing: a dialog gives the engine's sentence naming the key."""
        try:
            config = configs.load(path)
        except UserInputError as err:
            QMessageBox.warning(self, "Cannot open config", str(err))
            return False
        if not self._new_from(config):
            return False
        self.setWindowTitle(f"alstudio — {Path(path).name}")
        self.statusBar().showMessage(f"Config {path} loaded: press Start to run it")
        return True

    def compare_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Compare with experiment folder", str(experiments_dir()))
        if folder:
            self.compare_with(folder)

    def compare_with(self, folder: str | Path) -> None:
        """Another experiment's learning curves next to this one's (its labels, and its labels from people)."""
        try:
            other = Experiment.open(folder)
            rows = collect_rows(other)
        except UserInputError as err:
            QMessageBox.warning(self, "Cannot compare", str(err))
            return
        if not rows:
            QMessageBox.warning(self, "Cannot compare", f"{folder}: no finished cycle to compare yet")
            return
        differ = (configs.differences(self.config.dataset, other.config.dataset, "dataset.")
                  + configs.differences(self.config.model, other.config.model, "model."))
        caveat = f"another set-up: {'; '.join(differ)}" if differ else ""
        shown = self.learning_plot.compare(annotation_name(other), rows, caveat)
        warning = f" Careful, {caveat} (ours vs theirs)." if caveat else ""
        self.statusBar().showMessage(f"Learning curves of {Path(folder).name} added as “{shown}”; "
                                     f"Against: labels from people compares human effort.{warning}")

    def clear_comparison(self) -> None:
        self.learning_plot.clear_comparisons()

    def save_config_dialog(self) -> None:
        if self.config_error is not None:  # self.config is the last valid set-up, not what the panels show
            QMessageBox.warning(self, "Cannot save", f"The set-up has a problem: {self.config_error}")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save config as", "experiment.toml", "TOML (*.toml)")
        if path:
            try:
                configs.save(self.config, path)
            except OSError as err:
                QMessageBox.warning(self, "Cannot save", f"{path}: {err.strerror}")

    def export_plots_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export plots to folder")
        if not folder:
            return
        try:
            self.export_plots(Path(folder))
        except UserInputError as err:
            QMessageBox.warning(self, "Cannot export plots", str(err))

    def export_plots(self, folder: str | Path) -> list[Path]:
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
        written = [path for _, path in staged]
        self.statusBar().showMessage(f"Exported {', '.join(p.name for p in written)} to {folder}")
        return written

    def export_csv_dialog(self) -> None:
        """The experiment's metrics.csv as `alstudio run` writes it: the same rows from the journals,
        through the same writer (the rows the plots hold lack the timings the journal keeps)."""
        try:
            rows = collect_rows(self.experiment) if self.experiment is not None else []
        except UserInputError as err:
            QMessageBox.warning(self, "Cannot export metrics", str(err))
            return
        if not rows:
            QMessageBox.information(self, "No metrics to export", "There are no metrics to export yet: run an "
                                    "experiment until its first cycle, or open one (File > Open experiment folder).")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export metrics", "metrics.csv", "CSV (*.csv)")
        if not path:
            return
        try:
            write_metrics_csv(rows, Path(path))
        except OSError as err:
            QMessageBox.warning(self, "Cannot export metrics", f"{path}: cannot be written ({err.strerror or err})")
            return
        self.statusBar().showMessage(f"Exported the metrics of {len(rows)} cycle(s) to {path}")

    def _remember_recent(self, folder: Path) -> None:
        settings = QSettings()
        recent = [str(folder)] + [f for f in (settings.value(RECENT_KEY) or []) if f != str(folder)]
        settings.setValue(RECENT_KEY, recent[:8])
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for folder in QSettings().value(RECENT_KEY) or []:
            action = self.recent_menu.addAction(folder)
            action.triggered.connect(lambda checked=False, f=folder: self.open_experiment(f))
        self.recent_menu.setEnabled(bool(self.recent_menu.actions()))

    def _confirm_leaving_run(self) -> bool:
        if not self.controller.running:
            return True
        answer = QMessageBox.question(self, "Stop the running experiment?",
                                      "An experiment is running. Stop it? Everything so far is saved and it can be "
                                      "resumed later.")
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.controller.stop(wait=True)
        return True

    # ---- run events ---------------------------------------------------------------------------
    def _on_progress(self, report: ProgressReport) -> None:
        # The engine's fraction never goes back; a resumed experiment may re-estimate a little lower.
        self.progress_bar.setValue(max(self.progress_bar.value(), round(1000 * report.fraction)))
        self._stage = (report.stage_line(), report.eta_seconds)
        self._show_stage()
        if report.stage == "training" and self.gallery.hidden():
            self.gallery.set_hidden(())  # training again: every label of the batch is in

    def _show_stage(self) -> None:
        """The stage line: what runs now and the time left, or why nothing moves (paused, stopping)."""
        text, eta = self._stage
        if self._stopping:
            self.stage_label.setText("Stopping after the current batch…")
        elif self._state == "paused":
            where = f": {text}" if text else ""
            self.stage_label.setText(f"Paused{where} — Resume (Ctrl+P) or Step (Ctrl+T)")
        else:
            self.stage_label.setText(text + (f", {eta_text(eta)}" if eta is not None else ""))

    def _on_dataset_ready(self, dataset) -> None:
        self.dataset = dataset

    def _on_cycle_result(self, payload: CycleReport) -> None:
        self.rows.append(payload.row)
        row = payload.row
        if self.config.annotator.kind == "llm":
            self.annotator_panel.show_accounting(row)
            self.llm_label.setText(f"LLM: {row['llm_labels']} labels, {row['flagged']} flagged to you, "
                                   f"agreement {agreement_text(row)}, ${row['llm_cost_usd']:.4f}")
        self._redraw()
        cycles = self.config.active.cycles
        self.cycle_counter.setText(f"{payload.run} — cycle {payload.cycle} of {cycles} — "
                                   f"{payload.n_labeled} labels")
        names = self.config.dataset.classes
        self.predictions = {q.sample: _prediction_text(q.probs, names) for q in payload.queried if q.probs}
        if payload.queried and self.dataset is not None:
            groups = self.config.dataset.groups
            items = [GalleryItem(q.sample, self.dataset.pool.images[q.sample], names[q.class_index],
                                 groups[q.group], q.score, dict(q.scores)) for q in payload.queried]
            # Their labels are still to come: a person must not read the true class off the gallery.
            asks_people = self.config.annotator.kind in ("human", "llm")
            pending = [item.sample for item in items] if asks_people else []
            self.gallery.show_batch(payload.strategy, payload.cycle, items, hidden=pending)
        self.cycle_shown.emit(payload.cycle)

    def _redraw(self) -> None:
        name = annotation_name(self.experiment) if self.experiment is not None else self.config.annotator.kind
        self.learning_plot.set_rows(self.rows, name)
        self.fairness_plot.set_rows(self.rows)
        self.acquisition_plot.set_rows(self.rows)

    def _clear_results(self) -> None:
        self.rows = []
        self.learning_plot.set_rows([], "")
        central_grid = self.centralWidget().layout()
        for old in (self.fairness_plot, self.acquisition_plot):
            central_grid.removeWidget(old)
            old.hide()  # until the event loop deletes it, it would still paint under its successor
            old.deleteLater()
        self._make_result_plots()
        central_grid.addWidget(self.fairness_plot, 1, 1)
        central_grid.addWidget(self.acquisition_plot, 2, 0)
        self._apply_plot_style()
        self.gallery.clear()
        self.annotator_panel.clear_accounting()

    def _on_need_labels(self, request: LabelRequest) -> None:
        self.pending_labels = request
        self.gallery.set_hidden(request.samples)  # what the LLM decided may show; what you label may not
        self._open_labeling_dialog()

    def _open_labeling_dialog(self) -> None:
        request = self.pending_labels
        if request is None or self.dataset is None:
            return
        pool = self.dataset.pool
        groups = self.config.dataset.groups
        items = [LabelItem(s, pool.images[s], groups[int(pool.groups[s])], self.predictions.get(s),
                           tuple("?" if v is None else v for v in request.votes.get(s, ())))
                 for s in request.samples]
        # A human annotator's batch carries empty vote lists: only an LLM's flags are "unsure".
        what = "samples the LLM was unsure of" if self.config.annotator.kind == "llm" else "queried samples"
        title = f"Label {len(items)} {what} — {request.run}, cycle {request.cycle}"
        dialog = LabelingDialog(items, list(self.config.dataset.classes), self, title=title)
        human = self.controller.human
        dialog.answered.connect(human.submit)
        dialog.retracted.connect(human.retract)
        dialog.submitted.connect(self._on_labels_submitted)
        dialog.postponed.connect(self._on_labels_postponed)
        self.labeling_dialog = dialog
        dialog.open()

    def _on_labels_submitted(self) -> None:
        self.controller.human.close_batch()
        self.gallery.set_hidden(())
        self.pending_labels = None
        self.labeling_dialog = None

    def _on_labels_postponed(self) -> None:
        # Answers given so far are journalled; the run waits, paused, until Resume reopens the dialog.
        if self.labeling_dialog is not None:
            answered = set(self.labeling_dialog.answers())
            self.pending_labels = dataclasses.replace(
                self.pending_labels, samples=tuple(s for s in self.pending_labels.samples if s not in answered))
        self.labeling_dialog = None
        self.controller.pause()
        self.statusBar().showMessage("Labeling postponed: the run is paused; Resume to label the rest")

    def _on_failed(self, failure: Failed) -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, "The run failed", failure.message, parent=self)
        box.setObjectName("errorDialog")
        box.setInformativeText("Everything up to the failure is saved in the experiment's journals.")
        box.setDetailedText(failure.traceback)
        box.open()
        self.error_box = box

    def _on_done(self, finished: bool) -> None:
        self._stopping = False
        if self.experiment is not None:
            self.experiment.release()  # viewing needs no lock; Resume takes it again
        self._stage = ("", None)
        self.stage_label.setText("Finished" if finished else "Stopped; press Resume to continue")
        if finished:
            self.progress_bar.setValue(self.progress_bar.maximum())
        self.start_action.setText("Start" if finished else "Resume")

    def _set_state(self, state: str) -> None:
        self._state = state
        self._refresh_actions()
        if state != "idle":
            self._show_stage()

    def _refresh_actions(self) -> None:
        """Every control that starts work honours the same rule (can_start); an experiment's settings
        are read-only: editing means File > New from this config."""
        running = self._state != "idle"
        self.start_action.setEnabled(self.can_start())
        self.pause_action.setEnabled(running)
        self.pause_action.setText("Resume" if self._state == "paused" else "Pause")
        self.stop_action.setEnabled(running)
        self.step_action.setEnabled(self.can_start() or self._state == "paused")
        self.space_action.setEnabled(self.lecture_mode)
        self.right_action.setEnabled(self.lecture_mode and self.step_action.isEnabled())
        self.new_from_config_action.setEnabled(not running and self.experiment is not None)
        for panel in self.panels:
            panel.set_editable(not running and self.experiment is None)
        self.locked_label.setVisible(self.experiment is not None)

    # ---- lecture mode -------------------------------------------------------------------------
    def _line_width(self) -> float:
        return 5.0 if self.lecture_mode else 2.5

    def toggle_lecture_mode(self) -> None:
        self.lecture_mode = not self.lecture_mode
        self.lecture_action.setChecked(self.lecture_mode)
        app = QApplication.instance()
        if not hasattr(self, "_normal_font"):
            self._normal_font = QFont(app.font())
        font = QFont(self._normal_font)
        if self.lecture_mode:
            font.setPointSizeF(self._normal_font.pointSizeF() * LECTURE_SCALE)
        app.setFont(font)
        self.cycle_counter.setVisible(self.lecture_mode)
        counter_font = QFont(font)
        counter_font.setPointSizeF(font.pointSizeF() * 2)
        counter_font.setBold(True)
        self.cycle_counter.setFont(counter_font)
        self._apply_plot_style()
        self._refresh_actions()  # the presenter keys
        for dock in self.docks:
            dock.setVisible(not self.lecture_mode)

    def _apply_plot_style(self) -> None:
        """Lines, text and room of every plot for the current mode: thicker, larger and roomier in lecture
        mode. The plots size their text themselves (pyqtgraph does not follow the application font)."""
        for plot in (self.learning_plot, self.fairness_plot, self.acquisition_plot):
            plot.set_line_width(self._line_width())
        for widget in (self.learning_plot, self.fairness_plot, self.acquisition_plot, self.gallery):
            widget.set_text_scale(LECTURE_SCALE if self.lecture_mode else 1.0)
        # Below this a plot has no room left for its curves under its title, legend and axes, so the
        # docks give way first (they scroll). A lecture-mode window still fits an 800 x 600 projector.
        width, height = (360, 220) if self.lecture_mode else (240, 170)
        grid = self.centralWidget().layout()
        for column in (0, 1):
            grid.setColumnMinimumWidth(column, width)
        for row in (1, 2):
            grid.setRowMinimumHeight(row, height)

    # ---- misc ---------------------------------------------------------------------------------
    def _update_title(self) -> None:
        where = f" — {self.experiment.folder.name}" if self.experiment else ""
        self.setWindowTitle(f"alstudio{where}")

    def about(self) -> None:
        from .. import __version__

        QMessageBox.about(self, "About alstudio", f"alstudio {__version__}\nActive learning on biased Synbols, "
                          "with fairness metrics, live plots and in-app labeling.")

    def closeEvent(self, event) -> None:
        if self.controller.running:
            answer = QMessageBox.question(
                self, "Quit during a run?", "An experiment is running. Quit anyway? It stops after the current "
                "batch; everything so far is saved and `alstudio resume` or File > Open continues it.")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.controller.stop(wait=True)
        if self.experiment is not None:
            self.experiment.release()
        if self.labeling_dialog is not None:
            self.labeling_dialog.close()
        if self.lecture_mode:
            self.toggle_lecture_mode()  # the enlarged font is the application's: give it back
        super().closeEvent(event)

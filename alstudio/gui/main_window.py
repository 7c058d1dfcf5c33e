"""The workbench window: composes the set-up docks over one ConfigModel, the run session, the results
area, the labeling hand-off, lecture mode and recent files, and holds the menus and file commands."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QFrame, QLabel, QMainWindow, QMessageBox, QScrollArea, QWidget

from ..engine import config as configs
from ..engine.errors import UserInputError
from ..engine.experiment import Experiment
from ..engine.paths import experiments_dir
from ..engine.results import LLMAccounting, annotation_name, collect_rows, write_metrics_csv
from ..engine.runner import samples_awaiting_labels, unfinished_runs
from .actions import make_action
from .config_model import ConfigModel
from .garbage import collect_on_gui_thread
from .labeling_handoff import LabelingHandoff
from .lecture import LectureMode
from .panels.annotator import AnnotatorPanel
from .panels.dataset import DatasetPanel
from .panels.strategies import StrategiesPanel
from .panels.training import TrainingPanel
from .recent import RecentExperiments
from .results_area import ResultsArea
from .run_session import RunSession
from .sweep import SweepLauncher
from .worker import CycleReport, LabelRequest


def _part(part: str, name: str) -> property:
    """A window attribute that a part owns (read-only): scripts and tests keep reading it on the window."""
    return property(lambda self: getattr(getattr(self, part), name), doc=f"self.{part}.{name}")


class MainWindow(QMainWindow):
    cycle_shown = Signal(int)  # for scripted mode and tests: a cycle result reached the plots

    config = _part("config_model", "config")  # the last valid set-up
    config_error = _part("config_model", "error")
    experiment = _part("session", "experiment")
    dataset = _part("session", "dataset")
    controller = _part("session", "controller")
    error_box = _part("session", "error_box")
    can_start = _part("session", "can_start")
    start = _part("session", "start")
    step = _part("session", "step")
    stop = _part("session", "stop")
    toggle_pause = _part("session", "toggle_pause")
    start_action = _part("session", "start_action")
    pause_action = _part("session", "pause_action")
    step_action = _part("session", "step_action")
    stop_action = _part("session", "stop_action")
    progress_bar = _part("session", "progress_bar")
    stage_label = _part("session", "stage_label")
    toolbar = _part("session", "toolbar")
    rows = _part("results", "rows")
    learning_plot = _part("results", "learning_plot")
    fairness_plot = _part("results", "fairness_plot")
    acquisition_plot = _part("results", "acquisition_plot")
    gallery = _part("results", "gallery")
    cycle_counter = _part("results", "cycle_counter")
    pending_labels = _part("handoff", "pending")
    labeling_dialog = _part("handoff", "dialog")
    predictions = _part("handoff", "predictions")
    lecture_mode = _part("lecture", "active")

    def __init__(self, config: configs.ExperimentConfig, workers: int | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setAccessibleName("alstudio workbench")
        self._garbage_collector = collect_on_gui_thread(self)
        self._problem_shown: str | None = None  # the set-up problem the status bar was given, if any
        self.config_model = ConfigModel(config, self)
        self.session = RunSession(self, self.config_model, workers)
        self.sweeps = SweepLauncher(self, self.config_model)
        self._build_docks()
        self.results = ResultsArea(config.dataset)
        self.setCentralWidget(self.results)
        self.handoff = LabelingHandoff(self, self.results.gallery)
        self.lecture = LectureMode(self)
        self.addToolBar(self.session.toolbar)
        self._build_menus()
        self._build_status_bar()
        self._connect_parts()
        self._update_title()
        self._refresh_actions()
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
        model = self.config_model
        self.dataset_panel = DatasetPanel(model)
        self.strategies_panel = StrategiesPanel(model)
        self.training_panel = TrainingPanel(model)
        self.annotator_panel = AnnotatorPanel(model)
        self.panels = [self.dataset_panel, self.strategies_panel, self.training_panel, self.annotator_panel]
        docks = [self._dock("Dataset && bias", "datasetDock", self.dataset_panel),
                 self._dock("Strategies", "strategiesDock", self.strategies_panel),
                 self._dock("Training", "trainingDock", self.training_panel),
                 self._dock("Annotator", "annotatorDock", self.annotator_panel)]
        for dock in docks[1:]:
            self.tabifyDockWidget(docks[0], dock)
        docks[0].raise_()
        self.docks = docks

    def _build_menus(self) -> None:
        def action(*args):
            return make_action(self, *args)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(action("&New experiment", "newAction", QKeySequence.StandardKey.New,
                                   self.new_experiment, "Start over from the default experiment"))
        self.new_from_config_action = action(
            "New &from this config", "newFromConfigAction", "Ctrl+Shift+N", self.new_from_this_config,
            "A new experiment with these settings, editable (an experiment's own settings are fixed)")
        file_menu.addAction(self.new_from_config_action)
        file_menu.addAction(action("&Open experiment folder…", "openAction", QKeySequence.StandardKey.Open,
                                   self.open_experiment_dialog, "Show a finished or interrupted experiment"))
        file_menu.addAction(action("Open confi&g…", "openConfigAction", "Ctrl+Shift+T", self.open_config_dialog,
                                   "Set up a new experiment from a TOML config file"))
        recent_menu = file_menu.addMenu("Open &recent")
        recent_menu.setObjectName("recentMenu")
        self.recent = RecentExperiments(recent_menu, self)
        file_menu.addAction(action("&Save config as…", "saveConfigAction", QKeySequence.StandardKey.Save,
                                   self.save_config_dialog, "Save the current set-up as a TOML file"))
        file_menu.addAction(action("&Compare with experiment…", "compareAction", "Ctrl+Shift+O",
                                   self.compare_dialog, "Add another experiment's learning curves, e.g. "
                                   "human-only or oracle runs next to LLM-assisted ones"))
        file_menu.addAction(action("C&lear comparison", "clearComparisonAction", None, self.clear_comparison,
                                   "Show only this experiment's learning curves again"))
        file_menu.addSeparator()
        self.sweeps.add_to(file_menu)
        file_menu.addSeparator()
        file_menu.addAction(action("Export plots…", "exportPlotsAction", "Ctrl+E", self.export_plots_dialog,
                                   "Save the three plots as PNG and SVG in a folder"))
        file_menu.addAction(action("Export metrics CSV…", "exportCsvAction", "Ctrl+Shift+E",
                                   self.export_csv_dialog, "Save every cycle's metrics as CSV"))
        file_menu.addSeparator()
        file_menu.addAction(action("&Quit", "quitAction", QKeySequence.StandardKey.Quit, self.close, "Quit"))
        view_menu = menu.addMenu("&View")
        self.lecture_action = action("&Lecture mode", "lectureAction", "F11", self.toggle_lecture_mode,
                                     "Large fonts and lines; Space pauses or resumes, Right runs one cycle")
        self.lecture_action.setCheckable(True)
        view_menu.addAction(self.lecture_action)
        for dock in self.docks:
            view_menu.addAction(dock.toggleViewAction())
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(action("&About alstudio", "aboutAction", None, self.about, "About"))
        # Presenter keys, active only in lecture mode.
        self.space_action = action("Pause or resume", "presenterPause", "Space", self.session.toggle_pause, "")
        self.right_action = action("One more cycle", "presenterStep", "Right", self.session.step, "")

    def _build_status_bar(self) -> None:
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

    def _connect_parts(self) -> None:
        self.config_model.changed.connect(self._on_setup_changed)
        self.config_model.loaded.connect(self._on_setup_loaded)
        session, controller = self.session, self.session.controller
        session.fresh_experiment.connect(self._clear_results)
        session.writing.connect(self._on_writing)
        session.resumed.connect(self.handoff.reopen)
        session.state_changed.connect(self._refresh_locks)
        controller.cycle_result.connect(self._on_cycle_result)
        controller.need_labels.connect(self._on_need_labels)
        controller.progress.connect(self.handoff.on_progress)
        controller.done.connect(self.handoff.forget)
        self.handoff.postponed.connect(self._on_labels_postponed)
        self.recent.chosen.connect(self.open_experiment)
        self.lecture.toggled.connect(self._on_lecture)

    # ---- the set-up ---------------------------------------------------------------------------
    def _on_setup_changed(self, _section: str) -> None:
        error = self.config_model.error
        if error is not None:
            self.statusBar().showMessage(error)  # the model keeps the last valid set-up, which must not run
        elif self._problem_shown is not None:
            self.statusBar().clearMessage()
        self._problem_shown = error
        self._refresh_actions()

    def _on_setup_loaded(self) -> None:
        self._problem_shown = None  # a loaded config is valid; messages about it are the loader's

    def _refresh_actions(self) -> None:
        """Every control that starts work honours the same rule (RunSession.can_start)."""
        self.session.refresh_actions()
        self._refresh_locks()

    def _refresh_locks(self) -> None:
        """The presenter keys follow the run controls; an experiment's settings are read-only (its
        journals fixed them): editing means File > New from this config."""
        running = self.session.state != "idle"
        self.space_action.setEnabled(self.lecture.active)
        self.right_action.setEnabled(self.lecture.active and self.session.step_action.isEnabled())
        self.new_from_config_action.setEnabled(not running and self.experiment is not None)
        for panel in self.panels:
            panel.set_editable(not running and self.experiment is None)
        self.locked_label.setVisible(self.experiment is not None)

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
        self.session.forget_experiment()
        self.config_model.load(config)
        self._clear_results()
        self._update_title()
        self._refresh_actions()
        return True

    def _confirm_leaving_run(self) -> bool:
        return self.session.confirm_leaving_run(
            "Stop the running experiment?",
            "An experiment is running. Stop it? Everything so far is saved and it can be resumed later.")

    def open_experiment_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open experiment folder", str(experiments_dir()))
        if folder:
            self.sweeps.open_folder(folder)  # a sweep folder opens in its own window

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
        self.session.show_opened(experiment, len(rows), bool(pending))
        self.config_model.load(experiment.config)
        self._clear_results()
        self.results.show_rows(rows, self._curve_name())
        self._refresh_actions()
        if rows and self.config.annotator.kind == "llm":
            self.annotator_panel.show_accounting(LLMAccounting.from_row(rows[-1]))
        self.recent.remember(experiment.folder)
        self._update_title()
        if pending:
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

    # ---- results ------------------------------------------------------------------------------
    def compare_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Compare with experiment folder", str(experiments_dir()))
        if folder:
            self.compare_with(folder)

    def compare_with(self, folder: str | Path) -> None:
        """Another experiment's learning curves next to this one's (its labels, and its labels from people)."""
        try:
            message = self.results.compare_with(folder, self.config)
        except UserInputError as err:
            QMessageBox.warning(self, "Cannot compare", str(err))
            return
        self.statusBar().showMessage(message)

    def clear_comparison(self) -> None:
        self.results.clear_comparison()

    def export_plots_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export plots to folder")
        if not folder:
            return
        try:
            self.export_plots(Path(folder))
        except UserInputError as err:
            QMessageBox.warning(self, "Cannot export plots", str(err))

    def export_plots(self, folder: str | Path) -> list[Path]:
        """Every plot as PNG and SVG in `folder`: all of them, or none and a UserInputError saying why."""
        written = self.results.export(folder)
        self.statusBar().showMessage(f"Exported {', '.join(p.name for p in written)} to {Path(folder)}")
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

    def _curve_name(self) -> str:
        return annotation_name(self.experiment) if self.experiment is not None else self.config.annotator.kind

    def _clear_results(self) -> None:
        self.results.clear(self.config.dataset)
        self.annotator_panel.clear_accounting()

    # ---- run events ---------------------------------------------------------------------------
    def _on_writing(self, experiment: Experiment) -> None:
        self.recent.remember(experiment.folder)
        self._update_title()

    def _on_cycle_result(self, payload: CycleReport) -> None:
        if self.config.annotator.kind == "llm":
            llm = payload.llm
            self.annotator_panel.show_accounting(llm)
            self.llm_label.setText(f"LLM: {llm.labels} labels, {llm.flagged} flagged to you, "
                                   f"agreement {llm.agreement_text()}, ${llm.cost_usd:.4f}")
        self.results.add_row(payload.row, self._curve_name())
        self.handoff.show_predictions(payload.queried, self.config.dataset.classes)
        self.results.show_cycle(payload, self.config, self.dataset)
        self.cycle_shown.emit(payload.cycle)

    def _on_need_labels(self, request: LabelRequest) -> None:
        if self.dataset is not None:  # the worker sends the dataset before any request
            self.handoff.ask(request, self.dataset.pool, self.config, self.controller.human)

    def _on_labels_postponed(self) -> None:
        self.controller.pause()
        self.statusBar().showMessage("Labeling postponed: the run is paused; Resume to label the rest")

    # ---- lecture mode -------------------------------------------------------------------------
    def toggle_lecture_mode(self) -> None:
        self.lecture.toggle()

    def _on_lecture(self, on: bool) -> None:
        self.lecture_action.setChecked(on)
        self.results.set_lecture(on, self.lecture.font())
        self._refresh_locks()  # the presenter keys
        for dock in self.docks:
            dock.setVisible(not on)

    # ---- misc ---------------------------------------------------------------------------------
    def _update_title(self) -> None:
        where = f" — {self.experiment.folder.name}" if self.experiment else ""
        self.setWindowTitle(f"alstudio{where}")

    def about(self) -> None:
        from .. import __version__

        QMessageBox.about(self, "About alstudio", f"alstudio {__version__}\nActive learning on biased Synbols, "
                          "with fairness metrics, live plots and in-app labeling.")

    def closeEvent(self, event) -> None:
        if not self.session.confirm_leaving_run(
                "Quit during a run?", "An experiment is running. Quit anyway? It stops after the current "
                "batch; everything so far is saved and `alstudio resume` or File > Open continues it."):
            event.ignore()
            return
        if not self.sweeps.confirm_quit():
            event.ignore()
            return
        self.sweeps.close_all()
        self.session.release()
        self.handoff.forget()
        if self.lecture.active:
            self.lecture.toggle()  # the enlarged font is the application's: give it back
        super().closeEvent(event)

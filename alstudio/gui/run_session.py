"""The run of the window's experiment: Start / Resume / Step / Pause / Stop, the one rule for what may
start work, the experiment folder's writer lock, and the progress bar with its stage line."""

from __future__ import annotations

import datetime
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QProgressBar, QToolBar

from ..engine.errors import UserInputError
from ..engine.experiment import Experiment
from ..engine.loop import Failed
from ..engine.paths import experiments_dir
from ..engine.progress import ProgressReport, eta_text
from ..engine.runner import unfinished_runs
from .actions import make_action
from .config_model import ConfigModel
from .worker import RunController


class RunSession(QObject):
    """Drives the RunController for `window`, whose status bar and dialogs it uses. The experiment on
    screen lives here (`experiment`, None for a set-up not yet started), with the run's dataset once
    the worker has it. While a run goes on it holds the folder's lock, and lets go when the run ends."""

    fresh_experiment = Signal(object)  # Start made this new Experiment: results so far belong to another one
    writing = Signal(object)  # a run is about to take this Experiment (new or resumed)
    resumed = Signal()  # Resume after a pause: labels a person put off are asked for again
    state_changed = Signal(str)  # "idle", "running" or "paused", once the run controls follow it

    def __init__(self, window: QMainWindow, config_model: ConfigModel, workers: int | None = None):
        super().__init__(window)
        self._window = window
        self.config_model = config_model
        self.experiment: Experiment | None = None
        self.dataset = None  # the running experiment's SynbolsDataset, for the gallery and the labeling dialog
        self.state = "idle"
        self.error_box: QMessageBox | None = None  # the last failure shown
        self._stage: tuple[str, float | None] = ("", None)  # the last stage shown, and its ETA
        self._stopping = False
        self.controller = RunController(self, workers)
        c = self.controller
        c.progress.connect(self._on_progress)
        c.dataset_ready.connect(self._on_dataset_ready)
        c.failed.connect(self._on_failed)
        c.done.connect(self._on_done)
        c.state_changed.connect(self._set_state)
        self._build_toolbar()

    def _build_toolbar(self) -> None:
        window = self._window
        bar = QToolBar("Run", window)
        bar.setObjectName("runToolbar")
        bar.setMovable(False)
        self.start_action = make_action(window, "Start", "startAction", "Ctrl+R", self.start, "Start the experiment")
        self.pause_action = make_action(window, "Pause", "pauseAction", "Ctrl+P", self.toggle_pause,
                                        "Pause after the current batch, or resume")
        self.step_action = make_action(window, "Step", "stepAction", "Ctrl+T", self.step,
                                       "Run one more cycle, then pause")
        self.stop_action = make_action(window, "Stop", "stopAction", "Ctrl+.", self.stop,
                                       "Stop; everything so far is kept")
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
        self.toolbar = bar

    # ---- the controls -------------------------------------------------------------------------
    def can_start(self) -> bool:
        """Whether Start, Step and the presenter's Right key may begin work now."""
        return self.state == "idle" and self.config_model.error is None

    def start(self) -> None:
        if self.controller.running:
            return
        error = self.config_model.error
        if error is not None:
            self._window.statusBar().showMessage(f"Cannot start: {error}")
            return
        try:
            if self.experiment is None or not unfinished_runs(self.experiment):
                config = self.config_model.config
                folder = self._new_experiment_folder()
                folder.parent.mkdir(parents=True, exist_ok=True)
                self.experiment = Experiment.create(folder, config, config.active.run_strategies(),
                                                    config.active.repetitions, flagged_to="human")
                self.fresh_experiment.emit(self.experiment)
                self.progress_bar.setValue(0)
            else:  # resuming: one writer per folder, be it this window, another one or `alstudio run`
                self.experiment = self.experiment.for_writing()
        except (UserInputError, OSError) as err:
            QMessageBox.warning(self._window, "Cannot start", str(err))
            return
        self.writing.emit(self.experiment)
        self.controller.start(self.experiment)

    def _new_experiment_folder(self) -> Path:
        dataset = self.config_model.config.dataset
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        return experiments_dir() / f"{stamp}-{dataset.bias}-{dataset.sensitive_attribute}"

    def toggle_pause(self) -> None:
        if not self.controller.running:
            return
        if self.controller.paused:
            self.controller.resume()
            self.resumed.emit()
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

    def refresh_actions(self) -> None:
        """Start and Step honour can_start; Pause and Stop need a run."""
        running = self.state != "idle"
        self.start_action.setEnabled(self.can_start())
        self.pause_action.setEnabled(running)
        self.pause_action.setText("Resume" if self.state == "paused" else "Pause")
        self.stop_action.setEnabled(running)
        self.step_action.setEnabled(self.can_start() or self.state == "paused")

    # ---- the experiment on screen -------------------------------------------------------------
    def show_opened(self, experiment: Experiment, cycles_shown: int, unfinished: bool) -> None:
        """An experiment opened for viewing (no lock): how far it came, and Resume when runs are unfinished."""
        self.experiment = experiment
        cycles = len(experiment.runs()) * (experiment.config.active.cycles + 1)
        self.progress_bar.setValue(round(1000 * cycles_shown / cycles))
        self._stage = ("", None)
        self.stage_label.setText("Interrupted; press Resume to continue" if unfinished else "Finished")
        if unfinished:
            self.start_action.setText("Resume")

    def forget_experiment(self) -> None:
        """A new set-up: the next Start makes a new experiment."""
        self.experiment = None
        self.start_action.setText("Start")

    def confirm_leaving_run(self, title: str, question: str) -> bool:
        """True when no run goes on, or the user agreed to stop it (it is then stopped)."""
        if not self.controller.running:
            return True
        if QMessageBox.question(self._window, title, question) != QMessageBox.StandardButton.Yes:
            return False
        self.controller.stop(wait=True)
        return True

    def release(self) -> None:
        if self.experiment is not None:
            self.experiment.release()

    # ---- run events ---------------------------------------------------------------------------
    def _on_progress(self, report: ProgressReport) -> None:
        # The engine's fraction never goes back; a resumed experiment may re-estimate a little lower.
        self.progress_bar.setValue(max(self.progress_bar.value(), round(1000 * report.fraction)))
        self._stage = (report.stage_line(), report.eta_seconds)
        self._show_stage()

    def _show_stage(self) -> None:
        """The stage line: what runs now and the time left, or why nothing moves (paused, stopping)."""
        text, eta = self._stage
        if self._stopping:
            self.stage_label.setText("Stopping after the current batch…")
        elif self.state == "paused":
            where = f": {text}" if text else ""
            self.stage_label.setText(f"Paused{where} — Resume (Ctrl+P) or Step (Ctrl+T)")
        else:
            self.stage_label.setText(text + (f", {eta_text(eta)}" if eta is not None else ""))

    def _on_dataset_ready(self, dataset) -> None:
        self.dataset = dataset

    def _on_failed(self, failure: Failed) -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, "The run failed", failure.message, parent=self._window)
        box.setObjectName("errorDialog")
        box.setInformativeText("Everything up to the failure is saved in the experiment's journals.")
        box.setDetailedText(failure.traceback)
        box.open()
        self.error_box = box

    def _on_done(self, finished: bool) -> None:
        self._stopping = False
        self.release()  # viewing needs no lock; Resume takes it again
        self._stage = ("", None)
        self.stage_label.setText("Finished" if finished else "Stopped; press Resume to continue")
        if finished:
            self.progress_bar.setValue(self.progress_bar.maximum())
        self.start_action.setText("Start" if finished else "Resume")

    def _set_state(self, state: str) -> None:
        self.state = state
        self.refresh_actions()
        if state != "idle":
            self._show_stage()
        self.state_changed.emit(state)

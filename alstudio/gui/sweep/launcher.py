"""The workbench's sweeps: File > Open sweep and File > New sweep, the sweep windows, and the one sweep
this process drives at a time (local runs on a QThread). The main window composes it and asks it
before quitting. A click on a cell shows that cell's experiment in the main window, where every
experiment's plots are, with their metric and axis choosers, comparison and export.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMenu, QMessageBox

from ...engine.errors import UserInputError
from ...engine.experiment import MANIFEST as EXPERIMENT_MANIFEST
from ...engine.paths import experiments_dir
from ...engine.sweep import ExecutionSettings, Sweep, default_parallel, is_sweep
from ..actions import make_action
from ..config_model import ConfigModel
from .new_dialog import NewSweepDialog
from .plan import SweepPlan
from .runner import SweepRunner
from .view import SweepView


class SweepLauncher(QObject):
    def __init__(self, window: QMainWindow, config_model: ConfigModel):
        super().__init__(window)
        self.window = window
        self.config_model = config_model
        self.views: dict[Path, SweepView] = {}
        self.runner: SweepRunner | None = None
        self.dialog: NewSweepDialog | None = None
        self.open_action = make_action(window, "Open s&weep…", "openSweepAction", "Ctrl+G", self.open_sweep_dialog,
                                       "Show a sweep's grid as a table, updated while it runs")
        self.new_action = make_action(window, "New swee&p from this config…", "newSweepAction", "Ctrl+Shift+G",
                                      self.new_sweep_dialog, "Run a grid over the current set-up: strategies x "
                                      "chosen settings x seeds, on this machine")

    def add_to(self, menu: QMenu) -> None:
        menu.addAction(self.open_action)
        menu.addAction(self.new_action)

    @property
    def driving(self) -> bool:
        return self.runner is not None and self.runner.running

    # ---- opening ------------------------------------------------------------------------------
    def open_folder(self, folder: str | Path) -> None:
        """A sweep folder in its window, any other as an experiment (`alstudio gui DIR`, File > Open)."""
        if is_sweep(folder):
            self.open_sweep(folder)
        else:
            self.window.open_experiment(folder)

    def open_sweep_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Open sweep folder", str(experiments_dir()))
        if folder:
            self.open_sweep(folder)

    def open_sweep(self, folder: str | Path) -> SweepView | None:
        """The sweep's window (the one already open, raised), or None after a dialog saying why not."""
        folder = Path(folder)
        key = folder.resolve()
        if key in self.views:
            self._raise(self.views[key])
            return self.views[key]
        try:
            if (folder / EXPERIMENT_MANIFEST).is_file():
                raise UserInputError(f"{folder}: an experiment folder, not a sweep; open it with File > Open "
                                     "experiment folder")
            sweep = Sweep.open(folder)
        except UserInputError as err:
            QMessageBox.warning(self.window, "Cannot open sweep", str(err))
            return None
        view = SweepView(sweep, self.window)
        view.cell_opened.connect(self._show_cell)
        view.resume_asked.connect(self.resume)
        view.closed.connect(self._forget_view)
        self.views[key] = view
        if self.driving and self.runner.folder.resolve() == key:  # its window was closed while it stops
            view.attach(self.runner)
        view.show()
        return view

    def _forget_view(self, folder: Path) -> None:
        self.views.pop(Path(folder).resolve(), None)

    def _show_cell(self, folder: Path) -> None:
        self.window.open_experiment(folder)
        self._raise(self.window)

    @staticmethod
    def _raise(window) -> None:
        window.show()
        window.raise_()
        window.activateWindow()

    # ---- driving ------------------------------------------------------------------------------
    def new_sweep_dialog(self) -> NewSweepDialog | None:
        """The New sweep dialog on the current set-up (window-modal, not blocking); None when refused."""
        if self.config_model.error is not None:
            QMessageBox.warning(self.window, "Cannot start a sweep",
                                f"The set-up has a problem: {self.config_model.error}")
            return None
        if self.driving:
            QMessageBox.information(self.window, "A sweep is running", "This window runs one sweep at a time: "
                                    "stop the running one, or wait for it to end.")
            return None
        dialog = NewSweepDialog(self.config_model.config, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.submitted.connect(self._start_from_dialog)
        dialog.open()
        self.dialog = dialog
        return dialog

    def _start_from_dialog(self, plan: SweepPlan) -> None:
        dialog = self.dialog
        try:
            self.start(plan)
        except UserInputError as err:
            if dialog is not None:
                dialog.show_problem(str(err))
            return
        if dialog is not None:
            dialog.accept()
            self.dialog = None

    def start(self, plan: SweepPlan) -> SweepView:
        """Create the plan's sweep and drive it here; a UserInputError says why it could not start."""
        if self.driving:
            raise UserInputError("a sweep is running in this window already; stop it or wait for it to end")
        try:
            plan.folder.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UserInputError(f"Output folder {plan.folder}: cannot be made ({err.strerror or err})") from None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # a few ms per cell
        try:
            sweep = Sweep.create(plan.folder, plan.base_config, list(plan.axes), list(plan.strategies), plan.seeds,
                                 execution=ExecutionSettings(max_parallel=plan.max_parallel))
        finally:
            QApplication.restoreOverrideCursor()
        return self._drive(sweep, plan.max_parallel)

    def resume(self, folder: str | Path) -> SweepView | None:
        """Run the sweep's unfinished and failed runs here (its local settings), as `alstudio resume` does."""
        if self.driving:
            QMessageBox.information(self.window, "A sweep is running", "This window runs one sweep at a time: "
                                    "stop the running one, or wait for it to end.")
            return None
        try:
            sweep = Sweep.open(folder).for_writing()
        except UserInputError as err:
            QMessageBox.warning(self.window, "Cannot resume the sweep", str(err))
            return None
        execution = sweep.execution
        return self._drive(sweep, execution.max_parallel or default_parallel(execution.cpus_per_run))

    def _drive(self, sweep: Sweep, max_parallel: int) -> SweepView:
        view = self.open_sweep(sweep.folder)
        if view is None:  # cannot happen for a sweep just opened, but never keep its locks for nothing
            sweep.release()
            raise UserInputError(f"{sweep.folder}: the sweep cannot be shown")
        runner = SweepRunner(sweep, max_parallel, self)
        runner.ended.connect(self._on_ended)
        self.runner = runner
        runner.start()  # its signals are queued: none arrives before attach, on this same turn of the loop
        view.attach(runner)
        return view

    def _on_ended(self) -> None:
        runner, self.runner = self.runner, None
        if runner is not None:
            runner.deleteLater()

    # ---- quitting -----------------------------------------------------------------------------
    def confirm_quit(self) -> bool:
        """True when no sweep runs here, or the user agreed to stop it (it is then stopped, resumable)."""
        if not self.driving:
            return True
        answer = QMessageBox.question(
            self.window, "Quit during a sweep?", "A sweep is running in this window. Quit anyway? Its running runs "
            "stop after their current batch; everything so far is kept, and File > Open sweep > Resume (or "
            "alstudio resume) continues it.")
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.runner.stop(wait=True)
        return True

    def close_all(self) -> None:
        for view in list(self.views.values()):
            view.close()

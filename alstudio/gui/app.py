"""QApplication start-up for `alstudio gui`: error dialogs, settings, scripted mode."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from ..engine import config as configs
from ..engine.errors import UserInputError
from .platform_check import check_platform_plugin


def _check_display() -> None:
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))
    if headless:
        raise UserInputError("no display to open the workbench on (DISPLAY is not set); use a desktop session, "
                             "or `alstudio generate --preview PNG` for a picture of the dataset")


def _install_excepthook(window) -> None:
    """An exception on the GUI thread becomes a dialog; the app keeps running."""
    from PySide6.QtWidgets import QMessageBox

    def hook(kind, value, tb):
        details = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(details)
        box = QMessageBox(QMessageBox.Icon.Critical, "Unexpected error", str(value) or kind.__name__, parent=window)
        box.setDetailedText(details)
        box.open()

    sys.excepthook = hook


def present_as_alstudio(app) -> None:
    """Name and icon the desktop shows for the app. On Linux the desktop file name ties the running
    windows to the launcher `alstudio install-desktop-entry` writes (its icon in the task bar)."""
    from PySide6.QtGui import QIcon

    from ..desktop import APP_ID, ICON

    app.setApplicationName(APP_ID)  # also Qt's X11 WM_CLASS class, the entry's StartupWMClass
    # No setApplicationDisplayName: Qt appends it to every window title, and ours already start with it.
    app.setWindowIcon(QIcon(str(ICON)))
    if sys.platform.startswith("linux"):
        app.setDesktopFileName(APP_ID)


def folder_to_show(folder: str | Path) -> tuple[configs.ExperimentConfig, Path]:
    """What `alstudio gui DIR` shows: an experiment folder (its config and folder), or a sweep folder
    (its base config and folder; make_window then opens the sweep's window). Engine reads only."""
    from ..engine.experiment import Experiment
    from ..engine.sweep import Sweep, is_sweep

    if is_sweep(folder):
        sweep = Sweep.open(folder)
        return sweep.base_config, sweep.folder
    experiment = Experiment.open(folder)
    return experiment.config, experiment.folder


def make_window(config: configs.ExperimentConfig, experiment: str | Path | None = None):
    """The workbench window `alstudio gui` shows: `config` in the panels, or the experiment folder
    as File > Open experiment folder shows it (a sweep folder: its window beside). Needs a QApplication."""
    from .main_window import MainWindow

    window = MainWindow(config)
    if experiment is not None:
        window.sweeps.open_folder(experiment)
    return window


def run_gui(config: configs.ExperimentConfig, autostart: bool = False,
            quit_after_cycles: int | None = None, screenshot: str | None = None, lecture: bool = False,
            experiment: str | Path | None = None, export_plots: str | Path | None = None) -> int:
    _check_display()
    check_platform_plugin()  # Qt aborts the process when its platform plugin cannot load
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    present_as_alstudio(app)
    app.setOrganizationName("alstudio")
    window = make_window(config, experiment)
    _install_excepthook(window)
    window.show()
    if lecture:
        window.toggle_lecture_mode()
    exit_code = None

    def save_and_quit():
        nonlocal exit_code
        if exit_code is not None:  # the last cycle and the end of the run may both ask
            return
        exit_code = 0
        if screenshot:
            window.grab().save(str(screenshot))
        if export_plots:
            try:
                window.export_plots(export_plots)
            except UserInputError as err:
                print(f"alstudio: error: {err}", file=sys.stderr)
                exit_code = 2
        window.controller.stop(wait=True)
        app.exit(exit_code)

    if quit_after_cycles is not None:
        shown = []

        def count(cycle):
            shown.append(cycle)
            if len(shown) >= quit_after_cycles:
                QTimer.singleShot(300, save_and_quit)  # let the plots repaint first

        window.cycle_shown.connect(count)
    if autostart or quit_after_cycles is not None:
        window.controller.done.connect(lambda finished: QTimer.singleShot(300, save_and_quit)
                                       if (quit_after_cycles is not None or screenshot or export_plots)
                                       else None)
        QTimer.singleShot(0, window.start)
    elif screenshot or export_plots:
        QTimer.singleShot(500, save_and_quit)
    return app.exec()

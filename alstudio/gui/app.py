"""QApplication start-up for `alstudio gui`."""

from __future__ import annotations

import os
import sys

from ..engine import config as configs
from ..engine.errors import UserInputError


def run_gui(config: configs.ExperimentConfig, preset: str | None = None) -> int:
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))
    if headless:
        raise UserInputError("no display to open the workbench on (DISPLAY is not set); use a desktop session, "
                             "or `alstudio generate --preview PNG` for a picture of the dataset")
    from PySide6.QtWidgets import QApplication

    from .preview_window import PreviewWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("alstudio")
    app.setOrganizationName("alstudio")
    window = PreviewWindow(config, preset)
    window.show()
    return app.exec()

"""Re-takes the screenshots in this folder (offscreen, a few minutes on a 2-core CPU):

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/take.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def gui(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "alstudio", "gui", *args], check=True,
                   env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))


def labelling_dialog(path: Path) -> None:
    """A human-annotated run, paused at its first batch with a few answers given."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from alstudio.engine import config as configs
    from alstudio.gui.main_window import MainWindow

    data = configs.load_preset("lecture-bald-vs-random").model_dump()
    data["annotator"]["kind"] = "human"
    data["active"].update(initial_labels=40, query_size=20, cycles=2)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(configs.validate(data))
    window.show()

    def wait_for_dialog():
        dialog = window.labeling_dialog
        if dialog is None:
            QTimer.singleShot(200, wait_for_dialog)
            return
        for key in (Qt.Key.Key_D, Qt.Key.Key_A, Qt.Key.Key_D, Qt.Key.Key_D):
            QTest.keyClick(dialog, key)
        app.processEvents()
        dialog.grab().save(str(path))
        window.controller.stop(wait=True)
        app.quit()

    window.start()
    QTimer.singleShot(500, wait_for_dialog)
    app.exec()


def main() -> None:
    gui("--preset", "lecture-bald-vs-random", "--quit-after-cycles", "14", "--screenshot",
        str(HERE / "main-window.png"))
    gui("--preset", "lecture-bald-vs-random", "--lecture", "--quit-after-cycles", "14", "--screenshot",
        str(HERE / "lecture-mode.png"))
    labelling_dialog(HERE / "labeling-dialog.png")


if __name__ == "__main__":
    main()

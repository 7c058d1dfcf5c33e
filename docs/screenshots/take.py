"""Re-takes the screenshots in this folder (offscreen, about 20 minutes on a 2-core CPU, most of it the sweep):

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


def deferred_llm_dialog(path: Path) -> None:
    """`alstudio run --human defer` against a local stand-in LLM that is unsure of about a third of
    the images, then the workbench labelling what it flagged, with its votes."""
    import hashlib
    import tempfile

    sys.path.insert(0, str(HERE.parent.parent / "tests"))
    from openai_stub import Reply, StubServer, image_urls
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from alstudio.cli import main as cli
    from alstudio.engine import config as configs
    from alstudio.gui.main_window import MainWindow

    def unsure_of_a_third(request, index):
        unsure = hashlib.sha256(image_urls(request)[-1].encode()).digest()[0] % 3 == 0
        label = ("a" if request["temperature"] == 0.0 else "d") if unsure else "a"
        return Reply(contents=[f'{{"label": "{label}"}}'] * (request.get("n") or 1))

    with tempfile.TemporaryDirectory() as tmp, StubServer(unsure_of_a_third) as server:
        data = configs.load_preset("lecture-bald-vs-random").model_dump()
        data["active"].update(initial_labels=40, query_size=30, cycles=2)
        data["annotator"].update(kind="llm", base_url=server.base_url, model="stand-in")
        config_path = Path(tmp) / "llm.toml"
        configs.save(configs.validate(data), config_path)
        cli(["run", str(config_path), "--out", f"{tmp}/exp", "--human", "defer"])
        app = QApplication.instance() or QApplication(sys.argv[:1])
        window = MainWindow(configs.validate(data))
        window.show()
        window.open_experiment(f"{tmp}/exp")

        def wait_for_dialog():
            if window.labeling_dialog is None:
                QTimer.singleShot(200, wait_for_dialog)
                return
            app.processEvents()
            window.labeling_dialog.grab().save(str(path))
            window.controller.stop(wait=True)
            app.quit()

        window.start()
        QTimer.singleShot(500, wait_for_dialog)
        app.exec()


def sweep_windows(dialog_path: Path, view_path: Path, keep: Path | None = None) -> None:
    """File > New sweep on a shortened lecture preset (bias strength x GRAD, random vs BALD, 3 seeds),
    started from the dialog and watched in the sweep window until it ends: about 15 minutes on a busy
    2-core CPU. `keep`: the folder to keep the sweep in; once it holds the finished sweep, the sweep
    window is only opened on it (seconds)."""
    import tempfile

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from alstudio.engine import config as configs
    from alstudio.engine.sweep import Sweep, is_sweep, sweep_status
    from alstudio.gui.main_window import MainWindow

    data = configs.load_preset("lecture-bald-vs-random").model_dump()
    data["active"].update(cycles=6)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        folder = keep or Path(tmp) / "bias-x-grad"
        finished = is_sweep(folder) and (lambda s: s.done == s.runs)(sweep_status(Sweep.open(folder)))
        window = MainWindow(configs.validate(data))
        window.show()
        dialog = window.sweeps.new_sweep_dialog()
        dialog.axis_boxes[0].tick([0.8, 0.95])  # dataset.bias_strength
        dialog.axis_boxes[1].tick([0.0, 1.0])  # training.grad_lambda
        app.processEvents()
        dialog.grab().save(str(dialog_path))  # with the default output folder, which it does not make

        def grab():
            # The offscreen screen is 800 pixels wide, which caps the width the window gives itself.
            view.resize(view.table.horizontalHeader().length() + 60, 640)
            app.processEvents()
            view.grab().save(str(view_path))
            app.quit()

        def grab_when_read():
            QTimer.singleShot(3000, grab)

        if finished:
            dialog.reject()
            view = window.sweeps.open_sweep(folder)
            grab_when_read()
        else:
            dialog.folder_edit.setText(str(folder))
            dialog.ok_button.click()
            view = window.sweeps.views[folder.resolve()]
            window.sweeps.runner.ended.connect(grab_when_read)
        app.exec()
        window.close()


def main() -> None:
    gui("--preset", "lecture-bald-vs-random", "--quit-after-cycles", "14", "--screenshot",
        str(HERE / "main-window.png"))
    gui("--preset", "lecture-bald-vs-random", "--lecture", "--quit-after-cycles", "14", "--screenshot",
        str(HERE / "lecture-mode.png"))
    labelling_dialog(HERE / "labeling-dialog.png")
    deferred_llm_dialog(HERE / "llm-flagged.png")
    sweep_windows(HERE / "new-sweep-dialog.png", HERE / "sweep-window.png")


if __name__ == "__main__":
    main()

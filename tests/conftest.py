import gc
import os
import tempfile

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QSettings (recent experiments) must not touch the user's own settings.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="alstudio-test-config-")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Every test gets its own cache and data folders; nothing touches the user's."""
    monkeypatch.setenv("ALSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ALSTUDIO_DATA_DIR", str(tmp_path / "data"))
    # Runs one after another in the test's own process, as the tests were written; tests/test_parallel_runs.py
    # asks for side-by-side runs itself.
    monkeypatch.setenv("ALSTUDIO_JOBS", "1")


def small_dataset_config(**overrides):
    from alstudio.engine.config import DatasetConfig

    values = {"pool_size": 120, "test_size": 24}
    values.update(overrides)
    return DatasetConfig(**values)


@pytest.fixture
def one_torch_thread():
    """Tiny tensors gain nothing from intra-op threads, and spinning threads crawl on a busy machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def garbage_on_the_main_thread(request):
    """As in the app (alstudio.gui.garbage): Qt objects must never be freed by the cyclic collector
    running in a worker thread, so during Qt tests automatic collection is off and the main thread
    collects at the end."""
    if "qtbot" not in request.fixturenames:
        yield
        return
    gc.disable()
    yield
    gc.collect()
    gc.enable()


@pytest.fixture
def modal_dialogs_fail(monkeypatch):
    """A modal message box offscreen would wait forever for a click: make one an error instead."""
    from PySide6.QtWidgets import QMessageBox

    def unexpected(*args, **kwargs):
        raise AssertionError(f"unexpected modal dialog: {args[1:3]}")

    for name in ("warning", "question", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, unexpected)


@pytest.fixture
def window(qtbot):
    """make(config=None): a shown workbench, on a tiny experiment unless given a config. Its run is
    stopped and it is closed here (closing a running window would ask first)."""
    from engine_helpers import tiny_config

    from alstudio.gui.main_window import MainWindow

    made = []

    def make(config=None):
        win = MainWindow(config or tiny_config(), workers=1)
        win.show()
        made.append(win)
        return win

    yield make
    for win in made:
        win.controller.stop(wait=True)
        win.close()
        win.deleteLater()

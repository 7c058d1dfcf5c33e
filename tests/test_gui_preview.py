import pytest

pytest.importorskip("pytestqt")

from alstudio.engine import config as configs  # noqa: E402
from alstudio.gui.preview_window import PreviewWindow  # noqa: E402


def _small(bias="minority"):
    return configs.validate({"dataset": {"pool_size": 80, "test_size": 8, "bias": bias},
                             "active": {"initial_labels": 4, "query_size": 4, "cycles": 2}})


def test_window_generates_off_the_gui_thread_and_shows_the_preview(qtbot, tmp_path):
    window = PreviewWindow(_small(), workers=1)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.loader.loaded, timeout=30_000):
        pass
    assert window.image.source() is not None and window.image.source().width() > 300
    assert window.progress_bar.value() == window.progress_bar.maximum() == 88
    assert "80 pool and 8 test images" in window.status.text()
    window.grab().save(str(tmp_path / "preview.png"))


def test_closing_during_generation_cancels_cleanly(qtbot):
    config = configs.validate({"dataset": {"pool_size": 3000}})
    window = PreviewWindow(config, workers=1)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.progress_bar.value() > 0, timeout=30_000)
    window.close()
    assert not window.loader.busy

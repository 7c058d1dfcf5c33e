"""The workbench's files: exported plots and metrics, configs and experiment folders it opens,
in the window and through `alstudio gui` (issue 9, items 2, 9 and 14)."""

import csv
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import tomli_w
from engine_helpers import TINY, tiny_config
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox

from alstudio.cli import main
from alstudio.engine import config as configs
from alstudio.engine.experiment import Experiment

PLOTS = ("learning_curve", "fairness", "acquisition")
EXPORTED = sorted(f"{name}.{extension}" for name in PLOTS for extension in ("png", "svg"))
SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def dialogs(monkeypatch):
    """Message boxes are recorded (a modal one offscreen would wait forever for a click)."""
    shown = []

    def record(kind):
        def box(parent, title, text, *args, **kwargs):
            shown.append((kind, title, text))
            return QMessageBox.StandardButton.Ok
        return box

    for kind in ("warning", "question", "critical", "information"):
        monkeypatch.setattr(QMessageBox, kind, record(kind))
    return shown


def run_to_end(qtbot, win, timeout=120_000):
    with qtbot.waitSignal(win.controller.done, timeout=timeout) as blocker:
        win.start()
    return blocker.args[0]


def choose_folder(monkeypatch, folder):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))


def choose_file(monkeypatch, method, path):
    chosen = []

    def pick(*args, **kwargs):
        chosen.append(args)
        return str(path), ""

    monkeypatch.setattr(QFileDialog, method, pick)
    return chosen


def tiny_toml(cycles=2) -> str:
    return tomli_w.dumps({section: dict(values, **({"cycles": cycles} if section == "active" else {}))
                          for section, values in TINY.items()})


def svg_paths(path) -> int:
    svg = ET.parse(path).getroot()
    assert svg.tag == f"{SVG_NS}svg"
    return sum(1 for element in svg.iter(f"{SVG_NS}path"))


def assert_plots_exported(folder, empty=None):
    """Every plot as PNG and SVG; each SVG draws more than the empty plot's frame (its curves' points
    and legend), or more than the same plot exported empty into `empty`."""
    assert sorted(p.name for p in folder.iterdir()) == EXPORTED
    for name in PLOTS:
        paths = svg_paths(folder / f"{name}.svg")
        assert paths > (svg_paths(empty / f"{name}.svg") if empty else 1), name
        image = QImage(str(folder / f"{name}.png"))
        assert not image.isNull(), name
        assert image.width() >= 200 and image.height() >= 120, (name, image.size())


# ---- item 2: File > Export plots ----------------------------------------------------------------

def test_export_plots_after_a_run_writes_every_plot_as_png_and_svg(window, qtbot, tmp_path, monkeypatch, dialogs):
    win = window()
    empty = tmp_path / "empty"
    empty.mkdir()
    choose_folder(monkeypatch, empty)
    win.export_plots_dialog()
    run_to_end(qtbot, win)
    out = tmp_path / "plots"
    out.mkdir()
    choose_folder(monkeypatch, out)
    win.export_plots_dialog()
    assert dialogs == []
    assert_plots_exported(out, empty)
    message = win.statusBar().currentMessage()
    assert all(name in message for name in EXPORTED), message
    # A folder that cannot take a file: one sentence in a dialog, and nothing half-written.
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "fairness.svg").mkdir()
    choose_folder(monkeypatch, blocked)
    win.export_plots_dialog()
    assert len(dialogs) == 1
    kind, title, text = dialogs[0]
    assert kind == "warning" and "fairness.svg" in text and "\n" not in text
    assert sorted(p.name for p in blocked.iterdir()) == ["fairness.svg"]


# ---- item 9: File > Export metrics CSV ----------------------------------------------------------

def test_exported_metrics_are_the_experiments_metrics_csv(window, qtbot, tmp_path, monkeypatch, dialogs):
    win = window()
    run_to_end(qtbot, win)
    target = tmp_path / "exported.csv"
    choose_file(monkeypatch, "getSaveFileName", target)
    win.export_csv_dialog()
    assert dialogs == []
    own = win.experiment.folder / "metrics.csv"
    with open(target, newline="") as exported, open(own, newline="") as written:
        exported_rows, own_rows = list(csv.reader(exported)), list(csv.reader(written))
    assert exported_rows[0] == own_rows[0]
    assert exported_rows == own_rows
    assert target.read_bytes() == own.read_bytes()
    header = exported_rows[0]
    for row in exported_rows[1:]:
        assert row[header.index("train_seconds")] and row[header.index("query_seconds")]
    assert str(target) in win.statusBar().currentMessage()


def test_exporting_metrics_with_no_results_tells_and_writes_nothing(window, tmp_path, monkeypatch, dialogs):
    win = window()
    target = tmp_path / "exported.csv"
    choose_file(monkeypatch, "getSaveFileName", target)
    win.export_csv_dialog()
    assert not target.exists()
    assert len(dialogs) == 1 and "no" in dialogs[0][2].lower()


# ---- item 14: File > Open config, `alstudio gui DIR` ---------------------------------------------

def test_open_config_shows_its_values_in_the_panels(window, tmp_path, monkeypatch, dialogs):
    win = window()
    path = tmp_path / "mine.toml"
    path.write_text("[dataset]\npool_size = 321\n[training]\nepochs = 7\n[active]\ncycles = 3\n")
    choose_file(monkeypatch, "getOpenFileName", path)
    win.findChild(object, "openConfigAction").trigger()
    assert dialogs == []
    assert win.training_panel.epochs_spin.value() == 7
    assert win.dataset_panel.pool_spin.value() == 321
    assert win.strategies_panel.cycles_spin.value() == 3
    assert win.config.training.epochs == 7 and win.config.dataset.pool_size == 321
    assert win.experiment is None and win.rows == []
    assert "mine.toml" in win.windowTitle()


@pytest.mark.parametrize("text, expected", [
    ("[training]\nepochs = 'ten'\n", "training.epochs"),
    ("[dataset]\ncolour = 'red'\n", "dataset.colour"),
    ("[dataset\n", "not valid TOML"),
])
def test_a_broken_config_is_a_dialog_and_the_panels_stay(window, tmp_path, monkeypatch, dialogs, text, expected):
    win = window(tiny_config(training={"epochs": 3}))
    before = win.config
    path = tmp_path / "broken.toml"
    path.write_text(text)
    choose_file(monkeypatch, "getOpenFileName", path)
    win.findChild(object, "openConfigAction").trigger()
    assert len(dialogs) == 1
    kind, title, message = dialogs[0]
    assert kind == "warning" and expected in message and "broken.toml" in message and "\n" not in message
    assert win.config == before
    assert win.training_panel.epochs_spin.value() == 3
    assert win.dataset_panel.pool_spin.value() == TINY["dataset"]["pool_size"]


def test_gui_with_an_experiment_folder_opens_the_experiment(tmp_path, monkeypatch):
    folder = tmp_path / "exp"
    Experiment.create(folder, tiny_config(), ["random", "bald"], 1).release()
    opened = {}

    def fake_run_gui(config, **kwargs):
        opened.update(kwargs, config=config)
        return 0

    monkeypatch.setattr("alstudio.gui.app.run_gui", fake_run_gui)
    assert main(["gui", str(folder)]) == 0
    assert opened["experiment"] == folder
    assert opened["config"] == configs.load(folder / "experiment.toml")


def test_gui_with_a_folder_that_is_not_an_experiment_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("alstudio.gui.app.run_gui", lambda *a, **k: pytest.fail("the window was opened"))
    assert main(["gui", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an alstudio experiment folder" in err and "Traceback" not in err


def test_the_window_gui_opens_for_a_folder_shows_the_experiments_rows(qtbot, tmp_path):
    from alstudio.gui.app import make_window

    folder = tmp_path / "exp"
    assert main(["run", "--out", str(folder), *write_tiny(tmp_path)]) == 0
    win = make_window(tiny_config(), experiment=folder)
    qtbot.addWidget(win)
    assert win.experiment is not None and win.experiment.folder == folder
    assert len(win.rows) == 3
    assert win.learning_plot.point_count("bald") == 3


def test_export_plots_needs_an_existing_folder(tmp_path, capsys):
    assert main(["gui", "--export-plots", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--export-plots" in err and "missing" in err


def write_tiny(tmp_path, cycles=2) -> list[str]:
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_toml(cycles))
    return [str(path)]


def test_scripted_gui_exports_every_plot_before_quitting(tmp_path):
    out = tmp_path / "plots"
    out.mkdir()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", ALSTUDIO_CACHE_DIR=str(tmp_path / "cache"),
               ALSTUDIO_DATA_DIR=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    result = subprocess.run([sys.executable, "-m", "alstudio", "gui", *write_tiny(tmp_path, cycles=1),
                             "--quit-after-cycles", "1", "--export-plots", str(out)],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert_plots_exported(out)

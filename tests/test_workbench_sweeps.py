"""The workbench's sweeps, offscreen: File > Open sweep's table against sweep_summary, its colours,
a row opening its cell's plots, File > New sweep (checked as typed, then run live on a QThread while
the window keeps answering), Stop / closing, and `alstudio gui DIR` on a sweep folder."""

import dataclasses
import time

import pytest
from engine_helpers import tiny_config
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from alstudio.engine import metrics
from alstudio.engine.sweep import (
    Band,
    ExecutionSettings,
    GridError,
    LocalExecutor,
    SummaryRow,
    Sweep,
    parse_grid,
    run_sweep,
    sweep_summary,
)
from alstudio.gui.sweep import check_plan
from alstudio.gui.sweep.table import SweepTableModel, band_text

GRID = "active.strategy=random,bald; training.grad_lambda=0,1"


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    """2 cells x 2 strategies x 1 seed of a one-cycle tiny config, run to the end by the engine."""
    folder = tmp_path_factory.mktemp("finished") / "sweep"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALSTUDIO_CACHE_DIR", str(folder.parent / "cache"))
        base = tiny_config(active={"cycles": 1})
        sweep = Sweep.create(folder, base, parse_grid(GRID, base), ["random", "bald"], 1,
                             execution=ExecutionSettings(max_parallel=2))
        try:
            outcome = run_sweep(sweep, LocalExecutor(2))
        finally:
            sweep.release()
    assert outcome.complete
    return folder


@pytest.fixture
def dialogs(monkeypatch):
    """Message boxes are recorded instead of shown; a question is answered Yes."""
    shown = []

    def record(kind):
        def box(parent, title, text, *args, **kwargs):
            shown.append((kind, title, text))
            return QMessageBox.StandardButton.Yes if kind == "question" else QMessageBox.StandardButton.Ok
        return box

    for kind in ("warning", "question", "critical", "information"):
        monkeypatch.setattr(QMessageBox, kind, record(kind))
    return shown


def _texts(view):
    """(cell, strategy name) -> the table's final accuracy, AULC and PPV gap texts, in the grid's order."""
    model, first = view.model, view.model.first_metric
    return {(model.cell_id(r), model.strategy(r)): tuple(model.index(r, first + m).data() for m in range(3))
            for r in range(model.rowCount())}


def _expected(folder):
    return {(r.cell, r.strategy): tuple(band_text(b) for b in (r.final_accuracy, r.aulc, r.fairness_gap))
            for r in sweep_summary(Sweep.open(folder))}


def _filled(view):
    return all(view.model.summary(r) is not None for r in range(view.model.rowCount()))


def test_open_sweep_shows_every_cell_and_strategy_with_the_summarys_numbers(window, qtbot, dialogs, finished_sweep):
    win = window()
    view = win.sweeps.open_sweep(finished_sweep)
    qtbot.waitUntil(lambda: _filled(view), timeout=20_000)
    assert _texts(view) == _expected(finished_sweep)
    assert len(_texts(view)) == 4
    model = view.model
    assert model.titles == ["grad_lambda", "Strategy", "Seeds", "Final accuracy", "AULC", "PPV gap"]
    assert [model.index(r, 0).data() for r in range(4)] == ["0", "0", "1", "1"]
    assert {model.index(r, 2).data() for r in range(4)} == {"1"}
    cells = view.cell_table
    assert [cells.item(r, 1).text() for r in range(2)] == ["2/2", "2/2"]
    assert view.state_label.text().startswith("4/4 runs done") and "finished" in view.state_label.text()
    assert not view.resume_button.isEnabled() and not view.stop_button.isEnabled()
    assert win.sweeps.open_sweep(finished_sweep) is view  # the window already open, raised
    assert dialogs == []


def _row(strategy, cell, accuracy, gap):
    def band(mean):
        return Band(mean, mean - 0.01, mean + 0.01, 3, True)
    return SummaryRow(cell, {}, strategy, 3, band(accuracy), band(accuracy), band(gap))


def _lightness(model, row, metric):
    return model.shade(row, metric).lightnessF()


def test_the_best_value_of_each_column_is_the_greenest_and_a_fairer_gap_is_better(finished_sweep, monkeypatch):
    sweep = Sweep.open(finished_sweep)
    model = SweepTableModel(sweep)
    keys = [(model.cell_id(r), model.strategy(r)) for r in range(model.rowCount())]
    accuracies, gaps = [0.6, 0.9, 0.7, 0.8], [0.30, 0.05, 0.20, 0.10]
    model.show_summary([_row(s, c, a, g) for (c, s), a, g in zip(keys, accuracies, gaps)])
    # The scale darkens as it greens: the higher the accuracy, the darker; the lower the PPV gap, the darker.
    by_accuracy = sorted(range(4), key=lambda r: accuracies[r])
    assert [_lightness(model, r, 0) for r in by_accuracy] == sorted((_lightness(model, r, 0) for r in range(4)),
                                                                    reverse=True)
    by_gap = sorted(range(4), key=lambda r: gaps[r])
    assert [_lightness(model, r, 2) for r in by_gap] == sorted(_lightness(model, r, 2) for r in range(4))
    assert min(range(4), key=lambda r: _lightness(model, r, 0)) == accuracies.index(max(accuracies))
    assert min(range(4), key=lambda r: _lightness(model, r, 2)) == gaps.index(min(gaps))
    assert "lower is better" in model.index(0, model.first_metric + 2).data(Qt.ItemDataRole.ToolTipRole)

    # The direction is the fairness registry's: were a higher gap fairer, the order would turn round.
    headline = metrics.FAIRNESS_METRICS[metrics.HEADLINE_FAIRNESS_METRIC]
    monkeypatch.setitem(metrics.FAIRNESS_METRICS, headline.name, dataclasses.replace(headline, lower_is_fairer=False))
    turned = SweepTableModel(sweep)
    turned.show_summary([_row(s, c, a, g) for (c, s), a, g in zip(keys, accuracies, gaps)])
    assert min(range(4), key=lambda r: _lightness(turned, r, 2)) == gaps.index(max(gaps))


def test_bands_read_as_every_band_in_alstudio_reads():
    assert band_text(Band(0.8123, 0.79, 0.834, 5, True)) == "0.812 [0.790, 0.834]"
    assert band_text(Band(0.8123, 0.8013, 0.8233, 2, False)) == "0.812 ± 0.011"
    assert band_text(Band(0.8123, 0.8123, 0.8123, 1, False)) == "0.812"
    assert band_text(Band(float("nan"), float("nan"), float("nan"), 1, False)) == "n/a"


def test_equal_values_or_missing_ones_get_no_colour(finished_sweep):
    model = SweepTableModel(Sweep.open(finished_sweep))
    keys = [(model.cell_id(r), model.strategy(r)) for r in range(model.rowCount())]
    model.show_summary([_row(s, c, 0.5, 0.1) for c, s in keys[:3]])
    assert all(model.shade(r, m) is None for r in range(4) for m in range(3))
    assert model.index(3, model.first_metric).data() == "—"
    assert model.index(3, 2).data() == "0 of 1"


def test_a_double_click_or_enter_on_a_row_opens_its_cells_plots(window, qtbot, dialogs, finished_sweep):
    win = window()
    view = win.sweeps.open_sweep(finished_sweep)
    qtbot.waitUntil(lambda: _filled(view), timeout=20_000)
    qtbot.waitExposed(view)
    table = view.table
    index = view.proxy.index(3, 0)  # grad_lambda=1, bald
    table.scrollTo(index)
    # A double-click's first press and release, then QTest's double-click event (which alone is no press).
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center())
    cell = finished_sweep / "cells" / "grad_lambda=1"
    assert win.experiment is not None and win.experiment.folder == cell
    assert len(win.rows) == 2 * 1 * 2  # strategies x seeds x evaluated cycles
    assert win.learning_plot.point_count("bald") == 2 and win.learning_plot.point_count("random") == 2

    table.setCurrentIndex(view.proxy.index(0, 0))
    qtbot.keyClick(table, Qt.Key.Key_Return)
    assert win.experiment.folder == finished_sweep / "cells" / "grad_lambda=0"
    assert dialogs == []


def test_open_sweep_refuses_a_folder_that_is_not_a_sweep_in_one_sentence(window, tmp_path, dialogs, finished_sweep):
    win = window()
    assert win.sweeps.open_sweep(tmp_path) is None
    assert win.sweeps.open_sweep(finished_sweep / "cells" / "grad_lambda=0") is None
    (kind, title, first), (_, _, second) = dialogs
    assert kind == "warning" and title == "Cannot open sweep"
    assert first == f"{tmp_path}: not an alstudio sweep folder (no sweep.json)"
    assert second.startswith(f"{finished_sweep / 'cells' / 'grad_lambda=0'}: an experiment folder, not a sweep")
    assert all(text.count("\n") == 0 and text.count(". ") == 0 for _, _, text in dialogs)
    assert win.sweeps.views == {}


def test_new_sweep_checks_other_axes_as_typed(window, qtbot, dialogs, tmp_path):
    win = window()
    dialog = win.sweeps.new_sweep_dialog()
    qtbot.addWidget(dialog)
    dialog.folder_edit.setText(str(tmp_path / "sweep"))
    assert dialog.ok_button.isEnabled() and not dialog.other_error.isVisible()

    dialog.other_axes.setText("dataset.bias_strenght=0.7,0.9")
    with pytest.raises(GridError) as refused:
        parse_grid("dataset.bias_strenght=0.7,0.9", win.config)
    assert not dialog.ok_button.isEnabled()
    assert dialog.other_error.isVisible() and dialog.other_error.text() == str(refused.value)
    assert "did you mean dataset.bias_strength?" in dialog.other_error.text()

    dialog.other_axes.setText("active.strategy=random")  # the strategies are ticked above
    assert not dialog.ok_button.isEnabled() and "given twice" in dialog.other_error.text()

    dialog.other_axes.setText("dataset.seed=1,2")
    assert dialog.ok_button.isEnabled() and not dialog.other_error.isVisible()
    assert dialog.plan.cells == 2 and "dataset.seed=1,2" in dialog.plan.grid

    dialog.axis_boxes[0].setChecked(True)
    for _, box in dialog.axis_boxes[0].boxes:
        box.setChecked(False)
    assert not dialog.ok_button.isEnabled() and "tick at least one value" in dialog.problem.text()
    dialog.axis_boxes[0].setChecked(False)
    dialog.strategy_box.tick([])
    assert not dialog.ok_button.isEnabled() and dialog.problem.text() == "Tick at least one strategy to compare"
    dialog.strategy_box.tick(["random"])
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "notes.txt").write_text("mine")
    dialog.seeds_spin.setValue(2)
    assert not dialog.ok_button.isEnabled() and "not empty" in dialog.problem.text()
    assert dialogs == []


def test_a_sweep_from_new_sweep_runs_live_while_the_window_keeps_answering(window, qtbot, dialogs, tmp_path):
    win = window(tiny_config(active={"cycles": 1}))
    dialog = win.sweeps.new_sweep_dialog()
    dialog.strategy_box.tick(["random", "bald"])
    grad = dialog.axis_boxes[1]
    assert grad.offer.key == "training.grad_lambda"
    grad.tick([0.0, 1.0])
    dialog.seeds_spin.setValue(1)
    dialog.parallel_spin.setValue(2)
    folder = tmp_path / "live"
    dialog.folder_edit.setText(str(folder))
    assert dialog.plan.summary() == "2 cell(s) x 2 strategies x 1 seed(s) = 4 runs, up to 2 at once"

    beats = [time.monotonic()]
    heartbeat = QTimer(interval=50)
    heartbeat.timeout.connect(lambda: beats.append(time.monotonic()))
    heartbeat.start()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()  # accepted: the sweep started
    view = win.sweeps.views[folder.resolve()]
    runner = win.sweeps.runner
    assert view.runner is runner and view.stop_button.isEnabled()
    statuses = []
    runner.progress.connect(statuses.append)
    with qtbot.waitSignal(runner.ended, timeout=180_000):
        pass
    # The poll after the drive ended, with what the driver wrote last:
    qtbot.waitUntil(lambda: "Finished" in view.state_label.text() and view.state_label.text().startswith("4/4"),
                    timeout=20_000)
    heartbeat.stop()

    assert statuses and statuses[-1].driver_running  # the driver's own status reached the window
    assert _texts(view) == _expected(folder)
    assert not view.stop_button.isEnabled() and not view.resume_button.isEnabled()
    gaps = [later - earlier for earlier, later in zip(beats, beats[1:])]
    assert len(gaps) > 10 and max(gaps) < 2.5, "the GUI thread was held up"
    assert not win.sweeps.driving and dialogs == []
    Sweep.open(folder).for_writing().release()  # the drive let go of every lock


def test_closing_a_sweep_window_asks_then_stops_the_sweep_resumably(window, qtbot, dialogs, tmp_path):
    win = window()
    check = check_plan(win.config, ["random"], [], "", 2, 1, str(tmp_path / "stopped"))
    view = win.sweeps.start(check.plan)
    outcomes = []
    view.runner.finished.connect(outcomes.append)
    with qtbot.waitSignal(view.runner.ended, timeout=120_000):
        view.close()  # while it still prepares the dataset
    assert [(kind, title) for kind, title, _ in dialogs] == [("question", "Stop the sweep?")]
    assert outcomes[0].stopped and outcomes[0].finished == 0
    reopened = win.sweeps.open_sweep(tmp_path / "stopped")
    assert reopened is not view
    qtbot.waitUntil(lambda: reopened.status is not None, timeout=20_000)
    assert reopened.resume_button.isEnabled() and "Resume continues it" in reopened.state_label.text()
    Sweep.open(tmp_path / "stopped").for_writing().release()  # the stopped drive let go of every lock


def test_gui_with_a_sweep_folder_opens_its_window(qtbot, finished_sweep):
    from alstudio.gui.app import folder_to_show, make_window

    config, folder = folder_to_show(finished_sweep)
    assert folder == finished_sweep and config == Sweep.open(finished_sweep).base_config
    win = make_window(config, experiment=folder)
    qtbot.addWidget(win)
    assert list(win.sweeps.views) == [finished_sweep.resolve()]
    win.close()
    assert win.sweeps.views == {}

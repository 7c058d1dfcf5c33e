"""Sweeps without running anything: grid parsing and its sentences, cell ids, the folder, its
manifest and its locks, the run lock, and the missing-Ray sentence."""

import json
import sys
import threading

import pytest
from engine_helpers import tiny_config, tiny_toml

from alstudio.cli import main
from alstudio.engine.errors import UserInputError
from alstudio.engine.experiment import Experiment
from alstudio.engine.folder_lock import FolderInUseError
from alstudio.engine.journal import Journal
from alstudio.engine.sweep import RAY_MISSING, GridError, Sweep, parse_grid, strategies_of
from alstudio.engine.sweep.execution import RunTask, execute_run
from alstudio.engine.sweep.folder import run_lock
from alstudio.engine.sweep.grid import cells_of


@pytest.fixture
def base():
    return tiny_config()


@pytest.mark.parametrize("grid, sentence", [
    ("dataset.bias_strenght=0.7", "--grid axis dataset.bias_strenght: not a config key (did you mean "
                                  "dataset.bias_strength?)"),
    ("nosection=1", "--grid axis nosection: not a config key"),
    ("dataset.bias_strength=0.7,1.5", "--grid axis dataset.bias_strength: the value 1.5 is refused: "
                                      "dataset.bias_strength must be <= 1.0, got 1.5"),
    ("training.epochs=two", "--grid axis training.epochs: the value 'two' is refused: training.epochs must be "
                            "an integer, got 'two'"),
    ("training.grad_lambda=0; training.grad_lambda=1", "--grid axis training.grad_lambda: given twice"),
    ("training.grad_lambda=", "--grid axis training.grad_lambda: give at least one value after '='"),
    ("training.grad_lambda=0,,1", "--grid axis training.grad_lambda: an empty value in '0,,1'"),
    ("training.grad_lambda=1,1", "--grid axis training.grad_lambda: a value is listed twice"),
    ("training.grad_lambda", "--grid: 'training.grad_lambda' is not an axis; write KEY=V1,V2"),
    ("active.strategy=random,nope", "--grid axis active.strategy: must hold names from"),
    ("active.repetitions=1,2", "--grid axis active.repetitions: cannot be an axis; use --seeds"),
    (" ; ", "--grid: give at least one axis"),
])
def test_each_bad_axis_is_one_sentence_naming_it(base, grid, sentence):
    with pytest.raises(GridError) as caught:
        parse_grid(grid, base)
    assert str(caught.value).startswith(sentence)
    assert "\n" not in str(caught.value)


def test_values_are_typed_by_the_config_model(base):
    axes = parse_grid("active.strategy=random,bald; training.grad_lambda=0,1.5; training.optimizer=sgd,adam; "
                      'dataset.classes=["a","d"],["a","b","c"]; training.reset_each_cycle=true', base)
    assert strategies_of(axes) == ["random", "bald"]
    by_key = {axis.key: axis.values for axis in axes}
    assert by_key["training.grad_lambda"] == (0, 1.5)
    assert by_key["training.optimizer"] == ("sgd", "adam")
    assert by_key["dataset.classes"] == (["a", "d"], ["a", "b", "c"])
    assert by_key["training.reset_each_cycle"] == (True,)
    assert strategies_of(parse_grid("training.grad_lambda=0", base)) is None


def test_cells_span_the_other_axes_with_safe_deterministic_ids(base):
    axes = parse_grid("active.strategy=random,bald; dataset.bias_strength=0.7,0.9; training.grad_lambda=0,1", base)
    cells = cells_of(axes)
    assert [c.id for c in cells] == ["bias_strength=0.7__grad_lambda=0", "bias_strength=0.7__grad_lambda=1",
                                     "bias_strength=0.9__grad_lambda=0", "bias_strength=0.9__grad_lambda=1"]
    assert cells[1].settings == {"dataset.bias_strength": 0.7, "training.grad_lambda": 1}
    assert [c.id for c in cells_of(axes)] == [c.id for c in cells]
    # Two axes sharing a field name are told apart by their section; strategies alone make one cell.
    assert [c.id for c in cells_of(parse_grid("dataset.seed=1; active.seed=2", base))] == [
        "dataset_seed=1__active_seed=2"]
    assert [c.id for c in cells_of(parse_grid("active.strategy=random,bald", base))] == ["all"]


def test_values_cannot_leave_the_sweep_folder(base):
    axes = parse_grid("annotator.model=../../etc/x,a/b,a_b", base)
    ids = [c.id for c in cells_of(axes)]
    assert all("/" not in i and "\\" not in i and not i.startswith(".") for i in ids)
    assert len(set(ids)) == 3 and ids[2] == "model=a_b"  # a replaced character gets a digest: no clash


def test_a_refused_combination_names_its_cell(tmp_path):
    base = tiny_config()
    axes = parse_grid("dataset.pool_size=80,12; active.cycles=1,2", base)  # 12 images cannot give 8 + 2 x 4 labels
    with pytest.raises(GridError, match=r"^--grid cell pool_size=12__cycles=2: active.cycles asks for 16 labels"):
        Sweep.create(tmp_path / "sweep", base, axes, ["random"], 1)
    assert not (tmp_path / "sweep").exists()


def test_the_folder_manifest_and_locks(tmp_path, base):
    axes = parse_grid("active.strategy=random,bald; training.grad_lambda=0,1", base)
    sweep = Sweep.create(tmp_path / "s", base, axes, strategies_of(axes), 2, retries=1)
    try:
        for cell in sweep.cells:  # each cell is an experiment folder as `alstudio run` makes it
            experiment = Experiment.open(cell.folder)
            assert experiment.strategies == ("random", "bald") and experiment.n_seeds == 2
        assert Experiment.open(sweep.cells[1].folder).config.training.grad_lambda == 1
        opened = Sweep.open(tmp_path / "s")
        assert [c.id for c in opened.cells] == [c.id for c in sweep.cells] and opened.retries == 1
        with pytest.raises(FolderInUseError, match=r"in use by process \d+"):  # a second driver
            opened.for_writing()
        with pytest.raises(FolderInUseError):  # nor may anyone resume a cell on its own meanwhile
            Experiment.open(sweep.cells[0].folder).for_writing()
    finally:
        sweep.release()
    Sweep.open(tmp_path / "s").for_writing().release()  # free again once the driver let go


@pytest.mark.parametrize("damage, problem", [
    (lambda m: "{", "not valid JSON"),
    (lambda m: json.dumps({**m, "seeds": 0}), "seeds"),
    (lambda m: json.dumps({**m, "cells": [{"id": "../x", "settings": {}}]}), "cells.0.id"),
    (lambda m: json.dumps({**m, "strategies": ["nope"]}), "nope"),
])
def test_a_damaged_manifest_is_one_sentence_naming_the_file(tmp_path, base, damage, problem):
    sweep = Sweep.create(tmp_path / "s", base, parse_grid("training.grad_lambda=0", base), ["random"], 1)
    sweep.release()
    path = tmp_path / "s" / "sweep.json"
    path.write_text(damage(json.loads(path.read_text())))
    with pytest.raises(UserInputError) as caught:
        Sweep.open(tmp_path / "s")
    assert str(caught.value).startswith(f"{path}: damaged sweep manifest (") and problem in str(caught.value)


def test_a_worker_waits_while_another_writes_the_run(tmp_path, base):
    sweep = Sweep.create(tmp_path / "s", base, parse_grid("training.grad_lambda=0", base), ["random"], 1)
    sweep.release()
    held = run_lock(sweep.folder, "grad_lambda=0", "random-seed1").acquire()
    stop = threading.Event()
    outcome = []
    task = RunTask(str(sweep.folder), "grad_lambda=0", "random", 0, str(tmp_path / "cache"))
    worker = threading.Thread(target=lambda: outcome.append(execute_run(task, stop)))
    worker.start()
    worker.join(1.5)
    assert worker.is_alive()  # waiting for the lock, not writing
    assert Journal.is_unstarted(sweep.cells[0].folder / "runs" / "random-seed1" / "journal.sqlite")
    stop.set()
    worker.join(5)
    held.release()
    assert outcome[0].status == "stopped"


def _write_tiny(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_toml())
    return str(path)


@pytest.mark.parametrize("extra, sentence", [
    (["--grid", "training.grad_lambda=-1"], "alstudio: error: --grid axis training.grad_lambda: the value -1 is "
                                            "refused: training.grad_lambda must be >= 0.0, got -1\n"),
    (["--grid", "active.strategy=random", "--strategies", "bald"], "alstudio: error: give the strategies either "
                                                                   "as the active.strategy axis of --grid or with "
                                                                   "--strategies, not both\n"),
    (["--grid", "training.grad_lambda=0", "--max-parallel", "0"], "alstudio: error: --max-parallel must be at "
                                                                  "least 1, got 0\n"),
    (["--grid", "training.grad_lambda=0", "--engine", "ray"], f"alstudio: error: {RAY_MISSING}\n"),
])
def test_bad_sweep_arguments_exit_2_with_one_sentence(tmp_path, capsys, monkeypatch, extra, sentence):
    monkeypatch.setitem(sys.modules, "ray", None)  # as where Ray is not installed
    assert main(["sweep", _write_tiny(tmp_path), "--out", str(tmp_path / "s"), *extra]) == 2
    assert capsys.readouterr().err == sentence
    assert not (tmp_path / "s").exists()
    assert RAY_MISSING.endswith("pip install 'alstudio[ray]'")


def test_resume_refuses_engine_options_for_an_experiment(tmp_path, capsys, base):
    Experiment.create(tmp_path / "e", base, ["random"], 1).release()
    assert main(["resume", str(tmp_path / "e"), "--engine", "local"]) == 2
    assert "--engine applies to sweep folders only" in capsys.readouterr().err


def test_the_eta_counts_work_from_the_first_finished_cycle_and_cells_in_dispatch_order(tmp_path, base):
    from alstudio.engine.sweep.status import Pace, RunState, build_status

    sweep = Sweep.create(tmp_path / "s", base, parse_grid("training.grad_lambda=0,1", base), ["random"], 2)
    sweep.release()
    now = [0.0]
    pace = Pace(clock=lambda: now[0])
    pace.observe(3)  # what an earlier driver did
    now[0] = 30.0  # the workers start (imports): no cycle yet, no pace
    pace.observe(3)
    assert pace.seconds_for(10) is None
    pace.observe(4)  # the first cycle this driver saw finish starts the clock
    now[0] = 40.0
    pace.observe(9)  # 5 cycles in 10 s
    assert pace.seconds_for(10) == 20.0
    states = {("grad_lambda=0", "random", 0): RunState("finished", 3),
              ("grad_lambda=0", "random", 1): RunState("running", 1),
              ("grad_lambda=1", "random", 0): RunState("pending", 0),
              ("grad_lambda=1", "random", 1): RunState("failed", 1)}
    status = build_status(sweep, states, {"grad_lambda=0": 3, "grad_lambda=1": 3}, pace, True)
    first, second = status.cells
    assert (first.done, first.running, first.failed, first.pending) == (1, 1, 0, 0)
    assert (second.done, second.running, second.failed, second.pending) == (0, 0, 1, 1)
    # 2 cycles left in the first cell; the second waits for those and its own 3: 2 s per cycle.
    assert (first.eta_seconds, second.eta_seconds, status.eta_seconds) == (4.0, 10.0, 10.0)
    assert first.line(14) == "grad_lambda=0   1/2 done, 1 running, 0 failed  about 4 s left"

"""Sweeps on the local process pool, end to end: a driver killed mid-way and resumed (finished runs
untouched), a failing run retried, then reported while the others finish, the aggregated files and
the report, and once the failure is put right, the results of an uninterrupted sweep; a cooperative
stop from another thread."""

import csv
import json

import pytest
from engine_helpers import tiny_config
from PIL import Image
from sweep_helpers import (
    RUNS,
    end_session,
    events,
    fingerprint,
    finished,
    journals,
    kill_once_finished,
    obstruct,
    reference_results,
    results,
    start_driver,
    sweep_command,
    wait_until_gone,
    write_config,
)

from alstudio.cli import main
from alstudio.engine.journal import Journal
from alstudio.engine.sweep import Sweep, parse_grid, sweep_status, sweep_summary


@pytest.fixture
def reference(tmp_path_factory):
    return reference_results(tmp_path_factory)


def test_a_killed_sweep_resumes_only_unfinished_runs_retries_a_failing_one_and_aggregates(tmp_path, capsys,
                                                                                       reference):
    out = tmp_path / "sweep"
    # One at a time, so the kill lands with some runs finished and the rest not.
    driver = start_driver(sweep_command(write_config(tmp_path), out, "--max-parallel", "1"), tmp_path / "driver.log")

    def watch():  # read-only, beside the running driver
        watched = sweep_status(Sweep.open(out))
        assert watched.driver_running and watched.done >= 2 and watched.runs == RUNS

    try:
        kill_once_finished(driver, out, 2, before_kill=watch)
        left = wait_until_gone(driver.pid)  # the pool's workers end themselves when their driver is gone
    finally:
        end_session(driver.pid)
    assert not left, f"the killed driver left these processes running: {left}"
    before = {p: fingerprint(p) for p in journals(out) if finished(p)}
    assert 2 <= len(before) < RUNS - 1
    failing = out / "cells" / "grad_lambda=1" / "runs" / "bald-seed2"  # the last run dispatched
    obstruct(failing)

    assert main(["resume", str(out), "--max-parallel", "2"]) == 1
    printed = capsys.readouterr()
    assert f"resuming {RUNS - len(before)} unfinished run(s) of {RUNS}" in printed.out
    assert "alstudio: error: grad_lambda=1: bald seed 2 failed after 3 attempt(s): " in printed.err
    assert "checkpoints" in printed.err
    failures = json.loads((out / "failures.json").read_text())
    assert [(f["cell"], f["strategy"], f["seed"], f["attempts"]) for f in failures] == [("grad_lambda=1", "bald", 2, 3)]
    assert events(failing / "journal.sqlite", "failed") == 3  # the first attempt and its two retries
    others = [p for p in journals(out) if p.parent != failing]
    assert len(others) == RUNS - 1 and all(finished(p) for p in others)  # the others went on
    assert {p: fingerprint(p) for p in before} == before  # finished runs were never run again

    with open(out / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 7 * 2  # finished runs x evaluated cycles
    assert list(rows[0])[:4] == ["cell", "training.grad_lambda", "strategy", "seed"]
    assert {(r["cell"], r["training.grad_lambda"]) for r in rows} == {("grad_lambda=0", "0"), ("grad_lambda=1", "1")}
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary) == ["grad_lambda=0", "grad_lambda=1"]
    cell = summary["grad_lambda=0"]
    assert cell["settings"] == {"training.grad_lambda": 0} and cell["folder"] == "cells/grad_lambda=0"
    assert cell["strategies"]["bald"]["seeds"] == 2 and "random" in cell["strategies"]["bald"]["versus"]
    assert summary["grad_lambda=1"]["strategies"]["bald"]["seeds"] == 1
    table = sweep_summary(Sweep.open(out))
    assert [(r.cell, r.strategy) for r in table][:2] == [("grad_lambda=0", "random"), ("grad_lambda=0", "bald")]
    assert table[0].final_accuracy.n == 2 and not table[0].final_accuracy.is_ci
    status = sweep_status(Sweep.open(out))
    assert not status.driver_running
    assert [(c.done, c.failed, c.pending) for c in status.cells] == [(4, 0, 0), (3, 1, 0)]

    assert main(["report", str(out), "--png", str(tmp_path / "sweep.png")]) == 0
    assert Image.open(tmp_path / "sweep.png").size == (2 * 420, 340)

    (failing / "checkpoints").unlink()  # the cause put right: resume runs the failed run again
    capsys.readouterr()
    assert main(["resume", str(out)]) == 0
    assert f"resuming 1 unfinished run(s) of {RUNS}" in capsys.readouterr().out
    assert {p: fingerprint(p) for p in before} == before
    assert [events(p, "finished") for p in journals(out)] == [1] * RUNS  # no run finished twice
    assert results(out) == reference


def test_a_stop_from_another_thread_ends_the_sweep_resumably(tmp_path):
    """What the workbench does: run_sweep on a worker thread, stopped cooperatively."""
    import threading

    from alstudio.engine.sweep import LocalExecutor, run_sweep

    base = tiny_config(training={"epochs": 400})  # a run long enough to be stopped in the middle
    sweep = Sweep.create(tmp_path / "sweep", base, parse_grid("active.strategy=random", base), ["random"], 2)
    stop = threading.Event()
    seen = []

    def on_progress(status):
        seen.append(status)
        if status.running:
            stop.set()

    try:
        outcome = run_sweep(sweep, LocalExecutor(max_parallel=1), on_progress, stop)
    finally:
        sweep.release()
    assert outcome.stopped and not outcome.failed and outcome.finished == 0
    assert any(status.running == 1 for status in seen)
    runs = tmp_path / "sweep" / "cells" / "all" / "runs"
    with Journal.open(runs / "random-seed1" / "journal.sqlite", read_only=True) as journal:
        assert journal.status == "stopped"  # resumable; the second run never started
    assert Journal.is_unstarted(runs / "random-seed2" / "journal.sqlite")

"""Sweeps on the local process pool, end to end: a driver killed mid-way and resumed (finished runs
untouched), a failing run retried, then reported while the others finish, the aggregated files and
the report; a cooperative stop from another thread."""

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

from engine_helpers import tiny_config, tiny_toml
from PIL import Image

from alstudio.cli import main
from alstudio.engine.journal import Journal
from alstudio.engine.sweep import Sweep, parse_grid, sweep_status, sweep_summary


def _journals(folder):
    return sorted(folder.glob("cells/*/runs/*/journal.sqlite"))


def _finished(path):
    with Journal.open(path, read_only=True) as journal:
        return journal.status == "finished"


def _fingerprint(path):
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def _wait_for(condition, seconds, proc):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        assert proc.poll() is None, "the sweep ended before it could be killed"
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_killed_sweep_resumes_only_unfinished_runs_retries_a_failing_one_and_aggregates(tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    config.write_text(tiny_toml(active={"cycles": 1}))
    out = tmp_path / "sweep"
    log = open(tmp_path / "driver.log", "w")
    # One at a time, so the kill lands with some runs finished and the rest not.
    driver = subprocess.Popen([sys.executable, "-m", "alstudio", "sweep", str(config), "--grid",
                               "active.strategy=random,bald; training.grad_lambda=0,1", "--seeds", "2",
                               "--out", str(out), "--max-parallel", "1"], stdout=log, stderr=log)
    try:
        _wait_for(lambda: sum(_finished(p) for p in _journals(out)) >= 2, 120, driver)
        watched = sweep_status(Sweep.open(out))  # read-only, beside the running driver
        assert watched.driver_running and watched.done >= 2 and watched.runs == 8
    finally:
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
    before = {p: _fingerprint(p) for p in _journals(out) if _finished(p)}
    assert 2 <= len(before) < 7
    # A real failure for the last run dispatched: a file where it must make its checkpoints folder.
    failing = out / "cells" / "grad_lambda=1" / "runs" / "bald-seed2"
    assert Journal.is_unstarted(failing / "journal.sqlite")
    failing.mkdir(parents=True)
    (failing / "checkpoints").write_text("in the way")

    assert main(["resume", str(out), "--max-parallel", "2"]) == 1
    printed = capsys.readouterr()
    assert f"resuming {8 - len(before)} unfinished run(s) of 8" in printed.out
    assert "alstudio: error: grad_lambda=1: bald seed 2 failed after 3 attempt(s): " in printed.err
    assert "checkpoints" in printed.err
    failures = json.loads((out / "failures.json").read_text())
    assert [(f["cell"], f["strategy"], f["seed"], f["attempts"]) for f in failures] == [("grad_lambda=1", "bald", 2, 3)]
    with Journal.open(failing / "journal.sqlite", read_only=True) as journal:
        assert len(journal.events("failed")) == 3  # the first attempt and its two retries
    journals = [p for p in _journals(out) if p.parent != failing]
    assert len(journals) == 7 and all(_finished(p) for p in journals)  # the others went on
    assert {p: _fingerprint(p) for p in before} == before  # finished runs were never run again

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

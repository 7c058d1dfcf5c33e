"""What the sweep tests of both engines share: the grid, a driver started in its own process and
killed there, the processes it leaves, and the results a killed-and-resumed sweep must equal."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from engine_helpers import tiny_config, tiny_toml

from alstudio.engine.journal import Journal
from alstudio.engine.sweep import Sweep, parse_grid, run_sweep, strategies_of
from alstudio.engine.sweep.execution import execute_run

# 2 cells x 2 strategies x 2 seeds = 8 runs of one query each, on a tiny config that learns enough for
# the runs' accuracies, fairness gaps and queries to differ (with 2 epochs on 8 labels every run predicts
# one class, and any two sweeps would agree).
GRID = "active.strategy=random,bald; training.grad_lambda=0,1"
SEEDS = 2
RUNS = 8
SECTIONS = {"active": {"cycles": 1, "initial_labels": 16, "query_size": 8}, "training": {"epochs": 8}}
WALL_CLOCK = ("train_seconds", "query_seconds")  # the only columns allowed to differ between two sweeps


def write_config(folder: Path) -> Path:
    path = folder / "tiny.toml"
    path.write_text(tiny_toml(**SECTIONS))
    return path


def sweep_command(config: Path, out: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "alstudio", "sweep", str(config), "--grid", GRID, "--seeds", str(SEEDS),
            "--out", str(out), *options]


def journals(folder: Path) -> list[Path]:
    return sorted(folder.glob("cells/*/runs/*/journal.sqlite"))


def finished(path: Path) -> bool:
    with Journal.open(path, read_only=True) as journal:
        return journal.status == "finished"


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def events(path: Path, kind: str) -> int:
    with Journal.open(path, read_only=True) as journal:
        return len(journal.events(kind))


def start_driver(command: list[str], log: Path) -> subprocess.Popen:
    """`command` in a session of its own, so that whatever it starts can be found after it is killed."""
    with open(log, "w") as handle:
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def kill_once_finished(driver: subprocess.Popen, out: Path, runs: int, seconds: float = 120,
                       before_kill: Callable[[], None] | None = None) -> None:
    """SIGKILL the driver as soon as `runs` runs have finished (it must not have ended by itself);
    `before_kill` looks at the sweep while the driver still runs."""
    deadline = time.monotonic() + seconds
    try:
        while sum(finished(p) for p in journals(out)) < runs:
            assert driver.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, f"fewer than {runs} runs finished in {seconds} s"
            time.sleep(0.2)
        if before_kill is not None:
            before_kill()
    finally:
        driver.kill()  # SIGKILL; nothing if it has ended
        driver.wait()


def session_processes(session: int, ignoring: tuple[str, ...] = ()) -> list[str]:
    """The live processes of a session (Linux: read from /proc), as 'pid name' (empty elsewhere), but
    for those named in `ignoring`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        state, _ppid, _group, sid = text[text.rindex(")") + 2:].split()[:4]
        name = text[text.index("(") + 1:text.rindex(")")]
        if int(sid) == session and state != "Z" and name not in ignoring:
            found.append(f"{stat.parent.name} {name}")
    return found


def wait_until_gone(session: int, seconds: float = 20, ignoring: tuple[str, ...] = ()) -> list[str]:
    """The processes of `session` still alive after `seconds` (a killed parent's children take a moment)."""
    deadline = time.monotonic() + seconds
    while (left := session_processes(session, ignoring)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def end_session(session: int) -> None:
    """Teardown: end whatever is left of a session this test started, by process id."""
    for entry in session_processes(session):
        try:
            os.kill(int(entry.split()[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass


def alstudio(*args: str, timeout: float = 150) -> tuple[int, str, list[str]]:
    """`alstudio ARGS` in a process and session of its own: its exit code, its output, and the processes
    of its session still alive once it has ended (there should be none)."""
    process = subprocess.Popen([sys.executable, "-m", "alstudio", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output, wait_until_gone(process.pid)
    finally:
        end_session(process.pid)  # nothing, unless it overran or left something behind
        process.wait()


def obstruct(run: Path) -> None:
    """A real failure for a run not started yet: a file where it must make its checkpoints folder."""
    assert Journal.is_unstarted(run / "journal.sqlite")
    run.mkdir(parents=True)
    (run / "checkpoints").write_text("in the way")


def results(folder: Path) -> tuple[list[dict], dict]:
    """metrics.csv without its wall-clock columns, and summary.json: what two sweeps of the same grid and
    seeds must agree on exactly (one torch thread per run makes the runs deterministic)."""
    with open(folder / "metrics.csv", newline="") as handle:
        rows = [{k: v for k, v in row.items() if k not in WALL_CLOCK} for row in csv.DictReader(handle)]
    return rows, json.loads((folder / "summary.json").read_text())


class InThisProcess:
    """An executor that runs each run as it is submitted, in this process (one after another)."""

    slots = 1

    def __init__(self):
        self._ended = []

    def start(self) -> None:
        pass

    def submit(self, task) -> None:
        self._ended.append((task, execute_run(task)))

    def completed(self, timeout: float) -> list:
        ended, self._ended = self._ended, []
        return ended

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


_reference: dict[str, tuple[list[dict], dict]] = {}


def reference_results(tmp_path_factory) -> tuple[list[dict], dict]:
    """The results of an uninterrupted sweep of GRID (the sweep's own driver, its runs one after another
    in this process with one torch thread, as each engine's workers run them), made once per test session
    for the tests of both engines."""
    if "results" not in _reference:
        import torch

        folder = tmp_path_factory.mktemp("reference") / "sweep"
        base = tiny_config(**SECTIONS)
        axes = parse_grid(GRID, base)
        sweep = Sweep.create(folder, base, axes, strategies_of(axes), SEEDS)
        threads = torch.get_num_threads()
        try:
            assert run_sweep(sweep, InThisProcess()).complete
        finally:
            sweep.release()
            torch.set_num_threads(threads)
        _reference["results"] = results(folder)
    return _reference["results"]

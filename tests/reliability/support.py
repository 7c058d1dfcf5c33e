"""Helpers for the reliability tests: a tiny config, the CLI in subprocesses, and an experiment folder
read back (without writing a byte into it) to compare with an uninterrupted reference."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine_helpers import tiny_toml

INITIAL_LABELS, QUERY_SIZE = 8, 4
STRATEGIES = ("random", "bald")
RUNS = tuple(f"{strategy}-seed1" for strategy in STRATEGIES)
# Wall-clock seconds: the only columns two identical runs never share.
TIMING_COLUMNS = ("train_seconds", "query_seconds")


class Cli:
    """`python -m alstudio ...` in subprocesses sharing one dataset cache, output kept in files (a pipe
    nobody reads could fill up and stall a run)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.env = dict(os.environ, ALSTUDIO_CACHE_DIR=str(self.root / "cache"),
                        ALSTUDIO_DATA_DIR=str(self.root / "data"), PYTHONUNBUFFERED="1",
                        QT_QPA_PLATFORM="offscreen",
                        # one thread each: the machine is small and shared, and runs may overlap
                        OMP_NUM_THREADS="1",
                        # runs one after another unless a test asks for --jobs (test_parallel_runs.py)
                        ALSTUDIO_JOBS="1")
        self._count = 0

    def config(self, cycles: int) -> Path:
        path = self.root / f"tiny{cycles}.toml"
        if not path.exists():
            active = {"initial_labels": INITIAL_LABELS, "query_size": QUERY_SIZE, "cycles": cycles}
            path.write_text(tiny_toml(active=active))
        return path

    def run_args(self, cycles: int, out: Path, *extra: str) -> list[str]:
        return ["run", str(self.config(cycles)), "--out", str(out), "--strategies", ",".join(STRATEGIES),
                "--seeds", "1", *extra]

    def start(self, *args: str, python: list[str] | None = None) -> Process:
        """A running `alstudio ARGS` (or `python ...` when `python` is given)."""
        self._count += 1
        log = self.root / "logs" / f"{self._count:03d}"
        log.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, *(python or ["-m", "alstudio"]), *args]
        with open(log / "out", "w") as out, open(log / "err", "w") as err:
            popen = subprocess.Popen(command, env=self.env, stdout=out, stderr=err, text=True)
        return Process(popen, log)

    def run(self, *args: str, python: list[str] | None = None, timeout: float = 300) -> Finished:
        process = self.start(*args, python=python)
        process.wait(timeout)
        return process.finished()

    def reference(self, cycles: int) -> Path:
        self._count += 1  # a fresh folder should an earlier attempt have failed half-way
        out = self.root / f"reference{cycles}-{self._count}"
        done = self.run(*self.run_args(cycles, out))
        assert done.returncode == 0, done.stderr
        return out


class Finished:
    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr

    def __repr__(self) -> str:
        return f"exit {self.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


class Process:
    def __init__(self, popen: subprocess.Popen, log: Path):
        self.popen, self.log = popen, log
        self.pid = popen.pid

    def poll(self):
        return self.popen.poll()

    def wait(self, timeout: float = 300) -> int:
        return self.popen.wait(timeout=timeout)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(timeout=60)

    def finished(self) -> Finished:
        return Finished(self.popen.returncode, (self.log / "out").read_text(), (self.log / "err").read_text())


# ---- reading an experiment back -------------------------------------------------------------------

def read_journal(journal: Path, sql: str) -> list[tuple]:
    """Rows from a copy of the journal and its write-ahead log: SQLite would otherwise fold the log into
    the file, or leave -wal and -shm files beside it, changing what the next process finds. [] when
    there is no journal yet."""
    if not journal.exists():
        return []
    with tempfile.TemporaryDirectory(prefix="reliability-") as scratch:
        copy = Path(scratch) / "journal.sqlite"
        shutil.copyfile(journal, copy)
        wal = Path(f"{journal}-wal")
        if wal.exists():
            shutil.copyfile(wal, f"{copy}-wal")
        db = sqlite3.connect(copy)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()


def run_state(journal: Path) -> dict:
    """A run's status, labels (sample -> label, source, cycle), cycles (cycle, n_labeled, metrics JSON)
    and queries (cycle -> [(sample, rank, score)])."""
    status = read_journal(journal, "SELECT value FROM meta WHERE key = 'status'")
    queries: dict[int, list] = {}
    for cycle, sample, rank, score in read_journal(
            journal, "SELECT cycle, sample, rank, score FROM queries ORDER BY cycle, rank"):
        queries.setdefault(cycle, []).append((sample, rank, score))
    return {
        "exists": journal.exists(),
        "status": status[0][0] if status else None,
        "labels": {s: (label, source, cycle) for s, label, source, cycle in
                   read_journal(journal, "SELECT sample, label, source, cycle FROM labels")},
        "cycles": read_journal(journal, "SELECT cycle, n_labeled, metrics FROM cycles ORDER BY cycle"),
        "queries": queries,
    }


def experiment_state(folder: Path) -> dict[str, dict]:
    return {run: run_state(folder / "runs" / run / "journal.sqlite") for run in RUNS}


def progress(folder: Path) -> tuple[int, int, int]:
    """(journals, labels, cycles) recorded so far over every run, for noticing that a process moved on."""
    journals = labels = cycles = 0
    for run in RUNS:
        journal = folder / "runs" / run / "journal.sqlite"
        if not journal.exists():
            continue
        journals += 1
        try:
            counts = read_journal(journal, "SELECT (SELECT count(*) FROM labels), (SELECT count(*) FROM cycles)")
        except (sqlite3.Error, OSError):
            continue  # copied half-way through a write, or the log went meanwhile: look again
        labels, cycles = labels + counts[0][0], cycles + counts[0][1]
    return journals, labels, cycles


def wait_for_progress(folder: Path, process: Process, since: tuple[int, int, int], what: str,
                      timeout: float = 240) -> bool:
    """Wait until `what` ("journal", "labels" or "cycle") grew beyond `since`; False if the process
    ended first."""
    index = {"journal": 0, "labels": 1, "cycle": 2}[what]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if progress(folder)[index] > since[index]:
            return True
        time.sleep(0.02)
    raise AssertionError(f"no new {what} in {timeout} s in {folder}")


def wait_for_lock(folder: Path, process: Process, timeout: float = 240) -> None:
    """Until the folder's lock file names `process` (it writes its pid there once it holds the lock)."""
    lock = folder / ".alstudio.lock"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.finished()
        try:
            if json.loads(lock.read_text() or "{}").get("pid") == process.pid:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    raise AssertionError(f"{process.pid} did not take the lock of {folder} in {timeout} s")


def results(folder: Path) -> dict:
    """metrics.csv (without its timing columns) and summary.json, as text rows."""
    with open(folder / "metrics.csv", newline="") as handle:
        rows = [{k: v for k, v in row.items() if k not in TIMING_COLUMNS} for row in csv.DictReader(handle)]
    return {"metrics.csv": rows, "summary.json": (folder / "summary.json").read_text()}


def differences(folder: Path, reference: Path) -> list[str]:
    """What differs between a finished experiment and the reference; [] when they are the same."""
    problems = []
    ours, theirs = experiment_state(folder), experiment_state(reference)
    for run in RUNS:
        mine, good = ours[run], theirs[run]
        if mine["status"] != "finished":
            problems.append(f"{run}: status {mine['status']!r}")
        lost = sorted(set(good["labels"]) - set(mine["labels"]))
        extra = sorted(set(mine["labels"]) - set(good["labels"]))
        changed = sorted(s for s in set(good["labels"]) & set(mine["labels"]) if good["labels"][s] != mine["labels"][s])
        for name, samples in (("lost labels", lost), ("extra labels", extra), ("changed labels", changed)):
            if samples:
                problems.append(f"{run}: {name} for samples {samples[:10]}")
        if mine["cycles"] != good["cycles"]:
            cycles = [c[0] for c in mine["cycles"]]
            differing = [c for c, g in zip(mine["cycles"], good["cycles"]) if c != g]
            problems.append(f"{run}: cycles {cycles} vs {[c[0] for c in good['cycles']]}; first differing row "
                            f"{differing[:1]}")
        if mine["queries"] != good["queries"]:
            problems.append(f"{run}: the queried samples or their scores differ")
    try:
        mine, good = results(folder), results(reference)
    except OSError as err:
        return [*problems, f"results missing: {err}"]
    for name in ("metrics.csv", "summary.json"):
        if mine[name] != good[name]:
            problems.append(f"{name} differs from the reference's")
    return problems


def label_count(cycles: int) -> int:
    return INITIAL_LABELS + cycles * QUERY_SIZE


def one_line(stderr: str) -> str:
    """The single line on stderr (asserting there is exactly one)."""
    lines = stderr.splitlines()
    assert len(lines) == 1 and stderr.endswith("\n"), f"expected one line on stderr, got:\n{stderr}"
    return lines[0]

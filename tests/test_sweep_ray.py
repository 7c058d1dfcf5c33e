"""The ray engine end to end on real Ray clusters on this machine (skipped where Ray is not installed):
a cluster started with `ray start --head`, as a user's would be, and the local Ray a driver starts for
itself when given no --address. Each alstudio command runs as a user runs it, in a process (and
session) of its own. A driver SIGKILLed mid-sweep leaves nothing that runs a task; `alstudio resume
--address auto` finishes the sweep on the running cluster with no run done twice and leaves no
process; a run that fails every attempt is reported while the others finish; and the results equal
those of an uninterrupted sweep."""

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sweep_helpers import (
    RUNS,
    alstudio,
    end_session,
    events,
    fingerprint,
    finished,
    journals,
    kill_once_finished,
    obstruct,
    reference_results,
    results,
    session_processes,
    start_driver,
    sweep_command,
    wait_until_gone,
    write_config,
)

pytest.importorskip("ray")

# Ray's two per-node agents (process titles as the kernel keeps them, 15 characters). When the driver that
# started a local Ray is SIGKILLed, Ray ends its raylet, GCS and workers with it; the agents see the raylet
# gone within seconds, then try for 60 s (fixed in Ray 2.60) to report that to the GCS, which is gone too,
# and exit (62 s here). They run no task and hold no lock; the teardown ends them rather than wait.
RAY_AGENTS = ("ray::DashboardA", "ray::RuntimeEnv")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_folder(monkeypatch):
    """RAY_TMPDIR for this test, so that `--address auto` finds this test's cluster and no one else's,
    and each Ray started here leaves its session folder there. Short: Ray's socket paths must fit 107 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="ray-"))
    monkeypatch.setenv("RAY_TMPDIR", str(folder))
    yield folder / "ray"
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def ray_cluster(ray_folder, tmp_path):
    """A one-machine Ray cluster as a user starts one (`ray start --head`), with 2 CPUs, ended at teardown.
    Calling the fixture's value waits until it is up (so that it starts while other fixtures run)."""
    options = ["--port", str(_free_port()), "--dashboard-agent-listen-port", str(_free_port()),
               "--include-dashboard", "false"]
    with open(tmp_path / "head.log", "w") as log:
        head = subprocess.Popen([sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
                                 "--num-cpus", "2", *options], stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def wait_until_up(seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while not (ray_folder / "ray_current_cluster").exists():  # written once the head is up
            assert head.poll() is None and time.monotonic() < deadline, (tmp_path / "head.log").read_text()
            time.sleep(0.2)

    try:
        yield wait_until_up
    finally:
        end_session(head.pid)
        head.wait()


@pytest.fixture
def reference(tmp_path_factory):
    return reference_results(tmp_path_factory)


def _sessions(ray_folder: Path) -> int:
    """How many Ray clusters have been started with this RAY_TMPDIR (each makes a session folder)."""
    return len(list(ray_folder.glob("session_2*")))


def test_a_killed_ray_sweep_resumes_on_a_running_cluster_to_the_results_of_an_uninterrupted_one(
        tmp_path, ray_folder, ray_cluster, reference):
    ray_cluster()
    out = tmp_path / "sweep"
    log = tmp_path / "driver.log"
    assert _sessions(ray_folder) == 1  # the running cluster's
    # No --address: a local Ray of the driver's own, though a cluster runs here. One task at a time, so
    # that the kill lands with some runs finished and the others not.
    driver = start_driver(sweep_command(write_config(tmp_path), out, "--engine", "ray", "--max-parallel", "1"), log)
    seen = []
    try:
        kill_once_finished(driver, out, 2, before_kill=lambda: seen.extend(session_processes(driver.pid)))
        left = wait_until_gone(driver.pid, ignoring=RAY_AGENTS)
        assert not left, f"the killed driver left these processes running: {left}"
    finally:
        end_session(driver.pid)
    assert f"{RUNS} runs on Ray (a local cluster)" in log.read_text()
    assert any(entry.endswith(" raylet") for entry in seen) and _sessions(ray_folder) == 2, seen
    before = {p: fingerprint(p) for p in journals(out) if finished(p)}
    assert 2 <= len(before) < RUNS - 1
    failing = out / "cells" / "grad_lambda=1" / "runs" / "bald-seed2"  # the last run dispatched
    obstruct(failing)

    code, output, left = alstudio("resume", str(out), "--address", "auto", "--max-parallel", "2")
    assert code == 1 and not left, output
    assert _sessions(ray_folder) == 2  # it joined the running cluster
    assert f"resuming {RUNS - len(before)} unfinished run(s) of {RUNS}" in output
    assert f"{RUNS} runs on Ray (auto)" in output
    assert "alstudio: error: grad_lambda=1: bald seed 2 failed after 3 attempt(s): " in output
    assert events(failing / "journal.sqlite", "failed") == 3  # the first attempt and its two retries
    assert all(finished(p) for p in journals(out) if p.parent != failing)  # the others went on
    assert {p: fingerprint(p) for p in before} == before  # finished runs were never run again

    (failing / "checkpoints").unlink()  # the cause put right: resume runs the failed run again
    code, output, left = alstudio("resume", str(out), "--address", "auto")  # resume's own options: this resume only
    assert code == 0 and not left, output
    assert _sessions(ray_folder) == 2
    assert f"resuming 1 unfinished run(s) of {RUNS}" in output
    assert {p: fingerprint(p) for p in before} == before
    assert [events(p, "finished") for p in journals(out)] == [1] * RUNS  # no run finished twice
    assert results(out) == reference

"""The ray engine end to end on a real local Ray cluster (skipped where Ray is not installed). Each
command runs as a user runs it, in a process of its own that starts a local Ray sized to this machine
and shuts it down: a driver SIGKILLed mid-sweep leaves nothing that runs a task, `alstudio resume`
finishes the sweep with no run done twice and leaves no process, a run that fails every attempt is
reported while the others finish, and the results equal those of an uninterrupted sweep."""

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


@pytest.fixture
def reference(tmp_path_factory):
    return reference_results(tmp_path_factory)


def test_a_killed_ray_sweep_resumes_to_the_results_of_an_uninterrupted_one(tmp_path, reference):
    out = tmp_path / "sweep"
    log = tmp_path / "driver.log"
    # One task at a time, so that the kill lands with some runs finished and the others not.
    driver = start_driver(sweep_command(write_config(tmp_path), out, "--engine", "ray", "--max-parallel", "1"), log)
    try:
        kill_once_finished(driver, out, 2)
        left = wait_until_gone(driver.pid, ignoring=RAY_AGENTS)
        assert not left, f"the killed driver left these processes running: {left}"
        assert f"{RUNS} runs on Ray (a local cluster)" in log.read_text()
        before = {p: fingerprint(p) for p in journals(out) if finished(p)}
        assert 2 <= len(before) < RUNS - 1
        failing = out / "cells" / "grad_lambda=1" / "runs" / "bald-seed2"  # the last run dispatched
        obstruct(failing)

        code, output, left = alstudio("resume", str(out), "--max-parallel", "2")
        assert code == 1 and not left, output
        assert f"resuming {RUNS - len(before)} unfinished run(s) of {RUNS}" in output
        assert "alstudio: error: grad_lambda=1: bald seed 2 failed after 3 attempt(s): " in output
        assert events(failing / "journal.sqlite", "failed") == 3  # the first attempt and its two retries
        assert all(finished(p) for p in journals(out) if p.parent != failing)  # the others went on
        assert {p: fingerprint(p) for p in before} == before  # finished runs were never run again

        (failing / "checkpoints").unlink()  # the cause put right: resume runs the failed run again
        code, output, left = alstudio("resume", str(out))
        assert code == 0 and not left, output
        assert f"resuming 1 unfinished run(s) of {RUNS}" in output
        assert {p: fingerprint(p) for p in before} == before
        assert [events(p, "finished") for p in journals(out)] == [1] * RUNS  # no run finished twice
        assert results(out) == reference
    finally:
        end_session(driver.pid)

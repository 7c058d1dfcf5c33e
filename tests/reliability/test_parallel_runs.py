"""Runs side by side (`--jobs 2`: two worker processes, one torch thread each) make exactly the
experiment that one-after-another runs with one thread make, and a killed driver resumes to it."""

from __future__ import annotations

from .support import differences, experiment_state, progress, wait_for_progress

CYCLES = 3  # the reference test_disks.py uses too (made once per session)


def test_side_by_side_runs_make_the_same_experiment_as_one_after_another(cli, reference, tmp_path):
    folder = tmp_path / "side-by-side"
    done = cli.run(*cli.run_args(CYCLES, folder, "--jobs", "2"))
    assert done.returncode == 0, done
    assert "2 at a time, 1 torch thread(s) each" in done.stdout
    # every cycle of both runs was printed as it landed in the journals
    assert sum(" cycle " in line for line in done.stdout.splitlines()) == 2 * (CYCLES + 1)
    assert differences(folder, reference(CYCLES)) == []


def test_a_killed_side_by_side_driver_resumes_to_the_same_experiment(cli, reference, tmp_path):
    good = reference(CYCLES)
    folder = tmp_path / "killed"
    process = cli.start(*cli.run_args(CYCLES, folder, "--jobs", "2"))
    if wait_for_progress(folder, process, progress(folder), "cycle"):
        process.kill()  # the driver only: its workers see it gone and stop writing
        assert any(state["status"] != "finished" for state in experiment_state(folder).values())
    done = cli.run("resume", str(folder), "--jobs", "2")
    assert done.returncode == 0, done
    assert differences(folder, good) == []

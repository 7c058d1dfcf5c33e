"""One writer per experiment folder: a second `resume`, or `run --force`, started while a process writes
there is refused with one sentence naming that process, and changes nothing.

The first writer is held with SIGSTOP once it holds the lock and has written something, so that it is
certainly still mid-run when the second one arrives (however fast or slow the machine), and is let go
(SIGCONT) afterwards to finish the experiment."""

import os
import signal

import pytest

from .support import differences, one_line, progress, wait_for_lock, wait_for_progress

CYCLES = 12


def _files(folder) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def held():
    """held(process): stop it mid-write until the test lets it go; never left stopped or running."""
    processes = []

    def hold(process):
        os.kill(process.pid, signal.SIGSTOP)
        processes.append(process)

    yield hold
    for process in processes:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
            process.kill()


def _writing(cli, folder, *args):
    """A process that holds `folder` and has written labels there."""
    process = cli.start(*args)
    wait_for_lock(folder, process)
    assert wait_for_progress(folder, process, progress(folder), "labels"), process.finished()
    return process


def test_a_second_resume_is_refused_naming_the_first_which_finishes_the_experiment(cli, reference, tmp_path,
                                                                                     held):
    good = reference(CYCLES)
    folder = tmp_path / "exp"
    started = cli.start(*cli.run_args(CYCLES, folder))
    assert wait_for_progress(folder, started, (0, 0, 0), "cycle"), started.finished()
    started.kill()  # an interrupted experiment, for two resumes to compete for
    first = _writing(cli, folder, "resume", str(folder))
    _second_writer_refused(cli, folder, first, held, good, "resume", str(folder))


def test_run_force_while_a_run_writes_there_is_refused_and_deletes_nothing(cli, reference, tmp_path, held):
    good = reference(CYCLES)
    folder = tmp_path / "exp"
    writer = _writing(cli, folder, *cli.run_args(CYCLES, folder))
    _second_writer_refused(cli, folder, writer, held, good, *cli.run_args(CYCLES, folder, "--force"))


def _second_writer_refused(cli, folder, first, held, good, *second_args):
    """While `first` holds the folder mid-run, `second_args` is refused naming it and changes nothing;
    `first`, let go, finishes the experiment as the reference did."""
    held(first)
    before = _files(folder)
    second = cli.run(*second_args)
    assert second.returncode == 2, second
    assert f"in use by process {first.pid}" in one_line(second.stderr)
    assert _files(folder) == before
    os.kill(first.pid, signal.SIGCONT)
    first.wait()
    assert first.poll() == 0, first.finished()
    assert differences(folder, good) == []

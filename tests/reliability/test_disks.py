"""Storage that refuses writes: an experiment on a tmpfs too small for it (a full disk), and one on a
file system remounted read-only. Needs root to mount; skipped elsewhere."""

import os
import shutil
import subprocess

import pytest

from .support import differences, one_line

CYCLES = 3


def _mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def tmpfs(tmp_path):
    """tmpfs(size) -> an empty folder on a tmpfs of that size; unmounted afterwards."""
    if os.name != "posix" or shutil.which("mount") is None:
        pytest.skip("needs mount(8)")
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = []

    def mount(size: str):
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        done = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point))
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        if subprocess.run(["umount", str(point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(point)], capture_output=True)  # busy: detach it anyway


def _remount(point, options: str) -> None:
    done = _mount("-o", f"remount,{options}", str(point))
    assert done.returncode == 0, done.stderr


def _files(folder) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


# The sizes put the end of the space at the first checkpoint, at the second, and in the second run.
@pytest.mark.parametrize("size", ["300k", "600k", "1200k"])
def test_a_full_disk_is_said_in_sentences_and_resume_finishes_once_there_is_room(cli, reference, tmpfs, size):
    good = reference(CYCLES)
    disk = tmpfs(size)
    folder = disk / "exp"
    full = cli.run(*cli.run_args(CYCLES, folder))
    problems = []
    lines = full.stderr.splitlines()
    if full.returncode not in (1, 2):
        problems.append(f"exit code {full.returncode}, expected 1 or 2")
    if "Traceback" in full.stderr or not all(line.startswith("alstudio: ") for line in lines):
        problems.append("stderr holds more than alstudio's sentences (a traceback?)")
    if not any("disk is full" in line for line in lines):
        problems.append("no sentence says the disk is full")
    if "damaged" in full.stderr or "i/o error" in full.stderr.lower():
        problems.append("a full disk is called damage or an I/O error")
    _remount(disk, "size=64m")
    done = cli.run("resume", str(folder))
    if done.returncode != 0:
        problems.append(f"resume after making room failed: {done}")
    else:
        problems += differences(folder, good)
    assert not problems, f"{problems}\n--- run on the full disk: {full}"


def test_a_read_only_experiment_is_reported_and_refused_for_writing_in_one_sentence(cli, reference, tmpfs,
                                                                                      tmp_path):
    disk = tmpfs("16m")
    folder = disk / "exp"
    shutil.copytree(reference(CYCLES), folder)
    _remount(disk, "ro")
    before = _files(folder)
    problems = []

    png = tmp_path / "report.png"
    report = cli.run("report", str(folder), "--png", str(png))
    if report.returncode != 0 or not png.is_file():
        problems.append(f"report of a read-only experiment failed: {report}")

    for what, args in (("resume", ["resume", str(folder)]),
                       ("run --force into it", cli.run_args(CYCLES, folder, "--force")),
                       ("run --out a new folder there", cli.run_args(CYCLES, disk / "new"))):
        refused = cli.run(*args)
        lines = refused.stderr.splitlines()
        if refused.returncode != 2 or len(lines) != 1 or "read-only" not in refused.stderr.lower():
            problems.append(f"{what}: expected exit 2 and one sentence saying read-only, got {refused}")
    assert _files(folder) == before
    assert not problems, "\n".join(problems)


def test_run_on_a_disk_too_small_for_the_config_is_one_sentence(cli, tmpfs):
    disk = tmpfs("4k")  # one page: the folder is made, experiment.toml no longer fits beside the lock
    refused = cli.run(*cli.run_args(CYCLES, disk / "exp"))
    assert refused.returncode == 2, refused
    line = one_line(refused.stderr)
    assert "exp" in line and ("disk is full" in line or "No space left" in line), line

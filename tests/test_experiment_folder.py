"""An experiment folder is owned, locked and never destroyed: --force, two writers, an interrupted
creation, stale results and a tampered manifest."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from engine_helpers import tiny_toml

from alstudio.cli import main
from alstudio.engine.experiment import Experiment
from alstudio.engine.folder_lock import FolderInUseError, FolderLock, is_locked

TOML = tiny_toml(dataset={"bias": "minority"}, training={"epochs": 1},
                 active={"cycles": 1, "strategy": "random"})


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TOML)
    return path


def run(config, out, *extra):
    return main(["run", str(config), "--out", str(out), *extra])


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_force_refuses_a_folder_that_is_not_an_experiment_and_deletes_nothing(config, tmp_path, capsys):
    folder = tmp_path / "P"
    (folder / "runs" / "tb").mkdir(parents=True)
    (folder / "runs" / "tb" / "events.out").write_text("x")
    (folder / "metrics.csv").write_text("d")
    assert run(config, folder, "--force") == 2
    assert "not one" in one_error_line(capsys)
    assert (folder / "runs" / "tb" / "events.out").read_text() == "x"
    assert (folder / "metrics.csv").read_text() == "d"


def test_force_replaces_only_what_the_experiment_made(config, tmp_path, capsys):
    folder = tmp_path / "exp"
    assert run(config, folder, "--strategies", "random,entropy") == 0
    (folder / "notes.txt").write_text("mine")
    (folder / "runs" / "tb").mkdir()
    (folder / "runs" / "tb" / "events.out").write_text("x")
    (folder / "runs" / "entropy-seed1" / "plot.png").write_bytes(b"png")
    assert run(config, folder, "--force") == 0
    assert (folder / "notes.txt").read_text() == "mine"
    assert (folder / "runs" / "tb" / "events.out").read_text() == "x"
    assert (folder / "runs" / "entropy-seed1" / "plot.png").read_bytes() == b"png"
    assert not (folder / "runs" / "entropy-seed1" / "journal.sqlite").exists()  # the old run's journal went
    assert Experiment.open(folder).strategies == ("random",)


HOLDER = textwrap.dedent("""
    import sys, time
    from alstudio.engine.folder_lock import FolderLock
    FolderLock(sys.argv[1]).acquire()
    print("locked", flush=True)
    time.sleep(600)
""")


@pytest.fixture
def holder():
    """Another process holding an experiment folder's lock, until killed."""
    processes = []

    def hold(folder):
        process = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True)
        assert process.stdout.readline().strip() == "locked"
        processes.append(process)
        return process

    yield hold
    for process in processes:
        process.kill()
        process.wait()


def test_a_second_writer_is_refused_with_the_holders_process_and_nothing_is_touched(config, tmp_path, capsys,
                                                                                     holder):
    folder = tmp_path / "exp"
    assert run(config, folder) == 0
    process = holder(folder)
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert run(config, folder, "--force") == 2
    assert f"in use by process {process.pid}" in one_error_line(capsys)
    assert main(["resume", str(folder)]) == 2
    assert f"in use by process {process.pid}" in one_error_line(capsys)
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()} == before
    assert main(["report", str(folder), "--png", str(tmp_path / "r.png")]) == 0  # readers need no lock
    # kill -9 leaves no stale lock: the OS released it with the process.
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not is_locked(folder)
    assert main(["resume", str(folder)]) == 0


def test_the_lock_is_exclusive_within_a_process_too(tmp_path):
    with FolderLock(tmp_path):
        with pytest.raises(FolderInUseError, match=f"process {os.getpid()}"):
            FolderLock(tmp_path).acquire()
    with FolderLock(tmp_path):  # released: free again
        pass


def test_an_interrupted_creation_is_never_started_and_a_new_run_may_take_the_folder(config, tmp_path, capsys):
    folder = tmp_path / "exp"
    assert run(config, folder) == 0
    # What a kill between writing experiment.toml and the manifest leaves (the manifest is written last).
    for entry in ("experiment.json", "metrics.csv", "summary.json"):
        (folder / entry).unlink()
    import shutil

    shutil.rmtree(folder / "runs")
    capsys.readouterr()
    assert main(["resume", str(folder)]) == 2
    assert "creation was interrupted" in one_error_line(capsys)
    assert run(config, folder) == 0  # no --force needed: nothing of value was there


def test_stale_results_are_rewritten_by_resume_and_by_report(config, tmp_path, capsys):
    folder = tmp_path / "exp"
    assert run(config, folder, "--strategies", "random,entropy") == 0
    good = {name: (folder / name).read_text() for name in ("metrics.csv", "summary.json")}
    # A kill after the last run finished but before the results were written.
    (folder / "metrics.csv").write_text("\n".join(good["metrics.csv"].splitlines()[:2]) + "\n")
    (folder / "summary.json").write_text("{}")
    capsys.readouterr()
    assert main(["resume", str(folder)]) == 0
    assert "out of date" in capsys.readouterr().out
    assert {name: (folder / name).read_text() for name in good} == good
    (folder / "summary.json").unlink()
    assert main(["report", str(folder), "--png", str(tmp_path / "r.png")]) == 0
    assert "out of date" in capsys.readouterr().out
    assert (folder / "summary.json").read_text() == good["summary.json"]
    assert main(["resume", str(folder)]) == 0
    assert "out of date" not in capsys.readouterr().out  # nothing stale, nothing rewritten


@pytest.mark.parametrize("strategies, problem", [
    (["../../../ESCAPE"], "got '../../../ESCAPE'"),
    ("bald", "strategies: Input should be a valid list"),
    ([], "strategies"),
    (["bald", "bald"], "must not repeat 'bald'"),
])
def test_a_tampered_manifest_is_one_sentence_and_no_folder_is_made(config, tmp_path, capsys, strategies, problem):
    folder = tmp_path / "deep" / "er" / "exp"
    folder.parent.mkdir(parents=True)
    assert run(config, folder) == 0
    manifest = json.loads((folder / "experiment.json").read_text())
    (folder / "experiment.json").write_text(json.dumps(dict(manifest, strategies=strategies)))
    before = sorted(tmp_path.rglob("*"))
    capsys.readouterr()
    assert main(["resume", str(folder)]) == 2
    err = one_error_line(capsys)
    assert "experiment.json" in err and problem in err
    assert sorted(tmp_path.rglob("*")) == before


def test_an_unwritable_out_is_one_sentence(config, tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    assert run(config, blocker / "sub") == 2
    assert "afile" in one_error_line(capsys)


def test_an_unavailable_device_is_one_sentence_naming_the_devices_and_leaves_no_folder(config, tmp_path, capsys):
    import torch

    missing = "mps" if torch.cuda.is_available() else "cuda"
    assert run(config, tmp_path / "exp", "--device", missing) == 2
    assert "this machine has:" in one_error_line(capsys)
    assert not (tmp_path / "exp").exists()


@pytest.mark.parametrize("arguments, named", [
    (["--seeds", "abc"], "--seeds"),
    (["--strategies", ""], "--strategies"),
    (["--strategies", "random,,bald"], "--strategies"),
    (["--device", "tpu"], "--device"),
])
def test_bad_arguments_are_one_line(config, tmp_path, capsys, arguments, named):
    with pytest.raises(SystemExit) as exit_code:
        assert run(config, tmp_path / "exp", *arguments) == 2
        raise SystemExit(2)
    assert exit_code.value.code == 2
    assert named in one_error_line(capsys)
    assert not (tmp_path / "exp").exists()


def test_a_checkpoint_that_asks_to_run_code_is_refused_in_one_sentence(config, tmp_path, capsys):
    import pickle

    folder = tmp_path / "exp"
    assert run(config, folder) == 0
    journal = folder / "runs" / "random-seed1" / "journal.sqlite"
    import sqlite3

    with sqlite3.connect(journal) as db:  # back to "cycle 0 done, nothing queried": resume scores with its model
        db.execute("DELETE FROM cycles WHERE cycle = 1")
        db.execute("DELETE FROM queries")
        db.execute("DELETE FROM labels WHERE source != 'initial'")
        db.execute("UPDATE meta SET value = 'stopped' WHERE key = 'status'")
    checkpoint = folder / "runs" / "random-seed1" / "checkpoints" / "cycle-0.pt"
    assert checkpoint.exists()

    class Exploit:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    checkpoint.write_bytes(pickle.dumps(Exploit()))
    capsys.readouterr()
    assert main(["resume", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "not a plain weights file" in err and "weights_only" not in err and "Traceback" not in err
    assert not (tmp_path / "pwned").exists()


def test_report_draws_without_a_display_or_the_workbench_and_prints_no_qt_chatter(config, tmp_path):
    folder = tmp_path / "exp"
    assert run(config, folder) == 0
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    # `python -m alstudio`, plus a note at exit of the workbench modules it loaded: the import contract
    # sees report.py's imports, this sees the whole command's.
    probe = ("import atexit, runpy, sys\n"
             "atexit.register(lambda: print('gui modules:', [m for m in sys.modules if 'alstudio.gui' in m]))\n"
             "runpy.run_module('alstudio', run_name='__main__', alter_sys=True)")
    png = tmp_path / "r.png"
    done = subprocess.run([sys.executable, "-c", probe, "report", str(folder), "--png", str(png)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and done.stderr == ""
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 1000
    assert "gui modules: []" in done.stdout


def test_the_workbench_views_a_folder_another_process_writes_but_may_not_resume_it(window, qtbot, holder,
                                                                                    monkeypatch, tmp_path):
    from engine_helpers import tiny_config
    from PySide6.QtWidgets import QMessageBox

    folder = tmp_path / "exp"
    Experiment.create(folder, tiny_config(), ["random"], 1).release()  # made, never run: Resume is offered
    process = holder(folder)
    win = window()
    win.open_experiment(folder)  # viewing needs no lock
    assert win.experiment.folder == folder and win.start_action.text() == "Resume"
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warnings.append((title, text)))
    win.start()
    assert warnings and f"in use by process {process.pid}" in warnings[0][1]
    assert not win.controller.running
    assert not (folder / "runs").exists()  # nothing was written

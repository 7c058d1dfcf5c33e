"""The journal against damage, interrupted creation and storage that refuses writes.

The mount tests need root and Linux tmpfs; elsewhere they skip and say why.
"""

import contextlib
import errno
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from test_journal import new_journal

from alstudio.engine import journal as journal_module
from alstudio.engine import storage_errors
from alstudio.engine.journal import (
    Journal,
    JournalDamagedError,
    JournalError,
    JournalWriteError,
    describe_storage_error,
)

SIDECARS = ("", "-wal", "-shm")


def sidecar(path, suffix):
    return Path(f"{path}{suffix}")


def digests(path):
    """sha256 of the journal and each of its -wal and -shm that exist."""
    return {suffix: hashlib.sha256(sidecar(path, suffix).read_bytes()).hexdigest()
            for suffix in SIDECARS if sidecar(path, suffix).exists()}


def assert_one_sentence_naming(err, path):
    message = str(err.value)
    assert str(path) in message
    assert "\n" not in message
    assert message.endswith(".")


# ---- 1. a failed open keeps every byte -------------------------------------------------------------

def _journal_with_its_wal_beside_a_cut_main_file(tmp_path, cut, keep_shm):
    """The last session's labels live only in the -wal; the main file is cut to `cut` bytes."""
    path = tmp_path / "run.sqlite"
    with new_journal(path) as j:
        j.record_labels([(i, i % 2) for i in range(3000)], "initial", 0)
    with Journal.open(path) as j:
        j.record_labels([(3000 + i, 1) for i in range(50)], "oracle", 1)
        shutil.copy(sidecar(path, "-wal"), tmp_path / "saved-wal")
        shutil.copy(sidecar(path, "-shm"), tmp_path / "saved-shm")
    assert not sidecar(path, "-wal").exists()  # closing folded the WAL into the main file
    with open(path, "r+b") as handle:
        handle.truncate(cut)
    shutil.copy(tmp_path / "saved-wal", sidecar(path, "-wal"))
    if keep_shm:
        shutil.copy(tmp_path / "saved-shm", sidecar(path, "-shm"))
    return path


@pytest.mark.parametrize("keep_shm", [True, False], ids=["with-shm", "without-shm"])
@pytest.mark.parametrize("cut", [0, 4096])
@pytest.mark.parametrize("read_only", [False, True], ids=["read-write", "read-only"])
def test_a_failed_open_keeps_the_main_file_its_wal_and_its_shm(tmp_path, cut, keep_shm, read_only):
    path = _journal_with_its_wal_beside_a_cut_main_file(tmp_path, cut, keep_shm)
    before = digests(path)
    assert "-wal" in before
    with pytest.raises(JournalError) as err:
        Journal.open(path, read_only=read_only)
    assert_one_sentence_naming(err, path)
    assert digests(path) == before  # nothing changed, nothing deleted, nothing added
    assert not Journal.is_unstarted(path)  # the -wal holds a run: never recreate over it
    with pytest.raises(JournalError, match="already exists"):
        new_journal(path, replace_unstarted=True)
    assert digests(path) == before


def test_a_damaged_page_is_refused_without_touching_the_file(tmp_path):
    path = tmp_path / "run.sqlite"
    with new_journal(path) as j:
        j.record_labels([(i, i % 2) for i in range(3000)], "initial", 0)
    with open(path, "r+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(size // 2 // 4096 * 4096)
        handle.write(b"\xab" * 4096)
    before = digests(path)
    with pytest.raises(JournalDamagedError, match="damaged"):
        Journal.open(path)
    assert digests(path) == before


def _crashed_copy(tmp_path, name, with_shm):
    """The files a kill -9 leaves: the last labels only in the -wal (and the -shm, unless lost)."""
    source = tmp_path / f"{name}-source.sqlite"
    copy = tmp_path / f"{name}.sqlite"
    with new_journal(source) as j:
        j.record_labels([(i, 0) for i in range(100)], "initial", 0)
        j.record_cycle(0, 100, {"accuracy": 0.5}, 1.0, 1.0)
        for suffix in SIDECARS if with_shm else ("", "-wal"):
            shutil.copy(sidecar(source, suffix), sidecar(copy, suffix))
    return copy


@pytest.mark.parametrize("with_shm", [True, False], ids=["with-shm", "without-shm"])
@pytest.mark.parametrize("read_only", [False, True], ids=["read-write", "read-only"])
def test_a_sound_journal_whose_labels_are_only_in_its_wal_opens_with_all_of_them(tmp_path, with_shm, read_only):
    path = _crashed_copy(tmp_path, "crashed", with_shm)
    with Journal.open(path, read_only=read_only) as j:
        assert len(j.labels()) == 100
        assert [c["cycle"] for c in j.cycles()] == [0]


# ---- 2. creation is atomic; an unstarted journal can be created again --------------------------------

CREATING_CHILD = textwrap.dedent("""
    import sys, time
    from alstudio.engine import journal as module
    from alstudio.engine.config import ExperimentConfig

    schema = module._SCHEMA

    class Stalling:  # the schema half written when the process is killed
        def __iter__(self):
            yield from schema[:2]
            print("ready", flush=True)
            time.sleep(120)
            yield from schema[2:]

    module._SCHEMA = Stalling()
    module.Journal.create(sys.argv[1], ExperimentConfig(), "entropy", 3, {})
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_creation_killed_midway_leaves_a_path_that_can_be_created_again(tmp_path):
    path = tmp_path / "journal.sqlite"
    child = subprocess.Popen([sys.executable, "-c", CREATING_CHILD, str(path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.strip() == "ready", child.stderr.read()
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()
    assert Journal.is_unstarted(path)
    with new_journal(path, replace_unstarted=True) as j:  # the killed child's leftovers block nothing
        j.record_labels([(1, 0)], "initial", 0)
    with Journal.open(path) as j:
        assert j.labels() == {1: (0, "initial", 0)}
        assert j.seed == 3


def _empty_file(path):
    path.touch()


def _blank_database(path):
    # What the previous, non-atomic create left when killed before its first commit.
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.close()


def _blank_database_and_its_sidecars(path):
    # The same, with the -wal and -shm a kill leaves beside it.
    source = path.with_name("source.sqlite")
    db = sqlite3.connect(source)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("SELECT * FROM sqlite_master").fetchall()
    for suffix in SIDECARS:
        shutil.copy(sidecar(source, suffix), sidecar(path, suffix))
    db.close()


@pytest.mark.parametrize("make", [_empty_file, _blank_database, _blank_database_and_its_sidecars],
                         ids=["empty", "blank-sqlite", "blank-sqlite-with-sidecars"])
def test_an_unstarted_journal_is_recognised_refused_by_open_and_replaced_on_request(tmp_path, make):
    path = tmp_path / "journal.sqlite"
    make(path)
    assert Journal.is_unstarted(path)
    with pytest.raises(JournalError) as err:
        Journal.open(path)
    assert_one_sentence_naming(err, path)
    with pytest.raises(JournalError, match="already exists"):
        new_journal(path)
    with new_journal(path, replace_unstarted=True) as j:
        j.record_labels([(4, 1)], "initial", 0)
    assert not Journal.is_unstarted(path)
    with Journal.open(path) as j:
        assert j.labels() == {4: (1, "initial", 0)}


def test_is_unstarted_is_false_for_anything_that_holds_a_run_or_is_not_ours(tmp_path):
    assert Journal.is_unstarted(tmp_path / "missing.sqlite")
    started = tmp_path / "started.sqlite"
    new_journal(started).close()
    assert not Journal.is_unstarted(started)
    text = tmp_path / "notes.sqlite"
    text.write_text("notes")
    assert not Journal.is_unstarted(text)
    assert not Journal.is_unstarted(tmp_path)
    with pytest.raises(JournalError, match="already exists"):
        new_journal(text, replace_unstarted=True)
    assert text.read_text() == "notes"


def test_no_temporary_file_is_left_and_leftovers_of_dead_creators_are_swept(tmp_path):
    path = tmp_path / "journal.sqlite"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"journal.sqlite.creating-{int(dead.stdout)}-0a1b2c3d"
    fresh = tmp_path / f"journal.sqlite.creating-{int(dead.stdout)}-4e5f6a7b"
    other = tmp_path / f"other.sqlite.creating-{int(dead.stdout)}-0a1b2c3d"
    for leftover in (stale, fresh, other):
        leftover.write_bytes(b"half a journal")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    os.utime(other, (an_hour_ago, an_hour_ago))
    new_journal(path).close()
    assert not stale.exists()
    assert fresh.exists()  # it may be a creator still at work on another machine sharing the folder
    assert other.exists()  # another journal's business
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["journal.sqlite", fresh.name, other.name])


def _race_to_create(path, barrier, outcomes):
    barrier.wait()
    try:
        new_journal(path, replace_unstarted=True, check_same_thread=False).close()
        outcomes.append("created")
    except JournalError as err:
        outcomes.append(str(err))
    except BaseException as err:  # reported by the assertions below
        outcomes.append(repr(err))


def test_two_creators_cannot_both_succeed(tmp_path):
    for round_ in range(6):
        path = tmp_path / f"race-{round_}.sqlite"
        if round_ % 2:
            path.touch()  # an unstarted journal that all of them want to replace
        barrier, outcomes = threading.Barrier(4), []
        threads = [threading.Thread(target=_race_to_create, args=(path, barrier, outcomes)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(outcomes) == 4
        assert outcomes.count("created") == 1, outcomes
        assert all("already exists" in o for o in outcomes if o != "created"), outcomes
        with Journal.open(path) as j:
            assert j.status == "running"


def test_create_works_where_hard_links_are_not_supported(tmp_path, monkeypatch):
    def no_link(source, target):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(journal_module.os, "link", no_link)
    path = tmp_path / "journal.sqlite"
    with new_journal(path) as j:
        j.record_labels([(1, 1)], "initial", 0)
    with pytest.raises(JournalError, match="already exists"):
        new_journal(path)
    with Journal.open(path) as j:
        assert j.labels() == {1: (1, "initial", 0)}
    assert [p.name for p in tmp_path.iterdir()] == ["journal.sqlite"]


# ---- 3. storage errors are named for what they are ----------------------------------------------------

def _sqlite_error(cls, message, code=None):
    err = cls(message)
    if code is not None:
        err.sqlite_errorcode = code
        err.sqlite_errorname = "SQLITE_X"
    return err


@pytest.mark.parametrize("err, expected", [
    (_sqlite_error(sqlite3.OperationalError, "database or disk is full", 13), "cannot be written: the disk is full."),
    (_sqlite_error(sqlite3.OperationalError, "database or disk is full"), "cannot be written: the disk is full."),
    (OSError(errno.ENOSPC, "No space left on device"), "cannot be written: the disk is full."),
    (OSError(errno.EROFS, "Read-only file system"), "cannot be written: the file system is read-only."),
    (OSError(errno.EACCES, "Permission denied"), "cannot be written: permission denied."),
    (_sqlite_error(sqlite3.DatabaseError, "database disk image is malformed", 11), "is damaged"),
    (_sqlite_error(sqlite3.DatabaseError, "file is not a database", 26), "is damaged"),
    (_sqlite_error(sqlite3.DatabaseError, "file is not a database"), "is damaged"),
    (_sqlite_error(sqlite3.OperationalError, "database is locked", 5), "another program"),
    (_sqlite_error(sqlite3.OperationalError, "no such table: labels", 1), "cannot be written (no such table: labels)."),
], ids=["full", "full-by-text", "enospc", "erofs", "eacces", "corrupt", "notadb", "notadb-by-text", "busy", "other"])
def test_storage_errors_are_classified(tmp_path, err, expected):
    message = describe_storage_error(err, tmp_path / "run.sqlite")
    assert message.startswith(f"The journal {tmp_path / 'run.sqlite'} ")
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize("code", [8, 10, 778, 14], ids=["readonly", "ioerr", "ioerr-write", "cantopen"])
def test_vague_sqlite_errors_are_classified_by_looking_at_the_folder(tmp_path, monkeypatch, code):
    path = tmp_path / "run.sqlite"
    err = _sqlite_error(sqlite3.OperationalError, "disk I/O error", code)
    full = shutil.disk_usage(tmp_path)._replace(free=0)
    monkeypatch.setattr(storage_errors.shutil, "disk_usage", lambda folder: full)
    assert describe_storage_error(err, path).endswith("cannot be written: the disk is full.")
    monkeypatch.undo()
    monkeypatch.setattr(storage_errors, "read_only_file_system", lambda folder: True)
    assert describe_storage_error(err, path).endswith("cannot be written: the file system is read-only.")
    monkeypatch.undo()
    monkeypatch.setattr(storage_errors.os, "access", lambda target, mode: False)
    assert describe_storage_error(err, path).endswith("cannot be written: permission denied.")
    monkeypatch.undo()
    assert describe_storage_error(err, path) == f"The journal {path} cannot be written (disk I/O error)."


def test_a_write_that_finds_no_room_raises_a_write_error_and_keeps_what_was_written(journal_path):
    with new_journal(journal_path) as j:
        j.record_labels([(0, 0)], "initial", 0)
        pages = j._db.execute("PRAGMA page_count").fetchone()[0]
        j._db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own SQLITE_FULL, without filling a disk
        with pytest.raises(JournalWriteError) as err:
            j.record_labels([(i, 1) for i in range(1, 5000)], "oracle", 1)
        assert str(err.value) == f"The journal {journal_path} cannot be written: the disk is full."
        assert isinstance(err.value, JournalError)
        assert j.labels() == {0: (0, "initial", 0)}
        j.set_status("stopped")  # a small write still fits
    with Journal.open(journal_path) as j:
        assert j.status == "stopped"


@pytest.fixture
def journal_path(tmp_path):
    return tmp_path / "run.sqlite"


def test_caller_mistakes_inside_a_write_are_not_taken_for_storage_errors(tmp_path):
    with new_journal(tmp_path / "run.sqlite") as j:
        j.record_cycle(0, 1, {}, None, None)
        with pytest.raises(ValueError, match="cycle 0"):
            j.record_cycle(0, 1, {}, None, None)
        with pytest.raises(ValueError, match="source"):
            j.record_labels([(1, 0)], "guess", 0)


@contextlib.contextmanager
def tmpfs(folder, size="4m"):
    """A small tmpfs at `folder`, unmounted afterwards; skips the test where it cannot be mounted."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux")
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def remount(folder, mode):
    done = subprocess.run(["mount", "-o", f"remount,{mode}", str(folder)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _fill(folder):
    """Take every free byte of the file system at `folder`."""
    with open(folder / "filler", "wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 4096)


def test_a_full_disk_is_named_when_writing_and_creating(tmp_path):
    with tmpfs(tmp_path / "mnt", size="2m") as mnt:
        path = mnt / "run.sqlite"
        j = new_journal(path)
        try:
            j.record_labels([(0, 0)], "initial", 0)
            _fill(mnt)
            with pytest.raises(JournalWriteError) as err:
                for cycle in range(1, 200):
                    j.record_labels([(cycle * 1000 + i, 1) for i in range(500)], "oracle", cycle)
            assert str(err.value) == f"The journal {path} cannot be written: the disk is full."
            assert j.labels()[0] == (0, "initial", 0)
        finally:
            j.close()
        with pytest.raises(JournalWriteError) as err:
            new_journal(mnt / "other.sqlite")
        assert str(err.value) == f"The journal {mnt / 'other.sqlite'} cannot be created: the disk is full."
        assert not [p.name for p in mnt.iterdir() if "other" in p.name]  # no temporary left
        (mnt / "filler").unlink()
        with Journal.open(path) as j:
            assert j.labels()[0] == (0, "initial", 0)


# ---- 4. reading a journal that cannot be written ---------------------------------------------------

def test_a_journal_on_a_read_only_file_system_opens_for_reading(tmp_path):
    with tmpfs(tmp_path / "mnt") as mnt:
        clean = mnt / "clean.sqlite"
        with new_journal(clean) as j:
            j.record_labels([(i, i % 2) for i in range(40)], "initial", 0)
            j.record_cycle(0, 40, {"accuracy": 0.5}, 1.0, 2.0)
        crashed = _crashed_copy(mnt, "crashed", with_shm=True)
        wal_only = _crashed_copy(mnt, "wal-only", with_shm=False)
        remount(mnt, "ro")
        try:
            before = {p: digests(p) for p in (clean, crashed, wal_only)}
            with pytest.raises(JournalWriteError) as err:
                Journal.open(clean)
            assert str(err.value) == f"The journal {clean} cannot be written: the file system is read-only."
            with Journal.open(clean, read_only=True) as j:
                assert len(j.labels()) == 40
                assert j.cycles()[0]["metrics"] == {"accuracy": 0.5}
                assert j.status == "running"
                with pytest.raises(JournalWriteError, match="opened for reading only"):
                    j.set_status("stopped")
            for path in (crashed, wal_only):
                with Journal.open(path, read_only=True) as j:
                    assert len(j.labels()) == 100
                    assert [c["cycle"] for c in j.cycles()] == [0]
            assert {p: digests(p) for p in (clean, crashed, wal_only)} == before
            with pytest.raises(JournalWriteError) as err:
                new_journal(mnt / "new.sqlite")
            assert str(err.value).endswith("new.sqlite cannot be created: the file system is read-only.")
            raw = sqlite3.connect(clean.as_uri() + "?mode=ro&immutable=1", uri=True)
            try:
                with pytest.raises(sqlite3.Error) as refused:
                    raw.execute("INSERT INTO events(time, kind) VALUES (0, 'x')")
            finally:
                raw.close()
            assert describe_storage_error(refused.value, clean).endswith("the file system is read-only.")
        finally:
            remount(mnt, "rw")


def test_a_read_only_journal_reads_a_journal_another_process_is_writing(tmp_path):
    path = tmp_path / "run.sqlite"
    writer = new_journal(path, check_same_thread=False)
    try:
        writer.record_labels([(i, 0) for i in range(10)], "initial", 0)
        with Journal.open(path, read_only=True) as reader:
            assert len(reader.labels()) == 10
            writer.record_labels([(10, 1)], "oracle", 1)
            assert len(reader.labels()) == 11  # a live reader, not a snapshot
    finally:
        writer.close()


def test_a_results_file_on_a_full_disk_is_one_sentence(tmp_path, monkeypatch):
    import errno

    from alstudio.engine.experiment import write_json
    from alstudio.engine.storage_errors import StorageError

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("builtins.open", full)
    with pytest.raises(StorageError, match=r"summary.json cannot be written: the disk is full\.$"):
        write_json(tmp_path / "summary.json", {"a": 1})


def test_a_reader_copying_the_journal_while_its_writer_closes_reads_everything(tmp_path, monkeypatch):
    """A run's writer closing (it folds the -wal into the main file and deletes it) between a reader's
    copy of the main file and its copy of the -wal: the reader reads the main file again, not an error."""
    from alstudio.engine import journal_files

    path = tmp_path / "run.sqlite"
    with new_journal(path) as j:
        j.record_labels([(i, i % 2) for i in range(10)], "initial", 0)
    writer = Journal.open(path)
    writer.record_labels([(10 + i, 1) for i in range(5)], "oracle", 1)  # held in the -wal
    os.remove(sidecar(path, "-shm"))  # a reader without the -shm copies the journal privately
    real_copy = shutil.copyfile

    def copy_while_the_writer_closes(source, target, *args, **kwargs):
        if str(source).endswith("-wal") and writer is not None:
            close_writer()
        return real_copy(source, target, *args, **kwargs)

    def close_writer():
        nonlocal writer
        writer.close()
        writer = None

    monkeypatch.setattr(journal_files.shutil, "copyfile", copy_while_the_writer_closes)
    with Journal.open(path, read_only=True) as reader:
        assert len(reader.labels()) == 15

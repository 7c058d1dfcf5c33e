"""The files behind a journal, handled so that nothing a failed check or a killed process touches
is changed or lost: -wal and -shm side files, read-only inspection, temporary journals being built.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .storage_errors import CANTOPEN, READONLY, primary_code

SQLITE_MAGIC = b"SQLite format 3\x00"
WAL_HEADER_BYTES = 32  # a -wal no longer than its header holds no transaction
STALE_AFTER = 600  # seconds: building a journal takes well under one, so an older temporary is a leftover


def sidecar(path: Path, suffix: str) -> Path:
    return Path(f"{path}{suffix}")


def wal_holds_frames(path: Path) -> bool:
    wal = sidecar(path, "-wal")
    try:
        return wal.is_file() and wal.stat().st_size > WAL_HEADER_BYTES
    except OSError:
        return False


def is_sqlite_file(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC


def connect(path: Path, query: str, check_same_thread: bool = True) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True, check_same_thread=check_same_thread)


def private_copy(path: Path, check_same_thread: bool = True
                  ) -> tuple[tempfile.TemporaryDirectory, sqlite3.Connection]:
    """A read-only connection to a copy of the journal and its -wal in a private folder, where SQLite may
    build the -shm that reading a WAL needs. For a -wal without its -shm, or a folder that cannot hold one."""
    scratch = tempfile.TemporaryDirectory(prefix="alstudio-journal-")
    try:
        copy = Path(scratch.name) / path.name
        shutil.copyfile(path, copy)
        try:
            shutil.copyfile(sidecar(path, "-wal"), sidecar(copy, "-wal"))
        except FileNotFoundError:
            # The writer closed meanwhile: SQLite folds the -wal into the main file before it deletes
            # it, so the main file, read again now, holds everything.
            shutil.copyfile(path, copy)
        return scratch, connect(copy, "mode=ro", check_same_thread)
    except BaseException:
        scratch.cleanup()
        raise


@contextmanager
def inspection(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to `path` that changes no byte of it, its -wal or its -shm, and creates no
    file beside it. `path` must not be empty: SQLite deletes the -wal of an empty database file."""
    scratch = None
    if not wal_holds_frames(path):
        # The main file alone is the journal. immutable: no locks, and no -wal or -shm is created.
        db = connect(path, "mode=ro&immutable=1")
    else:
        db = None
        if sidecar(path, "-shm").is_file():
            # readonly_shm: read the WAL through the existing -shm; a plain mode=ro would rebuild it.
            db = connect(path, "mode=ro&readonly_shm=1")
            try:
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.Error:
                db.close()
                db = None  # an -shm SQLite cannot use read-only: the copy will tell damage from that
        if db is None:
            scratch, db = private_copy(path)
    try:
        yield db
    finally:
        db.close()
        if scratch is not None:
            scratch.cleanup()


def open_for_reading(path: Path, check_same_thread: bool
                      ) -> tuple[sqlite3.Connection, tempfile.TemporaryDirectory | None]:
    """A connection that never writes: normal mode=ro (it sees later writes by others), or, where the
    folder cannot hold the -wal and -shm a reader needs, a private copy or the main file alone."""
    db = connect(path, "mode=ro", check_same_thread)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db, None
    except sqlite3.Error as err:
        db.close()
        if primary_code(err) not in (CANTOPEN, READONLY):
            raise
    if wal_holds_frames(path):
        scratch, db = private_copy(path, check_same_thread)
        return db, scratch
    # Nothing in a -wal: immutable reads the main file alone, without the -shm it cannot make.
    return connect(path, "mode=ro&immutable=1", check_same_thread), None


def sync_folder(folder: Path) -> None:
    """Make a new name in `folder` survive a power cut (POSIX; elsewhere the rename is all we have)."""
    if os.name != "posix":
        return
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def process_may_be_alive(pid: int) -> bool:
    if os.name != "posix":
        return False  # no harmless probe (os.kill would end it): the temporary's age alone decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


def temporary_name(path: Path, kind: str) -> Path:
    # pid and a random token: a name no other creator, here or on another machine, can be using.
    return path.with_name(f"{path.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")


def sweep_leftovers(path: Path) -> None:
    """Remove the temporaries of creators of `path` that were killed: old, and their process is gone."""
    leftover = re.compile(re.escape(path.name) + r"\.(?:creating|unstarted)-(\d+)-[0-9a-f]+(?:-journal|-wal|-shm)?")
    now = time.time()
    with suppress(OSError), os.scandir(path.parent) as entries:
        for entry in entries:
            found = leftover.fullmatch(entry.name)
            if found is None:
                continue
            with suppress(OSError):
                old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER
                if old and not process_may_be_alive(int(found[1])):
                    os.unlink(entry.path)


def remove_with_sidecars(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        with suppress(OSError):
            sidecar(path, suffix).unlink(missing_ok=True)

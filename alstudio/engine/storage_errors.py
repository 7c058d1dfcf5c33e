"""Why a file could not be written or opened, in the words a user can act on: a full disk, a
read-only file system, a permission, a lock held by another program (or None: nothing recognised).

Reads sqlite3 errors (by SQLite's result code, or its fixed wording before Python 3.11) and OSErrors,
and, where SQLite says only "read-only" or "I/O error", looks at the file's folder.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from contextlib import suppress
from pathlib import Path

from .errors import UserInputError

_LOW_ON_SPACE = 1 << 20  # bytes free below which a failed write is put down to a full disk

# SQLite's primary result codes (the low byte of an extended code).
_PERM, _BUSY, _LOCKED, READONLY, _IOERR, CORRUPT = 3, 5, 6, 8, 10, 11
_FULL, CANTOPEN, _AUTH, NOTADB = 13, 14, 23, 26
# Python before 3.11 gives no sqlite_errorcode; SQLite's fixed wording for each code stands in for it.
_CODES_BY_TEXT = (
    ("database or disk is full", _FULL),
    ("readonly database", READONLY),
    ("disk i/o error", _IOERR),
    ("unable to open database file", CANTOPEN),
    ("database disk image is malformed", CORRUPT),
    ("file is not a database", NOTADB),
    ("database is locked", _BUSY),
    ("database table is locked", _LOCKED),
    ("access permission denied", _PERM),
    ("authorization denied", _AUTH),
)
FULL_DISK = "the disk is full"
READ_ONLY_FILE_SYSTEM = "the file system is read-only"
PERMISSION_DENIED = "permission denied"
LOCKED = "another program holds it locked"


def primary_code(err: BaseException) -> int | None:
    if not isinstance(err, sqlite3.Error):
        return None
    code = getattr(err, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF
    text = str(err).lower()
    return next((c for words, c in _CODES_BY_TEXT if words in text), None)


def storage_cause(err: BaseException, code: int | None, path: Path) -> str | None:
    """Why `err` (with SQLite's primary `code`, if any) kept `path` from being written."""
    if isinstance(err, OSError):
        if err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return FULL_DISK
        if err.errno == errno.EROFS:
            return READ_ONLY_FILE_SYSTEM
        if err.errno in (errno.EACCES, errno.EPERM):
            return PERMISSION_DENIED
        return folder_cause(path) if err.errno == errno.EIO else None
    if code == _FULL:
        return FULL_DISK
    if code in (_BUSY, _LOCKED):
        return LOCKED
    if code in (_PERM, _AUTH):
        return PERMISSION_DENIED
    if code in (READONLY, _IOERR, CANTOPEN):
        # SQLite says only "read-only" or "I/O error" (an EROFS or ENOSPC behind it is not passed on): look.
        return folder_cause(path)
    return None


def folder_cause(path: Path) -> str | None:
    """What about the journal's folder keeps it from being written, or None if nothing is seen."""
    folder = path.parent
    if not folder.is_dir():
        return None
    with suppress(OSError):
        if read_only_file_system(folder):
            return READ_ONLY_FILE_SYSTEM
    with suppress(OSError):
        if shutil.disk_usage(folder).free < _LOW_ON_SPACE:
            return FULL_DISK
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return PERMISSION_DENIED
    return None


def read_only_file_system(folder: Path) -> bool:
    return hasattr(os, "statvfs") and bool(os.statvfs(folder).f_flag & os.ST_RDONLY)


def unwritable(path: Path) -> str | None:
    """Why `path` cannot be opened for writing, seen before SQLite quietly opens it read-only."""
    with suppress(OSError):
        if read_only_file_system(path.parent):
            return READ_ONLY_FILE_SYSTEM
    if not os.access(path, os.W_OK):
        return PERMISSION_DENIED
    # The -wal and -shm are made (and the -wal removed) in the folder unless both are there to reuse.
    sidecars_writable = all(os.access(Path(f"{path}{s}"), os.W_OK) for s in ("-wal", "-shm"))
    if not sidecars_writable and not os.access(path.parent, os.W_OK):
        return PERMISSION_DENIED
    return None


class StorageError(UserInputError):
    """A file alstudio writes (a checkpoint, the results) could not be written: the disk, not a bug."""


def write_failure(err: Exception, path: Path) -> StorageError:
    """The error to raise when writing `path` failed with `err` (an OSError, or a library's own error
    for a short write): one sentence with the cause."""
    path = Path(path)
    cause = storage_cause(err, None, path) if isinstance(err, OSError) else folder_cause(path)
    if cause is None:
        cause = " ".join(str(getattr(err, "strerror", None) or err).split())
    return StorageError(f"{path} cannot be written: {cause}.")

"""One writer per experiment folder: an OS file lock held for as long as a process writes there.

The operating system releases the lock when its process ends, however it ends (kill -9
included), so a crash never leaves a stale lock behind. The lock file also says who holds it,
so a second writer can name that process. Readers (report, viewing in the workbench) take no lock.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from .errors import UserInputError

LOCK_NAME = ".alstudio.lock"

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class FolderInUseError(UserInputError):
    """Another process writes into the experiment folder."""


class FolderLock:
    """Exclusive, non-blocking: `acquire` either takes the folder or raises FolderInUseError."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> FolderLock:
        if self._fd is not None:
            return self
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise UserInputError(f"{self.folder}: cannot be locked for writing ({err.strerror or err})") from None
        if not _try_lock(fd):
            holder = _holder(fd)
            os.close(fd)
            raise FolderInUseError(f"{self.folder}: in use by {holder}; wait for it to finish or stop it first")
        self._fd = fd
        # Who holds it, for the message another writer gets. Not needed for the lock itself.
        note = {"pid": os.getpid(), "command": " ".join(sys.argv) or sys.executable,
                "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps(note).encode())
        except OSError:
            pass  # a full disk must not stop the lock from working; the message is then vaguer
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        note = json.loads(os.read(fd, 4096) or b"{}")
        return f"process {int(note['pid'])} ({note['command']}, since {note['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def is_locked(folder: str | Path) -> bool:
    """Whether some process holds the folder now (without taking it)."""
    lock = FolderLock(folder)
    if not lock.path.exists():
        return False
    try:
        lock.acquire()
    except FolderInUseError:
        return True
    except UserInputError:
        return False
    lock.release()
    return False

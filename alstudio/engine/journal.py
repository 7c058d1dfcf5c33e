"""The run journal: one SQLite file per active-learning run (one strategy x one seed).

Everything a run does is written as it happens, each write in its own transaction, so a crash
or ``kill -9`` loses nothing that a write method has returned from, and a run can be resumed
from the file. SQLite runs in WAL mode with ``synchronous=NORMAL``: a process crash never loses
a committed transaction; only a power cut can lose the last few.

A journal is created whole: it is built under a temporary name beside its path and then moved into
place, so a kill during creation leaves no journal, or an empty leftover that ``Journal.is_unstarted``
recognises. Opening checks the file without changing a byte of it, its ``-wal`` or its ``-shm``
(SQLite's own recovery would rewrite or even delete the WAL of a damaged file), and opens it for
writing only once it is known to be sound; ``read_only=True`` opens it without ever writing.

Errors are ``JournalError`` sentences naming the file: ``JournalDamagedError`` for damage,
``JournalWriteError`` for storage that refuses writes (full disk, read-only file system, permission).

Threads: the connection belongs to the thread that opened the journal unless
``check_same_thread=False`` is passed (so that a GUI worker thread can own it). Either way one
``Journal`` object must be used by one thread at a time; other readers open their own.

Secrets never go here: the journal stores the experiment config (which holds none), the
fingerprint and what the run did. Do not add other fields.
"""

from __future__ import annotations

import json
import math
import operator
import os
import re
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from . import journal_files as files
from .config import ExperimentConfig, as_saved, validate
from .errors import ConfigError, UserInputError
from .storage_errors import CORRUPT, NOTADB, primary_code, storage_cause, unwritable

SCHEMA_VERSION = 1
SOURCES = ("initial", "oracle", "noisy", "human", "human_simulated", "llm")
STATUSES = ("running", "finished", "stopped", "failed", "waiting")  # waiting: for a person's labels

_TABLES = ("meta", "labels", "queries", "cycles", "events", "llm_cache")
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS labels ("
    " sample INTEGER PRIMARY KEY,"
    " label INTEGER NOT NULL,"
    " source TEXT NOT NULL CHECK(source IN ({})),"
    " cycle INTEGER NOT NULL,"
    " time REAL NOT NULL)".format(", ".join(f"'{s}'" for s in SOURCES)),
    "CREATE TABLE IF NOT EXISTS queries ("
    " cycle INTEGER NOT NULL,"
    " sample INTEGER NOT NULL,"
    " rank INTEGER NOT NULL,"
    " score REAL,"
    " PRIMARY KEY(cycle, sample))",
    "CREATE TABLE IF NOT EXISTS cycles ("
    " cycle INTEGER PRIMARY KEY,"
    " n_labeled INTEGER NOT NULL,"
    " metrics TEXT NOT NULL,"  # JSON
    " train_seconds REAL,"
    " query_seconds REAL,"
    " time REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " time REAL NOT NULL,"
    " kind TEXT NOT NULL,"
    " payload TEXT)",  # JSON
    "CREATE TABLE IF NOT EXISTS llm_cache (key TEXT PRIMARY KEY, response TEXT NOT NULL, time REAL NOT NULL)",
)


# Metric keys journals written before the spelling was made one ("labeled", as in metrics.csv) hold.
_RENAMED_METRICS = {"labelled_share": "labeled_share", "labelled_count": "labeled_count"}


def _current_names(metrics):
    if not isinstance(metrics, dict):
        return metrics
    return {_RENAMED_METRICS.get(key, key): value for key, value in metrics.items()}


class JournalError(UserInputError):
    """A journal file is missing, already exists, is damaged or is not a journal."""


class JournalDamagedError(JournalError):
    """The journal's bytes are damaged, or the file is not an alstudio journal at all."""


class JournalWriteError(JournalError):
    """The journal cannot be written or created: a full disk, a read-only file system, a permission, a lock."""


def fingerprint(device: str, seeds: dict) -> dict:
    """What produced a run: library versions, platform, device and seeds."""
    import platform

    from alstudio import __version__

    try:
        import torch  # imported here: slow, and the journal must not need it

        torch_version: str | None = str(torch.__version__)
    except (ImportError, OSError):
        torch_version = None
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch_version,
        "alstudio": __version__,
        "platform": platform.platform(),
        "device": device,
        "seeds": dict(seeds),
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dumps(value: Any) -> str:
    # allow_nan: NaN/Infinity are written as bare tokens, which json.loads reads back.
    return json.dumps(value, allow_nan=True, default=_json_default)


def _index(value: Any, what: str) -> int:
    """An integer (numpy integers too); floats and bools are refused rather than truncated."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an integer, got {value!r}") from None


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def _shown(value: Any) -> str:
    """A stored value quoted in a message: one line, not too long."""
    return repr(_one_line(value)[:40])


def _already_exists(path: Path) -> JournalError:
    return JournalError(f"The journal {path} already exists; choose another file or open it.")


# ---- storage errors ----------------------------------------------------------------------------

def describe_storage_error(err: BaseException, path: str | os.PathLike, action: str = "written") -> str:
    """One sentence naming the journal `path` and why `err` (an sqlite3.Error or OSError) kept it from
    being `action` ("written", "created", "opened", "read"): a full disk, a read-only file system, a
    permission, a lock held by another program, damage, or else SQLite's or the system's own words."""
    return str(_storage_error(err, Path(path), action))


def _storage_error(err: BaseException, path: Path, action: str) -> JournalError:
    code = primary_code(err)
    if code in (CORRUPT, NOTADB):
        return JournalDamagedError(f"The journal {path} is damaged ({_reason(err)}).")
    cause = storage_cause(err, code, path)
    if cause is None:
        return JournalWriteError(f"The journal {path} cannot be {action} ({_reason(err)}).")
    return JournalWriteError(f"The journal {path} cannot be {action}: {cause}.")


def _reason(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return _one_line(err.strerror)  # without the errno and file name str() adds
    return _one_line(err)


def _is_storage_trouble(err: sqlite3.Error) -> bool:
    """Whether `err` is about the file rather than the caller (a constraint, a wrong thread)."""
    return isinstance(err, sqlite3.OperationalError) or type(err) is sqlite3.DatabaseError


# ---- files -------------------------------------------------------------------------------------

def _build(temporary: Path, meta: dict[str, str]) -> None:
    """A complete journal at `temporary`: schema and meta committed, WAL mode recorded in the file."""
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.close(fd)
    db = sqlite3.connect(temporary)
    try:
        # A rollback journal while building: the file is whole and synced when placed, with no -wal to carry.
        db.execute("PRAGMA synchronous=FULL")
        db.execute("BEGIN")
        for statement in _SCHEMA:
            db.execute(statement)
        db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", meta.items())
        db.commit()
        db.execute("PRAGMA journal_mode=WAL")  # a property of the file: every later connection writes a WAL
    finally:
        db.close()


def _place(temporary: Path, path: Path) -> None:
    """Give the built journal its name, refusing a name that exists (no check-then-create race)."""
    try:
        os.link(temporary, path)
        return
    except FileExistsError:
        raise _already_exists(path) from None
    except OSError:
        pass  # no hard links here (FAT, some network shares)
    try:
        # Claim the name, then move the journal onto it: a kill in between leaves an empty, unstarted file.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise _already_exists(path) from None
    os.close(fd)
    os.replace(temporary, path)


def _discard_unstarted(path: Path) -> None:
    """Remove the unstarted file at `path`, unless another creator has meanwhile put its journal there.

    Its -wal and -shm stay: is_unstarted saw no frame in the -wal, and SQLite starts both afresh."""
    try:
        before = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return  # another creator removed it first; placing ours will tell which of us wins
    if not Journal.is_unstarted(path):
        raise _already_exists(path)
    aside = files.temporary_name(path, "unstarted")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return  # another creator removed it first; placing ours will tell which of us wins
    except OSError as err:
        raise _storage_error(err, path, "created") from None
    moved = os.stat(aside, follow_symlinks=False)
    if (moved.st_dev, moved.st_ino) != (before.st_dev, before.st_ino):
        # Not the file that was checked: another creator's new journal. Give its name back.
        with suppress(OSError):
            os.link(aside, path)
            os.unlink(aside)
        raise _already_exists(path)
    with suppress(OSError):
        os.unlink(aside)


class Journal:
    """One run's journal. Build with ``Journal.create`` or ``Journal.open``, not directly.

    One object must be used by one thread at a time (see the module docstring).
    """

    def __init__(self, path: Path, db: sqlite3.Connection, read_only: bool = False,
                 scratch: tempfile.TemporaryDirectory | None = None) -> None:
        self.path = path
        self.read_only = read_only
        self._db = db
        self._scratch = scratch  # a private copy being read, removed on close
        self._config: ExperimentConfig | None = None

    # ---- opening ------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike, config: ExperimentConfig, strategy: str, seed: int,
               fingerprint: dict, check_same_thread: bool = True, replace_unstarted: bool = False) -> Journal:
        """A new journal file, built under a temporary name and then moved into place whole.

        Refuses a path that already exists, even against a creator racing this one; with
        `replace_unstarted`, a file there that ``is_unstarted`` (a creation killed midway) is replaced.
        """
        path = Path(path)
        seed = _index(seed, "seed")
        meta = {
            "config": _dumps(config.model_dump()),
            "fingerprint": _dumps(fingerprint),
            "strategy": str(strategy),
            "seed": str(seed),
            "status": "running",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "schema_version": str(SCHEMA_VERSION),
        }
        if os.path.lexists(path):
            if not replace_unstarted:
                raise _already_exists(path)
            _discard_unstarted(path)
        files.sweep_leftovers(path)
        temporary = files.temporary_name(path, "creating")
        try:
            _build(temporary, meta)
            _place(temporary, path)
        except (OSError, sqlite3.Error) as err:
            raise _storage_error(err, path, "created") from None
        finally:
            files.remove_with_sidecars(temporary)  # after a link, only the temporary name goes
        files.sync_folder(path.parent)
        db = None
        try:
            db = files.connect(path, "mode=rw", check_same_thread)
            cls._configure(db)
        except sqlite3.Error as err:
            if db is not None:
                db.close()
            raise _storage_error(err, path, "opened") from None
        journal = cls(path, db)
        journal._config = config
        return journal

    @classmethod
    def is_unstarted(cls, path: str | os.PathLike) -> bool:
        """Whether no run ever began in `path`, so that it may be created (again): the file is missing
        (perhaps with a killed creator's temporary beside it), empty, or an SQLite file with no table
        (what a creation killed midway left before creation was atomic). Changes nothing."""
        path = Path(path)
        try:
            if not os.path.lexists(path):
                return True
            if not path.is_file():
                return False
            if files.wal_holds_frames(path):
                return False  # a transaction may be there; and a new file must not meet an old -wal's frames
            if path.stat().st_size == 0:
                return True
            if not files.is_sqlite_file(path):
                return False
            with files.inspection(path) as db:
                return db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        except (OSError, sqlite3.Error):
            return False

    @classmethod
    def open(cls, path: str | os.PathLike, check_same_thread: bool = True, read_only: bool = False) -> Journal:
        """An existing journal; anything that is not a sound journal raises JournalError.

        Nothing is written before the file has passed its checks. `read_only`: never write at all
        (a journal on a read-only file system or a copy being reported on); writes then raise.
        """
        path = Path(path)
        cls._check(path)
        if read_only:
            try:
                db, scratch = files.open_for_reading(path, check_same_thread)
            except (OSError, sqlite3.Error) as err:
                raise JournalError(f"The journal {path} cannot be read ({_reason(err)}).") from None
            journal = cls(path, db, read_only=True, scratch=scratch)
            try:
                db.execute("PRAGMA query_only=ON")  # a second guard: SQLite itself refuses any write
            except sqlite3.Error as err:
                journal.close()
                raise JournalError(f"The journal {path} cannot be read ({_reason(err)}).") from None
            return journal
        cause = unwritable(path)
        if cause is not None:
            raise JournalWriteError(f"The journal {path} cannot be written: {cause}.")
        db = None
        try:
            db = files.connect(path, "mode=rw", check_same_thread)  # mode=rw: never create a file here
            cls._configure(db)
        except sqlite3.Error as err:
            if db is not None:
                db.close()
            raise _storage_error(err, path, "opened") from None
        return cls(path, db)

    @classmethod
    def _check(cls, path: Path) -> None:
        """Raise JournalError unless `path` is a sound journal; reads without changing anything."""
        if not path.is_file():
            what = "is not a file" if os.path.lexists(path) else "does not exist"
            raise JournalError(f"The journal {path} {what}.")
        try:
            if path.stat().st_size == 0:
                if files.wal_holds_frames(path):
                    # SQLite takes an empty file for a new database and deletes its WAL: never show it these.
                    raise JournalDamagedError(
                        f"The journal {path} is damaged (the file is empty, but its write-ahead log "
                        f"{files.sidecar(path, '-wal').name} holds data).")
                raise JournalError(f"The journal {path} is empty: the process creating it was stopped before "
                                   "it finished.")
            if not files.is_sqlite_file(path):
                raise JournalDamagedError(f"The journal {path} is not an alstudio journal (not an SQLite database).")
            with files.inspection(path) as db:
                problem = cls._problem(db, path)
        except sqlite3.Error as err:
            if primary_code(err) in (CORRUPT, NOTADB):
                raise JournalDamagedError(f"The journal {path} is damaged or not a journal ({_reason(err)}).") from None
            raise JournalError(f"The journal {path} cannot be read ({_reason(err)}).") from None
        except OSError as err:
            raise JournalError(f"The journal {path} cannot be read ({_reason(err)}).") from None
        if problem is not None:
            raise problem

    @staticmethod
    def _configure(db: sqlite3.Connection) -> None:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")

    @staticmethod
    def _problem(db: sqlite3.Connection, path: Path) -> JournalError | None:
        """Why this database is not a sound journal, or None."""
        rows = db.execute("PRAGMA quick_check").fetchall()
        if [r[0] for r in rows] != ["ok"]:
            first = _one_line(rows[0][0]) if rows else "no answer"
            return JournalDamagedError(f"The journal {path} is damaged (integrity check: {first}).")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return JournalError(f"The journal {path} is empty (no tables): the process creating it was stopped "
                                "before it finished.")
        missing = [t for t in _TABLES if t not in tables]
        if missing:
            return JournalDamagedError(f"The journal {path} is not an alstudio journal "
                                       f"(no {', '.join(missing)} table{'s' if len(missing) > 1 else ''}).")
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            return JournalDamagedError(f"The journal {path} is not an alstudio journal (no schema version).")
        if row[0] != str(SCHEMA_VERSION):
            return JournalError(f"The journal {path} has schema version {_one_line(row[0])}, but this alstudio "
                                f"reads version {SCHEMA_VERSION}.")
        return None

    # ---- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (the last one to close folds the WAL into the main file)."""
        try:
            self._db.close()
        finally:
            if self._scratch is not None:
                self._scratch.cleanup()
                self._scratch = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed on success, rolled back on any exception. Storage trouble (a full
        disk, a read-only file system, damage) becomes a JournalWriteError or JournalDamagedError."""
        if self.read_only:
            raise JournalWriteError(f"The journal {self.path} cannot be written: it was opened for reading only.")
        db = self._db
        try:
            # IMMEDIATE: take the write lock now, so checks and writes see the same state.
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.commit()
            except BaseException:
                if db.in_transaction:  # SQLite may already have rolled back (a full disk, an I/O error)
                    with suppress(sqlite3.Error):
                        db.rollback()
                raise
        except sqlite3.Error as err:
            if not _is_storage_trouble(err):
                raise
            raise _storage_error(err, self.path, "written") from None

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        """Every row a read returns; damage or storage trouble met while reading becomes a JournalError."""
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as err:
            if not _is_storage_trouble(err):
                raise
            raise _storage_error(err, self.path, "read") from None

    def _json(self, text: Any, what: str) -> Any:
        try:
            return json.loads(text)
        except (ValueError, TypeError):  # json.JSONDecodeError is a ValueError
            raise JournalError(f"The journal {self.path} has {what} that is not valid JSON.") from None

    # ---- meta ---------------------------------------------------------------------------------

    def _meta(self, key: str) -> str:
        rows = self._rows("SELECT value FROM meta WHERE key = ?", (key,))
        if not rows:
            raise JournalError(f"The journal {self.path} has no {key!r} entry.")
        value = rows[0][0]
        if not isinstance(value, str):
            raise self._bad_entry(key, "is not text")
        return value

    def _meta_object(self, key: str) -> dict:
        value = self._json(self._meta(key), f"a {key!r} entry")
        if not isinstance(value, dict):
            raise self._bad_entry(key, "is not a JSON object")
        return value

    def _bad_entry(self, key: str, what: str) -> JournalError:
        return JournalError(f"The journal {self.path} has a {key!r} entry that {what}.")

    @property
    def config(self) -> ExperimentConfig:
        if self._config is None:
            data = self._meta_object("config")
            if not all(isinstance(section, dict) for section in data.values()):
                raise self._bad_entry("config", "is not a config (a section is not a table)")
            try:
                self._config = validate(as_saved(data), self.path.name)
            except ConfigError as err:
                raise JournalError(f"The journal {self.path} has a 'config' entry this alstudio cannot read "
                                   f"({_one_line(err)}).") from None
        return self._config

    @property
    def strategy(self) -> str:
        return self._meta("strategy")

    @property
    def seed(self) -> int:
        text = self._meta("seed")
        if re.fullmatch(r"-?[0-9]+", text) is None:
            raise self._bad_entry("seed", f"is not an integer ({_shown(text)})")
        return int(text)

    @property
    def fingerprint(self) -> dict:
        return self._meta_object("fingerprint")

    def record_input(self, name: str, summary: dict, what: str) -> None:
        """An input every model of this run depends on (the pretrained trunk, the dataset's images),
        named by its sha256 in `summary`, joins the fingerprint under `name`. A resumed run must bring
        the identical one, or it would not repeat what it did; `what` names it in the refusal."""
        fingerprint = self.fingerprint
        known = fingerprint.get(name)
        if known is not None and not (isinstance(known, dict) and isinstance(known.get("sha256"), str)):
            raise self._bad_entry("fingerprint", f"names no readable {what}")
        if known is not None:
            if known["sha256"] != summary["sha256"]:
                raise JournalError(
                    f"The journal {self.path} ran with the {what} {known['sha256'][:12]}, but the one made now is "
                    f"{summary['sha256'][:12]} (another alstudio, torch or machine?); start a new experiment.")
            return
        fingerprint[name] = summary
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('fingerprint', ?)", (_dumps(fingerprint),))

    @property
    def created(self) -> str:
        """ISO 8601 time (UTC) the journal was created."""
        return self._meta("created")

    @property
    def status(self) -> str:
        status = self._meta("status")
        if status not in STATUSES:
            raise self._bad_entry("status", f"is not a known status ({_shown(status)})")
        return status

    def set_status(self, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('status', ?)", (status,))

    # ---- labels -------------------------------------------------------------------------------

    def record_labels(self, items: Sequence[tuple[int, int]], source: str, cycle: int) -> None:
        """Record (sample, label) pairs in ONE transaction: all of them or none.

        A sample already labeled with the same label is skipped (its source and cycle stay);
        one labeled with a different label raises ValueError and nothing of the batch is kept.
        """
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
        cycle = _index(cycle, "cycle")
        rows = []
        for sample, label in items:
            sample, label = _index(sample, "sample"), _index(label, "label")
            if sample < 0:
                raise ValueError(f"sample must be >= 0, got {sample}")
            rows.append((sample, label))
        now = time.time()
        with self._write() as db:
            for sample, label in rows:
                inserted = db.execute(
                    "INSERT OR IGNORE INTO labels(sample, label, source, cycle, time) VALUES (?, ?, ?, ?, ?)",
                    (sample, label, source, cycle, now)).rowcount
                if not inserted:
                    old = self._rows("SELECT label FROM labels WHERE sample = ?", (sample,))[0][0]
                    if old != label:
                        raise ValueError(f"sample {sample} is already labeled {old}, cannot relabel it {label}")

    def retract_label(self, sample: int, cycle: int) -> bool:
        """Undo a human answer given for cycle `cycle` (the labeling dialog's Backspace).

        Only human answers of that cycle can be taken back: anything a model has already been
        trained on stays. Returns whether a label was removed.
        """
        sample, cycle = _index(sample, "sample"), _index(cycle, "cycle")
        with self._write() as db:
            removed = db.execute("DELETE FROM labels WHERE sample = ? AND cycle = ? AND source = 'human'",
                                 (sample, cycle)).rowcount
        return bool(removed)

    def labels(self) -> dict[int, tuple[int, str, int]]:
        """sample -> (label, source, cycle)."""
        rows = self._rows("SELECT sample, label, source, cycle FROM labels ORDER BY sample")
        return {sample: (label, source, cycle) for sample, label, source, cycle in rows}

    def labeled_samples(self) -> np.ndarray:
        """The labeled samples, sorted, as an int64 array."""
        rows = self._rows("SELECT sample FROM labels ORDER BY sample")
        return np.array([r[0] for r in rows], dtype=np.int64)

    def label_counts_by_source(self) -> dict[str, int]:
        rows = self._rows("SELECT source, COUNT(*) FROM labels GROUP BY source ORDER BY source")
        return {source: count for source, count in rows}

    # ---- queries ------------------------------------------------------------------------------

    def record_query(self, cycle: int, samples: Sequence[int], scores: Sequence[float] | None = None) -> None:
        """The batch queried after cycle ``cycle``'s training, in rank order (ranks 0..n-1).

        Recording a cycle again with the same samples is a no-op (scores are not compared);
        with other samples it raises ValueError. A NaN score is stored as NULL and reads back as None.
        """
        cycle = _index(cycle, "cycle")
        samples = [_index(s, "sample") for s in samples]
        if not samples:
            raise ValueError("a query needs at least one sample")
        if len(set(samples)) != len(samples):
            raise ValueError(f"the query for cycle {cycle} repeats a sample")
        if scores is None:
            values: list[float | None] = [None] * len(samples)
        else:
            if len(scores) != len(samples):
                raise ValueError(f"got {len(scores)} scores for {len(samples)} samples")
            values = [None if s is None or math.isnan(float(s)) else float(s) for s in scores]
        with self._write() as db:
            old = self._query(cycle)
            if old is not None:
                if old != samples:
                    raise ValueError(f"cycle {cycle} already has a different query recorded")
                return
            db.executemany(
                "INSERT INTO queries(cycle, sample, rank, score) VALUES (?, ?, ?, ?)",
                [(cycle, s, rank, v) for rank, (s, v) in enumerate(zip(samples, values))])

    def _query(self, cycle: int) -> list[int] | None:
        rows = self._rows("SELECT sample FROM queries WHERE cycle = ? ORDER BY rank", (cycle,))
        return [r[0] for r in rows] or None

    def query(self, cycle: int) -> list[int] | None:
        """The samples queried after ``cycle``, in rank order; None if none was recorded."""
        return self._query(_index(cycle, "cycle"))

    def query_scores(self, cycle: int) -> list[float | None] | None:
        """The scores of ``query(cycle)``, same order; None where unscored; None if no query."""
        rows = self._rows("SELECT score FROM queries WHERE cycle = ? ORDER BY rank", (_index(cycle, "cycle"),))
        return [r[0] for r in rows] or None

    # ---- cycles -------------------------------------------------------------------------------

    def record_cycle(self, cycle: int, n_labeled: int, metrics: dict, train_seconds: float | None,
                     query_seconds: float | None) -> None:
        """One finished cycle; metrics may hold NaN. Recording a cycle twice raises ValueError."""
        cycle, n_labeled = _index(cycle, "cycle"), _index(n_labeled, "n_labeled")
        text = _dumps(metrics)
        train = None if train_seconds is None else float(train_seconds)
        query = None if query_seconds is None else float(query_seconds)
        try:
            with self._write() as db:
                db.execute(
                    "INSERT INTO cycles(cycle, n_labeled, metrics, train_seconds, query_seconds, time)"
                    " VALUES (?, ?, ?, ?, ?, ?)", (cycle, n_labeled, text, train, query, time.time()))
        except sqlite3.IntegrityError:
            raise ValueError(f"cycle {cycle} is already recorded") from None

    def cycles(self) -> list[dict]:
        """Every recorded cycle in order: cycle, n_labeled, metrics, train_seconds, query_seconds, time."""
        rows = self._rows(
            "SELECT cycle, n_labeled, metrics, train_seconds, query_seconds, time FROM cycles ORDER BY cycle")
        return [
            {"cycle": c, "n_labeled": n, "metrics": _current_names(self._json(m, f"a cycle {c} whose metrics are")),
             "train_seconds": ts, "query_seconds": qs, "time": t}
            for c, n, m, ts, qs, t in rows
        ]

    def last_cycle(self) -> int | None:
        return self._rows("SELECT MAX(cycle) FROM cycles")[0][0]

    # ---- events -------------------------------------------------------------------------------

    def log_event(self, kind: str, payload: dict | None = None) -> None:
        text = None if payload is None else _dumps(payload)
        with self._write() as db:
            db.execute("INSERT INTO events(time, kind, payload) VALUES (?, ?, ?)", (time.time(), str(kind), text))

    def events(self, kind: str | None = None) -> list[dict]:
        """Events in the order they were logged: id, time, kind, payload (dict or None)."""
        sql = "SELECT id, time, kind, payload FROM events"
        args: tuple = ()
        if kind is not None:
            sql, args = sql + " WHERE kind = ?", (kind,)
        rows = self._rows(sql + " ORDER BY id", args)
        return [{"id": i, "time": t, "kind": k,
                 "payload": None if p is None else self._json(p, f"an event {i} whose payload is")}
                for i, t, k, p in rows]

    # ---- annotator state ----------------------------------------------------------------------

    def get_state(self, name: str) -> dict | None:
        """A small JSON document an annotator keeps across resumes (its counters)."""
        key = f"state.{name}"
        return self._meta_object(key) if self._rows("SELECT 1 FROM meta WHERE key = ?", (key,)) else None

    def set_state(self, name: str, value: dict) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (f"state.{name}", _dumps(value)))

    # ---- LLM cache ----------------------------------------------------------------------------

    def get_cached(self, key: str) -> str | None:
        rows = self._rows("SELECT response FROM llm_cache WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def put_cached(self, key: str, response: str) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO llm_cache(key, response, time) VALUES (?, ?, ?)",
                       (key, response, time.time()))

"""The run journal: one SQLite file per active-learning run (one strategy x one seed).

Everything a run does is written as it happens, each write in its own transaction, so a crash
or ``kill -9`` loses nothing that a write method has returned from, and a run can be resumed
from the file. SQLite runs in WAL mode with ``synchronous=NORMAL``: a process crash never loses
a committed transaction; only a power cut can lose the last few.

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
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .config import ExperimentConfig, as_saved, validate
from .errors import ConfigError, UserInputError

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


class JournalError(UserInputError):
    """A journal file is missing, already exists, is damaged or is not a journal."""


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


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class Journal:
    """One run's journal. Build with ``Journal.create`` or ``Journal.open``, not directly.

    One object must be used by one thread at a time (see the module docstring).
    """

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path = path
        self._db = db
        self._config: ExperimentConfig | None = None

    # ---- opening ------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike, config: ExperimentConfig, strategy: str, seed: int,
               fingerprint: dict, check_same_thread: bool = True) -> Journal:
        """A new journal file; refuses a path that already exists."""
        path = Path(path)
        seed = _index(seed, "seed")
        try:
            # O_EXCL: no race between checking and creating. SQLite takes an empty file as a new db.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise JournalError(f"The journal {path} already exists; choose another file or open it.") from None
        except OSError as err:
            raise JournalError(f"The journal {path} cannot be created ({_one_line(err.strerror or err)}).") from None
        os.close(fd)
        try:
            db = cls._connect(path, check_same_thread)
        except sqlite3.Error as err:
            path.unlink(missing_ok=True)
            raise JournalError(f"The journal {path} cannot be created ({_one_line(err)}).") from None
        journal = cls(path, db)
        try:
            with journal._write():
                for statement in _SCHEMA:
                    db.execute(statement)
                meta = {
                    "config": _dumps(config.model_dump()),
                    "fingerprint": _dumps(fingerprint),
                    "strategy": str(strategy),
                    "seed": str(seed),
                    "status": "running",
                    "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "schema_version": str(SCHEMA_VERSION),
                }
                db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", meta.items())
        except BaseException:
            db.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            raise
        journal._config = config
        return journal

    @classmethod
    def open(cls, path: str | os.PathLike, check_same_thread: bool = True) -> Journal:
        """An existing journal; anything that is not a sound journal raises JournalError."""
        path = Path(path)
        if not path.is_file():
            what = "is not a file" if path.exists() else "does not exist"
            raise JournalError(f"The journal {path} {what}.")
        try:
            # mode=rw: never create a file here.
            db = sqlite3.connect(path.resolve().as_uri() + "?mode=rw", uri=True,
                                 check_same_thread=check_same_thread)
        except sqlite3.Error as err:
            raise JournalError(f"The journal {path} cannot be opened ({_one_line(err)}).") from None
        try:
            # Read-only checks first, so nothing is written into a file that is not ours.
            problem = cls._problem(db)
            if problem is None:
                cls._configure(db)
        except sqlite3.Error as err:
            problem = f"is damaged or not a journal ({_one_line(err)})"
        if problem is not None:
            db.close()
            raise JournalError(f"The journal {path} {problem}.")
        return cls(path, db)

    @staticmethod
    def _connect(path: Path, check_same_thread: bool) -> sqlite3.Connection:
        db = sqlite3.connect(path, check_same_thread=check_same_thread)
        Journal._configure(db)
        return db

    @staticmethod
    def _configure(db: sqlite3.Connection) -> None:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")

    @staticmethod
    def _problem(db: sqlite3.Connection) -> str | None:
        """Why this database is not a sound journal, or None."""
        rows = db.execute("PRAGMA quick_check").fetchall()
        if [r[0] for r in rows] != ["ok"]:
            first = _one_line(rows[0][0]) if rows else "no answer"
            return f"is damaged (integrity check: {first})"
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [t for t in _TABLES if t not in tables]
        if missing:
            return f"is not an alstudio journal (no {', '.join(missing)} table{'s' if len(missing) > 1 else ''})"
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            return "is not an alstudio journal (no schema version)"
        if row[0] != str(SCHEMA_VERSION):
            return f"has schema version {_one_line(row[0])}, but this alstudio reads version {SCHEMA_VERSION}"
        return None

    # ---- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (the last one to close folds the WAL into the main file)."""
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed on success, rolled back on any exception."""
        with self._db:
            # IMMEDIATE: take the write lock now, so checks and writes see the same state.
            self._db.execute("BEGIN IMMEDIATE")
            yield self._db

    # ---- meta ---------------------------------------------------------------------------------

    def _meta(self, key: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise JournalError(f"The journal {self.path} has no {key!r} entry.")
        return row[0]

    @property
    def config(self) -> ExperimentConfig:
        if self._config is None:
            try:
                data = json.loads(self._meta("config"))
                self._config = validate(as_saved(data), self.path.name)
            except (ValueError, ConfigError) as err:  # json.JSONDecodeError is a ValueError
                raise JournalError(
                    f"The journal {self.path} holds a config this alstudio cannot read ({_one_line(err)}).") from None
        return self._config

    @property
    def strategy(self) -> str:
        return self._meta("strategy")

    @property
    def seed(self) -> int:
        return int(self._meta("seed"))

    @property
    def fingerprint(self) -> dict:
        return json.loads(self._meta("fingerprint"))

    def record_trunk(self, trunk: dict) -> None:
        """The pretrained trunk every model of this run starts from (its hash and source task) joins the
        fingerprint; a resumed run must bring the identical trunk, or its models would differ."""
        fingerprint = self.fingerprint
        known = fingerprint.get("trunk")
        if known is not None:
            if known["sha256"] != trunk["sha256"]:
                raise JournalError(
                    f"The journal {self.path} ran with the pretrained trunk {known['sha256'][:12]}, but the one "
                    f"built now is {trunk['sha256'][:12]} (another torch or machine?); start a new experiment.")
            return
        fingerprint["trunk"] = trunk
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('fingerprint', ?)", (_dumps(fingerprint),))

    @property
    def created(self) -> str:
        """ISO 8601 time (UTC) the journal was created."""
        return self._meta("created")

    @property
    def status(self) -> str:
        return self._meta("status")

    def set_status(self, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('status', ?)", (status,))

    # ---- labels -------------------------------------------------------------------------------

    def record_labels(self, items: Sequence[tuple[int, int]], source: str, cycle: int) -> None:
        """Record (sample, label) pairs in ONE transaction: all of them or none.

        A sample already labelled with the same label is skipped (its source and cycle stay);
        one labelled with a different label raises ValueError and nothing of the batch is kept.
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
                    old = db.execute("SELECT label FROM labels WHERE sample = ?", (sample,)).fetchone()[0]
                    if old != label:
                        raise ValueError(f"sample {sample} is already labelled {old}, cannot relabel it {label}")

    def retract_label(self, sample: int, cycle: int) -> bool:
        """Undo a human answer given for cycle `cycle` (the labelling dialog's Backspace).

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
        rows = self._db.execute("SELECT sample, label, source, cycle FROM labels ORDER BY sample")
        return {sample: (label, source, cycle) for sample, label, source, cycle in rows}

    def labelled_samples(self) -> np.ndarray:
        """The labelled samples, sorted, as an int64 array."""
        rows = self._db.execute("SELECT sample FROM labels ORDER BY sample").fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64)

    def label_counts_by_source(self) -> dict[str, int]:
        rows = self._db.execute("SELECT source, COUNT(*) FROM labels GROUP BY source ORDER BY source")
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
        rows = self._db.execute("SELECT sample FROM queries WHERE cycle = ? ORDER BY rank", (cycle,)).fetchall()
        return [r[0] for r in rows] or None

    def query(self, cycle: int) -> list[int] | None:
        """The samples queried after ``cycle``, in rank order; None if none was recorded."""
        return self._query(_index(cycle, "cycle"))

    def query_scores(self, cycle: int) -> list[float | None] | None:
        """The scores of ``query(cycle)``, same order; None where unscored; None if no query."""
        rows = self._db.execute(
            "SELECT score FROM queries WHERE cycle = ? ORDER BY rank", (_index(cycle, "cycle"),)).fetchall()
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
        rows = self._db.execute(
            "SELECT cycle, n_labeled, metrics, train_seconds, query_seconds, time FROM cycles ORDER BY cycle")
        return [
            {"cycle": c, "n_labeled": n, "metrics": json.loads(m), "train_seconds": ts, "query_seconds": qs,
             "time": t}
            for c, n, m, ts, qs, t in rows
        ]

    def last_cycle(self) -> int | None:
        return self._db.execute("SELECT MAX(cycle) FROM cycles").fetchone()[0]

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
        rows = self._db.execute(sql + " ORDER BY id", args)
        return [{"id": i, "time": t, "kind": k, "payload": None if p is None else json.loads(p)}
                for i, t, k, p in rows]

    # ---- annotator state ----------------------------------------------------------------------

    def get_state(self, name: str) -> dict | None:
        """A small JSON document an annotator keeps across resumes (its counters)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (f"state.{name}",)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_state(self, name: str, value: dict) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (f"state.{name}", _dumps(value)))

    # ---- LLM cache ----------------------------------------------------------------------------

    def get_cached(self, key: str) -> str | None:
        row = self._db.execute("SELECT response FROM llm_cache WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def put_cached(self, key: str, response: str) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO llm_cache(key, response, time) VALUES (?, ?, ?)",
                       (key, response, time.time()))

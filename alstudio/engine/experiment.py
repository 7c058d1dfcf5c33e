"""An experiment folder: the config, which strategies x seeds it runs, and one journal per run.

    DIR/experiment.toml      the resolved config
    DIR/experiment.json      the manifest: strategies, seed count, derived run seeds, who answers
                             what an LLM flags (oracle, defer, or human in the workbench), alstudio
                             version. Written last, atomically: without it the folder never started.
    DIR/runs/<strategy>-seed<k>/journal.sqlite (+ checkpoints/)
    DIR/metrics.csv, DIR/summary.json   rewritten from the journals after every run
    DIR/.alstudio.lock       held by the one process writing into the folder (folder_lock.py)

alstudio deletes only what this layout names, and only in a folder whose manifest it can read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .. import __version__
from . import config as configs
from .errors import UserInputError
from .folder_lock import LOCK_NAME, FolderLock
from .storage_errors import write_failure
from .strategies import STRATEGIES

OWN_FILES = ("experiment.toml", "experiment.json", "metrics.csv", "summary.json", "report.png")
MANIFEST = "experiment.json"
# What a creation killed before its manifest was written can leave: the folder never started.
_CREATION_LEFTOVERS = {"experiment.toml", "experiment.toml.tmp", "experiment.json.tmp", LOCK_NAME}


class Manifest(BaseModel):
    """experiment.json, read as strictly as a config: it names folders alstudio writes into."""

    model_config = ConfigDict(extra="forbid", strict=True)
    strategies: list[str] = Field(min_length=1)
    seeds: int = Field(ge=1, le=configs.MAX_REPETITIONS)
    alstudio: str = ""
    run_seeds: list[int] = Field(default_factory=list)
    flagged_to: Literal["oracle", "defer", "human"] = "oracle"

    @field_validator("strategies")
    @classmethod
    def _known_strategies(cls, names: list[str]) -> list[str]:
        return configs.strategy_names(names)


def _manifest_problem(err: ValidationError) -> str:
    first = err.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "the file"
    return f"{key}: {first['msg'].removeprefix('Value error, ')}"


def run_seed(master_seed: int, index: int) -> int:
    """The seed of the index-th repetition, derived from the config's active.seed."""
    return int(np.random.SeedSequence([master_seed, index]).generate_state(1)[0])


@dataclass(frozen=True)
class RunSpec:
    strategy: str
    index: int
    seed: int
    folder: Path

    @property
    def journal_path(self) -> Path:
        return self.folder / "journal.sqlite"

    @property
    def label(self) -> str:
        return f"{self.strategy} seed {self.index + 1}"


@dataclass(frozen=True)
class Experiment:
    folder: Path
    config: configs.ExperimentConfig
    strategies: tuple[str, ...]
    n_seeds: int
    flagged_to: str = "oracle"  # who answers what the LLM flags: oracle, defer (later, in the workbench) or human
    # Held while this process may write into the folder (create, for_writing); None: read only.
    lock: FolderLock | None = field(default=None, compare=False, repr=False)

    @classmethod
    def create(cls, folder: str | Path, config: configs.ExperimentConfig, strategies: list[str],
               n_seeds: int, force: bool = False, flagged_to: str = "oracle") -> Experiment:
        """A new experiment in `folder`, locked for this process. `force` replaces the experiment
        already there, removing only the files it made; a folder that is not an experiment is refused."""
        folder = Path(folder)
        unknown = [s for s in strategies if s not in STRATEGIES]
        if unknown:
            raise UserInputError(f"--strategies: unknown strategy {unknown[0]!r}; valid names: {', '.join(STRATEGIES)}")
        if not strategies:
            raise UserInputError("--strategies: give at least one strategy")
        if len(set(strategies)) != len(strategies):
            raise UserInputError("--strategies: a strategy is listed twice")
        most = configs.MAX_REPETITIONS
        if not 1 <= n_seeds <= most:
            raise UserInputError(f"--seeds must be from 1 to {most}, got {n_seeds}")
        if folder.exists() and not folder.is_dir():
            raise UserInputError(f"--out {folder}: is a file, not a folder")
        if not folder.parent.is_dir():
            raise UserInputError(f"--out {folder}: the folder {folder.parent} does not exist")
        made = not folder.exists()
        try:
            folder.mkdir(exist_ok=True)
        except OSError as err:
            raise UserInputError(f"--out {folder}: cannot be created ({err.strerror or err})") from None
        lock = FolderLock(folder)
        try:
            lock.acquire()
            old = _contents(folder) - _CREATION_LEFTOVERS
            if old:
                _replace_experiment(folder, force)
            config = configs.with_runs(config, strategies, n_seeds)  # experiment.toml alone holds the config
            configs.save(config, folder / "experiment.toml")
            meta = {"strategies": list(strategies), "seeds": n_seeds, "alstudio": __version__,
                    "run_seeds": [run_seed(config.active.seed, i) for i in range(n_seeds)], "flagged_to": flagged_to}
            write_json(folder / MANIFEST, meta)  # last: until it exists, the experiment never started
        except OSError as err:
            lock.release()
            _forget(folder, made)
            raise UserInputError(f"--out {folder}: cannot be written ({err.strerror or err})") from None
        except BaseException:
            lock.release()
            _forget(folder, made)
            raise
        return cls(folder, config, tuple(strategies), n_seeds, flagged_to, lock)

    @classmethod
    def open(cls, folder: str | Path) -> Experiment:
        """An existing experiment, for reading (see for_writing)."""
        folder = Path(folder)
        meta_path = folder / MANIFEST
        if meta_path.exists() and not meta_path.is_file():
            raise UserInputError(f"{meta_path}: damaged experiment manifest (not a file)")
        if not meta_path.is_file():
            if folder.is_dir() and (folder / "experiment.toml").is_file() and not (folder / "runs").exists():
                raise UserInputError(f"{folder}: the experiment's creation was interrupted before it started; "
                                     f"start it again with alstudio run --out {folder}")
            raise UserInputError(f"{folder}: not an alstudio experiment folder (no {MANIFEST})")
        try:
            text = meta_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise UserInputError(f"{meta_path}: cannot be read ({getattr(err, 'strerror', None) or err})") from None
        try:
            manifest = Manifest.model_validate(json.loads(text))
        except ValueError as err:
            problem = _manifest_problem(err) if isinstance(err, ValidationError) else "not valid JSON"
            raise UserInputError(f"{meta_path}: damaged experiment manifest ({problem})") from None
        config = configs.load(folder / "experiment.toml", saved=True)
        return cls(folder, config, tuple(manifest.strategies), manifest.seeds, manifest.flagged_to)

    def for_writing(self) -> Experiment:
        """This experiment, locked for this process (FolderInUseError when another one writes there)."""
        if self.lock is not None and self.lock.held:
            return self
        lock = FolderLock(self.folder).acquire()
        return Experiment(self.folder, self.config, self.strategies, self.n_seeds, self.flagged_to, lock)

    def release(self) -> None:
        """Let other processes write here (the end of the process does it too)."""
        if self.lock is not None:
            self.lock.release()

    def runs(self) -> list[RunSpec]:
        """Seed by seed, every strategy within a seed: after the first round all curves are on screen."""
        master = self.config.active.seed
        return [RunSpec(strategy, i, run_seed(master, i), self.folder / "runs" / f"{strategy}-seed{i + 1}")
                for i in range(self.n_seeds) for strategy in self.strategies]

    def run_config(self, strategy: str) -> configs.ExperimentConfig:
        data = self.config.model_dump()
        data["active"]["strategy"] = strategy
        return configs.validate(data)


def _contents(folder: Path) -> set[str]:
    return {entry.name for entry in folder.iterdir()}


def _forget(folder: Path, made: bool) -> None:
    """Undo a failed creation: the folder goes if this call made it; else only temporary files do."""
    names = _CREATION_LEFTOVERS if made else {"experiment.toml.tmp", "experiment.json.tmp"}
    for name in names:
        try:
            (folder / name).unlink(missing_ok=True)
        except OSError:
            pass
    if made:
        _remove_empty(folder)


def _replace_experiment(folder: Path, force: bool) -> None:
    """Make room for a new experiment in a folder that holds something: with `force`, and only when
    that is an alstudio experiment, remove exactly the files it made; other files stay."""
    try:
        old = Experiment.open(folder)
    except UserInputError:
        old = None
    if not force:
        what = "another experiment" if old is not None else "other files"
        raise UserInputError(f"--out {folder}: the folder holds {what}; choose an empty folder or add --force")
    if old is None:
        raise UserInputError(f"--out {folder}: --force replaces only an alstudio experiment, and this folder is "
                             f"not one (no readable {MANIFEST}); choose an empty folder")
    for spec in old.runs():
        _remove_run(spec.folder)
    _remove_empty(folder / "runs")
    # The manifest goes first: a kill part-way leaves a folder that is no longer an experiment.
    for name in (MANIFEST, *OWN_FILES):
        for path in (folder / name, folder / f"{name}.tmp"):
            path.unlink(missing_ok=True)


def _remove_run(run: Path) -> None:
    """A run folder's journal (and its SQLite side files) and checkpoints, nothing else."""
    if not run.is_dir():
        return
    for entry in run.iterdir():
        if entry.name.startswith("journal.sqlite") and entry.is_file():
            entry.unlink()
    checkpoints = run / "checkpoints"
    if checkpoints.is_dir():
        for entry in checkpoints.iterdir():
            if entry.is_file() and entry.name.startswith("cycle-") and entry.suffix in (".pt", ".partial"):
                entry.unlink()
        _remove_empty(checkpoints)
    _remove_empty(run)


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty (someone else's files stay) or already gone


def json_text(data) -> str:
    return json.dumps(data, indent=2, allow_nan=True)


def write_text_atomically(path: Path, text: str) -> None:
    """A reader (or a process killed part-way) never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            handle.write(text)
        tmp.replace(path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise write_failure(err, path) from None


def write_json(path: Path, data) -> None:
    write_text_atomically(path, json_text(data))


"""A sweep folder: its manifest, its cells (each an ordinary experiment folder) and its locks.

    DIR/sweep.json           the manifest (SweepManifest): base config, axes, cells, strategies, seeds,
                             retries, how it runs, alstudio version. Written last, atomically: without
                             it the sweep never started.
    DIR/cells/<cell id>/     an experiment folder exactly as `alstudio run` writes it
    DIR/metrics.csv, DIR/summary.json, DIR/failures.json   derived (sweep/results.py, sweep/driver.py)
    DIR/.alstudio.lock       held by the one driver running the sweep (folder_lock.py)
    DIR/.run-locks/          one lock per run, taken by the worker process writing that run's journal

While a driver runs, it holds the sweep's lock and every cell's experiment lock, so nothing else
(`alstudio resume DIR/cells/X`, the workbench) writes a cell; the workers it dispatches write
different runs of a cell at once, each guarded by its own run lock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ... import __version__
from .. import config as configs
from ..errors import ConfigError, UserInputError
from ..experiment import Experiment, write_json
from ..folder_lock import LOCK_NAME, FolderLock
from .grid import Axis, Cell, GridError, cells_of, with_settings

MANIFEST = "sweep.json"
CELLS = "cells"
RUN_LOCKS = ".run-locks"
MAX_RETRIES = 10
# What a creation killed before sweep.json was written can leave: the sweep never started.
_CREATION_LEFTOVERS = {CELLS, LOCK_NAME, f"{MANIFEST}.tmp"}
SUPPORTED_ANNOTATORS = ("oracle", "noisy")


class ExecutionSettings(BaseModel):
    """How the sweep's runs are dispatched; `alstudio resume` reuses them unless told otherwise."""

    model_config = ConfigDict(extra="forbid", strict=True)
    engine: Literal["local", "ray"] = "local"
    address: str | None = None  # ray: "auto" or HOST:PORT joins a cluster; None starts a local one
    cpus_per_run: int = Field(1, ge=1, le=1024)
    gpus_per_run: float = Field(0.0, ge=0.0, le=64.0)
    max_parallel: int | None = Field(None, ge=1, le=100_000)  # local: None = cores // cpus_per_run


class _AxisEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    key: str
    values: list[Any] = Field(min_length=1)


class _CellEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+=-]*$")  # names a folder: no separators, no ..
    settings: dict[str, Any]


class SweepManifest(BaseModel):
    """sweep.json, read as strictly as experiment.json: it names the folders a driver writes into."""

    model_config = ConfigDict(extra="forbid", strict=True)
    alstudio: str
    base_config: dict[str, Any]
    axes: list[_AxisEntry]
    cells: list[_CellEntry] = Field(min_length=1)
    strategies: list[str] = Field(min_length=1)
    seeds: int = Field(ge=1, le=configs.MAX_REPETITIONS)
    retries: int = Field(ge=0, le=MAX_RETRIES)
    execution: ExecutionSettings = Field(default_factory=ExecutionSettings)


@dataclass(frozen=True)
class SweepCell:
    """A cell of the grid: its axis values and its experiment folder."""

    id: str
    settings: dict[str, Any]  # axis key -> value, in the grid's order
    folder: Path

    def experiment(self) -> Experiment:
        """The cell's experiment, for reading (Experiment.open)."""
        return Experiment.open(self.folder)


@dataclass
class Sweep:
    folder: Path
    base_config: configs.ExperimentConfig
    axes: tuple[Axis, ...]  # the strategy axis included, as given
    cells: tuple[SweepCell, ...]
    strategies: tuple[str, ...]
    seeds: int
    retries: int
    execution: ExecutionSettings
    # Held while this process drives the sweep (create, for_writing): the sweep's lock, then the cells'.
    _locks: list[FolderLock] = field(default_factory=list, repr=False)

    @property
    def cell_axes(self) -> tuple[Axis, ...]:
        """The axes that tell cells apart (every one but the strategy axis)."""
        names = {key for cell in self.cells for key in cell.settings}
        return tuple(axis for axis in self.axes if axis.key in names)

    @property
    def locked(self) -> bool:
        return bool(self._locks)

    @classmethod
    def create(cls, folder: str | Path, base_config: configs.ExperimentConfig, axes: list[Axis],
               strategies: list[str], seeds: int, retries: int = 2,
               execution: ExecutionSettings | None = None) -> Sweep:
        """A new sweep in the empty folder `folder`, every cell's experiment made, locked for this process."""
        folder = Path(folder)
        execution = execution or ExecutionSettings()
        strategies = _checked_strategies(strategies)
        if not 1 <= seeds <= configs.MAX_REPETITIONS:
            raise UserInputError(f"--seeds must be from 1 to {configs.MAX_REPETITIONS}, got {seeds}")
        if not 0 <= retries <= MAX_RETRIES:
            raise UserInputError(f"--retries must be from 0 to {MAX_RETRIES}, got {retries}")
        cells = cells_of(axes)
        configs_by_cell = {cell.id: cell_config(base_config, cell) for cell in cells}
        _check_folder(folder)
        lock = FolderLock(folder)
        made = not folder.exists()
        try:
            folder.mkdir(exist_ok=True)
            lock.acquire()
            leftovers = {entry.name for entry in folder.iterdir()} - {LOCK_NAME}
            if MANIFEST in leftovers:
                raise UserInputError(f"--out {folder}: the folder holds a sweep already; continue it with "
                                     f"alstudio resume {folder}, or choose an empty folder")
            if leftovers - _CREATION_LEFTOVERS:
                raise UserInputError(f"--out {folder}: the folder is not empty; choose an empty folder for the sweep")
            sweep = cls(folder, base_config, tuple(axes), (), tuple(strategies), seeds, retries, execution, [lock])
            sweep.cells = tuple(SweepCell(cell.id, cell.settings, folder / CELLS / cell.id) for cell in cells)
            (folder / CELLS).mkdir(exist_ok=True)
            for cell in sweep.cells:
                # force: only a creation interrupted before sweep.json can have left a cell here, unstarted.
                experiment = Experiment.create(cell.folder, configs_by_cell[cell.id], list(strategies), seeds,
                                               force=True)
                sweep._locks.append(experiment.lock)
            write_json(folder / MANIFEST, sweep.manifest().model_dump(mode="json"))  # last
        except OSError as err:
            _release(lock, locals().get("sweep"))
            raise UserInputError(f"--out {folder}: cannot be written ({err.strerror or err})") from None
        except BaseException:
            _release(lock, locals().get("sweep"))
            if made:
                _remove_if_empty(folder)
            raise
        return sweep

    def manifest(self) -> SweepManifest:
        return SweepManifest(
            alstudio=__version__, base_config=self.base_config.model_dump(mode="json"),
            axes=[_AxisEntry(key=a.key, values=list(a.values)) for a in self.axes],
            cells=[_CellEntry(id=c.id, settings=c.settings) for c in self.cells],
            strategies=list(self.strategies), seeds=self.seeds, retries=self.retries, execution=self.execution)

    @classmethod
    def open(cls, folder: str | Path) -> Sweep:
        """An existing sweep, for reading (see for_writing); a damaged sweep.json is one sentence."""
        folder = Path(folder)
        path = folder / MANIFEST
        if not path.is_file():
            if (folder / CELLS).is_dir():
                raise UserInputError(f"{folder}: the sweep's creation was interrupted before it started; "
                                     f"start it again with alstudio sweep --out {folder}")
            raise UserInputError(f"{folder}: not an alstudio sweep folder (no {MANIFEST})")
        try:
            manifest = SweepManifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
            base = configs.validate(configs.as_saved(manifest.base_config), MANIFEST)
        except (OSError, UnicodeDecodeError) as err:
            raise UserInputError(f"{path}: cannot be read ({getattr(err, 'strerror', None) or err})") from None
        except ValidationError as err:
            first = err.errors()[0]
            key = ".".join(str(part) for part in first["loc"]) or "the file"
            raise UserInputError(f"{path}: damaged sweep manifest ({key}: {first['msg']})") from None
        except ConfigError as err:
            raise UserInputError(f"{path}: damaged sweep manifest (base_config: {err})") from None
        except ValueError:
            raise UserInputError(f"{path}: damaged sweep manifest (not valid JSON)") from None
        try:
            strategies = _checked_strategies(manifest.strategies)
        except UserInputError as err:
            raise UserInputError(f"{path}: damaged sweep manifest ({err})") from None
        ids = [c.id for c in manifest.cells]
        if len(set(ids)) != len(ids):
            raise UserInputError(f"{path}: damaged sweep manifest (a cell id is listed twice)")
        cells = tuple(SweepCell(c.id, c.settings, folder / CELLS / c.id) for c in manifest.cells)
        axes = tuple(Axis(a.key, tuple(a.values)) for a in manifest.axes)
        return cls(folder, base, axes, cells, tuple(strategies), manifest.seeds, manifest.retries,
                   manifest.execution)

    def for_writing(self) -> Sweep:
        """This sweep, locked for this process: the sweep folder, then every cell's experiment folder
        (FolderInUseError naming the holder when another process writes either)."""
        if self._locks:
            return self
        locks = [FolderLock(self.folder)]
        try:
            locks[0].acquire()
            for cell in self.cells:
                locks.append(FolderLock(cell.folder).acquire())
        except BaseException:
            for lock in locks:
                lock.release()
            raise
        self._locks = locks
        return self

    def release(self) -> None:
        for lock in reversed(self._locks):
            lock.release()
        self._locks = []

    def run_lock(self, cell: SweepCell, run_name: str) -> FolderLock:
        """The lock of one run's journal, taken by the worker writing it (a file under DIR/.run-locks)."""
        return run_lock(self.folder, cell.id, run_name)


def run_lock(folder: Path, cell_id: str, run_name: str) -> FolderLock:
    # FolderLock locks a file named LOCK_NAME inside a folder: one folder per run.
    path = Path(folder) / RUN_LOCKS / cell_id / run_name
    path.mkdir(parents=True, exist_ok=True)
    return FolderLock(path)


def is_sweep(folder: str | Path) -> bool:
    """Whether `folder` is (or was being created as) a sweep folder rather than an experiment."""
    folder = Path(folder)
    return (folder / MANIFEST).exists() or ((folder / CELLS).is_dir() and not (folder / "experiment.json").exists())


def cell_config(base: configs.ExperimentConfig, cell: Cell) -> configs.ExperimentConfig:
    """The base config with the cell's axis values, validated: a combination can be refused (say a pool
    too small for the labels asked for) even though each value alone is fine."""
    try:
        config = configs.validate(with_settings(base, cell.settings), f"cell {cell.id}")
    except ConfigError as err:
        raise GridError(f"--grid cell {cell.id}: {err}") from None
    if config.annotator.kind not in SUPPORTED_ANNOTATORS:
        raise GridError(f"annotator.kind {config.annotator.kind!r}: a sweep supports the "
                        f"{' and '.join(SUPPORTED_ANNOTATORS)} annotators (use alstudio run or the workbench)")
    return config


def _checked_strategies(strategies: list[str]) -> list[str]:
    try:
        return configs.strategy_names(list(strategies))
    except ValueError as err:
        raise UserInputError(f"--strategies {err}") from None


def _check_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise UserInputError(f"--out {folder}: is a file, not a folder")
    if not folder.parent.is_dir():
        raise UserInputError(f"--out {folder}: the folder {folder.parent} does not exist")


def _release(lock: FolderLock, sweep: Sweep | None) -> None:
    if sweep is not None:
        sweep.release()
    lock.release()


def _remove_if_empty(folder: Path) -> None:
    for path in (folder / LOCK_NAME, folder / CELLS):
        try:
            path.unlink() if path.name == LOCK_NAME else path.rmdir()
        except OSError:
            pass
    try:
        folder.rmdir()
    except OSError:
        pass


def check_cells_run_here(cell_configs: list[configs.ExperimentConfig], strategies: list[str],
                         on_this_machine: bool = True) -> None:
    """What `alstudio run` checks before it makes a folder, for every cell: the architecture serves the
    strategies and (for runs on this machine) the device exists. Raises the one-sentence UserInputError."""
    from ..models import check_architecture_serves
    from ..training import pick_device

    for architecture in {c.model.architecture for c in cell_configs}:
        check_architecture_serves(architecture, strategies)
    if on_this_machine:
        for device in {c.training.device for c in cell_configs}:
            pick_device(device)

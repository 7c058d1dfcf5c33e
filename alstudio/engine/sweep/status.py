"""Where a sweep stands, per cell: runs done / running / failed / pending, cycles, and the time left.

`sweep_status` reads the journals read-only and takes no lock, so the workbench (or a second
terminal) can watch a sweep another process drives. The driver builds the same SweepStatus from
what it knows, reading only the journals of the runs it has in flight.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..experiment import RunSpec
from ..folder_lock import is_locked
from ..journal import Journal
from ..progress import eta_text
from .folder import Sweep

FAILURES = "failures.json"
State = Literal["pending", "running", "finished", "failed"]
RunKey = tuple[str, str, int]  # (cell id, strategy, seed index)


@dataclass(frozen=True)
class RunState:
    state: State
    cycles: int  # evaluated cycles in the journal (a run has active.cycles + 1)


@dataclass(frozen=True)
class CellStatus:
    cell: str
    runs: int
    done: int
    running: int
    failed: int
    cycles_done: int
    cycles_total: int
    eta_seconds: float | None = None  # None until measured, or when nothing is left

    @property
    def pending(self) -> int:
        return self.runs - self.done - self.running - self.failed

    def line(self, width: int = 0) -> str:
        """"bias_strength=0.7  3/4 done, 1 running, 0 failed  about 1 min 05 s left"."""
        text = f"{self.cell:<{width}}  {self.done}/{self.runs} done, {self.running} running, {self.failed} failed"
        if self.done + self.failed < self.runs:
            text += f"  {eta_text(self.eta_seconds)}".rstrip()
        return text


@dataclass(frozen=True)
class SweepStatus:
    cells: tuple[CellStatus, ...]
    eta_seconds: float | None  # the whole sweep
    driver_running: bool

    runs = property(lambda self: sum(c.runs for c in self.cells))
    done = property(lambda self: sum(c.done for c in self.cells))
    running = property(lambda self: sum(c.running for c in self.cells))
    failed = property(lambda self: sum(c.failed for c in self.cells))

    def lines(self) -> list[str]:
        width = max((len(c.cell) for c in self.cells), default=0)
        return [c.line(width) for c in self.cells]


def run_specs(sweep: Sweep) -> dict[RunKey, RunSpec]:
    """Every run of the sweep by key, cell by cell, in each cell's run order (seed by seed)."""
    specs = {}
    for cell in sweep.cells:
        for spec in cell.experiment().runs():
            specs[(cell.id, spec.strategy, spec.index)] = spec
    return specs


def read_run_state(spec: RunSpec, driver_running: bool) -> RunState:
    """A run as its journal tells it; 'running' only while a driver runs the sweep (a journal a killed
    process left 'running' is pending: resume goes on with it)."""
    if Journal.is_unstarted(spec.journal_path):
        return RunState("pending", 0)
    with Journal.open(spec.journal_path, read_only=True) as journal:
        status, last = journal.status, journal.last_cycle()
    cycles = 0 if last is None else last + 1
    if status == "finished":
        return RunState("finished", cycles)
    if status == "failed":
        return RunState("failed", cycles)
    return RunState("running" if status == "running" and driver_running else "pending", cycles)


def read_failures(folder: Path) -> dict[RunKey, dict]:
    """failures.json: the runs that failed every attempt, by key (empty when there is none or it is unreadable)."""
    try:
        entries = json.loads((Path(folder) / FAILURES).read_text(encoding="utf-8"))
        return {(e["cell"], e["strategy"], int(e["seed"]) - 1): e for e in entries}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def sweep_status(sweep: Sweep) -> SweepStatus:
    """Per cell: runs done, running, failed and pending, from the journals (read-only, no lock), while
    a driver runs or after. No ETA: only the driver measures its pace."""
    driver = is_locked(sweep.folder)
    failures = read_failures(sweep.folder)
    states = {}
    for key, spec in run_specs(sweep).items():
        state = read_run_state(spec, driver)
        if key in failures and state.state == "pending":
            state = RunState("failed", state.cycles)  # failed before its journal could say so
        states[key] = state
    return build_status(sweep, states, _cycles_per_run(sweep), None, driver)


def _cycles_per_run(sweep: Sweep) -> dict[str, int]:
    return {cell.id: cell.experiment().config.active.cycles + 1 for cell in sweep.cells}


def build_status(sweep: Sweep, states: dict[RunKey, RunState], cycles_per_run: dict[str, int],
                 pace: Pace | None, driver_running: bool) -> SweepStatus:
    """Counts per cell; with a measured pace, each cell's ETA: runs are dispatched cell by cell, so a
    cell is done once its own cycles and those of the cells before it are."""
    by_cell: dict[str, list[RunState]] = {cell.id: [] for cell in sweep.cells}
    for (cell_id, _, _), state in states.items():
        by_cell[cell_id].append(state)
    cells, ahead = [], 0
    for cell in sweep.cells:
        mine = by_cell[cell.id]
        per_run = cycles_per_run[cell.id]
        total = per_run * len(mine)
        done_cycles = sum(per_run if s.state == "finished" else min(s.cycles, per_run) for s in mine)
        left = sum(per_run - min(s.cycles, per_run) for s in mine if s.state in ("pending", "running"))
        ahead += left
        eta = pace.seconds_for(ahead) if pace is not None and left else None
        cells.append(CellStatus(cell.id, len(mine), sum(s.state == "finished" for s in mine),
                                sum(s.state == "running" for s in mine), sum(s.state == "failed" for s in mine),
                                done_cycles, total, eta))
    return SweepStatus(tuple(cells), pace.seconds_for(ahead) if pace is not None and ahead else None,
                       driver_running)


class Pace:
    """Cycles finished per second by all the workers together, measured from the first cycle this
    driver saw finish (so starting the workers, torch's import and all, is not taken for work)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.first: tuple[float, int] | None = None  # (when, cycles done) at the first cycle seen finishing
        self.baseline: int | None = None  # cycles done when the driver began (earlier drivers' work)
        self.latest = 0

    def observe(self, cycles_done: int) -> None:
        if self.baseline is None:
            self.baseline = cycles_done
        elif self.first is None and cycles_done > self.baseline:
            self.first = (self.clock(), cycles_done)
        self.latest = cycles_done

    def seconds_for(self, cycles: int) -> float | None:
        if self.first is None:
            return None
        since, at = self.first
        made, elapsed = self.latest - at, self.clock() - since
        if made <= 0 or elapsed <= 0:
            return None
        return cycles * elapsed / made

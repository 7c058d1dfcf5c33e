"""Drives a sweep: prepares the shared inputs once, dispatches every unfinished run to an executor,
retries failures, records the runs that failed every attempt, and rebuilds the derived files.

Calling run_sweep again on the same folder resumes: finished runs are never run again (each run's
journal says whether it finished), unfinished ones go on from their journal.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import UserInputError
from ..experiment import write_json
from ..paths import cache_dir
from ..results import write_results
from ..runner import PreparationProgress, prepare
from .aggregate import write_sweep_results
from .execution import RunOutcome, RunTask
from .executors import Executor
from .folder import Sweep
from .status import FAILURES, Pace, RunKey, RunState, SweepStatus, build_status, read_run_state, run_specs

PROGRESS_EVERY_SECONDS = 0.5


@dataclass(frozen=True)
class FailedRun:
    cell: str
    strategy: str
    seed: int  # 1-based, as run folders and metrics.csv number seeds
    attempts: int
    message: str
    traceback: str

    def as_dict(self) -> dict:
        return {"cell": self.cell, "strategy": self.strategy, "seed": self.seed, "attempts": self.attempts,
                "message": self.message, "traceback": self.traceback}


@dataclass(frozen=True)
class SweepOutcome:
    finished: int  # runs finished, this driver's and earlier ones'
    failed: tuple[FailedRun, ...]
    stopped: bool  # a stop came before every run ended (resume goes on)

    @property
    def complete(self) -> bool:
        return not self.failed and not self.stopped


def prepare_inputs(sweep: Sweep, progress: PreparationProgress | None = None,
                   cancel: threading.Event | None = None, workers: int | None = None) -> bool:
    """Each distinct dataset and pretrained trunk of the cells, made once into the cache before any run
    starts, so that workers find them there. False when cancelled."""
    seen = set()
    for cell in sweep.cells:
        config = cell.experiment().config
        key = (config.dataset.model_dump_json(), config.model.model_dump_json() if config.model.starts_trained else "")
        if key in seen:
            continue
        seen.add(key)
        if prepare(config, progress, cancel, workers) is None:
            return False
    return True


def run_sweep(sweep: Sweep, executor: Executor, on_progress: Callable[[SweepStatus], None] | None = None,
              stop_event: threading.Event | None = None, on_prepare: PreparationProgress | None = None,
              torch_threads: int = 1) -> SweepOutcome:
    """Run every unfinished run of `sweep` (locked with for_writing) on `executor`. Usable from a
    worker thread: `stop_event` stops cooperatively (running runs end 'stopped', resumable), and
    `on_progress` gets a SweepStatus at most every PROGRESS_EVERY_SECONDS and at each run's end."""
    if not sweep.locked:
        raise UserInputError(f"{sweep.folder}: lock the sweep (Sweep.for_writing) before running it")
    stop_event = stop_event or threading.Event()
    specs = run_specs(sweep)
    cycles = {cell.id: cell.experiment().config.active.cycles + 1 for cell in sweep.cells}
    states = {key: read_run_state(spec, driver_running=False) for key, spec in specs.items()}
    pending = [key for key, state in states.items() if state.state != "finished"]
    failed: dict[RunKey, FailedRun] = {}
    if not pending:  # nothing to start an executor (or a Ray cluster) for
        write_json(sweep.folder / FAILURES, [])
        write_sweep_results(sweep)
        return SweepOutcome(_count(states, "finished"), (), False)
    if not prepare_inputs(sweep, on_prepare, stop_event):
        return SweepOutcome(_count(states, "finished"), (), True)
    where = str(cache_dir().resolve())
    in_flight: set[RunKey] = set()
    pace = Pace()
    try:
        executor.start()
    except UserInputError as err:  # say, no Ray cluster at --address: the sweep is made and waits
        raise UserInputError(f"{err}; the sweep in {sweep.folder} is saved: continue it with "
                             f"alstudio resume {sweep.folder} once that is put right") from None
    try:
        for key in pending:
            cell_id, strategy, index = key
            executor.submit(RunTask(str(sweep.folder.resolve()), cell_id, strategy, index, where, torch_threads))
            in_flight.add(key)
            states[key] = RunState("pending", states[key].cycles)
        stopping = False
        last_report = 0.0
        while in_flight:
            if stop_event.is_set() and not stopping:
                executor.stop()
                stopping = True
            ended = executor.completed(timeout=0.2)
            for task, outcome in ended:
                in_flight.discard(task.key)
                if _ends(task, outcome, sweep.retries, stopping, failed):
                    states[task.key] = read_run_state(specs[task.key], driver_running=False)
                    _write_cell_results(sweep, task.cell_id)
                else:
                    executor.submit(task.again())
                    in_flight.add(task.key)
            if on_progress and (ended or time.monotonic() - last_report >= PROGRESS_EVERY_SECONDS):
                for key in in_flight:  # only these journals change while we wait
                    states[key] = read_run_state(specs[key], driver_running=True)
                shown = {k: RunState("failed", s.cycles) if k in failed else s for k, s in states.items()}
                pace.observe(sum(min(s.cycles, cycles[k[0]]) for k, s in states.items()))
                on_progress(build_status(sweep, shown, cycles, pace, True))
                last_report = time.monotonic()
    except KeyboardInterrupt:  # Ctrl-C: what is queued must not start while close() waits for the rest
        executor.stop()
        raise
    finally:
        executor.close()
        write_json(sweep.folder / FAILURES, [f.as_dict() for f in failed.values()])
    write_sweep_results(sweep)
    return SweepOutcome(_count(states, "finished"), tuple(failed.values()),
                        any(s.state != "finished" for k, s in states.items() if k not in failed))


def _ends(task: RunTask, outcome: RunOutcome, retries: int, stopping: bool, failed: dict) -> bool:
    """Whether this attempt is the run's last (finished, stopped, or failed with no retry left)."""
    if outcome.status != "failed":
        failed.pop(task.key, None)
        return True
    if task.attempt <= retries and not stopping:
        return False
    cell, strategy, index = task.key
    failed[task.key] = FailedRun(cell, strategy, index + 1, task.attempt, outcome.message, outcome.traceback)
    return True


def _write_cell_results(sweep: Sweep, cell_id: str) -> None:
    """The cell's own metrics.csv and summary.json, as `alstudio run` keeps them after every run."""
    cell = next(c for c in sweep.cells if c.id == cell_id)
    write_results(cell.experiment())


def _count(states: dict[RunKey, RunState], state: str) -> int:
    return sum(s.state == state for s in states.values())

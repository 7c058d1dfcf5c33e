"""One run of a sweep, executed in a worker process (a local pool's or a Ray task's).

Everything a worker needs travels in a small picklable RunTask; everything it says back is a
RunOutcome. The journal is the record: the worker writes it exactly as `alstudio run` does, and
returns only how the attempt ended.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import UserInputError
from ..folder_lock import FolderInUseError
from .folder import run_lock

RUN_LOCK_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class RunTask:
    """One (cell, strategy, seed) run: the RunSpec of a cell's experiment, by name."""

    sweep_folder: str  # or, with cell_id "", an experiment folder whose runs execute in parallel
    cell_id: str
    strategy: str
    index: int  # the seed's index in the cell's experiment.runs()
    cache_dir: str  # the driver's dataset and trunk cache, where it prepared what the run needs
    torch_threads: int = 1
    attempt: int = 1

    @property
    def key(self) -> tuple[str, str, int]:
        return self.cell_id, self.strategy, self.index

    @property
    def experiment_folder(self) -> Path:
        return Path(self.sweep_folder) / "cells" / self.cell_id if self.cell_id else Path(self.sweep_folder)

    @property
    def run_name(self) -> str:
        return f"{self.strategy}-seed{self.index + 1}"  # as Experiment.runs() names run folders

    @property
    def label(self) -> str:
        return f"{self.cell_id}: {self.strategy} seed {self.index + 1}"

    def again(self) -> RunTask:
        return RunTask(self.sweep_folder, self.cell_id, self.strategy, self.index, self.cache_dir,
                       self.torch_threads, self.attempt + 1)


@dataclass(frozen=True)
class RunOutcome:
    status: Literal["finished", "failed", "stopped"]
    message: str = ""
    traceback: str = ""  # a bug's traceback; empty for a known problem (disk, device, file)
    seconds: float = 0.0


def execute_run(task: RunTask, stop: threading.Event | None = None) -> RunOutcome:
    """Run (or resume) one run to its end; never raises for the run's own errors."""
    started = time.perf_counter()
    try:
        outcome = _execute(task, stop or threading.Event())
    except UserInputError as err:
        outcome = RunOutcome("failed", str(err))
    except Exception as err:  # reported to the driver, which retries or records it
        outcome = RunOutcome("failed", str(err) or err.__class__.__name__, traceback.format_exc())
    return RunOutcome(outcome.status, outcome.message, outcome.traceback, time.perf_counter() - started)


def _execute(task: RunTask, stop: threading.Event) -> RunOutcome:
    if task.cache_dir:
        os.environ["ALSTUDIO_CACHE_DIR"] = task.cache_dir
    import torch

    from ..annotators import build_annotator
    from ..data import load_or_generate
    from ..experiment import Experiment
    from ..loop import Failed, Finished, RunControl, run
    from ..runner import open_or_create_journal

    torch.set_num_threads(task.torch_threads)
    experiment = Experiment.open(task.experiment_folder)
    spec = next(s for s in experiment.runs() if (s.strategy, s.index) == (task.strategy, task.index))
    lock = run_lock(Path(task.sweep_folder), task.cell_id, task.run_name)
    if not _wait_for(lock, stop):
        return RunOutcome("stopped")
    try:
        with open_or_create_journal(experiment, spec) as journal:
            if journal.status == "finished":  # done by an earlier attempt or driver
                return RunOutcome("finished")
            dataset, _ = load_or_generate(journal.config.dataset, workers=1)  # the driver cached it
            annotator = build_annotator(journal.config, spec.seed)
            control = RunControl()
            watcher = _forward_stop(stop, control)
            outcome = RunOutcome("stopped")
            try:
                # Iterated to its end: closing the generator early would mark a finished run 'stopped'.
                for event in run(journal, dataset, annotator, control, explain=False):
                    if isinstance(event, Failed):
                        outcome = RunOutcome("failed", event.message, event.traceback)
                    elif isinstance(event, Finished):
                        outcome = RunOutcome("finished")
            finally:
                control.stop_event.set()  # ends the watcher
                watcher.join()
                annotator.close()
            return outcome
    finally:
        lock.release()


def _wait_for(lock, stop: threading.Event) -> bool:
    """Take the run's lock, waiting while another worker still writes the run (say, one started by a
    driver that was killed); False when stopped meanwhile."""
    while not stop.is_set():
        try:
            lock.acquire()
            return True
        except FolderInUseError:
            stop.wait(RUN_LOCK_POLL_SECONDS)
    return False


def _forward_stop(stop: threading.Event, control) -> threading.Thread:
    """The driver's stop (an event shared with the process) becomes the loop's cooperative stop."""
    def watch() -> None:
        while not control.stop_event.is_set():
            if stop.wait(0.2):
                control.stop()
                return
    thread = threading.Thread(target=watch, name="sweep-stop-watch", daemon=True)
    thread.start()
    return thread

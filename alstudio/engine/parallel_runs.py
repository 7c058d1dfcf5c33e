"""One experiment's runs side by side, one per worker process (the sweeps' LocalExecutor), each with
fewer torch threads: the small batches of an active-learning run keep one core busy far better than
two (benchmarks/training_overhead.py), and threads of two processes never wait for one another.

The journals are the record, as always: each worker writes its run's journal exactly as a sequential
run does, and the caller hears of each finished cycle by reading the journals (read-only).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from .errors import UserInputError
from .experiment import Experiment, RunSpec
from .journal import Journal
from .paths import cache_dir
from .runner import unfinished_runs
from .sweep.execution import RunOutcome, RunTask
from .sweep.executors import LocalExecutor

# Only simulated annotators answer in a worker: a person, or an LLM's flags, need the caller's process.
PARALLEL_ANNOTATORS = ("oracle", "noisy")
POLL_SECONDS = 0.5
JOBS_ENV = "ALSTUDIO_JOBS"  # this machine's default for --jobs


@dataclass(frozen=True)
class Layout:
    """How many runs execute at once, and with how many torch threads each."""

    jobs: int
    threads: int


def choose_layout(experiment: Experiment, jobs: int | None, device_type: str, cores: int | None = None) -> Layout:
    """`jobs` None (and no ALSTUDIO_JOBS): one run per core on a CPU while there are runs to share them
    (never more jobs than unfinished runs), the cores split evenly; one run at a time on a GPU or where
    a run needs this process (a person or an LLM answers). An explicit `jobs` is checked, then taken."""
    cores = cores or os.cpu_count() or 1
    runs = len(unfinished_runs(experiment))
    kind = experiment.config.annotator.kind
    if jobs is None and os.environ.get(JOBS_ENV):
        try:
            jobs = int(os.environ[JOBS_ENV])
        except ValueError:
            raise UserInputError(f"{JOBS_ENV} must be a whole number, got {os.environ[JOBS_ENV]!r}") from None
    if jobs is not None:
        if jobs < 1:
            raise UserInputError(f"--jobs must be 1 or more, got {jobs}")
        if jobs > 1 and kind not in PARALLEL_ANNOTATORS:
            raise UserInputError(f"--jobs {jobs}: runs with the {kind} annotator run one at a time (they answer "
                                 "in this process); use --jobs 1")
    elif device_type != "cpu" or kind not in PARALLEL_ANNOTATORS:
        jobs = 1
    else:
        jobs = min(cores, runs)
    jobs = max(1, min(jobs, runs))
    return Layout(jobs, max(1, cores // jobs))


def run_in_parallel(experiment: Experiment, layout: Layout,
                    on_cycle: Callable[[RunSpec, dict], None],
                    stop_event: threading.Event | None = None) -> list[tuple[RunSpec, RunOutcome]]:
    """Every unfinished run of `experiment` (locked by this process; its dataset and trunk already
    prepared in the cache), `layout.jobs` at once. `on_cycle(spec, cycle)` gets each cycle as the
    journal stores it (Journal.cycles), in order per run, as soon as it is written. Returns each run's
    outcome; a failed run does not stop the others."""
    stop_event = stop_event or threading.Event()
    pending = unfinished_runs(experiment)
    specs = {(spec.strategy, spec.index): spec for spec in pending}
    reported = {key: _cycles_written(spec) for key, spec in specs.items()}  # a resumed run's old cycles
    executor = LocalExecutor(layout.jobs, layout.threads)
    where = str(cache_dir().resolve())
    outcomes: list[tuple[RunSpec, RunOutcome]] = []
    executor.start()
    try:
        for spec in specs.values():
            executor.submit(RunTask(str(experiment.folder.resolve()), "", spec.strategy, spec.index, where,
                                    layout.threads))
        in_flight = set(specs)
        stopping = False
        while in_flight:
            if stop_event.is_set() and not stopping:
                executor.stop()
                stopping = True
            ended = executor.completed(timeout=POLL_SECONDS)
            for key in in_flight:
                _report_new_cycles(specs[key], reported, key, on_cycle)
            for task, outcome in ended:
                key = (task.strategy, task.index)
                in_flight.discard(key)
                _report_new_cycles(specs[key], reported, key, on_cycle)
                outcomes.append((specs[key], outcome))
    except KeyboardInterrupt:  # Ctrl-C: the workers' loops mark their journals stopped; nothing queued starts
        executor.stop()
        raise
    finally:
        executor.close()
    return outcomes


def _cycles_written(spec: RunSpec) -> int:
    if Journal.is_unstarted(spec.journal_path):
        return 0
    with Journal.open(spec.journal_path, read_only=True) as journal:
        return len(journal.cycles())


def _report_new_cycles(spec: RunSpec, reported: dict, key, on_cycle) -> None:
    if Journal.is_unstarted(spec.journal_path):
        return
    with Journal.open(spec.journal_path, read_only=True) as journal:
        cycles = journal.cycles()
    for cycle in cycles[reported[key]:]:
        on_cycle(spec, cycle)
    reported[key] = len(cycles)

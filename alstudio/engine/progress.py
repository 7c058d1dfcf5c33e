"""How far an experiment has come: a fraction that never goes back, and the time left, estimated
from the stage times measured so far.

Every run does the same cycles, and a cycle trains for `epochs` epochs on a labeled set that grows
by `query_size` each cycle, evaluates, and (but for the last) scores the pool. So the work of a
cycle is estimated as epochs x (seconds per labeled image and epoch) x labels + evaluation +
scoring, each measured as the run goes; time spent paused or waiting for a person is not work.
Until every stage has been timed once, the estimates are guesses: the fraction moves, but no ETA
is given.

This is the one place that turns the runner's events into a fraction, a stage line and an ETA
(`ExperimentProgress.report`): the workbench and `alstudio run`'s bar both draw its ProgressReport.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from .loop import CycleResult, Finished, Progress

# Only the ratio of these guesses matters, and only until a stage has been timed.
_GUESS = {"epoch_per_label": 7e-4, "evaluating": 0.2, "scoring": 1.5}
PREPARATION_SHARE = 0.1  # of the bar, when the dataset or the pretrained trunk has to be made first


@dataclass(frozen=True)
class Estimate:
    fraction: float  # 0..1 of the experiment, never less than the last one reported
    eta_seconds: float | None  # None until measured, and while waiting for a person


@dataclass(frozen=True)
class ProgressReport:
    """Where the experiment stands after one event: what the workbench shows and the CLI's bar draws."""

    run: str  # the run's label; "" while the dataset or the trunk is prepared
    stage: str  # the loop's stage, a preparation step, "cycle done" or "run finished"
    done: int
    total: int
    cycle: int  # -1 while preparing
    fraction: float  # 0..1 of the experiment, never less than the last one reported
    eta_seconds: float | None

    def stage_line(self) -> str:
        """"bald seed 1, cycle 3: training epoch 2/15"."""
        stage, run = self.stage, self.run
        if not run:
            return f"{stage} ({self.done:,} of {self.total:,})" if self.total else stage
        if stage == "run finished":
            return f"{run}: finished"
        if stage == "cycle done":
            return f"{run}, cycle {self.cycle} done"
        if stage == "training":
            stage = f"training epoch {self.done}/{self.total}"
        elif stage == "waiting for labels":
            stage = f"waiting for labels ({self.done} of {self.total})"
        return f"{run}, cycle {self.cycle}: {stage}"


def eta_text(seconds: float | None) -> str:
    """"about 2 min 05 s left", or "" while there is no estimate."""
    if seconds is None:
        return ""
    minutes, seconds = divmod(int(seconds), 60)
    return f"about {minutes} min {seconds:02d} s left" if minutes else f"about {seconds} s left"


class ExperimentProgress:
    """Fed with the loop's events in order; `paused_seconds` is the run's total time paused so far."""

    def __init__(self, n_runs: int, cycles: int, epochs: int, initial_labels: int, query_size: int,
                 clock: Callable[[], float] = time.perf_counter):
        self.n_runs, self.cycles, self.epochs = n_runs, cycles, epochs
        self.initial_labels, self.query_size = initial_labels, query_size
        self.clock = clock
        self._measured: dict[str, list[float]] = {"epoch_per_label": [], "evaluating": [], "scoring": []}
        self._prepared = False
        self._fraction = 0.0
        self._mark: tuple[float, float] = (clock(), 0.0)  # (clock, paused_seconds) of the last event
        self._timing: str | None = None  # what the time since the last event was spent on
        self._position = (0, 0, 0.0)  # run, cycle, work done within the cycle (seconds)
        self._waiting = False
        self._run: int | None = None  # the run the last event came from

    @classmethod
    def for_experiment(cls, experiment, clock: Callable[[], float] = time.perf_counter) -> ExperimentProgress:
        config = experiment.config
        return cls(len(experiment.runs()), config.active.cycles, config.training.epochs,
                   config.active.initial_labels, config.active.query_size, clock)

    # -- reports: what the workbench and the CLI show --------------------------------------------
    def report_preparing(self, stage: str, step: int, steps: int, done: int, total: int) -> ProgressReport:
        """runner.prepare's progress(stage, step, steps, done, total)."""
        estimate = self.preparing(step, steps, done, total)
        return ProgressReport("", stage, done, total, -1, estimate.fraction, estimate.eta_seconds)

    def report(self, run: int, label: str, event, paused_seconds: float = 0.0) -> ProgressReport | None:
        """One (run, event) of runner.run_experiment, run being its index in experiment.runs(); None for
        events that move nothing (labels asked for, a failure)."""
        if run != self._run:
            # The loop says nothing as a run begins, and its first event ends the first epoch: that epoch is
            # timed from the event before (set-up included), not from now as if it took no time.
            self._run, self._timing, self._waiting = run, "training", False
        if isinstance(event, Progress):
            estimate = self.stage(run, event.cycle, event.stage, event.done, event.total, paused_seconds)
            return ProgressReport(label, event.stage, event.done, event.total, event.cycle, estimate.fraction,
                                  estimate.eta_seconds)
        if isinstance(event, CycleResult):
            estimate = self.cycle_done(run, event.cycle, paused_seconds)
            return ProgressReport(label, "cycle done", event.cycle + 1, self.cycles + 1, event.cycle,
                                  estimate.fraction, estimate.eta_seconds)
        if isinstance(event, Finished):
            estimate = self.run_done(run)
            return ProgressReport(label, "run finished", event.cycles, event.cycles, event.cycles,
                                  estimate.fraction, estimate.eta_seconds)
        return None

    # -- events ----------------------------------------------------------------------------------
    def preparing(self, step: int, steps: int, done: int, total: int) -> Estimate:
        """Step `step` (0-based) of `steps` made before the runs: the dataset, then the trunk."""
        self._prepared = True
        self._mark = (self.clock(), self._mark[1])  # the first run's first epoch is timed from here
        return self._report(PREPARATION_SHARE * (step + done / max(total, 1)) / steps, None)

    def run_started(self, paused_seconds: float = 0.0) -> None:
        """A run begins (or resumes): its first epoch is timed from here."""
        self._mark = (self.clock(), paused_seconds)
        self._timing = "training"

    def stage(self, run: int, cycle: int, stage: str, done: int, total: int, paused_seconds: float = 0.0) -> Estimate:
        """A Progress event of the loop (stage: training, evaluating, scoring, waiting for labels)."""
        self._close_interval(cycle, paused_seconds, finished_epoch=stage == "training")
        self._waiting = stage == "waiting for labels"
        if stage == "training":
            within = done * self._epoch(cycle)
            self._timing = "training" if done < total else None
        elif stage == "evaluating":
            within, self._timing = self.epochs * self._epoch(cycle), "evaluating"
        elif stage == "scoring":
            within, self._timing = self.epochs * self._epoch(cycle) + self._seconds("evaluating"), "scoring"
        else:  # waiting for a person: the cycle's machine work is done; the next epoch starts afterwards
            run, cycle, within = run, cycle + 1, 0.0
            self._timing = "training"
        self._position = (run, cycle, within)
        return self._estimate()

    def cycle_done(self, run: int, cycle: int, paused_seconds: float = 0.0) -> Estimate:
        self._close_interval(cycle, paused_seconds, finished_epoch=False)
        self._timing, self._waiting = "training", False
        self._position = (run, cycle + 1, 0.0)
        return self._estimate()

    def run_done(self, run: int) -> Estimate:
        self._position, self._timing, self._waiting = (run + 1, 0, 0.0), None, False
        return self._estimate()

    # -- estimates -------------------------------------------------------------------------------
    def _close_interval(self, cycle: int, paused_seconds: float, finished_epoch: bool) -> None:
        now = self.clock()
        if self._timing is not None and not self._waiting:
            seconds = max(now - self._mark[0] - (paused_seconds - self._mark[1]), 0.0)
            if self._timing == "training" and finished_epoch:
                self._measured["epoch_per_label"].append(seconds / self._labels(cycle))
            elif self._timing in ("evaluating", "scoring"):
                self._measured[self._timing].append(seconds)
        self._mark = (now, paused_seconds)

    def _labels(self, cycle: int) -> int:
        return self.initial_labels + cycle * self.query_size

    def _seconds(self, kind: str) -> float:
        values = self._measured[kind][-5:]  # recent ones: the machine's load changes
        return sum(values) / len(values) if values else _GUESS[kind]

    def _epoch(self, cycle: int) -> float:
        return self._seconds("epoch_per_label") * self._labels(cycle)

    def _cycles_work(self, count: int) -> float:
        """Work of cycles 0..count-1 of a run."""
        labels = count * self.initial_labels + self.query_size * count * (count - 1) // 2
        scored = min(count, self.cycles)  # the last cycle queries nothing
        return (self.epochs * self._seconds("epoch_per_label") * labels + count * self._seconds("evaluating")
                + scored * self._seconds("scoring"))

    def _estimate(self) -> Estimate:
        run, cycle, within = self._position
        per_run = self._cycles_work(self.cycles + 1)
        done = run * per_run + self._cycles_work(min(cycle, self.cycles + 1)) + within
        total = self.n_runs * per_run
        share = PREPARATION_SHARE if self._prepared else 0.0
        # total is 0 only when every stage was timed at 0 s (a coarse clock): nothing to divide then.
        fraction = share + (1 - share) * (min(done / total, 1.0) if total > 0 else 0.0)
        timed = all(self._measured[kind] for kind in ("epoch_per_label", "evaluating")) and (
            self._measured["scoring"] or cycle >= self.cycles)
        eta = None if self._waiting or not timed else max(total - done, 0.0)
        return self._report(fraction, eta)

    def _report(self, fraction: float, eta: float | None) -> Estimate:
        self._fraction = max(self._fraction, min(fraction, 1.0))
        return Estimate(self._fraction, eta)

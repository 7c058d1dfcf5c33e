"""Runs an experiment on a QThread and re-emits the engine's events as signals with typed payloads.

What crosses to the GUI thread is a frozen dataclass of plain data (numbers, strings, tuples; the
dataset's read-only arrays), never a tensor, a model or a string-keyed dict: the engine's
ProgressReport and Failed, and the CycleReport and LabelRequest below. Pause, step and stop are
cooperative (engine.loop.RunControl).
"""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from ..engine.annotators import HumanAnnotator, build_annotator
from ..engine.experiment import Experiment
from ..engine.loop import CycleResult, Failed, NeedLabels, RunControl
from ..engine.progress import ExperimentProgress
from ..engine.results import LLMAccounting, metrics_row
from ..engine.runner import prepare, run_experiment
from ..engine.strategies import STRATEGIES


@dataclass(frozen=True)
class QueriedSample:
    """One sample of a queried batch, for the gallery and the labeling hints."""

    sample: int  # index into the pool
    class_index: int
    group: int
    score: float  # under the strategy that queried it; NaN where that is a random key
    scores: tuple[tuple[str, float], ...]  # (strategy, score) under every deterministic strategy
    probs: tuple[float, ...] | None  # the model's MC-averaged prediction


@dataclass(frozen=True)
class CycleReport:
    """A run's cycle result (loop.CycleResult), as the plots, the counters and the gallery show it."""

    run: str
    strategy: str
    seed: int  # 1-based, as in metrics.csv
    cycle: int
    n_labeled: int
    # The metrics.csv row, columns named after the config's groups: the same record collect_rows reads
    # from the journals, which the plots (shared with `alstudio report`) draw; the window only hands it on.
    row: dict
    llm: LLMAccounting  # what the window shows of the LLM annotator
    queried: tuple[QueriedSample, ...]


@dataclass(frozen=True)
class LabelRequest:
    """Samples waiting for a person (loop.NeedLabels): all of a human batch, or what the LLM flagged."""

    run: str
    strategy: str
    cycle: int
    samples: tuple[int, ...]
    votes: dict[int, tuple[str | None, ...]]  # sample -> the LLM's answers; empty for a human batch


class _Worker(QObject):
    # object: the frozen payload itself crosses the thread (a dict would become a QVariantMap and lose its order).
    progress = Signal(object)  # engine.progress.ProgressReport
    dataset_ready = Signal(object)  # SynbolsDataset (read-only arrays, shared)
    cycle_result = Signal(object)  # CycleReport
    need_labels = Signal(object)  # LabelRequest
    failed = Signal(object)  # engine.loop.Failed
    done = Signal(bool)  # True when every run finished, False when stopped

    def __init__(self, experiment: Experiment, control: RunControl, human: HumanAnnotator,
                 step: threading.Event, workers: int | None):
        super().__init__()
        self.experiment, self.control, self.human, self.step, self.workers = experiment, control, human, step, workers

    def _annotator_for(self, config, seed):
        # The workbench's labeller answers a human batch, and what the LLM annotator flags.
        return self.human if config.annotator.kind == "human" else build_annotator(config, seed, self.human)

    @Slot()
    def run(self) -> None:
        try:
            self._run()
        except Exception as err:  # shown in a dialog; the journals are consistent by construction
            self.failed.emit(Failed(str(err) or err.__class__.__name__, traceback.format_exc()))
            self.done.emit(False)
        finally:
            self.moveToThread(QCoreApplication.instance().thread())  # to be deleted on the GUI thread

    def _run(self) -> None:
        experiment = self.experiment
        config = experiment.config
        tracker = ExperimentProgress.for_experiment(experiment)

        def preparing(stage, step, steps, done, total):
            self.progress.emit(tracker.report_preparing(stage, step, steps, done, total))

        prepared = prepare(config, preparing, self.control.stop_event, self.workers)
        if prepared is None:
            self.done.emit(False)
            return
        dataset, _ = prepared
        self.dataset_ready.emit(dataset)
        runs = experiment.runs()
        finished = True
        for spec, event in run_experiment(experiment, dataset, self.control, self._annotator_for,
                                          check_same_thread=True, explain=True):
            report = tracker.report(runs.index(spec), spec.label, event, self.control.paused_seconds)
            if isinstance(event, CycleResult):
                self.cycle_result.emit(self._cycle_report(spec, event, dataset))
            elif isinstance(event, NeedLabels):
                self.need_labels.emit(LabelRequest(spec.label, spec.strategy, event.cycle,
                                                   tuple(item.sample for item in event.items),
                                                   {s: tuple(v) for s, v in event.votes.items()}))
            elif isinstance(event, Failed):
                self.failed.emit(event)
                finished = False
            if report is not None:
                self.progress.emit(report)
            if isinstance(event, CycleResult) and self.step.is_set():
                self.step.clear()
                self.control.pause()
        self.done.emit(finished and not self.control.stop_event.is_set())

    def _cycle_report(self, spec, event: CycleResult, dataset) -> CycleReport:
        row = metrics_row(spec.strategy, spec.index + 1, event.cycle, event.n_labeled, event.metrics,
                          self.experiment.config.dataset)
        queried = []
        if event.queried_ids is not None:
            pool = dataset.pool
            # A random pick's "score" is its random key: show none rather than a number that means nothing.
            meaningful = STRATEGIES[spec.strategy].score_is_informative
            for rank, sample in enumerate(event.queried_ids.tolist()):
                queried.append(QueriedSample(
                    sample, int(pool.classes[sample]), int(pool.groups[sample]),
                    float(event.scores[rank]) if meaningful else float("nan"),
                    tuple((name, float(values[rank])) for name, values in event.score_table.items()),
                    tuple(event.queried_probs[rank].tolist()) if event.queried_probs is not None else None))
        return CycleReport(spec.label, spec.strategy, spec.index + 1, event.cycle, event.n_labeled, row,
                           LLMAccounting.from_metrics(event.metrics), tuple(queried))


class RunController(QObject):
    """Owns the thread, the worker and the control flags of the experiment being run."""

    progress = Signal(object)
    dataset_ready = Signal(object)
    cycle_result = Signal(object)
    need_labels = Signal(object)
    failed = Signal(object)
    done = Signal(bool)
    state_changed = Signal(str)  # "idle", "running", "paused"

    def __init__(self, parent: QObject | None = None, workers: int | None = None):
        super().__init__(parent)
        self.workers = workers
        self.control = RunControl()
        self.human = HumanAnnotator()
        self._step = threading.Event()
        self._thread: QThread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    @property
    def paused(self) -> bool:
        return self.running and self.control.paused

    def start(self, experiment: Experiment) -> None:
        if self.running:
            raise RuntimeError("an experiment is already running")
        self.control, self.human = RunControl(), HumanAnnotator()
        self._step.clear()
        thread = QThread(self)
        worker = _Worker(experiment, self.control, self.human, self._step, self.workers)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        for name in ("progress", "dataset_ready", "cycle_result", "need_labels", "failed"):
            getattr(worker, name).connect(getattr(self, name))
        worker.cycle_result.connect(self._after_cycle)
        worker.done.connect(self._on_done)
        worker.done.connect(thread.quit)
        # Not worker.deleteLater: deleting a Python-made QObject on the worker's thread needs the GIL
        # while Qt holds a connection lock, and a GUI thread holding the GIL while it connects
        # anything deadlocks against it. The worker comes home at the end of run() and dies here.
        thread.finished.connect(self._forget_worker)
        self._thread, self._worker = thread, worker
        thread.start()
        self.state_changed.emit("running")

    def pause(self) -> None:
        if self.running:
            self.control.pause()
            self.state_changed.emit("paused")

    def resume(self) -> None:
        if self.running:
            self._step.clear()
            self.control.resume()
            self.state_changed.emit("running")

    def step(self) -> None:
        """Run until the next cycle's result, then pause."""
        if self.running:
            self._step.set()
            self.control.resume()
            self.state_changed.emit("running")

    def stop(self, wait: bool = True) -> None:
        if self._thread is None:
            return
        self.control.stop()
        if wait:
            self._thread.quit()
            self._thread.wait()

    @Slot()
    def _forget_worker(self) -> None:
        if self._thread is not None and self._thread.isFinished():
            self._worker = None

    def _after_cycle(self, payload: CycleReport) -> None:
        if self.control.paused:  # a Step has just completed its cycle
            self.state_changed.emit("paused")

    def _on_done(self, finished: bool) -> None:
        self.done.emit(finished)
        self.state_changed.emit("idle")

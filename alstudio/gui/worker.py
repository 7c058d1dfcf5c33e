"""Runs an experiment on a QThread and re-emits the engine's events as signals with plain data.

Nothing that crosses to the GUI thread is a tensor or a model: numbers, strings, dicts and
numpy copies only. Pause, step and stop are cooperative (engine.loop.RunControl).
"""

from __future__ import annotations

import threading
import traceback

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from ..engine.annotators import HumanAnnotator, build_annotator
from ..engine.experiment import Experiment
from ..engine.loop import CycleResult, Failed, Finished, NeedLabels, Progress, RunControl
from ..engine.progress import ExperimentProgress
from ..engine.results import metrics_row
from ..engine.runner import prepare, run_experiment
from ..engine.strategies import STRATEGIES


class _Worker(QObject):
    # object, not dict: a dict signal becomes a QVariantMap, which sorts the keys (metrics columns lost their order).
    progress = Signal(object)  # run, stage, done, total, cycle, overall (0..1 of the experiment), eta_seconds
    dataset_ready = Signal(object)  # SynbolsDataset (read-only arrays, shared)
    cycle_result = Signal(object)
    need_labels = Signal(object)
    failed = Signal(str, str)
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
            self.failed.emit(str(err) or err.__class__.__name__, traceback.format_exc())
            self.done.emit(False)
        finally:
            self.moveToThread(QCoreApplication.instance().thread())  # to be deleted on the GUI thread

    def _run(self) -> None:
        experiment = self.experiment
        config = experiment.config
        tracker = ExperimentProgress(len(experiment.runs()), config.active.cycles, config.training.epochs,
                                     config.active.initial_labels, config.active.query_size)

        def emit(run: str, stage: str, done: int, total: int, cycle: int, estimate) -> None:
            self.progress.emit({"run": run, "stage": stage, "done": done, "total": total, "cycle": cycle,
                                "overall": estimate.fraction, "eta_seconds": estimate.eta_seconds})

        def preparing(stage, step, steps, done, total):
            emit("", stage, done, total, -1, tracker.preparing(step, steps, done, total))

        prepared = prepare(config, preparing, self.control.stop_event, self.workers)
        if prepared is None:
            self.done.emit(False)
            return
        dataset, _ = prepared
        self.dataset_ready.emit(dataset)
        runs = experiment.runs()
        finished = True
        current = None
        for spec, event in run_experiment(experiment, dataset, self.control, self._annotator_for,
                                          check_same_thread=True, explain=True):
            index = runs.index(spec)
            paused = self.control.paused_seconds
            if spec is not current:
                current = spec
                tracker.run_started(paused)
            if isinstance(event, Progress):
                emit(spec.label, event.stage, event.done, event.total, event.cycle,
                     tracker.stage(index, event.cycle, event.stage, event.done, event.total, paused))
            elif isinstance(event, CycleResult):
                estimate = tracker.cycle_done(index, event.cycle, paused)
                self.cycle_result.emit(self._payload(spec, event, dataset))
                emit(spec.label, "cycle done", event.cycle + 1, config.active.cycles + 1, event.cycle, estimate)
                if self.step.is_set():
                    self.step.clear()
                    self.control.pause()
            elif isinstance(event, NeedLabels):
                self.need_labels.emit({"run": spec.label, "strategy": spec.strategy, "cycle": event.cycle,
                                       "samples": [item.sample for item in event.items],
                                       "votes": {s: list(v) for s, v in event.votes.items()}})
            elif isinstance(event, Failed):
                self.failed.emit(event.message, event.traceback)
                finished = False
            elif isinstance(event, Finished):
                emit(spec.label, "run finished", event.cycles, event.cycles, event.cycles, tracker.run_done(index))
        self.done.emit(finished and not self.control.stop_event.is_set())

    def _payload(self, spec, event: CycleResult, dataset) -> dict:
        row = metrics_row(spec.strategy, spec.index + 1, event.cycle, event.n_labeled, event.metrics,
                          self.experiment.config.dataset)
        queried = []
        if event.queried_ids is not None:
            pool = dataset.pool
            # A random pick's "score" is its random key: show none rather than a number that means nothing.
            meaningful = STRATEGIES[spec.strategy].score_is_informative
            for rank, sample in enumerate(event.queried_ids.tolist()):
                queried.append({
                    "sample": sample, "class": int(pool.classes[sample]), "group": int(pool.groups[sample]),
                    "score": float(event.scores[rank]) if meaningful else float("nan"),
                    "scores": {name: float(values[rank]) for name, values in event.score_table.items()},
                    "probs": event.queried_probs[rank].tolist() if event.queried_probs is not None else None,
                })
        return {"run": spec.label, "strategy": spec.strategy, "seed": spec.index + 1, "cycle": event.cycle,
                "n_labeled": event.n_labeled, "row": row, "queried": queried}


class RunController(QObject):
    """Owns the thread, the worker and the control flags of the experiment being run."""

    progress = Signal(object)
    dataset_ready = Signal(object)
    cycle_result = Signal(object)
    need_labels = Signal(object)
    failed = Signal(str, str)
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

    def _after_cycle(self, payload: dict) -> None:
        if self.control.paused:  # a Step has just completed its cycle
            self.state_changed.emit("paused")

    def _on_done(self, finished: bool) -> None:
        self.done.emit(finished)
        self.state_changed.emit("idle")

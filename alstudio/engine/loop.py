"""The active-learning loop as a generator of small immutable events.

One run = one strategy x one seed, journalled in one SQLite file. Each cycle trains on the
labeled set, evaluates on the test set, scores the pool, queries a batch and waits for its
labels. Everything a cycle needs is derived from (run seed, cycle), and the model after each
cycle's training is checkpointed, so a resumed run repeats exactly what an uninterrupted one
would have done.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import traceback
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .annotators import RETRACTED, Annotator, QueryItem
from .data import SynbolsDataset
from .errors import UserInputError
from .journal import Journal, fingerprint
from .metrics import classification_metrics, labeled_composition
from .models import ActiveModel, build_model
from .models.pretrained import SourceTask, ensure_trunk
from .storage_errors import write_failure
from .strategies import STRATEGIES, get_strategy
from .strategies.context import ScoringContext
from .training import (
    Stopped,
    device_description,
    fit,
    load_weights,
    pick_device,
    predict_features,
    probabilities,
    to_tensor,
)

LABEL_SOURCES = ("initial", "oracle", "noisy", "human", "human_simulated", "llm")
_INIT, _TRAIN, _QUERY, _EVAL, _INITIAL_LABELS = range(5)


# ---- events ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Progress:
    stage: str  # "training", "evaluating", "scoring", "waiting for labels"
    done: int
    total: int
    cycle: int


@dataclass(frozen=True)
class CycleResult:
    cycle: int
    n_labeled: int
    metrics: dict
    queried_ids: np.ndarray | None  # pool indices queried after this cycle (None after the last)
    scores: np.ndarray | None
    # "Why this sample": each queried sample's score under the strategies shown (the experiment's own that
    # explain, or those the caller named), read from the query's cached features and MC samples.
    score_table: dict[str, np.ndarray] = field(default_factory=dict)
    queried_probs: np.ndarray | None = None  # [k, C] the model's MC-averaged prediction for each queried sample


@dataclass(frozen=True)
class NeedLabels:
    """Samples now waiting for a person (all of a human batch; the LLM annotator's flagged ones)."""

    cycle: int
    items: tuple[QueryItem, ...]
    votes: dict[int, tuple[str | None, ...]] = field(default_factory=dict)  # an LLM's answers, when flagged


@dataclass(frozen=True)
class Finished:
    cycles: int


@dataclass(frozen=True)
class AwaitingLabels:
    """The run stopped for now: these samples wait for a person in a later session (journal status 'waiting')."""

    cycle: int
    samples: tuple[int, ...]


class _Deferred(Exception):
    def __init__(self, cycle: int, samples: list[int]):
        super().__init__(cycle, samples)
        self.event = AwaitingLabels(cycle, tuple(sorted(samples)))


@dataclass(frozen=True)
class Failed:
    message: str
    traceback: str


# ---- control --------------------------------------------------------------------------------------

@dataclass
class RunControl:
    """Cooperative pause and stop, checked between training batches and while waiting for labels."""

    stop_event: threading.Event = field(default_factory=threading.Event)
    running: threading.Event = field(default_factory=threading.Event)  # cleared = paused
    _paused_at: float | None = None
    _paused_before: float = 0.0

    def __post_init__(self):
        self.running.set()

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = time.perf_counter()
        self.running.clear()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused_before += time.perf_counter() - self._paused_at
            self._paused_at = None
        self.running.set()

    def stop(self) -> None:
        self.stop_event.set()
        self.resume()

    @property
    def paused(self) -> bool:
        return not self.running.is_set()

    @property
    def paused_seconds(self) -> float:
        """Time spent paused so far, so that progress estimates count only work."""
        ongoing = time.perf_counter() - self._paused_at if self._paused_at is not None else 0.0
        return self._paused_before + ongoing

    def checkpoint(self) -> None:
        """Block while paused; raise Stopped once stop was asked for."""
        while not self.running.wait(0.1):
            pass
        if self.stop_event.is_set():
            raise Stopped()


def explaining_strategies(model: ActiveModel, names: Iterable[str] | None = None) -> dict:
    """The strategies among `names` (None: all) that explain (a per-sample score that means something on its
    own) and this model can score, in the registry's order."""
    wanted = set(STRATEGIES) if names is None else set(names)
    return {name: cls() for name, cls in STRATEGIES.items()
            if name in wanted and cls.explains and (model.loss_module is not None or not cls.needs_loss_module)}


def derive_seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


# ---- the loop -------------------------------------------------------------------------------------

class _Run:
    def __init__(self, journal: Journal, dataset: SynbolsDataset, annotator: Annotator, control: RunControl,
                 explain: bool | Sequence[str] = True):
        self.journal, self.dataset, self.annotator, self.control = journal, dataset, annotator, control
        self.config = journal.config
        self.explained = _explained_names(explain, self.config)
        self.seed = journal.seed
        self.strategy = get_strategy(journal.strategy)
        self.device = pick_device(self.config.training.device)
        self.pool_x = to_tensor(dataset.pool.images, self.device)
        self.test_x = to_tensor(dataset.test.images, self.device)
        self.pool_groups = torch.from_numpy(dataset.pool.groups).to(self.device)
        self.checkpoints = Path(journal.path).parent / "checkpoints"
        self.n_classes, self.n_groups = len(dataset.class_names), len(dataset.group_names)
        journal.record_input("dataset", {"sha256": dataset.content_hash()}, "dataset")
        self.trunk_state = self.pretrained_trunk()
        annotator.attach(journal, dataset)

    def pretrained_trunk(self) -> dict | None:
        """The weights each new model's trunk starts from (None: random ones), recorded in the journal."""
        if not self.config.model.starts_trained:
            return None
        trunk = ensure_trunk(SourceTask.for_config(self.config), cancel=self.control.stop_event,
                             device=self.config.training.device)
        self.journal.record_input("trunk", trunk.summary(), "pretrained trunk")
        return trunk.state(self.device)

    # -- labels ----------------------------------------------------------------------------------
    def ensure_initial_labels(self) -> None:
        if len(self.journal.labeled_samples()):
            return
        rng = np.random.default_rng(derive_seed(self.seed, _INITIAL_LABELS))
        chosen = np.sort(rng.choice(len(self.dataset.pool), self.config.active.initial_labels, replace=False))
        truth = self.dataset.pool.classes[chosen]
        self.journal.record_labels([(int(s), int(y)) for s, y in zip(chosen, truth)], "initial", 0)

    def labeled(self) -> tuple[np.ndarray, np.ndarray]:
        labels = self.journal.labels()
        samples = np.array(sorted(labels), dtype=np.int64)
        return samples, np.array([labels[s][0] for s in samples], dtype=np.int64)

    # -- model -----------------------------------------------------------------------------------
    def checkpoint_path(self, cycle: int) -> Path:
        return self.checkpoints / f"cycle-{cycle}.pt"

    def new_model(self, cycle: int) -> ActiveModel:
        torch.manual_seed(derive_seed(self.seed, cycle, _INIT))
        model = build_model(self.config, self.n_classes, self.n_groups).to(self.device)
        if self.trunk_state is not None:
            model.trunk.load_state_dict(self.trunk_state)
        return model

    def load_model(self, cycle: int) -> ActiveModel:
        model = build_model(self.config, self.n_classes, self.n_groups).to(self.device)
        state = load_weights(self.checkpoint_path(cycle), self.device)
        model.load_state_dict(state)
        return model

    def save_model(self, model: ActiveModel, cycle: int) -> None:
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        path = self.checkpoint_path(cycle)
        tmp = path.with_suffix(".partial")
        try:
            torch.save(model.state_dict(), tmp)
            tmp.replace(path)
        except (OSError, RuntimeError) as err:  # torch reports a short write as a RuntimeError
            tmp.unlink(missing_ok=True)
            raise write_failure(err, path) from None
        # Resume needs this cycle's model and, for a warm start, the previous one: keep two.
        old = self.checkpoint_path(cycle - 2)
        if old.exists():
            old.unlink()

    def train(self, cycle: int) -> Generator[Progress, None, ActiveModel]:
        training = self.config.training
        warm = cycle > 0 and not training.reset_each_cycle
        model = self.load_model(cycle - 1) if warm else self.new_model(cycle)
        samples, labels = self.labeled()
        index = torch.from_numpy(samples).to(self.device)
        progress = fit(model, self.pool_x[index], torch.from_numpy(labels).to(self.device), self.pool_groups[index],
                       training, derive_seed(self.seed, cycle, _TRAIN), checkpoint=self.control.checkpoint)
        while True:
            try:
                done, total = next(progress)
            except StopIteration as end:
                stats = end.value
                break
            yield Progress("training", done, total, cycle)
        self.train_seconds = stats.seconds
        self.save_model(model, cycle)
        return model

    # -- evaluation ------------------------------------------------------------------------------
    def evaluate(self, model: ActiveModel, cycle: int) -> dict:
        test = self.dataset.test
        probs = probabilities(model, self.test_x, self.config.training.eval_mc_samples,
                              derive_seed(self.seed, cycle, _EVAL))
        metrics = classification_metrics(test.classes, probs.argmax(axis=1), test.groups,
                                          self.n_classes, self.n_groups)
        labels = self.journal.labels()
        samples = np.array(sorted(labels), dtype=np.int64)
        pool = self.dataset.pool
        composition = labeled_composition(pool.classes[samples], pool.groups[samples], self.n_classes,
                                           self.n_groups)
        metrics["labeled_count"] = composition["count"]
        metrics["labeled_share"] = composition["group_share"]
        by_source = {source: 0 for source in LABEL_SOURCES}
        for _, source, _ in labels.values():
            by_source[source] += 1
        metrics["labels_by_source"] = by_source
        metrics["annotator"] = self.annotator.stats()
        given = np.array([labels[s][0] for s in samples])
        metrics["label_accuracy"] = float(np.mean(given == pool.classes[samples])) if len(samples) else float("nan")
        return metrics

    def features_after(self, cycle: int):
        """pool indices -> trunk features of the cycle's saved model (loaded only when asked for)."""
        def features(indices: np.ndarray) -> np.ndarray:
            model = self.load_model(cycle)
            chosen = self.pool_x[torch.from_numpy(np.asarray(indices, dtype=np.int64)).to(self.device)]
            return predict_features(model, chosen).cpu().numpy()
        return features

    # -- querying --------------------------------------------------------------------------------
    def query(self, model: ActiveModel, cycle: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
        active = self.config.active
        seed = derive_seed(self.seed, cycle, _QUERY)
        labeled = self.journal.labeled_samples()
        candidates = np.setdiff1d(np.arange(len(self.dataset.pool)), labeled)
        if active.pool_subset and active.pool_subset < len(candidates):
            rng = np.random.default_rng(seed)
            candidates = np.sort(rng.choice(candidates, active.pool_subset, replace=False))
        k = min(active.query_size, len(candidates))
        ctx = ScoringContext(model, self.pool_x[torch.from_numpy(candidates).to(self.device)],
                             self.pool_x[torch.from_numpy(labeled).to(self.device)],
                             active.mc_samples, seed, active.power_beta, groups=self.dataset.pool.groups[candidates])
        positions, scores = self.strategy.select(ctx, k)
        positions = np.asarray(positions, dtype=np.int64)
        # The batch alone, from what the query computed: an explaining score is per sample, so the batch's
        # scores are the pool's, and no pass over the pool is made that the strategy did not need (a
        # random run samples the head for its k picks only). Explanations are for someone who can look
        # at them (the workbench's gallery); they change nothing that is chosen.
        batch = ctx.subset(positions)
        table = {name: np.asarray(strategy.scores(batch), dtype=np.float64)
                 for name, strategy in explaining_strategies(model, self.explained).items()}
        return candidates[positions], np.asarray(scores, dtype=np.float64), table, batch.probs

    def annotate(self, cycle: int, samples: list[int], scores: list[float | None]) -> Iterator[NeedLabels | Progress]:
        known = self.journal.labels()
        pool = self.dataset.pool
        wanted = [QueryItem(int(s), int(pool.classes[s]), int(pool.groups[s]), float(sc or 0.0))
                  for s, sc in zip(samples, scores) if int(s) not in known]
        if not wanted:
            return
        # What was labeled before this batch: a resumed run offers the same as an uninterrupted one.
        before = {s: (label, source) for s, (label, source, c) in known.items() if c <= cycle}
        self.annotator.use_context(before, self.features_after(cycle))
        self.annotator.request(wanted)
        remaining = {item.sample for item in wanted}
        announced: set[int] = set()
        while remaining or not self.annotator.batch_closed:
            for answer in self.annotator.poll():
                if answer.label == RETRACTED:
                    if self.journal.retract_label(answer.sample, cycle + 1):
                        remaining.add(answer.sample)
                elif answer.sample in remaining:
                    self.journal.record_labels([(answer.sample, answer.label)], answer.source, cycle + 1)
                    remaining.discard(answer.sample)
            if not remaining and self.annotator.batch_closed:
                break
            waiting = set(self.annotator.awaiting_human()) & remaining
            if waiting and waiting == remaining and self.annotator.defers_to_later:
                raise _Deferred(cycle, sorted(waiting))  # every other answer is in; these wait for later
            if waiting - announced and waiting == remaining:  # one dialog per batch, once the LLM has decided all
                announced |= waiting
                yield NeedLabels(cycle, tuple(item for item in wanted if item.sample in waiting),
                                 {s: tuple(self.annotator.votes(s)) for s in waiting})
            yield Progress("waiting for labels", len(wanted) - len(remaining), len(wanted), cycle)
            self.control.checkpoint()
            time.sleep(0.05)

    # -- driver ----------------------------------------------------------------------------------
    def events(self) -> Iterator:
        active = self.config.active
        self.ensure_initial_labels()
        last = self.journal.last_cycle()
        start = 0
        if last is not None:
            queried = self.journal.query(last)
            if last < active.cycles and queried is None:
                # Crashed after evaluating, before querying: query with that cycle's saved model.
                yield Progress("scoring", 0, 1, last)
                samples, scores, _, _ = self.query(self.load_model(last), last)
                self.journal.record_query(last, samples.tolist(), scores.tolist())
                queried = samples.tolist()
            if queried is not None:
                yield from self.annotate(last, queried, self.journal.query_scores(last))
            start = last + 1
        for cycle in range(start, active.cycles + 1):
            self.control.checkpoint()
            model = yield from self.train(cycle)
            yield Progress("evaluating", 0, 1, cycle)
            metrics = self.evaluate(model, cycle)
            n_labeled = len(self.journal.labeled_samples())
            queried = scores = None
            table, predicted = {}, None
            query_seconds = 0.0
            if cycle < active.cycles:
                self.control.checkpoint()
                yield Progress("scoring", 0, 1, cycle)
                started = time.perf_counter()
                queried, scores, table, predicted = self.query(model, cycle)
                query_seconds = time.perf_counter() - started
            self.journal.record_cycle(cycle, n_labeled, metrics, self.train_seconds, query_seconds)
            if queried is not None:
                self.journal.record_query(cycle, queried.tolist(), scores.tolist())
            yield CycleResult(cycle, n_labeled, metrics, queried, scores, table, predicted)
            if queried is not None:
                yield from self.annotate(cycle, queried.tolist(), scores.tolist())
        yield Finished(active.cycles)


def _explained_names(explain: bool | Sequence[str], config) -> tuple[str, ...]:
    if isinstance(explain, bool):
        return tuple(config.active.run_strategies()) if explain else ()
    names = (explain,) if isinstance(explain, str) else tuple(explain)
    unknown = [name for name in names if name not in STRATEGIES]
    if unknown:
        raise ValueError(f"explain names unknown strategies: {', '.join(unknown)}")
    return names


def run(journal: Journal, dataset: SynbolsDataset, annotator: Annotator,
        control: RunControl | None = None, explain: bool | Sequence[str] = True) -> Iterator:
    """Iterate to drive one run. `explain`: each CycleResult carries the queried samples' scores
    (score_table) under the experiment's strategies that score on their own (True), under those of
    the strategies named (a list), or under none (False), for a person to read.

    control.stop() ends the generator quietly with the journal marked 'stopped' (so does closing
    the generator); samples an annotator defers to a later session end it with AwaitingLabels and
    the journal marked 'waiting'; an error yields Failed with its traceback and marks the journal 'failed'.
    """
    control = control or RunControl()
    try:
        journal.set_status("running")
        body = _Run(journal, dataset, annotator, control, explain)
        journal.log_event("started", {"device": device_description(body.device)})
        for event in body.events():
            if isinstance(event, Finished):
                journal.set_status("finished")
                journal.log_event("finished")
            yield event
    except _Deferred as deferred:
        journal.set_status("waiting")
        journal.log_event("awaiting labels", {"cycle": deferred.event.cycle, "samples": list(deferred.event.samples)})
        yield deferred.event
    except (Stopped, GeneratorExit, KeyboardInterrupt) as reason:
        journal.set_status("stopped")
        if not isinstance(reason, Stopped):
            raise
    except Exception as err:  # the consumer shows it; the journal stays consistent
        known = isinstance(err, UserInputError)  # the disk, the device, a file: resumable once it is put right
        try:
            journal.set_status("stopped" if known else "failed")
            journal.log_event("failed", {"message": str(err)})
        except (UserInputError, OSError, sqlite3.Error):
            pass  # the journal cannot be written either (a full disk): what it holds stays as it was
        yield Failed(str(err) or err.__class__.__name__, "" if known else traceback.format_exc())


def new_run_fingerprint(config, seed: int) -> dict:
    return fingerprint(device_description(pick_device(config.training.device)), {"run": seed})

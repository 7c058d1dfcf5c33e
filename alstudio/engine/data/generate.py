"""Parallel, deterministic, cancellable generation of a biased Synbols dataset."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

import numpy as np

from .bias import SplitPlan, plan_dataset
from .dataset import SPLIT_FIELDS, Split, SynbolsDataset
from .fonts import bundled_families, default_families
from .render import Recipe, prepare_worker, render_chunk

ProgressCallback = Callable[[int, int], None]
# Below this many images a process pool costs more to start than it saves.
_IN_PROCESS_BELOW = 400
# cairo/fontconfig as synbols drives them are not thread-safe: two threads of one process rendering
# at once (a GUI preview and a run, say) corrupt the heap. Worker processes need no lock.
RENDER_LOCK = threading.Lock()


class GenerationCancelled(Exception):
    """The caller set the cancel event before all images were rendered."""


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _init_pool_worker() -> None:
    # Ctrl-C is the parent's to handle (it cancels and shuts the pool down cleanly).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    prepare_worker()


def recipe_for(dataset_config) -> Recipe:
    fonts = dataset_config.fonts or list(default_families(dataset_config.classes, bundled_families()))
    return Recipe(
        characters=tuple(dataset_config.classes),
        sensitive_attribute=dataset_config.sensitive_attribute,
        groups=tuple(dataset_config.groups),
        fonts=tuple(fonts),
        resolution=dataset_config.resolution,
    )


def _chunks(n: int, workers: int) -> list[slice]:
    # Several chunks per worker keep progress smooth and cancellation quick.
    size = int(np.clip(np.ceil(n / (workers * 8)), 32, 512))
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def _empty_split(plan: SplitPlan, resolution: int) -> Split:
    n = len(plan.classes)
    return Split(
        images=np.empty((n, resolution, resolution, 3), np.uint8), classes=plan.classes,
        groups=plan.groups, fonts=np.empty(n, np.int16), rotations=np.empty(n, np.float32),
        scales=np.empty(n, np.float32), translations=np.empty((n, 2), np.float32),
        bold=np.empty(n, bool), slant=np.empty(n, bool), seeds=plan.seeds,
    )


def _store(split: Split, where: slice, chunk) -> None:
    for name in SPLIT_FIELDS:
        if hasattr(chunk, name):
            getattr(split, name)[where] = getattr(chunk, name)


def render_plans(recipe: Recipe, plans: list[SplitPlan], progress: ProgressCallback | None = None,
                 cancel: threading.Event | None = None, workers: int | None = None) -> list[Split]:
    """Render every planned image; results do not depend on `workers`."""
    workers = workers or default_workers()
    splits = [_empty_split(plan, recipe.resolution) for plan in plans]
    jobs = [(split, plan, where) for split, plan in zip(splits, plans)
            for where in _chunks(len(plan.classes), workers)]
    total, done = sum(len(p.classes) for p in plans), 0
    report = progress or (lambda done, total: None)
    report(0, total)

    def job_args(plan: SplitPlan, where: slice):
        return recipe, plan.classes[where], plan.groups[where], plan.seeds[where]

    if workers == 1 or total < _IN_PROCESS_BELOW:
        for split, plan, where in jobs:
            if cancel is not None and cancel.is_set():
                raise GenerationCancelled()
            with RENDER_LOCK:
                chunk = render_chunk(*job_args(plan, where))
            _store(split, where, chunk)
            done += where.stop - where.start
            report(done, total)
        return splits

    # spawn, not fork: the parent may hold torch or Qt threads that a fork would copy half-way.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_pool_worker)
    try:
        pending: dict[Future, tuple[Split, slice]] = {
            pool.submit(render_chunk, *job_args(plan, where)): (split, where) for split, plan, where in jobs}
        while pending:
            finished, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            if cancel is not None and cancel.is_set():
                raise GenerationCancelled()
            for future in finished:
                split, where = pending.pop(future)
                _store(split, where, future.result())
                done += where.stop - where.start
                report(done, total)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return splits


def generate_dataset(dataset_config, progress: ProgressCallback | None = None,
                     cancel: threading.Event | None = None, workers: int | None = None) -> SynbolsDataset:
    """Render the pool and the test set that `dataset_config` (a DatasetConfig) describes."""
    recipe = recipe_for(dataset_config)
    pool_plan, test_plan = plan_dataset(dataset_config)
    pool, test = render_plans(recipe, [pool_plan, test_plan], progress, cancel, workers)
    font_names = recipe.groups if recipe.sensitive_attribute == "font" else recipe.fonts
    if recipe.sensitive_attribute == "font":
        # Each image's font is its group's font.
        pool.fonts[:], test.fonts[:] = pool.groups, test.groups
    return SynbolsDataset(
        class_names=recipe.characters, group_names=recipe.groups, font_names=tuple(font_names),
        sensitive_attribute=recipe.sensitive_attribute, pool=pool, test=test)

"""Runs every strategy x seed of an experiment one after the other, resuming unfinished ones."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence

from .annotators import Annotator, build_annotator
from .data import GenerationCancelled, SynbolsDataset, load_or_generate
from .errors import UserInputError
from .experiment import Experiment, RunSpec
from .journal import Journal
from .loop import Failed, RunControl, new_run_fingerprint, run
from .models.pretrained import SourceTask, ensure_trunk
from .results import write_results
from .training import Stopped

# (stage, step, steps, done, total): step 0-based among the steps made before the runs.
PreparationProgress = Callable[[str, int, int, int, int], None]


def prepare(config, progress: PreparationProgress | None = None, cancel: threading.Event | None = None,
            workers: int | None = None) -> tuple[SynbolsDataset, bool] | None:
    """What the runs need before they start: the dataset (and whether it came from the cache), then
    the pretrained trunk when the config asks for one, each generated or built once and cached.
    None when `cancel` was set meanwhile."""
    report = progress or (lambda *args: None)
    steps = 2 if config.model.starts_trained else 1
    try:
        loaded = load_or_generate(config.dataset, cancel=cancel, workers=workers,
                                  progress=lambda done, total: report("generating the dataset", 0, steps, done, total))
        if steps == 2:
            ensure_trunk(SourceTask.for_config(config), cancel=cancel, workers=workers, device=config.training.device,
                         progress=lambda stage, done, total: report(stage, 1, steps, done, total))
    except (GenerationCancelled, Stopped):
        return None
    return loaded


def open_or_create_journal(experiment: Experiment, spec: RunSpec, check_same_thread: bool = True) -> Journal:
    if not Journal.is_unstarted(spec.journal_path):
        return Journal.open(spec.journal_path, check_same_thread=check_same_thread)
    spec.folder.mkdir(parents=True, exist_ok=True)
    config = experiment.run_config(spec.strategy)
    # replace_unstarted: what a process killed while creating the journal left holds nothing yet.
    return Journal.create(spec.journal_path, config, spec.strategy, spec.seed,
                          new_run_fingerprint(config, spec.seed), check_same_thread=check_same_thread,
                          replace_unstarted=True)


def run_experiment(experiment: Experiment, dataset: SynbolsDataset, control: RunControl | None = None,
                   annotator_for: Callable[..., Annotator] = build_annotator,
                   check_same_thread: bool = True,
                   explain: bool | Sequence[str] = False) -> Iterator[tuple[RunSpec, object]]:
    """Yields (run, event) pairs. Finished runs are skipped, so calling it again resumes. `explain`:
    the workbench's "why this sample", each queried sample's score under the experiment's strategies
    (True) or the strategies named (loop.run).
    metrics.csv and summary.json are rewritten after every run, even a stopped or failed one."""
    control = control or RunControl()
    for spec in experiment.runs():
        if control.stop_event.is_set():
            return
        with open_or_create_journal(experiment, spec, check_same_thread) as journal:
            if journal.status == "finished":
                continue
            annotator = annotator_for(journal.config, spec.seed)
            failed = False
            try:
                for event in run(journal, dataset, annotator, control, explain):
                    yield spec, event
                    if isinstance(event, Failed):
                        failed = True
                        return
            finally:
                annotator.close()
                try:
                    write_results(experiment)
                except UserInputError:
                    if not failed:  # after a failure (say, a full disk) its own sentence says enough
                        raise


def unfinished_runs(experiment: Experiment) -> list[RunSpec]:
    pending = []
    for spec in experiment.runs():
        if Journal.is_unstarted(spec.journal_path):
            pending.append(spec)
            continue
        with Journal.open(spec.journal_path, read_only=True) as journal:
            if journal.status != "finished":
                pending.append(spec)
    return pending


def samples_awaiting_labels(experiment: Experiment) -> int:
    """How many samples deferred runs (status 'waiting') hold for a person to label."""
    count = 0
    for spec in experiment.runs():
        if Journal.is_unstarted(spec.journal_path):
            continue
        with Journal.open(spec.journal_path, read_only=True) as journal:
            if journal.status == "waiting":
                deferred = journal.events("awaiting labels")
                labels = journal.labels()
                count += sum(1 for s in deferred[-1]["payload"]["samples"] if s not in labels) if deferred else 0
    return count

"""The command line: `alstudio run|resume|report|sweep|generate|pretrain|presets|fonts|gui|install-desktop-entry`.

Exit codes: 0 success, 2 bad input (one sentence on stderr, no traceback), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from .engine import config as configs
from .engine.errors import UserInputError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _add_config_arguments(parser: argparse.ArgumentParser, or_folder: bool = False) -> None:
    if or_folder:
        parser.add_argument("config", nargs="?", metavar="CONFIG.toml|DIR",
                            help="experiment config file, or an experiment folder to open")
    else:
        parser.add_argument("config", nargs="?", metavar="CONFIG.toml", help="experiment config file")
    parser.add_argument("--preset", metavar="NAME", help="a built-in preset instead of CONFIG "
                        f"(default: {configs.DEFAULT_PRESET}; `alstudio presets` lists them)")


def _config_from(args: argparse.Namespace) -> configs.ExperimentConfig:
    if args.config and args.preset is not None:
        raise UserInputError("give either CONFIG.toml or --preset NAME, not both")
    if args.config:
        return configs.load(args.config)
    return configs.load_preset(configs.DEFAULT_PRESET if args.preset is None else args.preset)


def _writable(path_text: str, option: str) -> Path:
    path = Path(path_text)
    if not path.parent.exists():
        raise UserInputError(f"{option} {path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise UserInputError(f"{option} {path}: is a folder, not a file name")
    return path


def _counts_table(dataset, split: str) -> str:
    counts = dataset.counts(split)
    title = f"{split} ({counts.sum()} images)"
    labels = [f"  class {name}" for name in dataset.class_names] + ["  share"]
    left = max(len(title), *(len(label) for label in labels)) + 2
    width = max(8, *(len(str(g)) + 2 for g in dataset.group_names))
    lines = [title.ljust(left) + "".join(str(g).rjust(width) for g in dataset.group_names) + "total".rjust(8)]
    for c, label in enumerate(labels[:-1]):
        lines.append(label.ljust(left) + "".join(f"{v:>{width}}" for v in counts[c]) + f"{counts[c].sum():>8}")
    shares = (f"{100 * v / max(counts.sum(), 1):.1f}%" for v in counts.sum(axis=0))
    lines.append(labels[-1].ljust(left) + "".join(s.rjust(width) for s in shares))
    return "\n".join(lines)


def cmd_generate(args: argparse.Namespace) -> int:
    from .engine.data import load_or_generate
    from .engine.data.preview import save_preview
    from .textprogress import ProgressBar

    config = _config_from(args)
    out = _writable(args.out, "--out") if args.out else None
    preview = _writable(args.preview, "--preview") if args.preview else None
    if args.workers is not None and args.workers < 1:
        raise UserInputError(f"--workers must be at least 1, got {args.workers}")
    bar = ProgressBar("generating", "images")
    try:
        dataset, cached = load_or_generate(config.dataset, progress=bar, workers=args.workers,
                                           use_cache=not args.no_cache)
    finally:
        bar.close()
    how = "loaded from the cache" if cached else "generated"
    print(f"{how} in {bar.elapsed:.2f} s: {len(dataset.pool)} pool and {len(dataset.test)} test images, "
          f"{dataset.pool.images.shape[1]}x{dataset.pool.images.shape[2]}, "
          f"sensitive attribute {dataset.sensitive_attribute}")
    print(_counts_table(dataset, "pool"))
    print(_counts_table(dataset, "test"))
    try:
        if out:
            dataset.save(out)
            print(f"wrote {out}")
        if preview:
            save_preview(dataset, preview)
            print(f"wrote {preview}")
    except OSError as err:
        raise UserInputError(f"{err.filename or out or preview}: cannot be written ({err.strerror})") from None
    return 0


@contextmanager
def _stage_bars():
    """progress(stage, done, total) drawing one bar per stage, each with its own rate and ETA."""
    from .textprogress import ProgressBar

    bars: dict[str, ProgressBar] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            for bar in bars.values():
                bar.close()
            bars[stage] = ProgressBar(stage, "epochs" if stage.startswith("pretraining") else "images")
        bars[stage](done, total)

    try:
        yield progress
    finally:
        for bar in bars.values():
            bar.close()


def _prepare(config, workers: int | None = None, tracker=None):
    """The dataset and, for a pretrained trunk, the trunk: from the cache, or made with a progress bar.
    `tracker` (engine.progress.ExperimentProgress) counts the preparation in, as the workbench does."""
    from .engine.models.pretrained import SourceTask, cached_trunk
    from .engine.runner import prepare

    def report(stage: str, step: int, steps: int, done: int, total: int) -> None:
        if tracker is not None:
            tracker.report_preparing(stage, step, steps, done, total)
        progress(stage, done, total)

    with _stage_bars() as progress:
        dataset, cached = prepare(config, report, workers=workers)
    print(f"dataset {'loaded from the cache' if cached else 'generated'}: "
          f"{len(dataset.pool)} pool, {len(dataset.test)} test images")
    if config.model.starts_trained:
        trunk = cached_trunk(SourceTask.for_config(config))
        print(f"pretrained trunk: {trunk.task.describe()}, {trunk.source_accuracy:.0%} right on held-out "
              "source images")
    return dataset


def _format_metric(value) -> str:
    return "   n/a" if value != value else f"{value:6.3f}"


def _over_seeds(metric: dict) -> str:
    """A summary.json metric: mean [95 % CI] from CI_MIN_SEEDS seeds on, mean ± std below."""
    from .engine.results import shows_interval

    if shows_interval(metric["n"]):
        return f"{metric['mean']:.3f} [{metric['ci_low']:.3f}, {metric['ci_high']:.3f}]"
    return f"{metric['mean']:.3f} ± {metric['std']:.3f}"


def _paired_difference(difference: dict) -> str:
    """A summary.json paired difference: +0.174 [0.091, 0.257], p = 0.004 (no interval from one pair)."""
    text = f"{difference['mean']:+.3f}"
    if difference["n"] >= 2:
        p = difference["p_value"]
        p_text = "p n/a" if p != p else "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
        text += f" [{difference['low']:.3f}, {difference['high']:.3f}], {p_text}"
    return text


def _cycle_line(label: str, cycle: int, n_labeled: int, metrics: dict) -> str:
    from .engine.metrics import FAIRNESS_METRICS

    gaps = "  ".join(f"{metric.short} {_format_metric(metrics.get(name, float('nan')))}"
                     for name, metric in FAIRNESS_METRICS.items())
    return (f"{label:>22}  cycle {cycle:>3}  labels {n_labeled:>5}  "
            f"accuracy {_format_metric(metrics['accuracy'])}  {gaps}")


def _drive(experiment, jobs: int | None = None) -> int:
    """Every unfinished run, one at a time in this process or side by side in worker processes
    (engine.parallel_runs.choose_layout), then the results and a summary; 1 if a run failed."""
    from .engine.parallel_runs import choose_layout
    from .engine.progress import ExperimentProgress
    from .engine.training import pick_device

    tracker = ExperimentProgress.for_experiment(experiment)  # the workbench's fraction and ETA, too
    dataset = _prepare(experiment.config, tracker=tracker)
    layout = choose_layout(experiment, jobs, pick_device(experiment.config.training.device).type)
    cycles = experiment.config.active.cycles
    runs = experiment.runs()
    side_by_side = f"; {layout.jobs} at a time, {layout.threads} torch thread(s) each" if layout.jobs > 1 else ""
    print(f"{len(runs)} runs ({', '.join(experiment.strategies)} x {experiment.n_seeds} seeds), "
          f"{cycles} cycles each; journals in {experiment.folder / 'runs'}{side_by_side}")
    if layout.jobs > 1:
        failed, waiting = _drive_side_by_side(experiment, layout), 0
    else:
        failed, waiting = _drive_here(experiment, dataset, tracker)
    return _finish(experiment, failed, waiting)


def _drive_side_by_side(experiment, layout) -> bool:
    """Runs in worker processes; the cycles they write are printed as they land. True if a run failed."""
    from .engine.parallel_runs import run_in_parallel
    from .engine.progress import eta_text
    from .engine.results import collect_rows
    from .engine.sweep.status import Pace
    from .textprogress import ProgressBar

    bar = ProgressBar("")
    total = len(experiment.runs()) * (experiment.config.active.cycles + 1)
    done = len(collect_rows(experiment))  # a resumed experiment's cycles count as done
    pace = Pace()
    pace.observe(done)

    def show(spec, cycle) -> None:
        nonlocal done
        done += 1
        pace.observe(done)
        bar.close()
        print(_cycle_line(spec.label, cycle["cycle"], cycle["n_labeled"], cycle["metrics"]))
        bar.label = f"{done}/{total} cycles, {layout.jobs} runs at a time"
        bar.show(done / total, eta_text(pace.seconds_for(total - done)))

    try:
        outcomes = run_in_parallel(experiment, layout, show)
    finally:
        bar.close()
    failed = False
    for spec, outcome in outcomes:
        if outcome.status == "failed":
            print(f"alstudio: error: {spec.label} failed: {outcome.message}", file=sys.stderr)
            if outcome.traceback:
                print(outcome.traceback, file=sys.stderr)
            failed = True
    return failed


def _drive_here(experiment, dataset, tracker) -> tuple[bool, int]:
    """Runs one after another in this process; (a run failed, runs waiting for a person)."""
    from .engine.loop import AwaitingLabels, CycleResult, Failed
    from .engine.progress import eta_text
    from .engine.runner import run_experiment
    from .textprogress import ProgressBar

    runs = experiment.runs()
    bar = ProgressBar("")
    failed = False
    waiting = 0
    try:
        for spec, event in run_experiment(experiment, dataset, annotator_for=_annotators_for(experiment)):
            report = tracker.report(runs.index(spec), spec.label, event)
            if isinstance(event, CycleResult):
                bar.close()
                print(_cycle_line(spec.label, event.cycle, event.n_labeled, event.metrics))
            elif isinstance(event, Failed):
                bar.close()
                print(f"alstudio: error: {spec.label} failed: {event.message}", file=sys.stderr)
                if event.traceback:  # a bug, not a problem with the disk, the device or a file
                    print(event.traceback, file=sys.stderr)
                failed = True
            elif isinstance(event, AwaitingLabels):
                bar.close()
                waiting += 1
                print(f"{spec.label:>22}  cycle {event.cycle:>3}  waits for you: {len(event.samples)} sample(s) "
                      "the LLM was unsure of")
            if report is not None:  # drawn after any line printed above, so that the bar stays the last line
                bar.label = report.stage_line()
                bar.show(report.fraction, eta_text(report.eta_seconds))
    finally:
        bar.close()
    return failed, waiting


def _finish(experiment, failed: bool, waiting: int) -> int:
    """The results files and the summary on the terminal, after the runs."""
    from .engine.metrics import FAIRNESS_METRICS, HEADLINE_FAIRNESS_METRIC
    from .engine.results import shows_interval, summarize, write_results
    from .engine.strategies import baseline

    try:
        rows = write_results(experiment)
    except UserInputError:
        if failed:  # what went wrong is said already; resume writes the results once it is put right
            return 1
        raise
    summary = summarize(rows)
    headline = FAIRNESS_METRICS[HEADLINE_FAIRNESS_METRIC]
    for strategy, entry in summary.items():
        acc, aulc, gap = entry["final_accuracy"], entry["aulc_accuracy"], entry[f"final_{headline.name}"]
        spread = "mean [95 % CI]" if shows_interval(entry["seeds"]) else "mean ± std"
        print(f"{strategy:>18}: final accuracy {_over_seeds(acc)}, area under curve {_over_seeds(aulc)}, "
              f"final {headline.short} {_over_seeds(gap)} ({entry['seeds']} seeds, {spread})")
    versus = baseline()
    for strategy, entry in summary.items():
        paired = entry.get("versus", {}).get(versus)
        if paired:
            n = paired["final_accuracy"]["n"]
            print(f"{strategy + ' - ' + versus:>18}: final accuracy {_paired_difference(paired['final_accuracy'])}; "
                  f"area under curve {_paired_difference(paired['aulc_accuracy'])} "
                  f"({n} paired seed{'s' if n != 1 else ''})")
    print(f"wrote {experiment.folder / 'metrics.csv'} and {experiment.folder / 'summary.json'}")
    if waiting:
        print(f"{waiting} run(s) wait for your labels: open {experiment.folder} in the workbench "
              f"(alstudio gui, File > Open experiment folder) and press Resume")
    return 1 if failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    from .engine.experiment import Experiment
    from .engine.models import check_architecture_serves
    from .engine.training import pick_device

    config = _config_from(args)
    if args.device or args.init:
        data = config.model_dump()
        data["training"]["device"] = args.device or data["training"]["device"]
        data["model"]["init"] = args.init or data["model"]["init"]
        config = configs.validate(data, "the command line")
    if config.annotator.kind == "human":
        raise UserInputError("annotator.kind 'human' needs the workbench (alstudio gui); `alstudio run` "
                             "supports oracle, noisy and llm")
    if config.annotator.kind == "llm" and args.human is None:
        raise UserInputError("annotator.kind 'llm' in `alstudio run` needs --human oracle (the ground truth "
                             "answers the samples the LLM is unsure of) or --human defer (they wait for you "
                             "in the workbench)")
    strategies = config.active.run_strategies()
    if args.strategies is not None:
        strategies = [s.strip() for s in args.strategies.split(",")]
        if not all(strategies):
            raise UserInputError(f"--strategies: give strategy names separated by commas, got {args.strategies!r}")
    check_architecture_serves(config.model.architecture, strategies)
    seeds = config.active.repetitions if args.seeds is None else args.seeds
    pick_device(config.training.device)  # before any folder is made
    experiment = Experiment.create(args.out, config, strategies, seeds, force=args.force,
                                   flagged_to=args.human or "oracle")
    try:
        return _drive(experiment, args.jobs)
    finally:
        experiment.release()


def _annotators_for(experiment):
    """What the LLM annotator flags: the ground truth answers it (--human oracle), or it waits for a
    person in the workbench (--human defer, and experiments the workbench started)."""
    from .engine.annotators import DeferredHumanAnnotator, SimulatedHumanAnnotator, build_annotator

    person = SimulatedHumanAnnotator if experiment.flagged_to == "oracle" else DeferredHumanAnnotator
    return lambda config, seed: build_annotator(config, seed, flagged_to=person())


def cmd_resume(args: argparse.Namespace) -> int:
    from .engine.experiment import Experiment
    from .engine.sweep import is_sweep
    from .sweep_cli import SWEEP_ONLY_OPTIONS, resume_sweep

    if is_sweep(args.folder):
        if args.jobs is not None:
            raise UserInputError(f"{args.folder}: --jobs applies to experiment folders; a sweep's runs at once "
                                 "are --max-parallel")
        return resume_sweep(args)
    given = [f"--{name.replace('_', '-')}" for name in SWEEP_ONLY_OPTIONS if getattr(args, name) is not None]
    if given:
        raise UserInputError(f"{args.folder}: {given[0]} applies to sweep folders only, and this is an experiment")
    experiment = Experiment.open(args.folder).for_writing()
    try:
        return _resume(experiment, args.folder, args.jobs)
    finally:
        experiment.release()


def _resume(experiment, folder, jobs: int | None = None) -> int:
    from .engine.results import refresh_results
    from .engine.runner import unfinished_runs
    from .engine.training import pick_device

    if experiment.config.annotator.kind == "human":
        raise UserInputError(f"{folder}: a person labels this experiment's queries; resume it in the "
                             "workbench (alstudio gui, File > Open experiment folder)")
    pending = unfinished_runs(experiment)
    if not pending:
        print(f"{folder}: every run is finished; nothing to resume")
        if refresh_results(experiment):  # a kill after the last run but before its results were written
            print(f"rewrote {experiment.folder / 'metrics.csv'} and {experiment.folder / 'summary.json'}, "
                  "which were out of date")
        return 0
    pick_device(experiment.config.training.device)  # e.g. an experiment begun on a GPU machine
    print(f"resuming {len(pending)} unfinished run(s): {', '.join(spec.label for spec in pending)}")
    return _drive(experiment, jobs)


def cmd_report(args: argparse.Namespace) -> int:
    from .engine.sweep import is_sweep
    from .report import draw_report, draw_sweep_report
    from .sweep_cli import refresh_stale_sweep_results

    png = _writable(args.png, "--png")
    sweeps = [folder for folder in args.folders if is_sweep(folder)]
    if sweeps:
        if len(args.folders) > 1:
            raise UserInputError(f"{sweeps[0]}: a sweep folder is reported alone (one panel per cell); "
                                 "give it without other folders")
        print(f"wrote {draw_sweep_report(sweeps[0], png)}")
        refresh_stale_sweep_results(sweeps[0])
        return 0
    print(f"wrote {draw_report(args.folders, png)}")
    for folder in args.folders:
        _refresh_stale_results(folder)
    return 0


def _refresh_stale_results(folder) -> None:
    """The report reads the journals; metrics.csv and summary.json are brought up to date too when
    they lag behind and no other process is writing the folder."""
    from .engine.experiment import Experiment
    from .engine.folder_lock import FolderInUseError
    from .engine.results import refresh_results, results_are_stale

    experiment = Experiment.open(folder)
    if not results_are_stale(experiment):
        return
    try:
        experiment = experiment.for_writing()
    except FolderInUseError:
        return  # the process writing there rewrites them after each run
    except UserInputError:
        print(f"alstudio: warning: {folder}: metrics.csv and summary.json are out of date and the folder cannot "
              "be written; the report was drawn from the journals", file=sys.stderr)
        return
    try:
        if refresh_results(experiment):
            print(f"rewrote {experiment.folder / 'metrics.csv'} and {experiment.folder / 'summary.json'}, "
                  "which were out of date")
    finally:
        experiment.release()


def cmd_pretrain(args: argparse.Namespace) -> int:
    from .engine.models.pretrained import SourceTask, cached_trunk, ensure_trunk

    data = _config_from(args).model_dump()
    if data["model"]["init"] == "scratch":
        data["model"]["init"] = "pretrained"
    if args.architecture:
        data["model"]["architecture"] = args.architecture
    if args.classes is not None:
        data["model"]["source_classes"] = [c for c in args.classes if not c.isspace() and c != ","]
    if args.device:
        data["training"]["device"] = args.device
    config = configs.validate(data, "the command line")
    task = SourceTask.for_config(config)
    how = "already built" if cached_trunk(task) is not None else "built"
    with _stage_bars() as progress:
        trunk = ensure_trunk(task, progress, device=config.training.device)
    print(f"pretrained trunk {how}: {task.describe()}; accuracy on held-out source images "
          f"{trunk.source_accuracy:.3f}; {trunk.path}")
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    for name in configs.preset_names():
        marker = " (default)" if name == configs.DEFAULT_PRESET else ""
        print(f"{name}{marker}\n    {configs.preset_summary(name)}")
    return 0


def cmd_fonts(args: argparse.Namespace) -> int:
    from .engine.data.fonts import AUDITED_CHARACTERS, bundled_families, default_families, installed_families

    bundled = bundled_families()
    mix = default_families(AUDITED_CHARACTERS)
    print(f"{len(mix)} font families in the default set (dataset.fonts = []):")
    for name in sorted(mix):
        print(f"  {name}")
    left_out = [name for name in bundled if name not in mix]
    if left_out:
        print("bundled but left out of the default set (they fail the glyph audit), usable by name:")
        for name in left_out:
            print(f"  {name}")
    others = [name for name in installed_families() if name not in bundled]
    if others:
        print("also installed, usable by name in dataset.fonts or as font groups:")
        for name in others:
            print(f"  {name}")
    return 0


def _gui_target(args: argparse.Namespace) -> tuple[configs.ExperimentConfig, Path | None]:
    """What `alstudio gui` opens: an experiment folder (as File > Open experiment folder does), a sweep
    folder (its table beside), or a config for a new experiment."""
    if args.config and Path(args.config).is_dir():
        from .gui.app import folder_to_show

        if args.preset:
            raise UserInputError("give either an experiment folder or --preset NAME, not both")
        return folder_to_show(args.config)
    return _config_from(args), None


def cmd_gui(args: argparse.Namespace) -> int:
    from .gui.app import run_gui

    if args.quit_after_cycles is not None and args.quit_after_cycles < 1:
        raise UserInputError(f"--quit-after-cycles must be at least 1, got {args.quit_after_cycles}")
    screenshot = str(_writable(args.screenshot, "--screenshot")) if args.screenshot else None
    export_plots = Path(args.export_plots) if args.export_plots else None
    if export_plots is not None and not export_plots.is_dir():
        raise UserInputError(f"--export-plots {export_plots}: not an existing folder")
    config, experiment = _gui_target(args)
    return run_gui(config, autostart=args.autostart, quit_after_cycles=args.quit_after_cycles,
                   screenshot=screenshot, lecture=args.lecture, experiment=experiment, export_plots=export_plots)


def cmd_install_desktop_entry(args: argparse.Namespace) -> int:
    from .desktop import install

    installed = install(Path(args.dir) if args.dir else None)
    print(f"wrote {installed.entry}\nwrote {installed.icon}")
    return 0


class _Parser(argparse.ArgumentParser):
    """Bad arguments are one sentence and exit 2, like every other bad input (not the usage block)."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"alstudio: error: {self.prog}: {message} (see {self.prog} --help)\n")


JOBS_HELP = ("runs executed at once, each in its own process with the cores shared out (default: one per core "
             "on a CPU, with the oracle or noisy annotator; otherwise 1). Results depend on the torch threads a "
             "run gets, so the same --jobs on the same machine gives the same results")


def build_parser() -> argparse.ArgumentParser:
    from .sweep_cli import add_engine_arguments, add_sweep_parser

    parser = _Parser(prog="alstudio", description="Active-learning workbench on biased "
                                     "Synbols datasets. With no command, opens the workbench.")
    parser.add_argument("--version", action="version", version=f"alstudio {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    generate = commands.add_parser("generate", help="generate (or load from the cache) a config's dataset")
    _add_config_arguments(generate)
    generate.add_argument("--out", metavar="FILE.npz", help="write the dataset as an .npz file")
    generate.add_argument("--preview", metavar="PNG", help="write a preview grid, one row block per group")
    generate.add_argument("--workers", type=int, metavar="N", help="worker processes (default: all cores)")
    generate.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    generate.set_defaults(handler=cmd_generate)

    run = commands.add_parser("run", help="run an experiment headless: every strategy x seed, journalled")
    _add_config_arguments(run)
    run.add_argument("--out", required=True, metavar="DIR", help="experiment folder to create")
    run.add_argument("--strategies", metavar="S1,S2", help="comma-separated strategies (default: active.strategies, "
                     "or active.strategy when that is empty)")
    run.add_argument("--seeds", type=int, metavar="N", help="repetitions, seeds derived from active.seed "
                     "(default: active.repetitions)")
    run.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="override training.device")
    run.add_argument("--init", choices=["pretrained", "self_supervised", "scratch"], help="override model.init: "
                     "the trunk starts pretrained on other characters, self-supervised on the pool's rotations, "
                     "or from random weights")
    run.add_argument("--force", action="store_true", help="replace the experiment already in DIR")
    run.add_argument("--human", choices=["oracle", "defer"], help="with the llm annotator: who answers flagged "
                     "samples (oracle: the ground truth, recorded as human_simulated; defer: they stay pending "
                     "in the journal and the run waits until you label them in the workbench)")
    run.add_argument("--jobs", type=int, metavar="N", help=JOBS_HELP)
    run.set_defaults(handler=cmd_run)

    resume = commands.add_parser("resume", help="continue an interrupted experiment or sweep")
    resume.add_argument("folder", metavar="DIR")
    resume.add_argument("--jobs", type=int, metavar="N", help=JOBS_HELP + " (experiment folders)")
    add_engine_arguments(resume, resuming=True)  # for a sweep folder only
    resume.set_defaults(handler=cmd_resume)

    add_sweep_parser(commands, _add_config_arguments)

    report = commands.add_parser("report", help="draw an experiment's curves to a PNG (no display needed); "
                                 "several folders: their learning curves compared, also against labels from people")
    report.add_argument("folders", nargs="+", metavar="DIR")
    report.add_argument("--png", required=True, metavar="FILE")
    report.set_defaults(handler=cmd_report)

    pretrain = commands.add_parser("pretrain", help="build (or find) the pretrained trunk a config's runs start "
                                   "from: learned on characters that are not the experiment's classes")
    _add_config_arguments(pretrain)
    pretrain.add_argument("--architecture", choices=["cnn", "resnet18"], help="override model.architecture")
    pretrain.add_argument("--classes", metavar="CHARS", help="the source task's characters, e.g. bcefg "
                          "(default: letters and digits that are not dataset.classes)")
    pretrain.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="override training.device")
    pretrain.set_defaults(handler=cmd_pretrain)

    commands.add_parser("presets", help="list the built-in presets").set_defaults(handler=cmd_presets)
    commands.add_parser("fonts", help="list the font families").set_defaults(handler=cmd_fonts)

    gui = commands.add_parser("gui", help="open the workbench, with a config or an experiment folder")
    _add_config_arguments(gui, or_folder=True)
    gui.add_argument("--autostart", action="store_true", help="start the experiment at once")
    gui.add_argument("--quit-after-cycles", type=int, metavar="N", help="quit after N cycle results (implies "
                     "--autostart)")
    gui.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the main window as it quits")
    gui.add_argument("--export-plots", metavar="DIR", help="write every plot as PNG and SVG into the folder DIR "
                     "as it quits")
    gui.add_argument("--lecture", action="store_true", help="open in lecture mode (F11 toggles it)")
    gui.set_defaults(handler=cmd_gui)

    desktop = commands.add_parser("install-desktop-entry", help="add the workbench to a Linux desktop's "
                                  "application menu: alstudio.desktop and its icon")
    desktop.add_argument("--dir", metavar="DIR", help="the data folder to install into: the entry goes into "
                         "DIR/applications, the icon into DIR/icons/hicolor/scalable/apps (default: $XDG_DATA_HOME, "
                         "or ~/.local/share)")
    desktop.set_defaults(handler=cmd_install_desktop_entry)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(format="alstudio: warning: %(message)s", level=logging.WARNING)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui", *(argv if argv is not None else sys.argv[1:])])
    try:
        return args.handler(args)
    except UserInputError as err:
        print(f"alstudio: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\nalstudio: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def entry() -> None:
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `alstudio generate | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)

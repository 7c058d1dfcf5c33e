"""The papers' claims re-run in alstudio, with enough seeds to judge them (docs/results.md).

    .venv/bin/python benchmarks/studies.py STUDY --out DIR [--seeds 5] [--device auto] [--cycles N]

STUDY is one of:
- fairness-minority, fairness-correlation: the fairness paper on the `minority-color` and
  `correlation-color` presets: random, entropy, bald, then bald and random with GRAD
  (training.grad_lambda = 1), then random and bald from a scratch trunk, then the fairness-aware
  baselines balanced_bald (true groups: an upper bound) and representative_bald, then random and
  bald from a trunk learned self-supervised on the pool's own images (rotations);
- ll4al: the `ll4al-ten-classes` preset: random, entropy, coreset, learning_loss.

Every condition is an experiment folder under DIR (resumable: run the same command again to finish
an interrupted study). Conditions share `active.seed`, so seed k has the same initial labels and the
same model initialisations everywhere, and differences are paired by seed. Prints, for each
condition, the mean and 95 % interval over seeds of the final metrics and the area under the
learning curve, and the paired difference from the study's reference condition (t-test p-value);
writes the same as STUDY.md in DIR.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# Metrics in the tables: (column in metrics.csv or "aulc", heading, better when higher)
METRICS = (("accuracy", "final accuracy", True), ("aulc", "AULC", True), ("accuracy_gap", "accuracy gap", False),
           ("ppv_gap", "PPV gap", False), ("eo_diff", "EO diff.", False), ("dp_diff", "DP diff.", False),
           ("labeled_share_minority_cells", "minority share acquired", None))


@dataclass(frozen=True)
class Condition:
    name: str
    strategy: str
    overrides: dict = field(default_factory=dict)  # section -> key -> value
    versus: tuple[str, ...] = ()  # other conditions it is also compared with, paired by seed


FAIRNESS_METRICS = tuple(column for column, _, _ in METRICS)
ACCURACY_METRICS = ("accuracy", "aulc")


# The conditions drawn in a study's figure (all of them crowd it): the paper's comparison and its controls.
FIGURE = ("random", "bald", "bald + GRAD", "bald, scratch trunk", "group-balanced bald", "entropy", "coreset",
          "learning_loss")


def _fairness(preset: str) -> tuple[str, list[Condition]]:
    grad = {"training": {"grad_lambda": 1.0}}
    scratch = {"model": {"init": "scratch"}}
    self_supervised = {"model": {"init": "self_supervised"}}
    conditions = [Condition("random", "random"), Condition("entropy", "entropy"), Condition("bald", "bald"),
                  Condition("bald + GRAD", "bald", grad), Condition("random + GRAD", "random", grad),
                  Condition("random, scratch trunk", "random", scratch),
                  Condition("bald, scratch trunk", "bald", scratch),
                  Condition("group-balanced bald", "balanced_bald"),
                  Condition("representative bald", "representative_bald"),
                  Condition("random, self-supervised trunk", "random", self_supervised,
                            ("random", "random, scratch trunk")),
                  Condition("bald, self-supervised trunk", "bald", self_supervised,
                            ("bald", "bald, scratch trunk", "random, self-supervised trunk"))]
    return preset, FAIRNESS_METRICS, conditions


STUDIES = {
    "fairness-minority": lambda: _fairness("minority-color"),
    "fairness-correlation": lambda: _fairness("correlation-color"),
    "ll4al": lambda: ("ll4al-ten-classes", ACCURACY_METRICS,
                      [Condition(s, s) for s in ("random", "entropy", "coreset", "learning_loss")]),
}


def condition_config(preset: str, condition: Condition, device: str, cycles: int | None):
    from alstudio.engine import config as configs

    data = configs.load_preset(preset).model_dump()
    data["active"].update(strategy=condition.strategy, strategies=[condition.strategy])
    data["training"]["device"] = device
    if cycles is not None:
        data["active"]["cycles"] = cycles
    for section, values in condition.overrides.items():
        data[section].update(values)
    return configs.validate(data, f"study condition {condition.name!r}")


def run_condition(folder: Path, config, seeds: int, run: bool = True) -> list[dict]:
    """The condition's metrics rows, running what is not finished yet (unless `run` is False)."""
    from alstudio.engine.experiment import Experiment
    from alstudio.engine.loop import Failed
    from alstudio.engine.results import collect_rows, write_results
    from alstudio.engine.runner import prepare, run_experiment, unfinished_runs

    if (folder / "experiment.json").exists():
        experiment = Experiment.open(folder)
    elif not run:
        return []
    else:
        experiment = Experiment.create(folder, config, config.active.run_strategies(), seeds)
    if run and unfinished_runs(experiment):
        experiment = experiment.for_writing()
        try:
            dataset, _ = prepare(experiment.config)
            for spec, event in run_experiment(experiment, dataset):
                if isinstance(event, Failed):
                    raise SystemExit(f"{spec.label} failed: {event.message}\n{event.traceback}")
            write_results(experiment)
        finally:
            experiment.release()
    return collect_rows(experiment)


def run_device(folder: Path) -> str:
    """The device a condition's first run trained on, and its torch, from the journal's fingerprint."""
    from alstudio.engine.journal import Journal

    journal_path = next(folder.glob("runs/*/journal.sqlite"))
    with Journal.open(journal_path) as journal:
        fingerprint = journal.fingerprint
    return f"{fingerprint['device']} (torch {fingerprint['torch']})"


def finished_seeds_only(rows: list[dict], cycles: int) -> list[dict]:
    """The rows of seeds that reached the last cycle: a stopped seed's last cycle is not final."""
    done = {r["seed"] for r in rows if r["cycle"] == cycles}
    return [r for r in rows if r["seed"] in done]


def per_seed(rows: list[dict], column: str) -> dict[int, float]:
    """seed -> the final value of `column`, or the area under the accuracy curve for "aulc"."""
    from alstudio.engine.results import final_per_seed

    return {seed: float(final["aulc_accuracy"] if column == "aulc" else final["row"][column])
            for seed, final in sorted(final_per_seed(rows).items())}


def _interval(values) -> str:
    from alstudio.engine.stats import mean_interval

    i = mean_interval(values)
    return f"{i.mean:.3f} [{i.low:.3f}, {i.high:.3f}]"


def _difference(reference: dict[int, float], other: dict[int, float]) -> str:
    from alstudio.engine.stats import paired_difference

    seeds = sorted(set(reference) & set(other))
    d = paired_difference([reference[s] for s in seeds], [other[s] for s in seeds])
    return f"{d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}], p = {d.p_value:.3g}"


def tables(study: str, preset: str, results: dict[str, list[dict]], reference: str,
           devices: dict[str, str], metrics: tuple[str, ...], pairs: list[tuple[str, str]] = ()) -> str:
    lines = [f"Study `{study}` (preset `{preset}`), {_seeds(results)} seeds; "
             "mean [95 % t-interval] over seeds; differences paired by seed against "
             f"**{reference}** (paired t-test). Ran on: "
             + "; ".join(f"{name}: {device}" for name, device in devices.items()) + ".", ""]
    for column, heading, _ in METRICS:
        if column not in metrics:
            continue
        lines += [f"**{heading}**", "", f"| condition | {heading} | minus {reference} |", "|---|---|---|"]
        base = per_seed(results[reference], column)
        for name, rows in results.items():
            values = per_seed(rows, column)
            versus = "" if name == reference else _difference(base, values)
            lines.append(f"| {name} | {_interval(list(values.values()))} | {versus} |")
        lines.append("")
    return "\n".join(lines + pairs_table(results, pairs) + learning_curve_table(results))


PAIRED_COLUMNS = ("accuracy", "aulc", "ppv_gap")


def pairs_table(results: dict[str, list[dict]], pairs: list[tuple[str, str]]) -> list[str]:
    """Each (condition, other) pair's paired difference, for comparisons other than with the reference."""
    pairs = [(a, b) for a, b in pairs if a in results and b in results]
    if not pairs:
        return []
    headings = [heading for column, heading, _ in METRICS if column in PAIRED_COLUMNS]
    lines = ["**other paired comparisons** (condition minus other, by seed)", "",
             "| condition | minus | " + " | ".join(headings) + " |", "|---|---|" + "---|" * len(headings)]
    for a, b in pairs:
        cells = [_difference(per_seed(results[b], column), per_seed(results[a], column))
                 for column, _, _ in METRICS if column in PAIRED_COLUMNS]
        lines.append(f"| {a} | {b} | " + " | ".join(cells) + " |")
    return lines + [""]


def learning_curve_table(results: dict[str, list[dict]]) -> list[str]:
    """Test accuracy at each labeled count, mean over seeds, one column per condition."""
    from alstudio.engine.results import curves

    means = {}
    for name, rows in results.items():
        curve = curves(rows, "accuracy")[rows[0]["strategy"]]  # one strategy per condition
        means[name] = dict(zip(curve["x"].tolist(), curve["mean"].tolist()))
    counts = sorted({x for values in means.values() for x in values})
    lines = ["**test accuracy by labeled count** (mean over seeds)", "",
             "| labels | " + " | ".join(means) + " |", "|---" * (len(means) + 1) + "|"]
    for x in counts:
        cells = (f"{values[x]:.3f}" if x in values else "" for values in means.values())
        lines.append(f"| {x:.0f} | " + " | ".join(cells) + " |")
    return lines + [""]


def _seeds(results: dict[str, list[dict]]) -> int:
    return min(len({r["seed"] for r in rows}) for rows in results.values())


def condition_folder(out: Path, condition: Condition) -> Path:
    return out / condition.name.replace(" ", "_").replace(",", "").replace("+", "plus")


def figure_folders(out: Path, conditions: list[Condition], results: dict) -> list[Path]:
    """The finished FIGURE conditions' folders, for `alstudio report` to draw side by side."""
    return [condition_folder(out, c) for c in conditions if c.name in FIGURE and c.name in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", choices=sorted(STUDIES))
    parser.add_argument("--out", type=Path, required=True, help="folder of the study's experiments (resumable)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    parser.add_argument("--cycles", type=int, default=None, help="default: the preset's (fewer for a quick try)")
    parser.add_argument("--png", type=Path, help="also draw the study's figure into this PNG")
    parser.add_argument("--report-only", action="store_true", help="tables from the finished runs in --out, "
                        "running nothing (e.g. for runs made on another machine)")
    args = parser.parse_args()
    import torch

    preset, metrics, conditions = STUDIES[args.study]()
    args.out.mkdir(parents=True, exist_ok=True)
    results, devices, started = {}, {}, time.perf_counter()
    for condition in conditions:
        t = time.perf_counter()
        folder = condition_folder(args.out, condition)
        rows = run_condition(folder, condition_config(preset, condition, args.device, args.cycles), args.seeds,
                             run=not args.report_only)
        if rows:
            results[condition.name] = finished_seeds_only(rows, condition_config(preset, condition, args.device,
                                                                                 args.cycles).active.cycles)
            devices[condition.name] = run_device(folder)
        print(f"{condition.name}: {time.perf_counter() - t:.0f} s", flush=True)
    pairs = [(c.name, other) for c in conditions for other in c.versus]
    text = tables(args.study, preset, results, conditions[0].name, devices, metrics, pairs)
    if args.report_only:
        text += f"\nTables from the runs found finished in the study's folder: `{' '.join(sys.argv)}`.\n"
    else:
        text += (f"\nThis machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}; "
                 f"{time.perf_counter() - started:.0f} s in all. Command: `{' '.join(sys.argv)}`.\n")
    if args.png:  # the figure is `alstudio report`'s, drawn from the same folders
        from alstudio.cli import main as alstudio

        folders = figure_folders(args.out, conditions, results)
        if alstudio(["report", *map(str, folders), "--png", str(args.png)]) != 0:
            raise SystemExit(f"--png {args.png}: the figure could not be drawn")
        text += (f"\nFigure: `alstudio report {' '.join(f.name for f in folders)} --png {args.png.name}`, "
                 f"run in {args.out}.\n")
    (args.out / f"{args.study}.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()

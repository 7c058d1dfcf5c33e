"""The mixed-annotation effect on Synbols: test accuracy against the number of human labels, for
human-only labeling (every queried label from a person) vs mixed labeling (a simulated LLM of
accuracy A answers; only what fails its consistency check goes to a person).

    .venv/bin/python benchmarks/mixed_annotation.py [--seeds 2] [--accuracies 0.9 0.75]
        [--cycles N] [--epochs N] [--png docs/figures/mixed_annotation.png]

Lecture preset `lecture-bald-vs-random`, strategy bald. The initial labels count as human labels in
both conditions. The simulated LLM casts `samples` = 3 independent votes per image, each right with
probability A; unanimous votes are accepted (source "llm"), the rest are labeled by the ground truth
(source "human_simulated"). Prints a markdown table for docs/results.md and draws one PNG.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

HUMAN_SOURCES = ("initial", "oracle", "human", "human_simulated")
PRESET = "lecture-bald-vs-random"
COLORS = {"human only": "#0072B2", "mixed": ("#D55E00", "#009E73", "#CC79A7", "#E69F00")}


def make_config(cycles: int | None, epochs: int | None, init: str = "scratch"):
    from alstudio.engine import config as configs

    config = configs.load_preset(PRESET)
    data = config.model_dump()
    data["active"]["strategy"] = "bald"
    data["model"]["init"] = init
    if cycles is not None:
        data["active"]["cycles"] = cycles
    if epochs is not None:
        data["training"]["epochs"] = epochs
    return configs.validate(data, source=f"preset {PRESET}")


def run_one(config, dataset, annotator, seed: int, folder: Path) -> list[dict]:
    """One bald run; per cycle: labels, human labels, llm labels, wrong labels, test accuracy."""
    from alstudio.engine.journal import Journal
    from alstudio.engine.loop import CycleResult, Failed, new_run_fingerprint, run

    path = folder / "journal.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    journal = Journal.create(path, config, "bald", seed, new_run_fingerprint(config, seed))
    truth = dataset.pool.classes
    rows = []
    try:
        for event in run(journal, dataset, annotator, explain=False):
            if isinstance(event, Failed):
                raise RuntimeError(f"run failed: {event.message}\n{event.traceback}")
            if not isinstance(event, CycleResult):
                continue
            # The metrics count labels at evaluation time, before this cycle's query: the same set
            # the model was trained on and n_labeled counts.
            by_source = event.metrics["labels_by_source"]
            labels = journal.labels()
            wrong = sum(int(label != truth[sample]) for sample, (label, _, cycle) in labels.items()
                        if cycle <= event.cycle)
            rows.append({"cycle": event.cycle, "n_labeled": event.n_labeled,
                         "accuracy": float(event.metrics["accuracy"]),
                         "human": sum(by_source.get(s, 0) for s in HUMAN_SOURCES),
                         "llm": by_source.get("llm", 0), "wrong": wrong})
    finally:
        journal.close()
    return rows


def summarise(runs: list[list[dict]]) -> dict:
    """Stack the seeds' per-cycle rows into arrays [S, cycles]."""
    keys = ("n_labeled", "accuracy", "human", "llm", "wrong")
    return {key: np.array([[row[key] for row in rows] for rows in runs], dtype=float) for key in keys}


def curve(x: np.ndarray, y: np.ndarray) -> dict:
    """A CurvePlot curve: the mean x per cycle (x may differ between seeds), y mean ± std over seeds
    (CurvePlot draws the 95 % CI instead from three seeds on, from `seeds`)."""
    return {"x": x.mean(axis=0), "mean": y.mean(axis=0), "std": y.std(axis=0), "seeds": y}


def draw(results: dict[str, dict], png: Path, width: int = 1300, height: int = 500) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from alstudio.plotting import CurvePlot
    from alstudio.report import save_sheet

    app = QApplication.instance() or QApplication([])
    mixed_colors = iter(COLORS["mixed"])
    colors = {name: COLORS["human only"] if name == "human only" else next(mixed_colors) for name in results}
    by_human = CurvePlot("Accuracy vs human labels ({band})", "test accuracy", colors=colors)
    by_human.setLabel("bottom", "human labels (initial labels included)")
    by_total = CurvePlot("Accuracy vs all labels (human + LLM)", "test accuracy", colors=colors)
    by_total.setLabel("bottom", "labeled images")
    for name, arrays in results.items():
        for plot, x in ((by_human, arrays["human"]), (by_total, arrays["n_labeled"])):
            plot.set_curves({name: curve(x, arrays["accuracy"])})
    save_sheet(app, [by_human, by_total], png, width, height)


def table(results: dict[str, dict]) -> str:
    lines = ["| condition | final labels | final human labels | LLM labels accepted | final accuracy | "
             "wrong labels |",
             "|---|---|---|---|---|---|"]
    for name, a in results.items():
        final = {key: value[:, -1] for key, value in a.items()}
        lines.append(f"| {name} | {final['n_labeled'].mean():.0f} | {final['human'].mean():.1f} | "
                     f"{final['llm'].mean():.1f} | {final['accuracy'].mean():.3f} ± {final['accuracy'].std():.3f} | "
                     f"{final['wrong'].mean():.1f} |")
    return "\n".join(lines)


def per_cycle(results: dict[str, dict]) -> str:
    """Mean over seeds per cycle, to read how many human labels reach a given accuracy."""
    names = list(results)
    lines = ["| cycle | " + " | ".join(f"{n}: human labels / accuracy" for n in names) + " |",
             "|---|" + "---|" * len(names)]
    cycles = results[names[0]]["accuracy"].shape[1]
    for c in range(cycles):
        cells = [f"{results[n]['human'][:, c].mean():.0f} / {results[n]['accuracy'][:, c].mean():.3f}"
                 for n in names]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--accuracies", type=float, nargs="+", default=[0.9, 0.75])
    parser.add_argument("--samples", type=int, default=3, help="votes per image for the consistency check")
    parser.add_argument("--cycles", type=int, default=None, help="default: the preset's")
    parser.add_argument("--epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--init", choices=["scratch", "pretrained"], default="scratch",
                        help="the trunk's start (docs/results.md's figures: scratch, measured before pretraining)")
    parser.add_argument("--png", type=Path, default=Path("docs/figures/mixed_annotation.png"))
    args = parser.parse_args()

    started = time.perf_counter()
    import torch

    from alstudio.engine.annotators.simulated import OracleAnnotator, SimulatedLLMAnnotator
    from alstudio.engine.data import load_or_generate
    from alstudio.engine.experiment import run_seed

    config = make_config(args.cycles, args.epochs, args.init)
    dataset, cached = load_or_generate(config.dataset)
    n_classes = len(dataset.class_names)
    seeds = [run_seed(config.active.seed, i) for i in range(args.seeds)]
    conditions = [("human only", lambda seed: OracleAnnotator())]
    conditions += [(f"mixed, LLM accuracy {a:g}",
                    lambda seed, a=a: SimulatedLLMAnnotator(n_classes, seed, accuracy=a, samples=args.samples))
                   for a in args.accuracies]

    results = {}
    with tempfile.TemporaryDirectory(prefix="alstudio-mixed-") as tmp:
        for name, make in conditions:
            runs = []
            for i, seed in enumerate(seeds):
                t = time.perf_counter()
                runs.append(run_one(config, dataset, make(seed), seed, Path(tmp) / f"{name}-{i}"))
                last = runs[-1][-1]
                print(f"{name}, seed {i + 1}: {time.perf_counter() - t:.0f} s, accuracy {last['accuracy']:.3f}, "
                      f"{last['human']} human / {last['llm']} llm labels, {last['wrong']} wrong", flush=True)
            results[name] = summarise(runs)
    draw(results, args.png)
    elapsed = time.perf_counter() - started

    a = config.active
    print(f"\nPreset {PRESET}, strategy bald, {len(seeds)} seeds, {a.cycles} cycles of {a.query_size} after "
          f"{a.initial_labels} initial labels, {config.training.epochs} epochs; dataset "
          f"{'from the cache' if cached else 'generated'}; {platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}, {'CUDA' if torch.cuda.is_available() else 'CPU only'}.\n")
    print(table(results))
    print()
    print(per_cycle(results))
    print(f"\nFigure: {args.png}\nTotal wall time: {elapsed:.0f} s")


if __name__ == "__main__":
    main()

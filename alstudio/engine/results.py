"""Experiment results from the journals: metrics.csv rows, summary.json and curves over seeds."""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path

import numpy as np

from .data.bias import minority_cells, pool_counts
from .experiment import Experiment, write_json
from .journal import Journal
from .loop import LABEL_SOURCES
from .metrics import area_under_curve

FAIRNESS_COLUMNS = ("accuracy_gap", "ppv_gap", "eo_diff", "dp_diff")


def metrics_row(strategy: str, seed: int, cycle: int, n_labeled: int, metrics: dict, dataset_config,
                train_seconds: float | None = None, query_seconds: float | None = None) -> dict:
    """One metrics.csv row from a cycle's metrics (as the loop reports and the journal stores them)."""
    d = dataset_config
    minority = minority_cells(d.bias, d.bias_strength, len(d.classes), len(d.groups))
    row = {"strategy": strategy, "seed": seed, "cycle": cycle, "n_labeled": n_labeled, "accuracy": metrics["accuracy"]}
    row.update({name: metrics[name] for name in FAIRNESS_COLUMNS})
    row.update({f"accuracy_{g}": v for g, v in zip(d.groups, metrics["accuracy_per_group"])})
    row.update({f"labeled_share_{g}": v for g, v in zip(d.groups, metrics["labelled_share"])})
    counts = np.asarray(metrics["labelled_count"], dtype=float)
    row["labeled_share_minority_cells"] = float(counts[minority].sum() / max(counts.sum(), 1))
    row.update({f"labels_{s}": metrics["labels_by_source"].get(s, 0) for s in LABEL_SOURCES})
    row["label_accuracy"] = metrics.get("label_accuracy", math.nan)
    llm = metrics.get("annotator", {})
    row["llm_labels"] = metrics["labels_by_source"].get("llm", 0)
    row["human_labels"] = sum(metrics["labels_by_source"].get(s, 0) for s in ("human", "human_simulated"))
    row["people_labels"] = n_labeled - row["llm_labels"]  # the initial labels and every label not from an LLM
    row["flagged"] = llm.get("flagged", 0)
    row["llm_accuracy"] = llm.get("llm_accuracy", math.nan)
    row["llm_cost_usd"] = llm.get("llm_cost_usd", 0.0)
    for key in ("llm_requests", "llm_tokens_in", "llm_tokens_out"):
        row[key] = llm.get(key, 0)
    row["train_seconds"] = train_seconds
    row["query_seconds"] = query_seconds
    return row


def collect_rows(experiment: Experiment) -> list[dict]:
    """One row per strategy, seed and evaluated cycle, from every journal that exists."""
    rows = []
    for spec in experiment.runs():
        if not spec.journal_path.exists():
            continue
        with Journal.open(spec.journal_path) as journal:
            cycles = journal.cycles()
        rows.extend(metrics_row(spec.strategy, spec.index + 1, c["cycle"], c["n_labeled"], c["metrics"],
                                experiment.config.dataset, c["train_seconds"], c["query_seconds"]) for c in cycles)
    return rows


def pool_minority_share(dataset_config) -> float:
    """The pool's base rate of minority cells, to compare what strategies acquire against."""
    d = dataset_config
    counts = pool_counts(d)
    return float(counts[minority_cells(d.bias, d.bias_strength, len(d.classes), len(d.groups))].sum() / counts.sum())


def write_metrics_csv(rows: list[dict], path: Path) -> None:
    if not rows:
        return
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def _mean_std(values: list[float]) -> dict:
    array = np.asarray(values, dtype=float)
    finite = array[np.isfinite(array)]
    if not len(finite):
        return {"mean": math.nan, "std": math.nan, "n": 0}
    return {"mean": float(finite.mean()), "std": float(finite.std(ddof=1)) if len(finite) > 1 else 0.0,
            "n": int(len(finite))}


def summarize(rows: list[dict]) -> dict:
    """Per strategy: mean and std over seeds of the final accuracy, the area under the learning
    curve (accuracy vs labels, normalised) and the final fairness gaps."""
    summary = {}
    for strategy in dict.fromkeys(r["strategy"] for r in rows):
        per_seed: dict[int, list[dict]] = {}
        for r in rows:
            if r["strategy"] == strategy:
                per_seed.setdefault(r["seed"], []).append(r)
        finals = [max(seed_rows, key=lambda r: r["cycle"]) for seed_rows in per_seed.values()]
        aulc = [area_under_curve([r["n_labeled"] for r in seed_rows], [r["accuracy"] for r in seed_rows])
                for seed_rows in per_seed.values()]
        entry = {"seeds": len(per_seed), "final_n_labeled": int(max(r["n_labeled"] for r in finals)),
                 "final_accuracy": _mean_std([r["accuracy"] for r in finals]), "aulc_accuracy": _mean_std(aulc)}
        for name in FAIRNESS_COLUMNS:
            entry[f"final_{name}"] = _mean_std([r[name] for r in finals])
        summary[strategy] = entry
    return summary


def write_results(experiment: Experiment) -> list[dict]:
    rows = collect_rows(experiment)
    write_metrics_csv(rows, experiment.folder / "metrics.csv")
    write_json(experiment.folder / "summary.json", summarize(rows))
    return rows


def curves(rows: list[dict], column: str, x: str = "n_labeled") -> dict[str, dict]:
    """Per strategy: x (the labelled count, or another count column such as people_labels), mean and
    std over seeds at each x, and each seed's curve."""
    out = {}
    for strategy in dict.fromkeys(r["strategy"] for r in rows):
        mine = [r for r in rows if r["strategy"] == strategy]
        xs = sorted({r[x] for r in mine})
        seeds = sorted({r["seed"] for r in mine})
        table = np.full((len(seeds), len(xs)), np.nan)
        for r in mine:
            table[seeds.index(r["seed"]), xs.index(r[x])] = r[column]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column is simply NaN here
            mean = np.nanmean(table, axis=0)
            std = np.nanstd(table, axis=0)
        out[strategy] = {"x": np.asarray(xs, float), "mean": mean, "std": std, "seeds": table}
    return out


def annotation_name(experiment: Experiment) -> str:
    """Who labelled an experiment's queries, for telling compared experiments apart."""
    a = experiment.config.annotator
    if a.kind == "noisy":
        return f"noisy {100 * a.error_rate:g}%"
    if a.kind == "llm":
        return "LLM + oracle" if experiment.flagged_to == "oracle" else "LLM + human"
    return a.kind


def compared_curves(named_rows: dict[str, list[dict]], column: str, x: str = "n_labeled") -> dict[str, dict]:
    """curves() of several experiments in one dict, each curve named "<experiment> · <strategy>"."""
    return {f"{name} · {strategy}": data for name, rows in named_rows.items()
            for strategy, data in curves(rows, column, x).items()}

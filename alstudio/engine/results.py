"""Experiment results from the journals: metrics.csv rows, summary.json (with confidence intervals
and paired differences between strategies) and curves over seeds with their bands."""

from __future__ import annotations

import csv
import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data.bias import minority_cells, pool_counts
from .experiment import Experiment, json_text, write_json, write_text_atomically
from .journal import Journal
from .loop import LABEL_SOURCES
from .metrics import FAIRNESS_METRICS, area_under_curve, fairness_metrics_headline_first
from .stats import mean_interval, paired_difference
from .strategies import baseline

# From this many seeds on, curves and summaries show the 95 % CI of the mean; below it ± std: over 2
# seeds the t-interval is about 9 std wide (t = 12.7 with one degree of freedom), which says nothing.
CI_MIN_SEEDS = 3


@dataclass(frozen=True)
class LLMAccounting:
    """What the LLM annotator did in a run up to a cycle: metrics.csv's llm columns, typed."""

    labels: int = 0  # accepted from the LLM
    flagged: int = 0  # sent to a person
    agreement: float = math.nan  # with the true class; NaN before any answer
    cost_usd: float = 0.0
    requests: int = 0
    tokens_in: int = 0
    tokens_out: int = 0

    # field -> metrics.csv column, in the file's order
    COLUMNS = (("labels", "llm_labels"), ("flagged", "flagged"), ("agreement", "llm_accuracy"),
               ("cost_usd", "llm_cost_usd"), ("requests", "llm_requests"), ("tokens_in", "llm_tokens_in"),
               ("tokens_out", "llm_tokens_out"))

    @classmethod
    def from_metrics(cls, metrics: dict) -> LLMAccounting:
        """From a cycle's metrics as the loop reports them and the journal stores them."""
        llm = metrics.get("annotator", {})
        return cls(metrics["labels_by_source"].get("llm", 0), llm.get("flagged", 0), llm.get("llm_accuracy", math.nan),
                   llm.get("llm_cost_usd", 0.0), llm.get("llm_requests", 0), llm.get("llm_tokens_in", 0),
                   llm.get("llm_tokens_out", 0))

    @classmethod
    def from_row(cls, row: dict) -> LLMAccounting:
        return cls(**{name: row[column] for name, column in cls.COLUMNS})

    def columns(self) -> dict:
        return {column: getattr(self, name) for name, column in self.COLUMNS}

    def agreement_text(self) -> str:
        """The agreement as a percentage, "n/a" before any answer."""
        return "n/a" if self.agreement != self.agreement else f"{100 * self.agreement:.0f}%"


def metrics_row(strategy: str, seed: int, cycle: int, n_labeled: int, metrics: dict, dataset_config,
                train_seconds: float | None = None, query_seconds: float | None = None) -> dict:
    """One metrics.csv row from a cycle's metrics (as the loop reports and the journal stores them)."""
    d = dataset_config
    minority = minority_cells(d)
    row = {"strategy": strategy, "seed": seed, "cycle": cycle, "n_labeled": n_labeled, "accuracy": metrics["accuracy"]}
    # a journal written before a metric was added lacks it: its cycles are not measured, not unfair
    row.update({name: metrics.get(name, math.nan) for name in FAIRNESS_METRICS})
    row.update({f"accuracy_{g}": v for g, v in zip(d.groups, metrics["accuracy_per_group"])})
    row.update({f"labeled_share_{g}": v for g, v in zip(d.groups, metrics["labeled_share"])})
    counts = np.asarray(metrics["labeled_count"], dtype=float)
    row["labeled_share_minority_cells"] = float(counts[minority].sum() / max(counts.sum(), 1))
    row.update({f"labels_{s}": metrics["labels_by_source"].get(s, 0) for s in LABEL_SOURCES})
    row["label_accuracy"] = metrics.get("label_accuracy", math.nan)
    llm = LLMAccounting.from_metrics(metrics)
    row["llm_labels"] = llm.labels
    row["human_labels"] = sum(metrics["labels_by_source"].get(s, 0) for s in ("human", "human_simulated"))
    row["people_labels"] = n_labeled - llm.labels  # the initial labels and every label not from an LLM
    row.update(llm.columns())
    row["train_seconds"] = train_seconds
    row["query_seconds"] = query_seconds
    return row


def collect_rows(experiment: Experiment) -> list[dict]:
    """One row per strategy, seed and evaluated cycle, from every journal that exists."""
    rows = []
    for spec in experiment.runs():
        if Journal.is_unstarted(spec.journal_path):
            continue
        with Journal.open(spec.journal_path, read_only=True) as journal:  # a report may read a read-only disk
            cycles = journal.cycles()
        rows.extend(metrics_row(spec.strategy, spec.index + 1, c["cycle"], c["n_labeled"], c["metrics"],
                                experiment.config.dataset, c["train_seconds"], c["query_seconds"]) for c in cycles)
    return rows


def pool_minority_share(dataset_config) -> float:
    """The pool's base rate of minority cells, to compare what strategies acquire against."""
    counts = pool_counts(dataset_config)
    return float(counts[minority_cells(dataset_config)].sum() / counts.sum())


def metrics_csv_text(rows: list[dict]) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


def write_metrics_csv(rows: list[dict], path: Path) -> None:
    if rows:
        write_text_atomically(path, metrics_csv_text(rows))


def _mean_std(values: list[float]) -> dict:
    """Mean, std and the 95 % CI of the mean (nan bounds below two values) over the finite values."""
    array = np.asarray(values, dtype=float)
    finite = array[np.isfinite(array)]
    if not len(finite):
        return {"mean": math.nan, "std": math.nan, "n": 0, "ci_low": math.nan, "ci_high": math.nan}
    interval = mean_interval(finite)
    return {"mean": float(finite.mean()), "std": float(finite.std(ddof=1)) if len(finite) > 1 else 0.0,
            "n": int(len(finite)), "ci_low": interval.low, "ci_high": interval.high}


def shows_interval(n):
    """The one rule for every curve band and summary line: the 95 % CI from CI_MIN_SEEDS seeds on
    (`n` a count, or an array of them)."""
    return n >= CI_MIN_SEEDS


def final_per_seed(rows: list[dict]) -> dict[int, dict]:
    """seed -> the run's last cycle row and its area under the learning curve."""
    per_seed: dict[int, list[dict]] = {}
    for r in rows:
        per_seed.setdefault(r["seed"], []).append(r)
    out = {}
    for seed, seed_rows in per_seed.items():
        final = max(seed_rows, key=lambda r: r["cycle"])
        aulc = area_under_curve([r["n_labeled"] for r in seed_rows], [r["accuracy"] for r in seed_rows])
        out[seed] = {"cycle": final["cycle"], "final_accuracy": final["accuracy"], "aulc_accuracy": aulc,
                     **{f"final_{name}": final.get(name, math.nan) for name in FAIRNESS_METRICS}, "row": final}
    return out


def paired_metrics() -> tuple[str, ...]:
    """The summary's metrics compared pair by pair between strategies (b - a over the seeds both ran)."""
    return ("final_accuracy", "aulc_accuracy",
            *(f"final_{m.name}" for m in fairness_metrics_headline_first() if m.paired))


def compared_pairs(strategies: list[str]) -> list[tuple[str, str]]:
    """(first, second) for every pair, compared as second - first: in the experiment's order, except
    that a strategy is always compared against the baseline (random: strategies.baseline)."""
    pairs = []
    for i, first in enumerate(strategies):
        for second in strategies[i + 1:]:
            pairs.append((second, first) if second == baseline() else (first, second))
    return pairs


def _paired(finals_a: dict[int, dict], finals_b: dict[int, dict]) -> dict | None:
    """b - a over the seeds both ran to the same last cycle (the same seed index is the same run seed:
    the same initial labels and model initialisations); None when they share none. A seed one strategy
    has not finished yet is left out, since its last cycle is not the other's."""
    seeds = sorted(s for s in finals_a.keys() & finals_b.keys() if finals_a[s]["cycle"] == finals_b[s]["cycle"])
    if not seeds:
        return None
    entry: dict = {"seeds": seeds}
    for metric in paired_metrics():
        entry[metric] = paired_difference([finals_a[s][metric] for s in seeds],
                                          [finals_b[s][metric] for s in seeds]).as_dict()
    return entry


def summarize(rows: list[dict]) -> dict:
    """Per strategy: mean, std and 95 % CI over seeds of the final accuracy, the area under the learning
    curve (accuracy vs labels, normalised) and the final fairness gaps; and under "versus", per other
    strategy it shares seeds with, the paired difference (this one minus the other) of paired_metrics()
    with its 95 % CI and paired t-test p-value (see compared_pairs for which way round)."""
    summary = {}
    finals: dict[str, dict[int, dict]] = {}
    for strategy in dict.fromkeys(r["strategy"] for r in rows):
        finals[strategy] = final_per_seed([r for r in rows if r["strategy"] == strategy])
        per_seed = finals[strategy].values()
        entry = {"seeds": len(per_seed), "final_n_labeled": int(max(f["row"]["n_labeled"] for f in per_seed)),
                 "final_accuracy": _mean_std([f["final_accuracy"] for f in per_seed]),
                 "aulc_accuracy": _mean_std([f["aulc_accuracy"] for f in per_seed])}
        for name in FAIRNESS_METRICS:
            entry[f"final_{name}"] = _mean_std([f[f"final_{name}"] for f in per_seed])
        summary[strategy] = entry
    for first, second in compared_pairs(list(finals)):
        paired = _paired(finals[first], finals[second])
        if paired is not None:
            summary[second].setdefault("versus", {})[first] = paired
    return summary


def write_results(experiment: Experiment) -> list[dict]:
    rows = collect_rows(experiment)
    write_metrics_csv(rows, experiment.folder / "metrics.csv")
    write_json(experiment.folder / "summary.json", summarize(rows))
    return rows


def results_are_stale(experiment: Experiment, rows: list[dict] | None = None) -> bool:
    """Whether metrics.csv or summary.json differ from what the journals say (e.g. a process was
    killed after its last run finished but before it wrote them)."""
    rows = collect_rows(experiment) if rows is None else rows
    if not rows:
        return False
    expected = {"metrics.csv": metrics_csv_text(rows), "summary.json": json_text(summarize(rows))}
    return not files_hold(experiment.folder, expected)


def files_hold(folder: Path, texts: dict[str, str]) -> bool:
    """Whether every named file in `folder` holds exactly its text (a derived file is up to date)."""
    for name, text in texts.items():
        try:
            with open(folder / name, newline="", encoding="utf-8") as handle:  # csv ends lines \r\n
                if handle.read() != text:
                    return False
        except (OSError, UnicodeDecodeError):
            return False
    return True


def refresh_results(experiment: Experiment) -> bool:
    """Rewrite metrics.csv and summary.json when stale (the caller holds the folder's lock);
    whether they were."""
    rows = collect_rows(experiment)
    if not results_are_stale(experiment, rows):
        return False
    write_metrics_csv(rows, experiment.folder / "metrics.csv")
    write_json(experiment.folder / "summary.json", summarize(rows))
    return True


def curves(rows: list[dict], column: str, x: str = "n_labeled") -> dict[str, dict]:
    """Per strategy: x (the labeled count, or another count column such as people_labels), mean and
    std over seeds at each x, n (how many seeds have a value there), the 95 % CI of the mean (ci_low,
    ci_high; nan where fewer than two seeds) and each seed's curve."""
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
        n, ci_low, ci_high = _column_intervals(table)
        out[strategy] = {"x": np.asarray(xs, float), "mean": mean, "std": std, "n": n, "ci_low": ci_low,
                         "ci_high": ci_high, "seeds": table}
    return out


def _column_intervals(table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of a [seeds, x] table: the number of finite values and the 95 % CI of their mean."""
    intervals = [mean_interval(column) for column in np.atleast_2d(np.asarray(table, dtype=float)).T]
    return (np.array([i.n for i in intervals], dtype=int), np.array([i.low for i in intervals], dtype=float),
            np.array([i.high for i in intervals], dtype=float))


def _counts_and_interval(data: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if "n" in data and "ci_low" in data and "ci_high" in data:
        return np.asarray(data["n"]), np.asarray(data["ci_low"], float), np.asarray(data["ci_high"], float)
    return _column_intervals(data["seeds"])  # a curve made elsewhere (benchmarks) from its seeds alone


def curve_band(data: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The band around a curve's mean (a curves() entry): low, high, and at each x whether it is the
    95 % CI (where at least CI_MIN_SEEDS seeds have a value) or mean ± std (fewer: two seeds, or the
    newest points of a run still under way)."""
    mean, std = np.asarray(data["mean"], float), np.nan_to_num(np.asarray(data["std"], float))
    n, ci_low, ci_high = _counts_and_interval(data)
    is_ci = shows_interval(n) & np.isfinite(ci_low) & np.isfinite(ci_high)
    return np.where(is_ci, ci_low, mean - std), np.where(is_ci, ci_high, mean + std), is_ci


def band_caption(curves) -> str:
    """What curve_band draws around `curves` (curves() entries), for a plot's title: "mean, 95 % CI over
    5 seeds", "mean ± std over 2 seeds", or "95 % CI; ± std below 3 seeds" where curves (compared
    experiments) or the points of a run under way differ."""
    curves = list(curves)
    counts = sorted({len(data["seeds"]) for data in curves})
    if not counts:
        return "mean over seeds"
    seeds = f"{counts[0]} seed{'s' if counts[0] > 1 else ''}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]} seeds"
    ci = std = False
    for data in curves:
        shown = np.isfinite(np.asarray(data["mean"], float))
        n = _counts_and_interval(data)[0]
        is_ci = curve_band(data)[2] & shown
        ci |= bool(is_ci.any())
        std |= bool((~is_ci & shown & (n >= 2)).any())
    if ci and std:
        return f"95 % CI; ± std below {CI_MIN_SEEDS} seeds"  # short: titles are elided to fit
    if ci:
        return f"mean, 95 % CI over {seeds}"
    if std:
        return f"mean ± std over {seeds}"
    return seeds if counts == [1] else f"mean of {seeds}"


def annotation_name(experiment: Experiment) -> str:
    """Who labeled an experiment's queries, for telling compared experiments apart."""
    a = experiment.config.annotator
    if a.kind == "noisy":
        return f"noisy {100 * a.error_rate:g}%"
    if a.kind == "llm":
        return "LLM + oracle" if experiment.flagged_to == "oracle" else "LLM + human"
    return a.kind


def _trunk_name(experiment: Experiment) -> str:
    return f"{experiment.config.model.init.replace('_', '-')} trunk"


def _grad_name(experiment: Experiment) -> str:
    strength = experiment.config.training.grad_lambda
    return f"GRAD λ = {strength:g}" if strength else "no GRAD"


def experiment_labels(experiments: list[Experiment]) -> list[str]:
    """What sets each of several compared experiments apart (who labeled, the trunk, GRAD): the
    aspects that differ among them, each left out where it has the value most of them share; ""
    where nothing is left, their strategies then naming their curves."""
    parts: list[list[str]] = [[] for _ in experiments]
    for aspect in (annotation_name, _trunk_name, _grad_name):
        values = [aspect(experiment) for experiment in experiments]
        if len(set(values)) == 1:
            continue
        common = max(set(values), key=values.count)
        usual = common if 2 * values.count(common) > len(values) else None
        for part, value in zip(parts, values):
            if value != usual:
                part.append(value)
    return [", ".join(part) for part in parts]


def compared_curves(named_rows: dict[str, list[dict]], column: str, x: str = "n_labeled") -> dict[str, dict]:
    """curves() of several experiments in one dict, each curve named "<experiment> · <strategy>" (just
    the strategy where the experiment's name is empty)."""
    return {f"{name} · {strategy}" if name else strategy: data for name, rows in named_rows.items()
            for strategy, data in curves(rows, column, x).items()}

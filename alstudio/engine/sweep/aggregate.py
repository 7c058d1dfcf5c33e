"""A sweep's derived files, rebuilt from the journals: DIR/metrics.csv (every run's rows, as
`alstudio run` writes them, with the cell and one column per grid axis in front) and DIR/summary.json
(per cell, results.summarize: mean, 95 % interval and the paired comparisons between strategies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..experiment import json_text, write_text_atomically
from ..metrics import HEADLINE_FAIRNESS_METRIC
from ..results import collect_rows, files_hold, metrics_csv_text, shows_interval, summarize
from ..stats import Interval
from .folder import Sweep


def _axis_text(value: Any) -> Any:
    return "+".join(map(str, value)) if isinstance(value, list) else value


def collect_sweep_rows(sweep: Sweep) -> list[dict]:
    """metrics.csv rows of every cell, each led by `cell` and the cell's axis values."""
    rows = []
    for cell in sweep.cells:
        front = {"cell": cell.id, **{key: _axis_text(value) for key, value in cell.settings.items()}}
        rows.extend({**front, **row} for row in collect_rows(cell.experiment()))
    # Cells can differ in their columns (an axis over dataset.groups names other accuracy_<group>
    # columns): every row gets every column, empty where it has none.
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return [{key: row.get(key, "") for key in columns} for row in rows]


def summarize_sweep(sweep: Sweep, rows: list[dict]) -> dict:
    """summary.json: per cell its axis values, its folder and results.summarize of its runs."""
    summary = {}
    for cell in sweep.cells:
        mine = [{k: v for k, v in row.items() if v != ""} for row in rows if row["cell"] == cell.id]
        summary[cell.id] = {"settings": cell.settings, "folder": f"cells/{cell.id}",
                            "strategies": summarize(mine) if mine else {}}
    return summary


def _texts(sweep: Sweep, rows: list[dict]) -> dict[str, str]:
    texts = {"summary.json": json_text(summarize_sweep(sweep, rows))}
    if rows:
        texts["metrics.csv"] = metrics_csv_text(rows)
    return texts


def write_sweep_results(sweep: Sweep) -> list[dict]:
    """Rewrite DIR/metrics.csv and DIR/summary.json from the journals (the caller drives the sweep)."""
    rows = collect_sweep_rows(sweep)
    for name, text in _texts(sweep, rows).items():
        write_text_atomically(sweep.folder / name, text)
    return rows


def sweep_results_are_stale(sweep: Sweep) -> bool:
    """Whether DIR/metrics.csv or DIR/summary.json differ from what the journals say."""
    return not files_hold(sweep.folder, _texts(sweep, collect_sweep_rows(sweep)))


@dataclass(frozen=True)
class Band(Interval):
    """A summary.json metric as every band shows it: the mean and the 95 % CI from CI_MIN_SEEDS seeds on
    (is_ci), the mean ± std below (results.shows_interval)."""

    is_ci: bool = False

    @classmethod
    def of(cls, metric: dict) -> Band:
        if shows_interval(metric["n"]):
            return cls(metric["mean"], metric["ci_low"], metric["ci_high"], metric["n"], True)
        std = metric["std"] if metric["std"] == metric["std"] else 0.0
        return cls(metric["mean"], metric["mean"] - std, metric["mean"] + std, metric["n"], False)


@dataclass(frozen=True)
class SummaryRow:
    """One line of the sweep's table: a cell x strategy."""

    cell: str
    settings: dict[str, Any]
    strategy: str
    seeds: int
    final_accuracy: Band
    aulc: Band
    fairness_gap: Band  # the headline fairness metric (metrics.HEADLINE_FAIRNESS_METRIC: ppv_gap)


def sweep_summary(sweep: Sweep) -> list[SummaryRow]:
    """Per cell x strategy: final accuracy, AULC and the final PPV gap with their intervals, from the
    journals (read-only), for a table. Cells with no finished cycle yet are left out."""
    rows = collect_sweep_rows(sweep)
    out = []
    for cell_id, entry in summarize_sweep(sweep, rows).items():
        for strategy, stats in entry["strategies"].items():
            out.append(SummaryRow(cell_id, entry["settings"], strategy, stats["seeds"],
                                  Band.of(stats["final_accuracy"]), Band.of(stats["aulc_accuracy"]),
                                  Band.of(stats[f"final_{HEADLINE_FAIRNESS_METRIC}"])))
    return out



"""`--mlflow URI`: a sweep's finished runs logged to MLflow, for groups that compare runs there.

Each run becomes an MLflow run (its config as params, every cycle's metrics.csv values as metrics
with step = n_labeled) under one parent run per sweep, which holds the report figure. The journals
stay the record: logging reads them after the runs, and DIR/mlflow.json remembers which runs went
to which URI, so `alstudio resume --mlflow` logs only the runs finished since. MLflow is imported
only here, and only when logging (an import-linter contract).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import time
from pathlib import Path

from ..experiment import write_json
from ..journal import Journal
from ..results import collect_rows
from .folder import Sweep

MLFLOW_MISSING = "--mlflow needs MLflow, which is not installed; install it with pip install 'alstudio[mlflow]'"
RECORD = "mlflow.json"
_NOT_METRICS = {"strategy", "seed", "cycle", "n_labeled"}
_PARAMS_PER_CALL, _METRICS_PER_CALL = 100, 1000  # MLflow's limits for one log_batch


def mlflow_installed() -> bool:
    return importlib.util.find_spec("mlflow") is not None


def tracking_uri(text: str) -> str:
    """A URI as MLflow takes it; a plain path is a local file store there (an mlruns/-style folder)."""
    if "://" in text or text.split(":", 1)[0] in ("databricks", "sqlite", "postgresql", "mysql"):
        return text
    return Path(text).expanduser().resolve().as_uri()


def log_sweep(sweep: Sweep, uri: str, figure: Path | None = None) -> int:
    """Log every finished run of `sweep` not yet logged to `uri`, and `figure` to the sweep's parent
    run; how many runs were logged."""
    if uri.startswith("file:"):
        # MLflow 3 keeps the file store in maintenance mode and refuses it unless asked: a local folder
        # is what a path means here, and it needs no database packages (mlflow-skinny is enough).
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    record = _read_record(sweep.folder, uri)
    name = f"alstudio sweep {sweep.folder.resolve().name}"
    found = client.get_experiment_by_name(name)
    experiment_id = found.experiment_id if found is not None else client.create_experiment(name)
    if "parent" not in record:
        parent = client.create_run(experiment_id, run_name=sweep.folder.resolve().name,
                                   tags={"alstudio.sweep": str(sweep.folder.resolve())})
        record["parent"] = parent.info.run_id
        write_json(sweep.folder / RECORD, record)
    logged = 0
    for cell in sweep.cells:
        experiment = cell.experiment()
        rows = None
        for spec in experiment.runs():
            key = f"{cell.id}/{spec.folder.name}"
            if key in record["runs"] or not _finished(spec.journal_path):
                continue
            rows = collect_rows(experiment) if rows is None else rows
            run = client.create_run(experiment_id, run_name=f"{cell.id}: {spec.label}", tags={
                "mlflow.parentRunId": record["parent"], "alstudio.cell": cell.id,
                "alstudio.strategy": spec.strategy, "alstudio.seed": str(spec.index + 1)})
            run_id = run.info.run_id
            params = [Param(k, v) for k, v in _flat(experiment.run_config(spec.strategy).model_dump()).items()]
            params.append(Param("run_seed", str(spec.seed)))
            now = int(time.time() * 1000)
            metrics = [Metric(column, float(value), now, int(row["n_labeled"]))
                       for row in rows if (row["strategy"], row["seed"]) == (spec.strategy, spec.index + 1)
                       for column, value in row.items() if column not in _NOT_METRICS and _is_number(value)]
            for start in range(0, len(params), _PARAMS_PER_CALL):
                client.log_batch(run_id, params=params[start:start + _PARAMS_PER_CALL])
            for start in range(0, len(metrics), _METRICS_PER_CALL):
                client.log_batch(run_id, metrics=metrics[start:start + _METRICS_PER_CALL])
            client.set_terminated(run_id)
            record["runs"][key] = run_id
            write_json(sweep.folder / RECORD, record)  # after each run: a kill mid-way logs none twice
            logged += 1
    if figure is not None and Path(figure).is_file():
        client.log_artifact(record["parent"], str(figure))
    return logged


def _read_record(folder: Path, uri: str) -> dict:
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        if record.get("uri") == uri and isinstance(record.get("runs"), dict):
            return record
    except (OSError, ValueError, AttributeError):
        pass
    return {"uri": uri, "runs": {}}  # another URI (or none yet): everything goes there


def _finished(path: Path) -> bool:
    if Journal.is_unstarted(path):
        return False
    with Journal.open(path, read_only=True) as journal:
        return journal.status == "finished"


def _flat(data: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value)
    return out


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

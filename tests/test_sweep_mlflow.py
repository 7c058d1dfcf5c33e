"""--mlflow: a sweep's finished runs logged to a local MLflow folder, once each (skipped without MLflow),
and the sentence where MLflow is not installed."""

import sys

import pytest
from engine_helpers import tiny_config, tiny_toml

from alstudio.cli import main
from alstudio.engine.sweep import Sweep, parse_grid
from alstudio.engine.sweep.execution import RunTask, execute_run
from alstudio.engine.sweep.tracking import MLFLOW_MISSING


def test_without_mlflow_the_option_is_one_sentence(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as where MLflow is not installed
    config = tmp_path / "tiny.toml"
    config.write_text(tiny_toml())
    assert main(["sweep", str(config), "--grid", "training.grad_lambda=0", "--out", str(tmp_path / "s"),
                 "--mlflow", str(tmp_path / "mlruns")]) == 2
    assert capsys.readouterr().err == f"alstudio: error: {MLFLOW_MISSING}\n"
    assert MLFLOW_MISSING.endswith("pip install 'alstudio[mlflow]'") and not (tmp_path / "s").exists()


def test_finished_runs_are_logged_once_with_config_metrics_and_the_figure(tmp_path, capsys, one_torch_thread):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    base = tiny_config(active={"cycles": 1})
    sweep = Sweep.create(tmp_path / "s", base, parse_grid("training.grad_lambda=0,1", base), ["random"], 1)
    sweep.release()
    # The runs, in this process (the executors are tested elsewhere).
    for cell in sweep.cells:
        task = RunTask(str(sweep.folder), cell.id, "random", 0, str(tmp_path / "cache"))
        assert execute_run(task).status == "finished"
    store = tmp_path / "mlruns"
    assert main(["resume", str(sweep.folder), "--mlflow", str(store)]) == 0
    assert "logged 2 run(s) to MLflow" in capsys.readouterr().out
    assert main(["resume", str(sweep.folder), "--mlflow", str(store)]) == 0
    assert "logged 0 run(s) to MLflow" in capsys.readouterr().out  # nothing twice

    client = MlflowClient(tracking_uri=store.resolve().as_uri())
    experiment = client.get_experiment_by_name("alstudio sweep s")
    runs = client.search_runs([experiment.experiment_id])
    children = sorted((r for r in runs if "mlflow.parentRunId" in r.data.tags), key=lambda r: r.info.run_name)
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    assert [r.info.run_name for r in children] == ["grad_lambda=0: random seed 1", "grad_lambda=1: random seed 1"]
    assert children[1].data.params["training.grad_lambda"] == "1.0"
    assert children[1].data.params["active.strategy"] == "random"
    history = client.get_metric_history(children[0].info.run_id, "accuracy")
    assert sorted(m.step for m in history) == [8, 12]  # step = labelled images
    assert [a.path for a in client.list_artifacts(parent.info.run_id)] == ["report.png"]

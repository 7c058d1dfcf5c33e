"""The ray engine end to end on a real local Ray cluster (skipped where Ray is not installed)."""

import csv
import json

import pytest
from engine_helpers import tiny_toml

from alstudio.cli import main
from alstudio.engine.journal import Journal

pytest.importorskip("ray")


def test_a_sweep_on_a_local_ray_cluster(tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    config.write_text(tiny_toml(active={"cycles": 1}))
    out = tmp_path / "sweep"
    # Two cells x two seeds; one task at a time, so one Ray worker imports torch (the test's cost).
    assert main(["sweep", str(config), "--grid", "training.grad_lambda=0,1", "--strategies", "random",
                 "--seeds", "2", "--out", str(out), "--engine", "ray", "--max-parallel", "1"]) == 0
    assert "4 runs on Ray (a local cluster)" in capsys.readouterr().out
    journals = sorted(out.glob("cells/*/runs/*/journal.sqlite"))
    assert len(journals) == 4
    for path in journals:
        with Journal.open(path, read_only=True) as journal:
            assert journal.status == "finished"
    with open(out / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * 2 * 2 and {r["training.grad_lambda"] for r in rows} == {"0", "1"}
    assert set(json.loads((out / "summary.json").read_text())) == {"grad_lambda=0", "grad_lambda=1"}
    # Ray is gone again: the next sweep (or resume) starts its own.
    import ray

    assert not ray.is_initialized()

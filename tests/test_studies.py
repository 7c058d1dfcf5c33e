"""benchmarks/studies.py end to end on a tiny experiment: the pipeline of docs/results.md (not its claims)."""

import importlib.util
import sys
from pathlib import Path

import pytest
from engine_helpers import tiny_config
from test_pretrained import TINY_SOURCE

from alstudio.engine import config as configs

STUDIES = Path(__file__).resolve().parents[1] / "benchmarks" / "studies.py"


@pytest.fixture
def studies(monkeypatch):
    spec = importlib.util.spec_from_file_location("studies", STUDIES)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "studies", module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    # Every preset becomes a tiny pretrained experiment (a four-character source task, one epoch).
    monkeypatch.setattr(configs, "load_preset", lambda name: tiny_config(model=TINY_SOURCE, active={"cycles": 1}))
    return module


def run(studies, monkeypatch, *args):
    monkeypatch.setattr(sys, "argv", ["studies.py", *args])
    studies.main()


def test_a_study_runs_every_condition_with_paired_seeds_and_reports_them(studies, monkeypatch, tmp_path, capsys,
                                                                         one_torch_thread):
    out = tmp_path / "study"
    run(studies, monkeypatch, "fairness-correlation", "--out", str(out), "--seeds", "2", "--device", "cpu")
    text = (out / "fairness-correlation.md").read_text()
    _, metrics, conditions = studies.STUDIES["fairness-correlation"]()
    for condition in conditions:
        assert f"| {condition.name} | " in text
    assert "2 seeds" in text and "paired by seed against **random**" in text
    pairs = [(c.name, other) for c in conditions for other in c.versus]
    assert len(pairs) == 5  # each self-supervised trunk against the two others, and BALD against random on it
    assert text.count(", p = ") == (len(conditions) - 1) * len(metrics) + len(pairs) * len(studies.PAIRED_COLUMNS)
    assert "| bald, self-supervised trunk | bald scratch trunk |" not in text
    assert "| bald, self-supervised trunk | bald, scratch trunk | " in text
    assert "**test accuracy by labeled count**" in text
    # The conditions share the master seed: seed k starts from the same initial labels everywhere.
    from alstudio.engine.experiment import Experiment
    from alstudio.engine.journal import Journal

    initial = []
    for name in ("random", "bald_plus_GRAD", "bald_scratch_trunk"):
        spec = Experiment.open(out / name).runs()[0]
        with Journal.open(spec.journal_path) as journal:
            initial.append(sorted(s for s, (_, source, _) in journal.labels().items() if source == "initial"))
            assert journal.config.model.init == ("scratch" if "scratch" in name else "pretrained")
            assert journal.config.training.grad_lambda == (1.0 if "GRAD" in name else 0.0)
    assert initial[0] == initial[1] == initial[2]
    # Nothing left to run: the report alone gives the same tables.
    capsys.readouterr()
    run(studies, monkeypatch, "fairness-correlation", "--out", str(out), "--report-only")
    again = (out / "fairness-correlation.md").read_text()
    assert again.split("\n\n")[1:-1] == text.split("\n\n")[1:-1]
    # The study's figure is `alstudio report`'s, over the conditions it shows.
    run(studies, monkeypatch, "fairness-correlation", "--out", str(out), "--report-only", "--png",
        str(tmp_path / "study.png"))
    assert (tmp_path / "study.png").stat().st_size > 0
    assert "Figure: `alstudio report random entropy bald bald_plus_GRAD bald_scratch_trunk" in \
        (out / "fairness-correlation.md").read_text()

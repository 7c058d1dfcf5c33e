import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from engine_helpers import tiny_toml
from PIL import Image

from alstudio.cli import main


@pytest.fixture
def tiny(tmp_path):
    def make(cycles=2):
        path = tmp_path / f"tiny{cycles}.toml"
        path.write_text(tiny_toml(active={"cycles": cycles}))
        return path
    return make


def _journal_rows(path, sql):
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


def test_run_writes_metrics_summary_journals_and_a_report(tiny, tmp_path, capsys):
    out = tmp_path / "exp"
    assert main(["run", str(tiny()), "--out", str(out), "--strategies", "random,bald", "--seeds", "2"]) == 0
    with open(out / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * 2 * 3
    for column in ("strategy", "seed", "cycle", "n_labeled", "accuracy", "accuracy_gap", "ppv_gap", "eo_diff",
                   "dp_diff", "accuracy_blue", "accuracy_red", "labeled_share_blue", "labeled_share_red",
                   "labels_initial", "labels_oracle", "train_seconds", "query_seconds"):
        assert column in rows[0]
    assert {r["strategy"] for r in rows} == {"random", "bald"}
    assert [r["n_labeled"] for r in rows[:3]] == ["8", "12", "16"]
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == {"random", "bald"}
    assert summary["bald"]["seeds"] == 2 and "mean" in summary["bald"]["aulc_accuracy"]
    assert {"ci_low", "ci_high"} <= set(summary["bald"]["final_accuracy"])
    paired = summary["bald"]["versus"]["random"]
    assert paired["seeds"] == [1, 2] and set(paired["final_accuracy"]) == {"mean", "low", "high", "p_value", "n"}
    printed = capsys.readouterr().out
    assert "(2 seeds, mean ± std)" in printed
    assert "bald - random: final accuracy " in printed and "(2 paired seeds)" in printed
    for run in ("random-seed1", "random-seed2", "bald-seed1", "bald-seed2"):
        assert (out / "runs" / run / "journal.sqlite").exists()
    # Different seeds start from different initial labels.
    first = _journal_rows(out / "runs/bald-seed1/journal.sqlite", "SELECT sample FROM labels WHERE source='initial'")
    second = _journal_rows(out / "runs/bald-seed2/journal.sqlite", "SELECT sample FROM labels WHERE source='initial'")
    assert first != second
    png = tmp_path / "report.png"
    assert main(["report", str(out), "--png", str(png)]) == 0
    assert Image.open(png).size[0] >= 1200


def _summary_rows(n_seeds: int) -> list[dict]:
    """random at 0.5 on every seed, bald at 0.6, 0.7, 0.8 (then 0.9, ...): bald - random is 0.1, 0.2, 0.3."""
    rows = []
    for seed in range(1, n_seeds + 1):
        for strategy, final in (("random", 0.5), ("bald", 0.5 + 0.1 * seed)):
            rows += [{"strategy": strategy, "seed": seed, "cycle": cycle, "n_labeled": 10 + 10 * cycle,
                      "accuracy": accuracy, "accuracy_gap": 0.0, "ppv_gap": 0.1, "eo_diff": 0.0, "dp_diff": 0.0}
                     for cycle, accuracy in ((0, 0.4), (1, final))]
    return rows


def _stub_config(cycles: int, epochs: int = 2):
    """What _drive and its progress read of a config."""
    from types import SimpleNamespace

    return SimpleNamespace(active=SimpleNamespace(cycles=cycles, initial_labels=8, query_size=4),
                           training=SimpleNamespace(epochs=epochs))


@pytest.mark.parametrize("n_seeds", [2, 3])
def test_run_prints_the_interval_from_three_seeds_on_and_the_paired_difference_against_random(
        monkeypatch, tmp_path, capsys, n_seeds):
    from types import SimpleNamespace

    from alstudio import cli
    from alstudio.engine import results

    monkeypatch.setattr(results, "write_results", lambda experiment: _summary_rows(n_seeds))
    experiment = SimpleNamespace(config=_stub_config(cycles=1), runs=list,
                                 strategies=("random", "bald"), n_seeds=n_seeds, folder=tmp_path)
    assert cli._finish(experiment, failed=False, waiting=0) == 0  # what follows the runs
    printed = capsys.readouterr().out
    if n_seeds == 3:
        # 0.7 +- t(0.975, 2) 0.1 / sqrt(3); the differences 0.1, 0.2, 0.3 give t = 2 sqrt(3) on 2 df, p = 0.074.
        assert "bald: final accuracy 0.700 [0.452, 0.948], area under curve 0.550 [0.426, 0.674]" in printed
        assert "(3 seeds, mean [95 % CI])" in printed
        assert ("bald - random: final accuracy +0.200 [-0.048, 0.448], p = 0.074; area under curve "
                "+0.100 [-0.024, 0.224], p = 0.074 (3 paired seeds)") in printed
    else:
        assert "bald: final accuracy 0.650 ± 0.071, area under curve 0.525 ± 0.035" in printed
        assert "(2 seeds, mean ± std)" in printed
        assert "bald - random: final accuracy +0.150 [-0.485, 0.785], p = 0.205;" in printed
    assert "random - " not in printed  # random is the baseline, never compared against itself


def test_bad_run_input_exits_2_with_one_sentence(tiny, tmp_path, capsys):
    out = tmp_path / "exp"
    assert main(["run", str(tiny()), "--out", str(out), "--strategies", "nonsense"]) == 2
    assert "valid names: random, entropy" in capsys.readouterr().err
    assert main(["run", str(tiny()), "--out", str(out), "--strategies", "random"]) == 0
    capsys.readouterr()
    assert main(["run", str(tiny()), "--out", str(out), "--strategies", "random"]) == 2
    assert "holds another experiment" in capsys.readouterr().err
    assert main(["run", str(tiny()), "--out", str(out), "--strategies", "random", "--force"]) == 0
    capsys.readouterr()
    journal = out / "runs" / "random-seed1" / "journal.sqlite"
    journal.write_bytes(b"garbage" * 100)
    (out / "runs" / "random-seed1" / "journal.sqlite-wal").unlink(missing_ok=True)
    assert main(["resume", str(out)]) == 2
    err = capsys.readouterr().err
    assert "journal.sqlite" in err and err.count("\n") == 1 and "Traceback" not in err
    assert main(["resume", str(tmp_path)]) == 2
    assert "not an alstudio experiment folder" in capsys.readouterr().err


def test_an_experiment_a_person_labels_is_resumed_in_the_workbench_not_headless(tiny, tmp_path, capsys):
    from alstudio.engine import config as configs
    from alstudio.engine.experiment import Experiment

    config = configs.load(tiny())
    data = config.model_dump()
    data["annotator"]["kind"] = "human"
    Experiment.create(tmp_path / "exp", configs.validate(data), ["random"], 1, flagged_to="human").release()
    assert main(["resume", str(tmp_path / "exp")]) == 2  # instead of waiting forever for answers
    assert "resume it in the workbench" in capsys.readouterr().err


def test_learning_loss_needs_feature_maps(tiny, tmp_path, monkeypatch, capsys):
    from alstudio.engine.models import trunks

    class FlatTrunk(trunks.SmallCNN):
        def __init__(self):
            super().__init__()
            self.map_channels = []

    monkeypatch.setitem(trunks.TRUNKS, "cnn", FlatTrunk)
    assert main(["run", str(tiny()), "--out", str(tmp_path / "e"), "--strategies", "learning_loss"]) == 2
    assert "needs feature maps" in capsys.readouterr().err


def _start(args, tmp_path):
    env = dict(os.environ, ALSTUDIO_CACHE_DIR=str(tmp_path / "cache"), PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "alstudio", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_cycle(journal, cycle, process, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if journal.exists():
            try:
                if _journal_rows(journal, f"SELECT cycle FROM cycles WHERE cycle >= {cycle}"):
                    return
            except sqlite3.OperationalError:
                pass
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError("the run did not reach the cycle in time")


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_a_killed_run_resumes_with_every_label(tiny, tmp_path, how):
    out = tmp_path / "exp"
    config = tiny(cycles=6)
    process = _start(["run", str(config), "--out", str(out), "--strategies", "bald"], tmp_path)
    journal = out / "runs" / "bald-seed1" / "journal.sqlite"
    _wait_for_cycle(journal, 2, process)
    process.send_signal(signal.SIGKILL if how == "SIGKILL" else signal.SIGINT)
    process.wait(timeout=60)
    if how == "SIGINT":
        assert process.returncode == 130
        assert _journal_rows(journal, "SELECT value FROM meta WHERE key='status'") == [("stopped",)]
    else:
        assert process.returncode == -signal.SIGKILL
    before = dict(_journal_rows(journal, "SELECT sample, label FROM labels"))
    env = dict(os.environ, ALSTUDIO_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-m", "alstudio", "resume", str(out)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = dict(_journal_rows(journal, "SELECT sample, label FROM labels"))
    assert len(after) == 8 + 6 * 4  # every label, none twice (sample is the primary key)
    assert all(after[s] == label for s, label in before.items())  # nothing lost or changed
    assert [c for (c,) in _journal_rows(journal, "SELECT cycle FROM cycles ORDER BY cycle")] == list(range(7))
    assert _journal_rows(journal, "SELECT value FROM meta WHERE key='status'") == [("finished",)]


def test_the_cli_bar_draws_the_engines_fraction_stage_line_and_eta(monkeypatch, tmp_path, capsys):
    """`alstudio run` and the workbench show one estimate: what engine.progress.ExperimentProgress reports."""
    from types import SimpleNamespace

    from alstudio import cli, textprogress
    from alstudio.engine import progress, runner
    from alstudio.engine.loop import CycleResult, Finished, Progress

    cycles, epochs = 1, 2
    specs = [SimpleNamespace(label=f"random seed {seed}") for seed in (1, 2)]

    class Clock:
        now = 0.0

        def __call__(self):
            return self.now

    def events(clock):
        for spec in specs:
            for cycle in range(cycles + 1):
                for epoch in range(1, epochs + 1):
                    clock.now += 1.0
                    yield spec, Progress("training", epoch, epochs, cycle)
                yield spec, Progress("evaluating", 0, 1, cycle)
                clock.now += 0.5
                if cycle < cycles:
                    yield spec, Progress("scoring", 0, 1, cycle)
                    clock.now += 2.0
                yield spec, CycleResult(cycle, 8 + 4 * cycle, {"accuracy": 0.5}, None, None)
            yield spec, Finished(cycles)

    drawn = []

    class Bar:
        def __init__(self, label, *args, **kwargs):
            self.label = label

        def show(self, fraction, eta):
            drawn.append((self.label, fraction, eta))

        def close(self):
            pass

    clock = Clock()
    made = progress.ExperimentProgress.for_experiment.__func__
    monkeypatch.setattr(progress.ExperimentProgress, "for_experiment",
                        classmethod(lambda cls, experiment: made(cls, experiment, clock)))
    monkeypatch.setattr(textprogress, "ProgressBar", Bar)
    monkeypatch.setattr(cli, "_annotators_for", lambda experiment: None)
    monkeypatch.setattr(runner, "run_experiment", lambda *args, **kwargs: events(clock))
    experiment = SimpleNamespace(config=_stub_config(cycles, epochs), runs=lambda: specs, strategies=("random",),
                                 n_seeds=2, folder=tmp_path)
    tracker = progress.ExperimentProgress.for_experiment(experiment)
    assert cli._drive_here(experiment, None, tracker) == (False, 0)  # runs one after another in this process

    replay_clock = Clock()
    tracker = progress.ExperimentProgress(len(specs), cycles, epochs, 8, 4, clock=replay_clock)
    expected = []
    for spec, event in events(replay_clock):
        report = tracker.report(specs.index(spec), spec.label, event)
        expected.append((report.stage_line(), report.fraction, progress.eta_text(report.eta_seconds)))
    assert drawn == expected
    assert drawn[0] == ("random seed 1, cycle 0: training epoch 1/2", drawn[0][1], "")
    assert any(eta.endswith("s left") for _, _, eta in drawn) and drawn[-1][1] == pytest.approx(1.0)
    assert "cycle   1  labels    12" in capsys.readouterr().out  # the cycle lines print as before


def test_the_bar_draws_a_fraction_and_an_eta_it_is_given():
    import io

    from alstudio.textprogress import ProgressBar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = ProgressBar("bald seed 1, cycle 2: scoring", stream=stream, width=10)
    bar.show(0.5, "about 12 s left")
    assert stream.getvalue() == "\rbald seed 1, cycle 2: scoring [#####.....]  50% about 12 s left\033[K"

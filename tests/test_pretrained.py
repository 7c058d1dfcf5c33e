"""Pretrained trunks: learned on a source task disjoint from the experiment's classes, deterministic,
cached, rebuilt when damaged, recorded in each run's fingerprint, and resumed with bit-identical models."""

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import torch
from engine_helpers import new_journal, tiny_config, tiny_dataset
from test_loop import drive, metrics_by_cycle, same

from alstudio.cli import main
from alstudio.engine import config as configs
from alstudio.engine.journal import Journal, JournalError
from alstudio.engine.loop import CycleResult, Finished
from alstudio.engine.models.pretrained import SourceTask, build_trunk, default_source_classes, ensure_trunk

# A source task small enough for a test: four characters, 200 images, one epoch.
TINY_SOURCE = {"init": "pretrained", "source_classes": ["b", "c", "e", "f"], "pretrain_images": 200,
               "pretrain_epochs": 1}


def pretrained_config(**sections):
    return tiny_config(model=TINY_SOURCE, **sections)


def test_the_default_source_task_leaves_out_the_experiments_classes_in_either_case():
    source = default_source_classes(["a", "D", "7"])
    assert not {"a", "d", "7"} & set(source) and len(source) == 24
    config = configs.validate({"dataset": {"classes": ["a", "d"]}})
    task = SourceTask.for_config(config)
    assert task.classes[:3] == ("b", "c", "e") and task.architecture == "cnn"


def test_a_source_task_sharing_a_class_with_the_experiment_is_one_sentence(tmp_path, capsys):
    with pytest.raises(configs.ConfigError, match="model.source_classes must not share a class with dataset.classes"):
        configs.validate({"model": {"source_classes": ["b", "A"]}})
    config = tmp_path / "c.toml"
    config.write_text('[dataset]\nclasses = ["a", "d"]\n')
    assert main(["pretrain", str(config), "--classes", "bcd"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model.source_classes" in err and "Traceback" not in err


def test_pretraining_is_deterministic(tmp_path, monkeypatch, one_torch_thread):
    task = SourceTask.for_config(pretrained_config())
    hashes = []
    for name in ("first", "second"):
        monkeypatch.setenv("ALSTUDIO_CACHE_DIR", str(tmp_path / name))
        trunk = build_trunk(task)
        hashes.append(trunk.sha256)
        assert trunk.path.is_relative_to(tmp_path / name) and 0.0 <= trunk.source_accuracy <= 1.0
    assert hashes[0] == hashes[1]
    other = SourceTask.for_config(tiny_config(model=dict(TINY_SOURCE, source_classes=["b", "c", "e", "g"])))
    assert other.key != task.key and build_trunk(other).sha256 != hashes[0]


def test_a_trunk_is_cached_reused_and_rebuilt_when_damaged(tmp_path, monkeypatch, caplog, one_torch_thread):
    from alstudio.engine.models import pretrained

    task = SourceTask.for_config(pretrained_config())
    first = ensure_trunk(task)
    real_build, built = pretrained.build_trunk, []
    monkeypatch.setattr(pretrained, "build_trunk", lambda *a, **k: built.append(1) or first)
    assert ensure_trunk(task).sha256 == first.sha256 and not built  # from the cache
    monkeypatch.setattr(pretrained, "build_trunk", real_build)
    first.path.write_bytes(first.path.read_bytes()[:100])  # a truncated file
    with caplog.at_level(logging.WARNING, logger="alstudio.models"):
        again = ensure_trunk(task)
    assert again.sha256 == first.sha256
    assert len([r for r in caplog.records if "damaged" in r.getMessage()]) == 1
    torch.load(again.path, weights_only=True)  # whole again


def test_each_model_of_a_run_starts_from_the_trunk_its_fingerprint_records(tmp_path, one_torch_thread):
    config = pretrained_config(active={"cycles": 1})
    trunk = ensure_trunk(SourceTask.for_config(config))
    with new_journal(tmp_path / "j.sqlite", config) as journal:
        events = drive(journal, config)
        assert isinstance(events[-1], Finished)
        recorded = journal.fingerprint["trunk"]
        assert recorded["sha256"] == trunk.sha256 and recorded["source"]["classes"] == ["b", "c", "e", "f"]
        checkpoint = torch.load(tmp_path / "checkpoints" / "cycle-1.pt", weights_only=True)
    # Fresh every cycle, then trained: the first conv's weights moved away from the trunk's.
    start = trunk.state()["stages.0.0.0.weight"]
    assert not torch.equal(checkpoint["trunk.stages.0.0.0.weight"], start)
    with Journal.open(tmp_path / "j.sqlite") as journal:
        with pytest.raises(JournalError, match="ran with the pretrained trunk"):
            journal.record_input("trunk", dict(recorded, sha256="0" * 64), "pretrained trunk")


def test_a_pretrained_run_resumes_exactly(tmp_path, one_torch_thread):
    config = pretrained_config()
    ensure_trunk(SourceTask.for_config(config))
    with new_journal(tmp_path / "a" / "j.sqlite", config) as journal:
        drive(journal, config)
        expected = metrics_by_cycle(journal)
    path = tmp_path / "b" / "j.sqlite"
    with new_journal(path, config) as journal:
        drive(journal, config, stop_after=lambda e: isinstance(e, CycleResult) and e.cycle == 0)
    with Journal.open(path) as journal:
        assert isinstance(drive(journal, config)[-1], Finished)
        resumed = metrics_by_cycle(journal)
    assert resumed.keys() == expected.keys()
    assert all(same(resumed[c], expected[c]) for c in expected)


def test_a_killed_pretrained_run_resumes_with_the_same_results(tmp_path):
    """A real kill -9 of `alstudio run`, then `alstudio resume`: the same metrics as an uninterrupted run."""
    toml = tmp_path / "p.toml"
    source = "".join(TINY_SOURCE["source_classes"])
    toml.write_text(
        '[model]\ninit = "pretrained"\nsource_classes = [' + ", ".join(f'"{c}"' for c in source) + "]\n"
        "pretrain_images = 200\npretrain_epochs = 1\n"
        '[dataset]\npool_size = 80\ntest_size = 20\nresolution = 16\nbias = "correlation"\n'
        "[training]\nepochs = 2\nbatch_size = 8\n[active]\ninitial_labels = 8\nquery_size = 4\ncycles = 4\n"
        "mc_samples = 4\n")
    env = dict(os.environ, ALSTUDIO_CACHE_DIR=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    args = [sys.executable, "-m", "alstudio", "run", str(toml), "--strategies", "bald", "--out"]
    subprocess.run([*args, str(reference)], env=env, check=True, capture_output=True, timeout=300)
    process = subprocess.Popen([*args, str(killed)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    journal = killed / "runs" / "bald-seed1" / "journal.sqlite"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:  # read-only: connecting must not create the file the run is about to place
            with sqlite3.connect(journal.resolve().as_uri() + "?mode=ro", uri=True) as db:
                if db.execute("SELECT COUNT(*) FROM cycles").fetchone()[0] >= 2:
                    break
        except sqlite3.Error:
            pass
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    subprocess.run([sys.executable, "-m", "alstudio", "resume", str(killed)], env=env, check=True,
                   capture_output=True, timeout=300)

    def results(folder):
        with Journal.open(folder / "runs" / "bald-seed1" / "journal.sqlite") as done:
            return metrics_by_cycle(done), done.fingerprint["trunk"]["sha256"]

    assert results(killed) == results(reference)


def test_experiments_saved_before_the_trunk_option_resume_from_scratch(tmp_path):
    """A journal or experiment.toml written before model.init existed ran from random weights."""
    data = tiny_config().model_dump()
    del data["model"]["init"]
    assert configs.validate(configs.as_saved(json.loads(json.dumps(data)))).model.init == "scratch"
    assert configs.validate({}).model.init == "pretrained"  # a config a person writes gets the default
    dataset = tiny_dataset(tiny_config())
    assert len(dataset.pool) == 80


def test_the_workbench_shows_the_trunk_being_built_before_the_run(window, qtbot, one_torch_thread):
    win = window(pretrained_config(active={"cycles": 1}))
    stages = []
    win.controller.progress.connect(lambda p: stages.append(win.stage_label.text()))
    with qtbot.waitSignal(win.controller.done, timeout=120_000):
        win.start()
    assert any(text.startswith("pretraining the trunk") for text in stages), stages[:5]
    assert win.experiment.runs()[0].journal_path.exists()


def test_the_cli_runs_from_scratch_on_request(tmp_path, capsys):
    toml = tmp_path / "c.toml"
    toml.write_text('[dataset]\npool_size = 80\ntest_size = 20\nresolution = 16\n[training]\nepochs = 1\n'
                    'batch_size = 8\n[active]\ninitial_labels = 8\nquery_size = 4\ncycles = 1\nmc_samples = 4\n')
    assert main(["run", str(toml), "--out", str(tmp_path / "e"), "--init", "scratch"]) == 0
    assert "pretrained trunk" not in capsys.readouterr().out  # nothing was built
    assert configs.load(tmp_path / "e" / "experiment.toml", saved=True).model.init == "scratch"


def test_a_self_supervised_trunk_learns_the_rotations_of_the_pools_own_images(tmp_path, one_torch_thread):
    import numpy as np

    config = tiny_config(model={"init": "self_supervised", "pretrain_images": 200, "pretrain_epochs": 1})
    task = SourceTask.for_config(config)
    assert task.kind == "rotations" and task.outputs == 4 and task.images == 50  # 200 / 4 turns, from 80
    assert task.dataset_config() == config.dataset  # the experiment's own images, no other task's
    pool = tiny_dataset(config).pool
    images, turns = task.examples(pool)
    assert images.shape == (200, *pool.images.shape[1:]) and list(np.bincount(turns)) == [50] * 4
    np.testing.assert_array_equal(images[50 + 3], np.rot90(pool.images[3], 1, axes=(0, 1)))  # a quarter turn
    trunk = ensure_trunk(task)
    assert trunk.summary()["source"]["kind"] == "rotations"
    with new_journal(tmp_path / "j.sqlite", config) as journal:
        assert isinstance(drive(journal, config)[-1], Finished)
        assert journal.fingerprint["trunk"]["sha256"] == trunk.sha256
    other = SourceTask.for_config(tiny_config(model={"init": "self_supervised", "pretrain_images": 200,
                                                     "pretrain_epochs": 1}, dataset={"seed": 1}))
    assert other.key != task.key  # another pool, another trunk

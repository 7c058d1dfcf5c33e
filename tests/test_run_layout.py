"""How many runs `alstudio run` executes at once, and with how many torch threads each."""

from __future__ import annotations

import pytest
from engine_helpers import tiny_config

from alstudio.cli import main
from alstudio.engine.errors import UserInputError
from alstudio.engine.experiment import Experiment
from alstudio.engine.parallel_runs import Layout, choose_layout


@pytest.fixture
def experiment(tmp_path):
    def make(runs_per_seed=("random", "bald"), seeds=2, **sections):
        return Experiment.create(tmp_path / "exp", tiny_config(**sections), list(runs_per_seed), seeds)
    return make


def test_on_a_cpu_each_core_takes_a_run_and_the_cores_are_shared_out(experiment, monkeypatch):
    monkeypatch.delenv("ALSTUDIO_JOBS")
    exp = experiment()  # 4 runs
    assert choose_layout(exp, None, "cpu", cores=2) == Layout(2, 1)
    assert choose_layout(exp, None, "cpu", cores=16) == Layout(4, 4)  # never more jobs than runs
    assert choose_layout(exp, None, "cpu", cores=1) == Layout(1, 1)
    assert choose_layout(exp, None, "cuda", cores=16) == Layout(1, 16)  # one GPU: one run at a time


def test_an_llm_or_a_person_keeps_runs_in_this_process(experiment, monkeypatch):
    monkeypatch.delenv("ALSTUDIO_JOBS")
    exp = experiment(annotator={"kind": "llm"})
    assert choose_layout(exp, None, "cpu", cores=2) == Layout(1, 2)
    with pytest.raises(UserInputError, match="--jobs 2: runs with the llm annotator run one at a time"):
        choose_layout(exp, 2, "cpu", cores=2)


def test_the_machine_default_and_bad_values_are_one_sentence(experiment, monkeypatch):
    exp = experiment()
    monkeypatch.setenv("ALSTUDIO_JOBS", "3")
    assert choose_layout(exp, None, "cpu", cores=6) == Layout(3, 2)
    assert choose_layout(exp, 1, "cpu", cores=6) == Layout(1, 6)  # the option wins over the variable
    monkeypatch.setenv("ALSTUDIO_JOBS", "many")
    with pytest.raises(UserInputError, match="ALSTUDIO_JOBS must be a whole number, got 'many'"):
        choose_layout(exp, None, "cpu")
    with pytest.raises(UserInputError, match="--jobs must be 1 or more, got 0"):
        choose_layout(exp, 0, "cpu")


def test_jobs_on_a_sweep_folder_names_the_sweeps_own_option(tmp_path, capsys):
    (tmp_path / "sweep" / "cells").mkdir(parents=True)
    assert main(["resume", str(tmp_path / "sweep"), "--jobs", "2"]) == 2
    assert "--jobs applies to experiment folders; a sweep's runs at once are --max-parallel" in capsys.readouterr().err

"""Configs that are in range key by key but cannot work: files that are not configs, non-finite
numbers, images that cannot fit in memory, and pools too small for their bias."""

import logging
import os
import sys

import pytest

from alstudio.engine import config, feasibility
from alstudio.engine.errors import ConfigError

SMALL_RUN = {"active": {"initial_labels": 2, "query_size": 2, "cycles": 2}}


def _refused(data: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        config.validate(data)
    message = str(caught.value)
    assert "\n" not in message
    return message


# ---- config files ---------------------------------------------------------------------------------

@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_is_refused_without_reading_it():
    with pytest.raises(ConfigError, match=r"^/dev/zero: not a config file \(not a regular file\)$"):
        config.load("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    pipe = tmp_path / "exp.toml"
    os.mkfifo(pipe)
    with pytest.raises(ConfigError, match=r"exp.toml: not a config file \(not a regular file\)$"):
        config.load(pipe)


@pytest.mark.skipif(sys.platform == "win32", reason="a folder cannot be opened as a file there")
def test_a_folder_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r": not a config file \(a folder\)$"):
        config.load(tmp_path)


def test_a_file_over_one_mib_is_refused(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text("# " + "x" * (2 << 20) + "\n")
    with pytest.raises(ConfigError, match=r"huge.toml: not a config file \(larger than 1 MiB\)$"):
        config.load(path)


def test_a_file_just_under_the_limit_is_read(tmp_path):
    path = tmp_path / "padded.toml"
    body = "[active]\nquery_size = 7\n"
    path.write_text(body + "#" * (config.MAX_CONFIG_BYTES - len(body) - 1) + "\n")
    assert path.stat().st_size == config.MAX_CONFIG_BYTES
    assert config.load(path).active.query_size == 7


def test_a_file_that_is_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin1.toml: cannot be read \(UnicodeDecodeError\)$"):
        config.load(path)


# ---- non-finite numbers ---------------------------------------------------------------------------

@pytest.mark.parametrize(("section", "key", "value"), [
    ("annotator", "price_input", "inf"),
    ("annotator", "price_output", "+inf"),
    ("annotator", "price_input", "nan"),
    ("annotator", "request_timeout", "nan"),
    ("training", "learning_rate", "nan"),
    ("training", "grad_lambda", "-inf"),
    ("dataset", "bias_strength", "nan"),
    ("model", "dropout", "nan"),
])
def test_non_finite_numbers_from_toml_are_refused_naming_the_key(tmp_path, section, key, value):
    path = tmp_path / "exp.toml"
    path.write_text(f"[{section}]\n{key} = {value}\n")
    shown = value.lstrip("+")
    with pytest.raises(ConfigError, match=rf"^exp.toml: {section}.{key} must be a finite number, got {shown}$"):
        config.load(path)


def test_non_finite_numbers_in_lists_are_refused_naming_the_item(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text("[annotator]\ntemperatures = [0.0, inf]\n")
    with pytest.raises(ConfigError, match=r"annotator.temperatures\[1\] must be a finite number, got inf$"):
        config.load(path)


def test_non_finite_numbers_are_refused_on_assignment_too():
    annotator = config.AnnotatorConfig()
    with pytest.raises(ValueError, match="finite"):
        annotator.price_input = float("inf")


# ---- memory ---------------------------------------------------------------------------------------

@pytest.fixture
def machine_memory(monkeypatch):
    """set(n_bytes): pretend this machine has that much memory (None: the OS does not say)."""
    def set_memory(n_bytes):
        monkeypatch.setattr(feasibility, "physical_memory", lambda: n_bytes)
    return set_memory


def test_physical_memory_is_known_here():
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        assert feasibility.physical_memory() > 100e6


def test_images_that_cannot_fit_are_refused_with_the_figure(machine_memory):
    machine_memory(int(10e6))
    # 6000 images of 32 x 32 x 3 bytes (training makes floats one batch at a time): 18 MB.
    message = _refused({"model": {"init": "scratch"}})
    assert message == ("dataset.pool_size, dataset.test_size and dataset.resolution ask for 18 MB of images "
                       "(the pool and test set, uint8 RGB), more than this machine's 10 MB of memory")


def test_the_paper_scale_example_is_refused_on_a_126_gb_machine(machine_memory):
    machine_memory(int(126e9))
    message = _refused({"dataset": {"pool_size": 1_000_000, "resolution": 256},
                        "training": {"device": "cuda"}, "model": {"init": "scratch"}})
    assert message.startswith("dataset.pool_size, dataset.test_size and dataset.resolution ask for 197 GB of "
                              "images (the pool and test set, uint8 RGB), more than this machine's 126 GB of memory")


def test_images_that_fit_pass(machine_memory):
    machine_memory(int(8e9))
    assert config.validate({"dataset": {"pool_size": 100_000}}).dataset.pool_size == 100_000


def test_pretraining_images_count_too(machine_memory):
    machine_memory(int(1e9))
    assert config.validate({"model": {"init": "scratch", "pretrain_images": 1_000_000}})
    message = _refused({"model": {"init": "pretrained", "pretrain_images": 1_000_000}})
    assert message.startswith("model.pretrain_images and dataset.resolution ask for 3.1 GB of images (pretraining "
                              "the trunk on 1,000,000 images")


def test_without_a_memory_figure_nothing_is_refused(machine_memory):
    machine_memory(None)
    assert config.validate({"dataset": {"pool_size": 1_000_000, "resolution": 256}, "model": {"init": "scratch"}})


def test_saved_experiments_open_on_a_smaller_machine(tmp_path, machine_memory):
    path = tmp_path / "experiment.toml"
    config.save(config.ExperimentConfig(), path)
    machine_memory(int(1e6))
    assert config.load(path, saved=True) == config.ExperimentConfig()
    assert config.validate(config.as_saved(config.ExperimentConfig().model_dump()))
    with pytest.raises(ConfigError, match=r"^experiment.toml: .* more than this machine's 1 MB of memory$"):
        config.load(path)


# ---- images in every class x group cell -----------------------------------------------------------

@pytest.fixture
def warnings_once(monkeypatch, caplog):
    monkeypatch.setattr(feasibility, "_warned", set())
    caplog.set_level(logging.WARNING, logger="alstudio.config")
    return caplog


def test_a_pool_too_small_for_its_bias_is_refused_with_the_counts():
    message = _refused({"dataset": {"pool_size": 30, "bias_strength": 0.99}, **SMALL_RUN})
    assert message == ("dataset.pool_size 30 gives the group 'red' no image of class 'a' (1.0% of the class's 15 "
                       "images, rounded down; 2 class x group cells get none), while a dataset.pool_size of 200 "
                       "or more gives every cell at least one")
    assert config.validate({"dataset": {"pool_size": 200, "bias_strength": 0.99}, **SMALL_RUN})


def test_correlation_bias_counts_the_unpaired_groups():
    message = _refused({"dataset": {"classes": ["a", "b", "c"], "groups": ["red", "blue", "green"],
                                    "bias": "correlation", "bias_strength": 0.96, "pool_size": 60}, **SMALL_RUN})
    assert message.startswith("dataset.pool_size 60 gives the group ")


def test_a_group_left_out_on_purpose_is_accepted(warnings_once):
    # bias_strength 1.0: the minority groups are meant to be missing from the pool.
    assert config.validate({"dataset": {"pool_size": 20, "bias_strength": 1.0}, **SMALL_RUN})
    assert not warnings_once.records


def test_cells_with_a_single_image_are_warned_about_once(warnings_once):
    data = {"dataset": {"pool_size": 20, "bias_strength": 0.9}, **SMALL_RUN}
    config.validate(data)
    config.validate(data)
    assert [r.getMessage() for r in warnings_once.records] == [
        "dataset.pool_size 20 gives the group 'red' only 1 image of class 'a' (2 class x group cells with fewer "
        "than 2), too few for that group's results to mean much"]


def test_a_test_set_with_a_single_image_in_a_cell_is_warned_about(warnings_once):
    config.validate({"dataset": {"test_size": 6}})
    assert [r.getMessage() for r in warnings_once.records] == [
        "dataset.test_size 6 gives the group 'red' only 1 test image of class 'a' (2 class x group cells with "
        "fewer than 2), too few for that group's results to mean much"]


def test_the_defaults_draw_no_warning(warnings_once):
    config.validate({})
    assert not warnings_once.records

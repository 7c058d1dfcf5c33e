"""Tiny experiments for engine tests: small images, one epoch, a handful of labels."""

from __future__ import annotations

from alstudio.engine import config as configs
from alstudio.engine.data import generate_dataset
from alstudio.engine.journal import Journal
from alstudio.engine.loop import new_run_fingerprint

TINY = {
    "dataset": {"pool_size": 80, "test_size": 20, "resolution": 16, "bias": "correlation"},
    "model": {"init": "scratch"},  # tests of the pretrained trunk ask for it with a tiny recipe
    "training": {"epochs": 2, "batch_size": 8},
    "active": {"initial_labels": 8, "query_size": 4, "cycles": 2, "mc_samples": 4, "strategy": "bald"},
}


def _tiny_data(sections) -> dict:
    data = {name: dict(values) for name, values in TINY.items()}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return data


def tiny_config(**sections) -> configs.ExperimentConfig:
    return configs.validate(_tiny_data(sections))


def tiny_toml(**sections) -> str:
    """The tiny config as a TOML file's text, for the command line (sections override TINY's keys)."""
    import tomli_w

    return tomli_w.dumps(_tiny_data(sections))


_datasets = {}


def tiny_dataset(config):
    key = config.dataset.model_dump_json()
    if key not in _datasets:
        _datasets[key] = generate_dataset(config.dataset, workers=1)
    return _datasets[key]


def new_journal(path, config, seed: int = 7) -> Journal:
    path.parent.mkdir(parents=True, exist_ok=True)
    return Journal.create(path, config, config.active.strategy, seed, new_run_fingerprint(config, seed))

import logging

import numpy as np
from conftest import small_dataset_config

from alstudio.engine.data import cache_path, load_or_generate


def test_second_load_comes_from_the_cache_with_identical_arrays():
    cfg = small_dataset_config()
    first, cached = load_or_generate(cfg, workers=1)
    assert not cached and cache_path(cfg).exists()
    second, cached = load_or_generate(cfg, workers=1)
    assert cached
    assert np.array_equal(first.pool.images, second.pool.images)
    assert second.group_names == ("blue", "red") and second.class_names == ("a", "d")


def test_the_key_changes_with_the_config():
    assert cache_path(small_dataset_config(seed=1)) != cache_path(small_dataset_config(seed=2))
    assert cache_path(small_dataset_config(bias="none")) != cache_path(small_dataset_config())


def _damage_and_reload(cfg, damage, caplog):
    original, _ = load_or_generate(cfg, workers=1)
    path = cache_path(cfg)
    damage(path)
    with caplog.at_level(logging.WARNING, logger="alstudio.data"):
        reloaded, cached = load_or_generate(cfg, workers=1)
    assert not cached
    assert np.array_equal(original.pool.images, reloaded.pool.images)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "regenerating" in warnings[0] and "\n" not in warnings[0]
    # The regenerated file is sound again.
    assert load_or_generate(cfg, workers=1)[1]


def test_a_truncated_cache_file_is_regenerated(caplog):
    def truncate(path):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])

    _damage_and_reload(small_dataset_config(), truncate, caplog)


def test_a_corrupted_cache_file_is_regenerated(caplog):
    def flip_bytes(path):
        data = bytearray(path.read_bytes())
        middle = len(data) // 3  # inside the pool images
        data[middle: middle + 16] = bytes(255 - b for b in data[middle: middle + 16])
        path.write_bytes(bytes(data))

    _damage_and_reload(small_dataset_config(), flip_bytes, caplog)


def test_a_file_that_is_not_a_dataset_is_regenerated(caplog):
    _damage_and_reload(small_dataset_config(), lambda path: path.write_text("hello"), caplog)

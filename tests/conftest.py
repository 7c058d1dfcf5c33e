import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Every test gets its own cache and data folders; nothing touches the user's."""
    monkeypatch.setenv("ALSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ALSTUDIO_DATA_DIR", str(tmp_path / "data"))


def small_dataset_config(**overrides):
    from alstudio.engine.config import DatasetConfig

    values = {"pool_size": 120, "test_size": 24}
    values.update(overrides)
    return DatasetConfig(**values)

"""Where alstudio keeps what it generates; ALSTUDIO_CACHE_DIR / ALSTUDIO_DATA_DIR override."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

import platformdirs

# What the program reads at run time ships inside the package (presets), wheel or checkout alike.
RESOURCES = Path(str(files("alstudio") / "resources"))
PRESETS = RESOURCES / "presets"


def cache_dir() -> Path:
    return Path(os.environ.get("ALSTUDIO_CACHE_DIR") or platformdirs.user_cache_dir("alstudio"))


def data_dir() -> Path:
    return Path(os.environ.get("ALSTUDIO_DATA_DIR") or platformdirs.user_data_dir("alstudio"))


def dataset_cache_dir() -> Path:
    return cache_dir() / "datasets"


def experiments_dir() -> Path:
    return data_dir() / "experiments"

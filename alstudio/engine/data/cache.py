"""Datasets cached on disk, keyed by everything that determines their pixels."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path

from ... import __version__
from ..paths import dataset_cache_dir
from .dataset import FORMAT_VERSION, DatasetFileError, SynbolsDataset
from .generate import ProgressCallback, generate_dataset, recipe_for
from .render import RENDER_REVISION

log = logging.getLogger("alstudio.data")


def cache_key(dataset_config) -> str:
    """Hash of the dataset config, the resolved font list, the package version and the renderer's revision."""
    recipe = recipe_for(dataset_config)
    blob = json.dumps(
        {"dataset": dataset_config.model_dump(), "fonts": recipe.fonts, "version": __version__,
         "format": FORMAT_VERSION, "render": RENDER_REVISION},
        sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def cache_path(dataset_config, cache_dir: Path | None = None) -> Path:
    return (cache_dir or dataset_cache_dir()) / f"synbols-{cache_key(dataset_config)}.npz"


def load_or_generate(dataset_config, progress: ProgressCallback | None = None,
                     cancel: threading.Event | None = None, workers: int | None = None,
                     cache_dir: Path | None = None, use_cache: bool = True) -> tuple[SynbolsDataset, bool]:
    """The dataset and whether it came from the cache; a damaged cache file is regenerated."""
    path = cache_path(dataset_config, cache_dir)
    if use_cache and path.exists():
        try:
            dataset, meta = SynbolsDataset.load(path)
            if meta.get("key") == path.stem:
                return dataset, True
            log.warning("%s: cached dataset belongs to another config; regenerating it", path)
        except DatasetFileError as err:
            log.warning("%s; regenerating it", err)
    dataset = generate_dataset(dataset_config, progress, cancel, workers)
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            dataset.save(path, meta={"key": path.stem, "version": __version__})
        except OSError as err:
            log.warning("could not cache the dataset in %s (%s); it will be generated again next time",
                        path.parent, err.strerror or err)
    return dataset, False

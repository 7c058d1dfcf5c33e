"""Whether a new config can run here and make sense: its images fit in this machine's memory, and
its pool and test set give every class x group cell the bias asks for at least one image.

Saved configs skip these checks (config.validate): an experiment made on a larger machine still opens.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from .data.bias import balanced_test_counts, pool_counts, pool_shares, size_for_every_cell
from .errors import ConfigError

log = logging.getLogger("alstudio.config")


def physical_memory() -> int | None:
    """Bytes of physical memory on this machine, or None where the OS does not say (e.g. Windows)."""
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return pages * page_size if pages > 0 and page_size > 0 else None


def _gb(n_bytes: float) -> str:
    gb = n_bytes / 1e9
    return f"{gb:.0f} GB" if gb >= 10 else f"{gb:.1f} GB" if gb >= 0.1 else f"{n_bytes / 1e6:.0f} MB"


def memory_needed(config) -> tuple[int, str, str]:
    """(bytes, the keys that set them, what is counted) of the larger of the two times an experiment
    holds many images. Counted: uint8 RGB pixels (training.Pixels keeps them so and makes floats one
    batch at a time). Not counted: models, batches and the interpreter.

    - A run holds the pool and test set.
    - Building a pretrained trunk (runner.prepare) holds the experiment's dataset while it generates and
      trains on the source images: model.pretrain_images characters, plus up to 2000 test images; or,
      self-supervised, a second copy of the dataset and the pool images it turns four ways.
    """
    d, model = config.dataset, config.model
    image = d.resolution * d.resolution * 3
    dataset = (d.pool_size + d.test_size) * image
    needs = [(dataset, "dataset.pool_size, dataset.test_size and dataset.resolution",
              "the pool and test set, uint8 RGB")]
    if model.init == "pretrained":
        source = (model.pretrain_images + min(model.pretrain_images // 10, 2000)) * image
        needs.append((dataset + source, "model.pretrain_images and dataset.resolution",
                      f"pretraining the trunk on {model.pretrain_images:,} images, uint8 RGB, next to the "
                      "experiment's images"))
    elif model.init == "self_supervised":
        turned = 4 * min(d.pool_size, model.pretrain_images // 4) * image
        needs.append((2 * dataset + turned, "model.pretrain_images and dataset.resolution",
                      "pretraining the trunk on turned pool images, uint8 RGB, next to two copies of the "
                      "experiment's images"))
    return max(needs, key=lambda need: need[0])


def check_fits_in_memory(config) -> None:
    """Refuse, before anything is generated, a config whose images cannot fit in this machine's memory."""
    available = physical_memory()
    if available is None:
        return
    needed, keys, what = memory_needed(config)
    if needed > available:
        raise ConfigError(f"{keys} ask for {_gb(needed)} of images ({what}), more than this machine's "
                          f"{_gb(available)} of memory")


_FEW_IMAGES = 2  # fewer in a class x group cell, and that group's results rest on one image or none
_warned: set[str] = set()


def check_every_cell(dataset) -> None:
    """Refuse a pool (or test set) so small for its bias that a class x group cell the bias gives a
    share gets no image at all; warn (once per process) about cells with fewer than two."""
    classes, groups = dataset.classes, dataset.groups
    wanted_shares = pool_shares(dataset)
    splits = (("dataset.pool_size", dataset.pool_size, "", wanted_shares, pool_counts(dataset)),
              ("dataset.test_size", dataset.test_size, "test ", np.full_like(wanted_shares, 1 / len(groups)),
               balanced_test_counts(dataset)))
    for key, size, kind, shares, counts in splits:
        wanted = shares > 0  # strength 1.0 leaves cells empty on purpose
        empty = np.argwhere(wanted & (counts == 0))
        if len(empty):
            c, g = empty[0]
            raise ConfigError(
                f"{key} {size} gives the group {groups[g]!r} no {kind}image of class {classes[c]!r} "
                f"({shares[c, g]:.1%} of the class's {counts[c].sum()} images, rounded down; "
                f"{len(empty)} class x group cell{'s' if len(empty) > 1 else ''} get none), while a "
                f"{key} of {size_for_every_cell(shares)} or more gives every cell at least one")
        few = np.argwhere(wanted & (counts < _FEW_IMAGES))
        if len(few):
            c, g = few[0]
            message = (f"{key} {size} gives the group {groups[g]!r} only {counts[c, g]} {kind}image of class "
                       f"{classes[c]!r} ({len(few)} class x group cell{'s' if len(few) > 1 else ''} with fewer "
                       f"than {_FEW_IMAGES}), too few for that group's results to mean much")
            if message not in _warned:
                _warned.add(message)
                log.warning(message)

"""Pretrained trunks: learned on a Synbols source task whose classes are disjoint from the experiment's.

The fairness paper fine-tuned an ImageNet trunk on a task it had never seen (a vs d); with tens of
labels a randomly initialised trunk barely learns, and its curves read as noise. Here the trunk is
first trained to tell apart other characters (by default the letters and digits that are not the
experiment's classes), drawn in many colours, fonts and backgrounds independent of the class, so it
brings shape features but no bias of its own. Trunks are cached by everything that fixes their
weights and rebuilt, with one warning, when their file is damaged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import string
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ... import __version__
from ..config import DatasetConfig, ExperimentConfig, TrainingConfig
from ..data import GenerationCancelled, load_or_generate
from ..data.cache import cache_key
from ..errors import UserInputError
from ..paths import cache_dir
from ..training import Stopped, fit, load_weights, pick_device, probabilities, to_tensor
from . import ActiveModel

log = logging.getLogger("alstudio.models")

SOURCE_ALPHABET = string.ascii_lowercase + string.digits
MAX_SOURCE_CLASSES = 24
SOURCE_COLORS = ("red", "blue", "green", "yellow", "orange", "purple", "cyan", "magenta")
SOURCE_SEED = 20_210_415
RECIPE_REVISION = 2  # bump whenever the recipe below changes the weights it gives (2: fused optimiser steps)
# How the source model learns; the head is dropped, only the trunk is kept.
_TRAINING = dict(batch_size=128, learning_rate=0.002, optimizer="adam", weight_decay=0.0)
_HEAD_DROPOUT = 0.1

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def default_source_classes(classes: list[str]) -> list[str]:
    """Letters and digits that are none of the experiment's classes (in either case): up to 24."""
    taken = {c.casefold() for c in classes}
    return [c for c in SOURCE_ALPHABET if c not in taken][:MAX_SOURCE_CLASSES]


ROTATIONS = 4  # the self-supervised task: which of 0, 90, 180 and 270 degrees an image was turned by


@dataclass(frozen=True)
class SourceTask:
    """Everything that fixes a pretrained trunk's weights.

    kind "characters": tell apart `classes`, characters that are not the experiment's, in images made
    for the purpose. kind "rotations" (self-supervised): tell how far each of `images` of the
    experiment's own unlabeled pool (`pool`, its DatasetConfig as JSON) was rotated; no label is used.
    """

    architecture: str
    classes: tuple[str, ...]
    resolution: int
    images: int
    epochs: int
    kind: str = "characters"
    pool: str = ""

    @classmethod
    def for_config(cls, config: ExperimentConfig) -> SourceTask:
        model = config.model
        if model.init == "self_supervised":
            # As many images as the character task (each in four turns), from the pool's own.
            images = min(config.dataset.pool_size, model.pretrain_images // ROTATIONS)
            return cls(model.architecture, (), config.dataset.resolution, images, model.pretrain_epochs,
                       "rotations", config.dataset.model_dump_json())
        classes = model.source_classes or default_source_classes(config.dataset.classes)
        if len(classes) < 2:
            raise UserInputError("model.source_classes: fewer than 2 characters are left for a source task "
                                 "disjoint from dataset.classes; list them, or set model.init = \"scratch\"")
        return cls(model.architecture, tuple(classes), config.dataset.resolution, model.pretrain_images,
                   model.pretrain_epochs)

    @property
    def outputs(self) -> int:
        return ROTATIONS if self.kind == "rotations" else len(self.classes)

    def dataset_config(self) -> DatasetConfig:
        """The source images: for characters, colour, background and font independent of the class."""
        if self.kind == "rotations":
            return DatasetConfig.model_validate_json(self.pool)
        cells = len(self.classes) * len(SOURCE_COLORS)
        return DatasetConfig(classes=list(self.classes), sensitive_attribute="color", groups=list(SOURCE_COLORS),
                             bias="none", pool_size=self.images, test_size=max(cells, min(self.images // 10, 2000)),
                             resolution=self.resolution, seed=SOURCE_SEED)

    def examples(self, split) -> tuple[np.ndarray, np.ndarray]:
        """(uint8 images, targets) to learn from: the characters and their classes, or the first
        `images` of the split in each of the four turns and how far each was turned."""
        if self.kind != "rotations":
            return split.images, split.classes
        first = split.images[: self.images]
        turned = np.concatenate([np.rot90(first, k, axes=(1, 2)) for k in range(ROTATIONS)])
        return np.ascontiguousarray(turned), np.repeat(np.arange(ROTATIONS), len(first))

    def training_config(self) -> TrainingConfig:
        return TrainingConfig(epochs=self.epochs, device="auto", **_TRAINING)

    @property
    def key(self) -> str:
        blob = json.dumps({"task": asdict(self), "images": cache_key(self.dataset_config()), "version": __version__,
                           "recipe": RECIPE_REVISION, "training": _TRAINING, "dropout": _HEAD_DROPOUT},
                          sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]

    def describe(self) -> str:
        if self.kind == "rotations":
            return (f"{self.architecture} trained to tell the rotation of {self.images:,} of this pool's images "
                    f"(self-supervised, {self.epochs} epochs)")
        return f"{self.architecture} trained on {''.join(self.classes)} ({self.images:,} images, {self.epochs} epochs)"


@dataclass(frozen=True)
class Trunk:
    task: SourceTask
    path: Path
    sha256: str  # of the weights, whatever the file's packaging
    source_accuracy: float  # on held-out source images: did the pretraining learn anything?

    def summary(self) -> dict:
        """What a run's fingerprint records."""
        return {"sha256": self.sha256, "source": asdict(self.task), "source_accuracy": self.source_accuracy,
                "recipe": RECIPE_REVISION}

    def state(self, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        return load_weights(self.path, device)


def trunk_dir() -> Path:
    return cache_dir() / "trunks"


def weights_hash(state: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for name in sorted(state):
        digest.update(name.encode())
        digest.update(state[name].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def ensure_trunk(task: SourceTask, progress: Progress | None = None, cancel: threading.Event | None = None,
                 workers: int | None = None, device: str = "auto") -> Trunk:
    """The cached trunk for `task`, built first (on `device`) when missing or damaged; Stopped when
    `cancel` is set meanwhile."""
    cached = cached_trunk(task)
    return cached if cached is not None else build_trunk(task, progress, cancel, workers, device)


def _paths(task: SourceTask) -> tuple[Path, Path]:
    stem = trunk_dir() / f"trunk-{task.key}"
    return stem.with_suffix(".pt"), stem.with_suffix(".json")


def cached_trunk(task: SourceTask) -> Trunk | None:
    weights, sidecar = _paths(task)
    if not weights.exists() and not sidecar.exists():
        return None
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        state = load_weights(weights)
        if weights_hash(state) != meta["sha256"]:
            raise ValueError("its weights do not match their recorded hash")
        _new_trunk(task).load_state_dict(state)
        return Trunk(task, weights, meta["sha256"], float(meta["source_accuracy"]))
    except Exception as err:  # noqa: BLE001 - any damage means the same thing: build it again
        log.warning("the cached pretrained trunk %s is damaged (%s); building it again", weights.name,
                    str(err).splitlines()[0] if str(err) else err.__class__.__name__)
        return None


def _new_trunk(task: SourceTask) -> torch.nn.Module:
    return _source_model(task).trunk


def _source_model(task: SourceTask) -> ActiveModel:
    return ActiveModel(task.architecture, task.outputs, n_groups=2, dropout=_HEAD_DROPOUT)


def build_trunk(task: SourceTask, progress: Progress | None = None, cancel: threading.Event | None = None,
                workers: int | None = None, device: str = "auto") -> Trunk:
    """Generate the source images (cached like any dataset), train trunk and head on them, keep the trunk."""
    report = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    try:
        images, _ = load_or_generate(task.dataset_config(), cancel=cancel, workers=workers,
                                     progress=lambda done, total: report("generating the source task", done, total))
    except GenerationCancelled:
        raise Stopped() from None
    device = pick_device(device)
    torch.manual_seed(SOURCE_SEED)
    model = _source_model(task).to(device)
    source_images, targets = task.examples(images.pool)
    x, y = to_tensor(source_images, device), torch.from_numpy(targets).to(device)
    unused_groups = torch.zeros_like(y)

    def checkpoint() -> None:
        if cancel is not None and cancel.is_set():
            raise Stopped()

    report("pretraining the trunk", 0, task.epochs)
    epochs = fit(model, x, y, unused_groups, task.training_config(), SOURCE_SEED, checkpoint=checkpoint)
    for done, total in epochs:
        report("pretraining the trunk", done, total)
    test_images, test_targets = task.examples(images.test)
    predicted = probabilities(model, to_tensor(test_images, device)).argmax(axis=1)
    accuracy = float(np.mean(predicted == test_targets))
    state = {name: tensor.cpu() for name, tensor in model.trunk.state_dict().items()}
    trunk = _save(task, state, accuracy, device)
    log.info("pretrained trunk %s: source accuracy %.3f in %.0f s", task.describe(), accuracy,
             time.perf_counter() - started)
    return trunk


def _save(task: SourceTask, state: dict[str, torch.Tensor], accuracy: float, device: torch.device) -> Trunk:
    weights, sidecar = _paths(task)
    weights.parent.mkdir(parents=True, exist_ok=True)
    digest = weights_hash(state)
    # Weights first, then the sidecar that vouches for them: a crash in between leaves a trunk that
    # fails its check and is built again.
    for path, write in ((weights, lambda tmp: torch.save(state, tmp)),
                        (sidecar, lambda tmp: tmp.write_text(json.dumps(
                            {"sha256": digest, "source_accuracy": accuracy, "task": asdict(task),
                             "recipe": RECIPE_REVISION, "version": __version__, "built_on": str(device)},
                            indent=2), encoding="utf-8"))):
        tmp = path.with_name(path.name + ".partial")
        write(tmp)
        tmp.replace(path)
    return Trunk(task, weights, digest, accuracy)

"""A generated dataset in memory: images with their attributes, and its .npz file format."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1


class DatasetFileError(Exception):
    """The .npz file is missing pieces, truncated or otherwise unreadable."""


@dataclass(frozen=True)
class Split:
    """One split (pool or test). Row i of every array describes image i."""

    images: np.ndarray  # uint8 [n, H, W, 3]
    classes: np.ndarray  # int64 class index (the character)
    groups: np.ndarray  # int64 index of the sensitive attribute's value
    fonts: np.ndarray  # int16 index into SynbolsDataset.font_names
    rotations: np.ndarray  # float32 radians
    scales: np.ndarray  # float32
    translations: np.ndarray  # float32 [n, 2]
    bold: np.ndarray  # bool
    slant: np.ndarray  # bool
    seeds: np.ndarray  # uint32 synbols seed of the image

    def __len__(self) -> int:
        return len(self.classes)

    def counts(self, n_classes: int, n_groups: int) -> np.ndarray:
        """[n_classes, n_groups] number of images per class x group."""
        table = np.zeros((n_classes, n_groups), np.int64)
        np.add.at(table, (self.classes, self.groups), 1)
        return table


SPLIT_FIELDS = tuple(f.name for f in fields(Split))


@dataclass(frozen=True)
class SynbolsDataset:
    class_names: tuple[str, ...]
    group_names: tuple[str, ...]
    font_names: tuple[str, ...]
    sensitive_attribute: str
    pool: Split
    test: Split

    def counts(self, split: str) -> np.ndarray:
        return getattr(self, split).counts(len(self.class_names), len(self.group_names))

    def content_hash(self) -> str:
        """sha256 of what a run sees (images, classes, groups and names), whatever made them: a
        resumed run checks it gets the same dataset, across alstudio versions that render alike."""
        digest = hashlib.sha256(json.dumps([self.class_names, self.group_names, self.sensitive_attribute]).encode())
        for split in (self.pool, self.test):
            for array in (split.images, split.classes, split.groups):
                digest.update(memoryview(np.ascontiguousarray(array)).cast("B"))  # no copy
        return digest.hexdigest()

    def save(self, path: str | Path, meta: dict | None = None) -> None:
        """Write an uncompressed .npz (fast to load); atomically, so no reader sees half a file."""
        path = Path(path)
        arrays = {f"{split}_{name}": getattr(getattr(self, split), name)
                  for split in ("pool", "test") for name in SPLIT_FIELDS}
        arrays.update(
            class_names=np.array(self.class_names), group_names=np.array(self.group_names),
            font_names=np.array(self.font_names), sensitive_attribute=np.array(self.sensitive_attribute),
            meta=np.array(json.dumps({"format": FORMAT_VERSION, **(meta or {})})),
        )
        tmp = path.with_name(path.name + ".partial")
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> tuple[SynbolsDataset, dict]:
        """Read a file written by save(); every byte is CRC-checked by the zip reader."""
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
            meta = json.loads(str(arrays["meta"]))
            splits = {split: Split(**{name: arrays[f"{split}_{name}"] for name in SPLIT_FIELDS})
                      for split in ("pool", "test")}
            dataset = cls(
                class_names=tuple(arrays["class_names"].tolist()),
                group_names=tuple(arrays["group_names"].tolist()),
                font_names=tuple(arrays["font_names"].tolist()),
                sensitive_attribute=str(arrays["sensitive_attribute"]),
                **splits,
            )
        except (OSError, EOFError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as err:
            raise DatasetFileError(f"{path}: unreadable dataset file ({err})") from None
        for split in (dataset.pool, dataset.test):
            if any(len(getattr(split, name)) != len(split) for name in SPLIT_FIELDS):
                raise DatasetFileError(f"{path}: arrays of different lengths")
        return dataset, meta

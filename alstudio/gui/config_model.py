"""The set-up on screen: one model that the set-up panels read from and write to.

It holds the config data as the panels show it (a `model_dump()`-shaped dict, which may be invalid
while the user is half-way through an edit), the last valid ExperimentConfig, and what is wrong with
the data, if anything. Each edit writes its keys and validates the whole config once.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..engine import config as configs
from ..engine.errors import ConfigError


class ConfigModel(QObject):
    # Emitted after every edit that changed something, with the section edited: data, config and error are current.
    changed = Signal(str)
    # A whole config replaced the data (new, opened or reopened set-up): the panels show it again.
    loaded = Signal()

    def __init__(self, config: configs.ExperimentConfig | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._config = config if config is not None else configs.ExperimentConfig()
        self._data = self._config.model_dump()
        self._error: str | None = None

    @property
    def config(self) -> configs.ExperimentConfig:
        """The last valid set-up; while `error` is set it is not what the panels show and must not run."""
        return self._config

    @property
    def error(self) -> str | None:
        """The engine's one sentence on what is wrong with the set-up, or None."""
        return self._error

    def value(self, section: str, key: str) -> Any:
        """What the panels show for `section.key` (a copy: the model changes only through `edit`)."""
        return copy.deepcopy(self._data[section][key])

    def section(self, name: str) -> dict:
        """A copy of one section as shown, valid or not."""
        return copy.deepcopy(self._data[name])

    def data(self) -> dict:
        """A copy of the whole set-up as shown, valid or not."""
        return copy.deepcopy(self._data)

    def load(self, config: configs.ExperimentConfig) -> None:
        """Show an already valid config (it is not validated again); emits `loaded`."""
        self._config, self._data, self._error = config, config.model_dump(), None
        self.loaded.emit()

    def edit(self, section: str, **values: Any) -> None:
        """One user edit: write these keys of `section`, validate once, emit `changed(section)`."""
        keys = self._data[section]
        if all(key in keys and keys[key] == value for key, value in values.items()):
            return  # nothing new: no validation, no signal
        keys.update(copy.deepcopy(values))
        if section == "dataset" and "groups" in values:
            _noisier_group_follows_the_groups(self._data)
        try:
            self._config = configs.validate(copy.deepcopy(self._data), "the set-up")
        except ConfigError as err:
            self._error = str(err)  # self._config keeps the last valid set-up
        else:
            self._error = None
        self.changed.emit(section)


def _noisier_group_follows_the_groups(data: dict) -> None:
    """A noisier annotator group that left the dataset gives way to the last group (usually a minority),
    as the annotator panel offers it, instead of leaving a set-up that names a group it lacks."""
    groups, annotator = data["dataset"]["groups"], data["annotator"]
    if annotator["error_group"] is not None and annotator["error_group"] not in groups and groups:
        annotator["error_group"] = groups[-1]

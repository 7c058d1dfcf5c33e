"""The experiment config: typed sections, TOML load/save, presets and readable errors.

Key names are a contract with saved experiments and later features: extend, never rename.
"""

from __future__ import annotations

import difflib
import logging
import os
import stat
import sys
import unicodedata
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .data.attributes import BACKGROUNDS, COLORS, DEFAULT_GROUPS
from .data.bias import BIAS_KINDS
from .data.fonts import canonical_family, missing_glyph
from .errors import ConfigError
from .feasibility import check_every_cell, check_fits_in_memory
from .paths import PRESETS
from .strategies import STRATEGIES  # the registry, read at validation time; torch-free (strategies/base.py)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

log = logging.getLogger("alstudio.config")

DEFAULT_PRESET = "minority-color"
MAX_REPETITIONS = 100


class _Section(BaseModel):
    # strict: a TOML string "10" is not silently taken as the number 10. No float may be nan or
    # inf (TOML spells them nan and inf): no key means either, and both slip past range checks.
    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True, allow_inf_nan=False)


class DatasetConfig(_Section):
    classes: list[str] = Field(default_factory=lambda: ["a", "d"])
    sensitive_attribute: Literal["color", "font", "background"] = "color"
    groups: list[str] | None = None  # None: the attribute's default pair
    fonts: list[str] = Field(default_factory=list)  # empty: the default mix (data.fonts.default_families)
    bias: str = "minority"  # a name in data.bias.BIAS_KINDS
    bias_strength: float = Field(0.9, ge=0.5, le=1.0)
    pool_size: int = Field(5000, ge=10, le=1_000_000)
    test_size: int = Field(1000, ge=4, le=1_000_000)
    resolution: int = Field(32, ge=8, le=256)
    seed: int = Field(0, ge=0, le=2**32 - 1)

    @field_validator("classes")
    @classmethod
    def _classes(cls, classes: list[str]) -> list[str]:
        if len(classes) < 2:
            raise ValueError(f"needs at least 2 classes, got {len(classes)}")
        for c in classes:
            if len(c) != 1 or not c.isprintable() or c.isspace():
                raise ValueError(f"must hold single visible characters, got {c!r}")
            if unicodedata.category(c).startswith("M"):
                raise ValueError(f"must hold characters that stand on their own, got U+{ord(c):04X} (a "
                                 f"combining mark, {unicodedata.name(c, 'unnamed').lower()}, drawn on the "
                                 "character before it or as nothing)")
        _no_duplicates(classes)
        return classes

    @field_validator("bias")
    @classmethod
    def _bias(cls, bias: str) -> str:
        if bias not in BIAS_KINDS:
            *first, last = (repr(name) for name in BIAS_KINDS)
            raise ValueError(f"must be one of {', '.join(first)} or {last}, got {bias!r}")
        return bias

    @field_validator("fonts")
    @classmethod
    def _fonts(cls, fonts: list[str]) -> list[str]:
        resolved = [_font_family(f) for f in fonts]
        _no_duplicates(resolved)
        return resolved

    @model_validator(mode="after")
    def _groups(self) -> DatasetConfig:
        if self.groups is None:
            # Bypass assignment validation: this runs inside validation already.
            object.__setattr__(self, "groups", list(DEFAULT_GROUPS[self.sensitive_attribute]))
        groups = self.groups
        if len(groups) < 2:
            raise _field_error("dataset.groups", f"needs at least 2 groups, got {len(groups)}")
        attribute = self.sensitive_attribute
        if attribute == "color":
            groups = [_known("dataset.groups", g, COLORS, "colour") for g in groups]
        elif attribute == "background":
            groups = [_known("dataset.groups", g, BACKGROUNDS, "background") for g in groups]
        else:
            groups = [_font_family(g, "dataset.groups") for g in groups]
            if self.fonts:
                raise _field_error(
                    "dataset.fonts", "must be empty when dataset.sensitive_attribute is 'font' "
                    "(each group fixes its own font)")
        try:
            _no_duplicates(groups)
        except ValueError as err:
            raise _field_error("dataset.groups", str(err)) from None
        object.__setattr__(self, "groups", groups)
        _drawable(self.classes, "dataset.classes", *self.drawn_in())
        n_cells = len(self.classes) * len(groups)
        if self.test_size < n_cells:
            raise _field_error(
                "dataset.test_size",
                f"must be at least classes x groups ({n_cells}) so every group meets every class, "
                f"got {self.test_size}")
        return self

    def drawn_in(self) -> tuple[list[str] | None, str]:
        """The font families the images are drawn in (None: the default mix) and the key choosing them."""
        if self.sensitive_attribute == "font":
            return list(self.groups), "dataset.groups"
        return (list(self.fonts), "dataset.fonts") if self.fonts else (None, "")


class ModelConfig(_Section):
    architecture: Literal["cnn", "resnet18"] = "cnn"
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    # The trunk starts from weights learned on a Synbols source task whose classes are disjoint from
    # the experiment's (as an ImageNet trunk is for the fairness paper's a/d task), or learned without
    # labels from the rotations of the experiment's own pool, or from random ones.
    init: Literal["pretrained", "self_supervised", "scratch"] = "pretrained"
    source_classes: list[str] = Field(default_factory=list)  # empty: letters and digits not among the classes
    pretrain_images: int = Field(12_000, ge=100, le=1_000_000)
    pretrain_epochs: int = Field(6, ge=1, le=1000)

    @property
    def starts_trained(self) -> bool:
        """Whether every new model's trunk starts from learned weights (pretrained or self-supervised)."""
        return self.init != "scratch"

    @field_validator("source_classes")
    @classmethod
    def _source_classes(cls, classes: list[str]) -> list[str]:
        if classes:
            DatasetConfig._classes(classes)
            _drawable(classes, "")  # the source task's images are drawn in the default mix
        return classes


class TrainingConfig(_Section):
    epochs: int = Field(10, ge=1, le=10_000)
    batch_size: int = Field(64, ge=1, le=65_536)
    learning_rate: float = Field(0.001, gt=0.0, le=10.0)
    optimizer: Literal["sgd", "adam"] = "adam"
    reset_each_cycle: bool = True
    grad_lambda: float = Field(0.0, ge=0.0, le=100.0)
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    momentum: float = Field(0.9, ge=0.0, lt=1.0)  # SGD only
    weight_decay: float = Field(0.0005, ge=0.0, le=1.0)
    eval_mc_samples: int = Field(0, ge=0, le=1000)  # 0: one deterministic pass on the test set
    # learning_loss: weight of the ranking loss, and the fraction of the epochs after which the
    # feature maps entering the loss module are detached from the trunk (LL4AL: 120 of 200 epochs).
    loss_prediction_weight: float = Field(1.0, ge=0.0, le=100.0)
    loss_prediction_stop: float = Field(0.6, ge=0.0, le=1.0)


class ActiveConfig(_Section):
    strategy: str = "bald"
    initial_labels: int = Field(20, ge=1)
    query_size: int = Field(20, gt=0)
    cycles: int = Field(10, ge=1, le=100_000)
    mc_samples: int = Field(20, ge=1, le=1000)
    pool_subset: int = Field(0, ge=0)  # 0 scores the whole unlabeled pool
    seed: int = Field(0, ge=0, le=2**32 - 1)
    power_beta: float = Field(1.0, gt=0.0, le=100.0)  # power_bald: sampling ∝ score ** power_beta
    # What an experiment compares: these strategies (empty: just `strategy`), each run `repetitions`
    # times with seeds derived from `seed`. `strategy` is the one a single run uses.
    strategies: list[str] = Field(default_factory=list)
    repetitions: int = Field(1, ge=1, le=MAX_REPETITIONS)

    @field_validator("strategy")
    @classmethod
    def _strategy(cls, name: str) -> str:
        if name not in STRATEGIES:
            raise ValueError(f"must be one of {', '.join(STRATEGIES)}, got {name!r}")
        return name

    @field_validator("strategies")
    @classmethod
    def _strategies(cls, names: list[str]) -> list[str]:
        return strategy_names(names)

    @model_validator(mode="after")
    def _strategy_among_strategies(self) -> ActiveConfig:
        if self.strategies and self.strategy not in self.strategies:
            if "strategy" in self.model_fields_set:
                raise _field_error("active.strategy", f"must be one of active.strategies "
                                   f"({', '.join(self.strategies)}), got {self.strategy!r}")
            object.__setattr__(self, "strategy", self.strategies[0])  # left out: the first compared one
        return self

    def run_strategies(self) -> list[str]:
        """The strategies an experiment with this config runs side by side."""
        return list(self.strategies) or [self.strategy]


class AnnotatorConfig(_Section):
    kind: Literal["oracle", "noisy", "human", "llm"] = "oracle"
    # noisy: a wrong class with probability error_rate; error_group_rate instead for error_group.
    error_rate: float = Field(0.1, ge=0.0, le=1.0)
    error_group: str | None = None
    error_group_rate: float = Field(0.3, ge=0.0, le=1.0)
    # llm: any OpenAI-compatible endpoint. The key is read from the environment variable named here,
    # never from a config file.
    base_url: str = ""  # empty: the SDK's default endpoint
    model: str = "gpt-4o-mini"
    api_key_env: str = "OPENAI_API_KEY"
    samples: int = Field(3, ge=1, le=20)  # answers per image for the consistency check
    temperatures: list[float] = Field(default_factory=lambda: [0.0, 0.7, 1.0])
    request_timeout: float = Field(30.0, gt=0.0, le=600.0)  # seconds per HTTP request
    deadline: float = Field(120.0, gt=0.0, le=3600.0)  # seconds for one image, retries included
    max_concurrency: int = Field(4, ge=1, le=64)
    price_input: float = Field(0.15, ge=0.0)  # USD per million input tokens
    price_output: float = Field(0.60, ge=0.0)  # USD per million output tokens
    # Demonstrations in the prompt, taken from samples people (or the ground truth) labeled:
    # none (zero-shot), random ones, or those most similar to the image by the model's trunk features.
    few_shot: int = Field(0, ge=0, le=16)
    few_shot_selection: Literal["random", "similar"] = "similar"

    @field_validator("temperatures")
    @classmethod
    def _temperatures(cls, values: list[float]) -> list[float]:
        if not values:
            raise ValueError("needs at least one temperature")
        for t in values:
            if not 0.0 <= t <= 2.0:
                raise ValueError(f"must hold temperatures from 0 to 2, got {t}")
        return values


class ExperimentConfig(_Section):
    dataset: DatasetConfig = Field(default_factory=DatasetConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    active: ActiveConfig = Field(default_factory=ActiveConfig)
    annotator: AnnotatorConfig = Field(default_factory=AnnotatorConfig)

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentConfig:
        pool, active = self.dataset.pool_size, self.active
        if active.initial_labels >= pool:
            raise _field_error(
                "active.initial_labels", f"must be smaller than dataset.pool_size ({pool}), "
                f"got {active.initial_labels}")
        unlabeled = pool - active.initial_labels
        if active.query_size > unlabeled:
            raise _field_error(
                "active.query_size", "must be at most the unlabeled pool (dataset.pool_size - "
                f"active.initial_labels = {unlabeled}), got {active.query_size}")
        if active.pool_subset > unlabeled:
            raise _field_error(
                "active.pool_subset", "must be at most the unlabeled pool (dataset.pool_size - "
                f"active.initial_labels = {unlabeled}), got {active.pool_subset}")
        if 0 < active.pool_subset < active.query_size:
            raise _field_error(
                "active.pool_subset", f"must be 0 or at least active.query_size ({active.query_size}), "
                f"got {active.pool_subset}")
        wanted = active.initial_labels + active.cycles * active.query_size
        if wanted > pool:
            raise _field_error(
                "active.cycles", f"asks for {wanted} labels (active.initial_labels + active.cycles x "
                f"active.query_size) but dataset.pool_size is {pool}")
        known = {c.casefold() for c in self.dataset.classes}
        overlap = sorted(c for c in self.model.source_classes if c.casefold() in known)
        if overlap:
            raise _field_error(
                "model.source_classes", f"must not share a class with dataset.classes (a pretrained trunk that "
                f"has seen {', '.join(overlap)} would know the experiment's task), got {overlap[0]!r}")
        group = self.annotator.error_group
        if group is not None and group not in self.dataset.groups:
            raise _field_error(
                "annotator.error_group", f"must be one of dataset.groups ({', '.join(self.dataset.groups)}), "
                f"got {group!r}")
        return self


class _FieldError(ValueError):
    """A cross-field problem whose message already names its key."""


def _field_error(key: str, message: str) -> _FieldError:
    return _FieldError(f"{key} {message}")


def strategy_names(names: list[str]) -> list[str]:
    """Registered strategy names, none twice (also what an experiment's manifest may list)."""
    for name in names:
        if name not in STRATEGIES:
            raise ValueError(f"must hold names from {', '.join(STRATEGIES)}, got {name!r}")
    _no_duplicates(names)
    return names


def _no_duplicates(values: list[str]) -> None:
    seen = set()
    for v in values:
        if v in seen:
            raise ValueError(f"must not repeat {v!r}")
        seen.add(v)


def _known(key: str, value: str, table: dict, what: str) -> str:
    name = value.strip().lower()
    if name not in table:
        raise _field_error(key, f"holds the unknown {what} {value!r}; known: {', '.join(table)}")
    return name


def _font_family(value: str, key: str = "") -> str:
    family = canonical_family(value)
    if family is None:
        message = (f"holds the font family {value!r}, which fontconfig does not know "
                   "(`alstudio fonts` lists the installed ones)")
        if key:
            raise _field_error(key, message)
        raise ValueError(message)
    return family


def _drawable(classes: list[str], key: str, families: list[str] | None = None, chosen_by: str = "") -> None:
    """Refuse a class that one of the fonts would draw as a box (or as nothing): no glyph for it."""
    missing = missing_glyph(classes, families)
    if missing is None:
        return
    family, char = missing
    whose = f"the font {family!r} ({chosen_by})" if chosen_by else f"the bundled font {family!r}"
    message = f"holds {char!r}, but {whose} has no glyph for it, so it would be drawn as a box"
    if key:
        raise _field_error(key, message)
    raise ValueError(message)


# ---- reading errors -----------------------------------------------------------------------------

_TYPE_WORDS = {
    "int_type": "an integer", "float_type": "a number", "bool_type": "true or false",
    "string_type": "a string", "list_type": "a list", "model_type": "a table",
    "dict_type": "a table", "int_from_float": "an integer",
}
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def _key(loc: tuple) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def _got(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    return repr(value)


def _describe(error: dict, known_keys: dict[str, list[str]]) -> str:
    loc, kind, ctx = error["loc"], error["type"], error.get("ctx", {})
    key, got = _key(loc), _got(error.get("input"))
    if kind == "extra_forbidden":
        section = _key(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known_keys.get(section, []), n=1)
        hint = f" (did you mean {section + '.' if section else ''}{close[0]}?)" if close else ""
        return f"{key} is not a known key{hint}"
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()))
        return f"{key} must be {_BOUNDS[kind]} {bound}, got {got}"
    if kind == "literal_error":
        return f"{key} must be one of {ctx['expected']}, got {got}"
    if kind in _TYPE_WORDS:
        return f"{key} must be {_TYPE_WORDS[kind]}, got {got}"
    if kind == "finite_number":
        return f"{key} must be a finite number, got {got}"
    if kind == "value_error":
        cause = ctx.get("error")
        if isinstance(cause, _FieldError):
            return str(cause)
        return f"{key} {cause}"
    return f"{key}: {error['msg']}, got {got}"


def _known_keys() -> dict[str, list[str]]:
    keys = {"": list(ExperimentConfig.model_fields)}
    for name, field in ExperimentConfig.model_fields.items():
        keys[name] = list(field.annotation.model_fields)
    return keys


def validate(data: dict[str, Any], source: str = "config") -> ExperimentConfig:
    """Build a config from plain data; the first problem becomes one ConfigError sentence.

    A new config (anything but `as_saved` data) must also suit this machine and make sense as a
    dataset: check_fits_in_memory and check_every_cell. A saved one is read as it was run, wherever."""
    try:
        config = ExperimentConfig.model_validate(data)
    except ValidationError as err:
        errors = err.errors()
        message = _describe(errors[0], _known_keys())
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} in {source})"
        raise ConfigError(message) from None
    if not isinstance(data, _SavedConfigData):
        check_fits_in_memory(config)
        check_every_cell(config.dataset)
    return config


# Keys that came after experiments were first saved, with the value those experiments ran with: a
# journal or experiment.toml without them is older than the key, not a config choosing its default.
_BEFORE_THE_KEY = {("model", "init"): "scratch"}


class _SavedConfigData(dict):
    """Plain config data that alstudio saved with an experiment (see as_saved)."""


def as_saved(data: dict[str, Any]) -> dict[str, Any]:
    """A complete config alstudio saved (experiment.toml, a journal's copy), read as it was run: keys
    it predates take the values it ran with, and validate() skips the checks for new configs (an
    experiment run on a larger machine still opens here)."""
    for (section, key), value in _BEFORE_THE_KEY.items():
        data.setdefault(section, {}).setdefault(key, value)
    return _SavedConfigData(data)


# ---- files --------------------------------------------------------------------------------------

MAX_CONFIG_BYTES = 1 << 20  # far above any real config; keeps /dev/zero or a stray huge file out


def _read_config(path: Path) -> str:
    """The text of a regular file of at most MAX_CONFIG_BYTES, read without ever blocking on a pipe."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot be read ({err.__class__.__name__})") from None
    try:
        kind = os.fstat(fd).st_mode
        if stat.S_ISDIR(kind):
            raise ConfigError(f"{path}: not a config file (a folder)")
        if not stat.S_ISREG(kind):
            raise ConfigError(f"{path}: not a config file (not a regular file)")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            blob = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as err:
        raise ConfigError(f"{path}: cannot be read ({err.__class__.__name__})") from None
    finally:
        os.close(fd)
    if len(blob) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: not a config file (larger than {MAX_CONFIG_BYTES >> 20} MiB)")
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: cannot be read ({err.__class__.__name__})") from None


def load(path: str | Path, saved: bool = False) -> ExperimentConfig:
    """Read a TOML file; keys it leaves out keep their defaults (or, for a config alstudio `saved`
    with an experiment, the values experiments had before those keys existed)."""
    path = Path(path)
    text = _read_config(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    try:
        return validate(as_saved(data) if saved else data, path.name)
    except ConfigError as err:
        raise ConfigError(f"{path.name}: {err}") from None


def differences(ours: BaseModel, theirs: BaseModel, prefix: str = "") -> list[str]:
    """The keys whose values differ, as "key ours vs theirs" (e.g. to warn that two datasets differ)."""
    mine, other = ours.model_dump(), theirs.model_dump()
    return [f"{prefix}{key} {_shown(mine[key])} vs {_shown(other[key])}" for key in mine if mine[key] != other[key]]


def _shown(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def with_runs(config: ExperimentConfig, strategies: list[str], repetitions: int) -> ExperimentConfig:
    """The config of an experiment comparing `strategies`, each repeated `repetitions` times."""
    data = config.model_dump()
    active = data["active"]
    active["strategies"], active["repetitions"] = list(strategies), repetitions
    if active["strategy"] not in strategies:
        active["strategy"] = strategies[0]
    return validate(data, "the experiment's runs")


def to_toml(config: ExperimentConfig) -> str:
    return tomli_w.dumps(config.model_dump(exclude_none=True))


def save(config: ExperimentConfig, path: str | Path) -> None:
    """Write atomically, so a crash never leaves half a config behind."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(to_toml(config), encoding="utf-8")
    tmp.replace(path)


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS.glob("*.toml"))


def preset_path(name: str) -> Path:
    path = PRESETS / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"--preset {name!r} is not a preset; choose one of {', '.join(preset_names())}")
    return path


def load_preset(name: str) -> ExperimentConfig:
    return load(preset_path(name))


def preset_summary(name: str) -> str:
    """The preset file's first comment line, shown by `alstudio presets`."""
    for line in preset_path(name).read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return ""

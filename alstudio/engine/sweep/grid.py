"""`--grid 'active.strategy=random,bald; dataset.bias_strength=0.7,0.9'`: axes over config keys,
each value typed by the same pydantic config model as a TOML file, and the cells they span.

The `active.strategy` axis is not a cell axis: it becomes the strategies every cell's experiment
compares side by side (an experiment already runs strategies x seeds), so a cell is one combination
of the other axes.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import re
import sys
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from .. import config as configs
from ..errors import ConfigError, UserInputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

STRATEGY_KEY = "active.strategy"
# Set by the sweep itself (--strategies / the strategy axis, --seeds), so never an axis.
NOT_AXES = {"active.strategies": f"use the {STRATEGY_KEY} axis or --strategies",
            "active.repetitions": "use --seeds"}
MAX_CELLS = 10_000
_SAFE = re.compile(r"[^A-Za-z0-9._+=-]")
MAX_ID_LENGTH = 120


class GridError(UserInputError):
    """One sentence naming the axis that is wrong."""


@dataclass(frozen=True)
class Axis:
    key: str  # "dataset.bias_strength", as in the TOML config
    values: tuple  # typed, as the config model holds them

    @property
    def field(self) -> str:
        return self.key.split(".", 1)[1]


@dataclass(frozen=True)
class Cell:
    """One combination of the grid's axes (the strategy axis aside): one experiment folder."""

    id: str  # filesystem-safe, deterministic: "bias_strength=0.7__grad_lambda=0"
    values: tuple[tuple[str, Any], ...]  # (axis key, value) in the grid's order

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.values)


def parse_grid(text: str, base: configs.ExperimentConfig) -> list[Axis]:
    """The axes of a --grid text, each value checked on `base` (one GridError sentence per bad axis)."""
    axes: list[Axis] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        key, sep, values_text = part.partition("=")
        key = key.strip()
        if not sep or not key:
            raise GridError(f"--grid: {part!r} is not an axis; write KEY=V1,V2 (e.g. dataset.bias_strength=0.7,0.9)")
        _check_key(key)
        if any(axis.key == key for axis in axes):
            raise GridError(f"--grid axis {key}: given twice; list all its values once")
        texts = _split_values(values_text, key)
        values = tuple(_typed(key, value) for value in texts)
        for value in values:
            check_value(base, key, value)
        if len({repr(v) for v in values}) != len(values):
            raise GridError(f"--grid axis {key}: a value is listed twice")
        axes.append(Axis(key, values))
    if not axes:
        raise GridError("--grid: give at least one axis, e.g. 'dataset.bias_strength=0.7,0.9'")
    return axes


def _check_key(key: str) -> None:
    if key in NOT_AXES:
        raise GridError(f"--grid axis {key}: cannot be an axis; {NOT_AXES[key]}")
    section, _, field = key.partition(".")
    sections = configs.ExperimentConfig.model_fields
    if section not in sections or not field or field not in sections[section].annotation.model_fields:
        known = [f"{s}.{f}" for s, info in sections.items() for f in info.annotation.model_fields]
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else "; axes are config keys as in the TOML file, section.key"
        raise GridError(f"--grid axis {key}: not a config key{hint}")


def _split_values(text: str, key: str) -> list[str]:
    """Comma-separated values; commas inside [...] or quotes belong to one value (a list, a string)."""
    values, current, depth, quote = [], "", 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "," and depth == 0:
            values.append(current.strip())
            current = ""
            continue
        current += char
    values.append(current.strip())
    if not any(values):
        raise GridError(f"--grid axis {key}: give at least one value after '='")
    if not all(values):
        raise GridError(f"--grid axis {key}: an empty value in {text.strip()!r}")
    return values


def _typed(key: str, text: str) -> Any:
    """A value as TOML reads it (0.7 a number, true a boolean, [..] a list); a bare word, or any value
    of a text key, is a string."""
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    if not isinstance(value, str) and _wants_text(key):
        return text
    return value


def _wants_text(key: str) -> bool:
    section, field = key.split(".", 1)
    annotation = configs.ExperimentConfig.model_fields[section].annotation.model_fields[field].annotation
    return _is_text(annotation)


def _is_text(annotation) -> bool:
    if annotation is str:
        return True
    origin = get_origin(annotation)
    if origin is Literal:
        return all(isinstance(a, str) for a in get_args(annotation))
    if origin is Union or type(annotation).__name__ == "UnionType":
        return all(_is_text(a) or a is type(None) for a in get_args(annotation))
    return False


def with_settings(base: configs.ExperimentConfig, settings: dict[str, Any]) -> dict:
    """The base config's data with the keys set (what a cell's config is validated from)."""
    data = base.model_dump()
    for key, value in settings.items():
        section, field = key.split(".", 1)
        data[section][field] = value
    return data


def check_value(base: configs.ExperimentConfig, key: str, value: Any) -> None:
    if key == STRATEGY_KEY:
        try:
            configs.strategy_names([value] if isinstance(value, str) else value)
        except (ValueError, TypeError) as err:
            raise GridError(f"--grid axis {key}: {err}") from None
        return
    try:
        configs.validate(with_settings(base, {key: value}), "the grid")
    except ConfigError as err:
        # A problem with another key (active.cycles asks for more labels than this pool_size holds) may
        # be one that other axes put right: cells_of's combinations are checked whole (folder.cell_config).
        if str(err).startswith(key):
            raise GridError(f"--grid axis {key}: the value {shown(value)} is refused: {err}") from None


def strategies_of(axes: list[Axis]) -> list[str] | None:
    """The strategy axis's values, or None when the grid has no strategy axis."""
    for axis in axes:
        if axis.key == STRATEGY_KEY:
            return [str(v) for v in axis.values]
    return None


def cells_of(axes: list[Axis]) -> list[Cell]:
    """Every combination of the cell axes, in the grid's order; ids unique and filesystem-safe."""
    cell_axes = [axis for axis in axes if axis.key != STRATEGY_KEY]
    combos = list(itertools.product(*(axis.values for axis in cell_axes)))
    if len(combos) > MAX_CELLS:
        raise GridError(f"--grid: spans {len(combos):,} cells, more than {MAX_CELLS:,}")
    names = _axis_names(cell_axes)
    cells = []
    for combo in combos:
        values = tuple((axis.key, value) for axis, value in zip(cell_axes, combo))
        cells.append(Cell(cell_id(names, combo), values))
    return _unique(cells)


def _axis_names(axes: list[Axis]) -> list[str]:
    """The field name alone (bias_strength), or section_field where two axes share a field name."""
    fields = [axis.field for axis in axes]
    return [axis.field if fields.count(axis.field) == 1 else axis.key.replace(".", "_") for axis in axes]


def cell_id(names: list[str], combo: tuple) -> str:
    if not names:
        return "all"  # a grid of strategies alone: one cell
    text = "__".join(f"{name}={_id_text(value)}" for name, value in zip(names, combo))
    safe = _SAFE.sub("_", text)
    if safe != text or len(safe) > MAX_ID_LENGTH:  # characters replaced: keep ids of different values apart
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        safe = f"{safe[:MAX_ID_LENGTH]}-{digest}"
    return safe


def _id_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # exact: 0.1 and 0.10000001 stay apart
    if isinstance(value, list):
        return "+".join(_id_text(v) for v in value)
    return str(value)


def _unique(cells: list[Cell]) -> list[Cell]:
    seen: set[str] = set()
    for cell in cells:
        if cell.id in seen:  # e.g. 0.7 and 0.70000001 print alike
            raise GridError(f"--grid: two cells would share the folder name {cell.id!r}; make the values differ more")
        seen.add(cell.id)
    return cells


def shown(value: Any) -> str:
    return _id_text(value) if not isinstance(value, str) else repr(value)

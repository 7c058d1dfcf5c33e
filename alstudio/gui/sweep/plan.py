"""From what the New sweep dialog shows to a checked plan: the grid text, its axes and cells, each
checked by the engine's own rules (parse_grid, the cells' whole configs, the architecture and the
device), and the output folder. No Qt: the dialog shows what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...engine import config as configs
from ...engine.errors import UserInputError
from ...engine.sweep import STRATEGY_KEY, Axis, GridError, parse_grid
from ...engine.sweep.folder import cell_config, check_cells_run_here
from ...engine.sweep.grid import cells_of

# Each cell's whole config is checked live up to this many cells (a few ms each); Sweep.create checks
# every cell again anyway, so a larger grid is refused there, in the same sentence.
LIVE_CELL_CHECKS = 200


@dataclass(frozen=True)
class SweepPlan:
    folder: Path
    base_config: configs.ExperimentConfig
    grid: str  # as `alstudio sweep --grid` would take it
    axes: tuple[Axis, ...]
    strategies: tuple[str, ...]
    cells: int
    seeds: int
    max_parallel: int

    @property
    def runs(self) -> int:
        return self.cells * len(self.strategies) * self.seeds

    def summary(self) -> str:
        kinds = "strategy" if len(self.strategies) == 1 else "strategies"
        return (f"{self.cells} cell(s) x {len(self.strategies)} {kinds} x {self.seeds} seed(s) = {self.runs} runs, "
                f"up to {self.max_parallel} at once")


@dataclass(frozen=True)
class PlanCheck:
    plan: SweepPlan | None
    other_axes_error: str | None = None  # shown under the "other axes" field
    problem: str | None = None  # anything else, shown above the buttons


def grid_value(value) -> str:
    """A value as the --grid text writes it (TOML reads it back as the same value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def axis_text(key: str, values) -> str:
    return f"{key}={','.join(grid_value(v) for v in values)}"


def check_plan(config: configs.ExperimentConfig, strategies: list[str], chosen_axes: list[str], other_axes: str,
               seeds: int, max_parallel: int, folder_text: str) -> PlanCheck:
    """The plan, or the first thing wrong with it as one sentence. `chosen_axes` are the ticked axes'
    grid texts ("dataset.bias_strength=0.7,0.9"), `other_axes` the free text in the --grid syntax."""
    if not strategies:
        return PlanCheck(None, problem="Tick at least one strategy to compare")
    chosen = "; ".join([axis_text(STRATEGY_KEY, strategies), *chosen_axes])
    try:
        parse_grid(chosen, config)
    except GridError as err:
        return PlanCheck(None, problem=str(err))
    if other_axes.strip():
        try:
            parse_grid(other_axes, config)
            axes = parse_grid(f"{chosen}; {other_axes}", config)  # an axis given both ticked and typed
        except GridError as err:
            return PlanCheck(None, other_axes_error=str(err))
        grid = f"{chosen}; {other_axes.strip()}"
    else:
        grid, axes = chosen, parse_grid(chosen, config)
    try:
        cells = cells_of(axes)
        cell_configs = [cell_config(config, cell) for cell in cells[:LIVE_CELL_CHECKS]]
        check_cells_run_here(cell_configs, strategies)  # a sweep the workbench starts runs here
        folder = _checked_folder(folder_text)
    except UserInputError as err:
        return PlanCheck(None, problem=str(err))
    return PlanCheck(SweepPlan(folder, config, grid, tuple(axes), tuple(strategies), len(cells), seeds, max_parallel))


def _checked_folder(text: str) -> Path:
    if not text.strip():
        raise UserInputError("Output folder: choose a folder for the sweep")
    folder = Path(text.strip()).expanduser()
    if folder.exists() and not folder.is_dir():
        raise UserInputError(f"Output folder {folder}: is a file, not a folder")
    try:
        holds_files = folder.is_dir() and any(folder.iterdir())
    except OSError as err:
        raise UserInputError(f"Output folder {folder}: cannot be read ({err.strerror or err})") from None
    if holds_files:
        raise UserInputError(f"Output folder {folder}: not empty; choose an empty or a new folder")
    return folder

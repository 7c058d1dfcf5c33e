"""An experiment folder: the config, which strategies x seeds it runs, and one journal per run.

    DIR/experiment.toml      the resolved config
    DIR/experiment.json      strategies, seed count, derived run seeds, who answers what an LLM
                             flags (oracle, defer, or human in the workbench), alstudio version
    DIR/runs/<strategy>-seed<k>/journal.sqlite (+ checkpoints/)
    DIR/metrics.csv, DIR/summary.json   rewritten from the journals after every run
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from . import config as configs
from .errors import UserInputError
from .strategies import STRATEGIES

OWN_FILES = ("experiment.toml", "experiment.json", "metrics.csv", "summary.json", "report.png")


def run_seed(master_seed: int, index: int) -> int:
    """The seed of the index-th repetition, derived from the config's active.seed."""
    return int(np.random.SeedSequence([master_seed, index]).generate_state(1)[0])


@dataclass(frozen=True)
class RunSpec:
    strategy: str
    index: int
    seed: int
    folder: Path

    @property
    def journal_path(self) -> Path:
        return self.folder / "journal.sqlite"

    @property
    def label(self) -> str:
        return f"{self.strategy} seed {self.index + 1}"


@dataclass(frozen=True)
class Experiment:
    folder: Path
    config: configs.ExperimentConfig
    strategies: tuple[str, ...]
    n_seeds: int
    flagged_to: str = "oracle"  # who answers what the LLM flags: oracle, defer (later, in the workbench) or human

    @classmethod
    def create(cls, folder: str | Path, config: configs.ExperimentConfig, strategies: list[str],
               n_seeds: int, force: bool = False, flagged_to: str = "oracle") -> Experiment:
        folder = Path(folder)
        unknown = [s for s in strategies if s not in STRATEGIES]
        if unknown:
            raise UserInputError(f"--strategies: unknown strategy {unknown[0]!r}; valid names: {', '.join(STRATEGIES)}")
        if not strategies:
            raise UserInputError("--strategies: give at least one strategy")
        if len(set(strategies)) != len(strategies):
            raise UserInputError("--strategies: a strategy is listed twice")
        most = configs.MAX_REPETITIONS
        if not 1 <= n_seeds <= most:
            raise UserInputError(f"--seeds must be from 1 to {most}, got {n_seeds}")
        if folder.exists() and not folder.is_dir():
            raise UserInputError(f"--out {folder}: is a file, not a folder")
        if folder.is_dir() and any(folder.iterdir()):
            if not force:
                what = "another experiment" if (folder / "experiment.json").exists() else "other files"
                raise UserInputError(f"--out {folder}: the folder holds {what}; choose an empty folder or add --force")
            for name in OWN_FILES:
                (folder / name).unlink(missing_ok=True)
            shutil.rmtree(folder / "runs", ignore_errors=True)
        if not folder.parent.exists():
            raise UserInputError(f"--out {folder}: the folder {folder.parent} does not exist")
        folder.mkdir(exist_ok=True)
        config = configs.with_runs(config, strategies, n_seeds)  # experiment.toml alone reopens the experiment
        configs.save(config, folder / "experiment.toml")
        meta = {"strategies": list(strategies), "seeds": n_seeds, "alstudio": __version__,
                "run_seeds": [run_seed(config.active.seed, i) for i in range(n_seeds)], "flagged_to": flagged_to}
        write_json(folder / "experiment.json", meta)
        return cls(folder, config, tuple(strategies), n_seeds, flagged_to)

    @classmethod
    def open(cls, folder: str | Path) -> Experiment:
        folder = Path(folder)
        meta_path = folder / "experiment.json"
        if not meta_path.is_file():
            raise UserInputError(f"{folder}: not an alstudio experiment folder (no experiment.json)")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            strategies, n_seeds = tuple(meta["strategies"]), int(meta["seeds"])
            flagged_to = str(meta.get("flagged_to", "oracle"))
        except (ValueError, KeyError, TypeError):
            raise UserInputError(f"{meta_path}: damaged experiment description") from None
        config = configs.load(folder / "experiment.toml", saved=True)
        return cls(folder, config, strategies, n_seeds, flagged_to)

    def runs(self) -> list[RunSpec]:
        """Seed by seed, every strategy within a seed: after the first round all curves are on screen."""
        master = self.config.active.seed
        return [RunSpec(strategy, i, run_seed(master, i), self.folder / "runs" / f"{strategy}-seed{i + 1}")
                for i in range(self.n_seeds) for strategy in self.strategies]

    def run_config(self, strategy: str) -> configs.ExperimentConfig:
        data = self.config.model_dump()
        data["active"]["strategy"] = strategy
        return configs.validate(data)


def write_json(path: Path, data) -> None:
    """Atomically, so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, allow_nan=True), encoding="utf-8")
    tmp.replace(path)


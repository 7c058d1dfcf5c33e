"""Fixtures shared by the reliability tests: one dataset cache for the whole session (every subprocess
loads the same tiny dataset from it) and uninterrupted reference experiments, made once per config."""

import sys
from pathlib import Path

import pytest

# The helpers next to tests/ (engine_helpers) import as top-level modules, as in the other tests.
TESTS = str(Path(__file__).resolve().parent.parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from .support import Cli  # noqa: E402


@pytest.fixture(scope="session")
def cli(tmp_path_factory):
    """Runs `python -m alstudio ...` in subprocesses that share one dataset cache."""
    return Cli(tmp_path_factory.mktemp("reliability"))


@pytest.fixture(scope="session")
def reference(cli):
    """reference(cycles) -> the folder of an uninterrupted experiment with that config (made once)."""
    made = {}

    def make(cycles: int) -> Path:
        if cycles not in made:
            made[cycles] = cli.reference(cycles)
        return made[cycles]

    return make

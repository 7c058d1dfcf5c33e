"""alstudio: a desktop workbench for active-learning experiments on Synbols."""

from importlib.metadata import PackageNotFoundError, version

try:  # one source: pyproject.toml's version, as the installed package's metadata says
    __version__ = version("alstudio")
except PackageNotFoundError:  # pragma: no cover - run from a checkout that was never installed
    __version__ = "0+unknown"

"""A wheel built from the checkout works on its own: it carries its presets, and `alstudio presets`,
`alstudio run` and `alstudio gui --screenshot` work from a folder outside the checkout.

The wheel is installed with --no-deps into a throw-away folder put first on the path, so the heavy
dependencies (torch, PySide6) already in this environment are reused, not downloaded again.
"""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from engine_helpers import tiny_toml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the wheel, the folder it is installed in)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # built from a copy: the build writes build/ and *.egg-info beside its sources
    shutil.copytree(ROOT / "alstudio", source / "alstudio", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(work / "dist")], check=True, capture_output=True, timeout=300)
    wheel = next((work / "dist").glob("alstudio-*.whl"))
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", str(wheel), "--no-deps", "--no-index", "-q",
                    "--target", str(target)], check=True, capture_output=True, timeout=300)
    return wheel, target


def installed_env(installed, **extra):
    """This environment, with the installed wheel first on the path."""
    return dict(os.environ, PYTHONPATH=str(installed[1]), QT_QPA_PLATFORM="offscreen", **extra)


def alstudio(installed, *args, cwd, **env_extra):
    return subprocess.run([sys.executable, "-m", "alstudio", *args], cwd=cwd, env=installed_env(installed, **env_extra),
                          capture_output=True, text=True, timeout=300)


def test_the_wheel_carries_every_preset(installed):
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    presets = sorted((ROOT / "alstudio" / "resources" / "presets").glob("*.toml"))
    assert presets
    for preset in presets:
        assert f"alstudio/resources/presets/{preset.name}" in names


def test_the_installed_wheel_runs_outside_the_checkout(installed, tmp_path):
    import tomllib

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    done = subprocess.run([sys.executable, "-c", "import alstudio; print(alstudio.__file__, alstudio.__version__)"],
                          cwd=outside, env=installed_env(installed), capture_output=True, text=True, timeout=120)
    module_file, version = done.stdout.split()
    assert Path(module_file).is_relative_to(installed[1])  # the installed copy, not the checkout
    assert version == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

    listed = alstudio(installed, "presets", cwd=outside)
    assert listed.returncode == 0, listed.stderr
    for preset in (ROOT / "alstudio" / "resources" / "presets").glob("*.toml"):
        assert preset.stem in listed.stdout

    (outside / "tiny.toml").write_text(tiny_toml(active={"cycles": 1}))
    ran = alstudio(installed, "run", "tiny.toml", "--out", "exp", "--strategies", "random", "--seeds", "1",
                   cwd=outside, ALSTUDIO_CACHE_DIR=str(tmp_path / "cache"))
    assert ran.returncode == 0, ran.stderr
    assert (outside / "exp" / "metrics.csv").exists()

    shot = alstudio(installed, "gui", "--preset", "lecture-bald-vs-random", "--screenshot", "window.png",
                    cwd=outside, ALSTUDIO_DATA_DIR=str(tmp_path / "data"))
    assert shot.returncode == 0, shot.stderr
    assert (outside / "window.png").stat().st_size > 10_000


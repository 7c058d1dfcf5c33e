"""The Makefile's system-package step on each platform (issue 15, item 4).

Each test runs `make system-packages` (or `qt-platform-libraries`) on a copy of the Makefile in a
temporary folder, with UNAME_S set to the system to pretend to be and PATH holding only fake commands
that record their arguments: nothing is ever installed, and the checkout's .venv is never touched.
"""

import platform
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


class FakeSystem:
    """A folder with a copy of the Makefile and a bin/ of fake commands, the only ones on PATH."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.bin = folder / "bin"
        self.bin.mkdir()
        self.calls = folder / "calls.log"
        shutil.copy(ROOT / "Makefile", folder / "Makefile")

    def fake(self, name: str, exit_code: int = 0, prints: str = "") -> None:
        """A command that appends `name args...` to calls.log."""
        script = self.bin / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{self.calls}"\n'
                          + (f'echo "{prints}"\n' if prints else "") + f"exit {exit_code}\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)

    def real(self, name: str) -> None:
        """A system command the recipe needs for real (e.g. grep over the linker's cache)."""
        found = shutil.which(name)
        if found is None:
            pytest.skip(f"{name} is not installed")
        (self.bin / name).symlink_to(found)

    def make(self, target: str, uname: str) -> subprocess.CompletedProcess:
        return subprocess.run([MAKE, "--no-print-directory", target, f"UNAME_S={uname}"], cwd=self.folder,
                              env={"PATH": str(self.bin), "HOME": str(self.folder)},
                              capture_output=True, text=True, timeout=60)

    def recorded(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []


@pytest.fixture
def system(tmp_path):
    return FakeSystem(tmp_path)


def test_macos_installs_cairo_and_pkg_config_with_homebrew(system):
    system.fake("brew")
    done = system.make("system-packages", "Darwin")
    assert done.returncode == 0, done.stdout + done.stderr
    assert system.recorded() == ["brew install cairo pkg-config"]


def test_macos_without_homebrew_prints_the_command_and_fails(system):
    done = system.make("system-packages", "Darwin")
    assert done.returncode != 0
    assert "    brew install cairo pkg-config\n" in done.stdout
    assert "https://brew.sh" in done.stdout
    assert system.recorded() == []


def test_macos_with_cairo_found_installs_nothing(system):
    system.fake("pkg-config")  # `pkg-config --exists cairo` succeeds
    system.fake("brew")
    done = system.make("system-packages", "Darwin")
    assert done.returncode == 0, done.stdout + done.stderr
    assert system.recorded() == ["pkg-config --exists cairo"]


def test_macos_needs_no_qt_platform_libraries(system):
    system.fake("brew")
    system.fake("apt-get")
    done = system.make("qt-platform-libraries", "Darwin")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "" and system.recorded() == []


@pytest.mark.parametrize("uname", ["FreeBSD", "MINGW64_NT-10.0-19045"])
def test_another_system_is_told_what_to_install(system, uname):
    system.fake("brew")
    system.fake("apt-get")
    done = system.make("system-packages", uname)
    assert done.returncode != 0
    first = done.stdout.splitlines()[0]
    assert f"not on {uname}" in first
    assert "cairo's development files and pkg-config" in first and "pkg-config --exists cairo" in first
    assert "On Windows make is not needed: pip install ." in done.stdout
    assert system.recorded() == []


def test_another_system_with_cairo_found_goes_on(system):
    system.fake("pkg-config")
    done = system.make("system-packages", "FreeBSD")
    assert done.returncode == 0, done.stdout + done.stderr


def test_linux_as_a_user_prints_the_apt_command_without_running_it(system):
    system.real("grep")
    system.fake("id", prints="1000")
    system.fake("apt-get")
    done = system.make("system-packages", "Linux")
    assert done.returncode != 0
    assert "    sudo apt-get install -y libcairo2-dev pkg-config" in done.stdout
    assert not any(call.startswith("apt-get") for call in system.recorded())


def test_linux_as_root_installs_with_apt_get(system):
    system.real("grep")
    system.fake("id", prints="0")
    system.fake("apt-get")
    done = system.make("system-packages", "Linux")
    assert done.returncode == 0, done.stdout + done.stderr
    calls = [call for call in system.recorded() if call.startswith("apt-get")]
    assert calls[0] == "apt-get update -qq"
    assert calls[1].startswith("apt-get install -y -qq libcairo2-dev pkg-config")


def test_the_platform_defaults_to_uname(system):
    dry = subprocess.run([MAKE, "-n", "system-packages"], cwd=system.folder, capture_output=True, text=True,
                         timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert f'case "{platform.system()}" in' in dry.stdout

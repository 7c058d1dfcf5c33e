"""Desktop presence (issue 15, item 5): `alstudio install-desktop-entry` writes a valid freedesktop
launcher and its icon, and the running app carries alstudio's name and icon."""

import fnmatch
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from alstudio import desktop
from alstudio.cli import main

try:
    import tomllib
except ImportError:  # Python 3.10: alstudio depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def read_entry(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line and not line.startswith("#"))


@pytest.fixture
def linux(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")


def test_install_writes_the_entry_and_the_icon_into_dir(tmp_path, capsys, linux):
    assert main(["install-desktop-entry", "--dir", str(tmp_path)]) == 0
    entry = tmp_path / "applications" / "alstudio.desktop"
    icon = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "alstudio.svg"
    assert capsys.readouterr().out == f"wrote {entry}\nwrote {icon}\n"
    assert icon.read_bytes() == desktop.ICON.read_bytes()
    keys = read_entry(entry)
    assert keys["Type"] == "Application"
    assert keys["Name"] == "alstudio"
    assert keys["Comment"]
    assert keys["Terminal"] == "false"
    assert keys["Categories"] == "Education;Science;"
    assert keys["Icon"] == str(icon)
    assert keys["StartupWMClass"] == "alstudio"
    program, *arguments = keys["Exec"].split(" ")
    assert Path(program).is_absolute() and keys["TryExec"] == program
    assert arguments in (["gui"], ["-m", "alstudio", "gui"])
    assert not list(tmp_path.rglob(".*.partial"))


def test_install_defaults_to_xdg_data_home(tmp_path, monkeypatch, linux):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert main(["install-desktop-entry"]) == 0
    assert (tmp_path / "data" / "applications" / "alstudio.desktop").is_file()
    assert (tmp_path / "data" / "icons" / "hicolor" / "scalable" / "apps" / "alstudio.svg").is_file()


def test_without_xdg_data_home_it_is_local_share(monkeypatch):
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert desktop.data_home() == Path.home() / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # the XDG spec says to ignore a relative path
    assert desktop.data_home() == Path.home() / ".local" / "share"


def test_a_second_install_replaces_the_first(tmp_path, linux):
    assert main(["install-desktop-entry", "--dir", str(tmp_path)]) == 0
    entry = tmp_path / "applications" / "alstudio.desktop"
    entry.write_text("stale")
    assert main(["install-desktop-entry", "--dir", str(tmp_path)]) == 0
    assert read_entry(entry)["Name"] == "alstudio"


@pytest.mark.parametrize("system", ["darwin", "win32"])
def test_elsewhere_it_says_it_is_for_linux_and_writes_nothing(tmp_path, capsys, monkeypatch, system):
    monkeypatch.setattr(sys, "platform", system)
    assert main(["install-desktop-entry", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "for Linux desktops" in err
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_folder_is_one_sentence(tmp_path, capsys, linux):
    (tmp_path / "applications").write_text("a file where the folder should be")
    assert main(["install-desktop-entry", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be written" in err and "Traceback" not in err


def test_the_launch_command_prefers_the_script_beside_the_interpreter(tmp_path, monkeypatch):
    interpreter = tmp_path / "venv" / "bin" / "python"
    interpreter.parent.mkdir(parents=True)
    interpreter.touch()
    monkeypatch.setattr(sys, "executable", str(interpreter))
    assert desktop.launch_command() == [str(interpreter), "-m", "alstudio", "gui"]
    script = interpreter.parent / "alstudio"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert desktop.launch_command() == [str(script), "gui"]


def test_exec_quotes_paths_with_spaces_and_escapes_as_the_spec_says():
    text = desktop.desktop_entry(['/home/a b/venv/bin/python', "-m", "alstudio", "gui"], Path("/i/alstudio.svg"))
    assert 'Exec="/home/a b/venv/bin/python" -m alstudio gui\n' in text
    text = desktop.desktop_entry(['/opt/100%/$x\\y/alstudio', "gui"], Path("/i/alstudio.svg"))
    # quoting escapes $ and \ with a backslash, then the string rules double every backslash; % doubles
    assert 'Exec="/opt/100%%/\\\\$x\\\\\\\\y/alstudio" gui\n' in text


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate is not installed (Debian: apt-get install desktop-file-utils)")
@pytest.mark.parametrize("where", ["plain", "with space"])
def test_the_entry_passes_desktop_file_validate(tmp_path, where, linux):
    folder = tmp_path / where
    assert main(["install-desktop-entry", "--dir", str(folder)]) == 0
    checked = subprocess.run(["desktop-file-validate", str(folder / "applications" / "alstudio.desktop")],
                             capture_output=True, text=True, timeout=60)
    # It exits 0 with hints (e.g. two main categories); errors and warnings are what matter.
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "error:" not in checked.stdout and "warning:" not in checked.stdout, checked.stdout


def test_the_icon_ships_in_the_package():
    assert desktop.ICON.is_file() and desktop.ICON.read_text().lstrip().startswith("<?xml")
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["alstudio"]
    relative = desktop.ICON.relative_to(ROOT / "alstudio").as_posix()
    assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns)


@pytest.fixture
def app_identity(qapp):
    """The shared test QApplication's name and icon, put back afterwards for the other tests."""
    saved = (qapp.applicationName(), qapp.desktopFileName(), qapp.windowIcon())
    yield qapp
    qapp.setApplicationName(saved[0])
    qapp.setDesktopFileName(saved[1])
    qapp.setWindowIcon(saved[2])


def test_the_app_has_alstudios_name_and_icon_when_the_window_is_made(app_identity, monkeypatch):
    from alstudio.gui import app as gui_app
    from alstudio.gui.app import run_gui

    class WindowMade(Exception):
        pass

    seen = {}

    def make_window(config, experiment):
        seen.update(name=app_identity.applicationName(), icon=app_identity.windowIcon(),
                    desktop_file=app_identity.desktopFileName())
        raise WindowMade

    monkeypatch.setattr(gui_app, "make_window", make_window)
    monkeypatch.setenv("QT_QPA_PLATFORM", os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    with pytest.raises(WindowMade):
        run_gui(None)
    assert seen["name"] == "alstudio"
    assert not seen["icon"].isNull()
    assert seen["icon"].pixmap(32, 32).toImage().pixelColor(32 // 2, 32 // 2).alpha() > 0  # it draws
    assert seen["desktop_file"] == ("alstudio" if sys.platform.startswith("linux") else "")

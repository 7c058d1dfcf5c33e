"""`alstudio install-desktop-entry`: a freedesktop.org launcher (alstudio.desktop) and its icon, so the
workbench appears in a Linux desktop's application menu and its task bar entry has the right icon.

No Qt here: the entry is plain text, and writing it must not need a display.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .engine.errors import UserInputError
from .engine.paths import RESOURCES

APP_ID = "alstudio"  # the .desktop file's name; gui/app.py gives Qt the same one (setDesktopFileName)
ICON = RESOURCES / "icons" / f"{APP_ID}.svg"

# Characters that force an Exec argument into double quotes (Desktop Entry Specification, "The Exec key").
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
_ESCAPED_IN_QUOTES = set('"`$\\')


@dataclass(frozen=True)
class Installed:
    entry: Path
    icon: Path


def data_home() -> Path:
    """$XDG_DATA_HOME, or ~/.local/share when it is unset or not absolute (as the XDG spec says)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def launch_command() -> list[str]:
    """The command that opens this installation's workbench: the `alstudio` script installed beside the
    running interpreter (venv, pipx), else the interpreter itself with `-m alstudio`. Not whichever
    `alstudio` comes first on PATH: that may be another installation."""
    interpreter = Path(sys.executable)  # unresolved: a venv's python is a symlink that must stay one
    script = interpreter.parent / APP_ID
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script), "gui"]
    return [str(interpreter), "-m", "alstudio", "gui"]


def _exec_argument(argument: str) -> str:
    if not argument or set(argument) & _RESERVED:
        argument = '"' + "".join("\\" + c if c in _ESCAPED_IN_QUOTES else c for c in argument) + '"'
    return argument.replace("%", "%%")  # % starts a field code


def _string_value(text: str) -> str:
    """A desktop-entry string value: backslashes and control characters escaped (applied after Exec quoting)."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def desktop_entry(command: list[str], icon: Path) -> str:
    fields = {
        "Type": "Application",
        "Name": "alstudio",
        "GenericName": "Active-learning workbench",
        "Comment": "Active-learning experiments on biased Synbols images",
        "TryExec": _string_value(command[0]),  # a launcher of a removed installation hides itself
        "Exec": _string_value(" ".join(_exec_argument(part) for part in command)),
        "Icon": _string_value(str(icon)),  # absolute: found without an icon-theme cache update
        "Terminal": "false",
        "Categories": "Education;Science;",
        "StartupWMClass": APP_ID,  # Qt's WM_CLASS class is the application name
    }
    return "[Desktop Entry]\n" + "".join(f"{key}={value}\n" for key, value in fields.items())


def install(folder: Path | None = None) -> Installed:
    """Write alstudio.desktop into FOLDER/applications and the icon into FOLDER/icons/hicolor (FOLDER:
    $XDG_DATA_HOME by default). Each file is written to a temporary name and renamed, so a menu never
    reads half an entry."""
    if not sys.platform.startswith("linux"):
        raise UserInputError("install-desktop-entry is for Linux desktops (freedesktop.org application menus); "
                             f"on this system ({sys.platform}) start the workbench with `alstudio`")
    folder = Path(folder).expanduser().absolute() if folder is not None else data_home()
    entry = folder / "applications" / f"{APP_ID}.desktop"
    icon = folder / "icons" / "hicolor" / "scalable" / "apps" / ICON.name
    try:
        icon.parent.mkdir(parents=True, exist_ok=True)
        entry.parent.mkdir(parents=True, exist_ok=True)
        _replace(icon, ICON.read_bytes())
        _replace(entry, desktop_entry(launch_command(), icon).encode())
    except OSError as err:
        raise UserInputError(f"{err.filename or folder}: cannot be written ({err.strerror})") from None
    return Installed(entry, icon)


def _replace(path: Path, content: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    os.chmod(partial, 0o644)
    os.replace(partial, path)

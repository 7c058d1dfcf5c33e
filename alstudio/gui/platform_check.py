"""Can Qt's X11 (xcb) platform plugin load? Asked before the QApplication exists.

PySide6 bundles Qt but not the X11 libraries its xcb plugin links. When one is missing, creating the
QApplication prints a hint (since Qt 6.5 always about libxcb-cursor0, whatever is missing) and aborts
the whole process. So the plugin is loaded here first, the way Qt loads it (dlopen), and a missing
library becomes one sentence naming it and the command that installs it.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from ..engine.errors import UserInputError

# Every system library that PySide6's libqxcb.so, the libQt6XcbQpa, libQt6Gui, libQt6Core and libQt6DBus
# it loads, and the xcb GL integrations link (readelf -d), with its Debian 12 package (dpkg -S). glibc's
# own libraries are left out: they are always there. The Makefile's QT_XCB_LIBRARIES is the same table.
XCB_LIBRARY_PACKAGES = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libgcc_s.so.1": "libgcc-s1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libstdc++.so.6": "libstdc++6",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libz.so.1": "zlib1g",
    "libzstd.so.1": "libzstd1",
}

_NOT_FOUND = re.compile(r"^(\S+): cannot open shared object file")


def platform_will_be_xcb(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Linux with an X display, and Qt not told to use another platform. In a Wayland session Qt may
    choose wayland, with xcb only as its fallback, so there a missing xcb library need not matter."""
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux") or not environ.get("DISPLAY"):
        return False
    if environ.get("QT_QPA_PLATFORM_PLUGIN_PATH"):  # the user chose where plugins come from
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen == "xcb":
        return True
    return chosen == "" and environ.get("XDG_SESSION_TYPE", "") != "wayland"


def bundled_xcb_plugin() -> Path:
    from PySide6.QtCore import QLibraryInfo

    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms" / "libqxcb.so"


def debian_package(soname: str) -> str:
    """The package that ships `soname`: from the table, else by Debian's naming of library packages
    (libfoo.so.3 -> libfoo3, libfoo-2.so.0 -> libfoo-2-0)."""
    if soname in XCB_LIBRARY_PACKAGES:
        return XCB_LIBRARY_PACKAGES[soname]
    name, _, version = soname.partition(".so.")
    name = name.lower()
    return f"{name}-{version}" if name[-1:].isdigit() else f"{name}{version}"


def _libraries_ldd_cannot_find(plugin: Path) -> list[str]:
    """Every missing library, indirect ones included (dlopen stops at the first); [] without ldd."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        listing = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = re.findall(r"^\s*(\S+) => not found", listing, flags=re.MULTILINE)
    return list(dict.fromkeys(found))


def _install_command(packages: list[str]) -> str:
    sudo = "" if hasattr(os, "geteuid") and os.geteuid() == 0 else "sudo "
    return f"{sudo}apt-get install -y {' '.join(packages)}"


def missing_libraries_sentence(missing: list[str]) -> str:
    packages = list(dict.fromkeys(debian_package(name) for name in missing))
    names = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
    verb = "is" if len(missing) == 1 else "are"
    pronoun = "it" if len(missing) == 1 else "them"
    if shutil.which("apt-get"):
        how = f"install {pronoun} with: {_install_command(packages)}"
    else:
        how = (f"install {pronoun} with your system's package manager (on Debian or Ubuntu: "
               f"{_install_command(packages)})")
    return f"the Qt xcb platform cannot load: {names} {verb} missing; {how}"


def check_xcb_plugin(plugin: Path) -> None:
    """dlopen the plugin, as Qt does; raise UserInputError with one sentence when it cannot load."""
    if not plugin.is_file():
        raise UserInputError(f"the Qt xcb platform plugin {plugin} is missing; reinstall PySide6 "
                             "(pip install --force-reinstall PySide6)")
    try:
        ctypes.CDLL(str(plugin))
    except OSError as error:
        reason = str(error)
        first = _NOT_FOUND.match(reason)
        if first is None or first.group(1) == str(plugin):
            raise UserInputError(f"the Qt xcb platform cannot load {plugin}: {reason}") from None
        missing = list(dict.fromkeys([first.group(1), *_libraries_ldd_cannot_find(plugin)]))
        bundled = [name for name in missing if name.startswith(("libQt6", "libicu"))]
        if bundled:
            raise UserInputError(f"the Qt xcb platform cannot load: {bundled[0]} is missing from PySide6; "
                                 "reinstall it (pip install --force-reinstall PySide6)") from None
        raise UserInputError(missing_libraries_sentence(missing)) from None


def check_platform_plugin(environ: Mapping[str, str] | None = None) -> None:
    """Before the QApplication is made: when Qt will use xcb, make sure its plugin can load."""
    from PySide6.QtCore import QCoreApplication

    if QCoreApplication.instance() is None and platform_will_be_xcb(environ):  # else a platform is loaded
        check_xcb_plugin(bundled_xcb_plugin())

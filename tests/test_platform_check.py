"""Before the window opens: can Qt's xcb platform plugin load, and if not, one sentence saying what to install."""

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from alstudio.engine.errors import UserInputError
from alstudio.gui import platform_check
from alstudio.gui.platform_check import (
    XCB_LIBRARY_PACKAGES,
    bundled_xcb_plugin,
    check_xcb_plugin,
    debian_package,
    platform_will_be_xcb,
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb platform is Linux's")
ROOT = Path(__file__).resolve().parents[1]


def compile_library(folder: Path, name: str, needs: list[str] = ()) -> Path:
    """A real shared library `name` (also its soname) linking the libraries in `needs` (found in `folder`)."""
    source = folder / f"{name}.c"
    function = re.sub(r"\W", "_", name)
    source.write_text(f"int {function}(void) {{ return 1; }}\n")
    output = folder / name
    links = [str(folder / need) for need in needs]
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(output), str(source), "-Wl,--no-as-needed", *links,
                    f"-Wl,-soname,{name}",
                    "-Wl,-rpath,$ORIGIN", "-Wl,--enable-new-dtags"], check=True, capture_output=True)
    return output


@pytest.fixture
def plugin_missing_two_libraries(tmp_path):
    """A libqxcb.so that needs libalstudio-absent.so.4 directly and libalstudio-absent-deep.so.0 through
    a library next to it; both stubs are deleted after linking, as if never installed."""
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc to build the stand-in plugin")
    direct = compile_library(tmp_path, "libalstudio-absent.so.4")
    deep = compile_library(tmp_path, "libalstudio-absent-deep.so.0")
    compile_library(tmp_path, "libalstudio-middle.so.1", needs=[deep.name])
    plugin = compile_library(tmp_path, "libqxcb.so", needs=["libalstudio-middle.so.1", direct.name])
    direct.unlink()
    deep.unlink()
    return plugin


@linux_only
def test_the_real_xcb_plugin_loads_on_this_machine():
    """A real dlopen of PySide6's libqxcb.so, in a process of its own as before a QApplication exists.
    Fails, with the sentence, where the system lacks one of the libraries (`make run` installs them)."""
    code = "from alstudio.gui.platform_check import bundled_xcb_plugin, check_xcb_plugin; " \
           "check_xcb_plugin(bundled_xcb_plugin())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1]
    assert bundled_xcb_plugin().name == "libqxcb.so"


@linux_only
def test_missing_libraries_are_named_with_the_packages_that_install_them(plugin_missing_two_libraries):
    with pytest.raises(UserInputError) as raised:
        check_xcb_plugin(plugin_missing_two_libraries)
    sentence = str(raised.value)
    assert "\n" not in sentence
    assert sentence.startswith("the Qt xcb platform cannot load: ")
    assert "libalstudio-absent.so.4 and libalstudio-absent-deep.so.0 are missing" in sentence
    assert "apt-get install -y libalstudio-absent4 libalstudio-absent-deep0" in sentence


@linux_only
def test_alstudio_gui_with_a_missing_library_exits_2_with_one_line(plugin_missing_two_libraries, tmp_path):
    """The whole command, in its own process: without the check, Qt would abort it (exit 134)."""
    code = textwrap.dedent("""
        import sys
        from pathlib import Path
        from alstudio.gui import platform_check
        plugin = Path(sys.argv.pop())
        platform_check.bundled_xcb_plugin = lambda: plugin
        from alstudio.cli import entry
        entry()
    """)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DISPLAY": ":0",
           "ALSTUDIO_CACHE_DIR": str(tmp_path / "cache"), "ALSTUDIO_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run([sys.executable, "-c", code, "gui", str(plugin_missing_two_libraries)],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("alstudio: error: the Qt xcb platform cannot load: libalstudio-absent")
    assert "install them with" in lines[0]


def test_an_unloadable_file_is_reported_not_misread_as_a_missing_library(tmp_path):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_text("not a shared library")
    with pytest.raises(UserInputError, match=r"cannot load .*libqxcb\.so: .*(invalid ELF header|too short)"):
        check_xcb_plugin(plugin)
    with pytest.raises(UserInputError, match="reinstall PySide6"):
        check_xcb_plugin(tmp_path / "absent" / "libqxcb.so")


@pytest.mark.parametrize(("environ", "platform", "expected"), [
    ({"DISPLAY": ":0"}, "linux", True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, "linux", True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux", False),
    ({}, "linux", False),
    ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
    ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland", "QT_QPA_PLATFORM": "xcb"}, "linux", True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM_PLUGIN_PATH": "/opt/qt/plugins/platforms"}, "linux", False),
    ({"DISPLAY": ":0"}, "darwin", False),
])
def test_the_check_runs_only_when_qt_will_use_xcb(environ, platform, expected):
    assert platform_will_be_xcb(environ, platform) is expected


def test_package_names_follow_the_table_then_debians_naming():
    assert debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert debian_package("libglib-2.0.so.0") == "libglib2.0-0"
    assert debian_package("libxcb-foo.so.3") == "libxcb-foo3"
    assert debian_package("libFoo-2.so.1") == "libfoo-2-1"


def test_the_makefile_installs_exactly_the_libraries_the_check_knows():
    makefile = (ROOT / "Makefile").read_text()
    listing = re.search(r"^QT_XCB_LIBRARIES := (.*?)\n\n", makefile, flags=re.MULTILINE | re.DOTALL).group(1)
    pairs = dict(pair.split(":") for pair in listing.replace("\\\n", " ").split())
    assert pairs == XCB_LIBRARY_PACKAGES


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="the table holds Debian's package names")
def test_every_installed_library_comes_from_the_package_the_table_names():
    checked = 0
    for soname, package in XCB_LIBRARY_PACKAGES.items():
        owner = subprocess.run(["dpkg", "-S", f"*/{soname}"], capture_output=True, text=True)
        if owner.returncode != 0:
            continue  # not installed here: nothing to compare with
        owners = {line.split(":")[0] for line in owner.stdout.splitlines()}
        assert package in owners, (soname, owners)
        checked += 1
    assert checked >= len(XCB_LIBRARY_PACKAGES) // 2


def test_the_check_is_skipped_once_a_qapplication_exists(qapp, monkeypatch):
    def must_not_load(plugin):
        raise AssertionError("checked the plugin although a platform is already loaded")

    monkeypatch.setattr(platform_check, "check_xcb_plugin", must_not_load)
    platform_check.check_platform_plugin({"DISPLAY": ":0"})

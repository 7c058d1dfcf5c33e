"""Font families for Synbols rendering.

cairo's toy font API asks fontconfig for a family by name and silently falls back to
DejaVu Sans when the name is unknown, so every family we use is registered with
fontconfig at run time (from the OFL font packages installed with alstudio) and
checked against fontconfig's own list before it is accepted.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import importlib.util
from pathlib import Path

# Free-licensed font packages from the package registry; each ships its files in <package>/files/.
FONT_PACKAGES = (
    "font_amatic_sc",
    "font_caladea",
    "font_fjallaone",
    "font_fredoka_one",
    "font_hanken_grotesk",
    "font_intuitive",
    "font_lato",
    "font_manrope",
    "font_source_sans_pro",
    "font_source_serif_pro",
)
# Families every machine of ours has through fontconfig (Debian's fonts-dejavu-core).
SYSTEM_FAMILIES = ("DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono")
FALLBACK_FAMILY = "DejaVu Sans"
_RESOURCE_FONTS = Path(__file__).resolve().parents[3] / "resources" / "fonts"


class _FcFontSet(ctypes.Structure):
    _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int), ("fonts", ctypes.POINTER(ctypes.c_void_p))]


@functools.cache
def _fontconfig() -> ctypes.CDLL:
    name = ctypes.util.find_library("fontconfig") or "libfontconfig.so.1"
    lib = ctypes.CDLL(name)
    lib.FcConfigAppFontAddDir.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.FcConfigAppFontAddDir.restype = ctypes.c_int
    lib.FcPatternCreate.restype = ctypes.c_void_p
    lib.FcPatternDestroy.argtypes = [ctypes.c_void_p]
    lib.FcObjectSetBuild.restype = ctypes.c_void_p
    lib.FcObjectSetDestroy.argtypes = [ctypes.c_void_p]
    lib.FcFontList.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.FcFontList.restype = ctypes.POINTER(_FcFontSet)
    lib.FcFontSetDestroy.argtypes = [ctypes.POINTER(_FcFontSet)]
    lib.FcPatternGetString.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
    lib.FcPatternGetString.restype = ctypes.c_int
    return lib


def font_directories() -> list[Path]:
    """Folders holding the font files that alstudio brings along."""
    folders = []
    for package in FONT_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            folder = Path(next(iter(spec.submodule_search_locations))) / "files"
            if folder.is_dir():
                folders.append(folder)
    if _RESOURCE_FONTS.is_dir():
        folders.append(_RESOURCE_FONTS)
    return folders


@functools.cache
def register_fonts() -> tuple[Path, ...]:
    """Add our font folders to this process's fontconfig configuration (once per process)."""
    lib = _fontconfig()
    registered = []
    for folder in font_directories():
        if lib.FcConfigAppFontAddDir(None, str(folder).encode()):
            registered.append(folder)
    return tuple(registered)


def _list_fonts(files_under: tuple[Path, ...] | None = None) -> dict[str, set[str]]:
    """Fontconfig's families (first name of each font) mapped to the files that provide them."""
    register_fonts()
    lib = _fontconfig()
    pattern = lib.FcPatternCreate()
    objects = lib.FcObjectSetBuild(b"family", b"file", None)
    font_set = lib.FcFontList(None, pattern, objects)
    families: dict[str, set[str]] = {}
    try:
        for i in range(font_set.contents.nfont):
            font = font_set.contents.fonts[i]
            family, path = ctypes.c_char_p(), ctypes.c_char_p()
            if lib.FcPatternGetString(font, b"family", 0, ctypes.byref(family)) != 0:
                continue
            lib.FcPatternGetString(font, b"file", 0, ctypes.byref(path))
            families.setdefault(family.value.decode(), set()).add((path.value or b"").decode())
    finally:
        lib.FcFontSetDestroy(font_set)
        lib.FcObjectSetDestroy(objects)
        lib.FcPatternDestroy(pattern)
    return families


@functools.cache
def installed_families() -> tuple[str, ...]:
    """Every family fontconfig knows in this process, bundled ones included, sorted."""
    return tuple(sorted(_list_fonts()))


@functools.cache
def bundled_families() -> tuple[str, ...]:
    """The default font set: families from our font packages plus the DejaVu trio.

    A fixed, curated list keeps datasets identical across machines and keeps out
    symbol or emoji fonts that a user's desktop may have.
    """
    folders = tuple(str(f) for f in font_directories())
    ours = [name for name, files in _list_fonts().items()
            if any(path.startswith(folders) for path in files)] if folders else []
    present = set(installed_families())
    return tuple(sorted(set(ours) | {name for name in SYSTEM_FAMILIES if name in present}))


def canonical_family(name: str) -> str | None:
    """The installed family matching `name` case-insensitively, or None."""
    wanted = name.strip().casefold()
    for family in installed_families():
        if family.casefold() == wanted:
            return family
    return None

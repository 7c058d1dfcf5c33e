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
import string
from collections.abc import Iterable
from pathlib import Path

from ..paths import RESOURCES

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
# Bundled families the default font mix (dataset.fonts = []) leaves out of a dataset with one of these
# characters as a class (None: whatever the classes), and why: tests/test_font_coverage.py audits that
# every other default family draws each lowercase letter and digit recognisably as itself. A user who
# names such a family (dataset.fonts, or a font group) gets what they asked for.
DEFAULT_MIX_EXCLUSIONS: dict[str, str | None] = {
    # A condensed small-caps display face: its lowercase letters are capitals ("a" is drawn "A") and at
    # 32 px every stroke is a hairline (only 6 or 7 of its 10 digits are recognised). Bundled for those
    # who want it as a deliberately rare font (the minority-font preset).
    "Amatic SC": None,
}
# What the audit guarantees every default family draws: the default mix needs no glyph check for them.
AUDITED_CHARACTERS = frozenset(string.ascii_lowercase + string.digits)
# Families every machine of ours has through fontconfig (Debian's fonts-dejavu-core).
SYSTEM_FAMILIES = ("DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono")
FALLBACK_FAMILY = "DejaVu Sans"
_RESOURCE_FONTS = RESOURCES / "fonts"


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
    lib.FcPatternAddString.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.FcPatternAddString.restype = ctypes.c_int
    lib.FcPatternAddInteger.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    lib.FcPatternAddInteger.restype = ctypes.c_int
    lib.FcConfigSubstitute.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    lib.FcConfigSubstitute.restype = ctypes.c_int
    lib.FcDefaultSubstitute.argtypes = [ctypes.c_void_p]
    lib.FcFontMatch.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
    lib.FcFontMatch.restype = ctypes.c_void_p
    lib.FcPatternGetCharSet.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p)]
    lib.FcPatternGetCharSet.restype = ctypes.c_int
    lib.FcCharSetCopy.argtypes = [ctypes.c_void_p]
    lib.FcCharSetCopy.restype = ctypes.c_void_p
    lib.FcCharSetHasChar.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.FcCharSetHasChar.restype = ctypes.c_int
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


def default_families(classes: Iterable[str], bundled: Iterable[str] | None = None) -> tuple[str, ...]:
    """The fonts a dataset with these classes and dataset.fonts = [] is drawn in: the bundled
    families (or `bundled`), less those DEFAULT_MIX_EXCLUSIONS leaves out for one of the classes."""
    wanted = set(classes)
    families = bundled_families() if bundled is None else bundled

    def left_out(family: str) -> bool:
        if family not in DEFAULT_MIX_EXCLUSIONS:
            return False
        excluded = DEFAULT_MIX_EXCLUSIONS[family]
        return excluded is None or bool(wanted & set(excluded))

    return tuple(f for f in families if not left_out(f))


# cairo's toy font API (which synbols uses) asks fontconfig for the family at these two weights (its
# NORMAL and BOLD) and draws every character with the one file it gets, with no fallback to other
# fonts: a character that file lacks comes out as its .notdef box, or as nothing.
_CAIRO_WEIGHTS = (100, 200)  # FC_WEIGHT_MEDIUM, FC_WEIGHT_BOLD
_FC_MATCH_PATTERN = 0
_charsets: dict[str, int] = {}  # font file -> its fontconfig character set, kept for the process


@functools.cache
def _drawing_charsets(family: str) -> tuple[int, ...]:
    """The character sets of the files cairo draws `family` from (normal and bold), one per file."""
    register_fonts()
    lib = _fontconfig()
    found = []
    for weight in _CAIRO_WEIGHTS:
        pattern = lib.FcPatternCreate()
        try:
            lib.FcPatternAddString(pattern, b"family", family.encode())
            lib.FcPatternAddInteger(pattern, b"weight", weight)
            lib.FcPatternAddInteger(pattern, b"slant", 0)
            lib.FcConfigSubstitute(None, pattern, _FC_MATCH_PATTERN)
            lib.FcDefaultSubstitute(pattern)
            result = ctypes.c_int()
            match = lib.FcFontMatch(None, pattern, ctypes.byref(result))
        finally:
            lib.FcPatternDestroy(pattern)
        if not match:
            continue
        try:
            path, charset = ctypes.c_char_p(), ctypes.c_void_p()
            lib.FcPatternGetString(match, b"file", 0, ctypes.byref(path))
            if lib.FcPatternGetCharSet(match, b"charset", 0, ctypes.byref(charset)) != 0:
                continue
            key = (path.value or b"").decode(errors="replace")
            if key not in _charsets:
                _charsets[key] = lib.FcCharSetCopy(charset)  # outlives the pattern it came with
            found.append(_charsets[key])
        finally:
            lib.FcPatternDestroy(match)
    return tuple(found)


def has_glyph(family: str, char: str) -> bool:
    """Whether cairo draws `char` in `family` from a glyph of its own (normal and bold weight)."""
    lib = _fontconfig()
    charsets = _drawing_charsets(family)
    return bool(charsets) and all(lib.FcCharSetHasChar(charset, ord(char)) for charset in charsets)


def missing_glyph(characters: Iterable[str], families: Iterable[str] | None = None) -> tuple[str, str] | None:
    """The first (family, character) that cairo would draw as a box or nothing, or None. `families`
    None: the default mix for these characters. Characters the font audit (tests/test_font_coverage.py)
    guarantees are not looked up for bundled families. Without fontconfig on this machine (where
    nothing could be drawn either) nothing is reported missing."""
    characters = list(characters)
    unaudited = [c for c in characters if c not in AUDITED_CHARACTERS]
    if families is None and not unaudited:
        return None
    try:
        families = default_families(characters) if families is None else tuple(families)
        bundled = set(bundled_families())
        for family in families:
            for char in unaudited if family in bundled else characters:
                if not has_glyph(family, char):
                    return family, char
    except OSError:  # no libfontconfig here
        return None
    return None

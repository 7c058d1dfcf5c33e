"""Font audit: every font alstudio draws with draws each lowercase letter and digit as itself.

Not a box, not nothing, not a symbol (a dingbat font maps letters to hearts and stars) and not
another character. Each glyph is drawn by the project's renderer (upright, centred, white on black,
no noise) at 32 px, as synbols draws it at both weights it picks from, and must

(a) have ink, and differ from what the font draws for a character it lacks (its .notdef box);
(b) differ from the font's other 35 glyphs;
(c) look like its character: after normalising size and position, its nearest neighbour among the
    36 characters drawn in the reference fonts (the DejaVu trio every machine of ours has) must be
    that character, for at least MIN_RECOGNISED of the characters the default mix draws in the font
    (fonts.DEFAULT_MIX_EXCLUSIONS takes a font that fails out of the mix for them).

Run `python tests/test_font_coverage.py` for each font's scores.
"""

from __future__ import annotations

import functools
import string

import numpy as np
import pytest
from PIL import Image

from alstudio.engine.data import fonts
from alstudio.engine.data.attributes import DEFAULT_GROUPS
from alstudio.engine.data.render import render_glyph

CHARACTERS = string.ascii_lowercase + string.digits
REFERENCES = ("DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono")
RESOLUTION = 32
LACKED = "\U0010fffd"  # private use, plane 16: no font of ours has a glyph for it
# Sound fonts score 26/36 and up (heavy rounded Fredoka One in bold, whose counters close up at 32 px,
# is the lowest); a font drawing symbols or other characters scores next to nothing.
MIN_RECOGNISED = 2 / 3
_SIZE, _CELLS, _BINS = 24, 4, 9


def recognisable_characters(family: str) -> str:
    """The characters the default mix draws in `family` (see fonts.DEFAULT_MIX_EXCLUSIONS): those
    it must draw recognisably. Every bundled family must draw all of them with real, distinct glyphs."""
    return "".join(c for c in CHARACTERS if fonts.default_families(c, [family]))


def audited_families() -> list[str]:
    """The bundled families, every family the default mix uses and the default font groups."""
    default = set(fonts.default_families(CHARACTERS)) | set(fonts.default_families(string.digits))
    return sorted(set(fonts.bundled_families()) | default | set(DEFAULT_GROUPS["font"]))


@functools.cache
def glyphs(family: str, bold: bool) -> dict[str, np.ndarray]:
    return {c: render_glyph(family, c, RESOLUTION, bold) for c in CHARACTERS + LACKED}


def _ink_box(image: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(image > 127)
    return image[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def _aspect(box: np.ndarray) -> float:
    return box.shape[1] / box.shape[0]


def _normalised(box: np.ndarray, widen: float) -> np.ndarray:
    """The ink's bounding box, widened by `widen` (condensed fonts), centred in a square, _SIZE px."""
    height, width = box.shape
    box = np.asarray(Image.fromarray(box).resize((max(1, round(width * widen)), height), Image.BILINEAR))
    side = max(box.shape)
    square = np.zeros((side, side), np.uint8)
    top, left = (side - box.shape[0]) // 2, (side - box.shape[1]) // 2
    square[top:top + box.shape[0], left:left + box.shape[1]] = box
    return np.asarray(Image.fromarray(square).resize((_SIZE, _SIZE), Image.BOX), float)


def _shape(image: np.ndarray) -> np.ndarray:
    """Histograms of edge orientation over a grid of cells: the strokes' directions and places, little
    moved by stroke weight."""
    from scipy import ndimage

    smooth = ndimage.gaussian_filter(image, 0.7)
    dy, dx = np.gradient(smooth)
    magnitude = np.hypot(dx, dy)
    direction = np.minimum((np.mod(np.arctan2(dy, dx), np.pi) / np.pi * _BINS).astype(int), _BINS - 1)
    cell = _SIZE // _CELLS
    features = np.zeros((_CELLS, _CELLS, _BINS))
    for i in range(_CELLS):
        for j in range(_CELLS):
            where = (slice(i * cell, (i + 1) * cell), slice(j * cell, (j + 1) * cell))
            features[i, j] = np.bincount(direction[where].ravel(), magnitude[where].ravel(), _BINS)
    features = features.ravel()
    return features / (np.linalg.norm(features) + 1e-9)


@functools.cache
def _reference(bold: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shape features, their characters, each character's aspect in the first reference font)."""
    features, labels = [], []
    for family in REFERENCES:
        for c in CHARACTERS:
            features.append(_shape(_normalised(_ink_box(glyphs(family, bold)[c]), 1.0)))
            labels.append(c)
    aspects = np.array([_aspect(_ink_box(glyphs(REFERENCES[0], bold)[c])) for c in CHARACTERS])
    return np.stack(features), np.array(labels), aspects


def recognised(family: str, bold: bool) -> dict[str, str]:
    """Each audited character of `family` -> the reference character its glyph is nearest to."""
    drawn = glyphs(family, bold)
    return nearest_characters({c: drawn[c] for c in recognisable_characters(family)}, bold)


def nearest_characters(drawn: dict[str, np.ndarray], bold: bool) -> dict[str, str]:
    """Each character -> the reference character its glyph (one font's, `drawn`) is nearest to."""
    features, labels, reference_aspects = _reference(bold)
    chars = list(drawn)
    boxes = {c: _ink_box(drawn[c]) for c in chars}
    # A condensed (or wide) font is widened (or narrowed) as a whole, by its median ratio to the reference.
    ratios = [_aspect(boxes[c]) / reference_aspects[CHARACTERS.index(c)] for c in chars]
    widen = 1.0 / float(np.median(ratios))
    return {c: str(labels[np.argmax(features @ _shape(_normalised(boxes[c], widen)))]) for c in chars}


FAMILIES = audited_families()
WEIGHTS = [pytest.param(False, id="normal"), pytest.param(True, id="bold")]


def test_the_audit_covers_every_bundled_family():
    assert set(fonts.bundled_families()) <= set(FAMILIES)
    assert set(REFERENCES) <= set(fonts.bundled_families())
    for family in fonts.DEFAULT_MIX_EXCLUSIONS:
        assert family in fonts.bundled_families(), f"{family} is restricted but not bundled"
    assert recognisable_characters("Lato") == CHARACTERS


@pytest.mark.parametrize("bold", WEIGHTS)
@pytest.mark.parametrize("family", FAMILIES)
def test_every_glyph_has_ink_and_is_not_the_missing_glyph_box(family, bold):
    drawn = glyphs(family, bold)
    for c in CHARACTERS:
        assert (drawn[c] > 127).sum() >= 4, f"{family} draws {c!r} as (almost) nothing"
        assert not np.array_equal(drawn[c], drawn[LACKED]), f"{family} has no glyph for {c!r}"


@pytest.mark.parametrize("bold", WEIGHTS)
@pytest.mark.parametrize("family", FAMILIES)
def test_every_glyph_differs_from_the_fonts_other_glyphs(family, bold):
    drawn = glyphs(family, bold)
    chars = CHARACTERS
    for i, a in enumerate(chars):
        for b in chars[i + 1:]:
            assert not np.array_equal(drawn[a], drawn[b]), f"{family} draws {a!r} and {b!r} alike"


@pytest.mark.parametrize("bold", WEIGHTS)
@pytest.mark.parametrize("family", [f for f in FAMILIES if recognisable_characters(f)])
def test_glyphs_look_like_their_characters(family, bold):
    nearest = recognised(family, bold)
    wrong = {c: n for c, n in nearest.items() if c != n}
    score = 1 - len(wrong) / len(nearest)
    assert score >= MIN_RECOGNISED, (
        f"{family}: only {len(nearest) - len(wrong)}/{len(nearest)} glyphs look like their character; "
        f"nearest to another: {', '.join(f'{c}->{n}' for c, n in wrong.items())}")


def test_the_check_tells_a_font_from_a_scrambled_one():
    # The audit's premise: a font drawing its letters as other characters scores far below the threshold.
    drawn = glyphs("Lato", False)
    chars = CHARACTERS
    scrambled = {c: drawn[chars[(i + 7) % len(chars)]] for i, c in enumerate(chars)}
    nearest = nearest_characters(scrambled, False)
    assert sum(c == n for c, n in nearest.items()) / len(nearest) < 0.2


def test_the_check_tells_a_font_from_a_dingbat_one():
    # As a dingbat font would draw them: each character as a symbol (hearts, stars, suns...).
    symbols = [chr(code) for code in range(0x2600, 0x2700) if fonts.has_glyph("DejaVu Sans", chr(code))]
    assert len(symbols) >= len(CHARACTERS)
    dingbats = {c: render_glyph("DejaVu Sans", symbol, RESOLUTION) for c, symbol in zip(CHARACTERS, symbols[::2])}
    nearest = nearest_characters(dingbats, False)
    assert sum(c == n for c, n in nearest.items()) / len(nearest) < 0.2


if __name__ == "__main__":
    for family in FAMILIES:
        scores = []
        for bold in (False, True):
            drawn = glyphs(family, bold)
            nearest = nearest_characters({c: drawn[c] for c in CHARACTERS}, bold)
            wrong = " ".join(f"{c}->{n}" for c, n in nearest.items() if c != n)
            scores.append(f"{'bold' if bold else 'normal'} {sum(c == n for c, n in nearest.items())}/"
                          f"{len(nearest)} [{wrong}]")
        note = "" if recognisable_characters(family) == CHARACTERS else " (left out of the default mix)"
        print(f"{family:18} " + " | ".join(scores) + note)

import numpy as np
import pytest

from alstudio.engine.data import fonts
from alstudio.engine.data.render import Recipe, render_chunk


def _glyph(family: str) -> np.ndarray:
    """'a' in `family`, with every other attribute held fixed by the seed."""
    recipe = Recipe(("a", "d"), "font", (family, fonts.FALLBACK_FAMILY), (), 64)
    return render_chunk(recipe, np.array([0]), np.array([0]), np.array([12345], np.uint32)).images[0]


def test_at_least_eight_families_without_a_system_font_install():
    assert len(fonts.bundled_families()) >= 8


def test_an_unknown_family_silently_renders_as_the_fallback():
    # The premise of the next test: cairo gives no error, only the fallback font.
    assert np.array_equal(_glyph("No Such Family 1234"), _glyph(fonts.FALLBACK_FAMILY))


@pytest.mark.parametrize("family", [f for f in fonts.bundled_families() if f != fonts.FALLBACK_FAMILY])
def test_every_bundled_family_really_renders_in_its_own_font(family):
    difference = np.abs(_glyph(family).astype(int) - _glyph(fonts.FALLBACK_FAMILY).astype(int))
    assert difference.mean() > 2.0


def test_families_render_distinctly_from_each_other():
    glyphs = {family: _glyph(family) for family in fonts.bundled_families()}
    names = list(glyphs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not np.array_equal(glyphs[a], glyphs[b]), (a, b)


def test_family_names_match_case_insensitively():
    assert fonts.canonical_family("source sans pro") == "Source Sans Pro"
    assert fonts.canonical_family("Not A Font") is None

import numpy as np
import pytest

from alstudio.engine import config
from alstudio.engine.data import fonts
from alstudio.engine.data.render import Recipe, render_chunk, render_glyph
from alstudio.engine.errors import ConfigError


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


# ---- glyph coverage -------------------------------------------------------------------------------

NOT_IN_LATIN_FONTS = "字"


def _lacks(family: str) -> np.ndarray:
    """What `family` draws for a character it has no glyph for (a private-use code point)."""
    return render_glyph(family, "\U0010fffd")


@pytest.mark.parametrize("family", fonts.bundled_families())
def test_fontconfig_coverage_agrees_with_what_cairo_draws(family):
    assert fonts.has_glyph(family, "a") and fonts.has_glyph(family, "7")
    assert not fonts.has_glyph(family, NOT_IN_LATIN_FONTS)
    assert np.array_equal(render_glyph(family, NOT_IN_LATIN_FONTS), _lacks(family))
    assert not np.array_equal(render_glyph(family, "a"), _lacks(family))


def test_a_glyph_only_some_fonts_have_is_found_missing_in_the_others():
    # DejaVu Sans draws Greek; the display fonts do not.
    assert fonts.has_glyph("DejaVu Sans", "λ")
    lacking = [f for f in fonts.bundled_families() if not fonts.has_glyph(f, "λ")]
    assert lacking
    for family in lacking:
        assert np.array_equal(render_glyph(family, "λ"), _lacks(family)), family


def _refusal(dataset: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        config.validate({"dataset": dataset})
    return str(caught.value)


def test_a_class_the_default_fonts_cannot_draw_is_refused_naming_font_and_character():
    message = _refusal({"classes": ["a", NOT_IN_LATIN_FONTS]})
    assert message.startswith(f"dataset.classes holds '{NOT_IN_LATIN_FONTS}', but the bundled font ")
    assert message.endswith("has no glyph for it, so it would be drawn as a box")


def test_a_class_a_chosen_font_cannot_draw_is_refused_naming_that_font():
    assert _refusal({"classes": ["a", NOT_IN_LATIN_FONTS], "fonts": ["Lato"]}) == (
        f"dataset.classes holds '{NOT_IN_LATIN_FONTS}', but the font 'Lato' (dataset.fonts) has no glyph for it, "
        "so it would be drawn as a box")
    lacking = next(f for f in fonts.bundled_families() if not fonts.has_glyph(f, "λ"))
    message = _refusal({"classes": ["λ", "μ"], "sensitive_attribute": "font", "groups": ["DejaVu Sans", lacking]})
    assert message == (f"dataset.classes holds 'λ', but the font '{lacking}' (dataset.groups) has no glyph for it, "
                       "so it would be drawn as a box")
    assert config.validate({"dataset": {"classes": ["λ", "μ"], "fonts": ["DejaVu Sans"]}})


def test_source_classes_the_fonts_cannot_draw_are_refused():
    with pytest.raises(ConfigError, match=f"^model.source_classes holds '{NOT_IN_LATIN_FONTS}', but the bundled"):
        config.validate({"model": {"source_classes": ["x", NOT_IN_LATIN_FONTS]}})


@pytest.mark.parametrize("mark", ["\u0301", "\u0308", "\u20dd", "\u0903"])
def test_a_lone_combining_mark_is_refused_outright(mark):
    message = _refusal({"classes": ["a", mark]})
    assert message.startswith(f"dataset.classes must hold characters that stand on their own, got U+{ord(mark):04X} "
                              "(a combining mark")


@pytest.mark.parametrize("char", ["\u200b", "\u00ad", "\ue000", "\x07"])
def test_invisible_characters_are_refused_outright(char):
    assert _refusal({"classes": ["a", char]}).startswith("dataset.classes must hold single visible characters")


def test_the_default_mix_leaves_out_excluded_families_for_their_characters(monkeypatch):
    from alstudio.engine.data.generate import recipe_for

    assert "Amatic SC" in fonts.bundled_families() and fonts.DEFAULT_MIX_EXCLUSIONS["Amatic SC"] is None
    for classes in (["a", "d"], ["1", "7"], ["A", "D"]):
        assert "Amatic SC" not in fonts.default_families(classes)
        assert "Amatic SC" not in recipe_for(config.DatasetConfig(classes=classes)).fonts
    # Named, it is what the user asked for (the minority-font preset's rare font).
    assert recipe_for(config.DatasetConfig(fonts=["Amatic SC"])).fonts == ("Amatic SC",)
    # An exclusion for some characters leaves the family in for the others.
    monkeypatch.setitem(fonts.DEFAULT_MIX_EXCLUSIONS, "Lato", "xyz")
    assert "Lato" not in fonts.default_families(["a", "x"])
    assert "Lato" in fonts.default_families(["a", "b"])
    assert set(fonts.default_families(["a", "b"])) == set(fonts.bundled_families()) - {"Amatic SC"}


def test_glyph_lookups_are_cached_per_file():
    fonts.has_glyph("Lato", "b")
    files = dict(fonts._charsets)
    for char in "bcdefgh":
        fonts.has_glyph("Lato", char)
    assert fonts._charsets == files
    assert any("Lato" in path for path in files)

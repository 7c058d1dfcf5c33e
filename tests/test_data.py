import threading

import numpy as np
import pytest
from conftest import small_dataset_config

from alstudio.engine.data import GenerationCancelled, generate_dataset
from alstudio.engine.data.bias import (
    BIAS_KINDS,
    BiasSpec,
    balanced_test_counts,
    cell_counts,
    largest_remainder,
    pool_counts,
    size_for_every_cell,
)
from alstudio.engine.data.render import Recipe, render_chunk

ATTRIBUTES = {
    "color": ["blue", "red", "green"],
    "font": ["DejaVu Sans", "Caladea", "Fredoka One"],
    "background": ["gradient", "camouflage", "white"],
}


def _shares(bias, strength, n_classes, n_groups):
    return BIAS_KINDS[bias].shares(BiasSpec(bias, strength, n_classes, n_groups))


@pytest.mark.parametrize("attribute", list(ATTRIBUTES))
@pytest.mark.parametrize(("bias", "strength"), [("none", 0.5), ("minority", 0.8), ("correlation", 0.75)])
def test_class_and_group_proportions_follow_the_config(attribute, bias, strength):
    cfg = small_dataset_config(classes=["a", "d", "x"], sensitive_attribute=attribute,
                               groups=ATTRIBUTES[attribute], bias=bias, bias_strength=strength,
                               pool_size=180, test_size=36)
    data = generate_dataset(cfg, workers=1)
    n_classes, n_groups = 3, 3
    for split, size in (("pool", 180), ("test", 36)):
        counts = data.counts(split)
        assert counts.sum() == size
        assert np.all(counts.sum(axis=1) == size // n_classes), "classes are balanced"
        images = getattr(data, split).images
        assert images.shape == (size, 32, 32, 3) and images.dtype == np.uint8
    pool_given_class = data.counts("pool") / data.counts("pool").sum(axis=1, keepdims=True)
    expected = _shares(bias, strength, n_classes, n_groups)
    # 60 images per class: exact quotas land within one image of the target share.
    assert np.allclose(pool_given_class, expected, atol=1 / 60 + 1e-9)
    test_given_class = data.counts("test") / data.counts("test").sum(axis=1, keepdims=True)
    assert np.allclose(test_given_class, 1 / 3)
    # What config validation counts (to refuse empty cells) is what is generated.
    assert np.array_equal(data.counts("pool"), pool_counts(cfg))
    assert np.array_equal(data.counts("test"), balanced_test_counts(cfg))


def test_minority_pool_makes_the_first_group_the_majority_in_every_class():
    counts = cell_counts(5000, _shares("minority", 0.9, 2, 2))
    assert counts.tolist() == [[2250, 250], [2250, 250]]


def test_correlation_pairs_group_k_with_class_k_modulo_groups():
    shares = _shares("correlation", 0.8, 4, 2)
    assert np.allclose(shares, [[0.8, 0.2], [0.2, 0.8], [0.8, 0.2], [0.2, 0.8]])


def test_largest_remainder_keeps_the_total():
    assert largest_remainder(7, np.array([1 / 3, 1 / 3, 1 / 3])).tolist() == [3, 2, 2]
    assert largest_remainder(10, np.array([0.9, 0.1])).sum() == 10


@pytest.mark.parametrize(("bias", "strength", "n_classes", "n_groups"), [
    ("minority", 0.9, 2, 2), ("minority", 0.99, 3, 4), ("correlation", 0.97, 5, 3), ("none", 0.5, 4, 6),
    ("minority", 0.7, 10, 2)])
def test_size_for_every_cell_gives_every_wanted_cell_an_image(bias, strength, n_classes, n_groups):
    shares = _shares(bias, strength, n_classes, n_groups)
    enough = size_for_every_cell(shares)
    for n in range(enough, enough + 3 * n_classes):
        assert cell_counts(n, shares).min() >= 1, n


def test_color_sets_the_glyph_colour():
    # The same images (class and seed) drawn once per colour group differ only in the glyph.
    recipe = Recipe(("a", "d"), "color", ("red", "blue"), ("DejaVu Sans", "Lato"), 32)
    classes, seeds = np.array([0, 1, 0, 1]), np.array([3, 14, 15, 92], np.uint32)
    red = render_chunk(recipe, classes, np.zeros(4, int), seeds).images.astype(int)
    blue = render_chunk(recipe, classes, np.ones(4, int), seeds).images.astype(int)
    for r, b in zip(red, blue):
        glyph = np.abs(r - b).sum(axis=-1) > 150
        assert glyph.sum() > 10
        assert (r[glyph, 0] > r[glyph, 2]).mean() > 0.9  # red channel first: images are RGB
        assert (b[glyph, 2] > b[glyph, 0]).mean() > 0.9


def test_font_groups_draw_in_the_groups_font():
    cfg = small_dataset_config(sensitive_attribute="font", groups=["Lato", "Amatic SC"], bias="none")
    data = generate_dataset(cfg, workers=1)
    assert data.font_names == ("Lato", "Amatic SC")
    assert np.array_equal(data.pool.fonts, data.pool.groups)


def test_other_attributes_keep_font_diversity():
    data = generate_dataset(small_dataset_config(pool_size=200), workers=1)
    assert len(set(data.pool.fonts.tolist())) >= 8
    assert data.pool.fonts.min() >= 0


def test_the_default_mix_leaves_out_the_excluded_fonts_but_a_named_one_is_used():
    from alstudio.engine.data.fonts import DEFAULT_MIX_EXCLUSIONS

    family = next(iter(DEFAULT_MIX_EXCLUSIONS))
    mixed = generate_dataset(small_dataset_config(pool_size=60, test_size=12), workers=1)
    assert family not in mixed.font_names
    named = generate_dataset(small_dataset_config(pool_size=60, test_size=12, fonts=[family, "Lato"]), workers=1)
    assert named.font_names == (family, "Lato")
    assert set(named.pool.fonts.tolist()) == {0, 1}


def test_background_groups_have_distinct_backgrounds():
    cfg = small_dataset_config(sensitive_attribute="background", groups=["white", "black"], bias="none")
    data = generate_dataset(cfg, workers=1)
    corners = data.pool.images[:, [0, 0, -1, -1], [0, -1, 0, -1]].mean(axis=(1, 2))
    white, black = corners[data.pool.groups == 0], corners[data.pool.groups == 1]
    assert white.mean() > 150 > 100 > black.mean()


def test_same_seed_gives_identical_arrays_whatever_the_worker_count():
    # Large enough to use the process pool; small enough to be quick.
    cfg = small_dataset_config(pool_size=500, test_size=40)
    one = generate_dataset(cfg, workers=1)
    for workers in (2, 3):
        other = generate_dataset(cfg, workers=workers)
        for split in ("pool", "test"):
            a, b = getattr(one, split), getattr(other, split)
            for name in ("images", "classes", "groups", "fonts", "rotations", "seeds"):
                assert np.array_equal(getattr(a, name), getattr(b, name)), (workers, split, name)


def test_another_seed_gives_different_arrays():
    a = generate_dataset(small_dataset_config(seed=1), workers=1)
    b = generate_dataset(small_dataset_config(seed=2), workers=1)
    assert not np.array_equal(a.pool.images, b.pool.images)
    assert not np.array_equal(a.pool.classes, b.pool.classes)


def test_progress_is_reported_up_to_the_total():
    seen = []
    generate_dataset(small_dataset_config(), progress=lambda done, total: seen.append((done, total)),
                     workers=1)
    assert seen[0] == (0, 144) and seen[-1] == (144, 144)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.parametrize("workers", [1, 2])
def test_generation_can_be_cancelled(workers):
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        if done > 0:
            cancel.set()

    with pytest.raises(GenerationCancelled):
        generate_dataset(small_dataset_config(pool_size=2000), progress=progress, cancel=cancel,
                         workers=workers)
    assert seen[-1] < 2024

"""Rendering one chunk of samples with synbols, in whatever process runs it.

Each sample is fully determined by (class, group, seed): synbols seeds every random
attribute of an image from that one number, so the result does not depend on which
worker renders it or in what order.
"""

from __future__ import annotations

import functools
import os
import warnings
from dataclasses import dataclass

import numpy as np

from .attributes import BACKGROUNDS, COLORS
from .fonts import register_fonts

# Bump when a change here or in attributes.py alters pixels: it is part of the cache key.
RENDER_REVISION = 2


@dataclass(frozen=True)
class Recipe:
    """What every image of a dataset shares; small and picklable for worker processes."""

    characters: tuple[str, ...]
    sensitive_attribute: str  # "color" | "font" | "background"
    groups: tuple[str, ...]
    fonts: tuple[str, ...]
    resolution: int


@dataclass
class RenderedChunk:
    images: np.ndarray  # uint8 [n, H, W, 3]
    fonts: np.ndarray  # int16 index into the recipe's font list (or the group's font)
    rotations: np.ndarray
    scales: np.ndarray
    translations: np.ndarray  # float32 [n, 2]
    bold: np.ndarray
    slant: np.ndarray


@functools.cache
def _synbols():
    """synbols' drawing, generate and utils modules, imported on first use (cairo comes with them), so
    that importing the engine, validating a config or loading a cached dataset needs no renderer."""
    # synbols warns at import that its (Docker-only) language files are missing; we build our own Alphabet.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from synbols import drawing, generate, utils
    return drawing, generate, utils


def prepare_worker() -> None:
    """Per-process set-up: our fonts in fontconfig, no per-image progress bars from synbols."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    register_fonts()


def _sampler(recipe: Recipe, class_index: int, group_index: int):
    group = recipe.groups[group_index]
    drawing, generate, utils = _synbols()
    fonts = [group] if recipe.sensitive_attribute == "font" else list(recipe.fonts)
    options = dict(
        alphabet=utils.Alphabet("alstudio", fonts, list(recipe.characters)),
        char=recipe.characters[class_index],
        resolution=(recipe.resolution, recipe.resolution),
        # Inverting would turn a red glyph cyan; keep colours what the group says they are.
        inverse_color=False,
    )
    if recipe.sensitive_attribute == "color":
        options["foreground"] = drawing.SolidColor(COLORS[group])
    elif recipe.sensitive_attribute == "background":
        options["background"] = BACKGROUNDS[group]
    return generate.basic_attribute_sampler(**options)


def render_chunk(recipe: Recipe, classes: np.ndarray, groups: np.ndarray, seeds: np.ndarray) -> RenderedChunk:
    prepare_worker()
    n, r = len(classes), recipe.resolution
    font_index = {name: i for i, name in enumerate(recipe.fonts)}
    out = RenderedChunk(
        images=np.empty((n, r, r, 3), np.uint8),
        fonts=np.empty(n, np.int16),
        rotations=np.empty(n, np.float32),
        scales=np.empty(n, np.float32),
        translations=np.empty((n, 2), np.float32),
        bold=np.empty(n, bool),
        slant=np.empty(n, bool),
    )
    samplers = {}
    for i, (c, g, seed) in enumerate(zip(classes.tolist(), groups.tolist(), seeds.tolist())):
        sampler = samplers.get((c, g)) or samplers.setdefault((c, g), _sampler(recipe, c, g))
        image = sampler(seed)
        # dataset_generator would also render a segmentation mask per image; we never use it.
        # cairo's ARGB32 is BGRA in memory and synbols keeps the first three bytes: flip to RGB.
        out.images[i] = image.make_image()[..., ::-1]
        symbol = image.symbols[0]
        out.fonts[i] = font_index.get(symbol.font, -1)
        out.rotations[i] = symbol.rotation
        out.scales[i] = symbol.scale
        out.translations[i] = symbol.translation
        out.bold[i] = bool(symbol.is_bold)
        out.slant[i] = bool(symbol.is_slant)
    return out


def render_glyph(family: str, char: str, resolution: int = 32, bold: bool = False) -> np.ndarray:
    """`char` in `family` as synbols draws it, with every random attribute held still: upright,
    centred, filling the image's larger side, white on black, no noise. uint8 [resolution, resolution].
    Not thread-safe (see generate.RENDER_LOCK)."""
    prepare_worker()
    drawing, generate, utils = _synbols()
    sampler = generate.basic_attribute_sampler(
        alphabet=utils.Alphabet("alstudio", [family], [char]), char=char, font=family,
        background=drawing.NoPattern(), foreground=drawing.SolidColor((1.0, 1.0, 1.0)),
        is_slant=False, is_bold=bold, rotation=0.0, scale=1.0, translation=(0.0, 0.0),
        inverse_color=False, max_contrast=False, pixel_noise_scale=0.0, resolution=(resolution, resolution))
    return np.ascontiguousarray(sampler(0).make_image()[..., 0])

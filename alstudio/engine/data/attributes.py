"""Values a sensitive attribute can take: named glyph colours and background styles."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from synbols.drawing import Pattern

# Named glyph colours, as RGB in 0..1 (cairo's source colour range).
COLORS: dict[str, tuple[float, float, float]] = {
    "red": (1.0, 0.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "green": (0.0, 0.6, 0.0),
    "yellow": (1.0, 1.0, 0.0),
    "orange": (1.0, 0.5, 0.0),
    "purple": (0.5, 0.0, 0.5),
    "cyan": (0.0, 1.0, 1.0),
    "magenta": (1.0, 0.0, 1.0),
    "pink": (1.0, 0.4, 0.7),
    "brown": (0.55, 0.27, 0.07),
    "black": (0.0, 0.0, 0.0),
    "white": (1.0, 1.0, 1.0),
    "gray": (0.5, 0.5, 0.5),
}


def _seed(rng: np.random.RandomState) -> int:
    return int(rng.randint(np.iinfo(np.uint32).max))


def _drawing():
    # synbols (and cairo under it) is imported when a background is drawn, not with this module: the
    # config, training and cached datasets need no renderer.
    from synbols import drawing

    return drawing


# Background styles: each maps the per-image random state to a synbols Pattern.
BACKGROUNDS: dict[str, Callable[[np.random.RandomState], Pattern]] = {
    "gradient": lambda rng: _drawing().Gradient(seed=_seed(rng)),
    "multi-gradient": lambda rng: _drawing().MultiGradient(seed=_seed(rng)),
    # 200 strokes instead of synbols' 500: the same look at 32x32, four times faster to draw.
    "camouflage": lambda rng: _drawing().Camouflage(stroke_angle=rng.rand() * np.pi, n_stroke=200, seed=_seed(rng)),
    "black": lambda rng: _drawing().NoPattern(),
    "white": lambda rng: _drawing().SolidColor((1.0, 1.0, 1.0)),
    "gray": lambda rng: _drawing().SolidColor((0.5, 0.5, 0.5)),
}

DEFAULT_GROUPS = {
    "color": ["blue", "red"],
    "background": ["gradient", "camouflage"],
    "font": ["DejaVu Sans", "Caladea"],
}

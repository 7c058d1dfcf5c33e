"""The sweep table's colour scale: within one column, the better a value, the greener its cell.

One hue whose lightness falls as values get better (ColorBrewer's Greens), so the order reads the same
to colour-blind eyes and in greyscale, and black text stays legible on every shade.
"""

from __future__ import annotations

import math

from PySide6.QtGui import QColor

# From worst to best.
GREENS = ("#f7fcf5", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d")
TEXT_ON_SHADE = QColor("#000000")


def shade(fraction: float) -> QColor:
    """The colour of a value `fraction` of the way from the column's worst (0) to its best (1)."""
    fraction = min(max(fraction, 0.0), 1.0)
    position = fraction * (len(GREENS) - 1)
    low = min(int(position), len(GREENS) - 2)
    start, end = QColor(GREENS[low]), QColor(GREENS[low + 1])
    t = position - low
    return QColor.fromRgbF(*(a + (b - a) * t for a, b in zip(start.getRgbF()[:3], end.getRgbF()[:3])))


def fractions(values: list[float | None], higher_is_better: bool) -> list[float | None]:
    """Each value's place between the column's worst (0) and best (1) value; None where it has no value
    or the column has fewer than two different values (nothing to tell apart)."""
    known = [v for v in values if v is not None and math.isfinite(v)]
    if len(set(known)) < 2:
        return [None] * len(values)
    low, high = min(known), max(known)
    places = []
    for value in values:
        if value is None or not math.isfinite(value):
            places.append(None)
            continue
        place = (value - low) / (high - low)
        places.append(place if higher_is_better else 1.0 - place)
    return places


def legend_html() -> str:
    """The scale as a row of swatches from worst to best, for a label under the table."""
    swatches = "".join(f'<span style="background-color:{colour}">&nbsp;&nbsp;&nbsp;&nbsp;</span>'
                       for colour in GREENS)
    return f"worse {swatches} better"

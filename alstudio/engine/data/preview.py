"""A preview grid of a split: one block of rows per group, sized by the group's share.

The blocks hold a random sample of the split, so a 90/10 pool shows nine rows of the
majority for every row of the minority: the bias is visible at a glance.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .dataset import SynbolsDataset

_BACKGROUND = (32, 34, 40)
_TEXT = (235, 235, 235)
_MUTED = (150, 155, 165)


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default()


def preview_image(dataset: SynbolsDataset, split: str = "pool", columns: int = 20, rows: int = 10,
                  scale: int = 2, seed: int = 0) -> Image.Image:
    data = getattr(dataset, split)
    n_show = min(len(data), columns * rows)
    chosen = np.random.default_rng(seed).choice(len(data), n_show, replace=False)
    counts = dataset.counts(split)
    tile = data.images.shape[1] * scale
    gap, header = 2, 22
    blocks = []
    for g, group in enumerate(dataset.group_names):
        members = chosen[data.groups[chosen] == g]
        members = members[np.lexsort((members, data.classes[members]))]  # by class, then index
        per_class = ", ".join(f"{name}: {counts[c, g]}" for c, name in enumerate(dataset.class_names))
        total = counts[:, g].sum()
        title = f"{group}  {100 * total / max(counts.sum(), 1):.1f}%  ({total} images; {per_class})"
        blocks.append((title, members))
    height = sum(header + max(1, -(-len(m) // columns)) * (tile + gap) for _, m in blocks) + 30
    width = columns * (tile + gap) + 2 * gap
    canvas = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    title_font, small = _font(14), _font(12)
    draw.text((gap + 2, 6), f"{split}: {len(data)} images, {dataset.sensitive_attribute} groups "
              f"(random {n_show} shown, blocks sized by share)", fill=_MUTED, font=small)
    y = 26
    for title, members in blocks:
        draw.text((gap + 2, y + 3), title, fill=_TEXT, font=title_font)
        y += header
        for i, index in enumerate(members):
            img = Image.fromarray(data.images[index]).resize((tile, tile), Image.NEAREST)
            canvas.paste(img, (gap + (i % columns) * (tile + gap), y + (i // columns) * (tile + gap)))
        y += max(1, -(-len(members) // columns)) * (tile + gap)
    return canvas


def save_preview(dataset: SynbolsDataset, path, split: str = "pool", **options) -> None:
    preview_image(dataset, split, **options).save(path)

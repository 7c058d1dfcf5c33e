"""The last queried batch as a grid of enlarged images, each with its score, class and group, and a
tooltip that says why it was picked: its score and rank in the batch under every strategy."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFontMetrics, QIcon
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from ...plotting import text_font
from ..images import array_pixmap

_TARGET_PIXELS = 96  # tile image size on screen; small glyph images are enlarged by a whole factor
_MAX_PIXELS = 128
_TITLE_SIZE = 1.15  # the title against the captions
_GAP = "padding-left: 14px"  # between the tooltip table's columns


@dataclass(frozen=True)
class GalleryItem:
    sample: int
    image: np.ndarray  # uint8 H x W x 3, RGB
    class_name: str
    group: str
    score: float  # under the strategy that queried it
    scores: dict[str, float] = field(default_factory=dict)  # under every strategy (CycleResult.score_table)


def format_score(value: float) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.3g}"


def batch_ranks(values: list[float]) -> list[int | None]:
    """1 = the batch's highest score (strategies label the highest first); ties share a rank."""
    array = np.asarray([np.nan if v is None else v for v in values], dtype=float)
    finite = array[np.isfinite(array)]
    return [int((finite > v).sum()) + 1 if math.isfinite(v) else None for v in array]


def tile_pixels(image: np.ndarray) -> int:
    """Whole-number enlargement keeps every glyph pixel square under nearest-neighbour scaling."""
    side = max(image.shape[0], image.shape[1])
    enlarged = side * max(1, round(_TARGET_PIXELS / side))
    return enlarged if enlarged <= _MAX_PIXELS else _TARGET_PIXELS


class QueryGallery(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("queryGallery")
        self.setAccessibleName("Queried batch")

        self.title = QLabel()
        self.title.setObjectName("queryGalleryTitle")
        self.title.setAccessibleName("Queried batch title")

        # A list view in icon mode reflows the tiles to the width, scrolls long batches and gives
        # arrow-key navigation and accessibility for free.
        self.tiles = QListWidget()
        self.tiles.setObjectName("queryGalleryTiles")
        self.tiles.setAccessibleName("Queried images with score, class and group")
        self.tiles.setViewMode(QListView.ViewMode.IconMode)
        self.tiles.setFlow(QListView.Flow.LeftToRight)
        self.tiles.setWrapping(True)
        self.tiles.setResizeMode(QListView.ResizeMode.Adjust)
        self.tiles.setMovement(QListView.Movement.Static)
        self.tiles.setUniformItemSizes(True)
        self.tiles.setWordWrap(True)
        self.tiles.setSpacing(4)
        self.tiles.setStyleSheet("QListWidget { background: white; }")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.title.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.tiles, 1)
        self._pixels = _TARGET_PIXELS
        self.set_text_scale(1.0)
        self.clear()

    def show_batch(self, strategy: str, cycle: int, items: list[GalleryItem], hidden=()) -> None:
        """`hidden`: samples whose labels a person has yet to give; their class and group stay unsaid."""
        self.tiles.clear()
        self.title.setText(f"Cycle {cycle} — {strategy}: {len(items)} queried")
        self._batch = (strategy, items, self._score_table(strategy, items) if items else {})
        self._hidden = set(hidden)
        if not items:
            return
        self._pixels = pixels = max(tile_pixels(item.image) for item in items)
        self.tiles.setIconSize(QSize(pixels, pixels))
        self._fit_grid()
        for item in items:
            tile = QListWidgetItem(QIcon(array_pixmap(item.image, pixels)), "")
            tile.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            tile.setData(Qt.ItemDataRole.UserRole, item.sample)
            tile.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self.tiles.addItem(tile)
        self._caption()
        self.tiles.setCurrentItem(None)  # nothing looks picked until the user picks it
        self.tiles.scrollToTop()

    def set_hidden(self, samples) -> None:
        """Hide the class and group of these samples (labels pending) and show every other one's."""
        self._hidden = set(samples)
        self._caption()

    def hidden(self) -> set[int]:
        return set(self._hidden)

    def _caption(self) -> None:
        strategy, items, table = self._batch
        for index, item in enumerate(items):
            tile = self.tiles.item(index)
            truth = "label pending" if item.sample in self._hidden else f"{item.class_name} · {item.group}"
            tile.setText(f"score {format_score(item.score)}\n{truth}")
            tile.setToolTip(self._why_html(item, strategy, table, index, len(items), item.sample in self._hidden))
            said = ("class and group hidden until labeled" if item.sample in self._hidden
                    else f"class {item.class_name}, group {item.group}")
            tile.setData(Qt.ItemDataRole.AccessibleTextRole,
                         f"Sample {item.sample}, {said}, score {format_score(item.score)}")

    def set_text_scale(self, scale: float) -> None:
        """Title and captions at `scale` times their size (lecture mode), the tiles grown to fit."""
        title = text_font(scale, _TITLE_SIZE)
        title.setBold(True)
        self.title.setFont(title)
        self.tiles.setFont(text_font(scale))
        self._fit_grid()

    def _fit_grid(self) -> None:
        """Room for the image and two caption lines in the captions' font."""
        metrics = QFontMetrics(self.tiles.font())
        width = max(self._pixels, metrics.horizontalAdvance("score 0.000") + 12) + 16
        self.tiles.setGridSize(QSize(width, self._pixels + 2 * metrics.lineSpacing() + 10))

    def clear(self) -> None:
        self.tiles.clear()
        self._batch, self._hidden = ("", [], {}), set()
        self.title.setText("No batch queried yet")

    def tile_count(self) -> int:
        return self.tiles.count()

    def export(self, path: str | Path) -> Path:
        path = Path(path)
        if path.suffix.lower() != ".png":
            raise ValueError(f"{path.name}: the gallery exports to .png only")
        if not self.grab().save(str(path)):
            raise OSError(f"{path}: cannot be written")
        return path

    @staticmethod
    def _score_table(strategy: str, items: list[GalleryItem]) -> dict[str, tuple[list[float], list[int | None]]]:
        """strategy -> (each item's score, its rank in the batch); the querying strategy first."""
        names = list(dict.fromkeys(name for item in items for name in item.scores))
        table = {}
        if strategy not in names:  # random, batchbald, power_bald: only the score they picked with
            values = [item.score for item in items]
            table[strategy] = (values, batch_ranks(values))
        for name in ([strategy] if strategy in names else []) + [n for n in names if n != strategy]:
            values = [item.scores.get(name, math.nan) for item in items]
            table[name] = (values, batch_ranks(values))
        return table

    @staticmethod
    def _why_html(item: GalleryItem, strategy: str, table: dict, index: int, batch: int, hidden: bool) -> str:
        rows = []
        for name, (values, ranks) in table.items():
            rank = "—" if ranks[index] is None else f"{ranks[index]} of {batch}"
            label = f"<b>{html.escape(name)}</b> (queried)" if name == strategy else html.escape(name)
            rows.append(f"<tr><td>{label}</td><td align='right' style='{_GAP}'>{format_score(values[index])}</td>"
                        f"<td align='right' style='{_GAP}'>{rank}</td></tr>")
        truth = ("class and group hidden until you have labeled it" if hidden else
                 f"class <b>{html.escape(item.class_name)}</b>, group <b>{html.escape(item.group)}</b>")
        return (f"<p><b>Why sample {item.sample}?</b><br>{truth}</p>"
                "<table cellspacing='0' cellpadding='2'>"
                f"<tr><th align='left'>strategy</th><th align='right' style='{_GAP}'>score</th>"
                f"<th align='right' style='{_GAP}'>rank in batch</th></tr>" + "".join(rows) + "</table>"
                "<p><i>Higher scores are more worth labeling; rank 1 is the batch's top.</i></p>")

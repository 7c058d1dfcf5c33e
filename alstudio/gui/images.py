"""Showing numpy/PIL images in Qt widgets."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel


def array_pixmap(image: np.ndarray, size: int | None = None) -> QPixmap:
    """A uint8 RGB (or grey) array as a QPixmap, enlarged to `size` px with nearest-neighbour so the
    pixels of a 32x32 glyph stay crisp. The bytes are copied: the array may go away afterwards."""
    pixels = np.asarray(image, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    pixels = np.ascontiguousarray(pixels[:, :, :3])
    height, width = pixels.shape[:2]
    pixmap = QPixmap.fromImage(QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy())
    if size is None:
        return pixmap
    return pixmap.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)


def to_pixmap(image) -> QPixmap:
    """A PIL RGB image as a QPixmap."""
    return array_pixmap(np.asarray(image.convert("RGB")))


class FittedImage(QLabel):
    """Shows a pixmap scaled to the label's size, keeping its aspect ratio."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._source: QPixmap | None = None
        self.setMinimumSize(200, 150)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def set_source(self, pixmap: QPixmap) -> None:
        self._source = pixmap
        self._fit()

    def source(self) -> QPixmap | None:
        return self._source

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._source is not None:
            self.setPixmap(self._source.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation))

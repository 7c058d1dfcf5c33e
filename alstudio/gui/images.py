"""Showing numpy/PIL images in Qt widgets."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel


def to_pixmap(image) -> QPixmap:
    """A PIL RGB image as a QPixmap (the bytes are copied)."""
    data = image.tobytes()
    qimage = QImage(data, image.width, image.height, 3 * image.width, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(qimage.copy())


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

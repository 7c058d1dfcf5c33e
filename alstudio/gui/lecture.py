"""Lecture mode's text: the application font enlarged for a room, and given back when it ends."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

LECTURE_SCALE = 1.5  # text in lecture mode, against its normal size


class LectureMode(QObject):
    """On or off. The font is the application's, so every window and dialog follows it; the plots size
    their own text (pyqtgraph does not follow the application font) when `toggled` tells them."""

    toggled = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.active = False
        self._normal_font: QFont | None = None  # the application's font before lecture mode first began

    def toggle(self) -> None:
        app = QApplication.instance()
        if self._normal_font is None:
            self._normal_font = QFont(app.font())
        self.active = not self.active
        app.setFont(self.font())
        self.toggled.emit(self.active)

    def font(self) -> QFont:
        """The application font for the current mode."""
        font = QFont(self._normal_font) if self._normal_font is not None else QFont(QApplication.instance().font())
        if self.active:
            font.setPointSizeF(font.pointSizeF() * LECTURE_SCALE)
        return font

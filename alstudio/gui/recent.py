"""File > Open recent: the experiment folders last run or opened, kept in the user's settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QMenu

RECENT_KEY = "recentExperiments"
RECENT_COUNT = 8


class RecentExperiments(QObject):
    """Fills `menu` with the recent folders, newest first; choosing one emits `chosen(folder)`."""

    chosen = Signal(str)

    def __init__(self, menu: QMenu, parent: QObject | None = None):
        super().__init__(parent)
        self.menu = menu
        self._fill()

    def remember(self, folder: Path) -> None:
        settings = QSettings()
        recent = [str(folder)] + [f for f in (settings.value(RECENT_KEY) or []) if f != str(folder)]
        settings.setValue(RECENT_KEY, recent[:RECENT_COUNT])
        self._fill()

    def _fill(self) -> None:
        self.menu.clear()
        for folder in QSettings().value(RECENT_KEY) or []:
            action = self.menu.addAction(folder)
            action.setData(folder)
            action.triggered.connect(self._on_triggered)
        self.menu.setEnabled(bool(self.menu.actions()))

    def _on_triggered(self) -> None:
        self.chosen.emit(self.sender().data())

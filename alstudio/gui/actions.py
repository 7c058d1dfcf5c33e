"""QActions made alike: named, with a shortcut in the tooltip, and active wherever their window has focus."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


def make_action(window: QWidget, text: str, name: str, shortcut, slot, tip: str) -> QAction:
    action = QAction(text, window)
    action.setObjectName(name)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    action.setToolTip(f"{tip} ({action.shortcut().toString()})" if shortcut else tip)
    action.setStatusTip(tip)
    action.triggered.connect(slot)
    window.addAction(action)  # its shortcut works without a menu or tool bar showing it
    return action

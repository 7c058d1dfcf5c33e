"""The Qt binding must not free Python's None or True: a PySide6 wheel that takes a reference from
them at every call aborts the workbench ("none_dealloc") once enough calls were made."""

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel


class _Emitter(QObject):
    changed = Signal(int)


def test_calls_and_signals_leave_none_and_true_referenced(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    emitter = _Emitter()
    before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(1000):
        label.setText("x")  # returns nothing
        emitter.changed.emit(1)
    after = sys.getrefcount(None), sys.getrefcount(True)
    # Immortal on Python 3.12+ (the counts do not move); otherwise a few references may come and go.
    assert after[0] - before[0] > -50, "the Qt binding frees None: PySide6 6.12.0 on Python < 3.12?"
    assert after[1] - before[1] > -50, "the Qt binding frees True: PySide6 6.12.0 on Python < 3.12?"

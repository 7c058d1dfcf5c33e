"""The labeling dialog: a human labels a queried batch, one key press per image.

The dialog never talks to the engine. It emits one signal per answer (and per undo) the moment it
happens; the main window forwards them to the HumanAnnotator, whose loop journals each answer as it
arrives, so closing the dialog or a crash mid-batch loses nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeySequence, QPainter, QPen, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..images import array_pixmap

# Fallback keys when the class characters cannot serve as keys, in keyboard order.
DIGIT_KEYS = "1234567890"

CURRENT_COLOR = QColor("#1565c0")
ANSWERED_COLOR = QColor("#2e7d32")
ANSWERED_FILL = QColor("#e8f5e9")
UNANSWERED_COLOR = QColor("#9e9e9e")
# Room beside the image for the frame and a one-line hint such as "model: d (0.83)".
TILE_PADDING = 44
TILE_SPACING = 10


@dataclass(frozen=True)
class LabelItem:
    sample: int  # pool index
    image: np.ndarray = field(compare=False)  # uint8 [H, W, 3] RGB, typically 32x32
    group: str  # the sensitive group's name, e.g. "red"
    prediction: str | None = None  # the model's current prediction, e.g. "d (0.83)"
    votes: tuple[str, ...] = ()  # LLM votes for a flagged sample; shown whenever present
    answer: int | None = None  # an answer already given (resume), shown as done


def assign_keys(class_names: list[str]) -> list[str | None]:
    """The key that labels each class, as printed on a keycap.

    A class's own character when every class is one distinct ASCII letter or digit (letters are
    case-insensitive, so "a" and "A" collide); otherwise 1..9 then 0, and no key beyond ten classes.
    """
    typeable = all(len(name) == 1 and name.isascii() and name.isalnum() for name in class_names)
    if typeable and len({name.casefold() for name in class_names}) == len(class_names):
        return [name.upper() for name in class_names]
    return [DIGIT_KEYS[i] if i < len(DIGIT_KEYS) else None for i in range(len(class_names))]


def grid_columns(count: int, max_columns: int = 10) -> int:
    """Columns for `count` tiles: few empty cells and a block about twice as wide as tall in tiles
    (a tile is taller than wide, so the grid comes out roughly 3:2 on screen)."""
    def cost(columns: int) -> float:
        rows = math.ceil(count / columns)
        if not count:
            return 0.0
        return (rows * columns - count) / count + abs(math.log(columns / rows / 2.2))

    return min(range(1, max(1, min(count, max_columns)) + 1), key=cost)


class LabelTile(QWidget):
    """One image of the batch with its answer badge, optional hints and LLM votes."""

    clicked = Signal(int)  # position in the batch

    def __init__(self, position: int, item: LabelItem, tile_size: int, parent=None):
        super().__init__(parent)
        self.position = position
        self.sample = int(item.sample)
        self.answered = False
        self.current = False
        self.setObjectName(f"labelTile_{self.sample}")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFixedWidth(tile_size + TILE_PADDING)

        self.image_label = QLabel(objectName="tileImage", alignment=Qt.AlignmentFlag.AlignCenter)
        self.image_label.setPixmap(array_pixmap(item.image, tile_size))
        self.image_label.setFixedHeight(tile_size)
        self.badge = QLabel(objectName="tileAnswer", alignment=Qt.AlignmentFlag.AlignCenter)
        badge_font = QFont(self.font())
        badge_font.setPointSizeF(self.font().pointSizeF() * 1.5)
        badge_font.setBold(True)
        self.badge.setFont(badge_font)
        self.badge.setMinimumHeight(round(badge_font.pointSizeF() * 1.9))
        small_font = QFont(self.font())
        small_font.setPointSizeF(self.font().pointSizeF() * 0.9)

        hint_lines = [f"group: {item.group}"]
        if item.prediction:
            hint_lines.append(f"model: {item.prediction}")
        self.hints = QLabel("\n".join(hint_lines), objectName="tileHints", alignment=Qt.AlignmentFlag.AlignCenter)
        self.hints.setWordWrap(True)
        self.hints.setFont(small_font)
        self.hints.setVisible(False)
        self.votes = QLabel("LLM: " + " · ".join(item.votes), objectName="tileVotes",
                            alignment=Qt.AlignmentFlag.AlignCenter)
        self.votes.setWordWrap(True)
        self.votes.setFont(small_font)
        self.votes.setStyleSheet("color: #b45309; font-weight: bold;")
        self.votes.setVisible(bool(item.votes))
        if item.votes:
            self.votes.setToolTip("This sample was flagged because the LLM annotators disagreed")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(4)
        layout.addWidget(self.image_label)
        layout.addWidget(self.badge)
        layout.addWidget(self.hints)
        layout.addWidget(self.votes)
        layout.addStretch(1)
        self.set_state(None, False)

    def set_state(self, answer: str | None, current: bool) -> None:
        self.answered = answer is not None
        self.current = current
        if self.answered:
            self.badge.setText(answer)
            self.badge.setStyleSheet("background: #2e7d32; color: white; border-radius: 6px;")
        else:
            self.badge.setText("?")
            self.badge.setStyleSheet("color: #757575; border: 2px dashed #bdbdbd; border-radius: 6px;")
        state = f"labeled {answer}" if self.answered else "not labeled yet"
        self.setAccessibleName(f"Sample {self.sample}, {state}" + (", selected" if current else ""))
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.answered:
            painter.fillRect(self.rect(), ANSWERED_FILL)
        if self.current:
            pen = QPen(CURRENT_COLOR, 5)
        elif self.answered:
            pen = QPen(ANSWERED_COLOR, 2)
        else:
            pen = QPen(UNANSWERED_COLOR, 1, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        inset = pen.widthF() / 2
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(inset, inset, -inset, -inset), 6, 6)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.position)
        else:
            super().mousePressEvent(event)


class LabelingDialog(QDialog):
    """Shows a queried batch as a grid; class keys label the framed image and move on."""

    answered = Signal(int, int)  # (sample, class index), emitted the moment a label is given
    retracted = Signal(int)  # (sample), emitted when an answer is undone
    submitted = Signal()  # Enter with every item answered
    postponed = Signal()  # Esc: close without submitting; the run stays paused

    def __init__(self, items: list[LabelItem], class_names: list[str], parent=None, *,
                 title: str | None = None, tile_size: int = 96, columns: int | None = None):
        super().__init__(parent)
        self.setObjectName("labelingDialog")
        self.setAccessibleName("Labeling dialog")
        self.setWindowTitle(title or f"Label {len(items)} queried samples")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # Readable on a lecture projector.
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.25)
        self.setFont(font)

        self._items = list(items)
        self._class_names = list(class_names)
        self._keys = assign_keys(self._class_names)
        self._key_codes = {ord(key): index for index, key in enumerate(self._keys) if key}
        self._answers: dict[int, int] = {}
        for item in self._items:
            if item.answer is not None:
                if not 0 <= item.answer < len(self._class_names):
                    raise ValueError(f"sample {item.sample} has answer {item.answer}, "
                                     f"not one of the {len(self._class_names)} classes")
                self._answers[int(item.sample)] = int(item.answer)
        # (position, answer it replaced or None) for each answer given here, newest last.
        self._undo: list[tuple[int, int | None]] = []
        self._submitted = False
        screen = (parent or self).screen()
        fitting = 10 if screen is None else (screen.availableGeometry().width() * 0.95 - 80) // (
            tile_size + TILE_PADDING + TILE_SPACING)
        self._columns = columns or grid_columns(len(self._items), max(1, min(10, int(fitting))))

        heading = QLabel(self.windowTitle(), objectName="labelingTitle")
        heading_font = QFont(font)
        heading_font.setPointSizeF(font.pointSizeF() * 1.3)
        heading_font.setBold(True)
        heading.setFont(heading_font)
        self.hints_check = QCheckBox("Show group and prediction", objectName="showHintsCheck")
        self.hints_check.setAccessibleName("Show group and prediction")
        self.hints_check.setToolTip("Show each image's sensitive group and the model's current prediction "
                                    "(Ctrl+H). Off by default so that they do not anchor your answer.")
        self.hints_check.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.hints_check.toggled.connect(self._show_hints)
        QShortcut(QKeySequence("Ctrl+H"), self, self.hints_check.toggle)
        help_text = QLabel("Press a class key (or click its button) to label the framed image.   "
                           "Arrows move · Backspace undoes · Enter submits · Esc postpones",
                           objectName="labelingHelp")
        help_text.setWordWrap(True)
        help_text.setStyleSheet("color: palette(placeholder-text);")

        header = QHBoxLayout()
        header.addWidget(heading, 1)
        header.addWidget(self.hints_check)

        self.tiles: list[LabelTile] = []
        grid_widget = QWidget(objectName="labelingGrid")
        grid = QGridLayout()
        grid.setSpacing(TILE_SPACING)
        for position, item in enumerate(self._items):
            tile = LabelTile(position, item, tile_size)
            tile.clicked.connect(self._select)
            grid.addWidget(tile, position // self._columns, position % self._columns)
            self.tiles.append(tile)
        centred = QHBoxLayout()
        centred.addStretch(1)
        centred.addLayout(grid)
        centred.addStretch(1)
        outer = QVBoxLayout(grid_widget)
        outer.addLayout(centred)
        outer.addStretch(1)
        self.scroll = QScrollArea(objectName="labelingScroll")
        self.scroll.setWidget(grid_widget)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows belong to the grid's focus frame

        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Label:"))
        self.class_buttons: list[QPushButton] = []
        button_font = QFont(font)
        button_font.setPointSizeF(font.pointSizeF() * 1.2)
        button_font.setBold(True)
        for index, (name, key) in enumerate(zip(self._class_names, self._keys)):
            button = QPushButton(f"{name}  [{key}]" if key else name, objectName=f"classButton_{index}")
            button.setAccessibleName(f"Label as {name}")
            button.setToolTip(f"Label the framed image as “{name}”" + (f" (key {key})" if key else ""))
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setAutoDefault(False)
            button.setMinimumSize(120 if len(self._class_names) <= 6 else 64, 48)
            button.setFont(button_font)
            button.clicked.connect(lambda _=False, index=index: self._label(index))
            buttons.addWidget(button)
            self.class_buttons.append(button)
        buttons.addStretch(1)

        self.progress = QLabel(objectName="labelingProgress")
        self.progress.setAccessibleName("Labeling progress")
        progress_font = QFont(font)
        progress_font.setBold(True)
        self.progress.setFont(progress_font)
        self.status = QLabel(objectName="labelingStatus")
        self.status.setAccessibleName("Labeling status")
        self.postpone_button = QPushButton("Postpone  [Esc]", objectName="postponeButton")
        self.postpone_button.setAccessibleName("Postpone labeling")
        self.postpone_button.setToolTip("Close without submitting: answers given so far are kept, the run stays "
                                        "paused until you come back")
        self.submit_button = QPushButton("Submit batch  [Enter]", objectName="submitButton")
        self.submit_button.setAccessibleName("Submit batch")
        self.submit_button.setToolTip("Hand the labeled batch to the run; enabled once every image is labeled")
        for button in (self.postpone_button, self.submit_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setAutoDefault(False)
            button.setMinimumHeight(40)
        self.postpone_button.clicked.connect(self.reject)
        self.submit_button.clicked.connect(self._submit)
        footer = QHBoxLayout()
        footer.addWidget(self.progress)
        footer.addSpacing(16)
        footer.addWidget(self.status, 1)
        footer.addWidget(self.postpone_button)
        footer.addWidget(self.submit_button)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(help_text)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(buttons)
        layout.addLayout(footer)

        self._current = self._next_unanswered(-1)
        self._refresh_all()
        self._fit_to_screen(grid_widget)

    # -- public ----------------------------------------------------------------------------------
    def answers(self) -> dict[int, int]:
        """sample -> class index, for every item answered so far (including those answered before)."""
        return dict(self._answers)

    def current_sample(self) -> int | None:
        """The pool index of the framed item (None for an empty batch)."""
        return self.tiles[self._current].sample if self.tiles else None

    def keys(self) -> list[str | None]:
        """The key of each class, as shown on its button."""
        return list(self._keys)

    # -- keyboard --------------------------------------------------------------------------------
    def keyPressEvent(self, event) -> None:
        key = event.key()
        if event.matches(QKeySequence.StandardKey.Undo) or key == Qt.Key.Key_Backspace:
            self._undo_last()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._submit()
        elif key == Qt.Key.Key_Escape:
            self.reject()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down):
            self._move(key)
        elif (not event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                                       | Qt.KeyboardModifier.MetaModifier)
              and int(key) in self._key_codes):
            self._label(self._key_codes[int(key)])
        else:
            super().keyPressEvent(event)

    def _move(self, key) -> None:
        if not self.tiles:
            return
        step = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1,
                Qt.Key.Key_Up: -self._columns, Qt.Key.Key_Down: self._columns}[key]
        target = self._current + step
        if 0 <= target < len(self.tiles):
            self._select(target)

    # -- actions ---------------------------------------------------------------------------------
    def _select(self, position: int) -> None:
        previous, self._current = self._current, position
        self._refresh_tile(previous)
        self._refresh_tile(position)
        self.scroll.ensureWidgetVisible(self.tiles[position])

    def _label(self, class_index: int) -> None:
        if not self.tiles:
            return
        sample = self.tiles[self._current].sample
        previous = self._answers.get(sample)
        if previous == class_index:
            self._select(self._next_unanswered(self._current))
            return
        if previous is not None:
            # The loop keeps the first answer it journalled; a change is a retraction plus a new answer.
            self.retracted.emit(sample)
        self._answers[sample] = class_index
        self._undo.append((self._current, previous))
        self.answered.emit(sample, class_index)
        self._after_change(f"Labeled sample {sample} as “{self._class_names[class_index]}”.")
        self._select(self._next_unanswered(self._current))

    def _undo_last(self) -> None:
        if not self._undo:
            self.status.setText("Nothing to undo.")
            return
        position, previous = self._undo.pop()
        sample = self.tiles[position].sample
        del self._answers[sample]
        self.retracted.emit(sample)
        if previous is not None:
            self._answers[sample] = previous
            self.answered.emit(sample, previous)
        self._after_change(f"Undid the label of sample {sample}.")
        self._select(position)

    def _submit(self) -> None:
        left = len(self.tiles) - len(self._answers)
        if left:
            self.status.setText(f"{left} {'image' if left == 1 else 'images'} left to label; "
                                "Enter submits once every image has a label.")
            return
        self._submitted = True
        self.submitted.emit()
        self.accept()

    def reject(self) -> None:
        # Esc, the Postpone button and the window's close button all land here.
        if not self._submitted:
            self.postponed.emit()
        super().reject()

    # -- display ---------------------------------------------------------------------------------
    def _next_unanswered(self, position: int) -> int:
        """The first unanswered item after `position`, wrapping around; `position` when all are done."""
        count = len(self.tiles)
        for offset in range(1, count + 1):
            candidate = (position + offset) % count
            if self.tiles[candidate].sample not in self._answers:
                return candidate
        return max(position, 0)

    def _after_change(self, message: str) -> None:
        self._update_progress()
        if len(self._answers) == len(self.tiles):
            message += " All labeled: press Enter to submit."
        self.status.setText(message)

    def _update_progress(self) -> None:
        done, total = len(self._answers), len(self.tiles)
        self.progress.setText(f"{done} of {total} labeled")
        self.submit_button.setEnabled(done == total)

    def _refresh_tile(self, position: int) -> None:
        if 0 <= position < len(self.tiles):
            tile = self.tiles[position]
            answer = self._answers.get(tile.sample)
            tile.set_state(None if answer is None else self._class_names[answer], position == self._current)

    def _refresh_all(self) -> None:
        for position in range(len(self.tiles)):
            self._refresh_tile(position)
        self._update_progress()
        if self._answers and len(self._answers) < len(self.tiles):
            self.status.setText(f"{len(self._answers)} answered earlier; label the rest.")

    def _show_hints(self, shown: bool) -> None:
        for tile in self.tiles:
            tile.hints.setVisible(shown)
        if self.tiles:
            self.scroll.ensureWidgetVisible(self.tiles[self._current])

    def _fit_to_screen(self, grid_widget: QWidget) -> None:
        wanted = self.sizeHint()
        wanted.setWidth(max(wanted.width(), grid_widget.sizeHint().width() + 60))
        wanted.setHeight(max(wanted.height(), grid_widget.sizeHint().height() + 240))
        screen = (self.parentWidget() or self).screen()
        if screen is not None:
            available = screen.availableGeometry().size() * 0.95
            wanted = wanted.boundedTo(available)
        self.resize(wanted)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

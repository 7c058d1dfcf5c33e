"""Dataset and bias: the classes, the sensitive attribute's groups and the bias, with a live preview."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError
from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QKeySequence, QPainter, QPixmap, QShortcut, QValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...engine.config import DatasetConfig
from ...engine.data.attributes import BACKGROUNDS, COLORS, DEFAULT_GROUPS
from ...engine.data.bias import BIAS_KINDS
from ...engine.data.fonts import bundled_families
from ..config_model import ConfigModel
from ..images import FittedImage, to_pixmap
from ..preview_loader import PREVIEW_POOL_SIZE, PreviewLoader
from . import SetupPanel, describe, field_bounds, float_spin, form_layout, hint_label, int_spin

ATTRIBUTES = {"color": "Glyph colour", "font": "Font", "background": "Background"}
PREVIEW_DELAY_MS = 300  # wait for a pause in the edits before rendering a new preview
_VALUE = Qt.ItemDataRole.UserRole
_VISIBLE_GROUPS = 8


def attribute_values(attribute: str) -> list[str]:
    """Every value a group of this sensitive attribute can take, in the engine's order."""
    if attribute == "color":
        return list(COLORS)
    if attribute == "background":
        return list(BACKGROUNDS)
    return list(bundled_families())


def parse_classes(text: str) -> list[str]:
    """Every visible character is one class; spaces only separate ("ad" and "a d" are the same)."""
    return [c for c in text if not c.isspace()]


def bias_summary(bias: str, strength: float, groups: list[str], classes: list[str]) -> str:
    """What the bias does to the pool, in words (the kind's own); the strength at which it does nothing says so."""
    if len(groups) < 2:
        return "Check at least two groups."
    return BIAS_KINDS[bias].describe(strength, classes, groups)


class _ClassesValidator(QValidator):
    """Refuses a repeated character; fewer than two classes is a state on the way, not an error yet."""

    def validate(self, text: str, pos: int):
        classes = parse_classes(text)
        if len(set(classes)) < len(classes):
            return QValidator.State.Invalid
        return QValidator.State.Acceptable if len(classes) >= 2 else QValidator.State.Intermediate


def _swatch(rgb: tuple[float, float, float]) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor.fromRgbF(*rgb))
    painter = QPainter(pixmap)
    painter.setPen(QColor(110, 110, 110))
    painter.drawRect(0, 0, 13, 13)
    painter.end()
    return QIcon(pixmap)


class DatasetPanel(SetupPanel):
    """dataset.*: bias, strength, sensitive attribute, groups (first = majority), classes, sizes, seed."""

    def __init__(self, config_model: ConfigModel | None = None, parent: QWidget | None = None):
        super().__init__("datasetPanel", "Dataset and bias", config_model, parent)
        self._relabeling = False
        self._build_controls()
        self._build_preview()

        layout = QVBoxLayout(self)
        layout.addLayout(self._form)
        layout.addWidget(self.preview_title)
        layout.addWidget(self.preview_status)
        layout.addWidget(self.preview, 1)

        self._bind()

    # ---- building ---------------------------------------------------------------------------------

    def _build_controls(self) -> None:
        self.bias_box = describe(QComboBox(), "biasBox", "Bias", "How the sensitive attribute is skewed in the "
                                 "pool; the test set is always balanced over groups")
        for kind in BIAS_KINDS.values():
            self.bias_box.addItem(kind.title, kind.name)
            self.bias_box.setItemData(self.bias_box.count() - 1, kind.description, Qt.ItemDataRole.ToolTipRole)
        self.bias_box.currentIndexChanged.connect(self._on_bias)

        self.strength_slider = describe(
            QSlider(Qt.Orientation.Horizontal), "biasStrengthSlider", "Bias strength",
            "Minority: the first group's share of the pool. Correlation: how often a class comes in its "
            "paired group. 0.50 to 1.00")
        low, high, _, _ = field_bounds(DatasetConfig, "bias_strength")
        self.strength_slider.setRange(round(low * 100), round(high * 100))
        self.strength_slider.setSingleStep(1)
        self.strength_slider.setPageStep(5)
        self.strength_slider.valueChanged.connect(self._on_strength)
        self.strength_value = describe(QLabel(), "biasStrengthValue", "Bias strength value")
        self.strength_value.setMinimumWidth(self.strength_value.fontMetrics().horizontalAdvance("0.000") + 4)
        self.strength_value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        strength_row = QHBoxLayout()
        strength_row.addWidget(self.strength_slider, 1)
        strength_row.addWidget(self.strength_value)
        self.bias_hint = hint_label(object_name="biasHint")

        self.attribute_box = describe(QComboBox(), "attributeBox", "Sensitive attribute",
                                      "What the groups differ in; switching it offers that attribute's values")
        for value, text in ATTRIBUTES.items():
            self.attribute_box.addItem(text, value)
        self.attribute_box.currentIndexChanged.connect(self._on_attribute)

        self.groups_list = describe(
            QListWidget(), "groupsList", "Groups",
            "Check at least two groups. Their order matters: under a minority bias the first checked group is "
            "the majority. Drag to reorder, or use Alt+Up, Alt+Down and Alt+Home.")
        self.groups_list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.groups_list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.groups_list.itemChanged.connect(self._on_group_item)
        self.groups_list.model().rowsMoved.connect(self._groups_changed)
        self.group_up = self._move_button("groupUpButton", "Move group up", Qt.ArrowType.UpArrow, "Alt+Up", "up",
                                          self._move_up)
        self.group_down = self._move_button("groupDownButton", "Move group down", Qt.ArrowType.DownArrow,
                                            "Alt+Down", "down", self._move_down)
        self.group_first = self._move_button("groupFirstButton", "Make group first", None, "Alt+Home",
                                             "to the top (under a minority bias: the majority)", self._move_first)
        self.group_first.setText("First")
        buttons = QVBoxLayout()
        for button in (self.group_up, self.group_down, self.group_first):
            buttons.addWidget(button)
        buttons.addStretch(1)
        groups_row = QHBoxLayout()
        groups_row.addWidget(self.groups_list, 1)
        groups_row.addLayout(buttons)

        self.classes_edit = describe(QLineEdit(), "classesEdit", "Classes",
                                     "The characters to tell apart, e.g. \"ad\" or \"a d e o\"; each one is a "
                                     "class and none may repeat")
        self.classes_edit.setValidator(_ClassesValidator(self.classes_edit))
        self.classes_edit.setPlaceholderText("e.g. a d")
        self.classes_edit.textChanged.connect(self._on_classes)

        self.pool_spin = describe(int_spin(DatasetConfig, "pool_size"), "poolSizeSpin", "Pool size",
                                  "Images the strategies may query (the unlabeled pool)")
        self.test_spin = describe(int_spin(DatasetConfig, "test_size"), "testSizeSpin", "Test size",
                                  "Images in the test set, balanced over groups; at least classes x groups")
        self.seed_spin = describe(float_spin(DatasetConfig, "seed", decimals=0, step=1), "datasetSeedSpin",
                                  "Dataset seed", "The same seed gives the same images")
        self.seed_spin.setGroupSeparatorShown(False)
        # One slot reads the sender: a lambda per spin box would keep the panel alive through it.
        self._keys = {self.pool_spin: "pool_size", self.test_spin: "test_size", self.seed_spin: "seed"}
        for spin in self._keys:
            spin.valueChanged.connect(self._on_value)

        form = self._form = form_layout()
        form.addRow("&Bias:", self.bias_box)
        form.addRow("&Strength:", strength_row)
        form.labelForField(strength_row).setBuddy(self.strength_slider)
        form.addRow("", self.bias_hint)
        form.addRow("&Attribute:", self.attribute_box)
        form.addRow("&Groups:", groups_row)
        form.labelForField(groups_row).setBuddy(self.groups_list)
        form.addRow("&Classes:", self.classes_edit)
        form.addRow("&Pool size:", self.pool_spin)
        form.addRow("&Test size:", self.test_spin)
        form.addRow("S&eed:", self.seed_spin)

    def _move_button(self, name: str, accessible: str, arrow, keys: str, where: str, move) -> QToolButton:
        # `move` is a bound method: a lambda holding the panel would keep it alive through its own buttons.
        button = describe(QToolButton(), name, accessible, f"Move the selected group {where} ({keys})")
        if arrow is not None:
            button.setArrowType(arrow)
        button.clicked.connect(move)
        shortcut = QShortcut(QKeySequence(keys), self.groups_list)
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        shortcut.activated.connect(move)
        return button

    def _build_preview(self) -> None:
        self.loader = PreviewLoader(self)
        self.loader.ready.connect(self._on_preview_ready)
        self.loader.failed.connect(self._on_preview_failed)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self._request_preview)
        self.preview_title = QLabel(f"<b>Preview</b> — {PREVIEW_POOL_SIZE} sample images with this bias")
        self.preview_status = hint_label(object_name="previewStatus")
        self.preview = describe(FittedImage(), "datasetPreview", "Dataset preview",
                                "A small sample rendered with these settings: one block of rows per group, "
                                "sized by the group's share of the pool")
        self.preview.setMinimumHeight(180)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)

    # ---- reading the model ------------------------------------------------------------------------

    def _show(self) -> None:
        d = self.config_model.value
        self.bias_box.setCurrentIndex(self.bias_box.findData(d("dataset", "bias")))
        self.strength_slider.setValue(round(d("dataset", "bias_strength") * 100))
        attribute = d("dataset", "sensitive_attribute")
        self.attribute_box.setCurrentIndex(self.attribute_box.findData(attribute))
        self._fill_groups(attribute, d("dataset", "groups"))
        self.classes_edit.setText(" ".join(d("dataset", "classes")))
        self.pool_spin.setValue(d("dataset", "pool_size"))
        self.test_spin.setValue(d("dataset", "test_size"))
        self.seed_spin.setValue(d("dataset", "seed"))

    def _refresh(self, section: str) -> None:
        if section in ("", "dataset"):
            self._refresh_explanations()
            self._schedule_preview()

    def groups(self) -> list[str]:
        """The checked groups in their order; the first is the majority under a minority bias."""
        items = (self.groups_list.item(row) for row in range(self.groups_list.count()))
        return [item.data(_VALUE) for item in items if item.checkState() == Qt.CheckState.Checked]

    # ---- edits ------------------------------------------------------------------------------------

    def _on_bias(self) -> None:
        self._write("dataset", bias=self.bias_box.currentData())

    def _on_strength(self, value: int) -> None:
        self._write("dataset", bias_strength=value / 100)

    def _on_attribute(self) -> None:
        if self._showing:
            return
        attribute = self.attribute_box.currentData()
        groups = list(DEFAULT_GROUPS[attribute])
        self._fill_groups(attribute, groups)
        # Each font group fixes its own font, so no font list may be given with font groups.
        fonts = {"fonts": []} if attribute == "font" else {}
        self._write("dataset", sensitive_attribute=attribute, groups=groups, **fonts)

    def _on_classes(self) -> None:
        self._write("dataset", classes=parse_classes(self.classes_edit.text()))

    def _on_value(self, value: float) -> None:
        key = self._keys[self.sender()]
        self._write("dataset", **{key: int(value)})

    def _on_group_item(self, item: QListWidgetItem) -> None:
        if self._relabeling or self._showing:
            return
        if item.checkState() != Qt.CheckState.Checked and len(self.groups()) < 2:
            with self._relabel():
                item.setCheckState(Qt.CheckState.Checked)  # a bias needs two groups: keep this one
            return
        self._groups_changed()

    def _groups_changed(self) -> None:
        if self._relabeling or self._showing:
            return
        self._write("dataset", groups=self.groups())

    def _move_up(self) -> None:
        self._move_current(-1)

    def _move_down(self) -> None:
        self._move_current(+1)

    def _move_first(self) -> None:
        self._move_current(None)

    def _move_current(self, step: int | None) -> None:
        row = self.groups_list.currentRow()
        if row < 0:
            return
        target = 0 if step is None else min(max(row + step, 0), self.groups_list.count() - 1)
        if target == row and step is not None:
            return
        with self._relabel():
            item = self.groups_list.takeItem(row)
            self.groups_list.insertItem(target, item)
            if step is None:
                item.setCheckState(Qt.CheckState.Checked)  # "first" means this group leads the bias
            self.groups_list.setCurrentItem(item)
        self._groups_changed()

    # ---- showing ----------------------------------------------------------------------------------

    @contextmanager
    def _relabel(self) -> Iterator[None]:
        """Item edits made by the panel itself (tags, moves) are not user edits."""
        self._relabeling = True
        try:
            yield
        finally:
            self._relabeling = False

    def _fill_groups(self, attribute: str, chosen: list[str]) -> None:
        values = attribute_values(attribute)
        with self._relabel():
            self.groups_list.clear()
            for value in chosen + [v for v in values if v not in chosen]:
                item = QListWidgetItem(value)
                item.setData(_VALUE, value)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled)
                item.setCheckState(Qt.CheckState.Checked if value in chosen else Qt.CheckState.Unchecked)
                if attribute == "color" and value in COLORS:
                    item.setIcon(_swatch(COLORS[value]))
                self.groups_list.addItem(item)
            self.groups_list.setCurrentRow(0, QItemSelectionModel.SelectionFlag.NoUpdate)
        # As tall as the values (a scroll bar beyond eight), so short lists leave no blank box.
        rows = min(self.groups_list.count(), _VISIBLE_GROUPS)
        self.groups_list.setFixedHeight(self.groups_list.sizeHintForRow(0) * rows + 2 * self.groups_list.frameWidth())

    def _refresh_explanations(self) -> None:
        read = self.config_model.value
        bias, strength = read("dataset", "bias"), read("dataset", "bias_strength")
        classes, groups = read("dataset", "classes"), read("dataset", "groups")
        self.strength_value.setText(f"{strength:.2f}" if round(strength, 2) == strength else f"{strength:g}")
        self._enable(self.strength_slider, BIAS_KINDS[bias].biased)
        self.bias_hint.setText(bias_summary(bias, strength, groups, classes))
        roles = iter(BIAS_KINDS[bias].group_roles(classes, len(groups)))
        with self._relabel():
            for row in range(self.groups_list.count()):
                item = self.groups_list.item(row)
                value = item.data(_VALUE)
                role = next(roles) if item.checkState() == Qt.CheckState.Checked else ""
                item.setText(f"{value}   — {role}" if role else value)
                font = item.font()
                font.setBold(role == "majority")
                item.setFont(font)

    # ---- preview ----------------------------------------------------------------------------------

    def _schedule_preview(self) -> None:
        self._preview_timer.start()  # restarts: only a pause in the edits renders

    def _request_preview(self) -> None:
        model = self.config_model
        if model.error is None:
            dataset = model.config.dataset  # validated with the edit: nothing to check again
        else:
            # The set-up has a problem, maybe outside the dataset, which the preview does not need.
            try:
                dataset = DatasetConfig.model_validate(model.section("dataset"))
            except ValidationError:
                # Fields are checked in order, dataset first: the set-up's problem is the dataset's.
                self.preview_status.setText(f"Preview unchanged: {model.error}")
                return
        self.loader.request(dataset)
        self.preview_status.setText("generating…")

    def _on_preview_ready(self, _request_id: int, image) -> None:
        self.preview.set_source(to_pixmap(image))
        pool = self._read("dataset", "pool_size")
        self.preview_status.setText(f"Each block is one group, sized by its share; the real pool has {pool:,} "
                                    "images with the same shares.")

    def _on_preview_failed(self, _request_id: int, message: str) -> None:
        self.preview_status.setText(f"Preview failed: {message}")

    def closeEvent(self, event) -> None:
        self._preview_timer.stop()
        self.loader.stop()
        super().closeEvent(event)


"""File > New sweep: a grid over the workbench's current set-up. Tick the strategies and the axes with
their values, or type other axes in the --grid syntax (checked as you type, the engine's sentence under
the field); seeds, runs at once and the output folder. Start sweep stays disabled while anything is wrong.
"""

from __future__ import annotations

import datetime
import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...engine import config as configs
from ...engine.paths import experiments_dir
from ...engine.sweep import default_parallel
from ..panels import describe, form_layout, hint_label
from .axis_choices import AxisBox, StrategyBox, offered_axes
from .plan import PlanCheck, SweepPlan, check_plan

MAX_PARALLEL = 256


def default_sweep_folder() -> Path:
    return experiments_dir() / f"{datetime.datetime.now():%Y%m%d-%H%M%S}-sweep"


def _error_label(name: str, accessible: str) -> QLabel:
    label = describe(QLabel(), name, accessible)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, Qt.GlobalColor.darkRed)
    label.setPalette(palette)
    label.setVisible(False)
    return label


class NewSweepDialog(QDialog):
    """Emits `submitted(plan)` on Start sweep; whoever starts the sweep closes the dialog with accept(),
    or shows why it could not start with `show_problem` and leaves it open for a correction."""

    submitted = Signal(object)  # SweepPlan

    def __init__(self, config: configs.ExperimentConfig, parent: QWidget | None = None):
        super().__init__(parent)
        self.config = config
        self.setObjectName("newSweepDialog")
        self.setAccessibleName("New sweep")
        self.setWindowTitle("New sweep from this config")
        self.check = PlanCheck(None)
        self.strategy_box = StrategyBox(config.active.run_strategies())
        self.axis_boxes = [AxisBox(offer) for offer in offered_axes(config)]
        self.other_axes = describe(QLineEdit(), "otherAxesEdit", "Other axes",
                                   "Any config key as KEY=V1,V2, axes separated by ';', as alstudio sweep --grid "
                                   "takes them, e.g. active.query_size=10,20; dataset.seed=1,2")
        self.other_axes.setPlaceholderText("e.g. active.query_size=10,20; dataset.seed=1,2")
        self.other_error = _error_label("otherAxesError", "Problem with the other axes")
        self.seeds_spin = describe(QSpinBox(), "sweepSeedsSpin", "Seeds",
                                   "Repetitions of every cell x strategy, each with its own seed; a 95 % CI needs 3")
        self.seeds_spin.setRange(1, configs.MAX_REPETITIONS)
        self.seeds_spin.setValue(3)
        self.parallel_spin = describe(QSpinBox(), "maxParallelSpin", "Runs at once",
                                      "Runs in parallel on this machine, one process and one CPU core each")
        self.parallel_spin.setRange(1, MAX_PARALLEL)
        self.parallel_spin.setValue(default_parallel(1))
        self.folder_edit = describe(QLineEdit(str(default_sweep_folder())), "sweepFolderEdit", "Output folder",
                                    "A new or empty folder: one experiment folder per cell under cells/, with "
                                    "metrics.csv and summary.json for the whole grid")
        self.choose_button = describe(QPushButton("C&hoose…"), "chooseSweepFolderButton", "Choose output folder",
                                      "Pick an empty folder, or one to create the sweep's folder in")
        self.choose_button.clicked.connect(self._choose_folder)
        self.summary = describe(QLabel(), "sweepPlanSummary", "What the sweep runs")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem = _error_label("sweepPlanProblem", "Problem with the sweep")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        describe(self.ok_button, "startSweepButton", "Start sweep",
                 "Create the sweep folder and run the grid here; the window stays usable and Stop keeps every run")
        self.ok_button.setText("&Start sweep")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        self._build_layout()
        for source in (self.strategy_box, *self.axis_boxes):
            source.changed.connect(self._validate)
        for edit in (self.other_axes, self.folder_edit):
            edit.textChanged.connect(self._validate)
        for spin in (self.seeds_spin, self.parallel_spin):
            spin.valueChanged.connect(self._validate)
        self._validate()

    def _build_layout(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(hint_label("Every combination of the ticked axes is a cell: an experiment on the "
                                    "workbench's current set-up with those values, running every ticked strategy "
                                    "with each seed. The runs go on while you use the workbench."))
        layout.addWidget(self.strategy_box)
        for box in self.axis_boxes:
            layout.addWidget(box)
        form = form_layout()
        other = QVBoxLayout()
        other.setSpacing(2)
        other.addWidget(self.other_axes)
        other.addWidget(self.other_error)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.choose_button)
        for text, buddy, field in (("Other &axes:", self.other_axes, other), ("S&eeds:", self.seeds_spin, None),
                                   ("Runs at &once:", self.parallel_spin, None),
                                   ("Output &folder:", self.folder_edit, folder_row)):
            label = QLabel(text)
            label.setBuddy(buddy)  # Alt+letter focuses the field
            form.addRow(label, field if field is not None else buddy)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(800)

    # ---- checking ----------------------------------------------------------------------------
    def _validate(self) -> None:
        parts = [box.grid_part() for box in self.axis_boxes]
        unticked = next((box.offer for box, part in zip(self.axis_boxes, parts) if part is None), None)
        if unticked is not None:
            check = PlanCheck(None, problem=f"{unticked.title} ({unticked.key}): tick at least one value, or "
                                            "untick the axis")
        else:
            check = check_plan(self.config, self.strategy_box.ticked(), [p for p in parts if p],
                               self.other_axes.text(), self.seeds_spin.value(), self.parallel_spin.value(),
                               self.folder_edit.text())
        self.check = check
        self.other_error.setText(check.other_axes_error or "")
        self.other_error.setVisible(check.other_axes_error is not None)
        self.problem.setText(check.problem or "")
        self.problem.setVisible(check.problem is not None)
        self.ok_button.setEnabled(check.plan is not None)
        if check.plan is not None:
            command = html.escape(f"alstudio sweep CONFIG --grid '{check.plan.grid}' --seeds {check.plan.seeds}")
            self.summary.setText(f"{check.plan.summary()}.<br><small>As a command: {command}</small>")
        self.summary.setVisible(check.plan is not None)

    @property
    def plan(self) -> SweepPlan | None:
        return self.check.plan

    def show_problem(self, sentence: str) -> None:
        """The sweep could not be started: say why, and let the user change something."""
        self.problem.setText(sentence)
        self.problem.setVisible(True)

    # ---- actions -----------------------------------------------------------------------------
    def _submit(self) -> None:
        self._validate()  # the folder may have filled up since the last edit
        if self.plan is not None:
            self.submitted.emit(self.plan)

    def _choose_folder(self) -> None:
        current = Path(self.folder_edit.text().strip() or default_sweep_folder())
        start = current.parent if not current.is_dir() else current
        chosen = QFileDialog.getExistingDirectory(self, "Output folder for the sweep", str(start))
        if not chosen:
            return
        chosen = Path(chosen)
        # An empty folder holds the sweep itself; any other gets a new folder inside, named as suggested.
        try:
            empty = not any(chosen.iterdir())
        except OSError:
            empty = True  # then the check under the field says what is wrong with it
        self.folder_edit.setText(str(chosen if empty else chosen / current.name))

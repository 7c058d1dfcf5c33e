"""Strategies and the active-learning loop: what to compare, how often, and with how many labels."""

from __future__ import annotations

import html

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...engine.config import ActiveConfig, DatasetConfig, ExperimentConfig, TrainingConfig
from ...engine.strategies import STRATEGIES
from . import SetupPanel, describe, field_bounds, float_spin, form_layout, hint_label, int_spin

DEFAULT_GRAD_LAMBDA = 1.0
_NAME = Qt.ItemDataRole.UserRole
_MAX_POOL = int(field_bounds(DatasetConfig, "pool_size")[1])


class StrategiesPanel(SetupPanel):
    """active.* (the strategies compared, their repetitions, budget, MC samples) and training.grad_lambda.

    The experiment runs every checked strategy (active.strategies) with `seeds()` seeds
    (active.repetitions); active.strategy is the first one the user kept (the config's own while it
    stays checked).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__("strategiesPanel", "Strategies", parent)
        self._primary = ""
        self._order: list[str] = []  # the config's own order of its strategies, kept when saved again
        self._listed = False  # whether the config lists active.strategies (or has only active.strategy)
        self._grad_memory = DEFAULT_GRAD_LAMBDA  # the lambda to restore when GRAD is switched back on

        self.strategy_list = describe(QListWidget(), "strategyList", "Strategies",
                                      "Every checked strategy is run once per seed; at least one stays checked")
        for name, strategy in STRATEGIES.items():
            item = QListWidgetItem(strategy.title)
            item.setData(_NAME, name)
            # Rich text so that the description wraps; the name is what a config file says.
            item.setToolTip(f"<p><b>{name}</b>: {html.escape(strategy.description)}</p>")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.strategy_list.addItem(item)
        self.strategy_list.setCurrentRow(0, QItemSelectionModel.SelectionFlag.NoUpdate)
        rows = self.strategy_list.count()
        # Tall enough for every strategy: a scroll bar would hide some of the choices.
        frame = 2 * self.strategy_list.frameWidth()
        self.strategy_list.setFixedHeight(self.strategy_list.sizeHintForRow(0) * rows + frame + 4)
        self.strategy_list.itemChanged.connect(self._on_strategy_item)

        self.seeds_spin = describe(int_spin(ActiveConfig, "repetitions"), "seedsSpin", "Seeds per strategy",
                                   "How many times each checked strategy runs, each with its own seed "
                                   "(curves show the mean with its 95 % confidence band from 3 seeds on, ± std below)")
        self.seeds_spin.valueChanged.connect(self._on_seeds)
        self.runs_label = hint_label(object_name="runsLabel")
        self.runs_label.setWordWrap(False)

        self.grad_check = describe(QCheckBox("Adversarial debiasing (GRAD)"), "gradCheck", "GRAD",
                                   "Trains an adversary to predict the sensitive attribute from the features, "
                                   "behind gradient reversal, so the model learns to ignore the attribute")
        self.grad_check.toggled.connect(self._on_grad)
        self.grad_lambda_spin = describe(float_spin(TrainingConfig, "grad_lambda", decimals=3, step=0.1),
                                         "gradLambdaSpin", "GRAD lambda",
                                         "Weight of the adversary's reversed gradient (0 when GRAD is off)")
        self.grad_lambda_spin.valueChanged.connect(self._on_grad_lambda)

        self.initial_spin = describe(int_spin(ActiveConfig, "initial_labels", maximum=_MAX_POOL - 1),
                                     "initialLabelsSpin", "Initial labels",
                                     "Randomly chosen pool images labeled before the first cycle")
        self.query_spin = describe(int_spin(ActiveConfig, "query_size", maximum=_MAX_POOL - 1), "querySizeSpin",
                                   "Query size", "Images each strategy asks to have labeled per cycle")
        self.cycles_spin = describe(int_spin(ActiveConfig, "cycles"), "cyclesSpin", "Cycles",
                                    "Train, evaluate and query this many times after the initial labels")
        self.budget_label = hint_label(object_name="labelBudget")
        self.budget_label.setWordWrap(False)
        self.budget_label.setToolTip("initial labels + cycles x query size; the pool must hold them all")
        sampled = ", ".join(name for name, s in STRATEGIES.items() if s.needs_mc_samples)
        # Never greyed out: the predictions shown for queried samples and "why this sample" sample the head too.
        self.mc_spin = describe(int_spin(ActiveConfig, "mc_samples"), "mcSamplesSpin", "MC samples",
                                f"<p>Dropout samples of the head per image, read by {sampled}, and by the "
                                "predictions and scores shown for queried samples</p>")
        for spin in (self.initial_spin, self.query_spin, self.cycles_spin, self.mc_spin):
            spin.valueChanged.connect(self._on_value)

        form = form_layout()
        form.addRow("St&rategies:", self.strategy_list)
        _add_row_beside(form, "See&ds:", self.seeds_spin, self.runs_label)
        form.addRow("", self.grad_check)
        form.addRow("GRAD &weight λ:", self.grad_lambda_spin)
        form.addRow("&Initial labels:", self.initial_spin)
        form.addRow("&Query size:", self.query_spin)
        _add_row_beside(form, "C&ycles:", self.cycles_spin, self.budget_label)
        form.addRow("&MC samples:", self.mc_spin)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)

        self.set_config(ExperimentConfig())

    # ---- the panel API ----------------------------------------------------------------------------

    def set_config(self, config: ExperimentConfig) -> None:
        """Shows `config`: exactly the strategies it runs, checked, and its repetitions as seeds."""
        active = config.active
        grad_lambda = config.training.grad_lambda
        with self._showing_config():
            wanted = active.run_strategies()
            for item in self._items():
                item.setCheckState(Qt.CheckState.Checked if item.data(_NAME) in wanted else Qt.CheckState.Unchecked)
            self._primary, self._order, self._listed = active.strategy, wanted, bool(active.strategies)
            self.seeds_spin.setValue(active.repetitions)
            if grad_lambda > 0:
                self._grad_memory = grad_lambda
            self.grad_check.setChecked(grad_lambda > 0)
            self.grad_lambda_spin.setValue(grad_lambda)
            self.grad_lambda_spin.setEnabled(grad_lambda > 0)
            self.initial_spin.setValue(active.initial_labels)
            self.query_spin.setValue(active.query_size)
            self.cycles_spin.setValue(active.cycles)
            self.mc_spin.setValue(active.mc_samples)
        self._refresh_summaries()

    def apply_to(self, data: dict) -> None:
        active = data["active"]
        active["strategy"] = self._primary
        checked = self.strategies()
        # One strategy is written as the config had it: `strategy` alone, or a list of one.
        active["strategies"] = checked if self._listed or checked != [self._primary] else []
        active["repetitions"] = self.seeds()
        active["initial_labels"] = self.initial_spin.value()
        active["query_size"] = self.query_spin.value()
        active["cycles"] = self.cycles_spin.value()
        active["mc_samples"] = self.mc_spin.value()
        data["training"]["grad_lambda"] = self.grad_lambda_spin.value() if self.grad_check.isChecked() else 0.0

    def strategies(self) -> list[str]:
        """The checked strategies' names: in the shown config's order, then newly checked ones in the registry's."""
        checked = [item.data(_NAME) for item in self._items() if item.checkState() == Qt.CheckState.Checked]
        return [name for name in self._order if name in checked] + [n for n in checked if n not in self._order]

    def seeds(self) -> int:
        return self.seeds_spin.value()

    # ---- edits ------------------------------------------------------------------------------------

    def _items(self) -> list[QListWidgetItem]:
        return [self.strategy_list.item(row) for row in range(self.strategy_list.count())]

    def _on_strategy_item(self, item: QListWidgetItem) -> None:
        if self._showing:
            return
        checked = self.strategies()
        if not checked:
            with self._showing_config():
                item.setCheckState(Qt.CheckState.Checked)  # an experiment needs a strategy: keep this one
            return
        if self._primary not in checked:
            self._primary = checked[0]
        self._refresh_summaries()
        self._edited()

    def _on_seeds(self) -> None:
        self._refresh_summaries()
        self._edited()

    def _on_grad(self, on: bool) -> None:
        if self._showing:
            return
        with self._showing_config():  # the lambda follows the switch; that is one edit, not two
            if on:
                self.grad_lambda_spin.setValue(self._grad_memory)
            else:
                if self.grad_lambda_spin.value() > 0:
                    self._grad_memory = self.grad_lambda_spin.value()
                self.grad_lambda_spin.setValue(0.0)
        self.grad_lambda_spin.setEnabled(on)
        self._edited()

    def _on_grad_lambda(self) -> None:
        if not self._showing:
            self._edited()

    def _on_value(self) -> None:
        self._refresh_summaries()
        self._edited()

    def _refresh_summaries(self) -> None:
        n_strategies, n_seeds = len(self.strategies()), self.seeds()
        self.runs_label.setText(
            f"{n_strategies} strateg{'y' if n_strategies == 1 else 'ies'} x {n_seeds} = "
            f"{n_strategies * n_seeds} run{'s' * (n_strategies * n_seeds > 1)}")
        labels = self.initial_spin.value() + self.cycles_spin.value() * self.query_spin.value()
        self.budget_label.setText(f"{labels:,} labels in all")


def _add_row_beside(form: QFormLayout, label: str, field: QWidget, note: QWidget) -> None:
    """A form row with a short note to the right of its field; the label's mnemonic focuses the field."""
    row = QHBoxLayout()
    row.addWidget(field)
    row.addSpacing(6)
    row.addWidget(note, 1)
    form.addRow(label, row)
    form.labelForField(row).setBuddy(field)

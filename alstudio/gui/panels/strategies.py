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

from ...engine.config import ActiveConfig, DatasetConfig, TrainingConfig
from ...engine.strategies import STRATEGIES
from ..config_model import ConfigModel
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

    def __init__(self, config_model: ConfigModel | None = None, parent: QWidget | None = None):
        super().__init__("strategiesPanel", "Strategies", config_model, parent)
        # How the loaded config wrote its strategies (their order; a list, or active.strategy alone), so
        # that writing them again keeps its form. Neither is a config value the user edits.
        self._order: list[str] = []
        self._listed = False
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
        # One slot reads the sender: a lambda per spin box would keep the panel alive through it.
        self._keys = {self.seeds_spin: "repetitions", self.initial_spin: "initial_labels",
                      self.query_spin: "query_size", self.cycles_spin: "cycles", self.mc_spin: "mc_samples"}
        for spin in self._keys:
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

        self._bind()

    # ---- reading the model ------------------------------------------------------------------------

    def _show(self) -> None:
        """Exactly the strategies the config runs, checked, and its repetitions as seeds."""
        wanted = self._run_strategies()
        self._order, self._listed = wanted, bool(self._read("active", "strategies"))
        for item in self._items():
            item.setCheckState(Qt.CheckState.Checked if item.data(_NAME) in wanted else Qt.CheckState.Unchecked)
        self.seeds_spin.setValue(self._read("active", "repetitions"))
        grad_lambda = self._read("training", "grad_lambda")
        if grad_lambda > 0:
            self._grad_memory = grad_lambda
        self.grad_check.setChecked(grad_lambda > 0)
        self.grad_lambda_spin.setValue(grad_lambda)
        self._enable(self.grad_lambda_spin, grad_lambda > 0)
        self.initial_spin.setValue(self._read("active", "initial_labels"))
        self.query_spin.setValue(self._read("active", "query_size"))
        self.cycles_spin.setValue(self._read("active", "cycles"))
        self.mc_spin.setValue(self._read("active", "mc_samples"))

    def _refresh(self, section: str) -> None:
        n_strategies, n_seeds = len(self._run_strategies()), self.seeds()
        self.runs_label.setText(
            f"{n_strategies} strateg{'y' if n_strategies == 1 else 'ies'} x {n_seeds} = "
            f"{n_strategies * n_seeds} run{'s' * (n_strategies * n_seeds > 1)}")
        labels = self._read("active", "initial_labels") + self._read("active", "cycles") * self._read(
            "active", "query_size")
        self.budget_label.setText(f"{labels:,} labels in all")

    def _run_strategies(self) -> list[str]:
        return self._read("active", "strategies") or [self._read("active", "strategy")]

    def strategies(self) -> list[str]:
        """The strategies the set-up runs: in the loaded config's order, then newly checked ones in the registry's."""
        return self._ordered(set(self._run_strategies()))

    def seeds(self) -> int:
        return self._read("active", "repetitions")

    def _ordered(self, names: set[str]) -> list[str]:
        return [n for n in self._order if n in names] + [n for n in STRATEGIES if n in names and n not in self._order]

    # ---- edits ------------------------------------------------------------------------------------

    def _items(self) -> list[QListWidgetItem]:
        return [self.strategy_list.item(row) for row in range(self.strategy_list.count())]

    def _on_strategy_item(self, item: QListWidgetItem) -> None:
        if self._showing:
            return
        checked = self._ordered({i.data(_NAME) for i in self._items() if i.checkState() == Qt.CheckState.Checked})
        if not checked:
            with self._showing_config():
                item.setCheckState(Qt.CheckState.Checked)  # an experiment needs a strategy: keep this one
            return
        primary = self._read("active", "strategy")
        if primary not in checked:
            primary = checked[0]
        # One strategy is written as the config had it: `strategy` alone, or a list of one.
        listed = checked if self._listed or checked != [primary] else []
        self._write("active", strategy=primary, strategies=listed)

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
        self._enable(self.grad_lambda_spin, on)
        self._write("training", grad_lambda=self.grad_lambda_spin.value())

    def _on_grad_lambda(self, value: float) -> None:
        self._write("training", grad_lambda=value if self.grad_check.isChecked() else 0.0)

    def _on_value(self, value: int) -> None:
        self._write("active", **{self._keys[self.sender()]: value})


def _add_row_beside(form: QFormLayout, label: str, field: QWidget, note: QWidget) -> None:
    """A form row with a short note to the right of its field; the label's mnemonic focuses the field."""
    row = QHBoxLayout()
    row.addWidget(field)
    row.addSpacing(6)
    row.addWidget(note, 1)
    form.addRow(label, row)
    form.labelForField(row).setBuddy(field)

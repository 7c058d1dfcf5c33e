"""Annotator: who answers the queries — the ground truth, a seeded noisy simulation, or the user."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ...engine.annotators.llm import check_connection, store_api_key
from ...engine.config import AnnotatorConfig
from ...engine.errors import UserInputError
from ...engine.results import LLMAccounting
from ..config_model import ConfigModel
from . import SetupPanel, describe, float_spin, form_layout, hint_label, int_spin

KINDS = {
    "oracle": ("&Oracle", "Answers with the true class of every queried image."),
    "noisy": ("&Noisy", "A simulated annotator that answers a wrong class at the rates below, seeded per image."),
    "human": ("&Human", "You label each queried image yourself, in the labeling dialog."),
    "llm": ("&LLM", "A vision LLM on an OpenAI-compatible endpoint labels the images; answers it gives "
                    "inconsistently come to you in the labeling dialog, with its votes."),
}
SELECTIONS = {"similar": "most similar (model features)", "random": "at random"}
_INDENT = 24  # explanations and options sit under their radio button's text
NO_RUN = "No run yet."


class AnnotatorPanel(SetupPanel):
    """annotator.*: the kind, and for the noisy annotator its error rate and an optional noisier group."""

    def __init__(self, config_model: ConfigModel | None = None, parent: QWidget | None = None):
        super().__init__("annotatorPanel", "Annotator", config_model, parent)
        self.kind_group = QButtonGroup(self)
        self.radios: dict[str, QRadioButton] = {}
        layout = QVBoxLayout(self)
        for kind, (text, explanation) in KINDS.items():
            radio = describe(QRadioButton(text), f"{kind}Radio", f"{text.replace('&', '')} annotator", explanation)
            self.kind_group.addButton(radio)
            self.radios[kind] = radio
            note = hint_label(explanation, f"{kind}Explanation")
            note.setContentsMargins(_INDENT, 0, 0, 4)
            layout.addWidget(radio)
            layout.addWidget(note)
            if kind == "noisy":
                layout.addWidget(self._noisy_options())
            if kind == "llm":
                layout.addWidget(self._llm_options())
        self.kind_group.buttonToggled.connect(self._on_kind)
        layout.addStretch(1)
        self._bind()

    def _noisy_options(self) -> QWidget:
        self.noisy_options = QWidget(objectName="noisyOptions")
        self.error_rate_spin = describe(float_spin(AnnotatorConfig, "error_rate", decimals=3, step=0.01),
                                        "errorRateSpin", "Error rate",
                                        "Probability of a wrong class for every image (0 to 1)")
        self.error_group_check = describe(QCheckBox("Noisier on one group:"), "errorGroupCheck",
                                          "Noisier on one group",
                                          "Give one group its own error rate, e.g. a minority the annotator "
                                          "knows less well")
        self.error_group_box = describe(QComboBox(), "errorGroupBox", "Noisier group",
                                        "The group with its own error rate")
        self.error_group_rate_spin = describe(
            float_spin(AnnotatorConfig, "error_group_rate", decimals=3, step=0.01), "errorGroupRateSpin",
            "Group error rate", "Probability of a wrong class for images of that group (0 to 1)")
        self.error_rate_spin.valueChanged.connect(self._on_value)
        self.error_group_check.toggled.connect(self._on_error_group)
        self.error_group_box.currentIndexChanged.connect(self._on_error_group)
        self.error_group_rate_spin.valueChanged.connect(self._on_value)

        form = form_layout()
        form.setContentsMargins(_INDENT, 0, 0, 4)
        form.addRow("Error &rate:", self.error_rate_spin)
        form.addRow(self.error_group_check, self.error_group_box)
        form.addRow("Group error r&ate:", self.error_group_rate_spin)
        self.noisy_options.setLayout(form)
        return self.noisy_options

    def _llm_options(self) -> QWidget:
        self.llm_options = QWidget(objectName="llmOptions")
        self.endpoint_edit = describe(QLineEdit(), "endpointEdit", "Endpoint",
                                      "An OpenAI-compatible /v1 URL (Ollama, vLLM, llama.cpp's server); empty: OpenAI")
        self.endpoint_edit.setPlaceholderText("http://127.0.0.1:11434/v1  (empty: OpenAI)")
        self.model_edit = describe(QLineEdit(), "modelEdit", "Model", "A vision-capable model on that endpoint")
        self.key_env_edit = describe(QLineEdit(), "apiKeyEnvEdit", "API key variable",
                                     "The environment variable holding the key; the key itself is never saved")
        self.key_edit = describe(QLineEdit(), "apiKeyEdit", "API key",
                                 "Stored in the OS keyring for this endpoint when you press Store; never in a "
                                 "config, journal, log or export")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("paste a key to store it in the OS keyring")
        self.store_key_button = describe(QPushButton("Store"), "storeKeyButton", "Store the key",
                                         "Save the key in the OS keyring for this endpoint")
        self.store_key_button.clicked.connect(self.store_key)
        self.samples_spin = describe(int_spin(AnnotatorConfig, "samples"), "llmSamplesSpin", "Answers per image",
                                     "How many answers per image the consistency check compares")
        self.few_shot_spin = describe(int_spin(AnnotatorConfig, "few_shot"), "fewShotSpin", "Demonstrations",
                                      "Labeled examples shown in each prompt (0: none), taken only from labels "
                                      "a person or the ground truth gave")
        self.few_shot_spin.setSpecialValueText("none (zero-shot)")
        self.few_shot_box = describe(QComboBox(), "fewShotSelectionBox", "Demonstrations chosen",
                                     "Random labeled examples, or those the current model finds most similar "
                                     "(cosine on its trunk features)")
        for value, text in SELECTIONS.items():
            self.few_shot_box.addItem(text, value)
        self.test_button = describe(QPushButton("Test connection"), "testConnectionButton", "Test connection",
                                    "Ask the endpoint for its models: shows the round-trip time or what is wrong")
        self.connection_label = describe(QLabel(""), "connectionLabel", "Connection test result")
        self.connection_label.setWordWrap(True)
        # textChanged, as the other controls' signals: any change but the panel's own showing is an edit.
        for edit in (self.endpoint_edit, self.model_edit, self.key_env_edit):
            edit.textChanged.connect(self._on_text)
        self.samples_spin.valueChanged.connect(self._on_value)
        self.few_shot_spin.valueChanged.connect(self._on_value)
        self.few_shot_box.currentIndexChanged.connect(self._on_few_shot_selection)
        # One slot reads the sender: a lambda per control would keep the panel alive through it.
        self._keys = {self.error_rate_spin: "error_rate", self.error_group_rate_spin: "error_group_rate",
                      self.samples_spin: "samples", self.few_shot_spin: "few_shot", self.endpoint_edit: "base_url",
                      self.model_edit: "model", self.key_env_edit: "api_key_env"}
        self.test_button.clicked.connect(self.test_connection)
        form = form_layout()
        form.setContentsMargins(_INDENT, 0, 0, 4)
        form.addRow("&Endpoint:", self.endpoint_edit)
        form.addRow("&Model:", self.model_edit)
        form.addRow("&Key variable:", self.key_env_edit)
        form.addRow("API &key:", self.key_edit)
        form.addRow("", self.store_key_button)
        form.addRow("&Answers per image:", self.samples_spin)
        form.addRow("&Demonstrations:", self.few_shot_spin)
        form.addRow("C&hosen:", self.few_shot_box)
        form.addRow(self.test_button, self.connection_label)
        self.accounting_label = describe(QLabel(NO_RUN), "llmAccountingSummary", "LLM accounting",
                                         "What the LLM annotator did in the run on screen, up to its last cycle")
        self.accounting_label.setWordWrap(True)
        form.addRow("This run:", self.accounting_label)
        self.llm_options.setLayout(form)
        self._connection_reply = _ConnectionReply(self)
        self._connection_reply.done.connect(self.connection_label.setText)
        return self.llm_options

    def store_key(self) -> None:
        key = self.key_edit.text().strip()
        if not key:
            self.connection_label.setText("Paste a key first.")
            return
        try:
            store_api_key(self.endpoint_edit.text().strip(), key)
        except UserInputError as err:
            self.connection_label.setText(f"✗ {err}")
            return
        finally:
            self.key_edit.clear()  # the key does not linger in the widget either
        self.connection_label.setText("✓ key stored in the OS keyring for this endpoint")

    def test_connection(self) -> None:
        """Off the GUI thread: a dead endpoint must not freeze the window for the timeout."""
        self.connection_label.setText("Testing…")
        url, key_env = self.endpoint_edit.text().strip(), self.key_env_edit.text().strip()
        reply = self._connection_reply

        def ask():
            try:
                seconds, models = check_connection(url, key_env or "OPENAI_API_KEY")
            except UserInputError as err:
                reply.done.emit(f"✗ {err}")
                return
            shown = ", ".join(models[:5]) + (f" and {len(models) - 5} more" if len(models) > 5 else "")
            reply.done.emit(f"✓ {1000 * seconds:.0f} ms; models: {shown or 'none listed'}")

        threading.Thread(target=ask, daemon=True, name="connection-test").start()

    # ---- reading the model ------------------------------------------------------------------------

    def _show(self) -> None:
        a = self.config_model.section("annotator")
        self.kind_group.setExclusive(False)  # so that a kind without a radio shows none checked
        for kind, radio in self.radios.items():
            radio.setChecked(kind == a["kind"])
        self.kind_group.setExclusive(True)
        self.error_rate_spin.setValue(a["error_rate"])
        self.error_group_rate_spin.setValue(a["error_group_rate"])
        self._fill_groups(self._read("dataset", "groups"), a["error_group"])
        self.error_group_check.setChecked(a["error_group"] is not None)
        self.endpoint_edit.setText(a["base_url"])
        self.model_edit.setText(a["model"])
        self.key_env_edit.setText(a["api_key_env"])
        self.samples_spin.setValue(a["samples"])
        self.few_shot_spin.setValue(a["few_shot"])
        self.few_shot_box.setCurrentIndex(self.few_shot_box.findData(a["few_shot_selection"]))

    def _refresh(self, section: str) -> None:
        groups = self._read("dataset", "groups")
        offered = [self.error_group_box.itemText(i) for i in range(self.error_group_box.count())]
        if section == "dataset" and groups != offered:
            with self._showing_config():  # the dataset's groups changed: offer them, and show the model's choice
                self._fill_groups(groups, self._read("annotator", "error_group"))
        kind, noisier = self.kind(), self._read("annotator", "error_group") is not None
        self.noisy_options.setEnabled(kind == "noisy")
        self.llm_options.setEnabled(kind == "llm")
        self._enable(self.few_shot_box, self._read("annotator", "few_shot") > 0)
        self._enable(self.error_group_box, kind == "noisy" and noisier)
        self._enable(self.error_group_rate_spin, kind == "noisy" and noisier)

    def show_accounting(self, llm: LLMAccounting) -> None:
        """The LLM's figures up to the run's latest cycle."""
        self.accounting_label.setText(
            f"{llm.labels} labels accepted, {llm.flagged} flagged to a person; agreement with the true class "
            f"{llm.agreement_text()}; {llm.requests} requests, {llm.tokens_in:,} tokens in, {llm.tokens_out:,} out, "
            f"${llm.cost_usd:.4f}")

    def clear_accounting(self) -> None:
        self.accounting_label.setText(NO_RUN)

    def kind(self) -> str:
        return self._read("annotator", "kind")

    # ---- edits ------------------------------------------------------------------------------------

    def _fill_groups(self, groups: list[str], chosen: str | None) -> None:
        self.error_group_box.clear()
        self.error_group_box.addItems(groups)
        # By default the last group: usually a minority, the group an annotator would know least.
        self.error_group_box.setCurrentIndex(groups.index(chosen) if chosen in groups else len(groups) - 1)

    def _on_kind(self, button, checked: bool) -> None:
        if checked:
            self._write("annotator", kind=next(kind for kind, radio in self.radios.items() if radio is button))

    def _on_error_group(self) -> None:
        group = self.error_group_box.currentText() if self.error_group_check.isChecked() else None
        self._write("annotator", error_group=group)

    def _on_value(self, value) -> None:
        self._write("annotator", **{self._keys[self.sender()]: value})

    def _on_text(self, text: str) -> None:
        key = self._keys[self.sender()]
        # An emptied model or key variable means the default one (the endpoint's empty means OpenAI).
        default = "" if key == "base_url" else AnnotatorConfig.model_fields[key].default
        self._write("annotator", **{key: text.strip() or default})

    def _on_few_shot_selection(self) -> None:
        self._write("annotator", few_shot_selection=self.few_shot_box.currentData())


class _ConnectionReply(QObject):
    """Carries the connection test's result from its thread to the GUI thread (a queued signal)."""

    done = Signal(str)

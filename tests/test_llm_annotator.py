"""The LLM annotator against a real local OpenAI-compatible server (127.0.0.1), with the real SDK."""

import csv
import logging
import os
from pathlib import Path

import pytest
from engine_helpers import new_journal, tiny_config, tiny_dataset
from openai_stub import (
    Reply,
    StubServer,
    always,
    content_text,
    cycle_labels,
    empty_choices,
    fail_then_succeed,
    garbage,
    hang,
    image_urls,
    wrong_class,
)

from alstudio.cli import main
from alstudio.engine.annotators import SimulatedHumanAnnotator, build_annotator
from alstudio.engine.journal import Journal
from alstudio.engine.loop import Finished, run

FAST_RETRY = {"retry-after-ms": "10"}


def llm_config(server, **annotator):
    values = {"kind": "llm", "base_url": server.base_url, "model": "stub-vision", "samples": 3,
              "temperatures": [0.0, 0.7, 1.0], "request_timeout": 2.0, "deadline": 20.0}
    values.update(annotator)
    return tiny_config(annotator=values, active={"cycles": 1})


def run_once(path, config, seed=7):
    annotator = build_annotator(config, seed, flagged_to=SimulatedHumanAnnotator())
    journal = Journal.open(path) if path.exists() else new_journal(path, config, seed)
    with journal:
        events = list(run(journal, tiny_dataset(config), annotator))
        labels = journal.labels()
        metrics = journal.cycles()[-1]["metrics"]
    annotator.close()
    assert isinstance(events[-1], Finished), events[-1]
    return labels, metrics, annotator


def sources(labels, cycle=1):
    return sorted(source for _, source, c in labels.values() if c == cycle)


def test_unanimous_answers_are_accepted_and_cached_in_the_journal(tmp_path):
    with StubServer(always("a")) as server:
        config = llm_config(server)
        labels, metrics, annotator = run_once(tmp_path / "j.sqlite", config)
        assert sources(labels) == ["llm"] * 4
        assert len(server.requests) == 4 * 3
        request = server.requests[0]
        assert "a, d" in content_text(request)
        assert image_urls(request)[0].startswith("data:image/png;base64,")
        assert sorted({r["temperature"] for r in server.requests}) == [0.0, 0.7, 1.0]
        assert request["response_format"]["json_schema"]["schema"]["properties"]["label"]["enum"] == ["a", "d"]
        stats = metrics["annotator"]
        assert stats["flagged"] == 0 and stats["llm_accepted"] == 4
        assert stats["llm_tokens_in"] == 12 * 85 and stats["llm_cost_usd"] > 0
        # Asking again for the same images (a resumed run) is answered from the journal: no paid call.
        annotator = build_annotator(config, 7, flagged_to=SimulatedHumanAnnotator())
        with Journal.open(tmp_path / "j.sqlite") as journal:
            annotator.attach(journal, tiny_dataset(config))
            from alstudio.engine.annotators import QueryItem

            sample = next(s for s, (_, source, _) in journal.labels().items() if source == "llm")
            annotator.request([QueryItem(sample, 0, 0, 0.0)])
            answers = []
            while not answers:
                answers = annotator.poll()
        assert len(server.requests) == 12 and answers[0].source == "llm"


def by_temperature(request, index):
    """Inconsistent for every image whatever the order of calls: greedy says a, sampling says d."""
    return Reply(contents=['{"label": "a"}' if request["temperature"] == 0.0 else '{"label": "d"}'])


@pytest.mark.parametrize(("scenario", "why"), [
    (by_temperature, "inconsistent answers"),
    (wrong_class("x"), "a class that does not exist"),
    (garbage(), "a body that is not JSON"),
    (empty_choices(), "an empty choices list"),
    (fail_then_succeed(500, 10_000, "a", FAST_RETRY), "a server that always fails"),
])
def test_anything_but_a_unanimous_valid_answer_goes_to_a_human(tmp_path, scenario, why, caplog):
    with StubServer(scenario) as server, caplog.at_level(logging.WARNING, logger="alstudio.llm"):
        labels, metrics, _ = run_once(tmp_path / "j.sqlite", llm_config(server))
    assert sources(labels) == ["human_simulated"] * 4, why
    assert metrics["annotator"]["flagged"] == 4
    pool = tiny_dataset(llm_config(server)).pool
    assert all(label == pool.classes[s] for s, (label, source, _) in labels.items() if source == "human_simulated")
    # One log line per kind of failure, however many requests failed.
    assert len({r.getMessage() for r in caplog.records}) == len(caplog.records) <= 1


def test_transient_errors_and_rate_limits_are_retried(tmp_path):
    with StubServer(fail_then_succeed(500, 2, "d", FAST_RETRY)) as server:
        labels, _, _ = run_once(tmp_path / "a.sqlite", llm_config(server))
    assert sources(labels) == ["llm"] * 4
    with StubServer(fail_then_succeed(429, 1, "d", {"Retry-After": "1"})) as server:
        labels, _, _ = run_once(tmp_path / "b.sqlite", llm_config(server))
    assert sources(labels) == ["llm"] * 4


def test_a_server_that_never_answers_is_flagged_by_the_deadline(tmp_path):
    import time

    with StubServer(hang(30)) as server:
        started = time.monotonic()
        labels, metrics, _ = run_once(tmp_path / "j.sqlite", llm_config(server, request_timeout=0.3, deadline=1.5))
        assert time.monotonic() - started < 20
    assert sources(labels) == ["human_simulated"] * 4


def test_an_endpoint_without_structured_output_gets_tolerant_parsing(tmp_path):
    def no_json_schema(request, index):
        if "response_format" in request:
            return Reply(status=400, body=b'{"error": {"message": "response_format is not supported", '
                                              b'"type": "invalid_request_error"}}')
        return Reply(contents=[" d. "])

    with StubServer(no_json_schema) as server:
        labels, _, _ = run_once(tmp_path / "j.sqlite", llm_config(server))
    assert sources(labels) == ["llm"] * 4


def test_the_cli_run_writes_llm_accounting_and_never_the_key(tmp_path, capsys, monkeypatch):
    secret = "sk-test-" + "s3cr3t" * 4
    monkeypatch.setenv("ALSTUDIO_TEST_KEY", secret)
    with StubServer(cycle_labels(["a", "a", "a", "d", "d", "d", "a", "d", "a"])) as server:
        config = tmp_path / "llm.toml"
        config.write_text(
            "[model]\ninit = \"scratch\"\n"
            "[dataset]\npool_size = 80\ntest_size = 20\nresolution = 16\n[training]\nepochs = 1\nbatch_size = 8\n"
            "[active]\ninitial_labels = 8\nquery_size = 4\ncycles = 1\nmc_samples = 4\n"
            f'[annotator]\nkind = "llm"\nbase_url = "{server.base_url}"\nmodel = "stub-vision"\n'
            'api_key_env = "ALSTUDIO_TEST_KEY"\nrequest_timeout = 2.0\n')
        out = tmp_path / "exp"
        assert main(["run", str(config), "--out", str(out)]) == 2  # needs --human oracle
        assert main(["run", str(config), "--out", str(out), "--human", "oracle"]) == 0
    printed = capsys.readouterr()
    with open(out / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    last = rows[-1]
    for column in ("llm_labels", "human_labels", "flagged", "llm_accuracy", "llm_cost_usd"):
        assert column in last
    assert int(last["llm_labels"]) + int(last["human_labels"]) == 4
    assert int(last["flagged"]) == int(last["human_labels"])
    for path in Path(out).rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in printed.out + printed.err
    assert os.environ["ALSTUDIO_TEST_KEY"] == secret


def test_the_annotator_panel_tests_the_connection_off_the_gui_thread(qtbot):
    from alstudio.gui.panels.annotator import AnnotatorPanel

    panel = AnnotatorPanel()
    qtbot.addWidget(panel)
    with StubServer(always("a")) as server:
        panel.radios["llm"].setChecked(True)
        panel.endpoint_edit.setText(server.base_url)
        panel.test_connection()
        qtbot.waitUntil(lambda: panel.connection_label.text().startswith("✓"), timeout=10_000)
        assert "stub-vision" in panel.connection_label.text()
        annotator = panel.config_model.section("annotator")
        assert annotator["kind"] == "llm" and annotator["base_url"] == server.base_url
    panel.endpoint_edit.setText("http://127.0.0.1:9/v1")  # the discard port: nothing listens there
    panel.test_connection()
    qtbot.waitUntil(lambda: panel.connection_label.text().startswith("✗"), timeout=20_000)
    assert "cannot connect" in panel.connection_label.text()


class MemoryKeyring:
    """An in-memory keyring backend standing in for the OS one."""

    def __init__(self):
        import keyring.backend

        class Backend(keyring.backend.KeyringBackend):
            priority = 1
            secrets: dict = {}

            def set_password(self, service, username, password):
                self.secrets[(service, username)] = password

            def get_password(self, service, username):
                return self.secrets.get((service, username))

            def delete_password(self, service, username):
                self.secrets.pop((service, username), None)

        self.backend = Backend()


def test_the_key_goes_to_the_keyring_and_is_used_from_there(qtbot, tmp_path, monkeypatch):
    import keyring

    from alstudio.engine.annotators.llm import api_key
    from alstudio.gui.panels.annotator import AnnotatorPanel

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring().backend)
    try:
        monkeypatch.delenv("ALSTUDIO_UNSET_KEY", raising=False)
        panel = AnnotatorPanel()
        qtbot.addWidget(panel)
        panel.endpoint_edit.setText("http://127.0.0.1:8000/v1")
        panel.key_edit.setText("sk-keyring-secret")
        panel.store_key()
        assert panel.connection_label.text().startswith("✓") and panel.key_edit.text() == ""
        assert api_key("http://127.0.0.1:8000/v1", "ALSTUDIO_UNSET_KEY") == "sk-keyring-secret"
        assert "sk-keyring-secret" not in repr(panel.config_model.data())
    finally:
        keyring.set_keyring(previous)
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    try:
        panel.key_edit.setText("sk-nowhere")
        panel.store_key()
        assert "no usable OS keyring" in panel.connection_label.text()
    finally:
        keyring.set_keyring(previous)


def test_several_answers_at_one_temperature_come_in_one_request_with_n(tmp_path):
    with StubServer(always("d")) as server:
        labels, _, _ = run_once(tmp_path / "a.sqlite", llm_config(server, temperatures=[0.7]))
        assert sources(labels) == ["llm"] * 4
        assert len(server.requests) == 4 and all(r["n"] == 3 for r in server.requests)

    def ignores_n(request, index):
        return Reply(contents=['{"label": "d"}'])  # one choice, whatever n asked for

    with StubServer(ignores_n) as server:
        labels, _, _ = run_once(tmp_path / "b.sqlite", llm_config(server, temperatures=[0.7]))
        assert sources(labels) == ["llm"] * 4  # three answers each, by separate requests
        assert len(server.requests) == 4 * 3


def test_the_workbench_shows_the_llm_accounting(qtbot):
    from alstudio.gui.main_window import MainWindow

    with StubServer(always("a")) as server:
        window = MainWindow(llm_config(server), workers=1)
        window.show()
        try:
            with qtbot.waitSignal(window.controller.done, timeout=120_000):
                window.start()
            text = window.llm_label.text()
            assert text.startswith("LLM: ") and "flagged to you" in text and "$" in text
            summary = window.annotator_panel.accounting_label.text()
            assert summary.startswith("4 labels accepted, 0 flagged") and "12 requests" in summary, summary
        finally:
            window.controller.stop(wait=True)
            window.close()
            window.deleteLater()


def test_a_refused_connection_flags_every_image_and_the_run_completes(tmp_path, caplog):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tiny_config(annotator={"kind": "llm", "base_url": f"http://127.0.0.1:{port}/v1", "model": "stub-vision",
                                    "samples": 1, "temperatures": [0.0], "request_timeout": 1.0, "deadline": 20.0},
                         active={"cycles": 1})
    with caplog.at_level(logging.WARNING, logger="alstudio.llm"):
        labels, metrics, _ = run_once(tmp_path / "j.sqlite", config)
    assert sources(labels) == ["human_simulated"] * 4
    assert metrics["annotator"]["flagged"] == 4
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == ["LLM annotator: connection failed"]

"""Few-shot demonstrations, counters that survive a resume, and flagged samples deferred to a later session."""

import hashlib
import sqlite3

import numpy as np
from engine_helpers import new_journal, tiny_config, tiny_dataset
from openai_stub import Reply, StubServer, always, image_urls

from alstudio.cli import main
from alstudio.engine.annotators import QueryItem, SimulatedHumanAnnotator, build_annotator
from alstudio.engine.annotators.llm import image_data_url
from alstudio.engine.journal import Journal
from alstudio.engine.loop import AwaitingLabels, Finished, run


def llm_config(server, active=None, **annotator):
    values = {"kind": "llm", "base_url": server.base_url, "model": "stub-vision", "samples": 3,
              "temperatures": [0.0, 0.7, 1.0], "request_timeout": 2.0, "deadline": 20.0}
    values.update(annotator)
    return tiny_config(annotator=values, active=active or {"cycles": 1})


def url_to_sample(dataset):
    return {image_data_url(image): s for s, image in enumerate(dataset.pool.images)}


def every_image_url(request):
    return [part["image_url"]["url"] for m in request["messages"] if m["role"] == "user"
            for part in m["content"] if part.get("type") == "image_url"]


def demonstrations(request, samples_by_url):
    """(sample, label) of each demonstration in a chat request, in order."""
    shown = [samples_by_url[url] for url in every_image_url(request)][:-1]  # the last image is the question
    answers = [m["content"] for m in request["messages"] if m["role"] == "assistant"]
    return [(s, a) for s, a in zip(shown, answers, strict=True)]


def by_image(request, index):
    """A per-image outcome, whatever the order of calls: a third of the images get inconsistent answers."""
    question = image_urls(request)[-1]
    kind = int(hashlib.sha256(question.encode()).hexdigest(), 16) % 3
    if kind == 0:
        label = "a" if request["temperature"] == 0.0 else "d"
    else:
        label = "a" if kind == 1 else "d"
    n = request.get("n") or 1
    return Reply(contents=[f'{{"label": "{label}"}}'] * n)


def run_to_end(journal_path, config, seed=7, fallback=None):
    annotator = build_annotator(config, seed, flagged_to=fallback or SimulatedHumanAnnotator())
    journal = Journal.open(journal_path) if journal_path.exists() else new_journal(journal_path, config, seed)
    with journal:
        events = list(run(journal, tiny_dataset(config), annotator))
        labels = journal.labels()
        cycles = journal.cycles()
    annotator.close()
    return events, labels, cycles


def test_random_demonstrations_come_from_labels_a_person_gave(tmp_path):
    with StubServer(always("a")) as server:
        config = llm_config(server, active={"cycles": 2}, few_shot=3, few_shot_selection="random")
        events, labels, _ = run_to_end(tmp_path / "j.sqlite", config)
    assert isinstance(events[-1], Finished)
    dataset = tiny_dataset(config)
    samples_by_url = url_to_sample(dataset)
    names = config.dataset.classes
    for request in server.requests:
        shots = demonstrations(request, samples_by_url)
        assert len(shots) == 3
        for sample, answer in shots:
            label, source, _ = labels[sample]
            assert source == "initial", "an LLM answer was used as a demonstration"
            assert answer == f'{{"label": "{names[label]}"}}'
    # Different questions get different random demonstrations.
    assert len({tuple(demonstrations(r, samples_by_url)) for r in server.requests}) > 1


def test_similar_demonstrations_are_the_nearest_by_trunk_features(tmp_path):
    config = tiny_config(annotator={"kind": "llm", "few_shot": 2, "few_shot_selection": "similar"})
    dataset = tiny_dataset(config)
    features = np.zeros((len(dataset.pool), 2))
    features[:, 0] = 1.0
    question, nearest, second, excluded = 5, 40, 41, 42
    features[question] = [0.0, 1.0]
    features[nearest] = [0.1, 1.0]
    features[second] = [0.5, 1.0]
    features[excluded] = [0.0, 1.0]  # identical, but labeled by the LLM itself
    labeled = {s: (int(dataset.pool.classes[s]), "initial") for s in (10, 11, 12, nearest, second)}
    labeled[excluded] = (0, "llm")
    with StubServer(always("a")) as server:
        config = tiny_config(annotator={"kind": "llm", "base_url": server.base_url, "model": "stub-vision",
                                        "few_shot": 2, "few_shot_selection": "similar", "request_timeout": 2.0})
        annotator = build_annotator(config, 7, flagged_to=SimulatedHumanAnnotator())
        with new_journal(tmp_path / "j.sqlite", config) as journal:
            annotator.attach(journal, dataset)
            annotator.use_context(labeled, lambda indices: features[indices])
            annotator.request([QueryItem(question, 0, 0, 0.0)])
            while not annotator.poll():
                pass
        annotator.close()
    shots = demonstrations(server.requests[0], url_to_sample(dataset))
    assert [s for s, _ in shots] == [nearest, second]


def test_a_resumed_run_repeats_its_prompts_from_the_cache_and_goes_on_counting(tmp_path):
    with StubServer(by_image) as server:
        config = llm_config(server, active={"cycles": 2}, few_shot=2, few_shot_selection="similar")
        _, labels, cycles = run_to_end(tmp_path / "whole.sqlite", config)
        calls = len(server.requests)
        whole = cycles[-1]["metrics"]["annotator"]
        assert whole["flagged"] > 0 and whole["llm_accepted"] > 0
        assert whole["flagged"] + whole["llm_accepted"] == 8
        # The same run, crashed while its last batch was being annotated: the batch's labels and the
        # last cycle are gone, the answers and counters already journalled are not.
        path = tmp_path / "crashed.sqlite"
        with Journal.open(tmp_path / "whole.sqlite") as journal:
            assert len(journal.get_state("llm_accounting")["decided"]) <= 4  # a batch, not the whole run
            journal._db.execute("VACUUM INTO ?", (str(path),))
        with sqlite3.connect(path) as db:
            db.execute("DELETE FROM labels WHERE cycle = 2")
            db.execute("DELETE FROM cycles WHERE cycle = 2")
            db.execute("UPDATE meta SET value = 'stopped' WHERE key = 'status'")
        events, resumed_labels, resumed_cycles = run_to_end(path, config)
    assert isinstance(events[-1], Finished)
    assert len(server.requests) == calls, "the resumed run paid again for answers it had"
    assert resumed_labels.keys() == labels.keys()
    assert {s: v[:2] for s, v in resumed_labels.items()} == {s: v[:2] for s, v in labels.items()}
    resumed = resumed_cycles[-1]["metrics"]["annotator"]
    for key in ("llm_requests", "llm_tokens_in", "llm_accepted", "flagged", "llm_cost_usd"):
        assert resumed[key] == whole[key], key


def test_deferred_samples_wait_in_the_journal_and_the_run_waits_for_them(tmp_path, capsys):
    from alstudio.engine.annotators import DeferredHumanAnnotator

    with StubServer(by_image) as server:
        config = llm_config(server, active={"cycles": 2})
        events, labels, cycles = run_to_end(tmp_path / "j.sqlite", config, fallback=DeferredHumanAnnotator())
    waiting = events[-1]
    assert isinstance(waiting, AwaitingLabels) and waiting.cycle == 0 and waiting.samples
    with Journal.open(tmp_path / "j.sqlite") as journal:
        assert journal.status == "waiting"
        queried = set(journal.query(0))
    assert not set(waiting.samples) & labels.keys()
    llm_labeled = {s for s, (_, source, _) in labels.items() if source == "llm"}
    assert llm_labeled | set(waiting.samples) == queried
    assert [c["cycle"] for c in cycles] == [0]  # no training on a half-labeled batch


def write_llm_config(path, server):
    path.write_text(
        "[model]\ninit = \"scratch\"\n"
        "[dataset]\npool_size = 80\ntest_size = 20\nresolution = 16\nbias = \"correlation\"\n"
        "[training]\nepochs = 1\nbatch_size = 8\n"
        "[active]\ninitial_labels = 8\nquery_size = 4\ncycles = 1\nmc_samples = 4\n"
        f'[annotator]\nkind = "llm"\nbase_url = "{server.base_url}"\nmodel = "stub-vision"\nrequest_timeout = 2.0\n')
    return path


def test_deferred_cli_runs_are_finished_by_a_person_in_the_workbench(tmp_path, capsys, qtbot, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    from alstudio.gui.main_window import MainWindow

    for name in ("warning", "question", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, lambda *a, **k: (_ for _ in ()).throw(AssertionError(a[1:3])))
    out = tmp_path / "exp"
    with StubServer(by_image) as server:
        config = write_llm_config(tmp_path / "llm.toml", server)
        assert main(["run", str(config), "--out", str(out), "--human", "defer"]) == 0
        printed = capsys.readouterr().out
        assert "wait for your labels" in printed and str(out) in printed
        calls = len(server.requests)
        # A headless resume cannot label them either: the run keeps waiting, without paying again.
        assert main(["resume", str(out)]) == 0
        assert len(server.requests) == calls
        journal_path = next(out.glob("runs/*/journal.sqlite"))
        with Journal.open(journal_path) as journal:
            assert journal.status == "waiting"
            deferred = journal.events("awaiting labels")[-1]["payload"]["samples"]

        window = MainWindow(tiny_config(), workers=1)
        window.show()
        try:
            window.open_experiment(out)
            assert f"{len(deferred)} sample(s) the LLM was unsure of" in window.statusBar().currentMessage()
            window.start()
            qtbot.waitUntil(lambda: window.labeling_dialog is not None, timeout=60_000)
            dialog = window.labeling_dialog
            assert sorted(tile.sample for tile in dialog.tiles) == sorted(deferred)
            assert all(tile.votes.isVisibleTo(dialog) and "LLM:" in tile.votes.text() for tile in dialog.tiles)
            with qtbot.waitSignal(window.controller.done, timeout=120_000):
                for _ in deferred:
                    qtbot.keyClick(dialog, Qt.Key.Key_A)
                qtbot.keyClick(dialog, Qt.Key.Key_Return)
        finally:
            window.controller.stop(wait=True)
            window.close()
            window.deleteLater()
        assert len(server.requests) == calls, "the workbench asked the LLM again for answers it had"
    with Journal.open(journal_path) as journal:
        assert journal.status == "finished"
        labels = journal.labels()
    assert {s: labels[s][:2] for s in deferred} == {s: (0, "human") for s in deferred}


def test_a_person_is_asked_once_per_batch_for_everything_the_llm_flagged(tmp_path):
    from alstudio.engine.annotators import HumanAnnotator
    from alstudio.engine.loop import NeedLabels

    human = HumanAnnotator()
    with StubServer(by_image) as server:
        config = llm_config(server, active={"cycles": 2}, max_concurrency=1)  # answers trickle in one by one
        annotator = build_annotator(config, 7, flagged_to=human)
        asked = []
        with new_journal(tmp_path / "j.sqlite", config) as journal:
            pool = tiny_dataset(config).pool
            for event in run(journal, tiny_dataset(config), annotator):
                if isinstance(event, NeedLabels):
                    asked.append((event.cycle, sorted(item.sample for item in event.items)))
                    assert all(len(event.votes[item.sample]) == 3 for item in event.items)
                    for item in event.items:
                        human.submit(item.sample, int(pool.classes[item.sample]))
                    human.close_batch()
            flagged = {c: sorted(s for s, (_, source, cycle) in journal.labels().items()
                                 if source == "human" and cycle == c + 1) for c in (0, 1)}
        annotator.close()
    assert isinstance(event, Finished)
    assert asked == [(c, flagged[c]) for c in (0, 1) if flagged[c]]
    assert asked

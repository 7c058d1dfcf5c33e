import math
import time

import numpy as np
import pytest
from engine_helpers import new_journal, tiny_config, tiny_dataset

from alstudio.engine.annotators import HumanAnnotator, NoisyAnnotator, OracleAnnotator, QueryItem
from alstudio.engine.journal import Journal
from alstudio.engine.loop import CycleResult, Failed, Finished, NeedLabels, Progress, RunControl, run
from alstudio.engine.strategies import STRATEGIES, heuristics


def drive(journal, config, annotator=None, stop_after=None):
    """Iterate a run; `stop_after(event)` returning True abandons it there, like a crash would."""
    events = []
    generator = run(journal, tiny_dataset(config), annotator or OracleAnnotator())
    for event in generator:
        events.append(event)
        if stop_after is not None and stop_after(event):
            generator.close()
            break
    return events


def metrics_by_cycle(journal):
    return {c["cycle"]: (c["n_labeled"], c["metrics"]["accuracy"], c["metrics"]["ppv_gap"]) for c in journal.cycles()}


def same(a, b):
    return all((x == y) or (isinstance(x, float) and math.isnan(x) and math.isnan(y)) for x, y in zip(a, b))


def test_a_run_trains_evaluates_queries_and_journals_every_label(tmp_path):
    config = tiny_config()
    with new_journal(tmp_path / "j.sqlite", config) as journal:
        events = drive(journal, config)
        assert isinstance(events[-1], Finished) and journal.status == "finished"
        results = [e for e in events if isinstance(e, CycleResult)]
        assert [r.cycle for r in results] == [0, 1, 2]
        assert [r.n_labeled for r in results] == [8, 12, 16]
        assert results[-1].queried_ids is None
        stages = {e.stage for e in events if isinstance(e, Progress)}
        assert {"training", "evaluating", "scoring"} <= stages
        labels = journal.labels()
        assert len(labels) == 16
        assert sorted(source for _, source, _ in labels.values()) == ["initial"] * 8 + ["oracle"] * 8
        for result in results[:-1]:
            assert journal.query(result.cycle) == result.queried_ids.tolist()
            assert len(set(result.queried_ids)) == 4
        pool = tiny_dataset(config).pool
        assert all(label == pool.classes[s] for s, (label, _, _) in labels.items())
        metrics = results[-1].metrics
        assert 0.0 <= metrics["accuracy"] <= 1.0
        assert np.sum(metrics["labeled_count"]) == 16
        assert metrics["labels_by_source"]["oracle"] == 8


@pytest.mark.parametrize("reset", [True, False])
@pytest.mark.parametrize("crash_point", ["after cycle 0 result", "during cycle 1 training", "after cycle 1 result"])
def test_resume_repeats_exactly_what_an_uninterrupted_run_does(tmp_path, reset, crash_point):
    config = tiny_config(training={"reset_each_cycle": reset})
    with new_journal(tmp_path / "a" / "j.sqlite", config) as journal:
        drive(journal, config)
        expected = metrics_by_cycle(journal)
        expected_labels = journal.labels()
        expected_queries = [journal.query(c) for c in range(config.active.cycles)]

    def crash(event):
        if crash_point == "after cycle 0 result":
            return isinstance(event, CycleResult) and event.cycle == 0
        if crash_point == "during cycle 1 training":
            return isinstance(event, Progress) and event.stage == "training" and event.cycle == 1
        return isinstance(event, CycleResult) and event.cycle == 1

    path = tmp_path / "b" / "j.sqlite"
    with new_journal(path, config) as journal:
        drive(journal, config, stop_after=crash)
        assert journal.status == "stopped"
    with Journal.open(path) as journal:
        events = drive(journal, config)
        assert isinstance(events[-1], Finished)
        resumed = metrics_by_cycle(journal)
        assert {s: v[:2] for s, v in journal.labels().items()} == {s: v[:2] for s, v in expected_labels.items()}
        assert [journal.query(c) for c in range(config.active.cycles)] == expected_queries
    assert resumed.keys() == expected.keys()
    for cycle in expected:
        assert same(resumed[cycle], expected[cycle]), (cycle, resumed[cycle], expected[cycle])


def test_stop_is_cooperative_and_leaves_a_resumable_journal(tmp_path):
    config = tiny_config()
    control = RunControl()
    with new_journal(tmp_path / "j.sqlite", config) as journal:
        for event in run(journal, tiny_dataset(config), OracleAnnotator(), control):
            if isinstance(event, CycleResult):
                control.stop()
        assert journal.status == "stopped"
        assert journal.last_cycle() == 0


def test_an_error_becomes_a_failed_event_with_the_traceback(tmp_path, monkeypatch):
    from alstudio.engine.strategies import Bald

    def broken(self, ctx):
        raise RuntimeError("scoring exploded")

    monkeypatch.setattr(Bald, "scores", broken)
    config = tiny_config()
    with new_journal(tmp_path / "j.sqlite", config) as journal:
        events = drive(journal, config)
        assert isinstance(events[-1], Failed)
        assert events[-1].message == "scoring exploded" and "Traceback" in events[-1].traceback
        assert journal.status == "failed"
        assert journal.last_cycle() is None or journal.query(journal.last_cycle()) is None


def test_human_answers_are_journalled_one_by_one_and_resume_asks_only_the_rest(tmp_path):
    config = tiny_config(annotator={"kind": "human"})
    path = tmp_path / "j.sqlite"
    human = HumanAnnotator()
    asked = []
    with new_journal(path, config) as journal:
        generator = run(journal, tiny_dataset(config), human)
        for event in generator:
            if isinstance(event, NeedLabels):
                asked = list(event.items)
                for item in asked[:2]:
                    human.submit(item.sample, item.true_label)
            if isinstance(event, Progress) and event.stage == "waiting for labels" and event.done == 2:
                generator.close()  # the app is killed mid-dialog
                break
        assert len(asked) == 4
        answered = {item.sample for item in asked[:2]}
        labels = journal.labels()
        assert answered <= set(labels) and all(labels[s][1] == "human" for s in answered)
    human = HumanAnnotator()
    with Journal.open(path) as journal:
        generator = run(journal, tiny_dataset(config), human)
        for event in generator:
            if isinstance(event, NeedLabels):
                assert {item.sample for item in event.items} == {item.sample for item in asked[2:]}
                generator.close()
                break


def test_undo_takes_an_answer_back_until_the_batch_is_submitted(tmp_path):
    config = tiny_config(annotator={"kind": "human"}, active={"cycles": 1})
    human = HumanAnnotator()
    with new_journal(tmp_path / "j.sqlite", config) as journal:
        generator = run(journal, tiny_dataset(config), human)
        phase = "answer"
        for event in generator:
            if isinstance(event, NeedLabels):
                items = list(event.items)
                for item in items:
                    human.submit(item.sample, item.true_label)
            elif isinstance(event, Progress) and event.stage == "waiting for labels":
                if phase == "answer" and event.done == 4:
                    # All answered but not submitted: the run waits; undo the last answer.
                    assert items[-1].sample in journal.labels()
                    human.retract(items[-1].sample)
                    phase = "undone"
                elif phase == "undone" and event.done == 3:
                    assert items[-1].sample not in journal.labels()
                    human.submit(items[-1].sample, 1 - items[-1].true_label)  # a different answer
                    human.close_batch()
                    phase = "submitted"
        assert journal.status == "finished" and phase == "submitted"
        assert journal.labels()[items[-1].sample][0] == 1 - items[-1].true_label


def test_noisy_annotator_is_seeded_per_sample_and_can_target_a_group():
    annotator = NoisyAnnotator(n_classes=3, seed=1, error_rate=0.2, error_group=1, error_group_rate=0.6)
    items = [QueryItem(sample=i, true_label=i % 3, group=i % 2, score=0.0) for i in range(4000)]
    annotator.request(items)
    first = {a.sample: a.label for a in annotator.poll()}
    annotator.request(list(reversed(items)))
    assert {a.sample: a.label for a in annotator.poll()} == first
    wrong = np.array([first[i.sample] != i.true_label for i in items])
    groups = np.array([i.group for i in items])
    assert abs(wrong[groups == 0].mean() - 0.2) < 0.03
    assert abs(wrong[groups == 1].mean() - 0.6) < 0.03
    assert all(0 <= label < 3 for label in first.values())


def test_pause_holds_the_run_between_batches_until_resumed(tmp_path):
    import queue
    import threading

    config = tiny_config()
    control = RunControl()
    events: queue.Queue = queue.Queue()
    journal_path = tmp_path / "j.sqlite"
    new_journal(journal_path, config).close()

    def worker():
        with Journal.open(journal_path) as journal:
            for event in run(journal, tiny_dataset(config), OracleAnnotator(), control):
                events.put(event)
                if isinstance(event, CycleResult) and event.cycle == 0:
                    control.pause()

    thread = threading.Thread(target=worker)
    thread.start()
    seen = []
    while not (seen and isinstance(seen[-1], CycleResult)):
        seen.append(events.get(timeout=60))
    # Paused: whatever was already under way may finish, then nothing more happens.
    time.sleep(1.0)
    while not events.empty():
        seen.append(events.get())
    held = len(seen)
    time.sleep(0.5)
    assert events.empty() and control.paused and thread.is_alive()
    control.resume()
    thread.join(timeout=60)
    while not events.empty():
        seen.append(events.get())
    assert len(seen) > held and isinstance(seen[-1], Finished)


def test_each_queried_sample_carries_its_score_under_the_experiments_explaining_strategies(tmp_path):
    config = tiny_config(active={"strategies": ["random", "bald", "coreset"]})
    with new_journal(tmp_path / "j.sqlite", config) as journal:
        first = next(e for e in drive(journal, config) if isinstance(e, CycleResult))
    assert set(first.score_table) == {"bald", "coreset"}  # random's score is a random key: it explains nothing
    for values in first.score_table.values():
        assert values.shape == (4,) and np.all(np.isfinite(values))
    # The run's own strategy is bald: its column is the score it ranked by.
    assert np.array_equal(first.score_table["bald"], first.scores)


def test_the_caller_may_name_the_strategies_explained(tmp_path):
    config = tiny_config()
    with new_journal(tmp_path / "j.sqlite", config) as journal:
        events = run(journal, tiny_dataset(config), OracleAnnotator(), explain=list(STRATEGIES))
        first = next(e for e in events if isinstance(e, CycleResult))
        events.close()
    assert set(first.score_table) == {"entropy", "least_confidence", "margin", "bald", "coreset"}
    for values in first.score_table.values():
        assert values.shape == (4,) and np.all(np.isfinite(values))


class CountingMC:
    """Wraps the MC sampling the scoring context calls: how many candidates each call sampled, and what it gave."""

    def __init__(self, monkeypatch):
        from alstudio.engine.strategies import context

        self.calls, self.sample = [], context.mc_probabilities
        monkeypatch.setattr(context, "mc_probabilities", self)

    def __call__(self, model, features, samples, seed):
        out = self.sample(model, features, samples, seed)
        self.calls.append(out)
        return out


def candidates_at(journal, cycle, pool_size):
    """The unlabeled pool when cycle's query was made (no pool subset): sorted pool indices."""
    labeled = [s for s, (_, _, labeled_in) in journal.labels().items() if labeled_in <= cycle]
    return np.setdiff1d(np.arange(pool_size), labeled)


def test_a_random_run_samples_the_head_for_its_batch_only(tmp_path, monkeypatch):
    # Explaining a random pick with bald's score must not make the random run pay for BALD on the pool.
    from alstudio.engine.strategies import context

    counting, trunk_passes = CountingMC(monkeypatch), []
    features = context.predict_features
    monkeypatch.setattr(context, "predict_features", lambda model, images: (
        trunk_passes.append(len(images)), features(model, images))[1])
    config = tiny_config(active={"strategy": "random", "strategies": ["random", "bald"]})
    with new_journal(tmp_path / "j.sqlite", config) as journal:
        results = [e for e in drive(journal, config) if isinstance(e, CycleResult)]
    queried = [r for r in results if r.queried_ids is not None]
    assert trunk_passes == [4] * config.active.cycles  # the batch's images through the trunk, never the pool's
    assert len(counting.calls) == len(queried) == config.active.cycles  # one call per query: bald's column
    for call, result in zip(counting.calls, queried):
        assert call.shape[0] == 4 and call.shape[2] == config.active.mc_samples  # the batch, not the pool
        assert np.allclose(result.score_table["bald"], heuristics.bald(call))
        assert np.allclose(result.queried_probs, call.mean(axis=2))  # the same draw, not a second one


def test_the_batchs_predictions_come_from_the_querys_mc_samples(tmp_path, monkeypatch):
    counting = CountingMC(monkeypatch)
    config = tiny_config()  # bald
    with new_journal(tmp_path / "j.sqlite", config) as journal:
        results = [e for e in drive(journal, config) if isinstance(e, CycleResult) and e.queried_ids is not None]
        assert len(counting.calls) == len(results) == config.active.cycles  # the pool's, once per query
        for call, result in zip(counting.calls, results):
            candidates = candidates_at(journal, result.cycle, config.dataset.pool_size)
            assert call.shape[0] == len(candidates)
            positions = np.searchsorted(candidates, result.queried_ids)
            assert np.array_equal(result.queried_probs, call[positions].mean(axis=2))
            assert np.array_equal(result.score_table["bald"], heuristics.bald(call)[positions])


def test_headless_runs_skip_the_explanations_and_choose_the_same(tmp_path):
    config = tiny_config()
    results = {}
    for explain in (True, False):
        with new_journal(tmp_path / str(explain) / "j.sqlite", config) as journal:
            events = list(run(journal, tiny_dataset(config), OracleAnnotator(), explain=explain))
            results[explain] = [e for e in events if isinstance(e, CycleResult)]
    assert results[True][0].score_table and not results[False][0].score_table
    for shown, headless in zip(results[True], results[False]):
        assert (shown.queried_ids is None and headless.queried_ids is None) or \
            shown.queried_ids.tolist() == headless.queried_ids.tolist()
        assert shown.metrics["accuracy"] == headless.metrics["accuracy"]


def test_a_run_resumed_on_other_images_is_refused_in_one_sentence(tmp_path):
    import dataclasses

    from alstudio.engine.loop import Failed

    config = tiny_config()
    dataset = tiny_dataset(config)
    with new_journal(tmp_path / "j.sqlite", config) as journal:
        drive(journal, config, stop_after=lambda event: isinstance(event, CycleResult))
        assert journal.fingerprint["dataset"]["sha256"] == dataset.content_hash()
        # The same config rendered differently (say, another font set by default): not the run's dataset.
        images = dataset.pool.images.copy()
        images[0] = 255 - images[0]
        other = dataclasses.replace(dataset, pool=dataclasses.replace(dataset.pool, images=images))
        events = list(run(journal, other, OracleAnnotator()))
        assert isinstance(events[-1], Failed) and "ran with the dataset" in events[-1].message
        assert events[-1].traceback == ""  # a sentence for the user, not a bug
        assert journal.status == "stopped" and len(journal.cycles()) == 1  # nothing of it was touched

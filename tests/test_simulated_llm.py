"""The simulated LLM annotator and its consistency check: no training, no dataset, instant."""

from __future__ import annotations

from alstudio.engine.annotators.base import QueryItem
from alstudio.engine.annotators.simulated import SimulatedLLMAnnotator


def items(n: int, n_classes: int = 2) -> list[QueryItem]:
    return [QueryItem(sample=s, true_label=s % n_classes, group=0, score=0.0) for s in range(n)]


def answers(annotator: SimulatedLLMAnnotator, batch: list[QueryItem]) -> dict[int, tuple[int, str]]:
    annotator.request(batch)
    got = {a.sample: (a.label, a.source) for a in annotator.poll()}
    assert annotator.poll() == []  # poll hands each answer over once
    return got


def test_deterministic_per_seed_and_sample_whatever_the_order():
    batch = items(200, n_classes=4)
    first = answers(SimulatedLLMAnnotator(4, seed=3, accuracy=0.6), batch)
    again = answers(SimulatedLLMAnnotator(4, seed=3, accuracy=0.6), list(reversed(batch)))
    one_by_one = SimulatedLLMAnnotator(4, seed=3, accuracy=0.6)
    split = {}
    for item in batch[::-1]:
        split.update(answers(one_by_one, [item]))
    assert first == again == split
    other_seed = answers(SimulatedLLMAnnotator(4, seed=4, accuracy=0.6), batch)
    assert other_seed != first


def test_perfect_llm_is_never_flagged_and_always_right():
    batch = items(100, n_classes=3)
    annotator = SimulatedLLMAnnotator(3, seed=1, accuracy=1.0)
    got = answers(annotator, batch)
    assert got == {item.sample: (item.true_label, "llm") for item in batch}
    stats = annotator.stats()
    assert stats["llm_accepted"] == 100 and stats["flagged"] == 0 and stats["llm_accuracy"] == 1.0


def test_always_wrong_llm_with_two_classes_passes_the_check_wrongly():
    """The failure mode of consistency checks: an LLM that is consistently wrong agrees with itself.

    With two classes every wrong vote is the same (the other) class, so three wrong votes are
    unanimous and every answer is accepted as "llm", all of them wrong, none shown to a person.
    """
    batch = items(100, n_classes=2)
    annotator = SimulatedLLMAnnotator(2, seed=1, accuracy=0.0)
    got = answers(annotator, batch)
    assert got == {item.sample: (1 - item.true_label, "llm") for item in batch}
    stats = annotator.stats()
    assert stats["llm_accepted"] == 100 and stats["flagged"] == 0 and stats["llm_accuracy"] == 0.0


def test_coin_flip_llm_is_flagged_often_and_the_fallback_gives_the_truth():
    batch = items(400, n_classes=2)
    truth = {item.sample: item.true_label for item in batch}
    annotator = SimulatedLLMAnnotator(2, seed=5, accuracy=0.5, samples=3)
    got = answers(annotator, batch)
    assert set(got) == set(truth)  # every sample answered once, by the LLM or the fallback
    flagged = {s for s, (_, source) in got.items() if source == "human_simulated"}
    accepted = {s for s, (_, source) in got.items() if source == "llm"}
    assert flagged | accepted == set(truth)
    # Three fair votes over two classes disagree with probability 1 - 2 * 0.5**3 = 0.75.
    assert 0.6 < len(flagged) / len(batch) < 0.9
    assert all(got[s][0] == truth[s] for s in flagged)
    stats = annotator.stats()
    assert stats["flagged"] == len(flagged) and stats["llm_accepted"] == len(accepted)
    right = sum(got[s][0] == truth[s] for s in accepted)
    assert stats["llm_accuracy"] == right / len(accepted)
    assert 0.3 < stats["llm_accuracy"] < 0.7  # unanimity does not make coin flips right

import itertools
import math

import numpy as np
import pytest

from alstudio.engine.strategies import heuristics as h

LN2 = math.log(2)


# ------------------------------------------------------------------ single-point scores


def test_entropy_matches_hand_computation():
    probs = np.array([[0.5, 0.5], [1.0, 0.0], [0.7, 0.3]])
    expected = [
        LN2,
        0.0,  # a one-hot row: the 0 log 0 term must be 0, not NaN
        -(0.7 * math.log(0.7) + 0.3 * math.log(0.3)),
    ]
    np.testing.assert_allclose(h.entropy(probs), expected, rtol=1e-12, atol=1e-15)
    three = np.array([[0.5, 0.25, 0.25], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(
        h.entropy(three), [-(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25)), 0.0], rtol=1e-12, atol=1e-15
    )
    assert h.entropy(three).dtype == np.float64


def test_least_confidence_matches_hand_computation():
    probs = np.array([[0.5, 0.3, 0.2], [0.1, 0.9, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(h.least_confidence(probs), [1 - 0.5, 1 - 0.9, 1 - 1 / 3], rtol=1e-12)


def test_margin_is_minus_the_gap_between_the_top_two():
    probs = np.array([[0.5, 0.3, 0.2], [0.1, 0.9, 0.0], [0.45, 0.1, 0.45], [0.2, 0.3, 0.5]])
    scores = h.margin(probs)
    np.testing.assert_allclose(scores, [-(0.5 - 0.3), -(0.9 - 0.1), 0.0, -(0.5 - 0.3)], atol=1e-12)
    # the tie (smallest margin) scores highest, the confident row lowest
    assert np.argmax(scores) == 2 and np.argmin(scores) == 1


def test_margin_with_one_class_is_zero():
    np.testing.assert_array_equal(h.margin(np.ones((4, 1))), np.zeros(4))


def test_bald_matches_hand_computation():
    # one point, two classes, two MC samples: p_1 = [0.9, 0.1], p_2 = [0.3, 0.7]
    mc = np.array([[[0.9, 0.3], [0.1, 0.7]]])
    mean = [0.6, 0.4]
    predictive = -(mean[0] * math.log(mean[0]) + mean[1] * math.log(mean[1]))
    h_1 = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    h_2 = -(0.3 * math.log(0.3) + 0.7 * math.log(0.7))
    expected_conditional = (h_1 + h_2) / 2
    np.testing.assert_allclose(h.bald(mc), [predictive - expected_conditional], rtol=1e-12)


def test_bald_is_zero_when_samples_agree_and_ln2_when_they_disagree_confidently():
    agree = np.array([[0.6, 0.6], [0.4, 0.4]])  # [C, T]: uncertain, but both samples say the same
    disagree = np.array([[1.0, 0.0], [0.0, 1.0]])  # sample 1 says class 0, sample 2 class 1
    mc = np.stack([agree, disagree])
    scores = h.bald(mc)
    assert abs(scores[0]) < 1e-12
    assert scores[1] == pytest.approx(LN2, rel=1e-12)
    # the maximum for two classes: no other mix of samples beats it
    rng = np.random.default_rng(0)
    random_mc = rng.dirichlet([0.3, 0.3], size=(200, 2)).transpose(0, 2, 1)
    assert h.bald(random_mc).max() <= LN2 + 1e-12
    assert np.all(h.bald(random_mc) >= 0)


# --------------------------------------------------------------------------- selection


def test_top_k_breaks_ties_by_lower_index():
    scores = np.array([0.1, 0.5, 0.3, 0.5, 0.5, 0.3])
    idx = h.top_k(scores, 4)
    np.testing.assert_array_equal(idx, [1, 3, 4, 2])
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(h.top_k(scores, 10), [1, 3, 4, 2, 5, 0])
    assert h.top_k(scores, 0).size == 0


def test_power_sample_distinct_and_reproducible():
    scores = np.random.default_rng(1).random(50)
    a = h.power_sample(scores, 20, np.random.default_rng(7))
    b = h.power_sample(scores, 20, np.random.default_rng(7))
    c = h.power_sample(scores, 20, np.random.default_rng(8))
    assert a.dtype == np.int64 and len(a) == 20 and len(set(a.tolist())) == 20
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert sorted(h.power_sample(scores, 80, np.random.default_rng(0)).tolist()) == list(range(50))


def test_power_sample_never_picks_zero_scores_while_positive_ones_remain():
    scores = np.zeros(30)
    positive = np.array([3, 11, 17, 25, 29])
    scores[positive] = [1e-3, 0.2, 0.5, 0.01, 1.0]
    for seed in range(200):
        rng = np.random.default_rng(seed)
        assert set(h.power_sample(scores, 5, rng, beta=8.0).tolist()) == set(positive.tolist())
        picked = h.power_sample(scores, 7, rng, beta=8.0)
        assert set(positive.tolist()) <= set(picked.tolist())


def test_power_sample_is_proportional_to_score_power():
    scores = np.ones(100)
    scores[42] = 1000.0  # p(first pick = 42) = 1000 / 1099 ~ 0.91
    rng = np.random.default_rng(123)
    firsts = np.array([h.power_sample(scores, 1, rng)[0] for _ in range(4000)])
    assert 0.89 < np.mean(firsts == 42) < 0.93
    # beta = 2: 1e6 / (1e6 + 99), essentially always
    firsts = np.array([h.power_sample(scores, 1, rng, beta=2.0)[0] for _ in range(1000)])
    assert np.mean(firsts == 42) > 0.995


def test_power_sample_rejects_negative_scores():
    with pytest.raises(ValueError):
        h.power_sample(np.array([0.2, -0.1]), 1, np.random.default_rng(0))


# --------------------------------------------------------------------------- BatchBALD


def _random_mc(n, c, t, seed, alpha=0.5):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.full(c, alpha), size=(n, t)).transpose(0, 2, 1)  # [N, C, T]


def _brute_force_joint_entropy(mc, points):
    """H(y_points) by enumerating every labeling, straight from the definition."""
    c = mc.shape[1]
    total = 0.0
    for labels in itertools.product(range(c), repeat=len(points)):
        p = np.mean(np.prod([mc[i, y, :] for i, y in zip(points, labels)], axis=0))
        if p > 0:
            total -= p * math.log(p)
    return total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batchbald_with_k1_is_bald_argmax(seed):
    mc = _random_mc(40, 3, 10, seed)
    idx, gains = h.batchbald(mc, 1, np.random.default_rng(0))
    bald = h.bald(mc)
    assert idx.tolist() == [int(np.argmax(bald))]
    assert gains[0] == pytest.approx(bald.max(), rel=1e-9)
    assert idx.dtype == np.int64 and gains.dtype == np.float64


def test_batchbald_gains_sum_to_the_batch_mutual_information():
    mc = _random_mc(12, 2, 8, 3)
    idx, gains = h.batchbald(mc, 4, np.random.default_rng(0))
    assert len(set(idx.tolist())) == 4
    conditional = -np.sum(mc * np.log(np.where(mc > 0, mc, 1.0)), axis=1).mean(axis=1)
    expected = _brute_force_joint_entropy(mc, idx.tolist()) - conditional[idx].sum()
    assert gains.sum() == pytest.approx(expected, rel=1e-9)


def test_sampled_joint_entropy_agrees_with_exact():
    # 2 classes, 12 points, T=8: the joint over 3 chosen points plus each candidate
    mc = _random_mc(12, 2, 8, 4)
    chosen = [0, 5, 9]
    exact = h._joint_entropies(h._exact_configs(mc, chosen), mc, sampled=False)
    for i in range(12):
        assert exact[i] == pytest.approx(_brute_force_joint_entropy(mc, chosen + [i]), rel=1e-9)
    rng = np.random.default_rng(5)
    t_idx = rng.integers(8, size=20000)
    sampled = h._joint_entropies(h._sample_configs(mc, chosen, t_idx, rng), mc, sampled=True)
    np.testing.assert_allclose(sampled, exact, atol=0.02)


def test_batchbald_sampled_path_agrees_with_exact_path():
    # C=4, k=5: the last step needs 256 * 4 = 1024 configurations. max_configs=1024
    # enumerates them; 1023 switches to ~1000 sampled ones there (and only there). The
    # sampled gain is noisy (std ~0.025 nats at this M), so average a few rng seeds.
    mc = _random_mc(30, 4, 8, 6)
    idx_exact, gains_exact = h.batchbald(mc, 5, np.random.default_rng(0), max_configs=1024)
    last_gains = []
    for seed in range(8):
        idx_sampled, gains_sampled = h.batchbald(mc, 5, np.random.default_rng(seed), max_configs=1023)
        np.testing.assert_array_equal(idx_sampled[:4], idx_exact[:4])
        np.testing.assert_allclose(gains_sampled[:4], gains_exact[:4], rtol=1e-12)
        assert gains_sampled[4] == pytest.approx(gains_exact[4], abs=0.15)
        last_gains.append(gains_sampled[4])
    assert np.mean(last_gains) == pytest.approx(gains_exact[4], abs=0.05)
    # with almost nothing enumerable it still returns distinct indices, reproducibly
    a = h.batchbald(mc, 6, np.random.default_rng(1), max_configs=3)
    b = h.batchbald(mc, 6, np.random.default_rng(1), max_configs=3)
    np.testing.assert_array_equal(a[0], b[0])
    assert len(set(a[0].tolist())) == 6


def test_batchbald_does_not_pick_duplicates_while_bald_does():
    t = 8
    informative = np.zeros((2, t))
    informative[0, :4] = 1.0  # half the models say class 0, half class 1: BALD = ln 2
    informative[1, 4:] = 1.0
    other = np.zeros((2, t))
    other[0, ::2] = 0.9  # a different disagreement pattern, less confident
    other[1, ::2] = 0.1
    other[0, 1::2] = 0.1
    other[1, 1::2] = 0.9
    dull = np.full((2, t), 0.5)  # uncertain but every model agrees: BALD = 0
    mc = np.stack([dull, informative, informative, other, informative, dull])
    bald = h.bald(mc)
    assert bald[1] == pytest.approx(LN2) and bald[3] < bald[1]

    copies = {1, 2, 4}
    top = set(h.top_k(bald, 2).tolist())
    assert len(top & copies) == 2  # plain BALD spends the batch on copies
    idx, gains = h.batchbald(mc, 2, np.random.default_rng(0))
    assert idx[0] in copies and idx[1] == 3
    assert gains[1] == pytest.approx(bald[3], rel=1e-9)  # independent of the copies: full gain
    # a third pick can only be a copy or dull: no gain left from it
    idx3, gains3 = h.batchbald(mc, 3, np.random.default_rng(0))
    assert abs(gains3[2]) < 1e-9


def test_batchbald_chunking_gives_the_same_result(monkeypatch):
    mc = _random_mc(60, 3, 6, 8)
    expected = h.batchbald(mc, 5, np.random.default_rng(0), max_configs=30)
    monkeypatch.setattr(h, "_CHUNK_FLOATS", 50)
    got = h.batchbald(mc, 5, np.random.default_rng(0), max_configs=30)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-12)


def test_batchbald_respects_k():
    mc = _random_mc(5, 2, 4, 9)
    idx, gains = h.batchbald(mc, 8, np.random.default_rng(0))
    assert sorted(idx.tolist()) == list(range(5)) and gains.shape == (5,)
    idx, gains = h.batchbald(mc, 0, np.random.default_rng(0))
    assert idx.shape == (0,) and gains.shape == (0,)


# ----------------------------------------------------------------------------- core-set


def test_kcenter_greedy_picks_the_far_end_then_the_middle():
    candidates = np.array([[x, 0.0] for x in range(1, 11)])  # x = 1..10
    labeled = np.array([[0.0, 0.0]])
    idx = h.kcenter_greedy(candidates, labeled, 2)
    assert candidates[idx, 0].tolist() == [10.0, 5.0]
    assert idx.dtype == np.int64


def test_kcenter_greedy_respects_k_and_returns_distinct_indices():
    rng = np.random.default_rng(0)
    candidates = rng.normal(size=(40, 3))
    idx = h.kcenter_greedy(candidates, rng.normal(size=(5, 3)), 7)
    assert len(idx) == 7 and len(set(idx.tolist())) == 7
    # duplicates everywhere: still k distinct indices, and never more than N
    same = np.ones((4, 2))
    assert sorted(h.kcenter_greedy(same, np.zeros((1, 2)), 3).tolist()) == [0, 1, 2]
    assert sorted(h.kcenter_greedy(same, np.zeros((1, 2)), 9).tolist()) == [0, 1, 2, 3]


def test_kcenter_greedy_without_labeled_points_starts_farthest_from_the_mean():
    candidates = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, 5.0], [0.0, -0.5]])
    idx = h.kcenter_greedy(candidates, np.empty((0, 2)), 2)
    assert idx[0] == 3  # mean is (0, 0.9): (0, 5) is farthest
    assert idx[1] == 4  # then the point farthest from (0, 5), not from the mean


def test_kcenter_distances_match_brute_force_with_chunking(monkeypatch):
    rng = np.random.default_rng(3)
    candidates, labeled = rng.normal(size=(37, 4)), rng.normal(size=(23, 4))
    brute = np.sqrt(((candidates[:, None, :] - labeled[None, :, :]) ** 2).sum(-1)).min(axis=1)
    np.testing.assert_allclose(h.kcenter_distances(candidates, labeled), brute, rtol=1e-9)
    monkeypatch.setattr(h, "_CHUNK_FLOATS", 10)  # blocks over both candidates and labeled
    np.testing.assert_allclose(h.kcenter_distances(candidates, labeled), brute, rtol=1e-9)
    assert h.kcenter_greedy(candidates, labeled, 1)[0] == np.argmax(brute)
    assert np.all(np.isinf(h.kcenter_distances(candidates, np.empty((0, 4)))))

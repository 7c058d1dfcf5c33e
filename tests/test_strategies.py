"""Query strategies: the registry, the shared scoring context and each strategy's picks."""

import math

import numpy as np
import pytest
import torch

from alstudio.engine import config, training
from alstudio.engine.errors import UserInputError
from alstudio.engine.models import build_model
from alstudio.engine.strategies import STRATEGIES, ScoringContext, get_strategy

N_CANDIDATES, N_LABELLED, K = 40, 10, 5
MC_STRATEGIES = ["entropy", "least_confidence", "margin", "bald", "batchbald", "power_bald"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(strategy="learning_loss", seed=0):
    torch.manual_seed(seed)
    cfg = config.validate({"active": {"strategy": strategy}, "model": {"dropout": 0.5}})
    return build_model(cfg, n_classes=3, n_groups=2)


def _images(n, seed):
    return torch.randn(n, 3, 16, 16, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def model():
    return _model()


@pytest.fixture(scope="module")
def images():
    return _images(N_CANDIDATES, 1), _images(N_LABELLED, 2)


def _context(model, images, mc_samples=8, seed=0):
    candidates, labelled = images
    return ScoringContext(model, candidates, labelled, mc_samples=mc_samples, seed=seed)


# ------------------------------------------------------------------------------ registry


def test_registry_matches_the_config_names():
    assert set(STRATEGIES) == set(config.STRATEGIES)
    assert len(STRATEGIES) == len(config.STRATEGIES)
    for name, cls in STRATEGIES.items():
        strategy = get_strategy(name)
        assert isinstance(strategy, cls) and strategy.name == name and strategy.title


def test_unknown_strategy_lists_the_valid_names():
    with pytest.raises(UserInputError, match="unknown strategy 'nope'") as err:
        get_strategy("nope")
    for name in config.STRATEGIES:
        assert name in str(err.value)


# --------------------------------------------------------------------- every strategy


@pytest.mark.parametrize("name", sorted(config.STRATEGIES))
def test_every_strategy_picks_k_distinct_candidates_with_finite_scores(name, model, images):
    chosen, scores = get_strategy(name).select(_context(model, images), K)
    chosen, scores = np.asarray(chosen), np.asarray(scores)
    assert chosen.shape == (K,) and np.issubdtype(chosen.dtype, np.integer)
    assert len(set(chosen.tolist())) == K
    assert np.all((chosen >= 0) & (chosen < N_CANDIDATES))
    assert scores.shape == (K,) and np.all(np.isfinite(scores))


@pytest.mark.parametrize("name", sorted(config.STRATEGIES))
def test_every_strategy_is_deterministic_given_the_seed(name, model, images):
    strategy = get_strategy(name)
    first = strategy.select(_context(model, images, seed=3), K)
    torch.manual_seed(99)  # the global RNG in between does not matter
    np.random.seed(99)
    second = strategy.select(_context(model, images, seed=3), K)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_seeded_strategies_depend_on_the_seed(model, images):
    # random and the MC strategies draw from the context seed: another seed, other draws
    for name in ["random", "power_bald"]:
        picks = {tuple(get_strategy(name).select(_context(model, images, seed=s), K)[0]) for s in range(4)}
        assert len(picks) > 1, name
    bald_a = get_strategy("bald").scores(_context(model, images, seed=0))
    bald_b = get_strategy("bald").scores(_context(model, images, seed=1))
    assert not np.allclose(bald_a, bald_b)


def test_top_k_strategies_pick_their_highest_scores(model, images):
    for name in ["entropy", "least_confidence", "margin", "bald", "learning_loss", "random"]:
        strategy = get_strategy(name)
        all_scores = np.asarray(strategy.scores(_context(model, images)))
        assert all_scores.shape == (N_CANDIDATES,)
        chosen, scores = strategy.select(_context(model, images), K)
        np.testing.assert_array_equal(scores, all_scores[chosen])
        assert scores.min() >= np.delete(all_scores, chosen).max(), name
        assert np.all(np.diff(scores) <= 0), name  # best first


def test_context_probabilities_are_the_mc_average(model, images):
    ctx = _context(model, images, mc_samples=6)
    assert ctx.size == N_CANDIDATES
    assert ctx.mc_probs.shape == (N_CANDIDATES, 3, 6)
    np.testing.assert_allclose(ctx.probs, ctx.mc_probs.mean(axis=2))
    np.testing.assert_allclose(ctx.probs.sum(axis=1), 1.0, rtol=1e-5)
    assert ctx.features.shape == (N_CANDIDATES, model.trunk.feature_dim)
    assert ctx.labelled_features.shape == (N_LABELLED, model.trunk.feature_dim)


def test_learning_loss_scores_are_the_predicted_losses(model, images):
    scores = get_strategy("learning_loss").scores(_context(model, images))
    np.testing.assert_allclose(scores, training.predicted_losses(model, images[0]), rtol=1e-6)


# ------------------------------------------------------------------- one trunk pass


def _count_trunk_calls(model, monkeypatch):
    calls = []
    forward = model.trunk.forward

    def counting(x):
        calls.append(len(x))
        return forward(x)

    monkeypatch.setattr(model.trunk, "forward", counting)
    return calls


@pytest.mark.parametrize("name", MC_STRATEGIES)
def test_mc_strategies_pass_the_trunk_once(name, monkeypatch, images):
    model = _model()
    monkeypatch.setattr(training, "PREDICT_BATCH", 16)
    calls = _count_trunk_calls(model, monkeypatch)
    samples = 20
    get_strategy(name).select(_context(model, images, mc_samples=samples), K)
    assert len(calls) == math.ceil(N_CANDIDATES / 16)  # 3, not 3 x 20
    assert sum(calls) == N_CANDIDATES


def test_bald_passes_the_trunk_once_at_the_default_batch(monkeypatch, images):
    model = _model()
    calls = _count_trunk_calls(model, monkeypatch)
    ctx = _context(model, images, mc_samples=20)
    get_strategy("bald").select(ctx, K)
    assert len(calls) == math.ceil(N_CANDIDATES / training.PREDICT_BATCH)
    # the context caches: scoring again (another strategy on the same context) costs no pass
    get_strategy("batchbald").select(ctx, K)
    get_strategy("entropy").select(ctx, K)
    assert len(calls) == math.ceil(N_CANDIDATES / training.PREDICT_BATCH)


# ------------------------------------------------------------------------------ core-set


def test_coreset_first_picks_the_candidate_farthest_from_the_labelled_point(model, images):
    rng = np.random.default_rng(0)
    ctx = _context(model, images)
    features = torch.from_numpy(rng.normal(size=(N_CANDIDATES, 6))).float()
    centre = torch.tensor([0.5, -0.5, 0.0, 1.0, 0.0, 0.0])
    ctx.__dict__["features"] = features
    ctx.__dict__["labelled_features"] = centre.repeat(N_LABELLED, 1)
    distances = (features - centre).norm(dim=1).numpy()
    farthest = int(np.argmax(distances))
    assert farthest != 0

    chosen, scores = get_strategy("coreset").select(ctx, K)
    assert chosen[0] == farthest
    assert len(set(chosen.tolist())) == K
    np.testing.assert_allclose(scores, distances[chosen], rtol=1e-5)
    np.testing.assert_allclose(get_strategy("coreset").scores(ctx), distances, rtol=1e-5)
    # the second pick is the farthest from both the labelled point and the first pick
    to_centres = np.minimum(distances, (features - features[farthest]).norm(dim=1).numpy())
    to_centres[farthest] = -1
    assert chosen[1] == int(np.argmax(to_centres))


def test_coreset_uses_the_cached_features_not_the_model(model, images):
    ctx = _context(model, images)
    features = torch.zeros(N_CANDIDATES, 3)
    features[17] = torch.tensor([5.0, 0.0, 0.0])
    ctx.__dict__["features"] = features
    ctx.__dict__["labelled_features"] = torch.zeros(N_LABELLED, 3)
    assert get_strategy("coreset").select(ctx, 1)[0].tolist() == [17]


# ------------------------------------------------------------------------ learning loss


def test_learning_loss_needs_a_loss_module(images):
    model = _model(strategy="bald")
    assert model.loss_module is None
    with pytest.raises(UserInputError, match="learning_loss"):
        get_strategy("learning_loss").select(_context(model, images), K)

"""Query strategies: the registry, the shared scoring context and each strategy's picks."""

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from alstudio.engine import config, training
from alstudio.engine.errors import ConfigError, UserInputError
from alstudio.engine.models import build_model
from alstudio.engine.strategies import STRATEGIES, ScoringContext, Strategy, baseline, get_strategy, heuristics

N_CANDIDATES, N_LABELLED, K = 40, 10, 5
# Uneven sensitive groups: candidates 3, 10, 17, ... (6 of 40) are group 1, the rest group 0.
GROUPS = np.where(np.arange(N_CANDIDATES) % 7 == 3, 1, 0)
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


def _context(model, images, mc_samples=8, seed=0, groups=GROUPS):
    candidates, labeled = images
    return ScoringContext(model, candidates, labeled, mc_samples=mc_samples, seed=seed, groups=groups)


# ------------------------------------------------------------------------------ registry


def test_registry_matches_the_config_names():
    assert set(STRATEGIES) == set(config.STRATEGIES)
    assert len(STRATEGIES) == len(config.STRATEGIES)
    for name, cls in STRATEGIES.items():
        strategy = get_strategy(name)
        assert isinstance(strategy, cls) and strategy.name == name and strategy.title


def test_config_and_the_registry_load_without_torch():
    # Config validation reads the registry's names; loading a config must not pay for importing torch.
    code = ("import sys, alstudio.engine.config, alstudio.engine.experiment, alstudio.engine.strategies as s\n"
            "assert len(s.STRATEGIES) > 1\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n"
            "s.ScoringContext\n"  # the one torch-backed name, loaded on first use
            "assert 'torch' in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_every_strategy_states_its_facts_consistently():
    assert [name for name, cls in STRATEGIES.items() if cls.is_baseline] == [baseline()] == ["random"]
    for name, cls in STRATEGIES.items():
        assert cls.name == name and cls.title and cls.description, name
        if cls.explains:  # an explanation column is a score a person can read on its own
            assert cls.score_is_informative, name
        if cls.needs_loss_module:  # the LL4AL module reads the trunk's intermediate maps
            assert cls.needs_feature_maps, name


def test_the_model_has_a_loss_module_exactly_when_its_strategy_needs_one():
    for name, cls in STRATEGIES.items():
        assert (_model(strategy=name).loss_module is not None) == cls.needs_loss_module, name


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_a_strategy_samples_the_head_exactly_when_it_says_so(name, images):
    # needs_mc_samples is read by people and the workbench: it must be what select() does.
    ctx = _context(_model(strategy=name), images)
    get_strategy(name).select(ctx, K)
    assert ("mc_probs" in ctx.__dict__) == STRATEGIES[name].needs_mc_samples


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_only_strategies_that_need_a_loss_module_fail_without_one(name, images):
    ctx = _context(_model(strategy="random"), images)
    if STRATEGIES[name].needs_loss_module:
        with pytest.raises(UserInputError, match=name):
            get_strategy(name).select(ctx, K)
    else:
        assert len(get_strategy(name).select(ctx, K)[0]) == K


@pytest.fixture
def defined_here():
    """Strategies a test defines leave the registry when it ends, so no other test sees them."""
    before = set(STRATEGIES)
    yield
    for name in set(STRATEGIES) - before:
        del STRATEGIES[name]


def test_a_new_subclass_registers_itself_and_config_accepts_its_name(defined_here, model, images):
    from alstudio.engine.experiment import Manifest
    from alstudio.engine.loop import explaining_strategies

    with pytest.raises(ConfigError, match="lowest_index"):
        config.validate({"active": {"strategy": "lowest_index"}})

    class LowestIndex(Strategy):
        name, title = "lowest_index", "Lowest index"
        description = "The first candidates in pool order: a strategy defined by a test."
        explains = True

        def scores(self, ctx):
            return -np.arange(ctx.size, dtype=np.float64)

    assert STRATEGIES["lowest_index"] is LowestIndex and list(STRATEGIES)[-1] == "lowest_index"
    assert config.validate({"active": {"strategy": "lowest_index"}}).active.strategy == "lowest_index"
    compared = config.validate({"active": {"strategies": ["random", "lowest_index"]}}).active
    assert compared.run_strategies() == ["random", "lowest_index"]
    assert Manifest(strategies=["lowest_index"], seeds=1).strategies == ["lowest_index"]
    assert get_strategy("lowest_index").select(_context(model, images), K)[0].tolist() == list(range(K))
    assert "lowest_index" in explaining_strategies(model)
    assert build_model(config.validate({"active": {"strategy": "lowest_index"}}), 3, 2).loss_module is None


def test_a_strategy_missing_a_fact_or_reusing_a_name_fails_where_it_is_defined(defined_here):
    with pytest.raises(TypeError, match="needs a title and a description"):
        type("Untitled", (Strategy,), {"name": "untitled", "title": "Untitled"})
    with pytest.raises(TypeError, match="is taken by .*Bald"):
        type("AnotherBald", (Strategy,), {"name": "bald", "title": "BALD again", "description": "A copy."})
    with pytest.raises(TypeError, match="lowercase"):  # it names run folders: runs/<name>-seed1
        type("Spaced", (Strategy,), {"name": "my strategy", "title": "Spaced", "description": "Spaces."})
    assert "untitled" not in STRATEGIES and STRATEGIES["bald"].title == "BALD (MC dropout)"

    class Tweaked(STRATEGIES["bald"]):  # no name of its own: a variant, not a new strategy
        pass

    assert STRATEGIES["bald"] is not Tweaked


def test_the_fairness_baselines_are_valid_config_names():
    names = ["balanced_bald", "balanced_random", "representative_bald"]
    for name in names:
        assert config.validate({"active": {"strategy": name}}).active.strategy == name
    compared = config.validate({"active": {"strategies": ["random", *names]}}).active
    assert compared.run_strategies() == ["random", *names] and compared.strategy == "random"


def test_unknown_strategy_lists_the_valid_names():
    with pytest.raises(UserInputError, match="unknown strategy 'nope'") as err:
        get_strategy("nope")
    for name in config.STRATEGIES:
        assert name in str(err.value)


# --------------------------------------------------------------------- every strategy


@pytest.mark.parametrize("name", sorted(config.STRATEGIES))
def test_every_strategy_picks_k_distinct_candidates_with_finite_scores(name, model, images):
    assert STRATEGIES[name].title and STRATEGIES[name].description
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
    assert ctx.labeled_features.shape == (N_LABELLED, model.trunk.feature_dim)


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


# ------------------------------------------------------------------- the batch's context


POSITIONS = np.array([17, 0, 33, 5])


def test_a_subset_indexes_what_the_context_computed_and_computes_nothing_again(model, images, monkeypatch):
    from alstudio.engine.strategies import context

    ctx = _context(model, images)
    for name in ("bald", "probs", "predicted_losses", "labeled_features"):
        getattr(ctx, name)  # the pool's, computed once
    computed = []
    for name in ("predict_features", "mc_probabilities", "predicted_losses"):
        monkeypatch.setattr(context, name, lambda *args, name=name: computed.append(name))
    part = ctx.subset(POSITIONS)
    assert part.size == len(POSITIONS) and np.array_equal(part.groups, GROUPS[POSITIONS])
    assert torch.equal(part.features, ctx.features[torch.from_numpy(POSITIONS)])
    for name in ("mc_probs", "probs", "bald", "predicted_losses"):
        assert np.array_equal(getattr(part, name), getattr(ctx, name)[POSITIONS]), name
    assert part.labeled_features is ctx.labeled_features
    assert computed == []


def test_a_subset_computes_what_the_context_lacks_for_its_own_candidates_only(model, images, monkeypatch):
    ctx = _context(model, images)
    part = ctx.subset(POSITIONS)
    assert part.mc_probs.shape == (len(POSITIONS), 3, 8)
    assert not {"features", "mc_probs"} & set(ctx.__dict__)  # the pool's were never asked for
    whole = ctx.subset(np.arange(N_CANDIDATES))
    assert np.allclose(whole.probs, ctx.probs, atol=1e-6)  # same seed, same candidates: the same draw


def test_every_cached_property_of_the_context_is_one_a_subset_hands_on():
    from functools import cached_property

    from alstudio.engine.strategies import context

    cached = {name for name, value in vars(ScoringContext).items() if isinstance(value, cached_property)}
    assert cached == context._PER_CANDIDATE | context._SHARED


@pytest.mark.parametrize("name", [name for name, cls in STRATEGIES.items() if cls.explains])
def test_an_explaining_score_is_per_sample(name, images):
    # The loop explains the queried batch from ctx.subset: a sample's score must not depend on the other candidates.
    model = _model(strategy=name)
    ctx = _context(model, images)
    strategy = get_strategy(name)
    pool_scores = strategy.scores(ctx)
    np.testing.assert_allclose(strategy.scores(ctx.subset(POSITIONS)), pool_scores[POSITIONS], rtol=1e-6)
    if not STRATEGIES[name].needs_mc_samples:  # deterministic: even a subset that shares no cache agrees
        fresh = _context(model, images).subset(POSITIONS)
        np.testing.assert_allclose(strategy.scores(fresh), pool_scores[POSITIONS], rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------------------ core-set


def test_coreset_first_picks_the_candidate_farthest_from_the_labeled_point(model, images):
    rng = np.random.default_rng(0)
    ctx = _context(model, images)
    features = torch.from_numpy(rng.normal(size=(N_CANDIDATES, 6))).float()
    centre = torch.tensor([0.5, -0.5, 0.0, 1.0, 0.0, 0.0])
    ctx.__dict__["features"] = features
    ctx.__dict__["labeled_features"] = centre.repeat(N_LABELLED, 1)
    distances = (features - centre).norm(dim=1).numpy()
    farthest = int(np.argmax(distances))
    assert farthest != 0

    chosen, scores = get_strategy("coreset").select(ctx, K)
    assert chosen[0] == farthest
    assert len(set(chosen.tolist())) == K
    np.testing.assert_allclose(scores, distances[chosen], rtol=1e-5)
    np.testing.assert_allclose(get_strategy("coreset").scores(ctx), distances, rtol=1e-5)
    # the second pick is the farthest from both the labeled point and the first pick
    to_centres = np.minimum(distances, (features - features[farthest]).norm(dim=1).numpy())
    to_centres[farthest] = -1
    assert chosen[1] == int(np.argmax(to_centres))


def test_coreset_uses_the_cached_features_not_the_model(model, images):
    ctx = _context(model, images)
    features = torch.zeros(N_CANDIDATES, 3)
    features[17] = torch.tensor([5.0, 0.0, 0.0])
    ctx.__dict__["features"] = features
    ctx.__dict__["labeled_features"] = torch.zeros(N_LABELLED, 3)
    assert get_strategy("coreset").select(ctx, 1)[0].tolist() == [17]


# ------------------------------------------------------------------------ learning loss


def test_learning_loss_needs_a_loss_module(images):
    model = _model(strategy="bald")
    assert model.loss_module is None
    with pytest.raises(UserInputError, match="learning_loss"):
        get_strategy("learning_loss").select(_context(model, images), K)


# ------------------------------------------------------------------ fairness baselines


def _round_robin_by_hand(scores, groups, k):
    """Each group's candidates best first, then one from every group per round, the round in score order."""
    queues = {g: sorted(np.flatnonzero(groups == g), key=lambda i: (-scores[i], i)) for g in np.unique(groups)}
    picks = []
    while len(picks) < k and any(queues.values()):
        heads = [queue.pop(0) for queue in queues.values() if queue]
        picks += sorted(heads, key=lambda i: (-scores[i], i))
    return picks[:k]


def test_round_robin_takes_turns_in_score_order_and_never_truncates_a_batch():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    groups = np.array([0, 0, 0, 0, 0, 1, 1, 0])
    # Rounds: (0 then 5), (1 then 6), then group 1 is spent and group 0 goes on alone.
    assert heuristics.round_robin_by_group(scores, groups, 7).tolist() == [0, 5, 1, 6, 2, 3, 4]
    # zip(*groups) would stop at 4 picks; the batch stays k long.
    assert len(heuristics.round_robin_by_group(scores, groups, 8)) == 8
    # Within a round the better candidate comes first, whichever its group.
    groups = np.array([1, 1, 0, 0, 0, 0, 0, 0])
    assert heuristics.round_robin_by_group(scores, groups, 3).tolist() == [0, 2, 1]


def test_balanced_bald_alternates_the_groups_in_bald_order(model, images):
    ctx = _context(model, images)
    k = 16  # more than group 1's six candidates: the rest comes from group 0
    chosen, scores = get_strategy("balanced_bald").select(ctx, k)
    assert chosen.tolist() == _round_robin_by_hand(ctx.bald, GROUPS, k)
    np.testing.assert_array_equal(scores, ctx.bald[chosen])
    assert GROUPS[chosen[:12]].sum() == 6 and GROUPS[chosen[12:]].sum() == 0
    for g in (0, 1):  # best BALD first within each group
        assert np.all(np.diff(ctx.bald[chosen[GROUPS[chosen] == g]]) <= 0)
    assert len(set(chosen.tolist())) == k


def test_balanced_bald_ignores_a_better_candidate_of_the_group_whose_turn_it_is_not(model, images):
    ctx = _context(model, images)
    bald = np.zeros(N_CANDIDATES)
    bald[[0, 1, 2]] = [3.0, 2.0, 1.0]  # group 0's three best outrank all of group 1
    bald[3] = 0.5  # group 1's best
    ctx.__dict__["bald"] = bald
    chosen, _ = get_strategy("balanced_bald").select(ctx, 3)
    assert chosen.tolist() == [0, 3, 1]
    assert get_strategy("bald").select(ctx, 3)[0].tolist() == [0, 1, 2]


@pytest.mark.parametrize("base", ["bald", "random"])
def test_with_one_group_the_balanced_strategy_is_its_base(base, model, images):
    one_group = np.full(N_CANDIDATES, 1)
    balanced = get_strategy(f"balanced_{base}").select(_context(model, images, seed=5, groups=one_group), K)
    plain = get_strategy(base).select(_context(model, images, seed=5), K)
    np.testing.assert_array_equal(balanced[0], plain[0])
    np.testing.assert_array_equal(balanced[1], plain[1])


def test_group_aware_strategies_need_the_groups(model, images):
    for name in ["balanced_bald", "balanced_random", "representative_bald"]:
        with pytest.raises(ValueError, match="sensitive groups"):
            get_strategy(name).select(_context(model, images, groups=None), K)


def test_only_random_keys_are_flagged_as_meaningless_scores():
    assert not STRATEGIES["random"].score_is_informative
    assert not STRATEGIES["balanced_random"].score_is_informative  # its score is random's key
    assert STRATEGIES["balanced_bald"].score_is_informative and STRATEGIES["representative_bald"].score_is_informative
    assert STRATEGIES["balanced_bald"].base is STRATEGIES["bald"]
    for name in ["balanced_bald", "balanced_random"]:
        assert "upper bound" in STRATEGIES[name].title
    assert "in the spirit of ReSGrAL" in STRATEGIES["representative_bald"].title


def _representative_context(model, images):
    """40 candidates in (group, predicted class) subgroups of 20, 11, 6 and 3, with known BALD scores."""
    ctx = _context(model, images, groups=np.repeat([0, 0, 1, 1], [20, 11, 6, 3]))
    predicted = np.repeat([0, 1, 0, 1], [20, 11, 6, 3])
    probs = np.full((N_CANDIDATES, 3), 0.1)
    probs[np.arange(N_CANDIDATES), predicted] = 0.8
    ctx.__dict__["probs"] = probs
    ctx.__dict__["bald"] = np.random.default_rng(4).permutation(N_CANDIDATES) / N_CANDIDATES
    return ctx, np.repeat([0, 1, 3, 4], [20, 11, 6, 3])  # subgroup = group * 3 classes + class


def test_representative_quotas_follow_the_candidate_shares_by_largest_remainder(model, images):
    ctx, subgroups = _representative_context(model, images)
    strategy = get_strategy("representative_bald")
    found, quotas = strategy.quotas(ctx, 7)
    np.testing.assert_array_equal(found, subgroups)
    # 7 x (20, 11, 0, 6, 3) / 40 = 3.5, 1.925, 0, 1.05, 0.525: floors 3, 1, 0, 1, 0 and the two
    # largest remainders (0.925, 0.525) get the last two (plain rounding would hand out 8).
    assert quotas.tolist() == [3, 2, 0, 1, 1]
    chosen, _ = strategy.select(ctx, 7)
    assert np.bincount(subgroups[chosen], minlength=5).tolist() == [3, 2, 0, 1, 1]
    assert strategy.quotas(ctx, 40)[1].tolist() == [20, 11, 0, 6, 3]  # the whole pool: every candidate


def test_representative_bald_takes_the_highest_bald_within_each_subgroup(model, images):
    ctx, subgroups = _representative_context(model, images)
    chosen, scores = get_strategy("representative_bald").select(ctx, 7)
    bald = ctx.bald
    np.testing.assert_array_equal(scores, bald[chosen])
    assert np.all(np.diff(scores) <= 0)  # best first
    for subgroup, quota in zip([0, 1, 3, 4], [3, 2, 1, 1]):
        members = np.flatnonzero(subgroups == subgroup)
        best = members[np.argsort(-bald[members], kind="stable")[:quota]]
        assert set(chosen[subgroups[chosen] == subgroup].tolist()) == set(best.tolist()), subgroup
    # not simply the top 7 BALD scores of the whole pool
    assert set(chosen.tolist()) != set(np.argsort(-bald)[:7].tolist())


def test_a_stratum_short_of_its_quota_is_made_up_from_the_best_left():
    scores = np.array([0.1, 0.9, 0.8, 0.7, 0.6, 0.2])
    strata = np.array([1, 0, 0, 0, 0, 1])
    # Stratum 1 has two points but a quota of three: the best remaining stratum-0 point fills in.
    assert heuristics.stratified_top_k(scores, strata, [1, 3]).tolist() == [1, 2, 5, 0]
    assert heuristics.stratified_top_k(scores, strata, [0, 3]).tolist() == [1, 5, 0]
    assert heuristics.stratified_top_k(scores, strata, [2, 1]).tolist() == [1, 2, 5]
    assert len(heuristics.stratified_top_k(scores, strata, [9, 9])) == 6


@pytest.mark.parametrize("name", ["balanced_bald", "balanced_random", "representative_bald"])
def test_fairness_baselines_run_end_to_end(name, tmp_path):
    from engine_helpers import new_journal, tiny_config, tiny_dataset

    from alstudio.engine.annotators import OracleAnnotator
    from alstudio.engine.loop import CycleResult, Finished, run

    # The minority bias leaves about one candidate in ten in group 1: balancing shows.
    cfg = tiny_config(active={"strategy": name}, dataset={"bias": "minority"})
    dataset = tiny_dataset(cfg)
    with new_journal(tmp_path / "j.sqlite", cfg) as journal:
        events = list(run(journal, dataset, OracleAnnotator(), explain=["bald"]))
        assert isinstance(events[-1], Finished) and journal.status == "finished"
        assert len(journal.labels()) == 16
    results = [e for e in events if isinstance(e, CycleResult) and e.queried_ids is not None]
    assert len(results) == 2
    for result in results:
        assert len(set(result.queried_ids.tolist())) == 4
        if name.startswith("balanced"):  # two groups with candidates to spare: two of each
            assert np.bincount(dataset.pool.groups[result.queried_ids], minlength=2).tolist() == [2, 2]
        if name != "balanced_random":  # the score shown is the candidate's BALD score
            np.testing.assert_allclose(result.scores, result.score_table["bald"])

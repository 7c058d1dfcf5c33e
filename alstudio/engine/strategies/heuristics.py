"""Acquisition heuristics for active learning: pure, vectorised numpy.

Conventions
-----------
* ``probs`` is an array ``[N, C]`` of class probabilities (rows sum to 1).
* ``mc_probs`` is an array ``[N, C, T]``: ``T`` Monte-Carlo-dropout samples of the
  softmax probabilities of each of the ``N`` pool points.
* Every score function returns a float64 array ``[N]`` where HIGHER means MORE WORTH
  LABELLING, so every strategy can be fed to :func:`top_k` or :func:`power_sample`.
* Logs are natural (scores are in nats).

Selection functions return int64 indices into the arrays they were given. A request
for more points than there are candidates returns all of them (in selection order);
a negative ``k`` is an error.

No torch and no Qt here: the models hand over numpy arrays and get indices back.
"""

from __future__ import annotations

import numpy as np

# Probabilities are clipped to this before the log so that p = 0 contributes
# 0 * log(tiny) = 0 to p log p instead of 0 * -inf = NaN. The smallest normal float
# (rather than e.g. 1e-12) keeps tiny-but-genuine joint probabilities in BatchBALD exact.
_TINY = np.finfo(np.float64).tiny

# How many float64 values one block of a chunked computation may hold (~32 MB), so memory
# stays bounded whatever the pool size. Read at call time so tests can shrink it.
_CHUNK_FLOATS = 1 << 22


# --------------------------------------------------------------------------- helpers


def _as_probs(probs) -> np.ndarray:
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2:
        raise ValueError(f"probs must have shape [N, C], got {probs.shape}")
    return probs


def _as_mc_probs(mc_probs) -> np.ndarray:
    # C-contiguous so that per-candidate [C, T] blocks reshape to matrices without copies.
    mc_probs = np.ascontiguousarray(mc_probs, dtype=np.float64)
    if mc_probs.ndim != 3:
        raise ValueError(f"mc_probs must have shape [N, C, T], got {mc_probs.shape}")
    return mc_probs


def _check_k(k: int, n: int) -> int:
    k = int(k)
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    return min(k, n)


def _xlogx(p: np.ndarray) -> np.ndarray:
    """p * log p elementwise, with 0 log 0 = 0 (and no NaN for p = 0)."""
    return p * np.log(np.maximum(p, _TINY))


def _conditional_entropy(mc_probs: np.ndarray) -> np.ndarray:
    """E_t[H[p_t]] per point: the aleatoric part that even a known model cannot remove."""
    return -_xlogx(mc_probs).sum(axis=1).mean(axis=1)


# ---------------------------------------------------------------- single-point scores


def entropy(probs) -> np.ndarray:
    """Predictive entropy -sum_c p log p: high where the prediction is spread out."""
    return -_xlogx(_as_probs(probs)).sum(axis=1)


def least_confidence(probs) -> np.ndarray:
    """1 - max_c p: high where even the most likely class is unlikely."""
    probs = _as_probs(probs)
    if probs.shape[1] == 0:
        return np.zeros(probs.shape[0])
    return 1.0 - probs.max(axis=1)


def margin(probs) -> np.ndarray:
    """Breaking ties: -(p_top1 - p_top2), so the smallest margin scores highest.

    The scores are <= 0; shift them (e.g. ``1 + margin``) before :func:`power_sample`,
    which needs non-negative scores. With a single class there is no runner-up: zeros.
    """
    probs = _as_probs(probs)
    n, c = probs.shape
    if c < 2:
        return np.zeros(n)
    # A partition around the second largest finds the top two in O(C), no full sort.
    top2 = np.partition(probs, c - 2, axis=1)[:, -2:]
    return top2[:, 0] - top2[:, 1]


def bald(mc_probs) -> np.ndarray:
    """BALD mutual information I[y; w] = H[mean_t p_t] - mean_t H[p_t].

    High where the dropout samples are individually confident but disagree with each
    other (epistemic uncertainty), low where they agree, however uncertain they are.
    """
    mc_probs = _as_mc_probs(mc_probs)
    predictive = -_xlogx(mc_probs.mean(axis=2)).sum(axis=1)
    # MI is >= 0; only rounding can push it below, and power_sample rejects negatives.
    return np.maximum(predictive - _conditional_entropy(mc_probs), 0.0)


# --------------------------------------------------------------------------- selection


def top_k(scores, k: int) -> np.ndarray:
    """Indices of the k highest scores; ties go to the lower index first."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    k = _check_k(k, scores.size)
    # A stable sort of the negated scores keeps equal scores in index order.
    return np.argsort(-scores, kind="stable")[:k].astype(np.int64)


def power_sample(scores, k: int, rng: np.random.Generator, beta: float = 1.0) -> np.ndarray:
    """Stochastic "power" acquisition (Kirsch et al. 2023, e.g. PowerBALD).

    Draws k distinct indices without replacement with probability proportional to
    ``scores ** beta``. Top-k of a static score picks near-duplicates of one another;
    sampling spreads the batch at no extra cost. ``beta`` -> inf approaches top-k,
    ``beta = 0`` is uniform. Scores must be finite and non-negative; a zero score is
    only picked once every positive-score point has been.
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    k = _check_k(k, scores.size)
    if not np.all(np.isfinite(scores)) or np.any(scores < 0):
        raise ValueError("power_sample needs finite, non-negative scores (shift margin scores, e.g. 1 + margin)")
    # Gumbel-top-k: the top k of log-weight + Gumbel noise is a sample without
    # replacement proportional to the weights, in one vectorised draw. log(tiny) ~ -708
    # puts zero scores far below any positive one without producing -inf.
    keys = beta * np.log(np.maximum(scores, _TINY)) + rng.gumbel(size=scores.size)
    return top_k(keys, k)


# ------------------------------------------------------------------- group-aware selection


def _as_labels(labels, n: int, what: str) -> np.ndarray:
    labels = np.asarray(labels).ravel()
    if labels.size != n:
        raise ValueError(f"{what} must have one entry per score ({n}), got {labels.size}")
    if labels.size and (not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0):
        raise ValueError(f"{what} must be non-negative integers")
    return labels.astype(np.int64)


def _rank_within(labels: np.ndarray) -> np.ndarray:
    """For labels listed best first: each entry's rank (0, 1, ...) among the entries with its label."""
    by_label = np.argsort(labels, kind="stable")
    counts = np.bincount(labels)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    within = np.empty(labels.size, dtype=np.int64)
    within[by_label] = np.arange(labels.size) - starts
    return within


def round_robin_by_group(scores, groups, k: int) -> np.ndarray:
    """k indices taken from each group in turn, every group's best first (group-balanced top-k).

    The points are ranked by score (ties: lower index). Round r holds every group's r-th best
    point, in score order, and rounds follow one another; a group that has run out simply sits
    the later rounds out, so the batch is always k long (interleaving with ``zip(*groups)``, as
    BaaL's BalancedHeuristic does, stops at the smallest group). Which group fills the last,
    partial round is decided by score, not by group number.
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    groups = _as_labels(groups, scores.size, "groups")
    k = _check_k(k, scores.size)
    ranked = top_k(scores, scores.size)
    within = _rank_within(groups[ranked])
    # Primary key: the round (rank within the group); secondary: the overall rank.
    return ranked[np.lexsort((np.arange(scores.size), within))[:k]]


def stratified_top_k(scores, strata, quotas) -> np.ndarray:
    """The ``quotas[s]`` highest-scoring indices of each stratum ``s``, best first overall.

    A stratum with fewer points than its quota gives all it has, and the shortfall is filled
    with the highest-scoring points left, whatever their stratum, so the batch holds
    ``min(sum(quotas), N)`` points. ``strata`` are integers in ``[0, len(quotas))``.
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    strata = _as_labels(strata, scores.size, "strata")
    quotas = np.asarray(quotas, dtype=np.int64).ravel()
    if np.any(quotas < 0):
        raise ValueError("quotas must be >= 0")
    if strata.size and strata.max() >= quotas.size:
        raise ValueError(f"strata must be < len(quotas) = {quotas.size}, got {strata.max()}")
    k = _check_k(int(quotas.sum()), scores.size)
    ranked = top_k(scores, scores.size)
    ranked_strata = strata[ranked]
    within_quota = _rank_within(ranked_strata) < quotas[ranked_strata]
    taken = np.flatnonzero(within_quota)
    shortfall = k - taken.size
    if shortfall > 0:
        taken = np.sort(np.concatenate([taken, np.flatnonzero(~within_quota)[:shortfall]]))
    return ranked[taken]


# --------------------------------------------------------------------------- BatchBALD


def _exact_configs(mc_probs: np.ndarray, chosen) -> np.ndarray:
    """P[k, t] = prod_i p(y_i = config_k_i | w_t) over all C^n label configurations."""
    configs = np.ones((1, mc_probs.shape[2]))
    for i in chosen:
        configs = _extend_exact(configs, mc_probs[i])
    return configs


def _extend_exact(configs: np.ndarray, point_probs: np.ndarray) -> np.ndarray:
    # Every old configuration times every label of the new point: [K, T] x [C, T] -> [K*C, T].
    return (configs[:, None, :] * point_probs[None, :, :]).reshape(-1, configs.shape[1])


def _sample_configs(mc_probs: np.ndarray, chosen, t_idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """M configurations drawn from the joint over the chosen points, as P[m, t]."""
    configs = np.ones((t_idx.size, mc_probs.shape[2]))
    for i in chosen:
        configs = _extend_sampled(configs, mc_probs[i], t_idx, rng)
    return configs


def _extend_sampled(
    configs: np.ndarray, point_probs: np.ndarray, t_idx: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    # Each configuration keeps the model index t_m it was drawn with, and the new label
    # comes from p(. | w_{t_m}): the extended samples remain draws from the joint
    # p(y_1..y_n) = E_t[prod_i p(y_i | w_t)], which the importance weights rely on.
    cdf = np.cumsum(point_probs[:, t_idx].T, axis=1)  # [M, C]
    # Scaling u by the row total means a class of probability 0 can never be drawn.
    threshold = rng.random(t_idx.size) * cdf[:, -1]
    labels = np.minimum((cdf <= threshold[:, None]).sum(axis=1), cdf.shape[1] - 1)
    return configs * point_probs[labels, :]


def _joint_entropies(configs: np.ndarray, mc_probs: np.ndarray, sampled: bool) -> np.ndarray:
    """H(y_1..y_n, y_cand) for every candidate, given the chosen points' configs P [K, T].

    The joint p(config_k, y_cand = c) = (1/T) sum_t P[k, t] p(c | w_t) is the einsum
    'kt,nct->nkc' / T, done as one matmul per chunk of candidates (laid out [n, C, K]).
    With ``sampled`` the K rows are draws from p(y_1..y_n) and the entropy is the
    importance-weighted estimate -(1/M) sum_m sum_c p(y_m, c) / q(y_m) log p(y_m, c).
    """
    n, c, t = mc_probs.shape
    k = configs.shape[0]
    configs_t = configs.T  # [T, K]
    if sampled:
        # q(y_m) = mean_t P[m, t], the exact probability of the sampled configuration.
        weights = 1.0 / (np.maximum(configs.mean(axis=1), _TINY) * k)
    # Bound the joint block (and the matching slice of mc_probs) to ~_CHUNK_FLOATS values;
    # with the one temporary that is ~2 * _CHUNK_FLOATS floats alive at a time.
    chunk = max(1, _CHUNK_FLOATS // (c * (k + t)))
    out = np.empty(n)
    for start in range(0, n, chunk):
        block = mc_probs[start : start + chunk]
        joint = (block.reshape(-1, t) @ configs_t).reshape(block.shape[0], c, k)
        joint /= t
        # p log p with one temporary: the joint is the big array here.
        terms = np.maximum(joint, _TINY)
        np.log(terms, out=terms)
        terms *= joint
        if sampled:
            terms *= weights
        out[start : start + chunk] = -terms.sum(axis=(1, 2))
    return out


def batchbald(mc_probs, k: int, rng: np.random.Generator, max_configs: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Greedy BatchBALD (Kirsch et al. 2019).

    BALD scores points one by one, so a batch of top-k BALD can be k copies of the same
    information. BatchBALD scores the batch jointly:
    a(y_1..y_n) = H(y_1..y_n) - sum_i E_t[H(y_i | w_t)], and grows the batch greedily with
    the candidate that maximises it. A duplicate of a chosen point adds nothing.

    The joint over the chosen points is kept as P[K, T] (P[k, t] = prod_i p(config_k_i | w_t)).
    While K*C <= ``max_configs`` all configurations are enumerated (exact); past that,
    ``max_configs`` configurations sampled from the joint are used with an
    importance-weighted entropy estimate. ``rng`` is only consumed by the sampled path.

    Returns ``(indices, gains)``: the chosen indices (int64, in selection order) and, for
    each, its marginal gain a(batch + point) - a(batch) when it was picked (float64). The
    first gain is the point's BALD score, so k=1 is BALD's argmax. On the sampled path the
    gains carry Monte-Carlo noise (a few hundredths of a nat at M ~ 1000).
    """
    mc_probs = _as_mc_probs(mc_probs)
    n, c, t = mc_probs.shape
    k = _check_k(k, n)
    if max_configs < 1:
        raise ValueError(f"max_configs must be >= 1, got {max_configs}")

    conditional = _conditional_entropy(mc_probs)
    chosen: list[int] = []
    gains = np.empty(k)
    exact = np.ones((1, t))  # the empty batch: one configuration of probability 1
    sampled = None  # [M, T], created when enumeration gets too big
    t_idx = None
    available = np.ones(n, dtype=bool)
    previous = 0.0  # a(batch) of the batch chosen so far
    cond_sum = 0.0

    for step in range(k):
        if sampled is None and exact.shape[0] * c > max_configs:
            # Switch to sampling: draw a model index per configuration, then labels for
            # the points already chosen; from now on they are extended, never redrawn.
            exact = None
            t_idx = rng.integers(t, size=max_configs)
            sampled = _sample_configs(mc_probs, chosen, t_idx, rng)
        if sampled is None:
            joint_h = _joint_entropies(exact, mc_probs, sampled=False)
        else:
            joint_h = _joint_entropies(sampled, mc_probs, sampled=True)
        scores = joint_h - cond_sum - conditional
        scores[~available] = -np.inf
        best = int(np.argmax(scores))  # ties: lowest index, as in top_k

        gains[step] = scores[best] - previous
        previous = scores[best]
        cond_sum += conditional[best]
        chosen.append(best)
        available[best] = False
        if sampled is None:
            exact = _extend_exact(exact, mc_probs[best])
        else:
            sampled = _extend_sampled(sampled, mc_probs[best], t_idx, rng)

    return np.asarray(chosen, dtype=np.int64), gains


# ----------------------------------------------------------------------------- core-set


def _as_features(features, labeled_features) -> tuple[np.ndarray, np.ndarray]:
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(f"features must have shape [N, D], got {features.shape}")
    labeled = np.asarray(labeled_features, dtype=np.float64)
    if labeled.size == 0:
        labeled = labeled.reshape(0, features.shape[1])
    if labeled.ndim != 2 or labeled.shape[1] != features.shape[1]:
        raise ValueError(f"labeled_features must have shape [L, {features.shape[1]}], got {labeled.shape}")
    return features, labeled


def _min_sq_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Squared Euclidean distance from each row of x to its nearest row of y, in blocks.

    Never builds the full [N, L] matrix: blocks of at most ~_CHUNK_FLOATS entries.
    """
    out = np.full(x.shape[0], np.inf)
    if y.shape[0] == 0 or x.shape[0] == 0:
        return out
    x_sq = np.einsum("nd,nd->n", x, x)
    y_sq = np.einsum("ld,ld->l", y, y)
    cols = min(y.shape[0], _CHUNK_FLOATS)
    rows = max(1, _CHUNK_FLOATS // cols)
    for r in range(0, x.shape[0], rows):
        best = out[r : r + rows]  # a view: updated in place
        for s in range(0, y.shape[0], cols):
            # |x - y|^2 = |x|^2 + |y|^2 - 2 x.y turns the block into one matmul.
            block = x_sq[r : r + rows, None] + y_sq[None, s : s + cols] - 2.0 * (x[r : r + rows] @ y[s : s + cols].T)
            np.minimum(best, block.min(axis=1), out=best)
    # Rounding in the expansion can dip just below 0 for (near-)identical points.
    return np.maximum(out, 0.0)


def kcenter_distances(features, labeled_features) -> np.ndarray:
    """Each candidate's Euclidean distance to its nearest labeled point, float64 [N].

    A per-sample view of the core-set criterion (far from everything labeled = worth
    labeling). With no labeled points every distance is +inf.
    """
    features, labeled = _as_features(features, labeled_features)
    return np.sqrt(_min_sq_distances(features, labeled))


def kcenter_greedy(features, labeled_features, k: int) -> np.ndarray:
    """Core-set selection (Sener & Savarese 2018) by greedy k-center, int64 indices.

    Repeatedly picks the candidate farthest from its nearest centre (the labeled points
    and the candidates picked so far), so the batch covers the feature space. With no
    labeled points the first pick is the candidate farthest from the candidates' mean
    (an extreme point, independent of pool order, instead of an arbitrary index 0); the
    mean itself is not kept as a centre.
    """
    features, labeled = _as_features(features, labeled_features)
    n = features.shape[0]
    k = _check_k(k, n)
    chosen = np.empty(k, dtype=np.int64)
    if k == 0:
        return chosen

    sq_norms = np.einsum("nd,nd->n", features, features)
    if labeled.shape[0] > 0:
        min_sq = _min_sq_distances(features, labeled)
    else:
        min_sq = _min_sq_distances(features, features.mean(axis=0, keepdims=True))

    for step in range(k):
        best = int(np.argmax(min_sq))  # ties: lowest index
        chosen[step] = best
        if step == 0 and labeled.shape[0] == 0:
            min_sq = np.full(n, np.inf)  # drop the mean: it only chose the first pick
        # One O(N*D) matvec per pick updates every candidate's nearest-centre distance.
        centre = features[best]
        to_centre = np.maximum(sq_norms + centre @ centre - 2.0 * (features @ centre), 0.0)
        np.minimum(min_sq, to_centre, out=min_sq)
        # Rounding may leave a picked point a hair above 0; -inf guarantees it is never
        # picked twice, even when all remaining points are duplicates of it.
        min_sq[best] = -np.inf
    return chosen

"""Exact expected sub-optimality of bandit rules on two-armed Bernoulli bandits.

Under the LCB data model (Rashidinejad et al. 2021, Sec. 2) each of N samples pulls arm 0 with probability
``mu_0``, so ``n_0 ~ Bin(N, mu_0)``, ``n_1 = N - n_0``, and the reward sums are ``k_a ~ Bin(n_a, r_a)``. A rule that
picks ``argmax_a score(n_a, k_a)`` (ties to arm 0) therefore has expected sub-optimality

    E[r* - r(a_hat)] = gap * sum_{n_0} Bin(n_0; N, mu_0) * Pr(a_hat is the worse arm | n_0),

and for a fixed ``n_0`` the inner probability is a sum over ``k_0`` of a binomial tail in ``k_1`` (scores increase
with ``k``), found by one sorted search: O(N^2) work in all, exact up to floating point. This resolves the
exponentially small sub-optimality of the most-played arm (Prop. 2) where Monte Carlo sees only zeros.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from theory_rl._validation import as_float_array, check_distributions, check_positive_int, check_range
from theory_rl.algorithms.lcb import bandit_scores

__all__ = ["exact_suboptimality"]


def _choose_arm1_probability(n0: int, N: int, r: np.ndarray, algorithm: str, delta, penalty_scale) -> float:
    """``Pr(rule picks arm 1 | n_0)`` by summing over both reward sums."""
    n1 = N - n0
    k0, k1 = np.arange(n0 + 1), np.arange(n1 + 1)
    s0 = bandit_scores(np.full(n0 + 1, n0), k0, N, 2, algorithm=algorithm, delta=delta, penalty_scale=penalty_scale)
    s1 = bandit_scores(np.full(n1 + 1, n1), k1, N, 2, algorithm=algorithm, delta=delta, penalty_scale=penalty_scale)
    p0 = stats.binom.pmf(k0, n0, r[0])
    p1 = stats.binom.pmf(k1, n1, r[1])
    # Scores are non-decreasing in k, so arm 1 wins (strictly: ties go to arm 0) on a suffix of k_1.
    order = np.argsort(s1, kind="stable")
    first_winner = np.searchsorted(s1[order], s0, side="right")
    tail = np.concatenate([np.cumsum(p1[order][::-1])[::-1], [0.0]])  # tail[j] = sum_{i >= j} p1[order[i]]
    return float(p0 @ tail[first_winner])


def exact_suboptimality(
    means, mu, N: int, *, algorithm: str = "lcb", delta: float | None = None, penalty_scale: float = 1.0
) -> float:
    """Exact expected sub-optimality ``E[max(r) - r(a_hat)]`` of a rule on a two-armed Bernoulli bandit.

    Parameters
    ----------
    means : array_like, shape (2,)
        Bernoulli means of the two arms.
    mu : array_like, shape (2,)
        Data distribution over arms; ``C* = 1 / mu[a*]``.
    N : int
        Number of samples.
    algorithm : {"lcb", "greedy", "most_played"}
        LCB (Alg. 1, the conventions of :func:`theory_rl.algorithms.lcb.lcb_bandit`), the empirical best arm,
        or the most-played arm.
    delta, penalty_scale
        As in :func:`theory_rl.algorithms.lcb.lcb_bandit`.

    Returns
    -------
    float
    """
    r = as_float_array(means, "means", ndim=1)
    if r.shape != (2,):
        raise ValueError(f"means has shape {r.shape}, expected (2,)")
    check_range(r, "means", 0.0, 1.0)
    mu = as_float_array(mu, "mu", ndim=1)
    if mu.shape != (2,):
        raise ValueError(f"mu has shape {mu.shape}, expected (2,)")
    check_distributions(mu, "mu")
    N = check_positive_int(N, "N")
    gap = abs(r[0] - r[1])
    if gap == 0:
        return 0.0
    worse = int(np.argmin(r))
    n0 = np.arange(N + 1)
    weights = stats.binom.pmf(n0, N, mu[0])
    live = weights > 0  # skip counts of probability zero (mu on the boundary)
    p_arm1 = np.zeros(N + 1)
    for n in n0[live]:
        p_arm1[n] = _choose_arm1_probability(int(n), N, r, algorithm, delta, penalty_scale)
    p_worse = p_arm1 if worse == 1 else 1.0 - p_arm1
    return float(gap * (weights @ p_worse))

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
from scipy import special, stats

from theory_rl._validation import (
    Integer,
    Options,
    Real,
    as_float_array,
    check_distributions,
    check_range,
    check_table,
    check_work,
    validate_params,
)
from theory_rl.algorithms.lcb import bandit_index

__all__ = ["exact_suboptimality"]


def _binom_pmf(n: int, p: float, log_factorial: np.ndarray) -> np.ndarray:
    """``Bin(k; n, p)`` for ``k = 0..n`` from a log-factorial table (scipy.stats costs ~100 us a call)."""
    k = np.arange(n + 1)
    if p in (0.0, 1.0):
        return (k == (n if p == 1.0 else 0)).astype(np.float64)
    log_pmf = log_factorial[n] - log_factorial[k] - log_factorial[n - k] + k * np.log(p) + (n - k) * np.log1p(-p)
    return np.exp(log_pmf)


def _choose_arm_probability(arm: int, n0: int, N: int, r: np.ndarray, log_factorial, algorithm, delta,
                            penalty_scale) -> float:
    """``Pr(rule picks arm | n_0)`` by summing over both reward sums.

    The probability of each arm is summed directly from its own terms (never as ``1 -`` the other's), so a
    probability of 1e-30 is computed to full relative precision: it is a sum of non-negative terms."""
    n1 = N - n0
    k0, k1 = np.arange(n0 + 1), np.arange(n1 + 1)
    # exact_suboptimality checked the arguments once; per n_0 the unchecked core of bandit_scores (issue 16).
    s0 = bandit_index(np.full(n0 + 1, n0), k0, N, 2, algorithm, delta, penalty_scale)
    s1 = bandit_index(np.full(n1 + 1, n1), k1, N, 2, algorithm, delta, penalty_scale)
    p0 = _binom_pmf(n0, r[0], log_factorial)
    p1 = _binom_pmf(n1, r[1], log_factorial)
    # Scores are non-decreasing in k, so arm 1 wins (strictly: ties go to arm 0) on a suffix of the sorted k_1 and
    # arm 0 on the complementary prefix; first_winner[i] is where that suffix starts for k_0 = i.
    order = np.argsort(s1, kind="stable")
    first_winner = np.searchsorted(s1[order], s0, side="right")
    sorted_p1 = p1[order]
    if arm == 1:
        mass = np.concatenate([np.cumsum(sorted_p1[::-1])[::-1], [0.0]])  # mass[j] = sum_{i >= j} sorted_p1[i]
    else:
        mass = np.concatenate([[0.0], np.cumsum(sorted_p1)])  # mass[j] = sum_{i < j} sorted_p1[i]
    return float(p0 @ mass[first_winner])


@validate_params(
    N=Integer(1), algorithm=Options(("lcb", "greedy", "most_played")),
    delta=Real(0.0, 1.0, closed="neither", optional=True), penalty_scale=Real(0.0, None),
)
def exact_suboptimality(
    means, mu, N: int, *, algorithm: str = "lcb", delta: float | None = None, penalty_scale: float = 1.0
) -> float | np.ndarray:
    """Exact expected sub-optimality ``E[max(r) - r(a_hat)]`` of a rule on a two-armed Bernoulli bandit.

    Parameters
    ----------
    means : array_like, shape (2,)
        Bernoulli means of the two arms.
    mu : array_like, shape (2,) or (k, 2)
        Data distribution over arms; ``C* = 1 / mu[a*]``. Several rows are evaluated at the cost of one: the
        conditional error given ``n_0`` does not depend on ``mu``.
    N : int
        Number of samples.
    algorithm : {"lcb", "greedy", "most_played"}
        LCB (Alg. 1, the conventions of :func:`theory_rl.algorithms.lcb.lcb_bandit`), the empirical best arm,
        or the most-played arm.
    delta, penalty_scale
        As in :func:`theory_rl.algorithms.lcb.lcb_bandit`.

    Returns
    -------
    float, or numpy.ndarray of shape (k,) for k rows of ``mu``
        A scalar (or one per row of ``mu``), not a :class:`~theory_rl.results.Result`: it is an expectation over
        every dataset of size N, so there is no single policy or value function to report.
    """
    r = as_float_array(means, "means", ndim=1)
    if r.shape != (2,):
        raise ValueError(f"means has shape {r.shape}, expected (2,)")
    check_range(r, "means", 0.0, 1.0)
    mu = as_float_array(mu, "mu", ndim=(1, 2))
    single = mu.ndim == 1
    mu = np.atleast_2d(mu)
    if mu.shape[1] != 2:
        raise ValueError(f"mu has shape {mu.shape}, expected (2,) or (k, 2)")
    check_distributions(mu, "mu")
    check_table("the binomial weights", (mu.shape[0], N + 1), ("rows of mu", "N + 1"))
    if algorithm != "most_played":  # N + 1 conditional probabilities, each O(N) plus ~1e5 ops of call overhead
        check_work((N + 1) * (20 * N + 10**5), "N", hint="the exact sum is O(N^2); use Monte Carlo for large N")
    gap = abs(r[0] - r[1])
    n0 = np.arange(N + 1)
    weights = stats.binom.pmf(n0[None, :], N, mu[:, :1])  # (k, N + 1)
    live = (weights > 0).any(axis=0)  # skip counts of probability zero under every mu (mu on the boundary)
    worse = 1 if r[1] < r[0] else 0
    p_worse = np.zeros(N + 1)
    if algorithm == "most_played":
        arm1_chosen = N - n0 > n0  # the choice depends on the counts alone; ties go to arm 0
        p_worse = (arm1_chosen if worse == 1 else ~arm1_chosen).astype(np.float64)
    elif gap > 0:
        log_factorial = special.gammaln(np.arange(N + 1) + 1.0)  # log k! = log Gamma(k + 1)
        for n in n0[live]:
            p_worse[n] = _choose_arm_probability(worse, int(n), N, r, log_factorial, algorithm, delta, penalty_scale)
    result = gap * (weights @ p_worse)
    return float(result[0]) if single else result

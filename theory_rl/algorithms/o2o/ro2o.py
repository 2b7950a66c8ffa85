"""RO2O's uncertainty half on tabular MDPs: one bootstrap-ensemble LCB, offline and online.

Wen, Yu, Yang, Bai, Wang, "Towards Robust Offline-to-Online Reinforcement Learning via Uncertainty and
Smoothness" (arXiv 2309.16973 [U: venue and year not checked]). The code (a CORL-derived single file, digest WP-C,
C4 [V: code]) trains a SAC-N ensemble (N = 10) and, online, an actor on ``mean_i Q_i - 4 std_i Q_i``
(``beta_online = -4``): the same kind of pessimism before and after the switch. Its smoothness terms (Q and policy
smoothness over perturbed states) have **no tabular analogue**: there is no metric on states to perturb in.

Tabular analogue:

- :func:`bootstrap_models` -- ``n_members`` models from the counts: at a seen pair, ``P_i(. | s, a)`` is the
  empirical distribution of ``N(s, a)`` next states redrawn from the data's (a bootstrap), ``r_i`` the mean of
  ``N(s, a)`` Bernoulli draws at ``r_hat`` (the bootstrap of 0/1 rewards; an approximation for other rewards); at an
  unseen pair, a uniform-Dirichlet row and a uniform reward per member (the disagreement of randomly initialised
  critics off the data);
- :func:`ensemble_lcb` -- policy iteration with the actor greedy in ``mean_i Q_i^pi - std_coef std_i Q_i^pi``
  (``Q_i^pi`` exact in member ``i``), ``std_coef = 4`` by default;
- :func:`expected_min_coefficient` -- ``c_n = -E[min of n standard normals]``, so that the min over ``n`` members
  is ``mean - c_n std`` on average for Gaussian members (``c_10 = 1.539``); the calibration that relates SAC-N's
  min-target to an LCB with ``std_coef = c_n``.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, stats

from theory_rl._random import SeedLike, as_generator
from theory_rl._validation import Integer, Real, check_on_max_iter, validate_params
from theory_rl.data import CountDataset
from theory_rl.results import IterativeResult, stop_at_max_iter

__all__ = ["RO2O_K", "RO2O_MEMBERS", "bootstrap_models", "ensemble_lcb", "expected_min_coefficient"]

#: RO2O's online actor coefficient ``beta_online = -4`` (mean - 4 std) and ensemble size N = 10 [V: code, digest].
RO2O_K = 4.0
RO2O_MEMBERS = 10


@validate_params(n=Integer(1, 10_000))
def expected_min_coefficient(n: int) -> float:
    """``c_n = -E[min(Z_1, ..., Z_n)]`` for i.i.d. standard normals (exact quadrature; ``c_1 = 0``)."""
    if n == 1:
        return 0.0

    def density(x):  # x times the density of the minimum
        return x * n * stats.norm.pdf(x) * stats.norm.sf(x) ** (n - 1)

    value, _ = integrate.quad(density, -np.inf, np.inf, epsabs=1e-12, epsrel=1e-12)
    return float(-value)


def _check_counts(data) -> CountDataset:
    if not isinstance(data, CountDataset):
        raise ValueError(f"data is a {type(data).__name__}, expected a CountDataset")
    if data.horizon is not None or data.gamma is None or not 0 <= data.gamma < 1:
        raise ValueError(f"data must be discounted counts with gamma in [0, 1); got horizon={data.horizon}, "
                         f"gamma={data.gamma}")  # fmt: skip
    return data


@validate_params(n_members=Integer(1, 1_000))
def bootstrap_models(data: CountDataset, n_members: int = RO2O_MEMBERS, *, seed: SeedLike):
    """``(P, R)`` of ``n_members`` bootstrap models, shapes ``(m, S, A, S)`` and ``(m, S, A)`` (see the module)."""
    data = _check_counts(data)
    rng = as_generator(seed)
    S, A = data.S, data.A
    N = np.asarray(data.counts, dtype=np.int64)
    C = np.asarray(data.transition_counts, dtype=np.float64)
    seen = N > 0
    safe = np.where(seen, N, 1)
    p_hat = np.where(seen[..., None], C / safe[..., None], 1.0 / S)
    r_hat = np.clip(np.asarray(data.reward_sums, float) / safe, 0.0, 1.0)
    P = np.empty((n_members, S, A, S))
    R = np.empty((n_members, S, A))
    flat_n, flat_p = N.reshape(-1), p_hat.reshape(-1, S)
    for i in range(n_members):
        P[i] = (rng.multinomial(np.where(flat_n > 0, flat_n, 1), flat_p) / np.where(flat_n > 0, flat_n, 1)[:, None]
                ).reshape(S, A, S)  # fmt: skip
        R[i] = rng.binomial(safe, r_hat) / safe
        unseen = ~seen
        P[i][unseen] = rng.dirichlet(np.ones(S), size=int(unseen.sum()))
        R[i][unseen] = rng.random(int(unseen.sum()))
    return P, R


def _member_q(P, R, gamma, pi):
    """``Q_i^pi`` in every member, ``(m, S, A)``: one linear solve per member."""
    m, S, A, _ = P.shape
    P_pi = np.einsum("msat,sa->mst", P, np.eye(A)[pi])
    r_pi = R[:, np.arange(S), pi]
    V = np.linalg.solve(np.eye(S)[None] - gamma * P_pi, r_pi[..., None])[..., 0]
    return R + gamma * np.einsum("msat,mt->msa", P, V)


@validate_params(n_members=Integer(2, 1_000), std_coef=Real(0.0, None), max_iter=Integer(1))
def ensemble_lcb(
    data: CountDataset,
    *,
    seed: SeedLike,
    n_members: int = RO2O_MEMBERS,
    std_coef: float = RO2O_K,
    max_iter: int = 100,
    on_max_iter: str = "raise",
) -> IterativeResult:
    """Policy iteration with the actor greedy in ``mean_i Q_i^pi - std_coef std_i Q_i^pi`` over bootstrap models.

    ``std_coef = 4`` is RO2O's ``-beta_online`` [V: code]; ``n_members = 10`` its ensemble size.

    Starts from the most played action; an action changes only when another one scores strictly higher. Stops
    when no action does; the score is no single MDP's value, so the greedy step can cycle: on a repeated policy it
    stops with the policy of the cycle of highest mean score (``constants["cycle_length"]`` > 0).

    Returns
    -------
    IterativeResult
        ``policy`` (S,), ``Q`` the scores ``mean - std_coef std`` ``(S, A)``, ``V`` the scores of the policy;
        ``constants``: ``n_members``, ``std_coef``, ``cycle_length``.
    """
    data = _check_counts(data)
    on_max_iter = check_on_max_iter(on_max_iter)
    P, R = bootstrap_models(data, n_members, seed=seed)
    pi = np.asarray(data.counts).argmax(axis=1)
    S = data.S
    states = np.arange(S)

    def scores(pi):
        Q = _member_q(P, R, data.gamma, pi)
        return Q.mean(axis=0) - std_coef * Q.std(axis=0)

    seen: dict[bytes, int] = {}
    history: list[np.ndarray] = []
    cycle = 0
    for it in range(1, max_iter + 1):
        score = scores(pi)
        best = score.argmax(axis=1)
        better = score[states, best] > score[states, pi] + 1e-12
        if not better.any():
            converged = True
            break
        seen[pi.tobytes()] = len(history)
        history.append(pi)
        pi = np.where(better, best, pi)
        if pi.tobytes() in seen:  # mean - c std is no single MDP's value: the greedy step can cycle
            loop = history[seen[pi.tobytes()]:]
            pi = max(loop, key=lambda p: float(scores(p)[states, p].mean()))
            score, cycle, converged = scores(pi), len(loop), True
            break
    else:
        converged = False
        stop_at_max_iter(on_max_iter, "ensemble_lcb", max_iter)
        score = scores(pi)
    return IterativeResult(policy=pi, V=score[states, pi], Q=score, method="ensemble_lcb",
                           constants={"n_members": n_members, "std_coef": std_coef, "cycle_length": cycle},
                           iterations=it, residual=0.0, error_bound=float("nan"), converged=converged)  # fmt: skip

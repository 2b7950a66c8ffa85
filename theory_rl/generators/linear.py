"""Linear-MDP instance families: random rank-d models and the coverage / hybrid families of FTPedel's experiments.

- :func:`random_linear_mdp`: Dirichlet features, random measures (the test bed of PEVI and LSVI-UCB).
- :func:`coverage_family`: two steps, tunable online reachability of each feature direction (offline data can be
  placed anywhere), for the offline-to-online coefficient of Wagenmaker & Pacchiano (2023).
- :func:`hybrid_family`: its d = 2 member of papers/ftpedel.md.
- :func:`random_factored_linear_mdp`: a random :class:`theory_rl.linear.FactoredLinearMDP` with simplex features,
  built in O(S A d + H' d S) time and memory (no (H, S, A, S) table), up to millions of states (issue 15).

(Formerly in ``theory_rl.linear``, where the old names remain as deprecated aliases.)
"""

from __future__ import annotations

import numpy as np

from theory_rl._random import as_generator
from theory_rl._validation import (
    Boolean,
    Integer,
    Options,
    Real,
    as_float_array,
    check_shape,
    check_table,
    validate_params,
)
from theory_rl.linear import FactoredLinearMDP, LinearMDP
from theory_rl.mdp import REWARD_NOISES

__all__ = ["random_linear_mdp", "coverage_family", "hybrid_family", "random_factored_linear_mdp"]


@validate_params(S=Integer(1), A=Integer(1), d=Integer(1), horizon=Integer(1),
                 concentration=Real(0.0, closed="neither"))
def random_linear_mdp(S: int, A: int, d: int, horizon: int, *, seed, concentration: float = 1.0) -> LinearMDP:
    """A random rank-``d`` linear MDP.

    ``phi(s, a)`` ~ Dirichlet(concentration) on the simplex of R^d (so ``||phi||_2 <= 1``), each ``mu_h[i]`` a
    random distribution over states and ``theta_h`` uniform in [0, 1]^d; then ``P_h(. | s, a) = sum_i phi_i mu_h[i]``
    is a distribution and rewards lie in [0, 1].
    """
    H = horizon
    check_table("phi", (S, A, d), ("S", "A", "d"))
    check_table("mu", (H, d, S), ("horizon", "d", "S"))
    rng = as_generator(seed)
    phi = rng.dirichlet(np.full(d, float(concentration)), size=(S, A))
    mu = rng.dirichlet(np.ones(S), size=(H, d)).reshape(H, d, S)
    theta = rng.random((H, d))
    init = rng.dirichlet(np.ones(S))
    return LinearMDP(phi, mu, theta, init)


@validate_params(reward_noise=Options(REWARD_NOISES))
def coverage_family(reach, *, theta0=None, theta1=None, reward_noise: str = "bernoulli") -> LinearMDP:
    """A two-step linear MDP with tunable online reachability of each feature direction.

    With ``k = len(reach)`` and ``d = k + 1``: states ``s0`` (start), ``u_0..u_{k-1}`` (rare) and ``c`` (common),
    ``S = k + 2``, ``A = k + 1``. At step 0 in ``s0``, action ``j < k`` has feature ``e_j`` and reaches ``u_j`` with
    probability ``reach[j]`` (else ``c``); action ``k`` has feature ``e_k`` and reaches ``c``. At step 1 in ``u_j``,
    action 0 has feature ``e_j`` and every other action ``e_k``; everywhere else the feature is ``e_k``. The
    covariances reachable online at step 1 are ``diag(reach_0 x_0, ..., reach_{k-1} x_{k-1}, 1 - sum reach_j x_j)``,
    so small ``reach[j]`` makes direction ``j`` expensive online, while offline data can be placed on any ``(u_j, 0)``
    (per-pair counts of :func:`theory_rl.data.sample_generative`).

    Parameters
    ----------
    reach : array_like, shape (k,)
        Probabilities in (0, 1].
    theta0, theta1 : array_like, shape (d,), optional
        Reward parameters of steps 0 and 1 (default: 0 at step 0; ``theta1 = (0.9, ..., 0.9, 0.5)``).
    """
    reach = as_float_array(reach, "reach", ndim=1)
    k = reach.size
    if k < 1:
        raise ValueError("reach must have at least one entry")
    bad = (reach <= 0) | (reach > 1)
    if bad.any():
        j = int(np.argwhere(bad)[0, 0])
        raise ValueError(f"reach[{j}] is {reach[j]}, expected a probability in (0, 1]")
    d, S, A = k + 1, k + 2, k + 1
    s0, c = 0, k + 1
    E = np.eye(d)
    phi = np.empty((2, S, A, d))
    phi[:] = E[k]
    phi[0, s0] = E
    for j in range(k):
        phi[1, 1 + j, 0] = E[j]
    mu = np.zeros((2, d, S))
    for j in range(k):
        mu[0, j, 1 + j] = reach[j]
        mu[0, j, c] += 1.0 - reach[j]
    mu[0, k, c] = 1.0
    mu[1, :, s0] = 1.0  # the episode ends after step 1; any distribution will do
    theta0 = np.zeros(d) if theta0 is None else as_float_array(theta0, "theta0", ndim=1)
    theta1 = np.r_[np.full(k, 0.9), 0.5] if theta1 is None else as_float_array(theta1, "theta1", ndim=1)
    check_shape(theta0, "theta0", (d,))
    check_shape(theta1, "theta1", (d,))
    init = np.zeros(S)
    init[s0] = 1.0
    return LinearMDP(phi, mu, np.stack([theta0, theta1]), init, reward_noise=reward_noise)


@validate_params(p=Real(0.0, 1.0, closed="right"), r_explore=Real(0.0, 1.0), r_safe=Real(0.0, 1.0),
                 r_rare=Real(0.0, 1.0), r_common=Real(0.0, 1.0), reward_noise=Options(REWARD_NOISES))
def hybrid_family(p: float = 0.1, *, r_explore: float = 0.0, r_safe: float = 0.0, r_rare: float = 0.9,
                  r_common: float = 0.5, reward_noise: str = "bernoulli") -> LinearMDP:
    """The d = 2 hybrid family of papers/ftpedel.md (a stand-in for Wagenmaker & Pacchiano's example).

    ``coverage_family([p])``: online, the direction ``e1`` of step 1 is reached with probability at most ``p``
    (reachable covariances ``diag(p x, 1 - p x)``); offline data on ``(u_0, 0)`` gives ``Lambda_off = N_off e1 e1^T``.
    Rewards: step 0 ``(r_explore, r_safe)``, step 1 ``(r_rare, r_common)``.

    Notes
    -----
    By Jensen, ``phi_pi phi_pi^T <= Lambda_pi``, so PEDEL's inf-max term is at most d (its Prop. 2) on every
    instance: the hybrid gain in the leading term of C_o2o is at most a factor d = 2 here, not ``1/p``.
    """
    return coverage_family([p], theta0=[r_explore, r_safe], theta1=[r_rare, r_common], reward_noise=reward_noise)


@validate_params(S=Integer(1), A=Integer(1), d=Integer(1), horizon=Integer(1),
                 concentration=Real(0.0, closed="neither"), stationary=Boolean(),
                 reward_noise=Options(REWARD_NOISES))
def random_factored_linear_mdp(S: int, A: int, d: int, horizon: int, *, seed, concentration: float = 1.0,
                               stationary: bool = True, reward_noise: str = "bernoulli") -> FactoredLinearMDP:
    """A random factored linear MDP with simplex features (Jin et al. 2020, Example 2.2), never materialised.

    ``phi(s, a) ~ Dirichlet(concentration 1_d)`` (rows on the simplex, ``||phi||_2 <= 1``), each ``mu_h[i]`` a
    Dirichlet(1_S) distribution over states (normalised exponentials), ``theta_h ~ U[0, 1]^d`` (so rewards lie in
    [0, 1]) and ``init ~ Dirichlet(1_S)``. ``stationary=True`` (default) shares ``phi`` (S, A, d) and ``mu``
    (d, S) over the H steps (memory ``8 (S A d + d S)`` bytes); ``False`` draws one per step (``H`` times more).

    Draw order (seeds explicit, one Generator from ``seed``): phi, mu, theta, init (a feature row whose d gammas
    all underflow to 0, possible only for tiny concentrations, becomes a uniformly drawn vertex, drawn last).
    """
    H = horizon
    n = 1 if stationary else H
    check_table("phi", (n, S, A, d), ("stages", "S", "A", "d"))
    check_table("mu", (n, d, S), ("stages", "d", "S"))
    check_table("theta", (H, d), ("horizon", "d"))
    rng = as_generator(seed)
    g = rng.standard_gamma(float(concentration), size=(n, S, A, d))
    tot = g.sum(axis=-1, keepdims=True)
    zero = tot[..., 0] == 0.0  # all d gammas underflowed (tiny concentration): the Dirichlet's limit, a vertex
    if zero.any():
        g[zero] = np.eye(d)[rng.integers(d, size=int(zero.sum()))]
        tot[zero] = 1.0
    g /= tot
    e = rng.standard_exponential(size=(n, d, S))
    e /= e.sum(axis=-1, keepdims=True)
    theta = rng.random((H, d))
    init = rng.standard_exponential(S)
    init /= init.sum()
    phi, mu = (g[0], e[0]) if stationary else (g, e)
    return FactoredLinearMDP(phi, mu, theta, init, reward_noise=reward_noise)

"""Finite-horizon linear MDPs (Jin, Yang, Wang & Jordan 2020, Assumption A; Yang & Wang 2019).

A linear MDP has known features ``phi_h(s, a) in R^d`` and unknown measures and reward parameters with
``P_h(s' | s, a) = <phi_h(s, a), mu_h(s')>`` and ``r_h(s, a) = <phi_h(s, a), theta_h>``. On a finite state space it is
a tabular MDP with rank-``d`` transitions, so :meth:`LinearMDP.to_tabular` gives exact planning and evaluation
through :mod:`theory_rl.planning`, and every tabular MDP is linear with one-hot features, ``d = S A``
(:meth:`LinearMDP.from_tabular`).

Data are kept as sufficient statistics (:class:`Counts`): transition counts ``N_h(s, a, s')`` and reward sums.
Every least-squares estimate of the papers (PEVI, LSVI-UCB, PEDEL/FTPedel) is a function of them, because the
features depend on ``(h, s, a)`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._random import as_generator
from theory_rl._validation import (
    PROB_TOL,
    as_float_array,
    check_distributions,
    check_positive_int,
    check_shape,
    readonly,
)
from theory_rl._validation import (
    index_str as _index,
)
from theory_rl.mdp import REWARD_NOISES, TabularMDP

__all__ = [
    "LinearMDP",
    "Counts",
    "random_linear_mdp",
    "coverage_family",
    "hybrid_family",
    "sample_episodes",
    "sample_transitions",
    "sample_policy_counts",
]


#: Rows of ``P`` whose sum is within this of 1 are left as computed; numpy's multinomial accepts up to 1 + 1e-12.
_ROW_SUM_TOL = 1e-13


class LinearMDP:
    """A finite-horizon linear MDP on finite state and action spaces.

    Parameters
    ----------
    phi : array_like, shape (S, A, d) or (H, S, A, d)
        Known features ``phi_h(s, a)`` (stationary or per step).
    mu : array_like, shape (H, d, S)
        Measures: ``mu[h, :, s']`` is ``mu_h(s')``, so ``P_h(s' | s, a) = phi_h(s, a) @ mu[h, :, s']``.
    theta : array_like, shape (H, d)
        Reward parameters: mean reward ``r_h(s, a) = phi_h(s, a) @ theta[h]``.
    init : array_like, shape (S,)
        Initial-state distribution (known to the learners, as in PEDEL where ``s_1`` is fixed).
    reward_noise, reward_std
        Distribution of sampled rewards, as in :class:`theory_rl.mdp.TabularMDP`.
    tol : float, default 1e-10
        Tolerance on the validity checks below; entries of ``P`` in ``[-tol, 0)`` and rewards within ``tol`` of
        ``[0, 1]`` are clipped (round-off of the products ``phi @ mu``), and a row of ``P`` that was clipped or
        sums to ``1 +- tol`` but not to 1 within ``1e-13`` is divided by its sum, so ``P`` is an exact
        distribution for the samplers (rows already within ``1e-13`` of 1 are kept as computed).

    Raises
    ------
    ValueError
        Naming the entry when the model is not a proper MDP: ``P[h, s, a]`` = ``phi_h(s, a) @ mu_h`` has a
        negative entry or does not sum to 1, or a reward ``phi_h(s, a) @ theta_h`` is outside [0, 1]; or when
        ``reward_std`` is not a finite number ``>= 0``.
    """

    def __init__(self, phi, mu, theta, init, *, reward_noise: str = "bernoulli", reward_std: float = 0.1,
                 tol: float = PROB_TOL) -> None:
        phi = as_float_array(phi, "phi", ndim=(3, 4))
        mu = as_float_array(mu, "mu", ndim=3)
        theta = as_float_array(theta, "theta", ndim=2)
        init = as_float_array(init, "init", ndim=1)
        H, d, S = mu.shape
        check_positive_int(H, "horizon (mu.shape[0])")
        if phi.shape[-1] != d:
            raise ValueError(f"phi has feature dimension {phi.shape[-1]}, but mu has d = {d} (mu.shape[1])")
        if phi.ndim == 4 and phi.shape[0] != H:
            raise ValueError(f"phi has {phi.shape[0]} stages, expected horizon = {H} (mu.shape[0])")
        if phi.shape[-3] != S:
            raise ValueError(f"phi has {phi.shape[-3]} states, but mu has S = {S} (mu.shape[2])")
        A = phi.shape[-2]
        if A < 1 or S < 1 or d < 1:
            raise ValueError(f"phi has shape {phi.shape}: need S, A, d >= 1")
        check_shape(theta, "theta", (H, d))
        check_shape(init, "init", (S,))
        check_distributions(init, "init")
        if reward_noise not in REWARD_NOISES:
            raise ValueError(f"reward_noise is {reward_noise!r}, expected one of {REWARD_NOISES}")
        stage_phi = np.broadcast_to(phi, (H, S, A, d))
        P = np.einsum("hsad,hdt->hsat", stage_phi, mu)
        neg = P < -tol
        if neg.any():
            idx = tuple(np.argwhere(neg)[0])
            raise ValueError(f"P{_index(idx)} = <phi, mu> is {P[idx]:.6g}, expected a probability >= 0")
        clipped = (P < 0.0).any(axis=-1)
        P = np.maximum(P, 0.0)
        check_distributions(P, "P (= <phi, mu>)", tol=tol)
        # Rows accepted within tol but off 1 by more than round-off (or clipped) are rescaled to sum to 1, so the
        # samplers' multinomial draws (numpy refuses sum(p[:-1]) > 1 + 1e-12) never fail; rows within _ROW_SUM_TOL
        # of 1 are kept bit-exact (the one-hot round trip with from_tabular stays exact).
        fix = clipped | (np.abs(P.sum(axis=-1) - 1.0) > _ROW_SUM_TOL)
        if fix.any():
            P[fix] = P[fix] / P[fix].sum(axis=-1, keepdims=True)
        reward_std = float(reward_std)
        if not (np.isfinite(reward_std) and reward_std >= 0):
            raise ValueError(f"reward_std is {reward_std}, expected a finite number >= 0")
        R = np.einsum("hsad,hd->hsa", stage_phi, theta)
        bad = (R < -tol) | (R > 1 + tol)
        if bad.any():
            idx = tuple(np.argwhere(bad)[0])
            raise ValueError(f"R{_index(idx)} = <phi, theta> is {R[idx]:.6g}, expected a mean reward in [0, 1]")
        self._phi = readonly(phi)
        self._mu = readonly(mu)
        self._theta = readonly(theta)
        self._init = readonly(init)
        self._P = readonly(P)
        self._R = readonly(np.clip(R, 0.0, 1.0))
        self._reward_noise = reward_noise
        self._reward_std = reward_std

    # -- accessors ---------------------------------------------------------------------------------------------
    phi = property(lambda self: self._phi, doc="Features as given, (S, A, d) or (H, S, A, d).")
    mu = property(lambda self: self._mu, doc="Measures, (H, d, S).")
    theta = property(lambda self: self._theta, doc="Reward parameters, (H, d).")
    init = property(lambda self: self._init, doc="Initial-state distribution, (S,).")
    P = property(lambda self: self._P, doc="Transitions ``<phi_h(s, a), mu_h(s')>``, (H, S, A, S).")
    R = property(lambda self: self._R, doc="Mean rewards ``<phi_h(s, a), theta_h>``, (H, S, A).")
    horizon = property(lambda self: self._mu.shape[0], doc="Horizon H.")
    H = horizon
    S = property(lambda self: self._mu.shape[2], doc="Number of states.")
    A = property(lambda self: self._phi.shape[-2], doc="Number of actions.")
    d = property(lambda self: self._mu.shape[1], doc="Feature dimension.")
    reward_noise = property(lambda self: self._reward_noise)
    reward_std = property(lambda self: self._reward_std)

    @property
    def stage_phi(self) -> np.ndarray:
        """Features broadcast to (H, S, A, d) (a read-only view)."""
        return np.broadcast_to(self._phi, (self.H, self.S, self.A, self.d))

    @property
    def max_feature_norm(self) -> float:
        """``max_{h,s,a} ||phi_h(s, a)||_2`` (the papers assume <= 1)."""
        return float(np.linalg.norm(self._phi, axis=-1).max())

    def __setattr__(self, name, value):
        if hasattr(self, name) or not name.startswith("_"):
            raise AttributeError(f"LinearMDP is immutable; use a new instance instead of setting {name!r}")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"LinearMDP(S={self.S}, A={self.A}, d={self.d}, H={self.H})"

    # -- conversions -------------------------------------------------------------------------------------------
    def to_tabular(self) -> TabularMDP:
        """The same MDP as a :class:`TabularMDP` with stage-dependent ``P`` (H, S, A, S) and ``R`` (H, S, A)."""
        return TabularMDP(self._P, self._R, self._init, horizon=self.H, reward_noise=self._reward_noise,
                          reward_std=self._reward_std)

    @classmethod
    def from_tabular(cls, mdp: TabularMDP) -> LinearMDP:
        """One-hot linear form of a finite-horizon tabular MDP: ``d = S A``, ``phi(s, a) = e_{s A + a}``,
        ``mu_h[s A + a] = P_h(. | s, a)``, ``theta_h[s A + a] = R_h(s, a)`` (Jin et al. 2020, Example 2.1).

        The round trip ``from_tabular(m).to_tabular()`` reproduces ``P`` and ``R`` exactly (one-hot products).
        """
        if not isinstance(mdp, TabularMDP):
            raise ValueError(f"mdp must be a TabularMDP, got {type(mdp).__name__}")
        if not mdp.is_episodic:
            raise ValueError("mdp is discounted; a LinearMDP is finite-horizon (give the TabularMDP a horizon)")
        H, S, A = mdp.horizon, mdp.S, mdp.A
        phi = np.eye(S * A).reshape(S, A, S * A)
        mu = np.ascontiguousarray(mdp.stage_P.reshape(H, S * A, S))
        theta = mdp.stage_R.reshape(H, S * A)
        return cls(phi, mu, theta, mdp.init, reward_noise=mdp.reward_noise, reward_std=mdp.reward_std)

    def replace(self, **changes) -> LinearMDP:
        """A new LinearMDP with some of phi, mu, theta, init, reward_noise, reward_std replaced."""
        kw = dict(phi=self._phi, mu=self._mu, theta=self._theta, init=self._init, reward_noise=self._reward_noise,
                  reward_std=self._reward_std)
        unknown = set(changes) - set(kw)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}; expected some of {sorted(kw)}")
        kw.update(changes)
        return LinearMDP(kw.pop("phi"), kw.pop("mu"), kw.pop("theta"), kw.pop("init"), **kw)

    def with_reward(self, theta) -> LinearMDP:
        """The same dynamics with reward parameters ``theta`` (H, d)."""
        return self.replace(theta=theta)


# -- data as sufficient statistics -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Counts:
    """Sufficient statistics of transition data on a finite linear MDP.

    Attributes
    ----------
    N : numpy.ndarray, shape (H, S, A, S)
        ``N[h, s, a, s']``: number of observed transitions ``(s, a) -> s'`` at step h.
    reward_sums : numpy.ndarray, shape (H, S, A)
        Sum of the observed rewards of those transitions.
    """

    N: np.ndarray
    reward_sums: np.ndarray

    def __post_init__(self):
        N = as_float_array(self.N, "N", ndim=4)
        Rs = as_float_array(self.reward_sums, "reward_sums", ndim=3)
        check_shape(Rs, "reward_sums", N.shape[:3])
        if (N < 0).any():
            idx = tuple(np.argwhere(N < 0)[0])
            raise ValueError(f"N{_index(idx)} is {N[idx]}, expected a count >= 0")
        object.__setattr__(self, "N", readonly(N))
        object.__setattr__(self, "reward_sums", readonly(Rs))

    @classmethod
    def zeros(cls, H: int, S: int, A: int) -> Counts:
        """Empty data."""
        return cls(np.zeros((H, S, A, S)), np.zeros((H, S, A)))

    @classmethod
    def from_episodes(cls, states, actions, rewards, S: int, A: int) -> Counts:
        """Counts of episodes ``states`` (n, H+1), ``actions`` (n, H), ``rewards`` (n, H).

        Raises ValueError naming the first state outside ``0..S-1``, action outside ``0..A-1`` or non-finite
        reward (an out-of-range index would otherwise be counted silently as another pair).
        """
        states, actions = np.asarray(states, dtype=np.int64), np.asarray(actions, dtype=np.int64)
        rewards = np.asarray(rewards, dtype=np.float64)
        if actions.ndim != 2:
            raise ValueError(f"actions must have shape (n, H), got {actions.shape}")
        n, H = actions.shape
        check_shape(states, "states", (n, H + 1))
        check_shape(rewards, "rewards", (n, H))
        for name, arr, upper in (("states", states, S), ("actions", actions, A)):
            bad = (arr < 0) | (arr >= upper)
            if bad.any():
                idx = tuple(np.argwhere(bad)[0])
                raise ValueError(f"{name}{_index(idx)} is {arr[idx]}, expected a value in 0..{upper - 1}")
        if not np.isfinite(rewards).all():
            idx = tuple(np.argwhere(~np.isfinite(rewards))[0])
            raise ValueError(f"rewards{_index(idx)} is {rewards[idx]}, expected a finite number")
        hh = np.broadcast_to(np.arange(H), (n, H))
        flat = ((hh * S + states[:, :-1]) * A + actions) * S + states[:, 1:]
        N = np.bincount(flat.ravel(), minlength=H * S * A * S).reshape(H, S, A, S)
        sa = (hh * S + states[:, :-1]) * A + actions
        Rs = np.bincount(sa.ravel(), weights=rewards.ravel(), minlength=H * S * A).reshape(H, S, A)
        return cls(N.astype(np.float64), Rs)

    @property
    def n_sa(self) -> np.ndarray:
        """Visits ``n_h(s, a)``, shape (H, S, A)."""
        return self.N.sum(axis=-1)

    def __add__(self, other: Counts) -> Counts:
        if not isinstance(other, Counts) or other.N.shape != self.N.shape:
            raise ValueError("can only add Counts of the same shape")
        return Counts(self.N + other.N, self.reward_sums + other.reward_sums)

    def at_step(self, h: int) -> Counts:
        """These counts with every step but ``h`` zeroed; ``h`` must be in ``0..H-1`` (no negative indexing)."""
        H = self.N.shape[0]
        if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or not 0 <= h < H:
            raise ValueError(f"h is {h!r}, expected a step in 0..{H - 1}")
        N, Rs = np.zeros_like(self.N), np.zeros_like(self.reward_sums)
        N[h], Rs[h] = self.N[h], self.reward_sums[h]
        return Counts(N, Rs)

    def covariance(self, phi: np.ndarray) -> np.ndarray:
        """Unregularised ``Lambda_h = sum_tau phi phi^T`` per step, shape (H, d, d); ``phi`` is (H, S, A, d)."""
        return np.einsum("hsa,hsad,hsae->hde", self.n_sa, phi, phi)


def _sample_rewards(rng, R: np.ndarray, noise: str, std: float) -> np.ndarray:
    if noise == "bernoulli":
        return (rng.random(R.shape) < R).astype(np.float64)
    if noise == "gaussian":
        return R + std * rng.standard_normal(R.shape)
    return R.astype(np.float64, copy=True)


def _policy_mixture(lmdp: LinearMDP, policies, weights):
    """Validate deterministic policies (H, S) or (m, H, S) and mixture weights (default uniform)."""
    pols = np.asarray(policies)
    if pols.ndim == 2:
        pols = pols[None]
    H, S, A = lmdp.H, lmdp.S, lmdp.A
    if pols.ndim != 3 or pols.shape[1:] != (H, S):
        raise ValueError(f"policies has shape {np.shape(policies)}, expected (H, S) or (m, H, S) = (m, {H}, {S})")
    if not np.issubdtype(pols.dtype, np.integer) or pols.min() < 0 or pols.max() >= A:
        raise ValueError(f"policies must hold integer actions in 0..{A - 1}")
    m = pols.shape[0]
    weights = np.full(m, 1.0 / m) if weights is None else as_float_array(weights, "weights", ndim=1)
    check_shape(weights, "weights", (m,))
    check_distributions(weights, "weights", tol=1e-8)
    return pols, weights


def _reward_sums(rng, lmdp: LinearMDP, n_sa: np.ndarray) -> np.ndarray:
    """Sums of ``n_sa[h, s, a]`` sampled rewards per triple (Bernoulli: binomial; Gaussian: exact normal sum)."""
    if lmdp.reward_noise == "bernoulli":
        return rng.binomial(n_sa, lmdp.R).astype(np.float64)
    if lmdp.reward_noise == "gaussian":
        return n_sa * lmdp.R + lmdp.reward_std * np.sqrt(n_sa) * rng.standard_normal(lmdp.R.shape)
    return n_sa * lmdp.R


def sample_episodes(lmdp: LinearMDP, policies, n_episodes: int, *, seed, weights=None):
    """Sample episodes from a mixture of deterministic Markov policies (vectorised numpy).

    Each episode draws one policy from ``weights`` and follows it; the sim engineer's numba kernels can replace
    this sampler later.

    Parameters
    ----------
    lmdp : LinearMDP
    policies : array_like of int, shape (H, S) or (m, H, S)
    n_episodes : int
    seed : int, SeedSequence or Generator
    weights : array_like, shape (m,), optional
        Mixture weights (default uniform).

    Returns
    -------
    states (n, H+1), actions (n, H), rewards (n, H) : numpy.ndarray
    """
    rng = as_generator(seed)
    n = check_positive_int(n_episodes, "n_episodes", minimum=0)
    pols, weights = _policy_mixture(lmdp, policies, weights)
    H, S = lmdp.H, lmdp.S
    m = pols.shape[0]
    idx = rng.choice(m, size=n, p=weights / weights.sum()) if m > 1 else np.zeros(n, dtype=np.int64)
    states = np.empty((n, H + 1), dtype=np.int64)
    actions = np.empty((n, H), dtype=np.int64)
    rewards = np.empty((n, H))
    cinit = np.cumsum(lmdp.init)
    states[:, 0] = np.minimum(np.searchsorted(cinit, rng.random(n) * cinit[-1], side="right"), S - 1)
    cP = np.cumsum(lmdp.P, axis=-1)
    for h in range(H):
        s = states[:, h]
        a = pols[idx, h, s]
        actions[:, h] = a
        rewards[:, h] = _sample_rewards(rng, lmdp.R[h, s, a], lmdp.reward_noise, lmdp.reward_std)
        rows = cP[h, s, a]
        u = rng.random(n)[:, None] * rows[:, -1:]
        states[:, h + 1] = np.minimum((u >= rows).sum(axis=1), S - 1)
    return states, actions, rewards


def sample_transitions(lmdp: LinearMDP, n_sa, *, seed) -> Counts:
    """Offline data with prescribed visit counts: ``n_sa[h, s, a]`` independent transitions from each triple.

    Next states are drawn multinomially, rewards by the model's noise (Bernoulli: a binomial sum), so the counts
    can be huge at no cost. This is the "designed" offline data of FTPedel's experiments (any fixed covariance).
    """
    rng = as_generator(seed)
    n_sa = as_float_array(n_sa, "n_sa", ndim=3)
    H, S, A = lmdp.H, lmdp.S, lmdp.A
    check_shape(n_sa, "n_sa", (H, S, A))
    if (n_sa < 0).any() or (np.round(n_sa) != n_sa).any():
        idx = tuple(np.argwhere((n_sa < 0) | (np.round(n_sa) != n_sa))[0])
        raise ValueError(f"n_sa{_index(idx)} is {n_sa[idx]}, expected a non-negative integer")
    counts = n_sa.astype(np.int64)
    N = rng.multinomial(counts, lmdp.P).astype(np.float64)
    return Counts(N, _reward_sums(rng, lmdp, counts))


def sample_policy_counts(lmdp: LinearMDP, policies, n_episodes: int, *, seed, weights=None) -> Counts:
    """The counts of ``n_episodes`` independent episodes of a mixture of deterministic policies, sampled directly.

    Episodes are independent, so the number of episodes per policy is multinomial, and for one deterministic policy
    the visits ``n_{h+1}(s') = sum_s Multinomial(n_h(s), P_h(. | s, pi_h(s)))``: exactly the distribution of
    :func:`sample_episodes` followed by :meth:`Counts.from_episodes`, at a cost independent of ``n_episodes``.
    """
    rng = as_generator(seed)
    n = check_positive_int(n_episodes, "n_episodes", minimum=0)
    pols, weights = _policy_mixture(lmdp, policies, weights)
    H, S, A = lmdp.H, lmdp.S, lmdp.A
    per_policy = rng.multinomial(n, weights / weights.sum())
    n_sa = np.zeros((H, S, A), dtype=np.int64)
    N = np.zeros((H, S, A, S))
    idx = np.arange(S)
    for k in np.flatnonzero(per_policy):
        ns = rng.multinomial(per_policy[k], lmdp.init)
        for h in range(H):
            a = pols[k, h]
            n_sa[h, idx, a] += ns
            nxt = rng.multinomial(ns, lmdp.P[h, idx, a])
            N[h, idx, a] += nxt
            ns = nxt.sum(axis=0)
    return Counts(N, _reward_sums(rng, lmdp, n_sa))


# -- generators ----------------------------------------------------------------------------------------------------
def random_linear_mdp(S: int, A: int, d: int, horizon: int, *, seed, concentration: float = 1.0) -> LinearMDP:
    """A random rank-``d`` linear MDP.

    ``phi(s, a)`` ~ Dirichlet(concentration) on the simplex of R^d (so ``||phi||_2 <= 1``), each ``mu_h[i]`` a
    random distribution over states and ``theta_h`` uniform in [0, 1]^d; then ``P_h(. | s, a) = sum_i phi_i mu_h[i]``
    is a distribution and rewards lie in [0, 1].
    """
    S, A, d, H = (check_positive_int(v, n) for v, n in ((S, "S"), (A, "A"), (d, "d"), (horizon, "horizon")))
    rng = as_generator(seed)
    phi = rng.dirichlet(np.full(d, float(concentration)), size=(S, A))
    mu = rng.dirichlet(np.ones(S), size=(H, d)).reshape(H, d, S)
    theta = rng.random((H, d))
    init = rng.dirichlet(np.ones(S))
    return LinearMDP(phi, mu, theta, init)


def coverage_family(reach, *, theta0=None, theta1=None, reward_noise: str = "bernoulli") -> LinearMDP:
    """A two-step linear MDP with tunable online reachability of each feature direction.

    With ``k = len(reach)`` and ``d = k + 1``: states ``s0`` (start), ``u_0..u_{k-1}`` (rare) and ``c`` (common),
    ``S = k + 2``, ``A = k + 1``. At step 0 in ``s0``, action ``j < k`` has feature ``e_j`` and reaches ``u_j`` with
    probability ``reach[j]`` (else ``c``); action ``k`` has feature ``e_k`` and reaches ``c``. At step 1 in ``u_j``,
    action 0 has feature ``e_j`` and every other action ``e_k``; everywhere else the feature is ``e_k``. The
    covariances reachable online at step 1 are ``diag(reach_0 x_0, ..., reach_{k-1} x_{k-1}, 1 - sum reach_j x_j)``,
    so small ``reach[j]`` makes direction ``j`` expensive online, while offline data can be placed on any ``(u_j, 0)``
    (:func:`sample_transitions`).

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

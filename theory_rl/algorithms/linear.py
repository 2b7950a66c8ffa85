"""PEVI (offline, pessimistic) and LSVI-UCB (online, optimistic) on finite linear MDPs.

- PEVI: Jin, Yang & Wang (2021), "Is Pessimism Provably Efficient for Offline RL?", arXiv 2012.15085,
  Algorithm 2 (PEVI for the linear MDP) with the penalty of Theorem 4.4.
- LSVI-UCB: Jin, Yang, Wang & Jordan (2020), "Provably Efficient Reinforcement Learning with Linear Function
  Approximation", COLT, arXiv 1907.05388, Algorithm 1 with the bonus of Theorem 3.1.

Both regressions are ridge regressions on the known features. With finitely many ``(s, a)`` the sums over data are
sums over counts (the ONE counts record :class:`theory_rl.data.CountDataset`, finite horizon), which is exact, not
an approximation. LSVI-UCB's episodes come from the ONE rollout sampler, :class:`theory_rl.data.RolloutSampler`.

Constants: both theorems set ``lambda = 1`` and ``beta = c d H sqrt(log(...))`` with "an absolute constant c > 0"
that the papers do not give numerically (we could not retrieve the text with the search tool either). ``c`` is a
parameter defaulting to 1; ``penalty_scale`` / ``bonus_scale`` multiply the whole beta.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from theory_rl._random import as_generator
from theory_rl._validation import (
    Instance,
    Integer,
    Real,
    as_float_array,
    check_shape,
    validate_params,
)
from theory_rl.data import CountDataset, RolloutSampler
from theory_rl.linear import LINEAR_MODELS, LinearMDP, feature_covariance
from theory_rl.penalties import elliptical
from theory_rl.results import Result, renamed_field
from theory_rl.scales import require_unit_scale

__all__ = [
    "sherman_morrison",
    "ridge",
    "PEVIResult",
    "pevi",
    "pevi_beta",
    "pevi_good_event",
    "LSVIUCBResult",
    "lsvi_ucb",
    "lsvi_ucb_beta",
]


def sherman_morrison(A_inv, x) -> np.ndarray:
    """``(A + x x^T)^{-1}`` from ``A^{-1}`` in O(d^2) (Sherman-Morrison), for symmetric positive definite A."""
    A_inv = as_float_array(A_inv, "A_inv", ndim=2)
    x = as_float_array(x, "x", ndim=1)
    check_shape(A_inv, "A_inv", (x.size, x.size))
    return _rank_one(A_inv, x)


def _rank_one(A_inv: np.ndarray, x: np.ndarray) -> np.ndarray:
    Ax = A_inv @ x
    return A_inv - np.outer(Ax, Ax) / (1.0 + x @ Ax)


@validate_params(lam=Real(0.0))
def ridge(Phi, y, lam: float = 1.0) -> np.ndarray:
    """Ridge regression ``argmin_w sum (y_i - Phi_i w)^2 + lam ||w||^2 = (Phi^T Phi + lam I)^{-1} Phi^T y``."""
    Phi = as_float_array(Phi, "Phi", ndim=2)
    y = as_float_array(y, "y", ndim=1)
    check_shape(y, "y", (Phi.shape[0],))
    return np.linalg.solve(Phi.T @ Phi + lam * np.eye(Phi.shape[1]), Phi.T @ y)


def _features(phi, H: int) -> np.ndarray:
    phi = as_float_array(phi, "phi", ndim=(3, 4))
    if phi.ndim == 4 and phi.shape[0] != H:
        raise ValueError(f"phi has {phi.shape[0]} stages, expected H = {H} (from the data)")
    return np.broadcast_to(phi, (H,) + phi.shape[-3:])


# -- PEVI ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, repr=False)
class PEVIResult(Result):
    """Output of :func:`pevi` (the shared :class:`~theory_rl.results.Result` vocabulary).

    Attributes
    ----------
    policy : numpy.ndarray
        Greedy actions of ``Q_hat`` (lowest index among ties), (H, S).
    V, Q : numpy.ndarray
        Pessimistic ``V_hat_h(s)`` (H, S) and ``Q_hat_h(s, a)`` (H, S, A).
    method : str
        ``"pevi"``.
    constants : dict
        ``beta``, ``xi``, ``c``, ``penalty_scale``, ``lam``, ``K``.
    w : numpy.ndarray
        Ridge estimates ``w_h`` (H, d).
    penalty : numpy.ndarray
        Penalties ``Gamma_h(s, a) = beta ||phi_h(s, a)||_{Lambda_h^{-1}}`` (H, S, A) (deprecated name ``Gamma``).
    Lambda : numpy.ndarray
        ``Lambda_h = sum phi phi^T + lam I`` (H, d, d).
    """

    w: np.ndarray
    penalty: np.ndarray
    Lambda: np.ndarray

    Gamma = renamed_field("Gamma", "penalty")

    beta = renamed_field("beta", 'constants["beta"]', read=lambda r: r.constants["beta"])


@validate_params(d=Integer(1), H=Integer(1), K=Integer(0), xi=Real(0.0, 1.0, closed="neither"),
                 c=Real(0.0, closed="neither"))
def pevi_beta(d: int, H: int, K: int, xi: float, *, c: float = 1.0) -> float:
    """Theorem 4.4 of Jin, Yang & Wang (2021): ``beta = c d H sqrt(zeta)``, ``zeta = log(2 d H K / xi)``."""
    return c * d * H * math.sqrt(math.log(2 * d * H * max(K, 1) / xi))


def _finite_horizon(data: CountDataset) -> int:
    if data.horizon is None:
        raise ValueError("data is a discounted CountDataset (horizon None); expected finite-horizon counts (H, S, A)")
    return require_unit_scale(data, "PEVI").horizon  # issue 15: beta and the clipping at H - h assume [0, 1]


@validate_params(data=Instance(CountDataset), xi=Real(0.0, 1.0, closed="neither"), c=Real(0.0, closed="neither"),
                 penalty_scale=Real(0.0), lam=Real(0.0, closed="neither"), n_episodes=Integer(1, optional=True),
                 beta=Real(0.0, optional=True))
def pevi(phi, data: CountDataset, *, xi: float = 0.1, c: float = 1.0, penalty_scale: float = 1.0, lam: float = 1.0,
         n_episodes: int | None = None, beta: float | None = None) -> PEVIResult:
    """Pessimistic value iteration for linear MDPs (Jin, Yang & Wang 2021, Algorithm 2).

    Backward over h: ``Lambda_h = sum_tau phi_tau phi_tau^T + lam I``;
    ``w_h = Lambda_h^{-1} sum_tau phi_tau (r_tau + V_hat_{h+1}(s'_tau))`` (eq. 4.6 ff.);
    ``Gamma_h = beta sqrt(phi^T Lambda_h^{-1} phi)`` (:func:`theory_rl.penalties.elliptical`);
    ``Q_hat_h = min(phi^T w_h - Gamma_h, H - h)^+`` (0-based h, so
    ``H - h`` is the paper's ``H - h + 1``); ``V_hat_h = max_a Q_hat_h``; greedy policy.

    Parameters
    ----------
    phi : array_like, shape (S, A, d) or (H, S, A, d)
        The known features (the algorithm uses nothing else of the model).
    data : CountDataset
        Offline transitions (sufficient statistics), finite horizon: ``counts`` (H, S, A), ``transition_counts``
        (H, S, A, S), ``reward_sums`` (H, S, A).
    xi : float, default 0.1
        Confidence parameter of Theorem 4.4.
    c : float, default 1.0
        The theorem's unspecified absolute constant.
    penalty_scale : float, default 1.0
        Multiplies beta (0 gives plain least-squares value iteration).
    lam : float, default 1.0
        Ridge parameter (the paper's lambda = 1).
    n_episodes : int, optional
        K in zeta; default the largest number of transitions at any step.
    beta : float, optional
        Overrides ``penalty_scale * pevi_beta(...)``.
    """
    H, S, A = _finite_horizon(data), data.S, data.A
    phi = _features(phi, H)
    if phi.shape[1:3] != (S, A):
        raise ValueError(f"phi has (S, A) = {phi.shape[1:3]}, but data has {(S, A)}")
    d = phi.shape[-1]
    n_sa = data.counts
    K = int(n_sa.sum(axis=(1, 2)).max()) if n_episodes is None else n_episodes
    if beta is None:
        beta = penalty_scale * pevi_beta(d, H, K, xi, c=c)
    Lam = feature_covariance(n_sa, phi) + lam * np.eye(d)
    Q = np.zeros((H, S, A))
    V = np.zeros((H + 1, S))
    w = np.zeros((H, d))
    Gamma = np.zeros((H, S, A))
    for h in range(H - 1, -1, -1):
        target = data.reward_sums[h] + data.transition_counts[h] @ V[h + 1]
        w[h] = np.linalg.solve(Lam[h], np.einsum("sad,sa->d", phi[h], target))
        Gamma[h] = elliptical(phi[h], np.linalg.inv(Lam[h]), beta)
        Q[h] = np.clip(phi[h] @ w[h] - Gamma[h], 0.0, H - h)
        V[h] = Q[h].max(axis=1)
    constants = {"beta": float(beta), "xi": xi, "c": c, "penalty_scale": penalty_scale, "lam": lam, "K": K}
    return PEVIResult(policy=Q.argmax(axis=2), V=V[:H], Q=Q, method="pevi", constants=constants, w=w,
                      penalty=Gamma, Lambda=Lam)


@validate_params(lmdp=Instance(LINEAR_MODELS), result=Instance(PEVIResult))
def pevi_good_event(lmdp: LinearMDP, result: PEVIResult) -> bool:
    """Whether the concentration event of Jin, Yang & Wang (2021, Lemma 5.2 / eq. 5.4) holds exactly:
    ``|phi_h^T w_h - (r_h + P_h V_hat_{h+1})| <= Gamma_h`` at every ``(h, s, a)`` (checked against the true model).

    On this event ``V_hat_h <= V^{pi_hat}_h`` pointwise (pessimism). ``lmdp`` dense or factored (its Bellman
    backup through ``stage_reward`` / ``expected_next``).
    """
    H = lmdp.H
    if result.Q.shape != (H, lmdp.S, lmdp.A) or result.w.shape != (H, lmdp.d) or result.V.shape != (H, lmdp.S):
        raise ValueError(f"result has Q of shape {result.Q.shape}, w {result.w.shape} and V {result.V.shape}, "
                         f"expected {(H, lmdp.S, lmdp.A)}, {(H, lmdp.d)} and {(H, lmdp.S)} for lmdp")
    V = np.vstack([result.V, np.zeros((1, lmdp.S))])
    phi = lmdp.stage_phi
    for h in range(H):
        bellman = lmdp.stage_reward(h) + lmdp.expected_next(h, V[h + 1])
        if (np.abs(phi[h] @ result.w[h] - bellman) > result.penalty[h] + 1e-12).any():
            return False
    return True


# -- LSVI-UCB ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, repr=False)
class LSVIUCBResult(Result):
    """Output of :func:`lsvi_ucb` (the shared :class:`~theory_rl.results.Result` vocabulary).

    Attributes
    ----------
    policy : numpy.ndarray
        The greedy policy of the last planning pass (the one played in the last episode), (H, S).
    V, Q : numpy.ndarray
        Optimistic ``max_a Q_h`` (H, S) and ``Q_h`` (H, S, A) of the last planning pass.
    method : str
        ``"lsvi_ucb"``.
    constants : dict
        ``beta``, ``p``, ``c``, ``bonus_scale``, ``lam``, ``K``.
    policies : numpy.ndarray
        Greedy policy played in each episode, (K, H, S).
    returns : numpy.ndarray
        Sampled return of each episode, (K,).
    episode_values : numpy.ndarray or None
        Exact value ``V^{pi_k}_0`` of each played policy (``track_values=True``), (K,) (deprecated name
        ``values``).
    Lambda_inv : numpy.ndarray
        ``Lambda_h^{-1}`` after all episodes (rank-one updated), (H, d, d).
    data : CountDataset
        The collected transitions (finite horizon).
    """

    policies: np.ndarray
    returns: np.ndarray
    episode_values: np.ndarray | None
    Lambda_inv: np.ndarray
    data: CountDataset

    values = renamed_field("values", "episode_values")

    beta = renamed_field("beta", 'constants["beta"]', read=lambda r: r.constants["beta"])


@validate_params(d=Integer(1), H=Integer(1), T=Integer(0), p=Real(0.0, 1.0, closed="neither"),
                 c=Real(0.0, closed="neither"))
def lsvi_ucb_beta(d: int, H: int, T: int, p: float, *, c: float = 1.0) -> float:
    """Theorem 3.1 of Jin et al. (2020): ``beta = c d H sqrt(iota)``, ``iota = log(2 d T / p)``, ``T = K H``."""
    return c * d * H * math.sqrt(math.log(2 * d * max(T, 1) / p))


def _optimistic_q(phi, data_N, data_R, Lam_inv, beta, H, reward) -> np.ndarray:
    S, A = phi.shape[1:3]
    Q = np.zeros((H, S, A))
    Vn = np.zeros(S)
    for h in range(H - 1, -1, -1):
        if reward is None:
            target = data_R[h] + data_N[h] @ Vn
            base = 0.0
        else:
            target = data_N[h] @ Vn
            base = reward[h]
        w = Lam_inv[h] @ np.einsum("sad,sa->d", phi[h], target)
        Q[h] = np.minimum(base + phi[h] @ w + elliptical(phi[h], Lam_inv[h], beta), H)
        Vn = Q[h].max(axis=1)
    return Q


@validate_params(lmdp=Instance(LinearMDP), n_episodes=Integer(1, 10**9), p=Real(0.0, 1.0, closed="neither"),
                 c=Real(0.0, closed="neither"), bonus_scale=Real(0.0), lam=Real(0.0, closed="neither"),
                 beta=Real(0.0, optional=True), track_values=Instance((bool, np.bool_)))
def lsvi_ucb(lmdp: LinearMDP, n_episodes: int, *, seed, p: float = 0.05, c: float = 1.0, bonus_scale: float = 1.0,
             lam: float = 1.0, beta: float | None = None, reward=None, track_values: bool = True) -> LSVIUCBResult:
    """Least-squares value iteration with UCB bonuses (Jin, Yang, Wang & Jordan 2020, Algorithm 1), run online.

    Each episode: backward over h, ``w_h = Lambda_h^{-1} sum_tau phi_tau (r_tau + max_a Q_{h+1}(s'_tau, a))``,
    ``Q_h = min(phi^T w_h + beta ||phi||_{Lambda_h^{-1}}, H)``; play the greedy policy; then update each
    ``Lambda_h^{-1}`` by a Sherman-Morrison rank-one step with the new ``phi(s_h, a_h)`` as the episode streams.

    Parameters
    ----------
    lmdp : LinearMDP
        The environment (the learner sees only ``phi`` and sampled transitions, or ``reward`` if given).
    n_episodes : int
        K.
    seed : int, SeedSequence or Generator
    p : float, default 0.05
        Failure probability of Theorem 3.1.
    c, bonus_scale, lam, beta
        ``beta = bonus_scale * c d H sqrt(log(2 d K H / p))`` unless ``beta`` is given; ``lam = 1`` in the paper.
    reward : array_like, shape (H, S, A), optional
        A known deterministic reward replacing the sampled one (reward-directed exploration, as in OptCov's
        regret-minimisation steps); the regression then fits only ``P V``.
    track_values : bool, default True
        Also compute the exact value of each played policy (for regret curves).
    """
    K = n_episodes
    rng = as_generator(seed)
    H, S, A, d = lmdp.H, lmdp.S, lmdp.A, lmdp.d
    phi = lmdp.stage_phi
    if reward is not None:
        reward = as_float_array(reward, "reward", ndim=3)
        check_shape(reward, "reward", (H, S, A))
    if beta is None:
        beta = bonus_scale * lsvi_ucb_beta(d, H, K * H, p, c=c)
    R_eval = lmdp.R if reward is None else reward
    Lam_inv = np.stack([np.eye(d) / lam] * H)
    N = np.zeros((H, S, A, S), np.int64)
    Rs = np.zeros((H, S, A))
    policies = np.empty((K, H, S), dtype=np.int64)
    returns = np.empty(K)
    values = np.empty(K) if track_values else None
    sampler = RolloutSampler(lmdp)
    steps = np.arange(H)
    Q = None
    for k in range(K):
        Q = _optimistic_q(phi, N, Rs, Lam_inv, beta, H, reward)
        pol = Q.argmax(axis=2)
        policies[k] = pol
        if track_values:
            V = np.zeros(S)
            for h in range(H - 1, -1, -1):
                idx = np.arange(S)
                V = R_eval[h, idx, pol[h]] + lmdp.P[h, idx, pol[h]] @ V
            values[k] = lmdp.init @ V
        states, actions, rewards = sampler.episode(pol, rng)
        s, a, s2 = states[:-1], actions, states[1:]
        N[steps, s, a, s2] += 1  # one visit per step: no repeated index
        Rs[steps, s, a] += rewards
        returns[k] = rewards.sum() if reward is None else reward[steps, s, a].sum()
        for h in range(H):
            Lam_inv[h] = _rank_one(Lam_inv[h], phi[h, s[h], a[h]])
    constants = {"beta": float(beta), "p": p, "c": c, "bonus_scale": bonus_scale, "lam": lam, "K": K}
    return LSVIUCBResult(policy=Q.argmax(axis=2), V=Q.max(axis=2), Q=Q, method="lsvi_ucb", constants=constants,
                         policies=policies, returns=returns, episode_values=values, Lambda_inv=Lam_inv,
                         data=CountDataset(N.sum(axis=-1), N, Rs, S, A, horizon=H,
                                           meta={"generator": "lsvi_ucb", "n_episodes": K}))

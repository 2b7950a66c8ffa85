"""PEVI and LSVI-UCB at the sample level: cost and memory independent of the number of states (issue 15, item 4).

:mod:`theory_rl.algorithms.linear` runs PEVI (Jin, Yang & Wang 2021, Algorithm 2) and LSVI-UCB (Jin, Yang, Wang
& Jordan 2020, Algorithm 1) on the counts record: exact, with a cost independent of the number of samples but
O(S^2 A) per backup and an (H, S, A, S) record. Here the same regressions run on the samples themselves, as the
papers write them, and ``Q_h`` is evaluated lazily, only where it is needed: at the next states of the data (the
regression targets) and at the states an episode visits (the greedy action). Memory is O(K H (A + 1) d) beside the
model's features, time O(K H A d^2) per planning pass; nothing of size S is allocated, so a
:class:`theory_rl.linear.FactoredLinearMDP` of a million states runs in the memory of its ``phi`` and ``mu``.

The returned policy is a :class:`LinearGreedyPolicy`: the weights ``w_h``, the inverse covariances and ``beta``,
from which ``Q_h(s, .)`` is computed on demand (``.q(h, s)``, ``.table()`` for small S). Both models are
accepted; the learners use only ``features(h)`` and an episode sampler (:class:`theory_rl.linear.LatentSampler`
for a factored model, the ONE rollout sampler :class:`theory_rl.data.RolloutSampler` for a dense one, where the
played policy is tabulated). On a dense model the results equal those of the count-based functions (the tests'
oracle); constants and defaults are theirs (``c = 1``, ``lambda = 1``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._random import as_generator
from theory_rl._validation import (
    Boolean,
    Callable,
    Instance,
    Integer,
    Real,
    as_float_array,
    as_index_array,
    check_int,
    check_table,
    validate_params,
)
from theory_rl.algorithms.linear import lsvi_ucb_beta, pevi_beta, sherman_morrison
from theory_rl.data import OfflineDataset, RolloutSampler
from theory_rl.linear import LINEAR_MODELS, FactoredLinearMDP, LatentSampler, linear_evaluate
from theory_rl.penalties import elliptical
from theory_rl.results import Result

__all__ = ["LinearGreedyPolicy", "PEVISamplesResult", "pevi_samples", "LSVIUCBSamplesResult", "lsvi_ucb_samples",
           "latent_dataset"]


def _stage_features(phi, H: int):
    """``h -> phi_h`` (S, A, d) for a model (its ``features``) or a features array (S, A, d) / (H, S, A, d)."""
    if isinstance(phi, LINEAR_MODELS):
        if phi.H != H:
            raise ValueError(f"the model has horizon {phi.H}, expected H = {H} (from the data)")
        return phi.features
    phi = as_float_array(phi, "phi", ndim=(3, 4))
    if phi.ndim == 4 and phi.shape[0] != H:
        raise ValueError(f"phi has {phi.shape[0]} stages, expected H = {H} (from the data)")
    return (lambda h: phi) if phi.ndim == 3 else (lambda h: phi[h])


class LinearGreedyPolicy:
    """The greedy policy of ``Q_h(s, a) = clip(phi_h(s, a) w_h + sign beta ||phi_h(s, a)||_{Lambda_h^{-1}},
    floor, cap_h)``, computed lazily (lowest index among ties).

    Parameters
    ----------
    features : callable
        ``h -> phi_h`` (S, A, d).
    w : array_like, shape (H, d)
    Lambda_inv : array_like, shape (H, d, d)
    beta : float
    sign : {+1, -1}
        +1: optimistic bonus (LSVI-UCB); -1: pessimistic penalty (PEVI).
    cap : array_like, shape (H,)
        Upper clip per step (LSVI-UCB: H; PEVI: H - h).
    floor : float, optional
        Lower clip (PEVI: 0); None for none.
    """

    @validate_params(features=Callable(), beta=Real(0.0), sign=Integer(-1, 1), floor=Real(optional=True))
    def __init__(self, features, w, Lambda_inv, beta: float, sign: int, cap, floor=None) -> None:
        if sign == 0:
            raise ValueError("sign is 0, expected +1 (bonus) or -1 (penalty)")
        self.w = np.array(as_float_array(w, "w", ndim=2))  # a fresh, writable copy (the learners fill it)
        self.H, self.d = self.w.shape
        self.Lambda_inv = as_float_array(Lambda_inv, "Lambda_inv", shape=(self.H, self.d, self.d)).copy()
        self.cap = as_float_array(cap, "cap", shape=(self.H,)).copy()
        phi0 = features(0)
        if np.ndim(phi0) != 3 or np.shape(phi0)[2] != self.d:
            raise ValueError(f"features(0) has shape {np.shape(phi0)}, expected (S, A, d) with d = {self.d}")
        self.features = features
        self.beta, self.sign, self.floor = float(beta), int(sign), floor
        self.S, self.A = phi0.shape[:2]

    def q_rows(self, h: int, F) -> np.ndarray:
        """``Q_h`` at feature rows ``F`` (..., A, d)."""
        q = F @ self.w[h] + self.sign * elliptical(F, self.Lambda_inv[h], self.beta)
        return np.minimum(q, self.cap[h]) if self.floor is None else np.clip(q, self.floor, self.cap[h])

    def q(self, h: int, s) -> np.ndarray:
        """``Q_h(s, .)`` for a state (A,) or states (n, A)."""
        h = check_int(h, "h", low=0, high=self.H - 1)
        s = as_index_array(s, "s", self.S, ndim=None)
        return self.q_rows(h, self.features(h)[s])

    def __call__(self, h: int, s: int) -> int:  # the sampler's act(h, s)
        """The greedy action at ``(h, s)``."""
        return int(np.argmax(self.q(h, s)))

    def table(self) -> np.ndarray:
        """Greedy actions over all states, (H, S) (materialises per-step Q: for small S)."""
        check_table("Q", (self.S, self.A), ("S", "A"))
        return np.stack([self.q_rows(h, self.features(h)).argmax(axis=1) for h in range(self.H)])

    def values(self) -> tuple[np.ndarray, np.ndarray]:
        """``(V, Q)`` over all states, (H, S) and (H, S, A) (for small S)."""
        check_table("Q", (self.H, self.S, self.A), ("H", "S", "A"))
        Q = np.stack([self.q_rows(h, self.features(h)) for h in range(self.H)])
        return Q.max(axis=2), Q


# -- PEVI ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, repr=False)
class PEVISamplesResult(Result):
    """Output of :func:`pevi_samples`: ``policy`` a :class:`LinearGreedyPolicy` (V, Q None: lazy), ``method``
    ``"pevi"``, ``constants`` as :func:`theory_rl.algorithms.linear.pevi`'s; ``w`` (H, d), ``Lambda`` (H, d, d)."""

    w: np.ndarray
    Lambda: np.ndarray


@validate_params(data=Instance(OfflineDataset), xi=Real(0.0, 1.0, closed="neither"), c=Real(0.0, closed="neither"),
                 penalty_scale=Real(0.0), lam=Real(0.0, closed="neither"), n_episodes=Integer(1, optional=True),
                 beta=Real(0.0, optional=True))
def pevi_samples(phi, data: OfflineDataset, *, xi: float = 0.1, c: float = 1.0, penalty_scale: float = 1.0,
                 lam: float = 1.0, n_episodes: int | None = None, beta: float | None = None) -> PEVISamplesResult:
    """PEVI for linear MDPs (Jin, Yang & Wang 2021, Algorithm 2) on sample-level data, S-free.

    Backward over h, with the samples ``tau`` of step h: ``Lambda_h = sum_tau phi_tau phi_tau^T + lam I``,
    ``w_h = Lambda_h^{-1} sum_tau phi_tau (r_tau + V_hat_{h+1}(s'_tau))`` (eq. 4.6 ff.), where
    ``V_hat_{h+1}(s') = max_a clip(phi_{h+1}(s', a) w_{h+1} - beta ||phi||_{Lambda_{h+1}^{-1}}, 0, H - h - 1)`` is
    evaluated at the samples' next states only. Same estimates as :func:`theory_rl.algorithms.linear.pevi` on the
    counts of the same data.

    Parameters
    ----------
    phi : FactoredLinearMDP, LinearMDP or array_like (S, A, d) / (H, S, A, d)
        The known features (a model is read through ``features(h)`` only).
    data : OfflineDataset
        Finite-horizon transitions ``(h, s, a, r, s')``.
    xi, c, penalty_scale, lam, n_episodes, beta
        As in :func:`theory_rl.algorithms.linear.pevi` (K defaults to the largest number of samples at a step).
    """
    H = data.horizon
    if H is None:
        raise ValueError("data is discounted (horizon None); expected finite-horizon transitions")
    features = _stage_features(phi, H)
    S, A, d = features(0).shape
    if (S, A) != (data.S, data.A):
        raise ValueError(f"phi has (S, A) = {(S, A)}, but data has {(data.S, data.A)}")
    steps = [np.flatnonzero(data.step == h) for h in range(H)]
    K = max(int(ix.size) for ix in steps) if n_episodes is None else n_episodes
    if beta is None:
        beta = penalty_scale * pevi_beta(d, H, K, xi, c=c)
    F = [features(h)[data.state[ix], data.action[ix]] for h, ix in enumerate(steps)]
    Lam = np.stack([f.T @ f + lam * np.eye(d) for f in F])
    Lam_inv = np.stack([np.linalg.inv(L) for L in Lam])
    policy = LinearGreedyPolicy(features, np.zeros((H, d)), Lam_inv, beta, -1, H - np.arange(H), 0.0)
    w = policy.w  # filled backward: step h + 1 is final when step h reads it
    for h in range(H - 1, -1, -1):
        y = data.reward[steps[h]].astype(float)
        if h + 1 < H:
            nxt = features(h + 1)[data.next_state[steps[h]]]
            y = y + policy.q_rows(h + 1, nxt).max(axis=1)
        w[h] = np.linalg.solve(Lam[h], F[h].T @ y)
    constants = {"beta": float(beta), "xi": xi, "c": c, "penalty_scale": penalty_scale, "lam": lam, "K": K}
    return PEVISamplesResult(policy=policy, V=None, Q=None, method="pevi", constants=constants, w=w, Lambda=Lam)


# -- LSVI-UCB ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, repr=False)
class LSVIUCBSamplesResult(Result):
    """Output of :func:`lsvi_ucb_samples`.

    Attributes
    ----------
    policy : LinearGreedyPolicy
        The optimistic greedy policy of the last planning pass (the one played in the last episode); V, Q None.
    w : numpy.ndarray
        Its weights (H, d).
    Lambda_inv : numpy.ndarray
        ``Lambda_h^{-1}`` after all episodes (rank-one updated), (H, d, d).
    states, actions, rewards : numpy.ndarray
        The episodes played, (K, H+1), (K, H), (K, H).
    returns : numpy.ndarray
        Sampled return per episode, (K,).
    episode_values : numpy.ndarray or None
        Exact ``V^{pi_k}_0`` per episode (``track_values=True``; O(H S A d^2) per episode).
    """

    w: np.ndarray
    Lambda_inv: np.ndarray
    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    returns: np.ndarray
    episode_values: np.ndarray | None


@validate_params(model=Instance(LINEAR_MODELS), n_episodes=Integer(1, 10**9), p=Real(0.0, 1.0, closed="neither"),
                 c=Real(0.0, closed="neither"), bonus_scale=Real(0.0), lam=Real(0.0, closed="neither"),
                 beta=Real(0.0, optional=True), track_values=Boolean())
def lsvi_ucb_samples(model, n_episodes: int, *, seed, p: float = 0.05, c: float = 1.0, bonus_scale: float = 1.0,
                     lam: float = 1.0, beta: float | None = None, track_values: bool = False) -> LSVIUCBSamplesResult:
    """LSVI-UCB (Jin, Yang, Wang & Jordan 2020, Algorithm 1) on samples, with lazy Q: S-free cost and memory.

    Each episode k: backward over h, ``w_h = Lambda_h^{-1} sum_{tau < k} phi_tau (r_tau + max_a Q_{h+1}(s'_tau,
    a))`` with ``Q_h = min(phi^T w_h + beta ||phi||_{Lambda_h^{-1}}, H)`` evaluated at the stored next states
    only; play the greedy policy (evaluated at the visited states); then the Sherman-Morrison update of each
    ``Lambda_h^{-1}`` (:func:`theory_rl.algorithms.linear.sherman_morrison`'s formula). Same estimates, policies
    and (on a dense model, same stream) episodes as :func:`theory_rl.algorithms.linear.lsvi_ucb`.

    Parameters
    ----------
    model : FactoredLinearMDP or LinearMDP
        Factored (non-negative factors): episodes from :class:`theory_rl.linear.LatentSampler`, the policy never
        tabulated. Dense: episodes from :class:`theory_rl.data.RolloutSampler` of the tabulated greedy policy.
    n_episodes : int
        K.
    seed : int, SeedSequence or Generator
    p, c, bonus_scale, lam, beta
        As in :func:`theory_rl.algorithms.linear.lsvi_ucb`: ``beta = bonus_scale * c d H sqrt(log(2 d K H / p))``.
    track_values : bool, default False
        Also compute the exact value of each played policy (tabulates it: O(H S A d^2) per episode).
    """
    K = n_episodes
    rng = as_generator(seed)
    H, A, d = model.H, model.A, model.d
    if beta is None:
        beta = bonus_scale * lsvi_ucb_beta(d, H, K * H, p, c=c)
    features = model.features
    factored = isinstance(model, FactoredLinearMDP)
    sampler = LatentSampler(model) if factored else RolloutSampler(model)
    check_table("the episodes' features", (K, H, A + 1, d), ("n_episodes", "H", "A + 1", "d"))
    Lam_inv = np.stack([np.eye(d) / lam] * H)
    states = np.empty((K, H + 1), np.int64)
    actions = np.empty((K, H), np.int64)
    rewards = np.empty((K, H))
    F = np.empty((H, K, d))  # phi_h(s_h, a_h)
    Fn = np.empty((max(H - 1, 1), K, A, d))  # phi_{h+1}(s_{h+1}, .)
    values = np.empty(K) if track_values else None
    cap = np.full(H, float(H))
    policy = None
    for k in range(K):
        policy = LinearGreedyPolicy(features, np.zeros((H, d)), Lam_inv, beta, 1, cap)  # snapshot of Lam_inv
        w = policy.w
        for h in range(H - 1, -1, -1):
            y = rewards[:k, h].copy()
            if h + 1 < H:
                y += policy.q_rows(h + 1, Fn[h, :k]).max(axis=1)
            w[h] = Lam_inv[h] @ (F[h, :k].T @ y)
        if factored and not track_values:
            st, ac, rw = sampler.episode(policy, rng)
        else:
            table = policy.table()
            if track_values:
                values[k] = float(model.init @ linear_evaluate(model, table)[0])
            st, ac, rw = ([x[0] for x in sampler.rollouts(table, 1, rng)] if factored
                          else sampler.episode(table, rng))
        states[k], actions[k], rewards[k] = st, ac, rw
        for h in range(H):
            F[h, k] = features(h)[st[h], ac[h]]
            if h + 1 < H:
                Fn[h, k] = features(h + 1)[st[h + 1]]
        for h in range(H):
            Lam_inv[h] = sherman_morrison(Lam_inv[h], F[h, k])
    constants = {"beta": float(beta), "p": p, "c": c, "bonus_scale": bonus_scale, "lam": lam, "K": K,
                 "form": "factored" if factored else "dense"}
    return LSVIUCBSamplesResult(policy=policy, V=None, Q=None, method="lsvi_ucb", constants=constants, w=policy.w,
                                Lambda_inv=Lam_inv, states=states, actions=actions, rewards=rewards,
                                returns=rewards.sum(axis=1), episode_values=values)


@validate_params(model=Instance(FactoredLinearMDP), n_episodes=Integer(0))
def latent_dataset(model: FactoredLinearMDP, policy, n_episodes: int, seed) -> OfflineDataset:
    """Episodes of ``policy`` from :class:`theory_rl.linear.LatentSampler` as the ONE sample-level dataset
    (:class:`theory_rl.data.OfflineDataset`, finite horizon, one transition per row, episode-major), the offline
    data of :func:`pevi_samples` on a factored model. Behaviour probabilities are those of ``policy``."""
    sampler = LatentSampler(model)
    states, actions, rewards = sampler.rollouts(policy, n_episodes, seed)
    n, H = actions.shape
    arr = np.asarray(policy)
    steps = np.broadcast_to(np.arange(H), (n, H))
    if arr.dtype.kind in "iu":
        b = np.ones((n, H))
    else:
        probs = np.broadcast_to(arr, (H, model.S, model.A)) if arr.ndim == 2 else arr
        b = probs[steps, states[:, :-1], actions]
    return OfflineDataset(states[:, :-1].reshape(-1).astype(np.int32), actions.reshape(-1).astype(np.int32),
                          rewards.reshape(-1), states[:, 1:].reshape(-1).astype(np.int32),
                          steps.reshape(-1).astype(np.int32), np.repeat(np.arange(n, dtype=np.int64), H),
                          b.reshape(-1).astype(float), model.S, model.A, horizon=H,
                          meta={"generator": "latent_dataset", "n_episodes": n})

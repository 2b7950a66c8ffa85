"""Samplers of a finite linear MDP: episodes of a policy mixture, and their sufficient statistics directly.

- :func:`sample_episodes`: episodes of a mixture of deterministic Markov policies (vectorised numpy).
- :func:`sample_policy_counts`: the :class:`~theory_rl.linear.counts.Counts` of such episodes, sampled directly
  (multinomial visit counts), at a cost independent of the number of episodes.
- :func:`sample_generative_counts`: designed offline data, ``n_sa[h, s, a]`` independent transitions from each
  triple (a generative model; FTPedel's offline data of any fixed covariance). Formerly ``sample_transitions``,
  renamed so as not to collide with :func:`theory_rl.data.sample_transitions` (another contract).
- :func:`sample_rewards`: the model's reward noise (to be replaced by the one reward-noise function of
  ``theory_rl.data`` once it lands; issue 12).
"""

from __future__ import annotations

import numpy as np

from theory_rl._random import as_generator
from theory_rl._validation import (
    Instance,
    Integer,
    Options,
    Real,
    as_float_array,
    check_distributions,
    check_memory,
    check_shape,
    validate_params,
)
from theory_rl._validation import (
    index_str as _index,
)
from theory_rl.linear.counts import Counts
from theory_rl.linear.model import LinearMDP
from theory_rl.mdp import REWARD_NOISES

__all__ = ["sample_rewards", "sample_episodes", "sample_generative_counts", "sample_policy_counts"]


@validate_params(noise=Options(REWARD_NOISES), std=Real(0.0))
def sample_rewards(R, *, noise: str, std: float, seed) -> np.ndarray:
    """One sampled reward per mean reward in ``R`` (any shape): Bernoulli(R), ``R + std N(0, 1)`` or ``R``.

    Note: the reward noise of :class:`theory_rl.mdp.TabularMDP` and :class:`~theory_rl.linear.model.LinearMDP`;
    it will defer to the one reward-noise function of ``theory_rl.data`` (issue 12). ``seed`` may be a Generator,
    whose stream continues (one ``random`` / ``standard_normal`` draw of ``R``'s shape; none for deterministic).
    """
    rng = as_generator(seed)
    R = np.asarray(R, dtype=np.float64)
    if noise == "bernoulli":
        return (rng.random(R.shape) < R).astype(np.float64)
    if noise == "gaussian":
        return R + std * rng.standard_normal(R.shape)
    return R.copy()


def _policy_mixture(lmdp: LinearMDP, policies, weights):
    """Validate deterministic policies (H, S) or (m, H, S) and mixture weights (default uniform)."""
    pols = np.asarray(policies)
    if pols.ndim == 2:
        pols = pols[None]
    H, S, A = lmdp.H, lmdp.S, lmdp.A
    if pols.ndim != 3 or pols.shape[1:] != (H, S):
        raise ValueError(f"policies has shape {np.shape(policies)}, expected (H, S) or (m, H, S) = (m, {H}, {S})")
    if pols.dtype == bool or not np.issubdtype(pols.dtype, np.integer) or pols.min() < 0 or pols.max() >= A:
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


@validate_params(lmdp=Instance(LinearMDP), n_episodes=Integer(0))
def sample_episodes(lmdp: LinearMDP, policies, n_episodes: int, *, seed, weights=None):
    """Sample episodes from a mixture of deterministic Markov policies (vectorised numpy).

    Each episode draws one policy from ``weights`` and follows it.

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
    n = n_episodes
    pols, weights = _policy_mixture(lmdp, policies, weights)
    H, S = lmdp.H, lmdp.S
    check_memory(3 * n * (H + 1), "n_episodes")
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
        rewards[:, h] = sample_rewards(lmdp.R[h, s, a], noise=lmdp.reward_noise, std=lmdp.reward_std, seed=rng)
        rows = cP[h, s, a]
        u = rng.random(n)[:, None] * rows[:, -1:]
        states[:, h + 1] = np.minimum((u >= rows).sum(axis=1), S - 1)
    return states, actions, rewards


@validate_params(lmdp=Instance(LinearMDP))
def sample_generative_counts(lmdp: LinearMDP, n_sa, *, seed) -> Counts:
    """Offline data with prescribed visit counts: ``n_sa[h, s, a]`` independent transitions from each triple.

    Next states are drawn multinomially, rewards by the model's noise (Bernoulli: a binomial sum), so the counts
    can be huge at no cost. This is the "designed" offline data of FTPedel's experiments (any fixed covariance).
    (Formerly ``theory_rl.linear.sample_transitions``.)
    """
    rng = as_generator(seed)
    n_sa = as_float_array(n_sa, "n_sa", ndim=3)
    H, S, A = lmdp.H, lmdp.S, lmdp.A
    check_shape(n_sa, "n_sa", (H, S, A))
    if (n_sa < 0).any() or (np.round(n_sa) != n_sa).any():
        idx = tuple(np.argwhere((n_sa < 0) | (np.round(n_sa) != n_sa))[0])
        raise ValueError(f"n_sa{_index(idx)} is {n_sa[idx]}, expected a non-negative integer")
    if (n_sa >= 2.0**62).any():
        idx = tuple(np.argwhere(n_sa >= 2.0**62)[0])
        raise ValueError(f"n_sa{_index(idx)} is {n_sa[idx]:.3g}, expected a count below 2**62")
    counts = n_sa.astype(np.int64)
    N = rng.multinomial(counts, lmdp.P).astype(np.float64)
    return Counts(N, _reward_sums(rng, lmdp, counts))


@validate_params(lmdp=Instance(LinearMDP), n_episodes=Integer(0, 2**62))
def sample_policy_counts(lmdp: LinearMDP, policies, n_episodes: int, *, seed, weights=None) -> Counts:
    """The counts of ``n_episodes`` independent episodes of a mixture of deterministic policies, sampled directly.

    Episodes are independent, so the number of episodes per policy is multinomial, and for one deterministic policy
    the visits ``n_{h+1}(s') = sum_s Multinomial(n_h(s), P_h(. | s, pi_h(s)))``: exactly the distribution of
    :func:`sample_episodes` followed by :meth:`Counts.from_episodes`, at a cost independent of ``n_episodes``.
    """
    rng = as_generator(seed)
    n = n_episodes
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

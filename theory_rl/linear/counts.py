"""Transition data on a finite linear MDP as sufficient statistics.

Every least-squares estimate of the linear-MDP papers (PEVI, Jin, Yang & Wang 2021, Alg. 2; LSVI-UCB, Jin et al.
2020, Alg. 1; PEDEL / FTPedel, Wagenmaker & Jamieson 2022 and Wagenmaker & Pacchiano 2023) is a function of the
transition counts ``N_h(s, a, s')`` and the reward sums, because the features depend on ``(h, s, a)`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._validation import (
    Integer,
    as_float_array,
    as_index_array,
    check_shape,
    check_step,
    readonly,
    validate_params,
)
from theory_rl._validation import (
    index_str as _index,
)

__all__ = ["Counts"]


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
    @validate_params(H=Integer(1), S=Integer(1), A=Integer(1))
    def zeros(cls, H: int, S: int, A: int) -> Counts:
        """Empty data."""
        return cls(np.zeros((H, S, A, S)), np.zeros((H, S, A)))

    @classmethod
    @validate_params(S=Integer(1), A=Integer(1))
    def from_episodes(cls, states, actions, rewards, S: int, A: int) -> Counts:
        """Counts of episodes ``states`` (n, H+1), ``actions`` (n, H), ``rewards`` (n, H).

        Raises ValueError naming the first state outside ``0..S-1`` (or not an integer: state 1.7 is refused,
        never truncated), action outside ``0..A-1`` or non-finite reward (an out-of-range index would otherwise
        be counted silently as another pair).
        """
        actions = as_index_array(actions, "actions", A, ndim=2)
        n, H = actions.shape
        states = as_index_array(states, "states", S, ndim=2)
        check_shape(states, "states", (n, H + 1))
        rewards = as_float_array(rewards, "rewards", ndim=2, shape=(n, H))
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
        h = check_step(h, "h", self.N.shape[0])
        N, Rs = np.zeros_like(self.N), np.zeros_like(self.reward_sums)
        N[h], Rs[h] = self.N[h], self.reward_sums[h]
        return Counts(N, Rs)

    def covariance(self, phi) -> np.ndarray:
        """Unregularised ``Lambda_h = sum_tau phi phi^T`` per step, shape (H, d, d); ``phi`` is (H, S, A, d)."""
        H, S, A = self.n_sa.shape
        phi = as_float_array(phi, "phi", ndim=4)
        check_shape(phi, "phi", (H, S, A, phi.shape[-1]))
        return np.einsum("hsa,hsad,hsae->hde", self.n_sa, phi, phi)

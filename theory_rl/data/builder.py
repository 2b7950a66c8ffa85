"""An incremental builder of the ONE counts record, for online and hybrid learners.

GLOW and HyGLOW (Amortila et al. 2024) keep per-layer counts, reward sums and transition counts of the episodes
played so far (and the counts of layer-1 states, over which GLOW's optimism averages); LSVI-UCB (Jin et al.
2020, Alg. 1) keeps the same statistics of its episodes; H2O-style hybrid methods keep one buffer of offline and
one of online data. :class:`CountsBuilder` accumulates them in O(1) per transition and hands out the same
:class:`theory_rl.data.CountDataset` that the offline samplers produce (:meth:`CountsBuilder.to_counts`).
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import (
    Integer,
    InvalidParameterError,
    as_float_array,
    as_index_array,
    check_int,
    check_real,
    check_shape,
    check_step,
    check_table,
    validate_params,
)
from theory_rl.data.counts import CountDataset, trusted_count_dataset
from theory_rl.data.rollouts import Rollouts

__all__ = ["CountsBuilder"]


class CountsBuilder:
    """Counts ``N``, transition counts ``C`` and reward sums of a growing stream of transitions.

    Parameters
    ----------
    S, A : int
        Numbers of states and actions.
    horizon : int, optional
        Finite horizon ``H``: statistics per step, shapes ``(H, S, A[, S])``; None (discounted): ``(S, A[, S])``.
    gamma : float, optional
        Recorded in the :class:`CountDataset` (a discounted model's discount).

    Attributes
    ----------
    counts, transition_counts, reward_sums : numpy.ndarray
        The running statistics (int64, int64, float64); read-only views, use :meth:`to_counts` for a record.
    init_counts : numpy.ndarray
        ``(S,)`` counts of the first states of the episodes added with :meth:`add_episode`.
    """

    @validate_params(S=Integer(1), A=Integer(1), horizon=Integer(1, optional=True))
    def __init__(self, S: int, A: int, horizon: int | None = None, gamma: float | None = None) -> None:
        self.S, self.A, self.horizon = S, A, horizon
        self.gamma = None if gamma is None else check_real(gamma, "gamma", low=0.0, high=1.0, closed="left")
        lead = () if horizon is None else (horizon,)
        check_table("transition_counts", lead + (S, A, S), ("horizon", "S", "A", "S")[-len(lead) - 3:])
        self._N = np.zeros(lead + (S, A), np.int64)
        self._C = np.zeros(lead + (S, A, S), np.int64)
        self._R = np.zeros(lead + (S, A), np.float64)
        self._init = np.zeros(S, np.int64)

    def _view(self, arr: np.ndarray) -> np.ndarray:
        out = arr.view()
        out.setflags(write=False)
        return out

    counts = property(lambda self: self._view(self._N), doc="``N(s, a)`` or ``N_h(s, a)`` so far.")
    transition_counts = property(lambda self: self._view(self._C), doc="``C(s, a, s')`` or ``C_h(s, a, s')``.")
    reward_sums = property(lambda self: self._view(self._R), doc="Sums of observed rewards per pair.")
    init_counts = property(lambda self: self._view(self._init), doc="Counts of the episodes' first states.")

    @property
    def n(self) -> int:
        """Number of transitions added."""
        return int(self._N.sum())

    def add_transition(self, h, s: int, a: int, r: float, s_next: int) -> None:
        """One transition ``(h, s, a, r, s')``; ``h`` is None for a discounted builder. O(1)."""
        h = check_step(h, "h", self.horizon)
        s = check_int(s, "s", low=0, high=self.S - 1)
        a = check_int(a, "a", low=0, high=self.A - 1)
        s_next = check_int(s_next, "s_next", low=0, high=self.S - 1)
        r = check_real(r, "r")
        idx = (s, a) if h is None else (h, s, a)
        self._N[idx] += 1
        self._R[idx] += r
        self._C[idx + (s_next,)] += 1

    def add_episode(self, states, actions, rewards) -> None:
        """One episode (``states`` ``(T+1,)``, ``actions`` and ``rewards`` ``(T,)``, step ``h`` at position
        ``h``), or ``n`` of them (``(n, T+1)``, ``(n, T)``, ``(n, T)``: the arrays of
        :func:`theory_rl.data.sample_rollouts`). A finite horizon needs ``T <= H``. Counts the first states in
        :attr:`init_counts`."""
        states = as_index_array(states, "states", self.S, ndim=None)
        if states.ndim not in (1, 2) or states.shape[-1] < 1:
            raise ValueError(f"states has shape {states.shape}, expected (T+1,) or (n, T+1) with T+1 >= 1")
        lead, T = states.shape[:-1], states.shape[-1] - 1
        actions = as_index_array(actions, "actions", self.A, ndim=None)
        check_shape(actions, "actions", lead + (T,))
        rewards = as_float_array(rewards, "rewards")
        check_shape(rewards, "rewards", lead + (T,))
        states2, n = states.reshape(-1, T + 1), int(np.prod(lead))
        if self.horizon is not None and T > self.horizon:
            raise ValueError(f"the episode has {T} steps, more than the horizon H = {self.horizon}")
        steps = np.broadcast_to(np.arange(T), (n, T))
        self._accumulate(states2[:, :-1].ravel(), actions.ravel(), rewards.ravel(), states2[:, 1:].ravel(),
                         steps.ravel() if self.horizon is not None else None)  # fmt: skip
        np.add.at(self._init, states2[:, 0], 1)

    def add_rollouts(self, rollouts: Rollouts) -> None:
        """The episodes of :class:`~theory_rl.data.RolloutSampler` (one or ``n``), as :meth:`add_episode` adds
        them, without its per-argument checks: the sampler's arrays are already of the right types and shapes.

        This is the per-round path of the online learners (GLOW draws one batch of episodes per round); only the
        index ranges are checked (two reductions), so rollouts of another model are still refused.
        """
        if not isinstance(rollouts, Rollouts):
            raise InvalidParameterError(f"rollouts is a {type(rollouts).__name__}, expected a Rollouts record")
        states, actions, rewards = rollouts
        T = states.shape[-1] - 1
        if self.horizon is not None and T > self.horizon:
            raise ValueError(f"the episodes have {T} steps, more than the horizon H = {self.horizon}")
        if states.max() >= self.S or actions.max(initial=0) >= self.A:
            raise ValueError(f"rollouts has states or actions outside this builder's S = {self.S}, A = {self.A}")
        states2 = states.reshape(-1, T + 1)
        n = states2.shape[0]
        steps = np.broadcast_to(np.arange(T), (n, T)).ravel() if self.horizon is not None else None
        self._accumulate(states2[:, :-1].ravel(), actions.ravel(), rewards.ravel(), states2[:, 1:].ravel(), steps)
        np.add.at(self._init, states2[:, 0], 1)

    def add_batch(self, states, actions, rewards, next_states, steps=None) -> None:
        """Many transitions at once: 1-D arrays of one length (``steps`` required for a finite horizon,
        omitted for a discounted builder); e.g. the columns of an :class:`theory_rl.data.OfflineDataset`."""
        s = as_index_array(states, "states", self.S)
        a = as_index_array(actions, "actions", self.A)
        s2 = as_index_array(next_states, "next_states", self.S)
        r = as_float_array(rewards, "rewards", ndim=1)
        for name, arr in (("actions", a), ("rewards", r), ("next_states", s2)):
            if arr.shape != s.shape:
                raise ValueError(f"{name} has shape {arr.shape}, expected {s.shape} as states")
        if self.horizon is None:
            if steps is not None:
                raise ValueError("steps is given, but the builder is discounted (horizon=None): omit steps")
            h = None
        else:
            if steps is None:
                raise ValueError(f"a finite-horizon builder needs steps in 0..{self.horizon - 1}")
            h = as_index_array(steps, "steps", self.horizon)
            if h.shape != s.shape:
                raise ValueError(f"steps has shape {h.shape}, expected {s.shape} as states")
        self._accumulate(s, a, r, s2, h)

    def _accumulate(self, s, a, r, s2, h) -> None:
        pair = s * self.A + a
        if self.horizon is not None and h is not None:
            pair = h * (self.S * self.A) + pair
        size = self._N.size
        if pair.size * 8 < size:  # a few transitions (one episode): O(T) scatter-adds into flat views
            np.add.at(self._N.reshape(-1), pair, 1)
            np.add.at(self._R.reshape(-1), pair, r)
            np.add.at(self._C.reshape(-1), pair * self.S + s2, 1)
            return
        self._N += np.bincount(pair, minlength=size).reshape(self._N.shape)
        self._R += np.bincount(pair, weights=r, minlength=size).reshape(self._R.shape)
        self._C += np.bincount(pair * self.S + s2, minlength=size * self.S).reshape(self._C.shape)

    def to_counts(self, meta: dict | None = None) -> CountDataset:
        """The statistics so far as a :class:`CountDataset` (copies: the builder keeps growing)."""
        meta = {"generator": "CountsBuilder"} if meta is None else dict(meta)
        return trusted_count_dataset(self._N.copy(), self._C.copy(), self._R.copy(), self.S, self.A, self.gamma,
                                     self.horizon, meta)  # fmt: skip

    def __repr__(self) -> str:
        return f"CountsBuilder(S={self.S}, A={self.A}, horizon={self.horizon}, n={self.n})"

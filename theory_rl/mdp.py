"""Tabular MDPs and bandits as immutable, validated records.

Conventions (see DESIGN.md): states ``0..S-1``, actions ``0..A-1``; ``P`` has shape ``(S, A, S)`` or, stage-dependent,
``(H, S, A, S)``; mean rewards ``R`` have shape ``(S, A)`` or ``(H, S, A)`` and lie in ``reward_range`` ([0, 1] by
default; :mod:`theory_rl.scales` maps any range onto it); ``init`` has shape ``(S,)``. Everything is float64.
Arrays are copied on construction and marked read-only, so an MDP never changes and never aliases the caller's
arrays (``copy=False`` keeps a read-only view of a float64 C-contiguous argument instead: see :class:`TabularMDP`).

Sparse storage: ``P`` may instead be any scipy.sparse matrix of shape ``(S*A, S)`` or ``(H*S*A, S)``, row
``(h*S + s)*A + a``; it is kept as canonical CSR (:attr:`TabularMDP.transitions`) and never densified by the
sparse-aware functions (planning, evaluation, the generators); ``mdp.P`` densifies small ones on demand.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from theory_rl._dense import owned_array, owned_transitions
from theory_rl._ranges import check_reward_range
from theory_rl._sparse import (
    DENSE_LIMIT,
    canonical_transitions,
    dense_to_transitions,
    fill_empty_rows,
    is_sparse,
    transitions_to_dense,
)
from theory_rl._validation import (
    as_float_array,
    check_bool,
    check_choice,
    check_distributions,
    check_positive_int,
    check_range,
    check_real,
    check_shape,
    check_table,
)
from theory_rl.feasibility import as_feasible_mask

__all__ = ["REWARD_NOISES", "TabularMDP", "MultiArmedBandit", "ContextualBandit"]

#: Reward distributions available for sampling. Each has mean ``R``.
REWARD_NOISES = ("bernoulli", "gaussian", "deterministic")


class TabularMDP:
    """A finite MDP, discounted or finite-horizon.

    Parameters
    ----------
    P : array_like, shape (S, A, S) or (H, S, A, S), or scipy.sparse matrix, shape (S*A, S) or (H*S*A, S)
        Transition probabilities ``P[s, a, s'] = Pr(s' | s, a)`` (stage-dependent form: ``P[h, s, a, s']``).
        The stage-dependent form is only meaningful with ``horizon``. A scipy.sparse matrix is stored sparse
        (row ``(h*S + s)*A + a``, column ``s'``; S is its column count, A comes from ``R``), validated without
        densifying, and kept as canonical read-only CSR (:attr:`transitions`).
    R : array_like, shape (S, A) or (H, S, A)
        Mean rewards, in ``reward_range``.
    init : array_like, shape (S,)
        Initial-state distribution rho.
    gamma : float, optional
        Discount factor in [0, 1) of a discounted MDP; with ``horizon``, the discount of a finite-horizon one, in
        [0, 1] (``V_h = R_h + gamma P_h V_{h+1}``; 1, like None, means undiscounted). At least one of ``gamma``
        and ``horizon`` must be given.
    horizon : int, optional
        Episode length H >= 1 of a finite-horizon MDP.
    reward_noise : {"bernoulli", "gaussian", "deterministic"}, default "bernoulli"
        Distribution of sampled rewards around the mean ``R``: Bernoulli(R), N(R, reward_std^2), or R itself.
    reward_std : float, default 0.1
        Standard deviation of Gaussian rewards; ignored otherwise.
    feasible : array_like of bool, shape (S, A), optional
        Action mask (issue 15): ``feasible[s, a]`` is False when action ``a`` may not be taken in state ``s``
        (the same at every step). Every state needs a feasible action. Planning optimises over feasible actions
        only (its ``Q`` is ``-inf`` at infeasible pairs), policies and samplers are refused when they put mass on
        an infeasible pair (see :mod:`theory_rl.feasibility`). Infeasible pairs keep finite rewards in the range
        and, dense, valid rows of ``P`` (never read); a sparse ``P`` may leave their rows empty (stored as a
        self-loop ``s -> s``). None or all True: no restriction (:attr:`feasible` is then None).
    copy : bool, default True
        True: ``P``, ``R`` and ``init`` are copied (an array this constructor converted itself, e.g. from a list
        or an int dtype, is kept without a second copy), so the MDP never aliases the caller's arrays. False
        (issue 16: large ``P`` built once and handed over): an argument that is already float64 and C-contiguous
        is kept as a read-only *view*, with no copy. Every check runs either way. The view stops writes through
        the MDP only: the caller's array stays writable, and writing it afterwards changes the MDP behind its
        checks and its caches (transitions, cached returns); hand over arrays you will not write again. A sparse
        ``P`` is stored as its canonical CSR copy either way.
    reward_range : (float, float), default (0, 1)
        The bounded range ``[r_min, r_max]`` (``r_min < r_max``) of the rewards, which every mean reward must lie
        in; the bounds and algorithms that assume [0, 1] use it or refuse (see :mod:`theory_rl.scales`).

    Raises
    ------
    ValueError
        Naming the offending entry, e.g. ``"P[3, 1] sums to 0.97, expected 1 (tolerance 1e-10)"``.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[[0.0, 0.5], [1.0, 1.0]], init=[1.0, 0.0], gamma=0.9)
    >>> mdp.S, mdp.A, mdp.is_discounted
    (2, 2, True)
    """

    def __init__(
        self,
        P,
        R,
        init,
        *,
        gamma: float | None = None,
        horizon: int | None = None,
        reward_noise: str = "bernoulli",
        reward_std: float = 0.1,
        feasible=None,
        copy: bool = True,
        reward_range=(0.0, 1.0),
    ) -> None:
        if gamma is None and horizon is None:
            raise ValueError("give gamma (discounted MDP), horizon (finite-horizon MDP) or both (discounted finite "
                             "horizon)")
        sparse = is_sparse(P)
        # dense P: checked (finite, >= 0, rows sum to one) and copied in one pass (theory_rl._dense); checked is False
        # when that pass left the row sums to check_distributions below (small P, or a row at the tolerance's edge)
        copy = check_bool(copy, "copy")
        P, checked = (P, True) if sparse else owned_transitions(P, "P", copy=copy)
        R_in, init_in = R, init
        R = as_float_array(R, "R", ndim=(2, 3))
        init = as_float_array(init, "init", ndim=1)

        # The shared plain checks (no decorator: construction is on hot paths, e.g. one MDP per empirical model).
        reward_noise = check_choice(reward_noise, "reward_noise", REWARD_NOISES)
        reward_std = check_real(reward_std, "reward_std", low=0.0)
        if gamma is not None and horizon is not None:  # a discounted finite horizon; gamma = 1 is undiscounted
            gamma = check_real(gamma, "gamma", low=0.0, high=1.0)
            gamma = None if gamma == 1.0 else gamma
        elif gamma is not None:
            gamma = check_real(gamma, "gamma", low=0.0, high=1.0, closed="left")
            if (not sparse and P.ndim != 3) or R.ndim != 2:
                raise ValueError(
                    f"a discounted MDP needs stationary P (S, A, S) and R (S, A), got shapes {P.shape} and {R.shape}"
                )
        if horizon is not None:
            horizon = check_positive_int(horizon, "horizon")
            if not sparse and P.ndim == 4 and P.shape[0] != horizon:
                raise ValueError(f"P has {P.shape[0]} stages, expected horizon = {horizon}")
            if R.ndim == 3 and R.shape[0] != horizon:
                raise ValueError(f"R has {R.shape[0]} stages, expected horizon = {horizon}")

        if sparse:  # S from the columns, A from R; the rows must be S*A or H*S*A
            if feasible is not None and len(P.shape) == 2:  # issue 15: infeasible pairs' empty rows -> self-loops
                mask = as_feasible_mask(feasible, P.shape[1], R.shape[-1])
                P = P if mask is None else fill_empty_rows(P, ~mask)
            P = canonical_transitions(P, R.shape[-1], horizon)
        S, A = (P.shape[1], R.shape[-1]) if sparse else (P.shape[-3], P.shape[-2])
        if S < 1 or A < 1:
            raise ValueError(f"P has shape {P.shape}: need at least one state and one action")
        if P.shape[-1] != S:
            raise ValueError(f"P has shape {P.shape}: its last axis must have S = {S} entries (next states)")
        if horizon is not None:  # planning allocates (horizon, S, A) tables and loops over the steps
            check_table("the planning tables", (horizon, S, A), ("horizon", "S", "A"))
        check_shape(R, "R", R.shape[:-2] + (S, A))
        check_shape(init, "init", (S,))
        if not checked:
            check_distributions(P, "P")
        reward_range = check_reward_range(reward_range)
        check_range(R, "R", *reward_range)
        check_distributions(init, "init")

        self._P = None if sparse else P
        self._T = P if sparse else None  # canonical CSR of a sparse MDP; a dense one builds it on demand
        self._S, self._A = int(S), int(A)
        self._stages = (P.shape[0] // (S * A)) if sparse else (P.shape[0] if P.ndim == 4 else 1)
        self._R = owned_array(R, R_in, copy=copy)
        self._init = owned_array(init, init_in, copy=copy)
        self._gamma = gamma
        self._horizon = horizon
        self._reward_noise = reward_noise
        self._reward_std = reward_std
        self._feasible = as_feasible_mask(feasible, self._S, self._A)
        self._reward_range = reward_range

    # Immutability: each private field is set once, in __init__; cached_property writes to __dict__ directly.
    def __setattr__(self, name, value):
        if name in self.__dict__ or not name.startswith("_"):
            raise AttributeError(f"{type(self).__name__} is immutable; build a new one with .replace(...)")
        object.__setattr__(self, name, value)

    # ------------------------------------------------------------------ basic attributes
    @property
    def P(self) -> np.ndarray:
        """Transition probabilities, shape (S, A, S) or (H, S, A, S), read-only.

        For a sparse MDP, densified on first use (then cached) when it has at most 2^25 entries; a larger one
        raises ValueError pointing to :attr:`transitions` and the sparse-aware functions.
        """
        return self._dense_P if self._P is None else self._P

    @cached_property
    def _dense_P(self) -> np.ndarray:
        shape = ((self._stages,) if self._stages > 1 else ()) + (self._S, self._A, self._S)
        return transitions_to_dense(self._T, shape, limit=DENSE_LIMIT)

    @property
    def is_sparse(self) -> bool:
        """True when the transitions are stored sparse (CSR); :attr:`P` then densifies on demand."""
        return self._P is None

    @cached_property
    def transitions(self):
        """Transitions as a read-only ``scipy.sparse.csr_array``: rows ``(h, s, a)`` flattened as
        ``(h*S + s)*A + a`` (``h`` only for a stage-dependent P), columns ``s'``; canonical (sorted int64 indices,
        no explicit zeros). Stored for a sparse MDP; built once and cached for a dense one."""
        return self._T if self._T is not None else dense_to_transitions(self._P)

    @property
    def R(self) -> np.ndarray:
        """Mean rewards in :attr:`reward_range`, shape (S, A) or (H, S, A), read-only."""
        return self._R

    @property
    def init(self) -> np.ndarray:
        """Initial-state distribution rho, shape (S,), read-only."""
        return self._init

    @property
    def gamma(self) -> float | None:
        """Discount factor; for a finite-horizon MDP, its discount or None (undiscounted)."""
        return self._gamma

    @property
    def horizon(self) -> int | None:
        """Episode length H, or None for a discounted MDP."""
        return self._horizon

    @property
    def H(self) -> int | None:
        """Alias of :attr:`horizon`."""
        return self._horizon

    @property
    def reward_noise(self) -> str:
        """Distribution of sampled rewards: "bernoulli", "gaussian" or "deterministic"."""
        return self._reward_noise

    @property
    def reward_std(self) -> float:
        """Standard deviation of Gaussian rewards."""
        return self._reward_std

    @property
    def S(self) -> int:
        """Number of states."""
        return self._S

    @property
    def A(self) -> int:
        """Number of actions."""
        return self._A

    @property
    def is_discounted(self) -> bool:
        """True for an (infinite-horizon) discounted MDP, False for a finite-horizon one, discounted or not."""
        return self._horizon is None

    @property
    def is_episodic(self) -> bool:
        """True for a finite-horizon MDP."""
        return self._horizon is not None

    @property
    def is_stationary(self) -> bool:
        """True when neither P nor R depends on the step."""
        staged = self._stages > 1 if self._P is None else self._P.ndim == 4
        return not staged and self._R.ndim == 2

    @property
    def vmax(self) -> float:
        """Largest possible ``|value|``: ``max(|r_min|, |r_max|)`` times 1/(1-gamma) (discounted), H (finite horizon)
        or (1 - gamma^H)/(1 - gamma) (discounted finite horizon); 1/(1-gamma) or H for rewards in [0, 1]."""
        g, H = self._gamma, self._horizon
        steps = float(H) if g is None else 1.0 / (1.0 - g) if H is None else (1.0 - g**H) / (1.0 - g)
        return max(abs(self._reward_range[0]), abs(self._reward_range[1])) * steps

    @property
    def reward_range(self) -> tuple[float, float]:
        """The rewards' range ``(r_min, r_max)``, (0, 1) by default."""
        return self._reward_range

    @property
    def discount(self) -> float:
        """The factor of the next step's value in a Bellman backup: :attr:`gamma`, or 1 for an undiscounted finite
        horizon."""
        return 1.0 if self._gamma is None else self._gamma

    @property
    def feasible(self) -> np.ndarray | None:
        """Action mask, bool ``(S, A)`` read-only (False: infeasible), or None when every action is feasible."""
        return self._feasible

    # ------------------------------------------------------------------ derived (cached)
    @cached_property
    def stage_P(self) -> np.ndarray:
        """P broadcast to (H, S, A, S) for a finite-horizon MDP (a read-only view, no copy; densifies as :attr:`P`)."""
        self._require_episodic("stage_P")
        return np.broadcast_to(self.P, (self._horizon,) + self.P.shape[-3:])

    @cached_property
    def stage_R(self) -> np.ndarray:
        """R broadcast to (H, S, A) for a finite-horizon MDP (a read-only view, no copy)."""
        self._require_episodic("stage_R")
        return np.broadcast_to(self._R, (self._horizon,) + self._R.shape[-2:])

    def P_at(self, h: int) -> np.ndarray:
        """Transition array (S, A, S) used at step ``h`` (any ``h`` for a stationary P; densifies as :attr:`P`)."""
        P = self.P
        return P[h] if P.ndim == 4 else P

    def R_at(self, h: int) -> np.ndarray:
        """Mean rewards (S, A) at step ``h`` (any ``h`` for a stationary R)."""
        return self._R[h] if self._R.ndim == 3 else self._R

    def _require_episodic(self, what: str) -> None:
        if not self.is_episodic:
            raise ValueError(f"{what} is defined for finite-horizon MDPs only; this MDP is discounted")

    # ------------------------------------------------------------------ helpers
    def replace(self, **changes) -> TabularMDP:
        """Return a new MDP with some constructor arguments changed.

        Changing between discounted and finite horizon needs both keywords, e.g.
        ``mdp.replace(gamma=None, horizon=10)``; ``mdp.replace(horizon=10)`` keeps ``gamma`` (a discounted finite
        horizon).
        """
        kwargs = dict(
            P=self._P if self._P is not None else self._T,
            R=self._R,
            init=self._init,
            gamma=self._gamma,
            horizon=self._horizon,
            reward_noise=self._reward_noise,
            reward_std=self._reward_std,
            feasible=self._feasible,
            reward_range=self._reward_range,
        )
        unknown = set(changes) - set(kwargs)
        if unknown:
            raise ValueError(f"unknown field(s) {sorted(unknown)}; expected some of {sorted(kwargs)}")
        kwargs.update(changes)
        return TabularMDP(**kwargs)

    def __repr__(self) -> str:
        kind = f"gamma={self._gamma}" if self.is_discounted else f"horizon={self._horizon}"
        kind += f", gamma={self._gamma}" if self.is_episodic and self._gamma is not None else ""
        kind += f", reward_range={self._reward_range}" if self._reward_range != (0.0, 1.0) else ""
        stat = "" if self.is_stationary else ", stage-dependent"
        stat += f", sparse nnz={self._T.nnz}" if self.is_sparse else ""
        return f"{type(self).__name__}(S={self.S}, A={self.A}, {kind}{stat}, rewards={self._reward_noise})"


class MultiArmedBandit(TabularMDP):
    """A multi-armed bandit: a one-state MDP with gamma = 0.

    Parameters
    ----------
    means : array_like, shape (A,)
        Mean reward of each arm, in [0, 1].
    reward_noise, reward_std
        As in :class:`TabularMDP`; Bernoulli arms by default.
    """

    def __init__(self, means, *, reward_noise: str = "bernoulli", reward_std: float = 0.1) -> None:
        means = as_float_array(means, "means", ndim=1)
        if means.size < 1:
            raise ValueError("means must have at least one arm")
        check_range(means, "means", 0.0, 1.0)
        A = means.size
        super().__init__(
            np.ones((1, A, 1)),
            means[None, :],
            np.ones(1),
            gamma=0.0,
            reward_noise=reward_noise,
            reward_std=reward_std,
        )

    @property
    def means(self) -> np.ndarray:
        """Mean reward of each arm, shape (A,)."""
        return self._R[0]

    @property
    def n_arms(self) -> int:
        """Number of arms."""
        return self.A

    @property
    def best_arm(self) -> int:
        """Index of the best arm (lowest index among ties)."""
        return int(np.argmax(self.means))

    @property
    def gaps(self) -> np.ndarray:
        """Sub-optimality gap of each arm, max(means) - means."""
        return self.means.max() - self.means

    def replace(self, **changes):
        raise ValueError("replace is not supported on bandits; build a new MultiArmedBandit")

    def __repr__(self) -> str:
        return f"MultiArmedBandit(A={self.A}, rewards={self._reward_noise})"


class ContextualBandit(TabularMDP):
    """A contextual bandit: contexts s ~ rho i.i.d., reward R(s, a); an MDP with gamma = 0.

    Represented as a discounted MDP with ``gamma = 0`` and ``P[s, a, :] = rho``, so values, occupancies
    (``d(s, a) = rho(s) pi(a|s)``) and sampling all follow from the MDP machinery.

    Parameters
    ----------
    means : array_like, shape (S, A)
        Mean rewards in [0, 1].
    context_dist : array_like, shape (S,)
        Context distribution rho.
    reward_noise, reward_std
        As in :class:`TabularMDP`.
    """

    def __init__(self, means, context_dist, *, reward_noise: str = "bernoulli", reward_std: float = 0.1) -> None:
        means = as_float_array(means, "means", ndim=2)
        rho = as_float_array(context_dist, "context_dist", ndim=1)
        check_shape(rho, "context_dist", (means.shape[0],))
        check_distributions(rho, "context_dist")
        S, A = means.shape
        P = np.broadcast_to(rho, (S, A, S))
        super().__init__(P, means, rho, gamma=0.0, reward_noise=reward_noise, reward_std=reward_std)

    @property
    def means(self) -> np.ndarray:
        """Mean rewards, shape (S, A)."""
        return self._R

    @property
    def context_dist(self) -> np.ndarray:
        """Context distribution rho, shape (S,)."""
        return self._init

    @property
    def best_actions(self) -> np.ndarray:
        """Best action per context (lowest index among ties), shape (S,)."""
        return np.argmax(self._R, axis=1)

    @property
    def gaps(self) -> np.ndarray:
        """Sub-optimality gaps max_a R(s, a) - R(s, .), shape (S, A)."""
        return self._R.max(axis=1, keepdims=True) - self._R

    def replace(self, **changes):
        raise ValueError("replace is not supported on bandits; build a new ContextualBandit")

    def __repr__(self) -> str:
        return f"ContextualBandit(S={self.S}, A={self.A}, rewards={self._reward_noise})"


def trusted_mdp(P, R, init, *, gamma=None, horizon=None, reward_noise="bernoulli", reward_std=0.1,
                feasible=None, reward_range=(0.0, 1.0)) -> TabularMDP:
    """A :class:`TabularMDP` built without the constructor's checks and copies (issue 16), for arrays this package
    produced itself and hands over: C-contiguous float64 ``P``, ``R`` and ``init`` that already satisfy every
    check (an empirical model ``P = C / N`` with clipped ``r_hat``), ``gamma`` a float in [0, 1) or None,
    ``horizon`` a positive int or None (not both None), ``reward_range`` a pair of floats. The arrays are marked
    read-only and owned by the MDP. Never for a caller's arrays: the public constructor validates those; dense
    only. ``feasible``: None or a read-only bool ``(S, A)`` mask as ``TabularMDP.feasible`` holds
    (issue 15). Not in ``__all__``. (Sets the fields of ``TabularMDP.__init__``; keep in step: a test compares the two.)
    """
    mdp = object.__new__(TabularMDP)
    S, A = P.shape[-3], P.shape[-2]
    for name, value in (("_P", P), ("_T", None), ("_S", int(S)), ("_A", int(A)),
                        ("_stages", P.shape[0] if P.ndim == 4 else 1), ("_R", R), ("_init", init),
                        ("_gamma", gamma), ("_horizon", horizon),
                        ("_reward_noise", reward_noise), ("_reward_std", reward_std),
                        ("_feasible", feasible),
                        ("_reward_range", (float(reward_range[0]), float(reward_range[1])))):  # fmt: skip
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
        object.__setattr__(mdp, name, value)
    return mdp


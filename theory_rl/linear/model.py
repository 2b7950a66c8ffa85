"""The finite-horizon linear MDP model (Jin, Yang, Wang & Jordan 2020, Assumption A; Yang & Wang 2019).

A linear MDP has known features ``phi_h(s, a) in R^d`` and unknown measures and reward parameters with
``P_h(s' | s, a) = <phi_h(s, a), mu_h(s')>`` and ``r_h(s, a) = <phi_h(s, a), theta_h>``. On a finite state space it is
a tabular MDP with rank-``d`` transitions, so :meth:`LinearMDP.to_tabular` gives exact planning and evaluation
through :mod:`theory_rl.planning`, and every tabular MDP is linear with one-hot features, ``d = S A``
(:meth:`LinearMDP.from_tabular`).

The instance families (random, coverage and hybrid families) are in :mod:`theory_rl.generators.linear`.
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import (
    PROB_TOL,
    Instance,
    Options,
    Real,
    as_float_array,
    check_distributions,
    check_positive_int,
    check_shape,
    readonly,
    validate_params,
)
from theory_rl._validation import (
    index_str as _index,
)
from theory_rl.mdp import REWARD_NOISES, TabularMDP

__all__ = ["LinearMDP"]


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
        ``reward_noise`` is not one of ``theory_rl.mdp.REWARD_NOISES``, ``reward_std`` is not a finite number
        ``>= 0`` or ``tol`` not a finite number in [0, 0.1).
    """

    @validate_params(reward_noise=Options(REWARD_NOISES), reward_std=Real(0.0), tol=Real(0.0, 0.1, closed="left"))
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

    # -- the model operators (shared with FactoredLinearMDP: one code path for both forms) -------------------
    def features(self, h: int) -> np.ndarray:
        """``phi_h``, (S, A, d) (a view)."""
        return self._phi if self._phi.ndim == 3 else self._phi[h]

    def measure(self, h: int) -> np.ndarray:
        """``mu_h``, (d, S) (a view)."""
        return self._mu[h]

    def stage_reward(self, h: int) -> np.ndarray:
        """Mean rewards ``R_h``, (S, A) (the validated table)."""
        return self._R[h]

    def expected_next(self, h: int, V) -> np.ndarray:
        """``(P_h V)(s, a)``, (S, A), from the materialised (validated, renormalised) kernel."""
        return self._P[h] @ V

    def push_forward(self, h: int, occ) -> np.ndarray:
        """``sum_{s,a} occ(s, a) P_h(. | s, a)``, (S,)."""
        return np.einsum("sa,sat->t", occ, self._P[h])

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
    @validate_params(mdp=Instance(TabularMDP, episodic=True))
    def from_tabular(cls, mdp: TabularMDP) -> LinearMDP:
        """One-hot linear form of a finite-horizon tabular MDP: ``d = S A``, ``phi(s, a) = e_{s A + a}``,
        ``mu_h[s A + a] = P_h(. | s, a)``, ``theta_h[s A + a] = R_h(s, a)`` (Jin et al. 2020, Example 2.1).

        The round trip ``from_tabular(m).to_tabular()`` reproduces ``P`` and ``R`` exactly (one-hot products).
        """
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

"""Factored linear MDPs: ``(phi, mu, theta)`` stored as given, never the (H, S, A, S) kernel (issue 15, item 4).

A linear MDP (Jin, Yang, Wang & Jordan 2020, Assumption A) has ``P_h(s' | s, a) = phi_h(s, a)^T mu_h(s')`` and
``r_h(s, a) = phi_h(s, a)^T theta_h``. :class:`theory_rl.linear.LinearMDP` materialises ``P``; this sibling,
:class:`FactoredLinearMDP`, keeps only the factors, so its memory is that of ``phi`` (S A d, or H S A d per step)
and ``mu`` (d S, or H d S per step), and every backup goes through the d-dimensional factorisation
``P_h V = phi_h (mu_h V)`` in O(S A d) instead of O(S^2 A).

Both classes expose the same model operators, the protocol the planners, samplers and algorithms use (one code
path for both forms): ``features(h)`` (S, A, d), ``stage_reward(h)`` (S, A), ``expected_next(h, V)`` (S, A) =
``P_h V`` and ``push_forward(h, occ)`` (S,) = ``sum_{s,a} occ(s, a) P_h(. | s, a)``.

Sibling, not subclass: a LinearMDP promises ``P`` and ``R`` arrays (its users index them), which a model of a
million states cannot keep; the factored model offers ``FactoredLinearMDP.to_linear`` for small instances.
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import (
    PROB_TOL,
    Integer,
    Options,
    Real,
    as_float_array,
    check_distributions,
    check_positive_int,
    check_shape,
    check_table,
    readonly,
    validate_params,
)
from theory_rl._validation import index_str as _index
from theory_rl.linear.model import LinearMDP
from theory_rl.mdp import REWARD_NOISES

__all__ = ["FactoredLinearMDP", "LINEAR_MODELS"]

#: States per block when a check or a reward table is computed piecewise (bounded temporaries).
_BLOCK = 1 << 16


class FactoredLinearMDP:
    """A finite-horizon linear MDP stored by its factors ``(phi, mu, theta)``.

    Parameters
    ----------
    phi : array_like, shape (S, A, d) or (H, S, A, d)
        Features ``phi_h(s, a)``, stationary (shared by every step, to keep memory down) or per step.
    mu : array_like, shape (d, S) or (H, d, S)
        Measures: ``mu_h[i, s']``, stationary or per step; ``P_h(s' | s, a) = sum_i phi_h(s, a)_i mu_h[i, s']``.
    theta : array_like, shape (H, d)
        Reward parameters, ``r_h(s, a) = phi_h(s, a) @ theta[h]``.
    init : array_like, shape (S,)
        Initial-state distribution.
    horizon : int, optional
        H, a consistency check only: H is ``theta.shape[0]``, and ``horizon`` must equal it if given.
    reward_noise, reward_std
        Distribution of sampled rewards, as in :class:`theory_rl.mdp.TabularMDP`.
    tol : float, default 1e-10
        Tolerance of the validity checks (row sums, signs, rewards in [0, 1]). Nothing is clipped or rescaled:
        the factors are the model.
    max_check : int, default 10**8
        Largest number of kernel entries ``H' S A S`` (``H'`` = number of distinct stages) that the signed-factor
        check below may compute (in blocks, bounded memory).

    Notes
    -----
    What is accepted, checked per factor in O(H (S A d + d S)) time and O(S A) extra memory:

    - **non-negative factors** (``phi >= 0``, ``mu >= 0``; the simplex features of Jin et al. 2020, Example 2.2,
      rows of ``phi`` on the simplex and each ``mu_h[i]`` a distribution, are the main case): ``P_h(. | s, a)``
      is then non-negative, and it is a distribution iff ``phi_h(s, a) @ mu_h.sum(1) = 1``, which is checked at
      every ``(h, s, a)``. Such models have the latent-state sampler of :mod:`theory_rl.linear.latent`.
    - **signed factors**: rows must sum to 1 (same check); non-negativity of ``phi mu`` then needs the kernel
      itself, computed in blocks of states when ``H' S A S <= max_check`` and refused otherwise (ValueError
      saying so). Signed models are refused by the latent sampler.

    Rewards ``phi_h(s, a) @ theta_h`` must lie in ``[0, 1]`` (within ``tol``), checked in blocks of states.

    Raises
    ------
    ValueError
        Naming the entry: shapes that disagree (``phi``, ``mu``, ``theta``, ``init``), a non-finite entry, a row
        ``phi_h(s, a) @ mu_h 1`` not 1, a negative kernel entry, a reward outside [0, 1], ``init`` not a
        distribution, or a signed model too large to certify.
    """

    @validate_params(horizon=Integer(1, optional=True), reward_noise=Options(REWARD_NOISES), reward_std=Real(0.0),
                     tol=Real(0.0, 0.1, closed="left"), max_check=Integer(0))
    def __init__(self, phi, mu, theta, init, *, horizon: int | None = None, reward_noise: str = "bernoulli",
                 reward_std: float = 0.1, tol: float = PROB_TOL, max_check: int = 10**8) -> None:
        phi = as_float_array(phi, "phi", ndim=(3, 4))
        mu = as_float_array(mu, "mu", ndim=(2, 3))
        theta = as_float_array(theta, "theta", ndim=2)
        init = as_float_array(init, "init", ndim=1)
        H, d = theta.shape
        check_positive_int(H, "horizon (theta.shape[0])")
        if horizon is not None and horizon != H:
            raise ValueError(f"horizon is {horizon}, but theta has {H} stages (theta.shape[0])")
        S, A = phi.shape[-3], phi.shape[-2]
        if S < 1 or A < 1 or d < 1:
            raise ValueError(f"phi has shape {phi.shape} and theta {theta.shape}: need S, A, d >= 1")
        if phi.shape[-1] != d:
            raise ValueError(f"phi has feature dimension {phi.shape[-1]}, but theta has d = {d} (theta.shape[1])")
        if phi.ndim == 4 and phi.shape[0] != H:
            raise ValueError(f"phi has {phi.shape[0]} stages, expected horizon = {H} (theta.shape[0])")
        check_shape(mu, "mu", ((H,) if mu.ndim == 3 else ()) + (d, S))
        check_shape(init, "init", (S,))
        check_distributions(init, "init")
        self._phi, self._mu = readonly(phi), readonly(mu)
        self._theta, self._init = readonly(theta), readonly(init)
        self._nonnegative = bool((phi >= 0).all() and (mu >= 0).all())
        self._check(tol, max_check)
        self._mass = readonly(np.stack([self.measure(h).sum(axis=1) for h in range(self.n_mu_stages)]))
        self._reward_noise = reward_noise
        self._reward_std = reward_std

    def _check(self, tol: float, max_check: int) -> None:
        H, S, A = self.H, self.S, self.A
        stages = max(self.n_phi_stages, self.n_mu_stages)
        for h in range(stages):
            phi, mu = self.features(h), self.measure(h)
            sums = phi @ mu.sum(axis=1)
            off = np.abs(sums - 1.0) > tol
            if off.any():
                s, a = np.argwhere(off)[0]
                raise ValueError(f"P[{h}, {s}, {a}] = phi_h(s, a) @ mu_h sums to {sums[s, a]:.12g}, expected 1 "
                                 f"(tolerance {tol:g})")
        if not self._nonnegative:
            if stages * S * A * S > max_check:
                raise ValueError(f"phi or mu has negative entries, and certifying P = phi mu >= 0 needs its "
                                 f"{stages * S * A * S:.3g} entries, more than max_check = {max_check}; pass "
                                 f"non-negative factors (e.g. simplex features) or raise max_check")
            step = max(1, (1 << 22) // (A * S))  # states per block: at most ~4M kernel entries at a time
            for h in range(stages):
                mu = self.measure(h)
                for lo in range(0, S, step):
                    block = self.features(h)[lo:lo + step] @ mu
                    neg = block < -tol
                    if neg.any():
                        s, a, t = np.argwhere(neg)[0]
                        raise ValueError(f"P[{h}, {lo + s}, {a}, {t}] = <phi, mu> is {block[s, a, t]:.6g}, "
                                         f"expected a probability >= 0")
        for h in range(H):
            for lo in range(0, S, _BLOCK):
                r = self.features(h)[lo:lo + _BLOCK] @ self._theta[h]
                bad = ~((r >= -tol) & (r <= 1 + tol))
                if bad.any():
                    s, a = np.argwhere(bad)[0]
                    raise ValueError(f"R{_index((h, lo + s, a))} = <phi, theta> is {r[s, a]:.6g}, expected a mean "
                                     f"reward in [0, 1]")

    # -- accessors ---------------------------------------------------------------------------------------------
    phi = property(lambda self: self._phi, doc="Features as given, (S, A, d) or (H, S, A, d).")
    mu = property(lambda self: self._mu, doc="Measures as given, (d, S) or (H, d, S).")
    theta = property(lambda self: self._theta, doc="Reward parameters, (H, d).")
    init = property(lambda self: self._init, doc="Initial-state distribution, (S,).")
    horizon = property(lambda self: self._theta.shape[0], doc="Horizon H.")
    H = horizon
    S = property(lambda self: self._phi.shape[-3], doc="Number of states.")
    A = property(lambda self: self._phi.shape[-2], doc="Number of actions.")
    d = property(lambda self: self._theta.shape[1], doc="Feature dimension.")
    reward_noise = property(lambda self: self._reward_noise)
    reward_std = property(lambda self: self._reward_std)
    nonnegative = property(lambda self: self._nonnegative, doc="Whether phi >= 0 and mu >= 0 (latent sampler).")
    mass = property(lambda self: self._mass, doc="``mu_h.sum(1)`` per distinct stage, (H' , d).")
    n_phi_stages = property(lambda self: 1 if self._phi.ndim == 3 else self.H, doc="1 (stationary) or H.")
    n_mu_stages = property(lambda self: 1 if self._mu.ndim == 2 else self.H, doc="1 (stationary) or H.")

    @property
    def stage_phi(self) -> np.ndarray:
        """Features broadcast to (H, S, A, d) (a read-only view, no copy)."""
        return np.broadcast_to(self._phi, (self.H, self.S, self.A, self.d))

    @property
    def stage_mu(self) -> np.ndarray:
        """Measures broadcast to (H, d, S) (a read-only view, no copy)."""
        return np.broadcast_to(self._mu, (self.H, self.d, self.S))

    @property
    def nbytes(self) -> int:
        """Bytes held by the model's arrays (phi, mu, theta, init)."""
        return int(self._phi.nbytes + self._mu.nbytes + self._theta.nbytes + self._init.nbytes)

    @property
    def max_feature_norm(self) -> float:
        """``max_{h,s,a} ||phi_h(s, a)||_2`` (the papers assume <= 1)."""
        return float(max(np.sqrt((self.features(h) ** 2).sum(axis=-1)).max() for h in range(self.n_phi_stages)))

    # -- the model operators (shared with LinearMDP) ------------------------------------------------------------
    def features(self, h: int) -> np.ndarray:
        """``phi_h``, (S, A, d) (a view)."""
        return self._phi if self._phi.ndim == 3 else self._phi[h]

    def measure(self, h: int) -> np.ndarray:
        """``mu_h``, (d, S) (a view)."""
        return self._mu if self._mu.ndim == 2 else self._mu[h]

    def stage_reward(self, h: int) -> np.ndarray:
        """Mean rewards ``r_h = phi_h theta_h``, (S, A)."""
        return self.features(h) @ self._theta[h]

    def expected_next(self, h: int, V) -> np.ndarray:
        """``(P_h V)(s, a) = phi_h(s, a) @ (mu_h V)``, (S, A), in O(S A d + d S)."""
        return self.features(h) @ (self.measure(h) @ V)

    def push_forward(self, h: int, occ) -> np.ndarray:
        """``sum_{s,a} occ(s, a) P_h(. | s, a) = (sum_{s,a} occ(s, a) phi_h(s, a)) @ mu_h``, (S,)."""
        return np.einsum("sa,sad->d", occ, self.features(h)) @ self.measure(h)

    # -- conversions and the rest --------------------------------------------------------------------------------
    def to_linear(self) -> LinearMDP:
        """The dense :class:`LinearMDP` (materialises (H, S, A, S); for small instances and tests)."""
        check_table("P", (self.H, self.S, self.A, self.S), ("H", "S", "A", "S"))
        return LinearMDP(self._phi, np.ascontiguousarray(self.stage_mu), self._theta, self._init,
                         reward_noise=self._reward_noise, reward_std=self._reward_std)

    @classmethod
    def from_linear(cls, lmdp: LinearMDP) -> FactoredLinearMDP:
        """The factors of a dense :class:`LinearMDP` (its ``phi``, ``mu``, ``theta``, ``init``, reward noise)."""
        if not isinstance(lmdp, LinearMDP):
            raise ValueError(f"lmdp is a {type(lmdp).__name__}, expected a LinearMDP")
        return cls(lmdp.phi, lmdp.mu, lmdp.theta, lmdp.init, reward_noise=lmdp.reward_noise,
                   reward_std=lmdp.reward_std)

    def __setattr__(self, name, value):
        if hasattr(self, name) or not name.startswith("_"):
            raise AttributeError(f"FactoredLinearMDP is immutable; use a new instance instead of setting {name!r}")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"FactoredLinearMDP(S={self.S}, A={self.A}, d={self.d}, H={self.H})"


#: The linear models the planners and algorithms accept (both expose the model operators above).
LINEAR_MODELS = (LinearMDP, FactoredLinearMDP)

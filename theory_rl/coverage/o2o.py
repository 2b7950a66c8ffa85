"""The offline-to-online coefficient of Wagenmaker & Pacchiano (2023), computed exactly on small linear MDPs.

``C^h_o2o(D_off, eps, T) = c_0 * inf_{Lambda in Omega_h} max_{pi in Pi}
||phi_{pi,h}||^2_{(T Lambda + Lambda_off,h)^{-1}} / max{V*_0 - V^pi_0, eps}^2`` with the prefactor
``c_0 = H^4 log(|Pi| / delta)``. FTPedel needs about ``min{T : C^h_o2o(D_off, eps, T) <= 1}`` online episodes
at step h; ``Lambda_off = 0`` gives PEDEL's complexity, ``T = 0`` asks the offline data to cover every policy.

The prefactor is from papers/ftpedel.md, tagged [R] (unverified recollection): it is the ``prefactor`` parameter.
``Omega_h`` is the set of step-h covariances of mixtures of Markov policies, i.e. ``Lambda(rho) = sum rho_h(s, a)
phi phi^T`` over the occupancy polytope; the matrix-fractional objective is convex in rho (cvxpy.matrix_frac), and
the coefficient is non-increasing in T, so the minimal T is found by bisection.
"""

from __future__ import annotations

import math

import numpy as np

from theory_rl._validation import (
    Instance,
    Integer,
    Options,
    Real,
    as_float_array,
    as_index_array,
    check_shape,
    check_step,
    validate_params,
)
from theory_rl.linear import LINEAR_MODELS, LinearMDP, feature_covariance, linear_evaluate
from theory_rl.linear.policies import all_deterministic_policies, occupancy_polytope, policy_features

__all__ = ["policy_class_summary", "offline_covariance", "o2o_coefficient", "minimal_online_episodes"]

#: The cvxpy solvers that handle ``matrix_frac`` (semidefinite cones).
SOLVERS = ("CLARABEL", "SCS", "MOSEK", "CVXOPT", "COPT", "SDPA")


def _policy_class(lmdp: LinearMDP, policies) -> np.ndarray:
    if policies is None:
        return all_deterministic_policies(lmdp)
    pols = np.asarray(policies)
    if pols.ndim != 3 or pols.shape[1:] != (lmdp.H, lmdp.S):
        raise ValueError(f"policies has shape {pols.shape}, expected (n, H, S) = (n, {lmdp.H}, {lmdp.S})")
    if pols.shape[0] == 0:
        raise ValueError("policies is empty, expected at least one policy")
    return as_index_array(pols, "policies", lmdp.A, ndim=3)


@validate_params(lmdp=Instance(LINEAR_MODELS))
def policy_class_summary(lmdp: LinearMDP, policies=None):
    """``(policies, phi_pi (n, H, d), values V^pi_0 (n,), gaps V*(Pi) - V^pi_0 (n,))`` for a finite class."""
    pols = _policy_class(lmdp, policies)
    feats = np.stack([policy_features(lmdp, p) for p in pols])
    values = np.array([float(lmdp.init @ linear_evaluate(lmdp, p)[0]) for p in pols])  # dense or factored
    return pols, feats, values, values.max() - values


@validate_params(lmdp=Instance(LINEAR_MODELS))
def offline_covariance(lmdp: LinearMDP, data) -> np.ndarray:
    """``Lambda_off,h = sum_tau phi phi^T`` (H, d, d) from a counts record, or an array (H, d, d) checked and
    returned.

    A counts record is the ONE counts record :class:`theory_rl.data.CountDataset` of horizon H (read through its
    ``counts`` (H, S, A) and ``horizon``; this module sits beside ``theory_rl.data``, which imports coverage, so it
    does not import it). The covariance is :func:`theory_rl.linear.feature_covariance` of its counts.

    An array must be finite (checked entry by entry), and each ``Lambda_off[h]`` symmetric
    (``max |L - L^T| <= 1e-10 max(1, ||L||_2)``) and positive semi-definite (smallest eigenvalue
    ``>= -1e-10 max(1, ||L||_2)``, round-off of a sum of outer products): a covariance. Otherwise ValueError
    naming ``Lambda_off[h]``.
    """
    return _offline_covariance(lmdp, data, "data")


def _offline_covariance(lmdp: LinearMDP, data, name: str) -> np.ndarray:
    """:func:`offline_covariance`, errors naming the caller's parameter ``name``."""
    if hasattr(data, "counts") and hasattr(data, "transition_counts"):  # a CountDataset
        want = (lmdp.H, lmdp.S, lmdp.A)
        if getattr(data, "horizon", None) != lmdp.H or np.shape(data.counts) != want:
            raise ValueError(f"{name} has counts of shape {np.shape(data.counts)} (horizon "
                             f"{getattr(data, 'horizon', None)}), expected {want} (horizon {lmdp.H})")
        return feature_covariance(data.counts, lmdp.stage_phi)
    arr = as_float_array(data, f"{name}: Lambda_off", ndim=3)
    check_shape(arr, f"{name}: Lambda_off", (lmdp.H, lmdp.d, lmdp.d))
    for h, L in enumerate(arr):
        scale = max(1.0, float(np.linalg.norm(L, 2)))
        asym = float(np.abs(L - L.T).max())
        if asym > 1e-10 * scale:
            raise ValueError(f"{name}: Lambda_off[{h}] is not symmetric: max |L - L^T| = {asym:.3g} > 1e-10 * "
                             f"{scale:.3g}")
        low = float(np.linalg.eigvalsh((L + L.T) / 2).min())
        if low < -1e-10 * scale:
            raise ValueError(f"{name}: Lambda_off[{h}] is not positive semi-definite: smallest eigenvalue {low:.3g}")
    return arr


def _inf_max(lmdp, h, targets, T, Loff, solver):
    """``inf_Lambda max_x ||x||^2_{(T Lambda + Loff)^{-1}}`` (targets already divided by the gaps)."""
    if T == 0:
        ev, U = np.linalg.eigh(Loff)
        keep = ev > 1e-12 * max(ev.max(), 1.0)
        coords = targets @ U
        if (np.abs(coords[:, ~keep]) > 1e-12).any():
            return math.inf
        return float(np.max((coords[:, keep] ** 2 / ev[keep]).sum(axis=1)))
    import cvxpy as cp

    rho, cons = occupancy_polytope(lmdp, h)
    Phi = lmdp.stage_phi[h].reshape(-1, lmdp.d)
    M = Phi.T @ cp.diag(rho[h]) @ Phi + Loff / T  # well scaled: ||x||^2_{(T L + Loff)^{-1}} = ||x||^2_{M^{-1}} / T
    M = (M + M.T) / 2
    prob = cp.Problem(cp.Minimize(cp.max(cp.hstack([cp.matrix_frac(x, M) for x in targets]))), cons)
    try:
        prob.solve(solver=solver)
    except cp.SolverError:
        prob.solve(solver="SCS", eps=1e-9)
    if prob.status not in ("optimal", "optimal_inaccurate") or prob.value is None:
        return math.inf
    return float(prob.value) / T


@validate_params(lmdp=Instance(LINEAR_MODELS), eps=Real(0.0, closed="neither"), T=Real(0.0),
                 h=Integer(0, optional=True),
                 delta=Real(0.0, 1.0, closed="neither"), prefactor=Real(0.0, closed="neither", optional=True),
                 reg=Real(0.0), solver=Options(SOLVERS))
def o2o_coefficient(lmdp: LinearMDP, offline, eps: float, T: float, *, h: int | None = None, policies=None,
                    delta: float = 0.1, prefactor: float | None = None, reg: float = 0.0,
                    solver: str = "CLARABEL"):
    """``C^h_o2o(D_off, eps, T)`` exactly (Wagenmaker & Pacchiano 2023, Def. of the offline-to-online coefficient).

    Parameters
    ----------
    lmdp : LinearMDP
    offline : CountDataset or array_like (H, d, d)
        Offline data (finite horizon H) or its covariances ``Lambda_off,h``.
    eps : float
        Target accuracy.
    T : float
        Online episodes (>= 0).
    h : int, optional
        One step; default all steps, returning an array (H,).
    policies : array_like (n, H, S), optional
        The finite class Pi (default every deterministic Markov policy).
    delta : float
    prefactor : float, optional
        ``c_0``; default ``H^4 log(|Pi| / delta)`` (papers/ftpedel.md, tag [R], unverified).
    reg : float
        Ridge ``reg I`` added to ``Lambda_off`` (the algorithm's lambda; 0 for the coefficient as stated).
    """
    if h is not None:
        h = check_step(h, "h", lmdp.H)
    Loff = _offline_covariance(lmdp, offline, "offline") + reg * np.eye(lmdp.d)
    pols, feats, _, gaps = policy_class_summary(lmdp, policies)
    c0 = lmdp.H ** 4 * math.log(len(pols) / delta) if prefactor is None else float(prefactor)
    steps = range(lmdp.H) if h is None else [h]
    out = []
    for k in steps:
        targets = feats[:, k] / np.maximum(gaps, eps)[:, None]
        targets = np.unique(np.round(targets, 14), axis=0)
        out.append(c0 * _inf_max(lmdp, k, targets, float(T), Loff[k], solver))
    return out[0] if h is not None else np.array(out)


@validate_params(lmdp=Instance(LINEAR_MODELS), eps=Real(0.0, closed="neither"), h=Integer(0),
                 T_max=Real(1.0, closed="neither"), rtol=Real(0.0, closed="neither"))
def minimal_online_episodes(lmdp: LinearMDP, offline, eps: float, *, h: int, T_max: float = 1e12,
                            rtol: float = 0.01, **kwargs) -> float:
    """``min{T >= 0 : C^h_o2o(D_off, eps, T) <= 1}`` by geometric bisection (C is non-increasing in T).

    Returns 0 when the offline data alone suffice, ``inf`` when ``T_max`` does not, else the upper end ``hi`` of a
    bracket ``[hi / (1 + rtol), hi]`` containing the threshold (``C(hi) <= 1 < C(hi / (1 + rtol))``); thresholds
    below one episode are bracketed too (``T`` is real here; round up for a number of episodes). If even
    ``T = 1 / T_max`` suffices, that value is returned (an upper bound; the threshold is smaller still).
    Keywords go to :func:`o2o_coefficient`.
    """
    h = check_step(h, "h", lmdp.H)

    def C(T):
        return o2o_coefficient(lmdp, offline, eps, T, h=h, **kwargs)

    if C(0.0) <= 1:
        return 0.0
    if C(T_max) > 1:
        return math.inf
    lo, hi = 1.0, T_max
    while C(lo) <= 1:  # move the lower end below the threshold (it may lie in (0, 1))
        hi = lo
        if lo <= 1.0 / T_max:
            return hi
        lo = max(lo / 16.0, 1.0 / T_max)
    while hi / lo > 1 + rtol:
        mid = math.sqrt(lo * hi)
        if C(mid) <= 1:
            hi = mid
        else:
            lo = mid
    return hi

"""Experiment design over finite point sets and over the covariances reachable in a linear MDP.

- G-optimal design on a finite set ``X`` (Kiefer & Wolfowitz 1960): ``min_w max_x x^T A(w)^{-1} x`` with
  ``A(w) = sum_i w_i x_i x_i^T``; the optimum equals d (the Kiefer-Wolfowitz theorem) and coincides with the
  D-optimal design, which Frank-Wolfe with exact line search (Fedorov-Wynn) computes.
- Reachable design at step h (Wagenmaker & Jamieson 2022, PEDEL Sec. 5; Wagenmaker & Pacchiano 2023, OptCov):
  ``min_{Lambda in Omega_h} f(T Lambda + A_0)`` over ``Omega_h = {E_{pi ~ omega} Lambda_{pi,h}}``, with
  ``f(M) = max_x ||x||^2_{M^{-1}}`` or its smoothing ``f_eta(M) = (1/eta) log sum_x exp(eta ||x||^2_{M^{-1}})``.
  Frank-Wolfe's linear step is a planning problem with reward ``g(s, a) = phi_h(s, a)^T (-grad f) phi_h(s, a)``
  at step h; we solve it exactly on the known model (the papers play a regret minimiser, FORCE, instead).
  The cvxpy versions optimise over the occupancy polytope directly (``matrix_frac``) and serve as the oracle.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.optimize

from theory_rl._validation import (
    Instance,
    Integer,
    Options,
    Real,
    as_float_array,
    check_on_max_iter,
    check_shape,
    check_step,
    validate_params,
)
from theory_rl.linear import LINEAR_MODELS, LinearMDP
from theory_rl.linear import policies as linear_policies
from theory_rl.results import IterativeResult, renamed_field, stop_at_max_iter

__all__ = [
    "DesignResult",
    "g_optimal_design",
    "g_optimal_design_cvxpy",
    "design_objective",
    "reachable_design",
    "reachable_design_cvxpy",
]


#: Names that moved to :mod:`theory_rl.linear.policies` (issue 12): deprecated aliases here for one release.
_MOVED = {"policy_features": "policy_features", "policy_covariances": "policy_covariances",
          "occupancy_polytope": "occupancy_polytope", "_best_response": "best_response"}


def __getattr__(name: str):
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(f"theory_rl.algorithms.design.{name} is deprecated; use theory_rl.linear.{_MOVED[name]}",
                  DeprecationWarning, stacklevel=2)
    return getattr(linear_policies, _MOVED[name])


@dataclass(frozen=True, kw_only=True, repr=False)
class DesignResult(IterativeResult):
    """A design and its certificate (the shared :class:`~theory_rl.results.IterativeResult` vocabulary).

    A design is not a policy: ``policy``, ``V`` and ``Q`` are None; the reachable design's policy is the mixture
    ``weights`` over ``support``.

    Attributes
    ----------
    weights : numpy.ndarray
        Mixture weights over ``support``.
    support : numpy.ndarray
        Points (G-optimal design, (m, d)) or deterministic policies (reachable design, (m, H, S)).
    covariance : numpy.ndarray
        The design's covariance ``A(w)`` or ``Lambda`` (d, d).
    value : float
        Objective value at the returned design.
    iterations, residual, error_bound, converged
        The certificate: ``error_bound`` is a proven bound on ``value - optimum`` (the Frank-Wolfe duality gap, or
        ``d log(max leverage / d)`` for the G-optimal design; nan where the method has none), ``residual`` what the
        stopping rule tests. ``gap`` is the deprecated name of ``error_bound``.
    """

    policy: np.ndarray | None = None
    weights: np.ndarray
    support: np.ndarray
    covariance: np.ndarray
    value: float

    gap = renamed_field("gap", "error_bound")


# -- finite-set G-optimal design -----------------------------------------------------------------------------------
def _check_points(X) -> np.ndarray:
    X = as_float_array(X, "X", ndim=2)
    n, d = X.shape
    if n < 1 or d < 1:
        raise ValueError(f"X has shape {X.shape}, expected at least one point in at least one dimension")
    if np.linalg.matrix_rank(X) < d:
        raise ValueError(f"X has rank {np.linalg.matrix_rank(X)} < d = {d}: the points must span R^d")
    return X


@validate_params(tol=Real(0.0, closed="neither"), max_iter=Integer(1, 10**9), on_max_iter=Options(("raise", "warn")))
def g_optimal_design(X, *, tol: float = 1e-6, max_iter: int = 100_000, on_max_iter: str = "raise") -> DesignResult:
    """G-optimal design on a finite set by Frank-Wolfe on ``log det A(w)`` with exact line search.

    The step toward the point of largest leverage ``g = x^T A^{-1} x`` is ``gamma = (g/d - 1)/(g - 1)``
    (Fedorov 1972); Wolfe-Atwood away steps from the support point of smallest leverage make convergence linear
    (Todd 2016, "Minimum-Volume Ellipsoids", Ch. 3). By Kiefer-Wolfowitz, ``max_x g(x) >= d`` with equality at
    the optimum, and ``log det`` is within ``d log(max g / d)`` of its maximum, the reported ``gap``. Stops when
    ``max g <= d (1 + tol)``; if ``max_iter`` is reached first, :func:`theory_rl.results.stop_at_max_iter`
    raises :class:`~theory_rl.results.ConvergenceError` (default) or warns (``on_max_iter="warn"``).

    Parameters
    ----------
    X : array_like, shape (n, d)
        Points spanning R^d.
    tol : float, default 1e-6
    max_iter : int, default 100000
    on_max_iter : {"raise", "warn"}, default "raise"

    Returns
    -------
    DesignResult
        ``residual = max g / d - 1``, ``error_bound = d log(max g / d)`` (on ``log det``).
    """
    X = _check_points(X)
    n, d = X.shape
    w = np.full(n, 1.0 / n)
    converged = False
    for it in range(1, max_iter + 1):
        A = X.T @ (w[:, None] * X)
        g = np.einsum("nd,de,ne->n", X, np.linalg.inv(A), X)
        j = int(np.argmax(g))
        if g[j] <= d * (1 + tol):
            converged = True
            break
        # Wolfe-Atwood away step: shrink the support point of smallest leverage when that gains more.
        act = np.flatnonzero(w > 0)
        k = int(act[np.argmin(g[act])])
        if d - g[k] > g[j] - d and w[k] < 1.0:
            # log det along the away direction is concave; below leverage 1 it decreases all the way to removal
            floor = -w[k] / (1.0 - w[k])
            gamma = floor if g[k] <= 1.0 else max((g[k] / d - 1.0) / (g[k] - 1.0), floor)
            j = k
        else:
            gamma = (g[j] / d - 1.0) / (g[j] - 1.0)
        w *= 1.0 - gamma
        w[j] += gamma
        w = np.maximum(w, 0.0)
    if not converged:
        stop_at_max_iter(on_max_iter, "g_optimal_design", max_iter,
                         f"max leverage {g.max():.6g} > d (1 + tol) = {d * (1 + tol):.6g}")
        A = X.T @ (w[:, None] * X)  # the design after the last step
        g = np.einsum("nd,de,ne->n", X, np.linalg.inv(A), X)
    A = X.T @ (w[:, None] * X)
    return DesignResult(weights=w, support=X, covariance=A, value=float(g.max()), method="g_optimal_design",
                        constants={"tol": tol, "max_iter": max_iter}, iterations=it,
                        residual=float(g.max() / d - 1.0), error_bound=float(d * np.log(g.max() / d)),
                        converged=converged)


#: The cvxpy solvers that handle ``matrix_frac`` (semidefinite cones).
SOLVERS = ("CLARABEL", "SCS", "MOSEK", "CVXOPT", "COPT", "SDPA")


@validate_params(solver=Options(SOLVERS, optional=True))
def g_optimal_design_cvxpy(X, *, solver: str | None = None) -> DesignResult:
    """The same design as a convex program: ``min_{w in simplex} max_i matrix_frac(x_i, sum_j w_j x_j x_j^T)``.

    ``converged`` is the solver's status ``optimal``; ``iterations = 0`` and ``error_bound = nan`` (no
    certificate beyond the solver's own).
    """
    import cvxpy as cp

    X = _check_points(X)
    n, d = X.shape
    w = cp.Variable(n, nonneg=True)
    A = X.T @ cp.diag(w) @ X
    A = (A + A.T) / 2
    obj = cp.max(cp.hstack([cp.matrix_frac(X[i], A) for i in range(n)]))
    prob = cp.Problem(cp.Minimize(obj), [cp.sum(w) == 1])
    prob.solve(solver=solver or "CLARABEL")
    wv = np.maximum(np.asarray(w.value), 0.0)
    wv /= wv.sum()
    return DesignResult(weights=wv, support=X, covariance=X.T @ (wv[:, None] * X), value=float(prob.value),
                        method="g_optimal_design_cvxpy", constants={"solver": solver or "CLARABEL"}, iterations=0,
                        converged=prob.status == "optimal")


# -- reachable design ----------------------------------------------------------------------------------------------
@validate_params(eta=Real(0.0, closed="neither", optional=True))
def design_objective(M, X, eta: float | None = None):
    """``f(M)`` and its gradient in M for the targets ``X`` (m, d).

    ``eta=None``: ``f = max_x x^T M^{-1} x`` (gradient of an active point); otherwise the OptCov smoothing
    ``f_eta = (1/eta) log sum_x exp(eta x^T M^{-1} x)``, gradient ``-sum_x softmax_x M^{-1} x x^T M^{-1}``;
    ``max <= f_eta <= max + log(m)/eta``.
    """
    M = as_float_array(M, "M", ndim=2)
    check_shape(M, "M", (M.shape[0], M.shape[0]))
    X = as_float_array(X, "X", ndim=2)
    check_shape(X, "X", (X.shape[0], M.shape[0]))
    return _objective(M, X, eta)


def _objective(M: np.ndarray, X: np.ndarray, eta: float | None, gradient: bool = True):
    """:func:`design_objective` on trusted float arrays (issue 16: the line search calls it ~24k times per PEDEL
    run, so internal calls skip the re-validation, and the line search, which reads only the value, skips the
    gradient: ``(value, None)`` when ``gradient=False``; the value is computed by the same operations either way).
    """
    Minv = np.linalg.inv(M)
    Y = X @ Minv
    q = np.einsum("nd,nd->n", Y, X)
    if eta is None:
        val = float(q.max())
        if not gradient:
            return val, None
        p = np.zeros_like(q)
        p[np.argmax(q)] = 1.0
    else:
        z = eta * q
        zmax = z.max()
        e = np.exp(z - zmax)
        val = float((zmax + np.log(e.sum())) / eta)
        if not gradient:
            return val, None
        p = e / e.sum()
    grad = -np.einsum("n,nd,ne->de", p, Y, Y)
    return val, grad


def _check_design_args(lmdp, h, X, A0):
    h = check_step(h, "h", lmdp.H)
    X = as_float_array(X, "X", ndim=2)
    check_shape(X, "X", (X.shape[0], lmdp.d))
    A0 = np.zeros((lmdp.d, lmdp.d)) if A0 is None else as_float_array(A0, "A0", ndim=2)
    check_shape(A0, "A0", (lmdp.d, lmdp.d))
    return h, X, A0


@validate_params(lmdp=Instance(LINEAR_MODELS), scale=Real(0.0, closed="neither"),
                 eta=Real(0.0, closed="neither", optional=True), tol=Real(0.0, closed="neither"),
                 max_iter=Integer(1, 10**7))
def reachable_design(lmdp: LinearMDP, h: int, X, *, scale: float = 1.0, A0=None, eta: float | None = 50.0,
                     tol: float = 1e-4, max_iter: int = 500, on_max_iter: str = "raise") -> DesignResult:
    """Frank-Wolfe over the covariances reachable at step h: ``min_{Lambda in Omega_h} f(scale * Lambda + A0)``.

    The linear step maximises ``E_pi[phi_h^T (-grad) phi_h]`` over deterministic Markov policies, solved exactly by
    backward induction on the known model (a stand-in for the regret minimiser, FORCE, of Wagenmaker & Pacchiano
    2023, App. C). Step size by exact line search; the Frank-Wolfe gap certifies ``value - optimum <= gap``.

    Parameters
    ----------
    lmdp : LinearMDP
    h : int
        Step (0-based).
    X : array_like, shape (m, d)
        Target directions (PEDEL: ``phi_hat_{pi,h}`` for the active policies).
    scale : float
        T, the number of episodes the design will be played for.
    A0 : array_like, shape (d, d), optional
        Fixed part ``Lambda_off + lambda I`` (+ data collected so far); must make ``scale Lambda + A0`` invertible
        along the iterates (pass a small ridge if unsure).
    eta : float or None, default 50
        Smoothing of OptCov. ``None`` runs the subgradient version on the max, which has no certificate and so
        no stopping rule: it always runs exactly ``max_iter`` iterations and returns ``error_bound = nan`` and
        ``converged=False`` (``on_max_iter`` does not apply; read the value, not a convergence flag).
    tol : float, default 1e-4
        Stopping rule (smoothed objective): Frank-Wolfe gap ``<= tol * max(1, |value|)``.
    max_iter : int, default 500
        Iteration cap.
    on_max_iter : {"raise", "warn"}, default "raise"
        With ``eta`` given, what to do when ``max_iter`` is hit before the stopping rule (the shared rule,
        :func:`theory_rl.results.stop_at_max_iter`): raise :class:`~theory_rl.results.ConvergenceError`, or warn
        with a :class:`~theory_rl.results.ConvergenceWarning` and return the current design with
        ``converged=False`` (its ``error_bound`` still bounds ``value - optimum``).

    Returns
    -------
    DesignResult
        ``residual = error_bound`` = the last Frank-Wolfe gap (nan with ``eta=None``).

    Raises
    ------
    ValueError
        Bad arguments (``h`` out of range, ``X`` or ``A0`` of the wrong shape, ``scale <= 0``, ``on_max_iter``
        not ``'raise'`` or ``'warn'``).
    ConvergenceError
        ``on_max_iter="raise"`` and the cap was hit.
    """
    check_on_max_iter(on_max_iter)
    h, X, A0 = _check_design_args(lmdp, h, X, A0)
    phi = lmdp.stage_phi

    def lmo(G):
        g = np.einsum("sad,de,sae->sa", phi[h], -G, phi[h])
        pol = linear_policies.best_response(lmdp, h, g)
        return pol, linear_policies.policy_covariances(lmdp, pol)[h]

    # Start from the best response to the identity so that every reachable direction is represented.
    pol, Lp = lmo(-np.eye(lmdp.d))
    support, weights, Lam = [pol], [1.0], Lp
    gap = np.inf
    for it in range(1, max_iter + 1):
        val, G = _objective(scale * Lam + A0, X, eta)
        pol, Lp = lmo(G)
        gap = float(scale * np.sum(G * (Lam - Lp)))
        if eta is not None and gap <= tol * max(1.0, abs(val)):
            break
        D = Lp - Lam

        def along(t, D=D, Lam=Lam):
            try:
                return _objective(scale * (Lam + t * D) + A0, X, eta, gradient=False)[0]
            except np.linalg.LinAlgError:
                return np.inf

        t = scipy.optimize.minimize_scalar(along, bounds=(0.0, 1.0), method="bounded",
                                           options={"xatol": 1e-10}).x
        if along(1.0) <= along(t):
            t = 1.0
        Lam = Lam + t * D
        weights = [wi * (1 - t) for wi in weights]
        key = [i for i, q in enumerate(support) if np.array_equal(q, pol)]
        if key:
            weights[key[0]] += t
        else:
            support.append(pol)
            weights.append(t)
    converged = eta is not None and gap <= tol * max(1.0, abs(val))
    if eta is not None and not converged:
        stop_at_max_iter(on_max_iter, "reachable_design", max_iter,
                         f"max_iter={max_iter}: Frank-Wolfe gap {gap:.3g} > tol * max(1, |value|) = "
                         f"{tol * max(1.0, abs(val)):.3g}")
    val = _objective(scale * Lam + A0, X, eta, gradient=False)[0]
    w = np.array(weights)
    keep = w > 1e-12
    bound = float(gap) if eta is not None else float("nan")
    return DesignResult(weights=w[keep] / w[keep].sum(), support=np.array(support)[keep], covariance=Lam,
                        value=float(val), method="reachable_design",
                        constants={"h": h, "scale": scale, "eta": eta, "tol": tol, "max_iter": max_iter},
                        iterations=it, residual=bound, error_bound=bound, converged=bool(converged))


@validate_params(lmdp=Instance(LINEAR_MODELS), scale=Real(0.0, closed="neither"),
                 eta=Real(0.0, closed="neither", optional=True), solver=Options(SOLVERS, optional=True))
def reachable_design_cvxpy(lmdp: LinearMDP, h: int, X, *, scale: float = 1.0, A0=None, eta: float | None = None,
                           solver: str | None = None):
    """The convex program behind :func:`reachable_design`, over the occupancy polytope.

    ``Lambda(rho) = sum_{s,a} rho_h(s, a) phi_h(s, a) phi_h(s, a)^T``; the objective uses ``cvxpy.matrix_frac``
    (and ``log_sum_exp`` when ``eta`` is given). Returns ``(value, Lambda)``.
    """
    import cvxpy as cp

    h, X, A0 = _check_design_args(lmdp, h, X, A0)
    rho, cons = linear_policies.occupancy_polytope(lmdp, h)
    Phi = lmdp.stage_phi[h].reshape(-1, lmdp.d)
    Lam = Phi.T @ cp.diag(rho[h]) @ Phi
    M = scale * Lam + A0
    M = (M + M.T) / 2
    q = cp.hstack([cp.matrix_frac(x, M) for x in X])
    obj = cp.max(q) if eta is None else cp.log_sum_exp(eta * q) / eta
    prob = cp.Problem(cp.Minimize(obj), cons)
    prob.solve(solver=solver or "CLARABEL")
    if prob.status not in ("optimal", "optimal_inaccurate"):
        return float("inf"), None
    return float(prob.value), Phi.T @ (np.maximum(rho[h].value, 0)[:, None] * Phi)

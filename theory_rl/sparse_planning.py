"""Exact planning on sparse (CSR) storage: the forms of planning's Q-values, backward induction, value iteration
and policy evaluation that never densify.

:mod:`theory_rl.planning` dispatches a sparse MDP here (``q_from_values``, ``backward_induction``,
``value_iteration``, ``evaluate``), so every planning result of a sparse MDP is that of its dense form up to
floating-point summation order: the same algorithm, stopping rule and certificate, with the round-off bound sized
by the largest row support instead of S. They also accept dense MDPs (then through one BLAS call per backup).
"""

from __future__ import annotations

import math

import numpy as np

from theory_rl._validation import (
    ON_MAX_ITER,
    Instance,
    Integer,
    Options,
    Real,
    as_float_array,
    check_instance,
    check_step,
    check_work,
    validate_params,
)
from theory_rl.backups import Backups, policy_values
from theory_rl.mdp import TabularMDP
from theory_rl.policies import policy_matrix
from theory_rl.results import PlanningResult, stop_at_max_iter

__all__ = [
    "sparse_q_from_values",
    "sparse_backward_induction",
    "sparse_value_iteration",
    "sparse_evaluate",
    "default_max_iter",
]


def _values(mdp: TabularMDP, V, name: str) -> np.ndarray:
    V = as_float_array(V, name, ndim=1)
    if V.shape != (mdp.S,):
        raise ValueError(f"{name} has shape {V.shape}, expected ({mdp.S},)")
    return V


def sparse_q_from_values(mdp: TabularMDP, V, h: int | None = None) -> np.ndarray:
    """``Q(s, a) = R(s, a) + gamma * sum_s' P(s'|s, a) V(s')`` on the MDP's own storage, shape ``(S, A)``.

    As ``planning.q_from_values``: for a finite-horizon MDP, ``h`` selects the step and gamma is its discount (1
    when undiscounted).
    """
    mdp = check_instance(mdp, "mdp", TabularMDP)
    V = _values(mdp, V, "V")
    return Backups(mdp).q(V, check_step(h, "h", mdp.horizon))


def sparse_backward_induction(mdp: TabularMDP) -> PlanningResult:
    """Exact optimal values of a finite-horizon MDP by backward induction on sparse stages.

    ``V_H = 0``, ``V_h = max_a R_h + gamma P_h V_{h+1}`` (gamma the discount, 1 when undiscounted; one pass over
    stage h's non-zeros, numba), ``Q_h`` from one more pass; the error bound is the round-off of the H backups,
    ``H (b + 6) eps (1 + |V|_inf)`` with b the largest row support. Memory: the ``(H, S, A)`` table Q
    plus the transitions.
    """
    mdp = check_instance(mdp, "mdp", TabularMDP, episodic=True)
    B = Backups(mdp)
    H, S, A = mdp.horizon, mdp.S, mdp.A
    V = np.zeros((H + 1, S))
    Q = np.empty((H, S, A))
    for h in range(H - 1, -1, -1):
        Q[h] = B.q(V[h + 1], h)
        V[h] = Q[h].max(axis=1)
    return B.result(V[:H], Q, H, 0.0, H * B.roundoff(V[0]), True, "backward_induction")


@validate_params(gamma=Real(0, 1, closed="neither"), tol=Real(0, None, closed="neither"),
                 vmax=Real(0, None, closed="left"))
def default_max_iter(gamma: float, tol: float, vmax: float) -> int:
    """Iteration cap of the value-iteration-type solvers: twice the sweeps a gamma-contraction needs from
    ``|V_0 - V*| <= vmax`` to the stopping threshold ``tol (1 - gamma) / (2 gamma)``, plus 100 (as planning's
    value iteration). Hitting it means the residual stagnated at floating-point resolution."""
    gamma = float(gamma)
    threshold = tol * (1.0 - gamma) / (2.0 * gamma)
    k = math.log(max(vmax / threshold, 1.0)) / -math.log(gamma)
    return 2 * int(math.ceil(k)) + 100


@validate_params(
    mdp=Instance(TabularMDP), tol=Real(0, None, closed="neither"), max_iter=Integer(1, optional=True),
    on_max_iter=Options(ON_MAX_ITER),
)
def sparse_value_iteration(
    mdp: TabularMDP, *, tol: float = 1e-8, max_iter: int | None = None, V0=None, on_max_iter: str = "raise"
) -> PlanningResult:
    """Value iteration on the MDP's own storage, with planning's stopping rule and certificate.

    ``V_{k+1} = T V_k`` until ``|V_{k+1} - V_k|_inf < tol (1 - gamma) / (2 gamma)`` (Puterman 1994, Thm 6.3.1);
    ``error_bound = (gamma |V_{k+1} - V_k|_inf + roundoff) / (1 - gamma)``. Each sweep is one numba pass over the
    non-zeros (sparse) or one BLAS call (dense). Finite-horizon MDPs are solved by
    :func:`sparse_backward_induction`. Parameters as ``planning.value_iteration``.
    """
    if mdp.is_episodic:
        return sparse_backward_induction(mdp)
    B = Backups(mdp)
    gamma, S = mdp.gamma, mdp.S
    V = np.zeros(S) if V0 is None else _values(mdp, V0, "V0").copy()
    if gamma == 0.0:
        V_new, _ = B.bellman(V)
        Q = B.q(V_new)
        return B.result(V_new, Q, 1, float(np.abs(V_new - V).max()), B.roundoff(V_new), True, "value_iteration")
    if max_iter is None:
        max_iter = default_max_iter(gamma, tol, mdp.vmax + float(np.abs(V).max()))
        nnz = mdp.transitions.nnz if mdp.is_sparse else S * mdp.A * S
        check_work(max_iter * (nnz + 10**4), f"value_iteration at gamma={gamma!r} (max_iter {max_iter:.3g})")
    threshold = tol * (1.0 - gamma) / (2.0 * gamma)
    residual = np.inf
    for k in range(1, max_iter + 1):
        V_new, _ = B.bellman(V)
        residual = float(np.abs(V_new - V).max())
        V = V_new
        if residual < threshold:
            break
    converged = residual < threshold
    if not converged:
        stop_at_max_iter(on_max_iter, "value_iteration", max_iter,
                         f"max_iter={max_iter}, residual {residual:.3e} above the stopping threshold "
                         f"{threshold:.3e}, tol={tol:g}, gamma={gamma}")
    bound = (gamma * residual + B.roundoff(V)) / (1.0 - gamma)
    return B.result(V, B.q(V), k, residual, bound, converged, "value_iteration", {"tol": tol, "max_iter": max_iter})


def sparse_evaluate(mdp: TabularMDP, policy) -> np.ndarray:
    """Exact state values of ``policy`` without densifying the transitions.

    Discounted: ``(I - gamma P_pi) V = r_pi`` with ``P_pi`` sparse, solved by
    :func:`~theory_rl.backups.policy_values` (a dense LAPACK solve up to 4096 states; beyond, GMRES and Jacobi
    sweeps to a sup-norm residual of 1e-12, so ``|V - V^pi|_inf <= 1e-12 / (1 - gamma)``). Finite horizon:
    ``V_h = sum_a pi_h(a|s) Q_h(s, a)`` with ``Q_h = R_h + gamma P_h V_{h+1}``, exactly. Shapes as
    ``planning.evaluate``.
    """
    mdp = check_instance(mdp, "mdp", TabularMDP)
    pi = policy_matrix(mdp, policy)
    B = Backups(mdp)
    if mdp.is_discounted:
        P_pi, r_pi = B.policy_system(pi)
        return policy_values(P_pi, r_pi, mdp.gamma)
    H, S = mdp.horizon, mdp.S
    V = np.zeros((H + 1, S))
    for h in range(H - 1, -1, -1):
        V[h] = np.einsum("sa,sa->s", pi[h], B.q(V[h + 1], h, masked=False))  # finite R: pi is feasible
    return V[:H]

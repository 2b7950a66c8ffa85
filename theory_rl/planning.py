"""Exact planning with certificates: value iteration, policy iteration, backward induction, an LP check,
exact policy evaluation, Q-values and occupancy measures.

Dense backups reshape ``P`` to ``(S*A, S)`` and make one BLAS call. Every solver returns a
:class:`PlanningResult` whose ``error_bound`` is a proven bound on ``max_s |V(s) - V*(s)|``. Infeasible actions
(``mdp.feasible``, issue 15) are respected exactly: maxima range over feasible actions, ``Q`` is ``-inf`` at
infeasible pairs, the LP drops their constraints, and a policy with mass on one is refused.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from theory_rl._validation import (
    ON_MAX_ITER,
    Instance,
    Integer,
    Options,
    Real,
    as_float_array,
    as_index_array,
    check_choice,
    check_instance,
    check_shape,
    check_step,
    check_work,
    validate_params,
)
from theory_rl.feasibility import check_feasible_pairs, mask_infeasible
from theory_rl.mdp import TabularMDP
from theory_rl.policies import memo, policy_matrix, policy_transitions
from theory_rl.results import ConvergenceError, PlanningResult, stop_at_max_iter
from theory_rl.solvers import METHODS, default_method, krylov_policy_iteration
from theory_rl.solvers import gauss_seidel_value_iteration as _gauss_seidel
from theory_rl.solvers import modified_policy_iteration as _mpi
from theory_rl.sparse_planning import default_max_iter, sparse_backward_induction, sparse_evaluate, sparse_q_from_values
from theory_rl.sparse_planning import sparse_value_iteration as _sparse_vi

__all__ = [
    "ConvergenceError",
    "PlanningResult",
    "value_iteration",
    "policy_iteration",
    "backward_induction",
    "optimal_values_lp",
    "solve",
    "evaluate",
    "expected_return",
    "optimal_return",
    "suboptimality",
    "q_values",
    "q_from_values",
    "bellman_optimality",
    "bellman_expectation",
    "occupancy",
    "state_occupancy",
]


def _check_mdp(mdp) -> TabularMDP:
    return check_instance(mdp, "mdp", TabularMDP)


def _values_arg(mdp: TabularMDP, V, name: str = "V") -> np.ndarray:
    V = as_float_array(V, name, ndim=1)
    if V.shape != (mdp.S,):
        raise ValueError(f"{name} has shape {V.shape}, expected ({mdp.S},)")
    return V


def _flat(P: np.ndarray) -> np.ndarray:
    """View a (S, A, S) transition array as the (S*A, S) matrix of one BLAS call."""
    return P.reshape(-1, P.shape[-1])


def _roundoff(S: int, V: np.ndarray) -> float:
    """Bound on the floating-point error of one computed backup ``fl(T V) - T V``.

    Each entry of ``P V`` is a sum of S products (error <= S eps |V|_inf), and the reward and the max add a few
    more roundings. Without this floor a floating-point fixed point (residual exactly 0) would certify
    ``|V - V*| = 0``, which rounding makes false.
    """
    return (S + 2) * np.finfo(np.float64).eps * (1.0 + float(np.abs(V).max(initial=0.0)))


def _result(mdp, V, Q, iterations, residual, error_bound, converged, method, constants=None) -> PlanningResult:
    V, Q = np.asarray(V), np.asarray(Q)
    V.setflags(write=False)
    Q.setflags(write=False)
    policy = np.argmax(Q, axis=-1)
    policy.setflags(write=False)
    return PlanningResult(V=V, Q=Q, policy=policy, iterations=int(iterations), residual=float(residual),
                          error_bound=float(error_bound), converged=bool(converged), method=method,
                          constants=dict(constants or {}))


# ---------------------------------------------------------------------- Bellman operators
def q_from_values(mdp: TabularMDP, V, h: int | None = None) -> np.ndarray:
    """One-step look-ahead ``Q(s, a) = R(s, a) + gamma * sum_s' P(s'|s, a) V(s')``.

    For a finite-horizon MDP, ``h`` selects the step (``V`` is then ``V_{h+1}``) and gamma is its discount (1 when
    undiscounted). ``-inf`` at the infeasible pairs of a masked MDP.
    """
    mdp = _check_mdp(mdp)
    V = _values_arg(mdp, V)
    h = check_step(h, "h", mdp.horizon)
    if mdp.is_sparse:  # issue 15: sparse storage, never densified
        return sparse_q_from_values(mdp, V, h)
    if mdp.is_episodic:
        return mask_infeasible(mdp, mdp.R_at(h) + mdp.discount * (_flat(mdp.P_at(h)) @ V).reshape(mdp.S, mdp.A))
    return mask_infeasible(mdp, mdp.R + mdp.gamma * (_flat(mdp.P) @ V).reshape(mdp.S, mdp.A))


def bellman_optimality(mdp: TabularMDP, V, h: int | None = None) -> np.ndarray:
    """The Bellman optimality operator, ``(T V)(s) = max_a Q(s, a)`` with ``Q`` from :func:`q_from_values`."""
    return q_from_values(mdp, V, h).max(axis=1)


def bellman_expectation(mdp: TabularMDP, policy, V, h: int | None = None) -> np.ndarray:
    """The Bellman expectation operator of ``policy``, ``(T^pi V)(s) = sum_a pi(a|s) Q(s, a)``."""
    mdp = _check_mdp(mdp)
    h = check_step(h, "h", mdp.horizon)
    pi = policy_matrix(mdp, policy)
    if mdp.is_episodic:
        pi = pi[h]
    Q = q_from_values(mdp, V, h)
    return np.einsum("sa,sa->s", pi, np.where(pi > 0, Q, 0.0))  # pi is feasible: 0 * -inf never enters


# ---------------------------------------------------------------------- optimal control
def backward_induction(mdp: TabularMDP) -> PlanningResult:
    """Exact optimal values of a finite-horizon MDP by backward induction.

    ``V_H = 0``, ``Q_h = R_h + gamma P_h V_{h+1}``, ``V_h = max_a Q_h`` for ``h = H-1, ..., 0`` (gamma the MDP's
    discount, 1 when undiscounted); stationary or stage-dependent ``P`` and ``R``. Exact up to floating point;
    the error bound is the round-off of the H backups.
    """
    mdp = _check_mdp(mdp)
    mdp._require_episodic("backward_induction")
    if mdp.is_sparse:
        return sparse_backward_induction(mdp)
    H, S, A = mdp.horizon, mdp.S, mdp.A
    V = np.zeros((H + 1, S))
    Q = np.empty((H, S, A))
    for h in range(H - 1, -1, -1):
        Q[h] = mask_infeasible(mdp, mdp.R_at(h) + mdp.discount * (_flat(mdp.P_at(h)) @ V[h + 1]).reshape(S, A))
        V[h] = Q[h].max(axis=1)
    return _result(mdp, V[:H], Q, H, 0.0, H * _roundoff(S, V[0]), True, "backward_induction")


@validate_params(
    mdp=Instance(TabularMDP), tol=Real(0, None, closed="neither"), max_iter=Integer(1, optional=True),
    on_max_iter=Options(ON_MAX_ITER),
)
def value_iteration(
    mdp: TabularMDP,
    *,
    tol: float = 1e-8,
    max_iter: int | None = None,
    V0=None,
    on_max_iter: str = "raise",
) -> PlanningResult:
    """Value iteration with the textbook stopping rule and its certificate.

    Iterates ``V_{k+1} = T V_k`` until ``|V_{k+1} - V_k|_inf < tol (1 - gamma) / (2 gamma)``
    (Puterman 1994, Thm 6.3.1). Then ``|V_{k+1} - V*|_inf <= gamma/(1-gamma) |V_{k+1} - V_k|_inf < tol/2``,
    which is the reported ``error_bound``, and the greedy policy of ``V_{k+1}`` is ``tol``-optimal.
    Finite-horizon MDPs are solved exactly by :func:`backward_induction`; gamma = 0 takes one step.

    Parameters
    ----------
    mdp : TabularMDP
    tol : float, default 1e-8
        Target accuracy epsilon of the returned policy.
    max_iter : int, optional
        Iteration cap. By default twice the number of steps the contraction needs from ``V0 = 0``, so hitting it
        means the residual stagnated at floating-point resolution (``tol`` too small for this gamma).
    V0 : array_like, shape (S,), optional
        Starting values (zeros by default).
    on_max_iter : {"raise", "warn"}
        Raise :class:`ConvergenceError` (default) or warn and return ``converged=False`` at the cap.

    Returns
    -------
    PlanningResult
    """
    if mdp.is_episodic:
        return backward_induction(mdp)
    if mdp.is_sparse:
        return _sparse_vi(mdp, tol=tol, max_iter=max_iter, V0=V0, on_max_iter=on_max_iter)
    gamma, S, A = mdp.gamma, mdp.S, mdp.A
    V = np.zeros(S) if V0 is None else _values_arg(mdp, V0, "V0").copy()
    if gamma == 0.0:
        Q = np.array(mask_infeasible(mdp, mdp.R))
        V_new = Q.max(axis=1)
        residual = float(np.abs(V_new - V).max())
        return _result(mdp, V_new, Q, 1, residual, _roundoff(S, V_new), True, "value_iteration")
    if max_iter is None:
        max_iter = default_max_iter(gamma, tol, mdp.vmax + float(np.abs(V).max()))  # 1.8e17 at 1 - 1e-15: refused
        check_work(max_iter * (S * A * S + 10**4), f"value_iteration at gamma={gamma!r} (max_iter {max_iter:.3g})")

    threshold = tol * (1.0 - gamma) / (2.0 * gamma)
    P2, R2 = _flat(mdp.P), mask_infeasible(mdp, mdp.R).reshape(-1)  # -inf at infeasible pairs: max over feasible
    q = np.empty(S * A)
    residual = np.inf
    for k in range(1, max_iter + 1):
        np.dot(P2, V, out=q)
        q *= gamma
        q += R2
        V_new = q.reshape(S, A).max(axis=1)
        residual = float(np.abs(V_new - V).max())
        V = V_new
        if residual < threshold:
            break
    converged = residual < threshold
    if not converged:
        stop_at_max_iter(
            on_max_iter,
            "value_iteration",
            max_iter,
            f"max_iter={max_iter}, residual {residual:.3e} above the stopping threshold {threshold:.3e}, "
            f"tol={tol:g}, gamma={gamma}",
        )
    Q = q_from_values(mdp, V)  # greedy w.r.t. the returned V, as the certificate requires
    # V = fl(T V_prev) = T V_prev + e, |e| <= roundoff: |V - V*| <= (gamma |V - V_prev| + roundoff) / (1 - gamma).
    bound = (gamma * residual + _roundoff(S, V)) / (1.0 - gamma)
    return _result(mdp, V, Q, k, residual, bound, converged, "value_iteration", {"tol": tol, "max_iter": max_iter})


def _policy_transition(mdp: TabularMDP, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(mdp.S)
    return mdp.P[rows, actions], mdp.R[rows, actions]


@validate_params(  # warm_start: at most 10^4 sweeps, which shrink the error by gamma^(10^4), below round-off
    mdp=Instance(TabularMDP), max_iter=Integer(1), warm_start=Integer(0, 10_000), on_max_iter=Options(ON_MAX_ITER)
)
def policy_iteration(
    mdp: TabularMDP, *, max_iter: int = 10_000, policy0=None, warm_start: int = 3, on_max_iter: str = "raise"
) -> PlanningResult:
    """Howard's policy iteration with exact evaluation by linear solves.

    Each step solves ``(I - gamma P_pi) V = r_pi`` and switches a state's action only on a strict improvement
    (larger than ``1e-12 * (1 + |V|_inf)``), so floating-point ties cannot make it cycle. At the end, the
    certificate is ``|V - V*|_inf <= |T V - V|_inf / (1 - gamma)``. Finite-horizon MDPs use
    :func:`backward_induction`.

    Parameters
    ----------
    mdp : TabularMDP
    max_iter : int, default 10000
        Cap on improvement steps (policy iteration terminates in finitely many; the cap guards against bugs).
    policy0 : array_like of int, shape (S,), optional
        Starting policy. By default the greedy policy after ``warm_start`` value-iteration sweeps from ``V = 0``.
    warm_start : int, default 3
        Bellman sweeps before the first evaluation when ``policy0`` is not given. A sweep costs one matrix-vector
        product (about 1/30 of a linear solve at S = 500, A = 10) and a better first policy saves solves: on dense
        random MDPs 1 solve instead of 2, on sparse Garnets 3 instead of 5. The answer does not depend on it.
        At most 10^4 (an absurd count is refused at once instead of looping).
    on_max_iter : {"raise", "warn"}
    """
    if mdp.is_episodic:
        return backward_induction(mdp)
    if mdp.is_sparse:  # the same steps with a sparse P_pi (direct solve up to 4096 states, GMRES beyond)
        return krylov_policy_iteration(mdp, max_iter=max_iter, policy0=policy0, warm_start=warm_start,
                                       on_max_iter=on_max_iter)
    gamma, S, A = mdp.gamma, mdp.S, mdp.A
    P2, Rm = _flat(mdp.P), mask_infeasible(mdp, mdp.R)  # Rm: -inf at infeasible pairs (evaluation reads mdp.R)
    if policy0 is None:
        V = np.zeros(S)
        for _ in range(warm_start):
            V = (Rm + gamma * (P2 @ V).reshape(S, A)).max(axis=1)
        actions = np.argmax(Rm + gamma * (P2 @ V).reshape(S, A), axis=1)
    else:
        actions = as_index_array(policy0, "policy0", A)
        check_shape(actions, "policy0", (S,))
        check_feasible_pairs(mdp, np.arange(S), actions, "policy0's (state, action) pairs")
    rows = np.arange(S)
    converged = False
    for k in range(1, max_iter + 1):
        P_pi, r_pi = _policy_transition(mdp, actions)
        # I - gamma P_pi, built in place; numpy's solve is one LAPACK gesv call (scipy.linalg.solve 1.17 adds
        # ~20 ms per call at S = 200).
        system = P_pi * -gamma
        system.flat[:: S + 1] += 1.0
        V = np.linalg.solve(system, r_pi)
        Q = Rm + gamma * (P2 @ V).reshape(S, A)
        best = np.argmax(Q, axis=1)
        improves = Q[rows, best] > Q[rows, actions] + 1e-12 * (1.0 + np.abs(V).max())
        if not improves.any():
            converged = True
            break
        actions = np.where(improves, best, actions)
    if not converged:
        stop_at_max_iter(on_max_iter, "policy_iteration", max_iter, f"max_iter={max_iter}, no stable policy")
    residual = float(np.abs(Q.max(axis=1) - V).max())
    bound = (residual + _roundoff(S, V)) / (1.0 - gamma)
    return _result(mdp, V, Q, k, residual, bound, converged, "policy_iteration", {"max_iter": max_iter})


# HiGHS's default feasibility tolerances (1e-7) are too loose for a check at 1e-8.
_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


def _feasible_rows(mdp: TabularMDP, stages: int) -> slice | np.ndarray:
    """The LP's constraint rows ``(h, s, a)`` of feasible pairs (all rows without a mask)."""
    return slice(None) if mdp.feasible is None else np.flatnonzero(np.tile(mdp.feasible.reshape(-1), stages))


def optimal_values_lp(mdp: TabularMDP) -> PlanningResult:
    """Optimal values from the primal linear program, an independent check of the iterative solvers.

    Discounted: ``min sum_s V(s)`` subject to ``V(s) >= R(s, a) + gamma sum_s' P(s'|s, a) V(s')`` for all
    ``(s, a)`` (Puterman 1994, Sec. 6.9). Finite horizon: the same with ``V_h(s) >= R_h(s, a) + P_h V_{h+1}``
    (times the discount, if any) and ``V_H = 0``. Solved with scipy's HiGHS. The certificate is the Bellman
    residual divided by ``1 - gamma`` (discounted) or times H (finite horizon). Infeasible pairs'
    constraints are left out.
    """
    from scipy.optimize import linprog  # noqa: PLC0415 (lazily: 0.5 s of imports for this check alone)
    mdp = _check_mdp(mdp)
    S, A = mdp.S, mdp.A
    if mdp.is_discounted:
        # Constraint rows (s, a): -V(s) + gamma P(.|s, a) V <= -R(s, a).
        select = scipy.sparse.kron(scipy.sparse.eye(S), np.ones((A, 1)))
        keep = _feasible_rows(mdp, 1)
        A_ub = (mdp.gamma * mdp.transitions - select)[keep]
        res = linprog(np.ones(S), A_ub=A_ub, b_ub=-mdp.R.reshape(-1)[keep], bounds=(None, None), method="highs",
                      options=_LP_OPTIONS)
        if res.status != 0:
            raise ConvergenceError(f"the LP solver failed: {res.message}")
        V = res.x
        Q = q_from_values(mdp, V)
        residual = float(np.abs(Q.max(axis=1) - V).max())
        bound = (residual + _roundoff(S, V)) / (1.0 - mdp.gamma)
        return _result(mdp, V, Q, res.nit, residual, bound, True, "lp")

    H = mdp.horizon
    blocks = []
    select = scipy.sparse.kron(scipy.sparse.eye(S), np.ones((A, 1)))
    for h in range(H):
        # Row block h acts on variables V_h (columns h*S..) and V_{h+1} (columns (h+1)*S.., absent at h = H-1).
        row = [None] * H
        row[h] = -select
        if h + 1 < H:
            row[h + 1] = scipy.sparse.csr_matrix(mdp.discount * _flat(mdp.P_at(h)))
        blocks.append(row)
    for h in range(H):  # give every block row its column widths
        for j in range(H):
            if blocks[h][j] is None:
                blocks[h][j] = scipy.sparse.csr_matrix((S * A, S))
    keep = _feasible_rows(mdp, H)
    A_ub = scipy.sparse.bmat(blocks, format="csr")[keep]
    b_ub = -np.concatenate([mdp.R_at(h).reshape(-1) for h in range(H)])[keep]
    res = linprog(np.ones(H * S), A_ub=A_ub, b_ub=b_ub, bounds=(None, None), method="highs",
                  options=_LP_OPTIONS)
    if res.status != 0:
        raise ConvergenceError(f"the LP solver failed: {res.message}")
    V = res.x.reshape(H, S)
    Vnext = np.vstack([V[1:], np.zeros((1, S))])
    Q = np.stack([q_from_values(mdp, Vnext[h], h) for h in range(H)])
    residual = float(np.abs(Q.max(axis=2) - V).max())
    return _result(mdp, V, Q, res.nit, residual, (residual + _roundoff(S, V)) * H, True, "lp")


def solve(mdp: TabularMDP, method: str | None = None, **kwargs) -> PlanningResult:
    """Optimal values and policy by ``method`` (one of ``solvers.METHODS``), or by size when None
    (``solvers.default_method``: backward induction for a finite horizon, exact policy iteration up to 400 states,
    modified policy iteration beyond); ``result.method`` names it. ``kwargs`` go to the method."""
    mdp = _check_mdp(mdp)
    method = default_method(mdp) if method is None else check_choice(method, "method", METHODS)
    methods = {"policy_iteration": policy_iteration, "value_iteration": value_iteration, "lp": optimal_values_lp,
               "backward_induction": backward_induction, "modified_policy_iteration": _mpi,
               "gauss_seidel_value_iteration": _gauss_seidel, "krylov_policy_iteration": krylov_policy_iteration}
    return backward_induction(mdp) if mdp.is_episodic else methods[method](mdp, **kwargs)


# ---------------------------------------------------------------------- policy evaluation
def _policy_kernel(P: np.ndarray, R: np.ndarray, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``P_pi[s, s'] = sum_a pi(a|s) P(s'|s, a)`` and ``r_pi[s] = sum_a pi(a|s) R(s, a)``."""
    return np.einsum("sa,sat->st", pi, P), np.einsum("sa,sa->s", pi, R)


def evaluate(mdp: TabularMDP, policy) -> np.ndarray:
    """Exact state values of ``policy``.

    Discounted: the linear solve ``(I - gamma P_pi) V = r_pi``. Finite horizon: backward induction
    ``V_h = r_pi_h + gamma P_pi_h V_{h+1}`` (gamma 1 when undiscounted), returning ``V[h, s]`` for ``h = 0..H-1``.

    Parameters
    ----------
    mdp : TabularMDP
    policy : array_like
        Actions ``(S,)`` / ``(H, S)`` or probabilities ``(S, A)`` / ``(H, S, A)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(S,)`` or ``(H, S)``.
    """
    mdp = _check_mdp(mdp)
    if mdp.is_sparse:
        return sparse_evaluate(mdp, policy)
    if (gathered := policy_transitions(mdp, policy)) is not None:  # same bits as the einsum, without pi's matrix
        return np.linalg.solve(np.eye(mdp.S) - mdp.gamma * gathered[0], gathered[1])
    pi = policy_matrix(mdp, policy)
    if mdp.is_discounted:
        P_pi, r_pi = _policy_kernel(mdp.P, mdp.R, pi)
        return np.linalg.solve(np.eye(mdp.S) - mdp.gamma * P_pi, r_pi)
    H, S = mdp.horizon, mdp.S
    V = np.zeros((H + 1, S))
    for h in range(H - 1, -1, -1):
        P_pi, r_pi = _policy_kernel(mdp.P_at(h), mdp.R_at(h), pi[h])
        V[h] = r_pi + mdp.discount * (P_pi @ V[h + 1])
    return V[:H]


def expected_return(mdp: TabularMDP, policy) -> float:
    """``J(pi) = E_{s ~ rho} V^pi(s)`` (discounted) or ``E_{s ~ rho} V_0^pi(s)`` (finite horizon), exactly; cached
    per MDP for a deterministic action array (Monte Carlo cells evaluate a few policies thousands of times)."""
    if isinstance(policy, np.ndarray) and policy.dtype.kind in "iu" and isinstance(mdp, TabularMDP):
        return memo(mdp, ("J", policy.shape, policy.astype(np.int64).tobytes()), lambda: _return(mdp, policy))
    return _return(mdp, policy)


def _return(mdp: TabularMDP, policy) -> float:
    return _init_value(mdp, evaluate(mdp, policy))


def _init_value(mdp: TabularMDP, V: np.ndarray) -> float:
    return float(mdp.init @ (V[0] if mdp.is_episodic else V))


def optimal_return(mdp: TabularMDP) -> float:
    """The optimal return ``J* = E_{s ~ rho} V*(s)`` (``V*_0`` for a finite horizon), exactly, cached per MDP.

    ``V*`` comes from :func:`solve`: policy iteration's exact linear solve (up to 400 states) or backward
    induction, so ``J* = init . V*`` to floating point; beyond 400 states, modified policy iteration, within its
    certificate's ``error_bound`` (see :func:`solve`). A :class:`~theory_rl.mdp.TabularMDP` never changes after
    construction, so the value is computed once per MDP object and then read from a weak-keyed cache (the entry
    goes with the MDP). :func:`suboptimality` uses it, so evaluating many policies on one MDP plans once.

    Parameters
    ----------
    mdp : TabularMDP

    Returns
    -------
    float
    """
    mdp = _check_mdp(mdp)
    return memo(mdp, "J*", lambda: _init_value(mdp, solve(mdp).V))


def suboptimality(mdp: TabularMDP, policy) -> float:
    """``J(pi*) - J(pi)``, computed exactly: :func:`optimal_return` (cached per MDP) minus :func:`expected_return`.

    A scalar, not a result record: it is a number about ``policy``, not the output of a solver (there is no
    policy, value or certificate of its own to report).
    """
    return optimal_return(mdp) - expected_return(mdp, policy)


def q_values(mdp: TabularMDP, policy) -> np.ndarray:
    """Exact action values ``Q^pi``, shape ``(S, A)`` or ``(H, S, A)``."""
    V = evaluate(mdp, policy)
    if mdp.is_discounted:
        return q_from_values(mdp, V)
    Vnext = np.vstack([V[1:], np.zeros((1, mdp.S))])
    return np.stack([q_from_values(mdp, Vnext[h], h) for h in range(mdp.horizon)])


def state_occupancy(mdp: TabularMDP, policy) -> np.ndarray:
    """State occupancy: ``d^pi(s)`` (normalised discounted) or ``d_h^pi(s)`` per step, shape ``(S,)``/``(H, S)``."""
    return occupancy(mdp, policy).sum(axis=-1)


def occupancy(mdp: TabularMDP, policy) -> np.ndarray:
    """Occupancy measure of ``policy`` started from ``mdp.init``.

    Discounted: the normalised discounted occupancy of Rashidinejad et al. (2021, Sec. 2),
    ``d^pi(s, a) = (1 - gamma) sum_t gamma^t Pr(s_t = s, a_t = a)``, from the linear solve
    ``(I - gamma P_pi)^T d = (1 - gamma) rho``; it sums to 1 and ``J(pi) = <d^pi, R> / (1 - gamma)``.
    Finite horizon: ``d_h^pi(s, a) = Pr(s_h = s, a_h = a)`` by forward recursion, shape ``(H, S, A)``, each step
    summing to 1, and ``J(pi) = sum_h gamma^h <d_h^pi, R_h>`` (gamma the discount, 1 when undiscounted).
    """
    mdp = _check_mdp(mdp)
    pi = policy_matrix(mdp, policy)
    if mdp.is_discounted:
        P_pi, _ = _policy_kernel(mdp.P, mdp.R, pi)
        d_s = np.linalg.solve((np.eye(mdp.S) - mdp.gamma * P_pi).T, (1.0 - mdp.gamma) * mdp.init)
        d_s = np.maximum(d_s, 0.0)  # clear round-off below zero; the exact solution is non-negative
        return d_s[:, None] * pi
    H, S, A = mdp.horizon, mdp.S, mdp.A
    d = np.empty((H, S, A))
    d_s = mdp.init.copy()
    for h in range(H):
        d[h] = d_s[:, None] * pi[h]
        d_s = _flat(mdp.P_at(h)).T @ d[h].reshape(-1)
    return d

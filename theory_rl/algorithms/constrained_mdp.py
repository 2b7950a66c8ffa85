"""The exact optimum of a discounted constrained MDP, by the linear program over occupancy measures.

Altman (1999), "Constrained Markov Decision Processes" (the occupancy-measure LP of the discounted criterion; an
optimal stationary policy randomises in at most as many states as there are constraints). The realism benchmark
(issue 18, NeoRL-2's "global safety constraint", Gao et al. 2025) scores methods against this optimum on its
constrained tasks.

With the normalised discounted occupancy ``d(s, a) = (1 - gamma) sum_t gamma^t Pr(s_t = s, a_t = a)``::

    maximise    <d, R> / (1 - gamma)
    subject to  sum_a d(s', a) - gamma sum_{s, a} P(s' | s, a) d(s, a) = (1 - gamma) rho(s')   for every s',
                <d, c> / (1 - gamma) <= budget,     d >= 0.

The polytope of feasible ``d`` is exactly the set of occupancy measures of stationary stochastic policies, so the
LP's value is the constrained optimum over all (even history-dependent) policies, and ``pi(a | s) = d(s, a) /
sum_a d(s, a)`` attains it.
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import as_float_array, check_real
from theory_rl.feasibility import refuse_masked
from theory_rl.mdp import TabularMDP
from theory_rl.results import Result

#: HiGHS tolerances: its defaults (1e-7) leave the value off by ~1e-7 when the budget sits at a vertex of the
#: (return, cost) polygon; these make the LP exact to about 1e-10 on the test instances.
_HIGHS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}

__all__ = ["constrained_optimum"]


def constrained_optimum(mdp: TabularMDP, cost, budget: float, *, on_infeasible: str = "raise") -> Result:
    """The best return subject to ``E[sum_t gamma^t c(s_t, a_t)] <= budget`` (the LP of the module docstring).

    Parameters
    ----------
    mdp : TabularMDP
        A discounted MDP (``gamma < 1``).
    cost : array_like, shape (S, A)
        Non-negative per-step safety cost ``c(s, a)``.
    budget : float >= 0
        Bound on the expected discounted cost from ``mdp.init``.
    on_infeasible : {"raise", "least_cost"}, default "raise"
        When ``budget`` is below the least achievable cost: raise, or return the best policy among those of least
        cost (a plug-in learner on an estimated model may meet an infeasible budget; ``constants["feasible"]``
        says which happened).

    Returns
    -------
    Result
        ``policy``: probabilities ``(S, A)`` (uniform at states the optimum never visits); ``V``: its exact values;
        ``Q``: None; ``method = "constrained_lp"``; ``constants``: ``value`` (the LP optimum ``J``), ``cost`` (its
        discounted cost), ``budget``, ``binding`` (the cost within ``1e-7`` of the budget), ``multiplier`` (the
        constraint's Lagrange multiplier: the return lost per unit of budget removed), ``least_cost`` (the least
        achievable discounted cost) and ``lp_status``.

    Raises
    ------
    ValueError
        If the MDP is not discounted, ``cost`` is not a non-negative ``(S, A)`` array, ``budget`` is negative or
        below the least achievable discounted cost with ``on_infeasible="raise"`` (the minimum is named).
    """
    import scipy.optimize
    import scipy.sparse

    from theory_rl import planning

    if not isinstance(mdp, TabularMDP):
        raise ValueError(f"mdp is {type(mdp).__name__}, expected a TabularMDP")
    if not mdp.is_discounted:
        raise ValueError("mdp is finite-horizon, expected a discounted MDP (gamma < 1)")
    refuse_masked(mdp, "constrained_optimum")  # issue 15: its occupancy LP ranges over all pairs
    S, A, g = mdp.S, mdp.A, mdp.gamma
    c = as_float_array(cost, "cost", shape=(S, A))
    if (c < 0).any():
        raise ValueError(f"cost has a negative entry ({c.min():g}), expected c(s, a) >= 0")
    budget = check_real(budget, "budget", low=0.0)
    if on_infeasible not in ("raise", "least_cost"):
        raise ValueError(f"on_infeasible is {on_infeasible!r}, expected 'raise' or 'least_cost'")
    # flow constraints: row s' of (E - gamma P^T) d = (1 - gamma) rho, E summing d over the actions of s'
    E = scipy.sparse.kron(scipy.sparse.eye(S), np.ones((1, A)), format="csr")
    A_eq = E - g * scipy.sparse.csr_matrix(mdp.P.reshape(S * A, S).T)
    b_eq = (1.0 - g) * mdp.init
    scale = 1.0 / (1.0 - g)
    c_flat = c.reshape(-1) * scale
    least = scipy.optimize.linprog(c_flat, A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs", options=_HIGHS)
    if least.status != 0:  # pragma: no cover - the flow polytope of a valid MDP is never empty
        raise RuntimeError(f"the occupancy LP failed: {least.message}")
    feasible = least.fun <= budget * (1 + 1e-9) + 1e-9
    if not feasible and on_infeasible == "raise":
        raise ValueError(f"budget is {budget:g}, below the least achievable discounted cost {least.fun:.6g}: "
                         "the constraint is infeasible")
    res = scipy.optimize.linprog(-mdp.R.reshape(-1) * scale, A_ub=c_flat[None], b_ub=[max(budget, least.fun)],
                                 A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs", options=_HIGHS)
    if res.status != 0:  # pragma: no cover - feasible and bounded by the checks above
        raise RuntimeError(f"the constrained LP failed: {res.message}")
    d = np.maximum(res.x.reshape(S, A), 0.0)
    mass = d.sum(axis=1, keepdims=True)
    pi = np.where(mass > 1e-12, d / np.where(mass > 1e-12, mass, 1.0), 1.0 / A)
    V = planning.evaluate(mdp, pi)
    J, C = float(-res.fun), float(c_flat @ d.reshape(-1))
    return Result(policy=pi, V=V, Q=None, method="constrained_lp",
                  constants={"value": J, "cost": C, "budget": budget, "binding": bool(C >= budget - 1e-7),
                             "multiplier": float(-res.ineqlin.marginals[0]), "least_cost": float(least.fun),
                             "feasible": bool(feasible), "lp_status": int(res.status)})

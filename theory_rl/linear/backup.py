"""Exact planning and policy evaluation of linear MDPs through the d-dimensional factorisation.

For a linear MDP (Jin, Yang, Wang & Jordan 2020, Assumption A; their Proposition 2.3: every Q-function is linear
in ``phi``), ``Q_h = r_h + P_h V_{h+1} = phi_h (theta_h + mu_h V_{h+1})``: each backup costs O(S A d + d S)
through the model operators ``stage_reward`` / ``expected_next`` that :class:`theory_rl.linear.LinearMDP` (dense
kernel) and :class:`theory_rl.linear.FactoredLinearMDP` (factors only) share, so one code path serves both forms
and the whole backward induction is O(H S A d) on the factored one, never (H, S, A, S).
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import Instance, as_float_array, as_index_array, check_table, validate_params
from theory_rl.linear.factored import LINEAR_MODELS
from theory_rl.policies import as_probabilities
from theory_rl.results import IterativeResult

__all__ = ["linear_backward_induction", "linear_evaluate", "linear_weights"]


def _roundoff(model, V0) -> float:
    # H backups, each an inner product of length S (dense) or d + S (factored), of values at most H.
    return float(model.H * 4 * np.finfo(float).eps * (model.S + model.d) * max(1.0, np.abs(V0).max()))


@validate_params(model=Instance(LINEAR_MODELS))
def linear_backward_induction(model) -> IterativeResult:
    """Optimal values and a greedy optimal policy by backward induction on the model operators.

    ``V_H = 0``, ``Q_h = r_h + P_h V_{h+1}`` (factored: ``phi_h (theta_h + mu_h V_{h+1})``), ``V_h = max_a Q_h``,
    greedy actions (lowest index among ties), for ``h = H-1, ..., 0``.

    Parameters
    ----------
    model : LinearMDP or FactoredLinearMDP

    Returns
    -------
    IterativeResult
        ``policy`` (H, S) actions, ``V`` (H, S), ``Q`` (H, S, A), ``method="linear_backward_induction"``,
        ``iterations = H``, ``residual = 0`` and ``error_bound`` a round-off bound of the H backups;
        ``constants["form"]`` is ``"factored"`` or ``"dense"``.
    """
    H, S, A = model.H, model.S, model.A
    check_table("Q", (H, S, A), ("H", "S", "A"))
    V = np.zeros((H + 1, S))
    Q = np.empty((H, S, A))
    for h in range(H - 1, -1, -1):
        Q[h] = model.stage_reward(h) + model.expected_next(h, V[h + 1])
        V[h] = Q[h].max(axis=1)
    form = "dense" if hasattr(model, "P") else "factored"
    return IterativeResult(policy=Q.argmax(axis=2), V=V[:H], Q=Q, method="linear_backward_induction",
                           constants={"form": form}, iterations=H, residual=0.0,
                           error_bound=_roundoff(model, V[0]), converged=True)


def _stage_policy(model, policy):
    """``policy`` as a function of h: ``(h) -> actions (S,)`` or ``(h) -> probabilities (S, A)``."""
    H, S, A = model.H, model.S, model.A
    arr = np.asarray(policy)
    if arr.dtype != bool and np.issubdtype(arr.dtype, np.integer):
        if arr.shape not in ((S,), (H, S)):
            raise ValueError(f"policy holds actions with shape {arr.shape}, expected ({S},) or ({H}, {S})")
        acts = as_index_array(arr, "policy", A, ndim=None)
        return (lambda h: acts) if acts.ndim == 1 else (lambda h: acts[h]), True
    arr = as_float_array(arr, "policy", ndim=(2, 3))
    if arr.shape == (S, A):
        probs = as_probabilities(arr, S, A)
        return (lambda h: probs), False
    probs = as_probabilities(arr, S, A, horizon=H)
    return (lambda h: probs[h]), False


@validate_params(model=Instance(LINEAR_MODELS))
def linear_evaluate(model, policy) -> np.ndarray:
    """Exact values ``V^pi_h(s)`` of ``policy``, (H, S), by backward induction on the model operators.

    Deterministic actions cost O(S A d) per step (the factored backup computes ``phi_h (mu_h V)`` for every
    action, then picks the policy's); probabilities ``(S, A)`` / ``(H, S, A)`` the same.

    Parameters
    ----------
    model : LinearMDP or FactoredLinearMDP
    policy : array_like
        Actions ``(S,)`` / ``(H, S)`` (integers) or probabilities ``(S, A)`` / ``(H, S, A)``.
    """
    at, deterministic = _stage_policy(model, policy)
    H, S = model.H, model.S
    V = np.zeros((H + 1, S))
    rows = np.arange(S)
    for h in range(H - 1, -1, -1):
        Q = model.stage_reward(h) + model.expected_next(h, V[h + 1])
        V[h] = Q[rows, at(h)] if deterministic else (Q * at(h)).sum(axis=1)
    return V[:H]


@validate_params(model=Instance(LINEAR_MODELS))
def linear_weights(model, V) -> np.ndarray:
    """The weights ``w_h = theta_h + mu_h V_{h+1}`` with ``Q_h = phi_h w_h`` (Jin et al. 2020, Proposition 2.3),
    (H, d), for values ``V`` (H, S) (``V_H = 0``): the d numbers per step that summarise a backup."""
    H, S = model.H, model.S
    V = as_float_array(V, "V", shape=(H, S))
    w = np.empty((H, model.d))
    for h in range(H):
        nxt = V[h + 1] if h + 1 < H else np.zeros(S)
        w[h] = model.theta[h] + model.measure(h) @ nxt
    return w

"""Policies in the two forms every function accepts, and helpers to build them.

A policy is either

- an integer array of actions, shape ``(S,)`` (stationary) or ``(H, S)`` (step-dependent), or
- a float array of action probabilities, shape ``(S, A)`` or ``(H, S, A)``.

The dtype disambiguates the 2-D case: an integer ``(H, S)`` array holds actions, a float ``(S, A)`` array holds
probabilities. A stationary policy given to a finite-horizon MDP is used at every step.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable

import numpy as np

from theory_rl._validation import (
    PROB_TOL,
    Integer,
    InvalidParameterError,
    Real,
    as_float_array,
    check_distributions,
    check_int,
    check_range,
    check_str,
    check_table,
    validate_params,
)
from theory_rl.feasibility import check_feasible_policy

__all__ = [
    "as_probabilities",
    "policy_matrix",
    "greedy",
    "uniform_policy",
    "epsilon_mixture",
    "mixture",
    "is_deterministic",
    "to_actions",
]


def _actions_to_probabilities(actions: np.ndarray, A: int, name: str) -> np.ndarray:
    bad = (actions < 0) | (actions >= A)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}{list(idx)} is action {actions[idx]}, expected an action in 0..{A - 1}")
    probs = np.zeros(actions.shape + (A,))
    probs.reshape(-1, A)[np.arange(actions.size), actions.reshape(-1)] = 1.0  # one-hot rows (put_along_axis: 4x)
    return probs


def as_probabilities(policy, S: int, A: int, horizon: int | None = None, *, name: str = "policy") -> np.ndarray:
    """Return ``policy`` as a float array of action probabilities.

    Parameters
    ----------
    policy : array_like
        Actions ``(S,)`` / ``(H, S)`` (integer dtype) or probabilities ``(S, A)`` / ``(H, S, A)``.
    S, A : int
        Numbers of states and actions.
    horizon : int, optional
        For a finite-horizon MDP: the result has shape ``(H, S, A)`` and stationary policies are broadcast.
        Without it (discounted MDP) the result has shape ``(S, A)`` and step-dependent policies are rejected.
    name : str
        Name used in error messages.

    Returns
    -------
    numpy.ndarray
        Shape ``(S, A)`` or ``(horizon, S, A)``, rows summing to one. A fresh array, never the caller's.

    Raises
    ------
    ValueError
        For a wrong shape, an action out of range, or rows that are not probability distributions; for sizes that
        are not positive integers, or whose table would not fit in memory.
    """
    # Plain checks, not validate_params: this runs ~1e5 times per experiment (through policy_matrix).
    name = check_str(name, "name")
    S, A = check_int(S, "S", low=1), check_int(A, "A", low=1)
    if horizon is not None:
        horizon = check_int(horizon, "horizon", low=1)
        check_table("the policy table", (horizon, S, A), ("horizon", "S", "A"))
    else:
        check_table("the policy table", (S, A), ("S", "A"))
    arr = np.asarray(policy)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} must be an integer action array or a float probability array, got dtype {arr.dtype}")
    integer = np.issubdtype(arr.dtype, np.integer)
    if arr.ndim == 1 and not integer:
        # A 1-D float array can only be actions; accept it when every entry is integral.
        arr = as_float_array(arr, name)
        if not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} is 1-D, so it must hold integer actions; got non-integral values")
        arr, integer = arr.astype(np.int64), True

    stages = (horizon,) if horizon is not None else ()
    if integer:
        if arr.shape == (S,):
            probs = _actions_to_probabilities(arr, A, name)
        elif horizon is not None and arr.shape == (horizon, S):
            probs = _actions_to_probabilities(arr, A, name)
        else:
            want = f"({S},)" + (f" or ({horizon}, {S})" if horizon is not None else "")
            raise ValueError(f"{name} holds actions with shape {arr.shape}, expected {want}")
    else:
        arr = as_float_array(arr, name)
        if arr.shape == (S, A) or (horizon is not None and arr.shape == (horizon, S, A)):
            check_range(arr, name, 0.0, 1.0)
            check_distributions(arr, name, tol=PROB_TOL * max(1, A))
            probs = arr.copy()
        else:
            want = f"({S}, {A})" + (f" or ({horizon}, {S}, {A})" if horizon is not None else "")
            raise ValueError(f"{name} holds probabilities with shape {arr.shape}, expected {want}")
    if probs.ndim == 2 and stages:
        probs = np.broadcast_to(probs, stages + probs.shape).copy()
    return probs


def policy_matrix(mdp, policy, *, name: str = "policy") -> np.ndarray:
    """Return ``policy`` as probabilities shaped for ``mdp``: ``(S, A)`` or ``(H, S, A)``.

    ``mdp`` is any model with ``S``, ``A`` and ``horizon`` (a :class:`~theory_rl.mdp.TabularMDP`, a bandit, a
    linear MDP); anything else is refused naming ``mdp``. A policy with probability on an action that
    ``mdp.feasible`` marks infeasible is refused with a ValueError naming the (state, action).
    """
    try:
        S, A, horizon = mdp.S, mdp.A, mdp.horizon
    except AttributeError:
        raise InvalidParameterError(
            f"mdp is a {type(mdp).__name__}, expected a model with S, A and horizon (e.g. a TabularMDP)"
        ) from None
    probs = as_probabilities(policy, S, A, horizon, name=name)
    if getattr(mdp, "feasible", None) is not None:
        check_feasible_policy(mdp, probs, name)  # issue 15: no mass on an infeasible action of a masked MDP
    return probs


def greedy(Q) -> np.ndarray:
    """Greedy actions of ``Q`` (shape ``(S, A)`` or ``(H, S, A)``), ties broken towards the lowest index."""
    Q = as_float_array(Q, "Q", ndim=(2, 3))
    return np.argmax(Q, axis=-1)


@validate_params(S=Integer(1), A=Integer(1), horizon=Integer(1, optional=True))
def uniform_policy(S: int, A: int, horizon: int | None = None) -> np.ndarray:
    """The uniformly random policy, shape ``(S, A)`` or ``(H, S, A)``."""
    shape = ((horizon,) if horizon is not None else ()) + (S, A)
    check_table("the policy table", shape, (("horizon",) if horizon is not None else ()) + ("S", "A"))
    return np.full(shape, 1.0 / A)


@validate_params(weight=Real(0.0, 1.0), S=Integer(1), A=Integer(1), horizon=Integer(1, optional=True))
def mixture(first, second, weight: float, S: int, A: int, horizon: int | None = None) -> np.ndarray:
    """The per-state mixture ``(1 - weight) * first + weight * second`` of two policies, as probabilities."""
    p = as_probabilities(first, S, A, horizon, name="first")
    q = as_probabilities(second, S, A, horizon, name="second")
    if p.shape != q.shape:  # one stationary, one step-dependent: both broadcast above only with a horizon
        raise ValueError(f"policies have shapes {p.shape} and {q.shape}")
    return (1.0 - weight) * p + weight * q


@validate_params(epsilon=Real(0.0, 1.0), S=Integer(1), A=Integer(1), horizon=Integer(1, optional=True))
def epsilon_mixture(policy, epsilon: float, S: int, A: int, horizon: int | None = None) -> np.ndarray:
    """The epsilon-mixture ``(1 - epsilon) * policy + epsilon * uniform``, as probabilities."""
    p = as_probabilities(policy, S, A, horizon, name="policy")
    return (1.0 - epsilon) * p + epsilon / A


def is_deterministic(probs: np.ndarray) -> bool:
    """True when every row of a probability policy puts all its mass on one action.

    An integer array of actions (shape (S,) or (H, S)) is a deterministic policy: True (after checking that its
    entries are actions, i.e. integers >= 0). A float array must be probabilities over its last axis.
    """
    arr = np.asarray(probs)
    if np.issubdtype(arr.dtype, np.integer) and arr.dtype != bool:
        check_range(arr, "probs", 0, np.inf)  # actions; their upper bound A is not known here
        return True
    probs = as_float_array(probs, "probs")
    if probs.ndim < 2:
        raise ValueError(f"probs has shape {probs.shape}: expected probabilities (S, A) or (H, S), or an integer "
                         "array of actions")
    check_distributions(probs, "probs")
    return bool(np.all(np.isclose(probs.max(axis=-1), 1.0, rtol=0, atol=PROB_TOL)))


def to_actions(probs: np.ndarray) -> np.ndarray:
    """Actions of a deterministic probability policy (an action array as it is); ValueError for a stochastic one."""
    if not is_deterministic(probs):
        raise ValueError("the policy is stochastic: it has no single action per state")
    arr = np.asarray(probs)
    return arr.astype(np.int64) if np.issubdtype(arr.dtype, np.integer) else np.argmax(arr, axis=-1)


# ---------------------------------------------------------------------- caches (issue 16)
#: Values derived from an immutable model, per model (weak keys: the entries go with the model).
_MEMO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: Entries kept per model; beyond it values are computed and not stored, so memory stays bounded.
MEMO_ENTRIES = 4096


def memo(model, key: Hashable, compute: Callable[[], object]):
    """``compute()``, remembered per immutable ``model`` under ``key`` (internal: planning's returns and J*).

    Not in ``__all__``. A model (TabularMDP, LinearMDP) never changes after construction, so a value derived from
    it and from the (hashed) content of a policy never goes stale. At most :data:`MEMO_ENTRIES` per model."""
    table = _MEMO.get(model)
    if table is None:
        table = _MEMO[model] = {}
    try:
        return table[key]
    except KeyError:
        pass
    value = compute()
    if len(table) < MEMO_ENTRIES:
        table[key] = value
    return value


def policy_transitions(mdp, policy) -> tuple[np.ndarray, np.ndarray] | None:
    """``(P_pi, r_pi)`` of a discounted MDP's deterministic policy given as integer actions ``(S,)``, by a gather;
    None for any other form (the caller then builds the probability matrix).

    Not in ``__all__`` (planning's fast path). ``P_pi[s] = P[s, pi(s)]`` holds exactly the bits of
    ``einsum("sa,sat->st", one_hot(pi), P)``: the other terms are exact zeros (P is finite and non-negative). An
    action out of range raises the message of :func:`policy_matrix`."""
    if not (isinstance(policy, np.ndarray) and policy.dtype.kind in "iu" and getattr(mdp, "gamma", None) is not None
            and policy.shape == (mdp.S,) and getattr(mdp, "horizon", None) is None
            and getattr(mdp, "feasible", None) is None):  # a masked MDP's policy goes through policy_matrix's check
        return None
    if policy.min() < 0 or policy.max() >= mdp.A:
        policy_matrix(mdp, policy)  # raises, naming the first bad entry
    rows = np.arange(mdp.S)
    return mdp.P[rows, policy], mdp.R[rows, policy]

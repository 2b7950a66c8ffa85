"""Infeasible actions (issue 15, item 5): the action mask of a :class:`~theory_rl.mdp.TabularMDP` and the checks
and helpers that make planning, policies, samplers and algorithms respect it.

A mask ``feasible`` is a bool array ``(S, A)``: ``feasible[s, a]`` says whether action ``a`` may be taken in state
``s`` (QuantEcon's ``R = -inf``, or a state-action pair it leaves out). It is stationary (the same at every step
of a finite-horizon MDP), and every state keeps at least one feasible action. Conventions:

- optimal values and policies are over feasible actions only; a planner's ``Q`` holds ``-inf`` at infeasible pairs
  (so ``max`` and ``argmax`` over actions, ``numpy``'s included, never pick one);
- the mean rewards ``R`` stay finite at infeasible pairs (policy evaluation never reads them: a policy with
  probability on an infeasible action is refused with a ValueError naming the pair);
- the samplers never draw an infeasible pair: their distributions and policies are checked like policies, and the
  generative model skips them.

An MDP without a mask (``mdp.feasible is None``) behaves exactly as before: every helper here returns its input
unchanged then.
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import (
    InvalidParameterError,
    as_float_array,
    as_index_array,
    check_int,
    check_str,
    check_table,
)

__all__ = [
    "as_feasible_mask",
    "mask_infeasible",
    "check_feasible_policy",
    "check_feasible_pairs",
    "feasible_uniform",
    "refuse_masked",
]


def as_feasible_mask(feasible, S: int, A: int) -> np.ndarray | None:
    """Validate an action mask for ``S`` states and ``A`` actions: a fresh read-only bool array ``(S, A)``, or
    None when ``feasible`` is None or every action is feasible (no restriction).

    Raises
    ------
    ValueError
        Not a bool array of shape ``(S, A)``, or a state without a feasible action (naming the first such state).
    """
    S, A = check_int(S, "S", low=1), check_int(A, "A", low=1)
    check_table("the mask feasible", (S, A), ("S", "A"))
    if feasible is None:
        return None
    arr = np.asarray(feasible)
    if arr.dtype != bool:
        raise ValueError(f"feasible must be a bool array (S, A) (True: the action may be taken), got dtype {arr.dtype}")
    if arr.shape != (S, A):
        raise ValueError(f"feasible has shape {arr.shape}, expected (S, A) = ({S}, {A})")
    none = ~arr.any(axis=1)
    if none.any():
        s = int(np.argmax(none))
        raise ValueError(f"feasible[{s}] has no feasible action: state {s} needs at least one")
    if arr.all():
        return None
    out = np.array(arr, dtype=bool)
    out.setflags(write=False)
    return out


def _mask_of(mdp) -> np.ndarray | None:
    """``mdp.feasible`` of a model with ``S`` and ``A`` (None for a model without a mask, e.g. a LinearMDP)."""
    if not (hasattr(mdp, "S") and hasattr(mdp, "A")):
        raise InvalidParameterError(f"mdp is a {type(mdp).__name__}, expected a model with S and A (e.g. a TabularMDP)")
    return getattr(mdp, "feasible", None)


def _pairs_table(mdp, table, name: str) -> np.ndarray:
    """``table`` as float64 with a whole number of ``(S, A)`` tables; NaN and +inf refused (-inf is a mask)."""
    arr = np.asarray(table)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.size == 0 or arr.size % (mdp.S * mdp.A) or (arr.ndim > 1 and arr.shape[-2:] != (mdp.S, mdp.A)):
        raise ValueError(f"{name} has shape {arr.shape}, expected (S, A) = ({mdp.S}, {mdp.A}), (H, S, A) or flat")
    if np.isnan(arr).any() or (arr == np.inf).any():
        raise ValueError(f"{name} holds NaN or +inf, expected real numbers (or -inf)")
    return arr


def mask_infeasible(mdp, table) -> np.ndarray:
    """``table`` (``(S, A)``, ``(H, S, A)`` or flat ``(S*A,)`` / ``(H*S*A,)`` per pair) with ``-inf`` at the
    infeasible pairs of ``mdp``: a new float array, or ``table`` itself when ``mdp`` has no mask.

    The reward table of the max/greedy backups: ``max_a`` over it is over feasible actions only."""
    mask = _mask_of(mdp)
    table = _pairs_table(mdp, table, "table")
    if mask is None:
        return table
    shape = table.shape
    out = np.array(table).reshape(-1, mask.size)
    out[:, ~mask.reshape(-1)] = -np.inf
    return out.reshape(shape)


def check_feasible_policy(mdp, probs, name: str = "policy") -> None:
    """ValueError naming the first ``(state, action)`` (and step) where ``probs`` (a probability policy ``(S, A)``
    or ``(H, S, A)`` as :func:`theory_rl.policies.policy_matrix` returns, a data distribution or per-pair counts of
    that shape) puts mass on an action infeasible in ``mdp``; nothing when ``mdp`` has no mask."""
    mask, name = _mask_of(mdp), check_str(name, "name")
    probs = as_float_array(probs, "probs")
    if probs.shape[-2:] != (mdp.S, mdp.A) or probs.ndim not in (2, 3):
        raise ValueError(f"probs has shape {probs.shape}, expected (S, A) = ({mdp.S}, {mdp.A}) or (H, S, A)")
    if mask is None:
        return
    bad = (probs > 0) & ~mask
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        step = f" at step h={idx[0]}" if probs.ndim == 3 else ""
        s, a = idx[-2:]
        raise ValueError(f"{name} puts mass {probs[idx]:.6g} on (state, action) = ({s}, {a}){step}, which is "
                         "infeasible (mdp.feasible is False there)")


def check_feasible_pairs(mdp, states, actions, name: str = "pairs") -> None:
    """ValueError naming the first ``(state, action)`` of the integer arrays ``states``, ``actions`` that is
    infeasible in ``mdp``; nothing when ``mdp`` has no mask."""
    mask, name = _mask_of(mdp), check_str(name, "name")
    states = as_index_array(states, "states", mdp.S, ndim=None)
    actions = as_index_array(actions, "actions", mdp.A, ndim=None)
    if states.shape != actions.shape:
        raise ValueError(f"states has shape {states.shape} but actions has shape {actions.shape}")
    if mask is None:
        return
    bad = ~mask[states, actions]
    if bad.any():
        i = int(np.argmax(bad.reshape(-1)))
        s, a = int(states.reshape(-1)[i]), int(actions.reshape(-1)[i])
        raise ValueError(f"{name}: (state, action) = ({s}, {a}) is infeasible (mdp.feasible is False there)")


def feasible_uniform(mdp) -> np.ndarray:
    """The uniform policy over each state's feasible actions, probabilities ``(S, A)`` (``1/A`` everywhere
    without a mask): the behaviour policies' notion of "uniform"."""
    mask = _mask_of(mdp)
    check_table("the policy table", (mdp.S, mdp.A), ("S", "A"))
    if mask is None:
        return np.full((mdp.S, mdp.A), 1.0 / mdp.A)
    return mask / mask.sum(axis=1, keepdims=True)


def refuse_masked(mdp, what: str) -> None:
    """ValueError when ``mdp`` has infeasible actions: for the algorithms whose own greedy steps range over all
    actions (their docstrings say so)."""
    what = check_str(what, "what")
    if _mask_of(mdp) is not None:
        raise ValueError(f"{what} does not support infeasible actions (this mdp has a feasible mask): its greedy "
                         "steps range over all actions; build the MDP without the infeasible actions instead")

"""UI-S1's semi-online rollouts, a tabular ANALOGUE: expert-patched rollouts in a deterministic MDP, and the SOP
proxy against the true online success, exactly.

Lu et al. (2025), "UI-S1: Advancing GUI Automation via Semi-online Reinforcement Learning", arXiv 2509.11543
[V: abstract; digest WP-C]. The policy is rolled along an EXPERT trajectory: while its action matches the expert's,
the next state is the expert's next state; on a mismatch a Patch Module substitutes the expert's action and the
rollout goes on, up to a patch budget. SOP (Semi-Online Performance) evaluates a policy this way, offline, as a
proxy for its online success. Here (an analogue, not the paper's GUI setting):

- the environment is a deterministic MDP ``next_state[s, a]`` with an absorbing goal; the expert is a path
  ``x_0, ..., x_H`` (``x_H`` the goal) with actions ``e_0, ..., e_{H-1}``;
- a step MATCHES when the policy's action has the expert's effect (``next_state[x_t, a] = x_{t+1}``; GUI actions
  are judged by effect) or, with ``match="action"``, when it is the expert's action;
- :func:`semi_online_performance`: the patched rollout is a Markov chain on (step, patches used); its task success
  (no more than ``budget`` mismatches), progress (expected fraction of steps processed before the
  ``budget + 1``-th mismatch) and step accuracy (mean match probability), exactly;
- :func:`online_success`: the true probability of reaching the goal within the horizon, exactly.

[U] SOP's exact formula (its patch budget, and whether progress counts patched steps) is not verified from the
paper's text: the budget is a parameter and progress counts the steps processed. Not modelled: the policy's
conditioning on its own earlier outputs (the paper keeps them in the dialogue); here the policy is Markov in the
state, so the patched history does not change its later actions. Exact facts tested: ``budget = 0`` success is the
product of the match probabilities, a lower bound on the online success (the expert path is one way to succeed),
and ``1 - success_0 <= H (1 - step accuracy)`` (the union bound behind behaviour cloning's compounding error).
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import (
    Integer,
    Options,
    as_float_array,
    as_index_array,
    check_distributions,
    check_shape,
    validate_params,
)

__all__ = ["expert_path", "semi_online_performance", "online_success"]


def _transitions(next_state) -> np.ndarray:
    nxt = np.asarray(next_state)
    if nxt.ndim != 2 or nxt.size == 0:
        raise ValueError(f"next_state has shape {nxt.shape}, expected a non-empty (S, A) table of next states")
    return as_index_array(nxt, "next_state", nxt.shape[0], ndim=2)


def _policy(policy, shape) -> np.ndarray:
    pi = as_float_array(policy, "policy", ndim=2)
    check_shape(pi, "policy", shape)
    check_distributions(pi, "policy")
    return pi


@validate_params(start=Integer(0), horizon=Integer(1, 10_000))
def expert_path(next_state, expert_actions, start: int, horizon: int) -> np.ndarray:
    """The expert's states ``x_0 = start, ..., x_H`` under the deterministic policy ``expert_actions[s]``."""
    nxt = _transitions(next_state)
    acts = as_index_array(expert_actions, "expert_actions", nxt.shape[1])
    check_shape(acts, "expert_actions", (nxt.shape[0],))
    if start >= nxt.shape[0]:
        raise ValueError(f"start is {start}, expected a state in [0, {nxt.shape[0] - 1}]")
    xs = [start]
    for _ in range(horizon):
        xs.append(int(nxt[xs[-1], acts[xs[-1]]]))
    return np.array(xs)


@validate_params(budget=Integer(0, 10_000), match=Options(("effect", "action")))
def semi_online_performance(next_state, policy, path, actions=None, *, budget: int = 0,
                            match: str = "effect") -> dict:  # fmt: skip
    """SOP of a Markov policy along one expert path, exactly (the analogue of UI-S1's patched rollout).

    Parameters
    ----------
    next_state : array_like of int, shape (S, A)
    policy : array_like, shape (S, A)
    path : array_like of int, shape (H + 1,)
        The expert's states (:func:`expert_path`).
    actions : array_like of int, shape (H,), optional
        The expert's actions; needed for ``match="action"``.
    budget : int, default 0
        Patches allowed (at most 10 000); the rollout fails at the ``budget + 1``-th mismatch [U: a parameter].
    match : {"effect", "action"}

    Returns
    -------
    dict
        ``success`` (P(at most ``budget`` mismatches)), ``progress`` (expected steps processed before failure, over
        ``H``), ``step_accuracy`` (mean match probability), ``match_prob`` (per step).
    """
    nxt = _transitions(next_state)
    pi = _policy(policy, nxt.shape)
    xs = as_index_array(path, "path", nxt.shape[0])
    if xs.size < 2:
        raise ValueError(f"path has {xs.size} states, expected at least 2 (x_0, ..., x_H)")
    H = xs.size - 1
    if actions is not None:
        acts = as_index_array(actions, "actions", nxt.shape[1])
        check_shape(acts, "actions", (H,))
    if match == "action":
        if actions is None:
            raise ValueError("actions is None, expected the expert's actions for match='action'")
        bad = np.flatnonzero(nxt[xs[:-1], acts] != xs[1:])
        matches = np.eye(nxt.shape[1], dtype=bool)[acts]
    else:
        matches = nxt[xs[:-1]] == xs[1:, None]
        bad = np.flatnonzero(~matches.any(axis=1))
    if bad.size:
        raise ValueError(f"path[{bad[0] + 1}] = {xs[bad[0] + 1]} is not reachable from path[{bad[0]}] "
                         f"(expected a path of next_state{'' if actions is None else ' under actions'})")  # fmt: skip
    m = np.sum(pi[xs[:-1]] * matches, axis=1)
    alive = np.zeros(budget + 1)  # P(alive at step t with c patches used)
    alive[0] = 1.0
    progress = 0.0
    for t in range(H):
        progress += alive.sum()  # step t is processed when the rollout is alive at it
        miss = alive * (1 - m[t])
        alive = alive * m[t]
        alive[1:] += miss[:-1]  # a patch; miss[-1] exceeds the budget and ends the rollout
    return {"success": float(alive.sum()), "progress": float(progress / H), "step_accuracy": float(m.mean()),
            "match_prob": m}  # fmt: skip


@validate_params(start=Integer(0), goal=Integer(0), horizon=Integer(1, 10_000))
def online_success(next_state, policy, start: int, goal: int, horizon: int) -> float:
    """The true probability that the policy, run online from ``start``, reaches ``goal`` within ``horizon`` steps
    (the goal absorbing), by exact forward recursion."""
    nxt = _transitions(next_state)
    pi = _policy(policy, nxt.shape)
    S, A = nxt.shape
    for name, s in (("start", start), ("goal", goal)):
        if s >= S:
            raise ValueError(f"{name} is {s}, expected a state in [0, {S - 1}]")
    P = np.zeros((S, S))
    np.add.at(P, (np.repeat(np.arange(S), A), nxt.ravel()), pi.ravel())
    P[goal] = 0.0
    P[goal, goal] = 1.0
    d = np.zeros(S)
    d[start] = 1.0
    for _ in range(horizon):
        d = d @ P
    return float(d[goal])

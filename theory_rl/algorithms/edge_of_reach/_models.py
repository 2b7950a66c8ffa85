"""Environments and learned models for the tabular edge-of-reach analysis.

A five-action gridworld (with a stay action), count-based learned models, their interpolation toward the true
dynamics (or toward a random model) and a MOPO-style ensemble-disagreement penalty: the tabular analogue of
Figure 1 of Sims, Lu, Foerster, Teh (2024), arXiv 2402.12527.
"""

from __future__ import annotations

import numpy as np

from theory_rl._random import SeedLike, as_generator
from theory_rl._validation import (
    InvalidParameterError,
    as_float_array,
    check_cell,
    check_distributions,
    check_instance,
    check_int,
    check_memory,
    check_positive_int,
    check_real,
    check_table,
)
from theory_rl.generators.basic import slip_kernel
from theory_rl.mdp import TabularMDP

__all__ = [
    "STAY_GRID_MOVES",
    "stay_gridworld",
    "shortest_path_states",
    "count_model",
    "random_model",
    "interpolate_models",
    "disagreement_penalty",
]

#: Moves of the five actions: up, right, down, left, stay (row, column offsets).
STAY_GRID_MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1), (0, 0))


def _pair(value, name: str) -> tuple[int, int]:
    """``value`` as a ``(row, column)`` pair of integers (never a float, a string or a bool), naming ``name``."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise InvalidParameterError(f"{name} is {type(value).__name__} ({value!r}), expected a (row, column) pair")
    return check_int(value[0], f"{name}[0]"), check_int(value[1], f"{name}[1]")


def stay_gridworld(
    height: int,
    width: int,
    *,
    goal: tuple[int, int],
    start: tuple[int, int] = (0, 0),
    slip: float = 0.0,
    gamma: float = 0.9,
) -> TabularMDP:
    """A gridworld with five actions (up, right, down, left, stay) and an absorbing rewarding goal.

    State ``r * width + c`` is cell ``(r, c)``. With probability ``1 - slip`` the chosen move happens, otherwise a
    uniformly random one of the five; moves off the grid leave the agent in place. Every action at the goal earns
    reward 1 and stays there; all other rewards are 0. So ``V*(s) = gamma^d(s) / (1 - gamma)`` with ``d`` the
    Manhattan distance to the goal when ``slip = 0``. The stay action makes every state a possible fixed point of
    a greedy policy, which is what lets an overestimated edge-of-reach state trap the agent.

    Parameters
    ----------
    height, width : int
    goal, start : (int, int)
        Goal cell and the cell of the (deterministic) initial distribution.
    slip : float, default 0
    gamma : float, default 0.9
    """
    height = check_positive_int(height, "height")
    width = check_positive_int(width, "width")
    slip = check_real(slip, "slip", low=0.0, high=1.0)
    gr, gc = check_cell(goal, "goal", height, width)
    sr, sc = check_cell(start, "start", height, width)
    S, A = height * width, len(STAY_GRID_MOVES)
    rows, cols = np.divmod(np.arange(S), width)
    targets = np.empty((S, A), dtype=np.int64)
    for a, (dr, dc) in enumerate(STAY_GRID_MOVES):
        nr, nc = rows + dr, cols + dc
        inside = (nr >= 0) & (nr < height) & (nc >= 0) & (nc < width)
        targets[:, a] = np.where(inside, nr * width + nc, np.arange(S))
    goal_state = gr * width + gc
    P = slip_kernel(targets, slip, absorbing=goal_state)
    R = np.zeros((S, A))
    R[goal_state] = 1.0
    init = np.zeros(S)
    init[sr * width + sc] = 1.0
    return TabularMDP(P, R, init, gamma=gamma, reward_noise="deterministic")


def shortest_path_states(start: tuple[int, int], goal: tuple[int, int], width: int) -> np.ndarray:
    """States of a staircase shortest path from ``start`` to ``goal`` (alternating row and column moves).

    Used as the offline dataset's states: a behaviour trajectory that already solves the task, so the optimal
    path lies within reach and only the edge can mislead the learner.

    Raises
    ------
    ValueError
        Naming the parameter: ``start`` / ``goal`` not a pair of integers or a cell outside columns
        ``0..width-1`` (or a negative row), ``width`` not a positive integer, a path too long for memory.
    """
    width = check_positive_int(width, "width")
    r, c = _pair(start, "start")
    gr, gc = _pair(goal, "goal")
    for name, (rr, cc) in (("start", (r, c)), ("goal", (gr, gc))):
        if rr < 0 or not 0 <= cc < width:
            raise ValueError(f"{name} {(rr, cc)} is outside the grid (rows >= 0, columns 0..{width - 1})")
    check_memory(abs(gr - r) + abs(gc - c) + 1, "the path from start to goal")
    cells = [(r, c)]
    while (r, c) != (gr, gc):
        if r != gr and (abs(gr - r) >= abs(gc - c)):
            r += int(np.sign(gr - r))
        else:
            c += int(np.sign(gc - c))
        cells.append((r, c))
    return np.array([rr * width + cc for rr, cc in cells], dtype=np.int64)


def count_model(mdp: TabularMDP, n_samples, *, seed: SeedLike, n_members: int = 1) -> np.ndarray:
    """Count-based learned models: ``n(s, a)`` next states drawn from ``P(.|s, a)`` for every pair, per member.

    Member ``i`` is the empirical distribution ``P_i(s'|s, a) = N_i(s, a, s') / n(s, a)`` of its own independent
    draws (a bootstrap-style ensemble), so members disagree most where data are scarce.

    Parameters
    ----------
    mdp : TabularMDP
    n_samples : int or array_like of int, shape (S, A)
        Samples per pair (>= 1): one number, or per pair to model a dataset's uneven coverage.
    seed : int, SeedSequence or Generator
    n_members : int, default 1

    Returns
    -------
    numpy.ndarray, shape (n_members, S, A, S)
    """
    check_instance(mdp, "mdp", TabularMDP, episodic=False)
    S, A = mdp.S, mdp.A
    counts = np.asarray(n_samples)
    if counts.ndim == 0:  # the raw value is checked: 2.7 or True must not pass as 2 or 1; int64 counts
        raw = n_samples if np.ndim(n_samples) else counts.item()
        counts = np.full((S, A), check_int(raw, "n_samples", low=1, high=np.iinfo(np.int64).max))
    if counts.shape != (S, A) or not np.issubdtype(counts.dtype, np.integer):
        raise ValueError(f"n_samples must be a positive int or an int array of shape ({S}, {A})")
    if (counts < 1).any():
        idx = tuple(int(i) for i in np.argwhere(counts < 1)[0])
        raise ValueError(f"n_samples{list(idx)} is {counts[idx]}, expected at least 1 sample")
    m = check_positive_int(n_members, "n_members")
    check_table("the models", (m, S, A, S), ("n_members", "S", "A", "S"))
    rng = as_generator(seed)
    flat = mdp.P.reshape(S * A, S)
    n = counts.reshape(-1)
    models = np.stack([rng.multinomial(n, flat) / n[:, None] for _ in range(m)])
    return models.reshape(m, S, A, S)


def random_model(S: int, A: int, *, seed: SeedLike, branching: int | None = None, concentration: float = 1.0):
    """A random model: each row a Dirichlet(``concentration``) draw on ``branching`` random states (default all).

    Returns
    -------
    numpy.ndarray, shape (S, A, S)
    """
    S = check_positive_int(S, "S")
    A = check_positive_int(A, "A")
    b = S if branching is None else check_positive_int(branching, "branching")
    check_table("P", (S, A, S), ("S", "A", "S"))
    if b > S:
        raise ValueError(f"branching is {b}, expected at most S = {S}")
    concentration = check_real(concentration, "concentration", low=0.0, closed="neither")
    rng = as_generator(seed)
    P = np.zeros((S * A, S))
    for row in range(S * A):
        P[row, rng.choice(S, size=b, replace=False)] = rng.dirichlet(np.full(b, concentration))
    return P.reshape(S, A, S)


def interpolate_models(P_from, P_to, weight: float) -> np.ndarray:
    """Convex combination ``(1 - weight) P_from + weight P_to`` (broadcast over ensemble members).

    ``weight = 0`` returns the learned model(s), ``weight = 1`` the target (the true P, or a random model).
    """
    P_from = as_float_array(P_from, "P_from", ndim=(3, 4))
    P_to = as_float_array(P_to, "P_to", ndim=(3, 4))
    check_distributions(P_from, "P_from")
    check_distributions(P_to, "P_to")
    if P_from.shape[-3:] != P_to.shape[-3:]:
        raise ValueError(f"P_from has shape {P_from.shape} and P_to {P_to.shape}: (S, A, S) must match")
    weight = check_real(weight, "weight", low=0.0, high=1.0)
    return (1.0 - weight) * P_from + weight * P_to


def disagreement_penalty(models) -> np.ndarray:
    """MOPO-style uncertainty: ``u(s, a) = max_i || P_i(.|s, a) - mean_j P_j(.|s, a) ||_1``.

    The tabular stand-in for MOPO's maximum ensemble standard deviation (Yu et al. 2020): like it, it is a
    function of the model ensemble only, so it is exactly zero when every member equals the true dynamics,
    which is the point of Figure 1 of Sims et al. (2024).

    Parameters
    ----------
    models : array_like, shape (N, S, A, S)

    Returns
    -------
    numpy.ndarray, shape (S, A)
    """
    models = as_float_array(models, "models", ndim=4)
    check_distributions(models, "models")
    mean = models.mean(axis=0)
    return np.abs(models - mean).sum(axis=-1).max(axis=0)

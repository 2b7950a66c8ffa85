"""MDPs with a known symmetry group, for data augmentation (GuDA, Corrado et al. 2024; issue 18).

:func:`torus_gridworld`: an ``n x n`` gridworld on a torus with five actions (up, right, down, left, stay), slip and
an absorbing rewarding goal. Translations ``g_t(s) = s + t`` (mod ``n`` in each coordinate) are symmetries of its
dynamics away from the goal: ``P(g_t s' | g_t s, a) = P(s' | s, a)`` whenever neither ``s`` nor ``g_t s`` is the goal
(the goal is absorbing, every other cell moves alike). The reward (1 at the goal) is not translation-invariant:
an augmented transition's reward is recomputed from the known reward function.
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import Real, as_index_array, check_cell, check_int, validate_params
from theory_rl.generators.basic import slip_kernel
from theory_rl.mdp import TabularMDP

__all__ = ["TORUS_MOVES", "torus_gridworld", "torus_translate", "torus_distance"]

#: Moves of the five actions: up, right, down, left, stay.
TORUS_MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1), (0, 0))


@validate_params(slip=Real(0.0, 1.0), gamma=Real(0.0, 1.0, closed="left"))
def torus_gridworld(n: int, *, goal=(0, 0), slip: float = 0.1, gamma: float = 0.9) -> TabularMDP:
    """The ``n x n`` torus gridworld (state ``r * n + c``); uniform initial distribution over all cells.

    With probability ``1 - slip`` the chosen move happens, else a uniformly random one of the five. Every action at
    the goal earns 1 and stays; all other rewards are 0.
    """
    n = check_int(n, "n", low=2, high=300)
    gr, gc = check_cell(goal, "goal", n, n)
    S, A = n * n, len(TORUS_MOVES)
    rows, cols = np.divmod(np.arange(S), n)
    targets = np.stack([((rows + dr) % n) * n + (cols + dc) % n for dr, dc in TORUS_MOVES], axis=1)
    g = gr * n + gc
    P = slip_kernel(targets, slip, absorbing=g)
    R = np.zeros((S, A))
    R[g] = 1.0
    return TabularMDP(P, R, np.full(S, 1.0 / S), gamma=gamma, reward_noise="deterministic")


def torus_translate(states, shift, n: int) -> np.ndarray:
    """``g_t(s)``: the states translated by ``shift = (dr, dc)`` on the ``n x n`` torus (states or arrays of them;
    ``shift`` one pair or an array of shape (len(states), 2))."""
    n = check_int(n, "n", low=2, high=300)
    s = as_index_array(states, "states", n * n, ndim=None)
    t = np.asarray(shift)
    if t.dtype.kind not in "iu" or t.shape[-1:] != (2,):
        raise ValueError(f"shift must be integer (row, column) offsets of shape (2,) or (k, 2), got {t!r}")
    r, c = np.divmod(s, n)
    return ((r + t[..., 0]) % n) * n + (c + t[..., 1]) % n


def torus_distance(states, goal, n: int) -> np.ndarray:
    """Torus Manhattan distance of ``states`` to the ``goal`` cell: the user-level progress measure of GuDA."""
    n = check_int(n, "n", low=2, high=300)
    gr, gc = check_cell(goal, "goal", n, n)
    s = as_index_array(states, "states", n * n, ndim=None)
    r, c = np.divmod(s, n)
    dr, dc = np.abs(r - gr), np.abs(c - gc)
    return np.minimum(dr, n - dr) + np.minimum(dc, n - dc)

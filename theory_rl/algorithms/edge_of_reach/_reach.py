"""Reach sets of truncated model rollouts: R_t, within-reach W_k and edge-of-reach E_k.

Sims, Lu, Foerster, Teh (2024), "The Edge-of-Reach Problem in Offline Model-Based Reinforcement Learning",
arXiv 2402.12527, Definition 1 (edge-of-reach states), in its set form for tabular models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._validation import Integer, Real, as_float_array, check_distributions, check_table, validate_params
from theory_rl.mdp import TabularMDP

__all__ = ["ATOL", "ReachSets", "reach_sets", "reach_distances", "reach_diameter", "start_mask"]

#: The spec of a support threshold ``atol``: a real in ``[0, 1)`` (NaN, inf and complex refused).
ATOL = Real(0.0, 1.0, closed="left")


def _transitions(P) -> np.ndarray:
    """A validated (S, A, S) transition array from a TabularMDP or an array."""
    if isinstance(P, TabularMDP):
        if not P.is_discounted:
            raise ValueError("P: reach analysis needs a stationary (discounted) MDP, got a finite-horizon one")
        return P.P
    P = as_float_array(P, "P", ndim=3)
    if P.shape[0] != P.shape[2] or P.shape[0] < 1 or P.shape[1] < 1:
        raise ValueError(f"P has shape {P.shape}, expected (S, A, S)")
    check_distributions(P, "P")
    return P


def start_mask(starts, S: int) -> np.ndarray:
    """Boolean mask of the start states, from state indices or a boolean mask of shape (S,).

    Shared by :func:`reach_sets` and :func:`~theory_rl.algorithms.edge_of_reach.truncated_fqi`.

    Raises
    ------
    ValueError
        An empty or all-False selection, a mask of the wrong shape, non-integer indices, a state outside 0..S-1.
    """
    arr = np.asarray(starts)
    if arr.dtype == bool:
        if arr.shape != (S,):
            raise ValueError(f"starts is a boolean mask of shape {arr.shape}, expected ({S},)")
        mask = arr.copy()
    else:
        if arr.size == 0:
            raise ValueError("starts is empty; give at least one start state")
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"starts must hold integer state indices (or be a boolean mask), got dtype {arr.dtype}")
        arr = arr.ravel()
        bad = (arr < 0) | (arr >= S)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"starts[{i}] is state {arr[i]}, expected a state in 0..{S - 1}")
        mask = np.zeros(S, dtype=bool)
        mask[arr] = True
    if not mask.any():
        raise ValueError("starts selects no state; give at least one start state")
    return mask


@dataclass(frozen=True)
class ReachSets:
    """Reach sets of k-step rollouts from a set of start states.

    Attributes
    ----------
    R : numpy.ndarray of bool, shape (k + 1, S)
        ``R[t]`` is the set of states some policy reaches with positive probability in exactly t steps:
        ``R_0 = supp(starts)``, ``R_t = Post(R_{t-1})``.
    within : numpy.ndarray of bool, shape (S,)
        Within-reach set ``W_k = R_0 u ... u R_{k-1}``: the states that appear as Bellman *inputs*.
    edge : numpy.ndarray of bool, shape (S,)
        Edge-of-reach set ``E_k = R_k \\ W_k``: states that appear only as bootstrap *targets* (Definition 1).
    distance : numpy.ndarray of int, shape (S,)
        Shortest rollout distance from the start set, ``-1`` for states no rollout ever reaches.
    k : int
        Rollout length.
    """

    R: np.ndarray
    within: np.ndarray
    edge: np.ndarray
    distance: np.ndarray
    k: int

    @property
    def diameter(self) -> int:
        """Reach diameter: the largest finite distance from the start set (E_k is empty iff k > diameter)."""
        return int(self.distance.max())


@validate_params(atol=ATOL)
def reach_distances(P, starts, *, atol: float = 0.0) -> np.ndarray:
    """Shortest number of model steps from the start set to each state (breadth-first search).

    Parameters
    ----------
    P : TabularMDP or array_like, shape (S, A, S)
        The (model) dynamics; ``s'`` is a successor of ``(s, a)`` when ``P[s, a, s'] > atol``.
    starts : array_like of int, or bool mask of shape (S,)
        The dataset's start states (``nu_0`` of Definition 1).
    atol : float, default 0
        Support threshold: the stochastic-model variant of Definition 1 counts probabilities ``<= atol`` as zero.

    Returns
    -------
    numpy.ndarray of int, shape (S,)
        ``d(s) = min{t : s in R_t}``, or ``-1`` when no t exists.
    """
    P = _transitions(P)
    S = P.shape[0]
    frontier = start_mask(starts, S)
    adjacency = (P > atol).any(axis=1)  # (S, S): some action moves s to s'
    dist = np.full(S, -1, dtype=np.int64)
    dist[frontier] = 0
    t = 0
    while frontier.any():
        t += 1
        nxt = adjacency[frontier].any(axis=0) & (dist < 0)
        dist[nxt] = t
        frontier = nxt
    return dist


@validate_params(atol=ATOL)
def reach_diameter(P, starts, *, atol: float = 0.0) -> int:
    """Largest finite rollout distance from the start set; ``E_k`` is empty exactly when ``k`` exceeds it."""
    return int(reach_distances(P, starts, atol=atol).max())


@validate_params(k=Integer(1), atol=ATOL)
def reach_sets(P, starts, k: int, *, atol: float = 0.0) -> ReachSets:
    """Reach sets ``R_0..R_k``, within-reach ``W_k`` and edge-of-reach ``E_k`` (Sims et al. 2024, Def. 1).

    ``R_t`` is computed by iterating the successor map ``Post(X) = {s' : P(s'|s, a) > atol, s in X, some a}``;
    a state is edge-of-reach when it is reachable at step k but at no earlier step, i.e. when its shortest
    distance from the start set is exactly k. (We count step 0: start states are Bellman inputs.)

    Parameters
    ----------
    P : TabularMDP or array_like, shape (S, A, S)
    starts : array_like of int, or bool mask of shape (S,)
    k : int
        Rollout length, ``k >= 1`` (a ``k`` whose ``(k + 1, S)`` reach table would not fit in memory is refused at
        once; for ``k`` beyond the reach diameter ``E_k`` is empty, see :func:`reach_diameter`).
    atol : float, default 0

    Returns
    -------
    ReachSets

    Examples
    --------
    >>> import numpy as np
    >>> P = np.zeros((4, 1, 4)); P[[0, 1, 2, 3], 0, [1, 2, 3, 3]] = 1.0   # a chain 0 -> 1 -> 2 -> 3
    >>> rs = reach_sets(P, [0], k=2)
    >>> np.flatnonzero(rs.within), np.flatnonzero(rs.edge)
    (array([0, 1]), array([2]))
    """
    P = _transitions(P)
    S = P.shape[0]
    check_table("R", (k + 1, S), ("k + 1", "S"), itemsize=1)
    adjacency = (P > atol).any(axis=1)
    R = np.zeros((k + 1, S), dtype=bool)
    R[0] = start_mask(starts, S)
    for t in range(1, k + 1):
        R[t] = adjacency[R[t - 1]].any(axis=0)
    within = R[:k].any(axis=0)
    edge = R[k] & ~within
    distance = reach_distances(P, R[0], atol=atol)
    for arr in (R, within, edge, distance):
        arr.setflags(write=False)
    return ReachSets(R=R, within=within, edge=edge, distance=distance, k=k)

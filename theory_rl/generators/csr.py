"""Sparse (CSR) transition matrices of the structured generators, built in time and memory linear in the non-zeros.

The generators of :mod:`theory_rl.generators.basic` (RiverSwim, the gridworld, the combination lock) build
``P`` densely by default for small instances and sparsely (``sparse=True``, or automatically when large: see
:func:`use_sparse`) through the builders here. Each builder lists, per state-action row, its few candidate entries
``(next state, probability)`` in the order the dense construction adds them, and merges equal next states by
summing in that same order, so the sparse MDP equals the dense one bit for bit (tested), not only to rounding.
Rows are ``(h*S + s)*A + a`` (:class:`~theory_rl.mdp.TabularMDP`'s sparse layout).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from theory_rl._validation import check_bool, check_int, check_table

__all__ = ["SPARSE_MIN_ENTRIES", "use_sparse"]

#: A generator with ``sparse=None`` stores ``P`` sparse when its dense form would have more than this many entries
#: (2^20, 8 MiB) and at most a tenth of them are non-zero.
SPARSE_MIN_ENTRIES = 2**20


def use_sparse(dense_entries: int, nonzeros: int, sparse: bool | None = None) -> bool:
    """Whether to store sparse: ``sparse`` if it is a bool, else (None) the automatic rule of the module doc.

    Parameters
    ----------
    dense_entries : int
        Entries of the dense ``P`` (``S * A * S``, times the stages).
    nonzeros : int
        Non-zeros of the sparse ``P`` (an upper bound will do).
    sparse : bool or None
        The generator's ``sparse`` argument.
    """
    dense_entries = check_int(dense_entries, "dense_entries", low=0)
    nonzeros = check_int(nonzeros, "nonzeros", low=0)
    if sparse is None:
        return dense_entries > SPARSE_MIN_ENTRIES and 10 * nonzeros <= dense_entries
    return check_bool(sparse, "sparse")


def rows_to_csr(targets: np.ndarray, weights: np.ndarray, S: int) -> scipy.sparse.csr_array:
    """CSR ``(n_rows, S)`` of rows given as ``k`` candidate entries each: ``targets``, ``weights`` of shape
    ``(n_rows, k)``. Equal targets of a row are summed into the first of them in candidate order, left to right
    (``((w0 + w1) + w2) + ...``: a dense ``+=`` loop's own rounding); zero sums are dropped. O(n_rows k^2) in
    ``k`` vectorised column passes, no sort (``k`` is a handful); the MDP's constructor sorts the columns."""
    n_rows, k = targets.shape
    check_table("the sparse transition candidates", (n_rows, k), ("rows", "k"))
    acc = np.array(weights, dtype=np.float64, copy=True)
    first = np.ones((n_rows, k), dtype=bool)
    for j in range(1, k):
        owner = np.full(n_rows, -1, dtype=np.int64)  # the first earlier candidate with the same target
        for i in range(j - 1, -1, -1):
            owner[targets[:, i] == targets[:, j]] = i
        merged = owner >= 0
        rows = np.flatnonzero(merged)
        acc[rows, owner[rows]] += acc[rows, j]
        first[:, j] = ~merged
    keep = first & (acc != 0.0)
    counts = keep.sum(axis=1)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    cols = np.asarray(targets, dtype=np.int64)[keep]
    return scipy.sparse.csr_array((acc[keep], cols, indptr), shape=(n_rows, S))


def river_swim_csr(S: int, p_right: float, p_left: float) -> scipy.sparse.csr_array:
    """RiverSwim's ``(S*2, S)`` transitions (see :func:`~theory_rl.generators.basic.river_swim`)."""
    s = np.arange(S)
    targets = np.zeros((S, 2, 3), dtype=np.int64)
    weights = np.zeros((S, 2, 3))
    targets[:, 0, 0], weights[:, 0, 0] = np.maximum(s - 1, 0), 1.0  # swim left: always succeeds
    stay = 1.0 - p_right - p_left
    # swim right, inner states: right p_right, left p_left, stay otherwise
    targets[:, 1] = np.stack([np.minimum(s + 1, S - 1), np.maximum(s - 1, 0), s], axis=1)
    weights[:, 1] = [p_right, p_left, stay]
    # the left bank moves right with p_right + p_left (the dense form sets, not adds, these two)
    targets[0, 1], weights[0, 1] = [1, 0, 0], [p_right + p_left, stay, 0.0]
    # the right bank stays with 1 - p_left
    targets[S - 1, 1], weights[S - 1, 1] = [S - 1, S - 2, S - 1], [1.0 - p_left, p_left, 0.0]
    return rows_to_csr(targets.reshape(S * 2, 3), weights.reshape(S * 2, 3), S)


def gridworld_csr(height: int, width: int, slip: float, moves, walls: np.ndarray, goal: int) -> scipy.sparse.csr_array:
    """The slippery gridworld's ``(S*4, S)`` transitions (see :func:`~theory_rl.generators.basic.gridworld`):
    ``walls`` a boolean mask over the ``S`` cells, ``goal`` a state; wall and goal cells loop on themselves."""
    S, A = height * width, len(moves)
    states = np.arange(S)
    r, c = np.divmod(states, width)
    target = np.empty((S, A), dtype=np.int64)  # where each move leads: off the grid or into a wall, stay
    for a, (dr, dc) in enumerate(moves):
        nr, nc = r + dr, c + dc
        inside = (nr >= 0) & (nr < height) & (nc >= 0) & (nc < width)
        nxt = np.where(inside, nr * width + nc, states)
        target[:, a] = np.where(walls[nxt], states, nxt)
    # per (s, a): the intended move (1 - slip), then each of the A moves (slip / A), in the dense loop's order
    targets = np.concatenate([target[:, :, None], np.broadcast_to(target[:, None, :], (S, A, A))], axis=2)
    weights = np.empty((S, A, A + 1))
    weights[..., 0] = 1.0 - slip
    weights[..., 1:] = slip / A
    fixed = walls.copy()
    fixed[goal] = True
    targets[fixed] = states[fixed][:, None, None]
    weights[fixed] = 0.0
    weights[fixed, :, 0] = 1.0
    return rows_to_csr(targets.reshape(S * A, A + 1), weights.reshape(S * A, A + 1), S)


def combination_lock_csr(code: np.ndarray, A: int) -> scipy.sparse.csr_array:
    """The combination lock's stage-dependent ``(H*2*A, 2)`` transitions (see
    :func:`~theory_rl.generators.basic.combination_lock`): state 0 stays on track only under ``code[h]``."""
    H = code.size
    targets = np.ones((H, 2, A, 1), dtype=np.int64)  # every action fails, and the failed state is absorbing
    targets[np.arange(H), 0, code, 0] = 0
    return rows_to_csr(targets.reshape(-1, 1), np.ones((H * 2 * A, 1)), 2)

"""Sparse transition storage: validation and conversion of CSR matrices over state-action pairs.

A sparse transition matrix has one row per ``(h, s, a)`` and one column per next state ``s'``: row index
``(h * S + s) * A + a`` (``h = 0`` only for a stationary ``P``), entry ``P_h(s' | s, a)``. It is stored
canonically as a ``scipy.sparse.csr_array``: sorted column indices, duplicates summed, explicit zeros dropped,
``int64`` ``indptr`` and ``indices`` (one numba signature, no overflow past 2^31 non-zeros) and read-only arrays.

Everything here runs in memory linear in the non-zeros: nothing is densified.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from theory_rl._csr_kernels import csr_scan
from theory_rl._validation import PROB_TOL

__all__ = [
    "DENSE_LIMIT", "is_sparse", "canonical_transitions", "dense_to_transitions", "transitions_to_dense",
    "fill_empty_rows",
]

#: Largest number of entries ``H * S * A * S`` a sparse MDP densifies to on demand (``mdp.P``): 2^25, 256 MiB.
DENSE_LIMIT = 2**25


def is_sparse(P) -> bool:
    """True for any scipy.sparse matrix or array."""
    return scipy.sparse.issparse(P)


def _row_name(row: int, S: int, A: int, stages: int, col: int | None = None) -> str:
    hs, a = divmod(int(row), A)
    h, s = divmod(hs, S)
    where = (f"h={h}, " if stages > 1 else "") + f"s={s}, a={a}" + ("" if col is None else f", s'={col}")
    return f"({where})"


def canonical_transitions(P, A: int, horizon: int | None, *, name: str = "P",
                          tol: float = PROB_TOL) -> scipy.sparse.csr_array:
    """Validate a sparse transition matrix and return its canonical read-only CSR copy.

    Parameters
    ----------
    P : scipy.sparse matrix or array, shape (S * A, S) or (H * S * A, S)
        Row ``(h * S + s) * A + a`` holds ``P_h(. | s, a)``; ``S`` is the number of columns.
    A : int
        Number of actions (from the reward table's shape).
    horizon : int or None
        H of a finite-horizon MDP, whose ``P`` may have ``H * S * A`` rows (stage-dependent); None (discounted)
        admits only the stationary ``S * A`` rows.

    Returns
    -------
    scipy.sparse.csr_array
        Canonical CSR (sorted, summed duplicates, no explicit zeros, int64 indices), arrays read-only.

    Raises
    ------
    ValueError
        Wrong shape or dtype, a negative or non-finite entry, or a row that does not sum to one, naming the entry,
        e.g. ``"P row (s=3, a=1) sums to 0.97, expected 1 (tolerance 1e-10)"``.
    """
    if not is_sparse(P):
        raise ValueError(f"{name} must be a scipy.sparse matrix or array, got {type(P).__name__}")
    if len(P.shape) != 2:
        raise ValueError(f"{name} must be 2-D (rows (h, s, a), columns s'), got shape {P.shape}")
    if P.dtype.kind not in "biuf":
        raise ValueError(f"{name} has dtype {P.dtype}, expected real numbers")
    n_rows, S = (int(n) for n in P.shape)
    if S < 1 or A < 1:
        raise ValueError(f"{name} has shape {P.shape}: need at least one state (column) and one action")
    allowed = [S * A] + ([horizon * S * A] if horizon is not None and horizon > 1 else [])
    if n_rows not in allowed:
        expected = " or ".join(f"{n}" for n in allowed)
        raise ValueError(f"{name} has {n_rows} rows, expected {expected} (rows (h, s, a) with S = {S} columns and "
                         f"A = {A} actions" + (f", H = {horizon}" if horizon is not None else "") + ")")
    stages = n_rows // (S * A)
    C = P if P.format == "csr" else P.tocsr()  # coo/csc/lil -> csr sums duplicates and sorts
    # Fresh arrays (never the caller's), int64 indices: one numba signature, no overflow past 2^31 non-zeros.
    data = np.array(C.data, dtype=np.float64)
    indices, indptr = np.array(C.indices, dtype=np.int64), np.array(C.indptr, dtype=np.int64)
    if indptr.shape != (n_rows + 1,) or indptr[0] != 0 or indptr[-1] != data.size or indices.size != data.size or (
            np.diff(indptr) < 0).any():
        raise ValueError(f"{name} is a malformed CSR matrix (its indptr does not delimit its rows)")
    bad_col, unsorted, bad_value, n_zeros, bad_row, bad_sum = csr_scan(indptr, indices, data, S, tol)
    if bad_col >= 0:
        raise ValueError(f"{name} has a column index {int(indices[bad_col])} outside 0..{S - 1}")
    if unsorted:  # duplicates summed and indices sorted by scipy, then checked again
        T = scipy.sparse.csr_array((data, indices, indptr), shape=(n_rows, S))
        T.sum_duplicates()
        data, indices, indptr = T.data, T.indices.astype(np.int64), T.indptr.astype(np.int64)
        bad_col, unsorted, bad_value, n_zeros, bad_row, bad_sum = csr_scan(indptr, indices, data, S, tol)
    if bad_value >= 0:
        row = int(np.searchsorted(indptr, bad_value, side="right")) - 1
        raise ValueError(f"{name} entry {_row_name(row, S, A, stages, int(indices[bad_value]))} is "
                         f"{data[bad_value]:.6g}, expected a probability >= 0")
    if bad_row >= 0:
        raise ValueError(f"{name} row {_row_name(bad_row, S, A, stages)} sums to {bad_sum:.12g}, "
                         f"expected 1 (tolerance {tol:g})")
    if n_zeros:  # explicit zeros dropped
        keep = data != 0.0
        indptr = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))[indptr]  # kept entries before each row
        data, indices = data[keep], indices[keep]
    return _freeze(data, indices, indptr, (n_rows, S))


def _freeze(data, indices, indptr, shape) -> scipy.sparse.csr_array:
    """A canonical CSR matrix on these arrays, int64 indices, read-only (scipy's constructor would downcast)."""
    T = scipy.sparse.csr_array(shape, dtype=np.float64)
    T.data, T.indices, T.indptr = data, np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)
    T.has_sorted_indices = True
    T.has_canonical_format = True
    for arr in (T.data, T.indices, T.indptr):
        arr.setflags(write=False)
    return T


def dense_to_transitions(P: np.ndarray) -> scipy.sparse.csr_array:
    """The canonical CSR form of a dense (validated) ``(S, A, S)`` or ``(H, S, A, S)`` transition array."""
    T = scipy.sparse.csr_array(np.ascontiguousarray(P).reshape(-1, P.shape[-1]))
    T.sum_duplicates()
    T.eliminate_zeros()
    return _freeze(T.data, T.indices, T.indptr, T.shape)


def transitions_to_dense(T: scipy.sparse.csr_array, shape: tuple, *, limit: int = DENSE_LIMIT) -> np.ndarray:
    """The dense read-only array of ``shape`` that a CSR transition matrix stores, if it has at most ``limit``
    entries; otherwise a ValueError naming the size and the sparse-aware alternatives."""
    n = 1
    for v in shape:
        n *= int(v)
    if n > limit:
        raise ValueError(
            f"this sparse MDP's dense P would have shape {tuple(shape)} = {n:.3g} entries, more than the "
            f"{limit:.3g} (2^25) a sparse MDP densifies to; use mdp.transitions (CSR, rows (h, s, a)) and the "
            "sparse-aware functions (planning.solve / value_iteration / policy_iteration / backward_induction / "
            "evaluate / expected_return / optimal_return, theory_rl.solvers)"
        )
    out = T.toarray().reshape(shape)
    out.setflags(write=False)
    return out


def fill_empty_rows(P, infeasible: np.ndarray):
    """``P`` (sparse, rows ``(h*S + s)*A + a``) with each empty row of an infeasible pair replaced by the self-loop
    ``P(s | s, a) = 1`` (issue 15: a sparse MDP may leave infeasible pairs' rows empty; stored rows then stay
    distributions, never read by planning or sampling). ``infeasible`` is the bool ``(S, A)`` complement of the
    mask. Returns ``P`` itself when no such row is empty; otherwise a new CSR matrix, in time linear in the
    non-zeros. Other empty rows are left for :func:`canonical_transitions` to refuse."""
    S, A = infeasible.shape
    n_rows = int(P.shape[0])
    if P.shape[1] != S or n_rows % (S * A):
        return P  # a wrong shape: canonical_transitions names it
    if P.dtype.kind not in "biuf":
        return P
    C = scipy.sparse.csr_array(P, dtype=np.float64, copy=True)  # never the caller's arrays
    C.eliminate_zeros()
    rows = np.flatnonzero((np.diff(C.indptr) == 0) & np.tile(infeasible.reshape(-1), n_rows // (S * A)))
    if rows.size == 0:
        return P
    states = (rows // A) % S
    loops = scipy.sparse.csr_array((np.ones(rows.size), (rows, states)), shape=C.shape)
    return C + loops

"""Numba kernels for Bellman backups on CSR transitions (and the dense Gauss-Seidel sweep).

Rows of the CSR matrix are state-action pairs ``row0 + s * A + a`` (``row0 = h * S * A`` selects a stage of a
stage-dependent P); ``R`` is the flat ``(S * A,)`` reward table of that stage. Kernels trust their inputs (the
MDP validated them: indices in range, so they index with unsigned integers and skip numba's negative-index
wrap-around) and allocate nothing: outputs are written into arrays the caller owns. Ties in a max go to the
lowest action, as ``numpy.argmax`` does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "csr_bellman_max", "csr_q", "csr_gauss_seidel", "dense_gauss_seidel", "csr_scan", "csr_bellman_gather",
    "gathered_sweeps", "sweep_done", "csr_shifted_q", "mpi_eliminate",
]


@njit(cache=True, nogil=True)
def csr_bellman_max(indptr, indices, data, R, V, gamma, S, A, row0, V_out, act_out):  # pragma: no cover - numba
    """``V_out[s] = max_a R[s, a] + gamma * P(. | s, a) . V`` and its (lowest) argmax ``act_out[s]``."""
    for s in range(S):
        best = -np.inf
        best_a = 0
        for a in range(A):
            r = row0 + s * A + a
            acc = 0.0
            for k in range(indptr[r], indptr[r + 1]):
                acc += data[k] * V[np.uint64(indices[k])]
            q = R[s * A + a] + gamma * acc
            if q > best:
                best = q
                best_a = a
        V_out[s] = best
        act_out[s] = best_a


@njit(cache=True, nogil=True)
def csr_bellman_gather(indptr, indices, data, R, V, gamma, S, A, V_out, act, pv, alive,
                       gptr, gidx, gdat, gr):  # pragma: no cover - numba
    """One backup for modified policy iteration, fused with what the iteration needs next.

    As :func:`csr_bellman_max` (``V_out = T V``, ``act`` its lowest argmax) over the rows with ``alive[r]`` set
    (the others are skipped unread: actions proven suboptimal, see :func:`mpi_eliminate`), and in the same pass:
    ``pv[r] = P(. | r) . V`` for every live row (so that Q of ``V + c`` costs no second pass), the greedy rows
    gathered into the compact CSR ``(gptr, gidx, gdat)`` with rewards ``gr`` (copied while the row is still in
    cache), and the span of ``T V - V``. Returns ``(min(T V - V), max(T V - V), changes)``, ``changes`` counting
    the states whose action differs from ``act`` on entry. ``gidx`` / ``gdat`` hold ``sum_s max_a nnz(s, a)``
    entries. A ``-inf`` reward never wins a max unless every live action of the state has one.
    """
    lo = np.inf
    hi = -np.inf
    changes = 0
    n = 0
    gptr[0] = 0
    for s in range(S):
        base = s * A
        best = -np.inf
        best_a = 0
        for a in range(A):
            r = base + a
            if not alive[r]:
                continue
            acc = 0.0
            for k in range(indptr[r], indptr[r + 1]):
                acc += data[k] * V[np.uint64(indices[k])]
            pv[r] = acc
            q = R[r] + gamma * acc
            if q > best:
                best = q
                best_a = a
        if best_a != act[s]:
            changes += 1
        act[s] = best_a
        V_out[s] = best
        d = best - V[s]
        lo = min(lo, d)
        hi = max(hi, d)
        r = base + best_a
        for k in range(indptr[r], indptr[r + 1]):
            gidx[n] = indices[k]
            gdat[n] = data[k]
            n += 1
        gptr[s + 1] = n
        gr[s] = R[r]
    return lo, hi, changes


@njit(cache=True, nogil=True)
def mpi_eliminate(rptr, R, pv, W, gamma, slack, alive):  # pragma: no cover - numba
    """Clear ``alive[r]`` for the live rows ``r`` of state ``s`` (``rptr[s] <= r < rptr[s + 1]``) with
    ``W[s] - (R[r] + gamma pv[r]) > slack``; returns the number of live rows left.

    With ``W = T V`` and ``slack`` at least ``gamma sp(T V - V) / (1 - gamma)`` plus round-off, such an action
    is not optimal (MacQueen's test, Puterman 1994, Sec. 6.7.2; the proof is in ``Backups.mpi``).
    """
    live = 0
    for s in range(rptr.shape[0] - 1):
        w = W[s]
        for r in range(rptr[s], rptr[s + 1]):
            if alive[r]:
                if w - (R[r] + gamma * pv[r]) > slack:
                    alive[r] = 0
                else:
                    live += 1
    return live


@njit(cache=True, nogil=True)
def gathered_sweeps(gptr, gidx, gdat, gr, V, work, gamma, m, stop, final, budget,
                    span0):  # pragma: no cover - numba
    """Up to ``m`` Jacobi sweeps ``V <- gr + gamma P_pi V`` on a gathered policy CSR, alternating between ``V``
    and ``work`` (both overwritten); stops after the first sweep whose change has span below ``final``, or below
    ``stop`` unless the last two spans' ratio predicts reaching ``final`` within ``budget`` more sweeps
    (:func:`sweep_done`; ``span0`` is the span of ``V``'s own change, ``sp(T V - V)`` after a backup).

    Returns ``(values, spare, sweeps, span)``: the buffer holding the last sweep, the other one, the number of
    sweeps done and the span ``max - min`` of the last sweep's change (``span0`` when ``m = 0``).
    """
    src = V
    dst = work
    j = 0
    span = span0
    prev = span0
    S = gr.shape[0]
    while j < m:
        lo = np.inf
        hi = -np.inf
        for s in range(S):
            acc = 0.0
            for k in range(gptr[s], gptr[s + 1]):
                acc += gdat[k] * src[np.uint64(gidx[k])]
            x = gr[s] + gamma * acc
            dst[s] = x
            d = x - src[s]
            lo = min(lo, d)
            hi = max(hi, d)
        src, dst = dst, src
        j += 1
        prev, span = span, hi - lo
        if sweep_done(span, prev, stop, final, budget):
            break
    return src, dst, j, span


@njit(cache=True, nogil=True)
def sweep_done(span, prev, stop, final, budget):  # pragma: no cover - numba
    """Adaptive MPI's rule after a sweep whose change has span ``span`` (``prev`` before it): done below
    ``final``; below ``stop``, done unless the contraction ``span / prev`` reaches ``final`` within ``budget``
    more sweeps (then the next backup is likely the last one, for at most ``budget`` cheap sweeps)."""
    if span < final:
        return True
    if not span < stop:
        return False
    rate = span / prev
    if not rate < 1.0 or rate <= 0.0:
        return True
    return np.log(final / span) / np.log(rate) > budget


@njit(cache=True, nogil=True)
def csr_shifted_q(indptr, indices, data, R, V, pv, alive, gamma, c, out):  # pragma: no cover - numba
    """``out[r] = R[r] + gamma * (P(. | r) . V + c * sum_k P(k | r))``: Q of ``V + c``, from ``pv = P V`` on the
    rows with ``alive[r]`` set and from a fresh pass over the others (each row's sum taken in storage order, so
    no assumption that it is exactly one). ``out`` may be ``pv``."""
    for r in range(out.shape[0]):
        acc = 0.0
        total = 0.0
        if alive[r]:
            for k in range(indptr[r], indptr[r + 1]):
                total += data[k]
            acc = pv[r]
        else:
            for k in range(indptr[r], indptr[r + 1]):
                x = data[k]
                total += x
                acc += x * V[np.uint64(indices[k])]
        out[r] = R[r] + gamma * (acc + c * total)


@njit(cache=True, nogil=True)
def csr_q(indptr, indices, data, R, V, gamma, row0, out):  # pragma: no cover - numba
    """``out[i] = R[i] + gamma * P(. | row0 + i) . V`` for the ``len(out)`` rows from ``row0``."""
    for i in range(out.shape[0]):
        r = row0 + i
        acc = 0.0
        for k in range(indptr[r], indptr[r + 1]):
            acc += data[k] * V[np.uint64(indices[k])]
        out[i] = R[i] + gamma * acc


@njit(cache=True, nogil=True)
def csr_gauss_seidel(indptr, indices, data, R, V, gamma, S, A):  # pragma: no cover - numba
    """One in-place Gauss-Seidel sweep ``V(s) <- max_a R + gamma P(.|s, a) V`` in state order; returns the
    largest change ``max_s |V_new(s) - V_old(s)|``."""
    change = 0.0
    for s in range(S):
        best = -np.inf
        for a in range(A):
            r = s * A + a
            acc = 0.0
            for k in range(indptr[r], indptr[r + 1]):
                acc += data[k] * V[np.uint64(indices[k])]
            q = R[r] + gamma * acc
            if q > best:
                best = q
        d = abs(best - V[s])
        if d > change:
            change = d
        V[s] = best
    return change


@njit(cache=True, nogil=True)
def dense_gauss_seidel(P2, R, V, gamma, S, A):  # pragma: no cover - numba
    """:func:`csr_gauss_seidel` on a dense ``(S * A, S)`` transition matrix."""
    change = 0.0
    for s in range(S):
        best = -np.inf
        for a in range(A):
            r = s * A + a
            acc = 0.0
            for j in range(S):
                acc += P2[r, j] * V[j]
            q = R[r] + gamma * acc
            if q > best:
                best = q
        d = abs(best - V[s])
        if d > change:
            change = d
        V[s] = best
    return change


@njit(cache=True, nogil=True)
def csr_scan(indptr, indices, data, n_cols, tol):  # pragma: no cover - numba
    """One pass of checks over a CSR transition matrix, allocation-free.

    Returns ``(bad_col, unsorted, bad_value, n_zeros, bad_row, bad_sum)``: the first entry with a column index
    outside ``0..n_cols-1`` (or -1), whether some row's indices are not strictly increasing (unsorted or
    duplicated), the first entry that is negative or not finite (or -1), the number of explicit zeros, the first
    row whose sum is off 1 by more than ``tol`` (or -1) and that sum.
    """
    bad_col = -1
    bad_value = -1
    bad_row = -1
    bad_sum = 0.0
    unsorted = False
    n_zeros = 0
    for r in range(indptr.shape[0] - 1):
        acc = 0.0
        prev = -1
        for k in range(indptr[r], indptr[r + 1]):
            j = indices[k]
            if (j < 0 or j >= n_cols) and bad_col < 0:
                bad_col = k
            if j <= prev:
                unsorted = True
            prev = j
            x = data[k]
            if not (x >= 0.0 and x < np.inf) and bad_value < 0:
                bad_value = k
            if x == 0.0:
                n_zeros += 1
            acc += x
        if abs(acc - 1.0) > tol and bad_row < 0:
            bad_row = r
            bad_sum = acc
    return bad_col, unsorted, bad_value, n_zeros, bad_row, bad_sum

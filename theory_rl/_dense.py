"""Dense transition storage: the constructor's checks of a dense ``P`` and its owned copy in one pass (issue 16).

``TabularMDP(P, ...)`` checks that ``P`` is finite, non-negative and that each row ``P[..., s, a, :]`` sums to one
within :data:`~theory_rl._validation.PROB_TOL`, and keeps a read-only copy. Done with numpy, that is three reads
of ``P`` (a finiteness sum, a minimum, the row sums) and a copy; here one numba pass reads each entry once, checks
it, adds it to its row's sum and (when copying) writes it to the copy.

Verdicts are exactly those of the numpy checks (:func:`~theory_rl._validation.as_float_array`,
:func:`~theory_rl._validation.check_distributions`), and so are the error messages: the kernel only ever *accepts*
a row when the numpy check would too, and hands anything else to the numpy checks, which decide and word the
error. Its row sums are taken in another order than numpy's pairwise sum, so they may differ from numpy's by
round-off; any summation order of ``n`` non-negative terms is within ``(n - 1) u`` (relative, ``u = 2^-53``) of
the exact sum, so a row is accepted only when ``|sum - 1| <= tol - 4 n u sum``, which implies numpy's
``|sum - 1| <= tol``. Rows closer than that to the tolerance's edge (none in practice) go to numpy.

Small arrays (at most :data:`SMALL` entries) take the numpy checks directly: no kernel dispatch, no compilation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from theory_rl._validation import PROB_TOL, as_float_array, readonly

__all__ = ["SMALL", "dense_scan", "owned_transitions", "owned_array"]

#: Arrays with at most this many entries are checked by numpy alone (the kernel's dispatch would cost more).
SMALL = 4096

@njit(cache=True, nogil=True, fastmath={"reassoc"})
def dense_scan(rows, out, tol):  # pragma: no cover - numba
    """First row of ``rows`` (shape ``(n, S)``, C-contiguous) that is not surely a probability vector, or -1.

    A row is accepted when every entry is ``>= 0`` (NaN is not) and its sum is within ``tol - 4 S u sum`` of 1
    (module docstring); an infinite entry makes the sum fail. When ``out`` has ``n`` rows, the entries are copied
    into it on the way (up to the returned row when one fails). ``reassoc`` (and no other fast-math flag, so NaN
    compares as NaN) lets the sum vectorise: its order is free, which the margin allows for.
    """
    n, S = rows.shape
    copy = out.shape[0] == n
    margin = 4.0 * S * 2.0**-53
    for i in range(n):
        total = 0.0
        bad = 0
        if copy:  # two loops, each branch-free
            for j in range(S):
                x = rows[i, j]
                out[i, j] = x
                bad += not x >= 0.0
                total += x
        else:
            for j in range(S):
                x = rows[i, j]
                bad += not x >= 0.0
                total += x
        if bad > 0 or not abs(total - 1.0) <= tol - margin * total:  # a NaN or inf sum fails too
            return i
    return -1


_NO_COPY = np.empty((0, 0))


def _fresh(arr: np.ndarray, source) -> bool:
    """True when ``arr`` (``np.asarray``'s result for ``source``) is new memory no one else holds."""
    return arr is not source and arr.base is None and arr.flags.owndata


def owned_array(arr: np.ndarray, source, *, copy: bool = True) -> np.ndarray:
    """``arr`` (a checked float64 array made from ``source``) as the read-only C-contiguous array an MDP keeps.

    ``copy=True``: a copy, unless ``arr`` is already new memory (a list or an int array converted), which is kept
    as is (one copy, not two). ``copy=False``: a read-only *view* of the caller's array when it is float64 and
    C-contiguous (the caller's array itself stays writable: do not write it afterwards), a copy otherwise.
    """
    if _fresh(arr, source) and arr.flags.c_contiguous:
        arr.setflags(write=False)
        return arr
    if copy or not arr.flags.c_contiguous:
        return readonly(arr)
    view = arr.view()
    view.setflags(write=False)
    return view


def owned_transitions(P, name: str = "P", *, ndim=(3, 4), copy: bool = True,
                      tol: float = PROB_TOL) -> tuple[np.ndarray, bool]:
    """A dense transition array checked and owned in one pass (module docstring).

    Returns ``(arr, checked)``: ``arr`` as :func:`owned_array` returns it (float64, C-contiguous, read-only), and
    ``checked`` True when every row was proven a probability vector here. When ``checked`` is False, ``arr`` is
    known finite (refused at once otherwise, with :func:`~theory_rl._validation.as_float_array`'s message) and the
    caller must still run :func:`~theory_rl._validation.check_distributions` on it (at the place where it always
    ran, so that errors keep their order).
    """
    if isinstance(P, np.ndarray) and P.size <= SMALL:  # the common small MDP: numpy alone, as before
        return owned_array(as_float_array(P, name, ndim=ndim), P, copy=copy), False
    arr = as_float_array(P, name, ndim=ndim, finite=False)
    if arr.size <= SMALL:  # a small list
        return owned_array(as_float_array(arr, name), P, copy=copy), False
    fresh = _fresh(arr, P)
    if not arr.flags.c_contiguous:
        arr, fresh = np.ascontiguousarray(arr), True
    rows = arr.reshape(-1, arr.shape[-1])
    if fresh or not copy:
        out, target = arr, _NO_COPY
    else:
        out = np.empty_like(arr)
        target = out.reshape(rows.shape)
    bad = dense_scan(rows, target, tol)
    if bad < 0:
        if out is arr:
            out = owned_array(arr, P, copy=copy)
        else:
            out.setflags(write=False)
        return out, True
    as_float_array(arr, name)  # non-finite entries: refused here, with the usual message
    return owned_array(arr, P, copy=copy), False

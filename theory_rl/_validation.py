"""Boundary validation shared by the public constructors and functions.

Every check raises a ValueError that names the offending entry, e.g.
``"P[3, 1] sums to 0.97, expected 1 (tolerance 1e-10)"``. Kernels downstream trust what passes here.
"""

from __future__ import annotations

import numpy as np

#: Absolute tolerance on probability vectors summing to one.
PROB_TOL = 1e-10


def _index(idx: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def as_float_array(x, name: str, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Convert ``x`` to a float64 array, rejecting wrong dimensionality and non-finite entries."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric: {err}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        raise ValueError(f"{name}{_index(idx)} is {arr[idx]}, expected a finite number")
    return arr


def check_distributions(arr: np.ndarray, name: str, *, tol: float = PROB_TOL) -> None:
    """Check that ``arr`` is non-negative and sums to one along its last axis."""
    neg = arr < 0
    if neg.any():
        idx = tuple(np.argwhere(neg)[0])
        raise ValueError(f"{name}{_index(idx)} is {arr[idx]:.6g}, expected a probability >= 0")
    sums = arr.sum(axis=-1)
    off = np.abs(sums - 1.0) > tol
    if np.ndim(off) == 0:
        if off:
            raise ValueError(f"{name} sums to {float(sums):.12g}, expected 1 (tolerance {tol:g})")
        return
    if off.any():
        idx = tuple(np.argwhere(off)[0])
        raise ValueError(f"{name}{_index(idx)} sums to {sums[idx]:.12g}, expected 1 (tolerance {tol:g})")


def check_range(arr: np.ndarray, name: str, low: float, high: float) -> None:
    """Check that every entry of ``arr`` lies in the closed interval [low, high]."""
    bad = (arr < low) | (arr > high)
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        raise ValueError(f"{name}{_index(idx)} is {arr[idx]:.6g}, expected a value in [{low:g}, {high:g}]")


def check_shape(arr: np.ndarray, name: str, shape: tuple[int, ...]) -> None:
    """Check that ``arr`` has exactly ``shape``."""
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} has shape {arr.shape}, expected {tuple(shape)}")


def readonly(arr: np.ndarray) -> np.ndarray:
    """Return a C-contiguous read-only copy of ``arr`` (never a view of the caller's array)."""
    out = np.array(arr, dtype=np.float64, order="C", copy=True)
    out.setflags(write=False)
    return out


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int, rejecting non-integers and values below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)

"""Boundary validation, the ONE set of checks shared by the public constructors and functions.

Every check raises a ValueError (an :class:`InvalidParameterError`, both ValueError and TypeError, for a wrong
kind of object) that names the offending entry and what
was expected, e.g. ``"P[3, 1] sums to 0.97, expected 1 (tolerance 1e-10)"`` or
``"delta is nan, expected a real number in (0, 1)"``. Kernels downstream trust what passes here.

Checks are data: a parameter is described by a spec (:class:`Real`, :class:`Integer`, :class:`Options`,
:class:`Instance`, :class:`Boolean`, :class:`Callable`, :class:`Mapping`, :class:`String`) and
:func:`validate_params` applies the specs of a function's parameters before its body runs (the model is
scikit-learn's ``validate_params``). The same checks are available as plain functions (:func:`check_real`,
:func:`check_int`, :func:`check_choice`, :func:`check_step`, :func:`check_instance`, :func:`check_bool`, ...) for
hot paths and for values computed inside a function; :func:`check_table` refuses an absurd size at once.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import os
from collections.abc import Mapping as _AbcMapping
from dataclasses import dataclass

import numpy as np

__all__ = [
    "PROB_TOL", "InvalidParameterError", "MEMORY_BYTES", "Real", "Integer", "Options", "Instance", "validate_params",
    "check_real", "check_int", "check_positive_int", "check_choice", "check_step", "check_cell", "check_instance",
    "check_on_max_iter", "check_memory", "as_float_array", "as_index_array", "check_distributions", "check_range",
    "check_shape", "readonly", "index_str", "check_bool", "check_callable", "check_mapping", "check_str",
    "check_table", "Boolean", "Callable", "Mapping",
    "String", "WORK_LIMIT", "check_work",
]

class InvalidParameterError(ValueError, TypeError):
    """A parameter of the wrong kind (a string for a number, a complex number, a float for a count, ...).

    Both a ValueError and a TypeError, as scikit-learn's error of the same name, so callers catching either see it.
    """


#: Absolute tolerance on probability vectors summing to one.
PROB_TOL = 1e-10


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 2**35


#: Bytes of physical memory: a request for more than this is refused at once instead of failing in numpy.
MEMORY_BYTES = _physical_memory()


def index_str(idx) -> str:
    """``[i, j, ...]`` for an index tuple (the style of every message here)."""
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


# ---------------------------------------------------------------------- scalars
_BRACKETS = {"both": "[]", "left": "[)", "right": "(]", "neither": "()"}


def _interval(low, high, closed: str) -> str:
    lo_b, hi_b = _BRACKETS[closed]
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"{lo_b}{lo}, {hi}{hi_b}"


def check_real(value, name: str, *, low=None, high=None, closed: str = "both") -> float:
    """``value`` as a float, refusing bools, strings, complex numbers, NaN, inf and values outside the interval.

    ``closed`` is ``"both"``, ``"left"``, ``"right"`` or ``"neither"``: which of ``low`` and ``high`` belong to
    the interval (a missing bound is ``-inf`` or ``inf``, never included).
    """
    where = _interval(low, high, closed)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.ndarray)):
        if isinstance(value, (bool, np.bool_)):
            kind = "a bool"
        elif isinstance(value, numbers.Complex):
            kind = "a complex number"
        else:
            kind = type(value).__name__
        raise InvalidParameterError(f"{name} is {kind} ({value!r}), expected a real number in {where}")
    if isinstance(value, np.ndarray):
        if value.ndim != 0 or not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
            what = f"shape {value.shape} and dtype {value.dtype}"
            raise InvalidParameterError(f"{name} has {what}, expected a real number")
        value = value.item()
    x = float(value)
    ok = np.isfinite(x)
    if ok and low is not None:
        ok = x >= low if closed in ("both", "left") else x > low
    if ok and high is not None:
        ok = x <= high if closed in ("both", "right") else x < high
    if not ok:
        raise ValueError(f"{name} is {x!r}, expected a real number in {where}")
    return x


def check_int(value, name: str, *, low=None, high=None) -> int:
    """``value`` as an int in ``[low, high]``, refusing bools, floats (even integral ones) and strings."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise InvalidParameterError(f"{name} is {type(value).__name__} ({value!r}), expected an integer")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        if high is None:
            raise ValueError(f"{name} is {v}, expected an integer >= {low}")
        lo = "-inf" if low is None else low
        raise ValueError(f"{name} is {v}, expected an integer in [{lo}, {high}]")
    return v


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    """``value`` as an int ``>= minimum`` (a shorthand for :func:`check_int`)."""
    return check_int(value, name, low=minimum)


def check_choice(value, name: str, options) -> str:
    """``value`` if it is one of ``options`` (strings), else a ValueError listing them."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} is {value!r}, expected one of {tuple(options)}")
    return value


def check_step(h, name: str, horizon) -> int:
    """A step index ``h`` in ``0..horizon-1`` (no negative indexing). ``horizon=None`` (a stationary model) has
    no steps: any ``h`` but None is refused there."""
    if horizon is None:
        if h is not None:
            raise ValueError(f"{name} is {h!r}, but the model is stationary (discounted): pass {name}=None")
        return None
    if h is None:
        raise ValueError(f"a finite-horizon model needs the step {name} in 0..{horizon - 1}")
    return check_int(h, name, low=0, high=horizon - 1)


def check_cell(value, name: str, height: int, width: int) -> tuple[int, int]:
    """A grid cell ``(row, column)`` of integers inside the ``height x width`` grid, else an error naming ``name``."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise InvalidParameterError(f"{name} is {value!r}, expected a cell (row, column)")
    r, c = check_int(value[0], f"{name}[0]"), check_int(value[1], f"{name}[1]")
    if not (0 <= r < height and 0 <= c < width):
        raise ValueError(f"{name} {(r, c)} is outside the {height}x{width} grid")
    return r, c


def check_instance(obj, name: str, cls, *, episodic: bool | None = None):
    """``obj`` if it is an instance of ``cls`` (a class or tuple), of the right kind when ``episodic`` is given
    (``True``: finite horizon; ``False``: discounted), else a TypeError / ValueError naming ``name``."""
    if not isinstance(obj, cls):
        want = " or ".join(c.__name__ for c in (cls if isinstance(cls, tuple) else (cls,)))
        raise InvalidParameterError(f"{name} is a {type(obj).__name__}, expected a {want}")
    if episodic is not None and bool(getattr(obj, "is_episodic", False)) != episodic:
        kind = "finite-horizon" if episodic else "discounted"
        raise ValueError(f"{name} must be {kind}; got {obj!r}")
    return obj


#: The choices of every ``on_max_iter`` argument: raise :class:`ConvergenceError` or warn and return.
ON_MAX_ITER = ("raise", "warn")


def check_on_max_iter(value) -> str:
    """The ``on_max_iter`` rule shared by every iterative routine: ``"raise"`` (default) or ``"warn"``."""
    return check_choice(value, "on_max_iter", ON_MAX_ITER)


def check_memory(n_items, name: str, *, itemsize: int = 8) -> None:
    """Refuse at once a request whose arrays would exceed the machine's memory (no MemoryError, no swap storm).

    ``n_items`` is the number of array entries the request allocates (may be a Python int of any size).
    """
    need = int(n_items) * int(itemsize)
    if need > MEMORY_BYTES:
        raise ValueError(
            f"{name} asks for {int(n_items):.3g} entries ({need:.3g} bytes), more than this machine's "
            f"{MEMORY_BYTES:.3g} bytes of memory"
        )


# ---------------------------------------------------------------------- specs
@dataclass(frozen=True)
class Real:
    """A real number in an interval (NaN, inf, complex and bools refused); ``optional`` admits None."""

    low: float | None = None
    high: float | None = None
    closed: str = "both"
    optional: bool = False

    def check(self, value, name: str):
        if value is None and self.optional:
            return None
        return check_real(value, name, low=self.low, high=self.high, closed=self.closed)


@dataclass(frozen=True)
class Integer:
    """An integer in ``[low, high]``; ``optional`` admits None."""

    low: int | None = None
    high: int | None = None
    optional: bool = False

    def check(self, value, name: str):
        if value is None and self.optional:
            return None
        return check_int(value, name, low=self.low, high=self.high)


@dataclass(frozen=True)
class Options:
    """One string among ``choices``; ``optional`` admits None."""

    choices: tuple
    optional: bool = False

    def check(self, value, name: str):
        if value is None and self.optional:
            return None
        return check_choice(value, name, self.choices)


@dataclass(frozen=True)
class Instance:
    """An instance of ``cls`` (of the right kind when ``episodic`` is given); ``optional`` admits None."""

    cls: type | tuple
    episodic: bool | None = None
    optional: bool = False

    def check(self, value, name: str):
        if value is None and self.optional:
            return None
        return check_instance(value, name, self.cls, episodic=self.episodic)


def validate_params(**specs):
    """Decorator: check the named parameters against their specs before the function body runs.

    The checked (normalised) values replace the arguments; defaults are not checked. The specs stay readable as
    ``fn.__validated__`` (the common invalid-input test uses them).

    Examples
    --------
    >>> @validate_params(delta=Real(0, 1, closed="neither"), n=Integer(1))
    ... def f(n, delta=0.1):
    ...     return n * delta
    """

    def decorate(fn):
        sig = inspect.signature(fn)
        unknown = set(specs) - set(sig.parameters)
        if unknown:
            raise TypeError(f"validate_params: {fn.__qualname__} has no parameter(s) {sorted(unknown)}")

        ps = sig.parameters.values()
        pos = [p.name for p in ps if p.kind == p.POSITIONAL_OR_KEYWORD]
        plain = all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in ps)
        slot = {p.name: pos.index(p.name) if p.name in pos else len(pos) for p in ps}
        required = [(p.name, slot[p.name]) for p in ps if p.default is p.empty]
        checks = [(name, slot[name], spec) for name, spec in specs.items()]

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            n = len(args)
            # Fast path (no inspect bind: ~10x cheaper; these run ~1e5 times per experiment) when every argument
            # lands in one known slot and every required one is given; otherwise bind places (or refuses) them.
            if plain and n <= len(pos) and all(slot.get(k, -1) >= n for k in kwargs) and all(
                    i < n or k in kwargs for k, i in required):
                args = list(args)
                for name, i, spec in checks:
                    if i < n:
                        args[i] = spec.check(args[i], name)
                    elif name in kwargs:
                        kwargs[name] = spec.check(kwargs[name], name)
                return fn(*args, **kwargs)
            bound = sig.bind(*args, **kwargs)
            for name, spec in specs.items():
                if name in bound.arguments:
                    bound.arguments[name] = spec.check(bound.arguments[name], name)
            return fn(*bound.args, **bound.kwargs)

        wrapper.__validated__ = dict(specs)
        return wrapper

    return decorate


# ---------------------------------------------------------------------- arrays
def as_float_array(x, name: str, *, ndim: int | tuple[int, ...] | None = None, shape=None,
                   finite: bool = True) -> np.ndarray:
    """``x`` as a float64 array, rejecting complex, non-numeric, wrong dimensionality or shape, NaN and inf
    (``finite=False``: NaN and inf left to a caller whose own pass refuses them, as theory_rl._dense's does)."""
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be numeric: {err}") from None
    if np.iscomplexobj(arr):
        raise InvalidParameterError(f"{name} is complex (dtype {arr.dtype}), expected real numbers")
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise InvalidParameterError(f"{name} has dtype {arr.dtype}, expected real numbers")
    arr = np.asarray(arr, dtype=np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got shape {arr.shape}")
    if shape is not None:
        check_shape(arr, name, shape)
    if not finite:
        return arr
    if arr.size > 4096:  # one pass, no temporary: a finite sum means finite entries (issue 16: large P)
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(arr.sum()):
                return arr
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        raise ValueError(f"{name}{index_str(idx)} is {arr[idx]}, expected a finite number")
    return arr


def as_index_array(x, name: str, upper: int | None, *, ndim: int | None = 1) -> np.ndarray:
    """``x`` as an int64 array of indices in ``0..upper-1`` (``>= 0`` when ``upper`` is None).

    Integer-valued floats are refused too (state 1.7 is never silently truncated to 1), as are bools.
    """
    arr = np.asarray(x)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be an integer array, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    bad = arr < 0
    if upper is not None:
        bad = bad | (arr >= upper)
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        want = "an integer >= 0" if upper is None else f"a value in 0..{upper - 1}"
        raise ValueError(f"{name}{index_str(idx)} is {arr[idx]}, expected {want}")
    return arr.astype(np.int64, copy=False)


def check_distributions(arr: np.ndarray, name: str, *, tol: float = PROB_TOL) -> None:
    """Check that ``arr`` is non-negative and sums to one along its last axis."""
    neg = ~(arr >= 0) if not arr.min(initial=0.0) >= 0 else None  # one pass first; NaN counts as negative
    if neg is not None and neg.any():
        idx = tuple(np.argwhere(neg)[0])
        raise ValueError(f"{name}{index_str(idx)} is {arr[idx]:.6g}, expected a probability >= 0")
    sums = arr.sum(axis=-1)
    off = np.abs(sums - 1.0) > tol
    if np.ndim(off) == 0:
        if off:
            raise ValueError(f"{name} sums to {float(sums):.12g}, expected 1 (tolerance {tol:g})")
        return
    if off.any():
        idx = tuple(np.argwhere(off)[0])
        raise ValueError(f"{name}{index_str(idx)} sums to {sums[idx]:.12g}, expected 1 (tolerance {tol:g})")


def check_range(arr: np.ndarray, name: str, low: float, high: float) -> None:
    """Check that every entry of ``arr`` lies in the closed interval [low, high] (NaN refused)."""
    bad = ~((arr >= low) & (arr <= high))
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        raise ValueError(f"{name}{index_str(idx)} is {arr[idx]:.6g}, expected a value in [{low:g}, {high:g}]")


def check_shape(arr: np.ndarray, name: str, shape: tuple[int, ...]) -> None:
    """Check that ``arr`` has exactly ``shape``."""
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} has shape {arr.shape}, expected {tuple(shape)}")


def readonly(arr: np.ndarray) -> np.ndarray:
    """Return a C-contiguous read-only copy of ``arr`` (never a view of the caller's array)."""
    out = np.array(arr, dtype=np.float64, order="C", copy=True)
    out.setflags(write=False)
    return out


# ---------------------------------------------------------------------- flags, callables, mappings, strings, sizes
def check_bool(value, name: str) -> bool:
    """``value`` as a bool: only ``True``/``False`` (numpy's bools included); ``1``, ``"yes"``, NaN are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} is {type(value).__name__} ({value!r}), expected a bool (True or False)")
    return bool(value)


def check_callable(value, name: str):
    """``value`` if it is callable (a function, a class, an object with ``__call__``), else a TypeError."""
    if not callable(value):
        raise InvalidParameterError(f"{name} is {type(value).__name__} ({value!r}), expected a callable")
    return value


def check_mapping(value, name: str) -> dict:
    """``value`` if it is a mapping (a dict of keyword values, e.g. a configuration), else a TypeError."""
    if not isinstance(value, _AbcMapping):
        raise InvalidParameterError(f"{name} is {type(value).__name__} ({value!r}), expected a dict")
    return value


def check_str(value, name: str, *, path: bool = False):
    """``value`` if it is a string (a label, a key), or with ``path=True`` also an ``os.PathLike``; never a number
    or an arbitrary object (which would be silently formatted into a label or a file name)."""
    if isinstance(value, str) or (path and isinstance(value, os.PathLike)):
        return value
    want = "a string or a path" if path else "a string"
    raise InvalidParameterError(f"{name} is {type(value).__name__} ({value!r}), expected {want}")


def check_table(what: str, shape: tuple, names: tuple, *, itemsize: int = 8) -> None:
    """Refuse at once a table of ``shape`` (entries named by ``names``) that would not fit in memory.

    The message names every size, e.g. ``"P of shape (S, A, S) = (4, 1000000000000, 4) needs 1.6e+13 entries
    (1.3e+14 bytes), more than this machine's 1.4e+11 bytes of memory"``, so that an absurd size is refused before
    numpy raises a MemoryError (or swaps). Sizes are Python ints of any magnitude.
    """
    n = 1
    for v in shape:
        n *= int(v)
    need = n * int(itemsize)
    if need > MEMORY_BYTES:
        dims = ", ".join(str(int(v)) for v in shape)
        raise ValueError(
            f"{what} of shape ({', '.join(names)}) = ({dims}) needs {n:.3g} entries ({need:.3g} bytes), more than "
            f"this machine's {MEMORY_BYTES:.3g} bytes of memory"
        )


@dataclass(frozen=True)
class Boolean:
    """A bool flag (``True``/``False``, numpy's bools included); ``optional`` admits None."""

    optional: bool = False

    def check(self, value, name: str):
        if value is None and self.optional:
            return None
        return check_bool(value, name)


@dataclass(frozen=True)
class Callable:
    """A callable (a function or class); ``optional`` admits None."""

    optional: bool = False

    def check(self, value, name: str):
        if value is None and self.optional:
            return None
        return check_callable(value, name)


@dataclass(frozen=True)
class Mapping:
    """A mapping (a dict); ``optional`` admits None."""

    optional: bool = False

    def check(self, value, name: str):
        if value is None and self.optional:
            return None
        return check_mapping(value, name)


@dataclass(frozen=True)
class String:
    """A string (a label, a key); ``path=True`` also admits an ``os.PathLike``; ``optional`` admits None."""

    path: bool = False
    optional: bool = False

    def check(self, value, name: str):
        if value is None and self.optional:
            return None
        return check_str(value, name, path=self.path)



#: Elementary operations (~1 ns each) one call may ask for before it is refused at once (a few minutes of work).
WORK_LIMIT = 10**11


def check_work(n_ops, name: str, *, hint: str = "") -> None:
    """Refuse at once a request of more than :data:`WORK_LIMIT` elementary operations ``n_ops`` (any size, inf,
    NaN): a hang in all but name. The ValueError names ``name`` and ``hint`` (what to do instead)."""
    if not float(n_ops) <= WORK_LIMIT:
        raise ValueError(f"{name} asks for about {float(n_ops):.3g} operations, more than the {WORK_LIMIT:.0e} one "
                         "call may do" + (f"; {hint}" if hint else ""))

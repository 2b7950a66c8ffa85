"""The common invalid-input test: every public callable, every parameter, invalid values.

For each public function and class (found from the modules' ``__all__``, see public_api.py) a valid example call
is built; then each parameter in turn is replaced by invalid values (NaN, inf, a complex number, a string, an
arbitrary object; negative and absurd sizes for counts) and the call must raise a ValueError or TypeError whose
message names the parameter, within a time limit (no hang, no MemoryError, no crash inside numba, no NaN returned).
The valid example itself must succeed, so a callable that rejects everything cannot pass.
"""

from __future__ import annotations

import inspect
import signal
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from tests.public_api import NO_EXAMPLE, RECORDS, example_call, has_example, is_record, public_callables, public_modules

#: Seconds one call may take before it counts as a hang.
TIME_LIMIT = 20

#: Parameters that are labels or free-form objects, not values to validate.
FREE_FORM = {"name", "detail", "experiment", "meta", "fn", "config", "configs"}

#: Integer parameters that size an allocation or a loop: -1 and an absurd size must be refused at once.
SIZES = {"n", "n_episodes", "n_per_pair", "n_trials", "n_steps", "S", "A", "H", "d", "horizon", "branching",
         "max_iter", "iterations", "n_iterations", "n_samples", "n_members", "T", "K", "k", "N"}

INVALID = {
    "nan": float("nan"),
    "inf": float("inf"),
    "complex": 1 + 1j,
    "string": "bogus",
    "object": object(),
}
INVALID_SIZES = {"negative": -1, "absurd": 10**12}


class _Timeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: int):
    def handler(signum, frame):
        raise _Timeout(f"no answer in {seconds} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _cases():
    for qual, obj in public_callables().items():
        if not has_example(qual, obj) or is_record(qual):
            continue
        try:
            params = inspect.signature(obj).parameters.values()
        except (TypeError, ValueError):
            continue
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in FREE_FORM:
                continue
            yield pytest.param(qual, p.name, id=f"{qual.removeprefix('theory_rl.')}:{p.name}")


def _substitute(obj, call, pname, value):
    args, kwargs = call
    bound = inspect.signature(obj).bind_partial(*args, **kwargs)
    bound.arguments[pname] = value
    return bound.args, bound.kwargs


def _invalid_values(pname, default):
    values = dict(INVALID)
    if pname in SIZES or (isinstance(default, int) and not isinstance(default, bool)):
        values.update(INVALID_SIZES)
    return values


@pytest.mark.parametrize("qual, pname", list(_cases()))
def test_invalid_value_is_refused_naming_the_parameter(qual, pname):
    obj = public_callables()[qual]
    call = example_call(qual, obj)
    default = inspect.signature(obj).parameters[pname].default
    failures = []
    for label, value in _invalid_values(pname, default).items():
        args, kwargs = _substitute(obj, call, pname, value)
        try:
            with warnings.catch_warnings(), _time_limit(TIME_LIMIT):
                warnings.simplefilter("error", np.exceptions.ComplexWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                obj(*args, **kwargs)
        except (ValueError, TypeError) as err:
            if pname not in str(err):
                failures.append(f"{label}: {type(err).__name__} does not name {pname!r}: {err}")
        except _Timeout as err:
            failures.append(f"{label}: {err}")
        except Exception as err:  # noqa: BLE001 - any other exception is the defect being tested for
            failures.append(f"{label}: {type(err).__name__}: {err}")
        else:
            failures.append(f"{label}: accepted")
    assert not failures, f"{qual}({pname}=...):\n  " + "\n  ".join(failures)


@pytest.mark.parametrize("qual", [q for q, o in public_callables().items() if has_example(q, o)])
def test_example_call_is_valid(qual):
    """The example each parameter is varied from must itself succeed (else every check above passes vacuously)."""
    obj = public_callables()[qual]
    args, kwargs = example_call(qual, obj)
    with warnings.catch_warnings(), _time_limit(TIME_LIMIT):
        warnings.simplefilter("ignore", DeprecationWarning)
        obj(*args, **kwargs)


def test_every_public_callable_has_an_example():
    missing = [q for q, o in public_callables().items()
               if not has_example(q, o) and q.rpartition(".")[2] not in NO_EXAMPLE]
    assert not missing, f"{len(missing)} public callables have no example call in tests/public_api.py:\n" + "\n".join(
        missing
    )

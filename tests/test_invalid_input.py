"""The common invalid-input test: every public callable, every parameter, invalid values.

For each public function and class (found from the modules' ``__all__``, see public_api.py) a valid example call
is built; then each parameter in turn is replaced by invalid values (NaN, inf, a complex number, a string, an
arbitrary object; negative and absurd sizes for counts) and the call must raise a ValueError or TypeError whose
message names the parameter, within a time limit (no hang, no MemoryError, no crash inside numba, no NaN returned).
The valid example itself must succeed, so a callable that rejects everything cannot pass.
"""

from __future__ import annotations

import inspect
import numbers
import os
import re
import signal
import types
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from tests.public_api import NO_EXAMPLE, RECORDS, example_call, has_example, is_record, public_callables, public_modules
from theory_rl.results import ConvergenceWarning

#: Seconds one call may take before it counts as a hang.
TIME_LIMIT = 20

#: Parameters whose value is handed on unexamined, so no value is invalid here. Keep this small; one line each.
FREE_FORM = {
    "scheduler",  # run_sweep: a Dask scheduler address or client, handed to dask.distributed, which checks it
}

#: Parameters whose value is any string (a label, a key, a path): "bogus" is valid for them, but a non-string
#: (NaN, a complex number, an arbitrary object) must still be refused naming the parameter. A bool flag is NOT
#: here: "bogus" is truthy, but a flag must be a bool (numpy's included), so every INVALID value is refused.
#: Likewise ``fn`` must be callable and ``config``/``configs``/``meta`` dicts: none of INVALID is, so no exception.
STRINGS = {"name", "detail", "experiment", "method", "key", "path", "out_dir", "db_path",
           "what",  # max_ratio's what: a label of the occupancy for its error message ("the policy")
           "old", "new",  # renamed_field's field names
           "dataset_id", "author", "author_email", "code_permalink", "description"}  # to_minari (issue 21)

#: Integer parameters that size an allocation or a loop: -1 and an absurd size must be refused at once.
SIZES = {"n", "n_episodes", "n_per_pair", "n_trials", "n_steps", "S", "A", "H", "d", "horizon", "branching",
         "max_iter", "iterations", "n_iterations", "n_samples", "n_members", "T", "K", "k", "N"}

#: Integers for which an absurd value is legitimate, because it neither allocates nor loops that often: a cap
#: on iterations that a converging routine never reaches, a seed, a number inside a closed-form constant. -1
#: must still be refused; 10**12 must be answered within TIME_LIMIT (no hang, no MemoryError) or refused.
#: By name everywhere, or as "callable:parameter" for one callable.
NOT_ALLOCATING = {
    "max_iter", "max_rounds", "max_policies", "seed", "root_seed",  # caps and seeds
    "reach_sets:k", "reach_diameter:k",  # a reach radius beyond the diameter is the whole reachable set
    "glow_constants:n_f", "glow_constants:n_w", "glow_constants:T", "glow_constants:H",  # log terms only
    "lsvi_ucb_beta:d", "lsvi_ucb_beta:H", "lsvi_ucb_beta:T", "pevi_beta:d", "pevi_beta:H", "pevi_beta:K",
    "pevi:n_episodes",  # K inside pevi_beta's log term
    "sample_generative:n_per_pair", "sample_policy_counts:n_episodes",  # counts drawn directly: O(1) in n
    "sample_iid_counts:n",  # the counts of n i.i.d. tuples drawn directly (one multinomial per step): O(1) in n
    "sample_iid_counts_batch:n",  # issue 16: the same, once per seed
    "bandit_scores:A",  # the number of arms inside the log term log(2 A / delta) only; the arrays are given
    "o2o_coefficient:T",  # a real episode budget inside a convex program (T_max defaults to 1e12)
    "hoeffding:N", "bernstein:N", "Counts:N",  # counts: 10**12 samples of a pair is a valid count
    "prop1_bandit:N",  # sets only the data distribution (1 - 1/N, 1/N) in closed form; allocates nothing
    "ratio_class:mixtures", "decoy_classes:mixtures",  # mixes at most min(mixtures, #policies) policies: a
    "model_based_classes:mixtures",  # cap beyond the number of policies enumerates the same subsets, no more
    "count_model:n_samples",  # samples per pair, drawn as one multinomial per pair in O(S): nothing of that size
    "hac_step_size:T", "hac_step_size:A", "hac_step_size:horizon",  # issue 17: a closed-form step size only
    "reptile_fixed_point:K",  # issue 17: (I - alpha A)^K by repeated squaring, O(log K) products
    "pevi_samples:n_episodes",  # issue 15: K inside pevi_beta's log term, as pevi:n_episodes
    "FactoredLinearMDP:max_check",  # issue 15: a cap on the signed-factor check's work, never allocated
}

INVALID = {
    "nan": float("nan"),
    "inf": float("inf"),
    "complex": 1 + 1j,
    "string": "bogus",
    "object": object(),
}
INVALID_SIZES = {"negative": -1, "absurd": 10**12}

#: issue 13: parameters for which None is a documented value although their default is not None ("no limit",
#: "no regularisation", ...). By name everywhere, or as "callable:parameter" for one callable.
NONE_ACCEPTED = {
    "reachable_design:eta",  # eta=None: the exact G-optimal design instead of the soft-max one (documented)
    "n_trials",  # the batch samplers: n_trials=None returns one dataset without the trial axis (documented)
    "hac:offline",  # offline=None is on-policy NPG with Monte-Carlo Q (documented; issue 17)
    "hpe:offline",  # offline=None gives the on-policy critic only (documented; issue 17)
    "hnpg:offline",  # offline=None is on-policy NPG with the same log-linear actor (documented; issue 17)
    "hnpg_direction:off_counts",  # None: the on-policy Fisher and gradient only (documented; issue 17)
    "as_feasible_mask:feasible",  # None: no action mask, every action feasible (documented; issue 15)
}


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


def _invalid_values(qual, pname, default, example=None):
    values = dict(INVALID)
    if pname in STRINGS:
        del values["string"]
    # issue 13: None where a value is expected (an MDP, an array, a number): refused naming the parameter, never an
    # AttributeError from inside the body. Only where None is not the parameter's own default (or documented).
    if default is not None and f"{qual.rpartition('.')[2]}:{pname}" not in NONE_ACCEPTED and pname not in NONE_ACCEPTED:
        values["none"] = None
    # issue 13: an array argument with one complex entry, or one NaN entry: refused (never cast with a warning,
    # never passed through a range check).
    # issue 13: an array where an object is expected (an MDP, a dataset, a class record): refused naming the
    # parameter, never an AttributeError from inside the body.
    if example is not None and not isinstance(example, (np.ndarray, np.generic, numbers.Number, str, bytes, list,
                                                         tuple, dict, os.PathLike, types.FunctionType, type)):
        values["array"] = np.zeros(3)
    if isinstance(example, np.ndarray) and example.size and example.dtype != object:
        values["complex array"] = example.astype(np.complex128) + 0.5j
        bad = example.astype(np.float64)
        bad.flat[0] = np.nan
        values["nan array"] = bad
    if pname in SIZES or (isinstance(default, int) and not isinstance(default, bool)):
        values.update(INVALID_SIZES)
    return values


def _drain(result):
    """A generator (the runner's executors) does its work, and its checks, on iteration: run it to the end."""
    if isinstance(result, types.GeneratorType):
        for _ in result:
            pass
    return result


def _absurd_may_pass(qual, pname) -> bool:
    return pname in NOT_ALLOCATING or f"{qual.rpartition('.')[2]}:{pname}" in NOT_ALLOCATING


@pytest.mark.parametrize("qual, pname", list(_cases()))
def test_invalid_value_is_refused_naming_the_parameter(qual, pname):
    obj = public_callables()[qual]
    call = example_call(qual, obj)
    default = inspect.signature(obj).parameters[pname].default
    failures = []
    example = inspect.signature(obj).bind_partial(*call[0], **call[1]).arguments.get(pname)
    for label, value in _invalid_values(qual, pname, default, example).items():
        args, kwargs = _substitute(obj, call, pname, value)
        try:
            with warnings.catch_warnings(), _time_limit(TIME_LIMIT):
                warnings.simplefilter("error", np.exceptions.ComplexWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", ConvergenceWarning)  # stop_at_max_iter's "warn" rule, asked for
                _drain(obj(*args, **kwargs))
        except (ValueError, TypeError) as err:
            if not re.search(rf"(?<![A-Za-z0-9_]){re.escape(pname)}(?![A-Za-z0-9_])", str(err)):
                failures.append(f"{label}: {type(err).__name__} does not name {pname!r}: {err}")
        except _Timeout as err:
            failures.append(f"{label}: {err}")
        except Exception as err:  # noqa: BLE001 - any other exception is the defect being tested for
            failures.append(f"{label}: {type(err).__name__}: {err}")
        else:
            if not (label == "absurd" and _absurd_may_pass(qual, pname)):
                failures.append(f"{label}: accepted")
    assert not failures, f"{qual}({pname}=...):\n  " + "\n  ".join(failures)


@pytest.mark.parametrize("qual", [q for q, o in public_callables().items() if has_example(q, o)])
def test_example_call_is_valid(qual):
    """The example each parameter is varied from must itself succeed (else every check above passes vacuously)."""
    obj = public_callables()[qual]
    args, kwargs = example_call(qual, obj)
    with warnings.catch_warnings(), _time_limit(TIME_LIMIT):
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        _drain(obj(*args, **kwargs))


def test_every_public_callable_has_an_example():
    missing = [q for q, o in public_callables().items()
               if not has_example(q, o) and q.rpartition(".")[2] not in NO_EXAMPLE]
    assert not missing, f"{len(missing)} public callables have no example call in tests/public_api.py:\n" + "\n".join(
        missing
    )


def test_every_public_module_has_all():
    """Each public module says what it exports (DESIGN.md); without ``__all__`` the enumeration above falls back to
    the callables the module defines, so nothing is missed, but the module's API is undeclared."""
    missing = [m.__name__ for m in public_modules() if not hasattr(m, "__all__")]
    assert not missing, f"public modules without __all__: {missing}"


def test_exemptions_name_public_callables():
    """RECORDS and NO_EXAMPLE list only names that exist (a stale exemption would hide nothing, but mislead)."""
    names = {q.rpartition(".")[2] for q in public_callables()}
    assert not (set(RECORDS) | set(NO_EXAMPLE)) - names

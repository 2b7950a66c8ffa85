"""The public API, enumerated, and one valid example call of every public callable.

Used by the common invalid-input test (test_invalid_input.py), in the style of scikit-learn's common tests: every
public function and class is found from its module's ``__all__`` (so a new one is covered as soon as it is
exported), and its parameters are filled by name from :data:`VALID`, with :data:`EXAMPLES` for calls that need
more than names can say. A callable with neither is reported by the completeness test.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import warnings

import numpy as np

import theory_rl

#: Subpackages the common test does not enumerate: the optional PyTorch backend (its own tests) and the
#: Gymnasium wrapper (an optional extra; tested in test_envs).
SKIPPED_PACKAGES = ("theory_rl.deep", "theory_rl.envs", "theory_rl.__main__")


def public_modules() -> list:
    """Every public module of theory_rl (no component starting with an underscore), imported."""
    mods = [theory_rl]
    for info in pkgutil.walk_packages(theory_rl.__path__, "theory_rl."):
        name = info.name
        if name.startswith(SKIPPED_PACKAGES) or any(p.startswith("_") for p in name.split(".")[1:]):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            mods.append(importlib.import_module(name))
    return mods


def _is_deprecated_alias(obj) -> bool:
    return bool(getattr(obj, "__deprecated_alias__", False))


@functools.cache
def public_callables() -> dict[str, object]:
    """``{qualified name: callable}``, each object once (under the module that defines it when exported there)."""
    found: dict[int, tuple[str, object]] = {}
    for mod in public_modules():
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name, None)
            if obj is None or not callable(obj) or inspect.ismodule(obj) or _is_deprecated_alias(obj):
                continue
            if isinstance(obj, type) and issubclass(obj, BaseException):
                continue  # exception classes take a message, nothing to validate
            qual = f"{mod.__name__}.{name}"
            home = getattr(obj, "__module__", "")
            if id(obj) not in found or home == mod.__name__:
                found[id(obj)] = (qual, obj)
    return dict(sorted(found.values()))


# ---------------------------------------------------------------------- valid values by parameter name
@functools.cache
def _fixtures() -> dict:
    from theory_rl import data, generators, planning
    from theory_rl.linear import random_linear_mdp

    disc = generators.garnet(S=4, A=2, branching=2, gamma=0.9, seed=0)
    epi = generators.garnet(S=4, A=2, branching=2, horizon=3, seed=0)
    lmdp = random_linear_mdp(4, 2, 3, 2, seed=0)
    mu = np.full((4, 2), 1 / 8)
    iid = data.sample_iid(disc, mu, 20, seed=1)
    pi = planning.solve(disc).policy
    return {"disc": disc, "epi": epi, "lmdp": lmdp, "mu": mu, "iid": iid, "counts": iid.to_counts(), "pi": pi}


def _f(key):
    return lambda: _fixtures()[key]


#: A valid value for a parameter, by its name (a zero-argument factory).
VALID = {
    "mdp": _f("disc"),
    "lmdp": _f("lmdp"),
    "policy": lambda: np.zeros(4, dtype=int),
    "mu": _f("mu"),
    "seed": lambda: 0,
    "n": lambda: 5,
    "n_episodes": lambda: 3,
    "n_per_pair": lambda: 2,
    "n_trials": lambda: 2,
    "S": lambda: 4,
    "A": lambda: 2,
    "d": lambda: 3,
    "H": lambda: 2,
    "horizon": lambda: 3,
    "gamma": lambda: 0.9,
    "delta": lambda: 0.1,
    "eps": lambda: 0.1,
    "c_star": lambda: 2.0,
    "gap": lambda: 0.1,
    "branching": lambda: 2,
    "data": _f("counts"),
    "V": lambda: np.zeros(4),
    "Q": lambda: np.zeros((4, 2)),
    "probs": lambda: np.full((4, 2), 0.5),
    "weight": lambda: 0.5,
    "epsilon": lambda: 0.1,
    "N": lambda: np.array([3.0, 0.0, 5.0]),
    "log_term": lambda: 2.0,
}

#: Valid calls ``(args, kwargs)`` that parameter names alone cannot build.
EXAMPLES: dict[str, object] = {
    "theory_rl.data.sample_trajectories": lambda: ((_fixtures()["epi"], np.zeros((3, 4), int), 2, 0), {}),
    "theory_rl.data.sample_trajectories_batch": lambda: ((_fixtures()["epi"], np.zeros((3, 4), int), 2, 0, 2), {}),
    "theory_rl.data.sample_transitions": lambda: ((_fixtures()["disc"], np.array([0, 1]), np.array([1, 0]), 0), {}),
    "theory_rl.data.concatenate": lambda: (([_fixtures()["iid"], _fixtures()["iid"]],), {}),
    "theory_rl.penalties.bernstein": lambda: (
        (np.array([3.0, 0.0]), np.array([0.1, 0.2]), 2.0), {"c_b": 1.0, "value_range": 10.0}
    ),
    "theory_rl.penalties.elliptical": lambda: ((np.ones((2, 3)), np.eye(3)), {"beta": 2.0}),
    "theory_rl.planning.bellman_expectation": lambda: ((_fixtures()["disc"], _fixtures()["pi"], np.zeros(4)), {}),
}


def example_call(qualname: str, obj) -> tuple[tuple, dict] | None:
    """A valid call of ``obj`` as ``(args, kwargs)``, or None when neither EXAMPLES nor VALID can build one."""
    if qualname in EXAMPLES:
        return EXAMPLES[qualname]()
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    args, kwargs = [], {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
            continue
        if p.name not in VALID:
            return None
        value = VALID[p.name]()
        if p.kind == p.KEYWORD_ONLY:
            kwargs[p.name] = value
        else:
            args.append(value)
    return tuple(args), kwargs

"""Deprecated alias of :mod:`theory_rl.coverage.o2o` (the offline-to-online coefficient joined coverage, issue 12).

``all_deterministic_policies`` is now :func:`theory_rl.linear.all_deterministic_policies`. Importing names from
here works for one release and warns with a DeprecationWarning.
"""

from __future__ import annotations

import warnings

__all__: list[str] = []

_MOVED = {
    "policy_class_summary": "theory_rl.coverage.o2o",
    "offline_covariance": "theory_rl.coverage.o2o",
    "o2o_coefficient": "theory_rl.coverage.o2o",
    "minimal_online_episodes": "theory_rl.coverage.o2o",
    "all_deterministic_policies": "theory_rl.linear",
}


def __getattr__(name: str):
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(f"theory_rl.o2o.{name} is deprecated; use {_MOVED[name]}.{name}", DeprecationWarning,
                  stacklevel=2)
    if _MOVED[name] == "theory_rl.linear":
        from theory_rl import linear

        return getattr(linear, name)
    from theory_rl.coverage import o2o

    return getattr(o2o, name)

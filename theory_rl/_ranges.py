"""The one check of a reward range ``(r_min, r_max)`` (issue 15, item 5), at the ground layer so that both the
models (:class:`~theory_rl.mdp.TabularMDP`) and the stand-alone theorem module (:mod:`theory_rl.bounds`) use it."""

from __future__ import annotations

import numpy as np

from theory_rl._validation import check_real

__all__ = ["UNIT", "check_reward_range"]

#: The unit range every bound and clipping rule of the papers assumes.
UNIT = (0.0, 1.0)


def check_reward_range(value, name: str = "reward_range") -> tuple[float, float]:
    """``value`` as a pair of finite floats ``(r_min, r_max)`` with ``r_min < r_max``, else a ValueError naming
    ``name``. Shared by :class:`~theory_rl.mdp.TabularMDP` and :mod:`theory_rl.bounds`."""
    if isinstance(value, (str, bytes)) or np.ndim(value) != 1 or len(value) != 2:
        raise ValueError(f"{name} is {value!r}, expected a pair (r_min, r_max)")
    low, high = check_real(value[0], f"{name}[0]"), check_real(value[1], f"{name}[1]")
    if not low < high:
        raise ValueError(f"{name} is ({low!r}, {high!r}), expected r_min < r_max")
    return (low, high)

"""Deprecated alias of :mod:`theory_rl.generators.concentrability` (the name shadowed :mod:`theory_rl.algorithms.lcb`).

Importing it warns with a DeprecationWarning; every name of :mod:`theory_rl.generators.concentrability` is
re-exported unchanged. Kept for one release.
"""

import warnings

from theory_rl.generators.concentrability import *  # noqa: F403
from theory_rl.generators.concentrability import __all__  # noqa: F401

warnings.warn(
    "theory_rl.generators.lcb is deprecated; use theory_rl.generators.concentrability",
    DeprecationWarning,
    stacklevel=2,
)

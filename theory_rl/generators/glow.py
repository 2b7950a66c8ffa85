"""Deprecated alias of :mod:`theory_rl.generators.coverability` (renamed so that it no longer shadows
:mod:`theory_rl.algorithms.glow`). Importing it warns with a DeprecationWarning; it goes in the next release."""

import warnings

from theory_rl.generators.coverability import (
    DecoyInstance,
    IncompleteInstance,
    block_mdp,
    coverability_family,
    incomplete_fqi_instance,
)

__all__ = ["DecoyInstance", "IncompleteInstance", "block_mdp", "coverability_family", "incomplete_fqi_instance"]

warnings.warn(
    "theory_rl.generators.glow is deprecated; import theory_rl.generators.coverability instead",
    DeprecationWarning,
    stacklevel=2,
)

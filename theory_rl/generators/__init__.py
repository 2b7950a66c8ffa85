"""Seeded random and structured MDPs and bandits, and the papers' hard instances.

- :mod:`theory_rl.generators.basic`: Garnet, RiverSwim, gridworld, combination lock, the gambler's problem, random
  bandits (re-exported here).
- :mod:`theory_rl.generators.concentrability`: the instances of Rashidinejad et al. (2021), parameterised by the
  single-policy concentrability C*, each with its data distribution (``theory_rl.generators.lcb`` is its
  deprecated alias).
- :mod:`theory_rl.generators.glow`: controlled-coverability and Block MDP families for GLOW (Amortila et al. 2024).
"""

import importlib

from theory_rl.generators import concentrability, glow
from theory_rl.generators.basic import (
    GRID_MOVES,
    combination_lock,
    gamblers_problem,
    garnet,
    gridworld,
    random_bandit,
    random_contextual_bandit,
    river_swim,
)

__all__ = [
    "GRID_MOVES",
    "combination_lock",
    "concentrability",
    "gamblers_problem",
    "garnet",
    "glow",
    "gridworld",
    "random_bandit",
    "random_contextual_bandit",
    "river_swim",
]


def __getattr__(name):
    # ``generators.lcb`` (deprecated) is imported on first use only, so that importing the package does not warn.
    if name == "lcb":
        return importlib.import_module("theory_rl.generators.lcb")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

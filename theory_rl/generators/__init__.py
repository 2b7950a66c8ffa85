"""Seeded random and structured MDPs and bandits, and the papers' hard instances.

- :mod:`theory_rl.generators.basic`: Garnet, RiverSwim, gridworld, combination lock, the gambler's problem, random
  bandits (re-exported here).
- :mod:`theory_rl.generators.lcb`: the instances of Rashidinejad et al. (2021), each with its data distribution.
"""

from theory_rl.generators import lcb
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
    "gamblers_problem",
    "garnet",
    "gridworld",
    "lcb",
    "random_bandit",
    "random_contextual_bandit",
    "river_swim",
]

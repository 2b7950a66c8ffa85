"""Seeded random and structured MDPs and bandits, and the papers' hard instances.

- :mod:`theory_rl.generators.basic`: Garnet, RiverSwim, gridworld, combination lock, the gambler's problem, random
  bandits (re-exported here). RiverSwim, the gridworld and the combination lock take ``sparse=``: CSR transitions
  built in time linear in the non-zeros by :mod:`theory_rl.generators.csr`, chosen automatically when large.
- :mod:`theory_rl.generators.concentrability`: the instances of Rashidinejad et al. (2021), parameterised by the
  single-policy concentrability C*, each with its data distribution (``theory_rl.generators.lcb`` is its
  deprecated alias).
- :mod:`theory_rl.generators.coverability`: controlled-coverability and Block MDP families for GLOW (Amortila et
  al. 2024; ``theory_rl.generators.glow`` is its deprecated alias).
- :mod:`theory_rl.generators.linear`: linear-MDP families (random, the coverage and hybrid families of the FTPedel
  experiments; formerly in ``theory_rl.linear``).
- :mod:`theory_rl.generators.realism`: the NeoRL-2 / D5RL realism-knobs control task (delay, exogenous factor,
  safety cost, scripted / play data).
- :mod:`theory_rl.generators.symmetric`: the torus gridworld and its translations (GuDA, Corrado et al. 2024).
- :mod:`theory_rl.generators.completeness`: a linear MDP with a Bellman-completeness misspecification knob (the
  HNPG robustness experiment, Zhou et al. 2023).
- :mod:`theory_rl.generators.sim2real`: a real MDP and a simulator with a controlled dynamics gap (the bridge
  gridworld and the global-gap family of the H2O experiments, Niu et al. 2022).
"""

import importlib

from theory_rl.generators import completeness, concentrability, coverability, linear, realism, sim2real, symmetric
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
    "completeness",
    "concentrability",
    "coverability",
    "gamblers_problem",
    "garnet",
    "gridworld",
    "linear",
    "random_bandit",
    "random_contextual_bandit",
    "realism",
    "river_swim",
    "sim2real",
    "symmetric",
]


#: Deprecated module aliases, imported on first use only so that importing the package does not warn.
_DEPRECATED_MODULES = {"lcb": "concentrability", "glow": "coverability"}


def __getattr__(name):
    if name in _DEPRECATED_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

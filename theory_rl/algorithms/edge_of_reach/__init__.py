"""The edge-of-reach problem in offline model-based RL, exactly, on tabular MDPs.

Sims, Lu, Foerster, Teh (2024), "The Edge-of-Reach Problem in Offline Model-Based Reinforcement Learning",
NeurIPS 2024, arXiv 2402.12527.

- :func:`reach_sets` -- ``R_t``, within-reach ``W_k``, edge-of-reach ``E_k`` (Definition 1).
- :func:`truncated_fqi` -- truncated-rollout fitted Q-iteration in support or sampled (MBPO-style) mode, variants
  Base, OraclePatch, the RAVL analogue, truncation-as-terminal and long rollouts (Sections 3-5).
- :func:`boundary_value_q` -- the boundary-value Bellman solve that is Base's fixed point (Proposition 1).
- :func:`count_model`, :func:`interpolate_models`, :func:`random_model`, :func:`disagreement_penalty` -- learned
  models interpolated toward the true dynamics with a MOPO-style penalty (Figure 1).
- :func:`two_state_example`, :func:`linear_fqi` -- linear FQI diverging for ``gamma > 1/2``.
"""

from theory_rl.algorithms.edge_of_reach._fqi import (
    MODES,
    VARIANTS,
    EdgeOfReachResult,
    boundary_value_q,
    truncated_fqi,
    void_values,
)
from theory_rl.algorithms.edge_of_reach._linear import linear_fqi, two_state_example
from theory_rl.algorithms.edge_of_reach._models import (
    STAY_GRID_MOVES,
    count_model,
    disagreement_penalty,
    interpolate_models,
    random_model,
    shortest_path_states,
    stay_gridworld,
)
from theory_rl.algorithms.edge_of_reach._reach import ReachSets, reach_diameter, reach_distances, reach_sets

__all__ = [
    "MODES",
    "VARIANTS",
    "STAY_GRID_MOVES",
    "EdgeOfReachResult",
    "ReachSets",
    "boundary_value_q",
    "count_model",
    "disagreement_penalty",
    "interpolate_models",
    "linear_fqi",
    "random_model",
    "reach_diameter",
    "reach_distances",
    "reach_sets",
    "shortest_path_states",
    "stay_gridworld",
    "truncated_fqi",
    "two_state_example",
    "void_values",
]

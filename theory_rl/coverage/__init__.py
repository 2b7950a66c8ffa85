"""Coverage coefficients: density ratios, concentrability, coverability and the offline-to-online coefficient.

- :mod:`theory_rl.coverage.density`: data distributions over pairs, density ratios ``d^pi / mu``;
- :mod:`theory_rl.coverage.concentration`: single-policy (Rashidinejad et al. 2021, Def. 1), all-policy and
  clipped (Amortila et al. 2024) concentrability;
- :mod:`theory_rl.coverage.reachability`: maximal reachability and coverability (Xie et al. 2023, Def. 2);
- :mod:`theory_rl.coverage.o2o`: the offline-to-online coefficient of Wagenmaker & Pacchiano (2023) on linear
  MDPs (formerly ``theory_rl.o2o``, kept as a deprecated alias module).
"""

from theory_rl.coverage.concentration import all_policy_concentrability, clipped_concentrability, concentrability
from theory_rl.coverage.density import as_distribution, density_ratio, max_ratio, occupancy_ratio
from theory_rl.coverage.o2o import minimal_online_episodes, o2o_coefficient, offline_covariance, policy_class_summary
from theory_rl.coverage.reachability import Coverability, coverability, max_reachability

__all__ = [
    "as_distribution",
    "density_ratio",
    "occupancy_ratio",
    "max_ratio",
    "concentrability",
    "all_policy_concentrability",
    "clipped_concentrability",
    "max_reachability",
    "Coverability",
    "coverability",
    "policy_class_summary",
    "offline_covariance",
    "o2o_coefficient",
    "minimal_online_episodes",
]


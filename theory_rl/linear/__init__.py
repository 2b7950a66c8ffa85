"""Finite-horizon linear MDPs (Jin, Yang, Wang & Jordan 2020, Assumption A; Yang & Wang 2019).

A linear MDP has known features ``phi_h(s, a) in R^d`` and unknown measures and reward parameters with
``P_h(s' | s, a) = <phi_h(s, a), mu_h(s')>`` and ``r_h(s, a) = <phi_h(s, a), theta_h>``.

- :mod:`theory_rl.linear.model`: :class:`LinearMDP` (exact tabular form, one-hot round trip);
- :mod:`theory_rl.linear.counts`: :class:`Counts`, data as sufficient statistics;
- :mod:`theory_rl.linear.sampling`: episodes, direct count samplers, designed (generative) offline data;
- :mod:`theory_rl.linear.policies`: policy features and covariances, the deterministic policy class, best
  responses and the occupancy polytope, shared by :mod:`theory_rl.coverage.o2o` and
  :mod:`theory_rl.algorithms.ftpedel`.

The instance families (``random_linear_mdp``, ``coverage_family``, ``hybrid_family``) are in
:mod:`theory_rl.generators.linear`; their old names here, and ``sample_transitions`` (now
:func:`sample_generative_counts`), are deprecated aliases kept for one release.
"""

from __future__ import annotations

import warnings

from theory_rl.linear.counts import Counts
from theory_rl.linear.model import LinearMDP
from theory_rl.linear.policies import (
    all_deterministic_policies,
    best_response,
    occupancy_polytope,
    policy_covariances,
    policy_features,
)
from theory_rl.linear.sampling import (
    sample_episodes,
    sample_generative_counts,
    sample_policy_counts,
    sample_rewards,
)

__all__ = [
    "LinearMDP",
    "Counts",
    "sample_rewards",
    "sample_episodes",
    "sample_generative_counts",
    "sample_policy_counts",
    "all_deterministic_policies",
    "policy_features",
    "policy_covariances",
    "best_response",
    "occupancy_polytope",
]

#: Deprecated names (issue 12) -> (module, new name); removed after one release.
_DEPRECATED = {
    "random_linear_mdp": ("theory_rl.generators.linear", "random_linear_mdp"),
    "coverage_family": ("theory_rl.generators.linear", "coverage_family"),
    "hybrid_family": ("theory_rl.generators.linear", "hybrid_family"),
    "sample_transitions": ("theory_rl.linear", "sample_generative_counts"),
}


def __getattr__(name: str):
    if name not in _DEPRECATED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, new = _DEPRECATED[name]
    warnings.warn(f"theory_rl.linear.{name} is deprecated; use {module}.{new}", DeprecationWarning, stacklevel=2)
    if module == "theory_rl.generators.linear":
        # The one upward import of this package, for the deprecated aliases only (ignored by name in the
        # import-linter contracts of pyproject.toml; both go when the aliases go).
        from theory_rl.generators import linear as generators_linear

        return getattr(generators_linear, new)
    return sample_generative_counts

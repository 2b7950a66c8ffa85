"""Finite-horizon linear MDPs (Jin, Yang, Wang & Jordan 2020, Assumption A; Yang & Wang 2019).

A linear MDP has known features ``phi_h(s, a) in R^d`` and unknown measures and reward parameters with
``P_h(s' | s, a) = <phi_h(s, a), mu_h(s')>`` and ``r_h(s, a) = <phi_h(s, a), theta_h>``.

- :mod:`theory_rl.linear.model`: :class:`LinearMDP` (exact tabular form, one-hot round trip);
- :mod:`theory_rl.linear.factored`: :class:`FactoredLinearMDP`, the same model stored by its factors
  ``(phi, mu, theta)`` only (memory independent of ``S^2``; issue 15), and ``LINEAR_MODELS``, the two forms;
- :mod:`theory_rl.linear.backup`: exact backward induction and policy evaluation through the factorisation
  (:func:`linear_backward_induction`, :func:`linear_evaluate`, :func:`linear_weights`), O(H S A d);
- :mod:`theory_rl.linear.latent`: :class:`LatentSampler`, episodes of a factored model with non-negative factors
  (latent index from ``phi``, next state from an alias table of ``mu``), numba;
- :mod:`theory_rl.linear.counts`: :func:`feature_covariance` of count data (the data themselves are the ONE
  counts record :class:`theory_rl.data.CountDataset`, drawn by the samplers of :mod:`theory_rl.data`, which accept
  a LinearMDP: ``sample_rollouts``, ``sample_policy_counts``, ``sample_generative``, ``sample_rewards``);
- :mod:`theory_rl.linear.policies`: policy features and covariances, the deterministic policy class, best
  responses and the occupancy polytope, shared by :mod:`theory_rl.coverage.o2o` and
  :mod:`theory_rl.algorithms.ftpedel`.

The instance families (``random_linear_mdp``, ``coverage_family``, ``hybrid_family``) are in
:mod:`theory_rl.generators.linear`. Deprecated aliases kept for one release (they warn on access): the families'
old names here; ``Counts`` (builds a CountDataset); ``sample_episodes``, ``sample_policy_counts``,
``sample_generative_counts`` (formerly ``sample_transitions``) and ``sample_rewards``, now the samplers of
:mod:`theory_rl.data` (module :mod:`theory_rl.linear.sampling` is deprecated with them).
"""

from __future__ import annotations

import warnings

from theory_rl.linear.backup import linear_backward_induction, linear_evaluate, linear_weights
from theory_rl.linear.counts import feature_covariance
from theory_rl.linear.factored import LINEAR_MODELS, FactoredLinearMDP
from theory_rl.linear.latent import LatentSampler
from theory_rl.linear.model import LinearMDP
from theory_rl.linear.policies import (
    all_deterministic_policies,
    best_response,
    occupancy_polytope,
    policy_covariances,
    policy_features,
)

__all__ = [
    "LinearMDP",
    "FactoredLinearMDP",
    "LINEAR_MODELS",
    "LatentSampler",
    "linear_backward_induction",
    "linear_evaluate",
    "linear_weights",
    "feature_covariance",
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
    "sample_transitions": ("theory_rl.data", "sample_generative"),
    "Counts": ("theory_rl.data", "CountDataset"),
    "sample_episodes": ("theory_rl.data", "sample_rollouts"),
    "sample_policy_counts": ("theory_rl.data", "sample_policy_counts"),
    "sample_generative_counts": ("theory_rl.data", "sample_generative"),
    "sample_rewards": ("theory_rl.data", "sample_rewards"),
}


def __getattr__(name: str):
    if name not in _DEPRECATED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, new = _DEPRECATED[name]
    warnings.warn(f"theory_rl.linear.{name} is deprecated; use {module}.{new}", DeprecationWarning, stacklevel=2)
    if module == "theory_rl.generators.linear":
        # An upward import, for the deprecated aliases only (ignored by name in the import-linter contracts of
        # pyproject.toml, as is linear._deprecated -> data; all go when the aliases go).
        from theory_rl.generators import linear as generators_linear

        return getattr(generators_linear, new)
    from theory_rl.linear import _deprecated  # old signatures on the data layer's samplers

    return getattr(_deprecated, "sample_generative_counts" if name == "sample_transitions" else name)

"""Concentrability coefficients: single-policy, all-policy and clipped.

- Single-policy concentrability (Rashidinejad et al. 2021, Def. 1): ``C*(pi) = max_{h,s,a} d_h^pi(s,a)/mu_h(s,a)``.
- All-policy concentrability: ``max_pi C*(pi) = max_{h,s,a} R_h(s,a)/mu_h(s,a)`` with the maximal reachability
  ``R_h(s,a) = max_pi d_h^pi(s,a)`` (:func:`theory_rl.coverage.reachability.max_reachability`).
- Clipped concentrability (Amortila et al. 2024): ``CC_h = E_{d_h^pi}[min(d_h^pi/mu_h, g)]``.

Data distributions follow the conventions of :mod:`theory_rl.coverage.density`.
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import Boolean, Instance, Real, validate_params
from theory_rl.coverage.density import as_distribution, max_ratio, occupancy_ratio
from theory_rl.coverage.reachability import max_reachability
from theory_rl.mdp import TabularMDP
from theory_rl.planning import occupancy

__all__ = ["concentrability", "all_policy_concentrability", "clipped_concentrability"]


@validate_params(mdp=Instance(TabularMDP), allow_infinite=Boolean())
def concentrability(mdp: TabularMDP, policy, mu, *, allow_infinite: bool = False) -> float:
    """Single-policy concentrability ``C*(pi) = max_{h,s,a} d_h^pi(s,a) / mu_h(s,a)``.

    Rashidinejad et al. (2021), Definition 1 (with ``pi = pi*``); per step for a finite horizon.

    Parameters
    ----------
    mdp : TabularMDP
    policy : array_like
        Actions ``(S,)`` / ``(H, S)`` or probabilities ``(S, A)`` / ``(H, S, A)``.
    mu : array_like
        Data distribution, ``(S, A)`` or ``(H, S, A)`` (see the module docstring).
    allow_infinite : bool, default False
        Return inf when ``mu`` misses a pair that ``pi`` visits, instead of raising.

    Raises
    ------
    ValueError
        When ``mu`` is not a distribution, or does not cover ``policy`` (unless ``allow_infinite``).
    """
    mu = as_distribution(mdp, mu)
    return max_ratio(occupancy(mdp, policy), mu, "the policy", allow_infinite)


@validate_params(mdp=Instance(TabularMDP), allow_infinite=Boolean())
def all_policy_concentrability(mdp: TabularMDP, mu, *, allow_infinite: bool = False) -> float:
    """All-policy concentrability ``max_pi max_{h,s,a} d_h^pi(s,a)/mu_h(s,a) = max R_h(s,a)/mu_h(s,a)``.

    The maximum over all (non-stationary, history-independent) policies is attained pair by pair by the policy
    maximising the reachability of that pair, :func:`max_reachability`. It is always ``>= C_cov``.
    """
    mu = as_distribution(mdp, mu)
    return max_ratio(max_reachability(mdp), mu, "every policy", allow_infinite)


@validate_params(mdp=Instance(TabularMDP), clip=Real(0.0, closed="neither"))
def clipped_concentrability(mdp: TabularMDP, policy, mu, clip: float) -> np.ndarray | float:
    """Clipped concentrability ``CC_h = E_{d_h^pi}[min(d_h^pi / mu_h, g)]`` with clip level ``g = clip``.

    Amortila et al. (2024), the clipped coefficient of GLOW's analysis (digest ``papers/glow.md``). Pairs that
    ``mu`` misses contribute ``g``. Returns an array ``(H,)`` (finite horizon) or a float (discounted).
    """
    mu = as_distribution(mdp, mu)
    d = occupancy(mdp, policy)
    ratio = np.minimum(occupancy_ratio(d, mu), clip)
    cc = (d * ratio).sum(axis=(-2, -1))
    return float(cc) if mdp.is_discounted else cc

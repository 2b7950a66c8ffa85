"""Data distributions over state-action pairs and density ratios ``d^pi / mu``.

Conventions. A data distribution ``mu`` over state-action pairs has shape ``(S, A)`` (discounted MDP, summing
to one) or ``(H, S, A)`` (finite horizon, one distribution ``mu_h`` per step; an ``(S, A)`` array is used at every
step). Occupancies are those of :func:`theory_rl.planning.occupancy`: the normalised discounted ``d^pi`` or the
per-step ``d_h^pi``. Every coverage coefficient (Rashidinejad et al. 2021, Def. 1; Xie et al. 2023, Def. 2;
Amortila et al. 2024) is a maximum or an expectation of these ratios.
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import (
    PROB_TOL,
    Instance,
    String,
    as_float_array,
    check_bool,
    check_distributions,
    check_range,
    check_shape,
    check_str,
    validate_params,
)
from theory_rl.feasibility import check_feasible_policy
from theory_rl.mdp import TabularMDP
from theory_rl.planning import occupancy

__all__ = ["as_distribution", "density_ratio", "occupancy_ratio", "max_ratio"]


@validate_params(mdp=Instance(TabularMDP), name=String())
def as_distribution(mdp: TabularMDP, mu, name: str = "mu") -> np.ndarray:
    """Validate a data distribution over pairs and shape it for ``mdp``: ``(S, A)`` or ``(H, S, A)``.

    Raises
    ------
    ValueError
        For a wrong shape, a negative entry, a (per-step) total different from one, or mass on a pair that
        ``mdp.feasible`` marks infeasible.
    """
    S, A = mdp.S, mdp.A
    mu = as_float_array(mu, name, ndim=(2, 3))
    if mdp.is_discounted:
        check_shape(mu, name, (S, A))
    elif mu.ndim == 2:
        check_shape(mu, name, (S, A))
        mu = np.broadcast_to(mu, (mdp.horizon, S, A))
    else:
        check_shape(mu, name, (mdp.horizon, S, A))
    check_range(mu, name, 0.0, 1.0)
    flat = mu.reshape(-1, S * A) if mu.ndim == 3 else mu.reshape(S * A)
    check_distributions(flat, name if mu.ndim == 2 else f"{name} (per step h)", tol=PROB_TOL * max(1, S * A))
    if getattr(mdp, "feasible", None) is not None:  # issue 15: no data on an infeasible pair
        check_feasible_policy(mdp, mu, name)
    return np.array(mu)


@validate_params(mdp=Instance(TabularMDP))
def density_ratio(mdp: TabularMDP, policy, mu) -> np.ndarray:
    """The density ratio ``d^pi / mu`` (shape of ``mu`` for ``mdp``); 0 where ``d^pi = 0``, inf where only
    ``mu = 0``."""
    mu = as_distribution(mdp, mu)
    return occupancy_ratio(occupancy(mdp, policy), mu)


def occupancy_ratio(d, mu) -> np.ndarray:
    """The ratio ``d / mu`` of an occupancy and a data distribution (broadcast): 0 where ``d = 0``, ``inf`` where
    only ``mu = 0`` (entries ``<= 0`` count as zero: occupancies carry round-off of order 1e-18). Both must be
    finite arrays of probabilities (``mu`` validated, e.g., by :func:`as_distribution`)."""
    d, mu = as_float_array(d, "d"), as_float_array(mu, "mu")
    check_range(d, "d", -PROB_TOL, 1.0 + PROB_TOL)  # probabilities, up to round-off
    check_range(mu, "mu", 0.0, 1.0 + PROB_TOL)
    try:
        shape = np.broadcast_shapes(d.shape, mu.shape)
    except ValueError:
        raise ValueError(f"d has shape {d.shape} and mu {mu.shape}, expected broadcastable shapes") from None
    out = np.zeros(shape)
    d, mu = np.broadcast_to(d, out.shape), np.broadcast_to(mu, out.shape)
    pos = d > 0
    covered = pos & (mu > 0)
    out[covered] = d[covered] / mu[covered]
    out[pos & ~covered] = np.inf
    return out


def max_ratio(d, mu, what: str = "the policy", allow_infinite: bool = False) -> float:
    """``max d / mu`` over the entries (0 for empty arrays): the concentrability of the occupancy ``d``.

    Parameters
    ----------
    d, mu : array_like
        An occupancy (``(S, A)`` or ``(H, S, A)``) and a data distribution of a broadcastable shape.
    what : str
        What ``d`` is the occupancy of, for the error message (``"the policy"``, ``"every policy"``).
    allow_infinite : bool, default False
        Return inf when ``mu`` misses a pair that ``d`` visits, instead of raising ValueError naming the pair.
    """
    what = check_str(what, "what")  # plain checks: called once per policy by the coverage coefficients
    allow_infinite = check_bool(allow_infinite, "allow_infinite")
    ratio = occupancy_ratio(d, mu)
    d = np.broadcast_to(np.asarray(d, dtype=np.float64), ratio.shape)
    if not allow_infinite and np.isinf(ratio).any():
        idx = tuple(int(i) for i in np.argwhere(np.isinf(ratio))[0])
        label = "(h, s, a)" if len(idx) == 3 else "(s, a)"
        raise ValueError(
            f"mu does not cover {what}: it visits {label} = {idx} with probability {d[idx]:.6g} but mu{list(idx)} = 0 "
            "(pass allow_infinite=True to get inf instead)"
        )
    return float(ratio.max()) if ratio.size else 0.0

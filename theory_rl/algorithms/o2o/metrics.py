"""Exact per-step metrics of an offline-to-online run (digest WP-C, "common harness").

- :func:`td_error` -- the expected squared TD error of a Q-table's greedy backup under a state-action distribution
  (with ``mu`` the offline data distribution: the diagnostic of Zhou et al. 2025, WSRL, Sec. 4);
- :func:`initial_dip` -- ``max(0, J(pi_off) - min_{t <= T0} J(pi_t))``;
- :func:`steps_to_threshold` -- the first environment step at which ``J(pi_t)`` reaches a threshold.

All three are computed from exact quantities (true model, exact returns), never from samples.
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import (
    Instance,
    as_float_array,
    check_distributions,
    check_int,
    check_real,
    check_shape,
    validate_params,
)
from theory_rl.mdp import TabularMDP

__all__ = ["td_error", "initial_dip", "steps_to_threshold"]


@validate_params(mdp=Instance(TabularMDP, episodic=False))
def td_error(mdp: TabularMDP, Q, mu) -> float:
    """``E_{(s, a) ~ mu} [(Q(s, a) - r(s, a) - gamma E_{s'} Q(s', pi_Q(s')))^2]`` with the true model.

    ``pi_Q`` is greedy in ``Q`` (lowest index among ties). The inner expectation over ``s'`` is exact, so this is
    the squared Bellman residual of the greedy backup, weighted by ``mu``: WSRL's "TD error of the online policy
    on the offline distribution" (Zhou et al. 2025, Sec. 4) without sampling noise.

    Parameters
    ----------
    mdp : TabularMDP
        Discounted.
    Q : array_like, shape (S, A)
    mu : array_like, shape (S, A)
        A distribution over pairs (e.g. the normalised offline counts).

    Returns
    -------
    float
    """
    Q = as_float_array(Q, "Q", shape=(mdp.S, mdp.A))
    mu = as_float_array(mu, "mu", shape=(mdp.S, mdp.A))
    check_distributions(mu.reshape(1, -1), "mu")
    V = Q.max(axis=1)
    resid = Q - mdp.R - mdp.gamma * (mdp.P @ V)
    return float(np.sum(mu * resid**2))


def initial_dip(J_offline: float, J_eval, window: int | None = None) -> float:
    """The dip ``max(0, J_offline - min_{t < window} J_eval[t])`` (digest WP-C; Zhou et al. 2025, Fig. 1).

    Parameters
    ----------
    J_offline : float
        Return of the offline policy.
    J_eval : array_like, shape (T,)
        Returns of the evaluation policy after each online round.
    window : int, optional
        The first ``window`` rounds (``T0``); all by default.

    Returns
    -------
    float
        ``>= 0``; 0 when no evaluation policy falls below the offline one.
    """
    J_offline = check_real(J_offline, "J_offline")
    J = as_float_array(J_eval, "J_eval", ndim=1)
    if J.size == 0:
        raise ValueError("J_eval is empty, expected at least one round")
    if window is not None:
        window = check_int(window, "window", low=1)
        J = J[:window]
    return float(max(0.0, J_offline - J.min()))


def steps_to_threshold(steps, J_eval, threshold: float) -> float:
    """The first ``steps[t]`` with ``J_eval[t] >= threshold``; ``inf`` if never reached.

    Parameters
    ----------
    steps : array_like, shape (T,)
        Environment steps (warm-up included) at each evaluation, non-decreasing.
    J_eval : array_like, shape (T,)
    threshold : float

    Returns
    -------
    float
    """
    steps = as_float_array(steps, "steps", ndim=1)
    J = as_float_array(J_eval, "J_eval", ndim=1)
    check_shape(J, "J_eval", steps.shape)
    threshold = check_real(threshold, "threshold")
    if np.any(np.diff(steps) < 0):
        raise ValueError("steps is not non-decreasing")
    hit = np.flatnonzero(J >= threshold)
    return float(steps[hit[0]]) if hit.size else float("inf")

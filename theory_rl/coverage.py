"""Coverage coefficients: density ratios, concentrability, coverability, clipped concentrability.

Conventions. A data distribution ``mu`` over state-action pairs has shape ``(S, A)`` (discounted MDP, summing
to one) or ``(H, S, A)`` (finite horizon, one distribution ``mu_h`` per step; an ``(S, A)`` array is used at every
step). Occupancies are those of :func:`theory_rl.planning.occupancy`: the normalised discounted ``d^pi`` or the
per-step ``d_h^pi``.

- Single-policy concentrability (Rashidinejad et al. 2021, Def. 1): ``C*(pi) = max_{h,s,a} d_h^pi(s,a)/mu_h(s,a)``.
- All-policy concentrability: ``max_pi C*(pi) = max_{h,s,a} R_h(s,a)/mu_h(s,a)`` with the maximal reachability
  ``R_h(s,a) = max_pi d_h^pi(s,a)``.
- Coverability (Xie et al. 2023, "The Role of Coverage in Online RL", Def. 2; Amortila et al. 2024):
  ``C_cov = inf_mu max_{pi,h} ||d_h^pi/mu_h||_inf = max_h sum_{s,a} R_h(s,a)``, attained by
  ``mu_h = R_h / sum R_h``. For a finite class the maximum over the class replaces the maximum over all policies.
- Clipped concentrability (Amortila et al. 2024): ``CC_h = E_{d_h^pi}[min(d_h^pi/mu_h, g)]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._validation import PROB_TOL, as_float_array, check_distributions, check_range, check_shape
from theory_rl.mdp import TabularMDP
from theory_rl.planning import occupancy, policy_iteration

__all__ = [
    "as_distribution",
    "density_ratio",
    "concentrability",
    "all_policy_concentrability",
    "max_reachability",
    "Coverability",
    "coverability",
    "clipped_concentrability",
]


def _check_mdp(mdp) -> TabularMDP:
    if not isinstance(mdp, TabularMDP):
        raise ValueError(f"expected a TabularMDP (or bandit), got {type(mdp).__name__}")
    return mdp


def as_distribution(mdp: TabularMDP, mu, name: str = "mu") -> np.ndarray:
    """Validate a data distribution over pairs and shape it for ``mdp``: ``(S, A)`` or ``(H, S, A)``.

    Raises
    ------
    ValueError
        For a wrong shape, a negative entry, or a (per-step) total different from one.
    """
    mdp = _check_mdp(mdp)
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
    return np.array(mu)


def density_ratio(mdp: TabularMDP, policy, mu) -> np.ndarray:
    """The density ratio ``d^pi / mu`` (shape of ``mu`` for ``mdp``); 0 where ``d^pi = 0``, inf where only
    ``mu = 0``."""
    mu = as_distribution(mdp, mu)
    return _ratio(occupancy(mdp, policy), mu)


def _ratio(d: np.ndarray, mu: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast_shapes(d.shape, mu.shape))
    d, mu = np.broadcast_to(d, out.shape), np.broadcast_to(mu, out.shape)
    pos = d > 0
    covered = pos & (mu > 0)
    out[covered] = d[covered] / mu[covered]
    out[pos & ~covered] = np.inf
    return out


def _max_ratio(d: np.ndarray, mu: np.ndarray, what: str, allow_infinite: bool) -> float:
    ratio = _ratio(d, mu)
    if not allow_infinite and np.isinf(ratio).any():
        idx = tuple(int(i) for i in np.argwhere(np.isinf(ratio))[0])
        label = "(h, s, a)" if len(idx) == 3 else "(s, a)"
        raise ValueError(
            f"mu does not cover {what}: it visits {label} = {idx} with probability {d[idx]:.6g} but mu{list(idx)} = 0 "
            "(pass allow_infinite=True to get inf instead)"
        )
    return float(ratio.max()) if ratio.size else 0.0


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
    return _max_ratio(occupancy(mdp, policy), mu, "the policy", allow_infinite)


def all_policy_concentrability(mdp: TabularMDP, mu, *, allow_infinite: bool = False) -> float:
    """All-policy concentrability ``max_pi max_{h,s,a} d_h^pi(s,a)/mu_h(s,a) = max R_h(s,a)/mu_h(s,a)``.

    The maximum over all (non-stationary, history-independent) policies is attained pair by pair by the policy
    maximising the reachability of that pair, :func:`max_reachability`. It is always ``>= C_cov``.
    """
    mu = as_distribution(mdp, mu)
    return _max_ratio(max_reachability(mdp), mu, "every policy", allow_infinite)


def max_reachability(mdp: TabularMDP) -> np.ndarray:
    """``R_h(s, a) = max_pi d_h^pi(s, a)`` over all policies: ``(S, A)`` (discounted) or ``(H, S, A)``.

    Finite horizon: ``R_h(s, a) = max_pi Pr(s_h = s)`` (the action at step h is free), computed for all targets
    ``s`` of step ``h`` at once by backward dynamic programming ``W_t(x, s) = max_a sum_x' P_t(x'|x, a)
    W_{t+1}(x', s)`` from ``W_h = I``, then ``R_h(s) = rho^T W_0(., s)``: one ``(S*A, S) @ (S, S)`` product per
    step, ``O(H^2 S^3 A)`` in all.

    Discounted: ``R(s, a) = (1 - gamma) max_pi E_rho[sum_t gamma^t 1{s_t = s, a_t = a}]``, the optimal value of
    the indicator reward of ``(s, a)``, solved exactly by policy iteration for each of the ``S*A`` targets.
    """
    mdp = _check_mdp(mdp)
    S, A = mdp.S, mdp.A
    if mdp.is_discounted:
        out = np.empty((S, A))
        for s in range(S):
            for a in range(A):
                reward = np.zeros((S, A))
                reward[s, a] = 1.0
                target = TabularMDP(mdp.P, reward, mdp.init, gamma=mdp.gamma, reward_noise="deterministic")
                V = policy_iteration(target).V
                out[s, a] = (1.0 - mdp.gamma) * float(mdp.init @ V)
        return np.minimum(out, 1.0)
    H = mdp.horizon
    reach = np.empty((H, S))
    for h in range(H):
        W = np.eye(S)
        for t in range(h - 1, -1, -1):
            W = (mdp.P_at(t).reshape(S * A, S) @ W).reshape(S, A, S).max(axis=1)
        reach[h] = mdp.init @ W
    return np.broadcast_to(np.clip(reach, 0.0, 1.0)[:, :, None], (H, S, A)).copy()


@dataclass(frozen=True)
class Coverability:
    """Coverability of an MDP (and policy class) with the distribution that attains it.

    Attributes
    ----------
    value : float
        ``C_cov = max_h sum_{s,a} R_h(s,a)`` (discounted: ``sum_{s,a} R(s,a)``).
    per_step : numpy.ndarray
        ``C_cov,h = sum_{s,a} R_h(s,a)``, shape ``(H,)`` (discounted: shape ``(1,)``).
    mu : numpy.ndarray
        The optimal data distribution ``mu_h = R_h / sum R_h``, ``(S, A)`` or ``(H, S, A)``.
    reachability : numpy.ndarray
        ``R_h(s, a) = max_{pi in class} d_h^pi(s, a)``, same shape as ``mu``.
    """

    value: float
    per_step: np.ndarray
    mu: np.ndarray
    reachability: np.ndarray


def coverability(mdp: TabularMDP, policies=None) -> Coverability:
    """Coverability ``C_cov = inf_mu sup_{pi in Pi, h} ||d_h^pi / mu_h||_inf`` in closed form.

    Xie et al. (2023), Definition 2 and its closed form ``C_cov = max_h sum_{s,a} sup_{pi in Pi} d_h^pi(s,a)``
    (their Sec. 3, the digest in ``papers/glow.md``): for each step the infimum over ``mu_h`` of
    ``max R_h/mu_h`` is ``sum R_h``, attained by ``mu_h`` proportional to ``R_h``.

    Parameters
    ----------
    mdp : TabularMDP
    policies : sequence of policies, optional
        A finite class (each in any policy form), maximised by enumeration. By default the class of all
        policies, through :func:`max_reachability`; then ``C_cov = A max_h sum_s max_pi Pr(s_h = s)`` in the
        finite-horizon case, and always ``C_cov <= S A``.

    Returns
    -------
    Coverability
    """
    mdp = _check_mdp(mdp)
    if policies is None:
        reach = max_reachability(mdp)
    else:
        policies = list(policies)
        if not policies:
            raise ValueError("policies is empty; pass at least one policy or None for all policies")
        reach = np.max([occupancy(mdp, pi) for pi in policies], axis=0)
    stacked = reach if reach.ndim == 3 else reach[None]
    per_step = stacked.sum(axis=(1, 2))
    mu = stacked / np.where(per_step > 0, per_step, 1.0)[:, None, None]
    if reach.ndim == 2:
        mu = mu[0]
    return Coverability(float(per_step.max()), per_step, mu, reach)


def clipped_concentrability(mdp: TabularMDP, policy, mu, clip: float) -> np.ndarray | float:
    """Clipped concentrability ``CC_h = E_{d_h^pi}[min(d_h^pi / mu_h, g)]`` with clip level ``g = clip``.

    Amortila et al. (2024), the clipped coefficient of GLOW's analysis (digest ``papers/glow.md``). Pairs that
    ``mu`` misses contribute ``g``. Returns an array ``(H,)`` (finite horizon) or a float (discounted).
    """
    clip = float(clip)
    if not (np.isfinite(clip) and clip > 0):
        raise ValueError(f"clip is {clip}, expected a positive number")
    mu = as_distribution(mdp, mu)
    d = occupancy(mdp, policy)
    ratio = np.minimum(_ratio(d, mu), clip)
    cc = (d * ratio).sum(axis=(-2, -1))
    return float(cc) if mdp.is_discounted else cc

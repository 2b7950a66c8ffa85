"""Maximal reachability and coverability (Xie et al. 2023, "The Role of Coverage in Online RL", Def. 2).

``C_cov = inf_mu max_{pi,h} ||d_h^pi/mu_h||_inf = max_h sum_{s,a} R_h(s,a)`` with the maximal reachability
``R_h(s,a) = max_pi d_h^pi(s,a)``, attained by ``mu_h = R_h / sum R_h``; for a finite class the maximum over the
class replaces the maximum over all policies (Amortila et al. 2024).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._validation import Instance, InvalidParameterError, validate_params
from theory_rl.mdp import TabularMDP
from theory_rl.planning import occupancy, policy_iteration

__all__ = ["max_reachability", "Coverability", "coverability"]


@validate_params(mdp=Instance(TabularMDP))
def max_reachability(mdp: TabularMDP) -> np.ndarray:
    """``R_h(s, a) = max_pi d_h^pi(s, a)`` over all policies: ``(S, A)`` (discounted) or ``(H, S, A)``.

    Finite horizon: ``R_h(s, a) = max_pi Pr(s_h = s)`` (the action at step h is free), computed for all targets
    ``s`` of step ``h`` at once by backward dynamic programming ``W_t(x, s) = max_a sum_x' P_t(x'|x, a)
    W_{t+1}(x', s)`` from ``W_h = I``, then ``R_h(s) = rho^T W_0(., s)``: one ``(S*A, S) @ (S, S)`` product per
    step, ``O(H^2 S^3 A)`` in all.

    Discounted: ``R(s, a) = (1 - gamma) max_pi E_rho[sum_t gamma^t 1{s_t = s, a_t = a}]``, the optimal value of
    the indicator reward of ``(s, a)``, solved exactly by policy iteration for each of the ``S*A`` targets.

    With infeasible actions (``mdp.feasible``), policies take feasible actions only and infeasible pairs get 0.
    """
    S, A = mdp.S, mdp.A
    if mdp.is_discounted:
        out = np.empty((S, A))
        for s in range(S):
            for a in range(A):
                reward = np.zeros((S, A))
                reward[s, a] = 1.0
                if mdp.feasible is not None and not mdp.feasible[s, a]:
                    out[s, a] = 0.0  # issue 15: an infeasible pair is never visited
                    continue
                target = TabularMDP(mdp.P, reward, mdp.init, gamma=mdp.gamma, reward_noise="deterministic",
                                    feasible=mdp.feasible)
                V = policy_iteration(target).V
                out[s, a] = (1.0 - mdp.gamma) * float(mdp.init @ V)
        return np.clip(out, 0.0, 1.0)  # a probability: round-off of the linear solve may leave -1e-17
    H = mdp.horizon
    reach = np.empty((H, S))
    for h in range(H):
        W = np.eye(S)
        for t in range(h - 1, -1, -1):
            W = (mdp.P_at(t).reshape(S * A, S) @ W).reshape(S, A, S)
            W = (W if mdp.feasible is None else np.where(mdp.feasible[:, :, None], W, -np.inf)).max(axis=1)
        reach[h] = mdp.init @ W
    out = np.broadcast_to(np.clip(reach, 0.0, 1.0)[:, :, None], (H, S, A)).copy()
    if mdp.feasible is not None:
        out[:, ~mdp.feasible] = 0.0  # issue 15: an infeasible pair is never visited
    return out


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


@validate_params(mdp=Instance(TabularMDP))
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
    if policies is None:
        reach = max_reachability(mdp)
    else:
        if isinstance(policies, (str, bytes)):
            raise InvalidParameterError(f"policies is {policies!r}, expected a sequence of policies")
        try:
            policies = list(policies)
        except TypeError:
            raise InvalidParameterError(
                f"policies is a {type(policies).__name__}, expected a sequence of policies"
            ) from None
        if not policies:
            raise ValueError("policies is empty; pass at least one policy or None for all policies")
        occupancies = []
        for i, pi in enumerate(policies):
            try:
                occupancies.append(occupancy(mdp, pi))
            except (ValueError, TypeError) as err:
                raise InvalidParameterError(f"policies[{i}] is not a policy of this MDP: {err}") from None
        reach = np.max(occupancies, axis=0)
    stacked = reach if reach.ndim == 3 else reach[None]
    per_step = stacked.sum(axis=(1, 2))
    mu = stacked / np.where(per_step > 0, per_step, 1.0)[:, None, None]
    if reach.ndim == 2:
        mu = mu[0]
    return Coverability(float(per_step.max()), per_step, mu, reach)

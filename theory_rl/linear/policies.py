"""Policy-level quantities of a linear MDP, shared by the offline-to-online coefficient and by PEDEL / FTPedel.

- :func:`all_deterministic_policies`: the finite class of deterministic Markov policies.
- :func:`policy_features` / :func:`policy_covariances`: ``phi_{pi,h} = E_pi[phi_h]`` and
  ``Lambda_{pi,h} = E_pi[phi_h phi_h^T]`` by the forward recursion of the linear form (Wagenmaker & Jamieson 2022,
  PEDEL, Sec. 2).
- :func:`best_response`: a deterministic policy maximising ``E_pi[g(s_h, a_h)]`` (the linear step of the
  Frank-Wolfe designs of PEDEL's OptCov, solved exactly on the known model).
- :func:`occupancy_polytope`: the flow constraints of Markov policies as cvxpy constraints (the oracle of the
  reachable designs and of the offline-to-online coefficient of Wagenmaker & Pacchiano 2023).

Every function takes a :class:`LinearMDP` or a :class:`theory_rl.linear.FactoredLinearMDP` (issue 15): the model
is read through ``features``/``measure``/``expected_next`` (the forward recursion and the best response are
d-dimensional already), so the factored form runs the same code without an (H, S, A, S) kernel.
"""

from __future__ import annotations

import itertools

import numpy as np

from theory_rl._validation import Instance, Integer, as_float_array, check_shape, check_step, validate_params
from theory_rl.linear.factored import LINEAR_MODELS, FactoredLinearMDP
from theory_rl.linear.model import LinearMDP
from theory_rl.policies import as_probabilities

__all__ = [
    "all_deterministic_policies",
    "policy_features",
    "policy_covariances",
    "best_response",
    "occupancy_polytope",
]


@validate_params(lmdp=Instance(LINEAR_MODELS), max_policies=Integer(1))
def all_deterministic_policies(lmdp: LinearMDP, *, max_policies: int = 100_000) -> np.ndarray:
    """Every deterministic Markov policy, shape (A^(H S), H, S); refuses classes larger than ``max_policies``."""
    H, S, A = lmdp.H, lmdp.S, lmdp.A
    n = A ** (H * S)
    if n > max_policies:
        raise ValueError(f"the class of deterministic policies has A^(H S) = {n} > max_policies = {max_policies}")
    return np.array(list(itertools.product(range(A), repeat=H * S)), dtype=np.int64).reshape(n, H, S)


def _forward(lmdp: LinearMDP, policy):
    pi = as_probabilities(policy, lmdp.S, lmdp.A, horizon=lmdp.H)
    pi = np.broadcast_to(pi, (lmdp.H, lmdp.S, lmdp.A))
    phi = lmdp.stage_phi
    ds = lmdp.init.copy()
    for h in range(lmdp.H):
        occ = ds[:, None] * pi[h]
        yield h, occ
        # d_{h+1}(s') = sum_{s,a} d_h(s, a) <phi_h(s, a), mu_h(s')> = <phi_{pi,h}, mu_h(s')>
        ds = np.einsum("sa,sad->d", occ, phi[h]) @ lmdp.measure(h)


@validate_params(lmdp=Instance(LINEAR_MODELS))
def policy_features(lmdp: LinearMDP, policy) -> np.ndarray:
    """``phi_{pi,h} = E_pi[phi_h(s_h, a_h)]`` for every h, shape (H, d), by the forward recursion
    ``d_{h+1}(s') = <phi_{pi,h}, mu_h(s')>`` of the linear form (PEDEL, Sec. 2).
    ``V^pi_0 = sum_h <phi_{pi,h}, theta_h>``.

    ``policy`` is actions ``(S,)`` / ``(H, S)`` or probabilities ``(S, A)`` / ``(H, S, A)``.
    """
    phi = lmdp.stage_phi
    return np.stack([np.einsum("sa,sad->d", occ, phi[h]) for h, occ in _forward(lmdp, policy)])


@validate_params(lmdp=Instance(LINEAR_MODELS))
def policy_covariances(lmdp: LinearMDP, policy) -> np.ndarray:
    """``Lambda_{pi,h} = E_pi[phi_h phi_h^T]`` for every h, shape (H, d, d)."""
    phi = lmdp.stage_phi
    return np.stack([np.einsum("sa,sad,sae->de", occ, phi[h], phi[h]) for h, occ in _forward(lmdp, policy)])


@validate_params(lmdp=Instance(LINEAR_MODELS))
def best_response(lmdp: LinearMDP, h: int, g) -> np.ndarray:
    """A deterministic policy (H, S) maximising ``E_pi[g(s_h, a_h)]`` for a reward ``g`` (S, A) at step ``h`` only.

    Backward induction with reward only at step h (actions after h are irrelevant and set to 0; lowest index among
    ties): the exact linear step of the Frank-Wolfe designs, in place of PEDEL's regret minimiser.
    """
    h = check_step(h, "h", lmdp.H)
    g = as_float_array(g, "g", ndim=2)
    check_shape(g, "g", (lmdp.S, lmdp.A))
    pol = np.zeros((lmdp.H, lmdp.S), dtype=np.int64)
    pol[h] = g.argmax(axis=1)
    V = g.max(axis=1)
    for t in range(h - 1, -1, -1):
        Q = lmdp.expected_next(t, V)  # factored: phi_t (mu_t V), O(S A d)
        pol[t] = Q.argmax(axis=1)
        V = Q.max(axis=1)
    return pol


@validate_params(lmdp=Instance(LINEAR_MODELS))
def occupancy_polytope(lmdp: LinearMDP, last: int):
    """cvxpy variables ``rho_t`` (S A,) for ``t = 0..last`` with the flow constraints of Markov policies.

    Returns ``(rho, constraints)``: ``sum_a rho_0(s, a) = init(s)`` and
    ``sum_a rho_{t+1}(s', a) = sum_{s,a} P_t(s' | s, a) rho_t(s, a)``.
    """
    import cvxpy as cp

    last = check_step(last, "last", lmdp.H)
    S, A = lmdp.S, lmdp.A
    rho = [cp.Variable(S * A, nonneg=True) for _ in range(last + 1)]
    E = np.kron(np.eye(S), np.ones((1, A)))  # (S, S A): sums out the action
    cons = [E @ rho[0] == lmdp.init]
    for t in range(last):
        if isinstance(lmdp, FactoredLinearMDP):  # P_t^T rho = mu_t^T (Phi_t^T rho): d-dimensional, no (S A, S)
            flow = lmdp.measure(t).T @ (lmdp.features(t).reshape(S * A, lmdp.d).T @ rho[t])
        else:
            flow = lmdp.P[t].reshape(S * A, S).T @ rho[t]
        cons.append(E @ rho[t + 1] == flow)
    return rho, cons

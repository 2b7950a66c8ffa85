"""Uni-O4 on tabular MDPs: the clipped on-policy improvement step as an LP per state, the OPE gate, and the
performance-difference and CPI bounds as exact oracles.

Lei, He, Lu, Hu, Gao, Xu, "Uni-O4: Unifying Online and Offline Deep RL with Multi-Step On-Policy Optimization",
ICLR 2024, arXiv 2311.03351 (code Lei-Kun/Uni-O4 [V: code, digest WP-C, C2]); it builds on BPPO (Zhuang et al.,
ICLR 2023). Offline, each policy takes PPO-clip steps on dataset states with ratio ``pi / pi_ref`` and the
behaviour critic's advantage; every few steps an off-policy evaluation (OPE) decides whether the reference
``pi_ref`` is replaced by the current policy (the "multi-step" of the title; BPPO keeps ``pi_ref = pi_b``).

- :func:`clipped_surrogate` -- ``sum_a pi_ref(a) min(r_a A_a, clip(r_a, 1 - eps, 1 + eps) A_a)``, ``r = pi / pi_ref``,
  per state;
- :func:`ppo_clip_step` -- its exact maximiser over the simplex (restricted to ``pi_ref``'s support, where the
  ratio is defined), one LP per state (``scipy.optimize.linprog``, HiGHS): with ``c_a = 1 + eps`` if
  ``A_a >= 0`` else ``1 - eps``, maximise ``sum_a t_a`` s.t. ``t_a <= A_a pi(a)``, ``t_a <= c_a A_a pi_ref(a)``;
- :func:`multi_step_improvement` -- one-step (BPPO), multi-step without the gate and multi-step with the OPE gate
  (Uni-O4), on an estimated model;
- :func:`performance_difference` -- both sides of the performance-difference lemma (Kakade & Langford 2002);
- :func:`cpi_lower_bound` -- ``L_pi(pi') - 4 eps gamma alpha^2 / (1 - gamma)^2`` (Schulman et al. 2015, TRPO,
  Thm 1, with ``alpha = max_s TV`` and ``eps = max |A^pi|``; unnormalised visitation ``rho_pi``) and the offline
  surrogate with the data's state distribution in place of ``d^pi``.

Defaults: the paper's offline clip 0.25 (decayed to 0 in the code; a fixed clip per step here) [V: code]; the online
clip is 0.05 [V: code]. Uni-O4's ensemble of behaviour-cloned policies has no tabular role (the count MLE is exact
and multimodal), and its learned-dynamics OPE becomes exact evaluation in the empirical model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from theory_rl import planning
from theory_rl._validation import (
    Instance,
    Integer,
    Options,
    Real,
    as_float_array,
    check_distributions,
    check_shape,
    validate_params,
)
from theory_rl.mdp import TabularMDP
from theory_rl.policies import policy_matrix
from theory_rl.results import Result

__all__ = [
    "OFFLINE_CLIP",
    "ONLINE_CLIP",
    "VARIANTS",
    "ImprovementResult",
    "clipped_surrogate",
    "ppo_clip_step",
    "multi_step_improvement",
    "performance_difference",
    "cpi_lower_bound",
]

#: Uni-O4's offline clip ratio (decayed linearly to 0 in the code) and online PPO clip [V: code, digest C2].
OFFLINE_CLIP = 0.25
ONLINE_CLIP = 0.05
#: ``one_step`` (BPPO), ``multi_step`` (no gate), ``multi_step_gate`` (Uni-O4).
VARIANTS = ("one_step", "multi_step", "multi_step_gate")


def _policy_pair(reference, advantages):
    ref = as_float_array(reference, "reference", ndim=2)
    check_distributions(ref, "reference")
    adv = as_float_array(advantages, "advantages", ndim=2)
    check_shape(adv, "advantages", ref.shape)
    return ref, adv


def clipped_surrogate(policy, reference, advantages, eps: float = OFFLINE_CLIP) -> np.ndarray:
    """PPO's clipped surrogate per state (Schulman et al. 2017, Eq. 7), shape ``(S,)``; pairs outside the
    reference's support must have ``policy = 0`` (their ratio is undefined)."""
    ref, adv = _policy_pair(reference, advantages)
    pi = as_float_array(policy, "policy", ndim=2)
    check_shape(pi, "policy", ref.shape)
    check_distributions(pi, "policy")
    eps = Real(0.0, 1.0, closed="left").check(eps, "eps")
    outside = (ref == 0) & (pi > 0)
    if outside.any():
        s, a = np.argwhere(outside)[0]
        raise ValueError(f"policy[{s}, {a}] > 0 where reference[{s}, {a}] = 0: the ratio is undefined")
    r = np.divide(pi, ref, out=np.zeros_like(pi), where=ref > 0)
    return np.sum(ref * np.minimum(r * adv, np.clip(r, 1 - eps, 1 + eps) * adv), axis=1)


def ppo_clip_step(reference, advantages, eps: float = OFFLINE_CLIP) -> np.ndarray:
    """The exact maximiser of :func:`clipped_surrogate` over the simplex, state by state (one LP each).

    Parameters
    ----------
    reference : array_like, shape (S, A)
        ``pi_ref`` (the "old" policy of the ratio).
    advantages : array_like, shape (S, A)
    eps : float, default 0.25
        The clip ratio (Uni-O4's offline value).

    Returns
    -------
    numpy.ndarray, shape (S, A)
        A maximiser (ties: the LP solver's vertex); zero outside ``pi_ref``'s support.
    """
    ref, adv = _policy_pair(reference, advantages)
    eps = Real(0.0, 1.0, closed="left").check(eps, "eps")
    out = np.zeros_like(ref)
    for s in range(ref.shape[0]):
        supp = np.flatnonzero(ref[s] > 0)
        k = supp.size
        a_s, p_s = adv[s, supp], ref[s, supp]
        c = np.where(a_s >= 0, 1 + eps, 1 - eps)
        # variables (pi_1..pi_k, t_1..t_k); maximise sum t  <=>  minimise -sum t
        cost = np.concatenate([np.zeros(k), -np.ones(k)])
        eye = np.eye(k)
        A_ub = np.block([[-np.diag(a_s), eye], [np.zeros((k, k)), eye]])
        b_ub = np.concatenate([np.zeros(k), c * a_s * p_s])
        A_eq = np.concatenate([np.ones(k), np.zeros(k)])[None, :]
        res = linprog(cost, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[1.0],
                      bounds=[(0, None)] * k + [(None, None)] * k, method="highs")  # fmt: skip
        if not res.success:  # bounded and feasible by construction; a failure is a solver fault
            raise RuntimeError(f"the clipped-surrogate LP at state {s} failed: {res.message}")
        pi = np.clip(res.x[:k], 0.0, None)
        out[s, supp] = pi / pi.sum()
    return out


@dataclass(frozen=True, kw_only=True, repr=False)
class ImprovementResult(Result):
    """What :func:`multi_step_improvement` returns.

    Attributes
    ----------
    policy : numpy.ndarray, shape (S, A)
        The final policy (the last accepted reference for the gated variant).
    V, Q : numpy.ndarray
        Its values in the estimated model.
    estimated_returns : numpy.ndarray
        ``J_hat`` of the policy after each step (the OPE), step 0 the behaviour.
    accepted : numpy.ndarray of bool
        Whether each step's candidate replaced the reference.
    """

    estimated_returns: np.ndarray
    accepted: np.ndarray


@validate_params(model=Instance(TabularMDP, episodic=False), variant=Options(VARIANTS), n_steps=Integer(1, 10_000),
                 eps=Real(0.0, 1.0, closed="left"), critic=Options(("behaviour", "policy")))  # fmt: skip
def multi_step_improvement(
    model: TabularMDP,
    behaviour,
    *,
    variant: str = "multi_step_gate",
    n_steps: int = 10,
    eps: float = OFFLINE_CLIP,
    critic: str = "behaviour",
) -> ImprovementResult:
    """Offline policy improvement by clipped steps on an estimated model (Uni-O4's offline phase, tabular).

    Parameters
    ----------
    model : TabularMDP
        The estimated model (``P_hat``, ``r_hat``): the critic and the OPE are exact evaluations in it.
    behaviour : array_like, shape (S, A)
        ``pi_hat_b`` (count MLE), the first reference.
    variant : {"one_step", "multi_step", "multi_step_gate"}
        BPPO (the reference stays ``pi_b``: one LP step), multi-step without the gate (the reference is always
        replaced), Uni-O4 (replaced only when the OPE ``J_hat`` improves; the run stops at the first rejection,
        since the same reference and critic would give the same candidate).
    n_steps : int, default 10
    eps : float, default 0.25
    critic : {"behaviour", "policy"}
        The advantage: the behaviour's ``Q_hat^{pi_b}`` fitted once (as in the code: SARSA / IQL on D), or
        ``Q_hat^{pi_ref}`` re-evaluated each step.
    """
    pi_b = policy_matrix(model, behaviour, name="behaviour")

    def advantage(pi):
        Q = planning.q_values(model, pi)
        return Q - np.sum(pi * Q, axis=1, keepdims=True)

    def ope(pi):
        return planning.expected_return(model, pi)

    adv_b = advantage(pi_b)
    ref = pi_b
    J_hat, accepted = [ope(pi_b)], []
    for _ in range(1 if variant == "one_step" else n_steps):
        cand = ppo_clip_step(ref, adv_b if critic == "behaviour" else advantage(ref), eps)
        J_c = ope(cand)
        if variant == "multi_step_gate" and J_c <= J_hat[-1]:
            accepted.append(False)
            break
        accepted.append(True)
        ref = cand
        J_hat.append(J_c)
    V = planning.evaluate(model, ref)
    return ImprovementResult(policy=ref, V=V, Q=planning.q_values(model, ref), method=variant,
                             constants={"eps": eps, "n_steps": n_steps, "critic": critic},
                             estimated_returns=np.array(J_hat), accepted=np.array(accepted, bool))  # fmt: skip


@validate_params(mdp=Instance(TabularMDP, episodic=False))
def performance_difference(mdp: TabularMDP, new_policy, old_policy) -> tuple[float, float]:
    """Both sides of the performance-difference lemma (Kakade & Langford 2002, Lemma 6.1):
    ``J(pi') - J(pi)`` and ``E_{s ~ d^{pi'}} [sum_a pi'(a | s) A^pi(s, a)] / (1 - gamma)`` (``d`` normalised)."""
    new = policy_matrix(mdp, new_policy, name="new_policy")
    old = policy_matrix(mdp, old_policy, name="old_policy")
    Q = planning.q_values(mdp, old)
    adv = Q - np.sum(old * Q, axis=1, keepdims=True)
    d_new = planning.state_occupancy(mdp, new)
    lhs = planning.expected_return(mdp, new) - planning.expected_return(mdp, old)
    rhs = float(d_new @ np.sum(new * adv, axis=1)) / (1 - mdp.gamma)
    return float(lhs), rhs


@validate_params(mdp=Instance(TabularMDP, episodic=False))
def cpi_lower_bound(mdp: TabularMDP, new_policy, old_policy, state_dist=None) -> dict:
    """TRPO's lower bound (Schulman et al. 2015, Thm 1) and the offline surrogate.

    ``L_pi(pi') = J(pi) + sum_s rho_pi(s) sum_a pi'(a | s) A^pi(s, a)`` with ``rho_pi = d^pi / (1 - gamma)`` (the
    unnormalised discounted visitation), ``eps = max_{s, a} |A^pi(s, a)|``, ``alpha = max_s TV(pi, pi')``; then
    ``J(pi') >= L_pi(pi') - 4 eps gamma alpha^2 / (1 - gamma)^2``. With ``state_dist`` (the data's state
    distribution ``d_D``), ``L_D`` uses ``d_D`` in place of ``d^pi``; ``|L_D - L_pi| <= 2 max_s |A^pi(s, pi')|
    TV(d_D, d^pi) / (1 - gamma)`` [D: digest, tested].

    Returns
    -------
    dict
        ``J_new``, ``L``, ``bound`` (the right side), ``alpha``, ``eps``; with ``state_dist`` also ``L_data`` and
        ``data_error_bound``.
    """
    new = policy_matrix(mdp, new_policy, name="new_policy")
    old = policy_matrix(mdp, old_policy, name="old_policy")
    g = mdp.gamma
    Q = planning.q_values(mdp, old)
    adv = Q - np.sum(old * Q, axis=1, keepdims=True)
    gain = np.sum(new * adv, axis=1)  # A^pi(s, pi')
    d_old = planning.state_occupancy(mdp, old)
    J_old = planning.expected_return(mdp, old)
    L = J_old + float(d_old @ gain) / (1 - g)
    eps = float(np.abs(adv).max())
    alpha = float(0.5 * np.abs(new - old).sum(axis=1).max())
    out = {"J_new": planning.expected_return(mdp, new), "L": L, "bound": L - 4 * eps * g * alpha**2 / (1 - g) ** 2,
           "alpha": alpha, "eps": eps}
    if state_dist is not None:
        dD = as_float_array(state_dist, "state_dist", shape=(mdp.S,))
        check_distributions(dD, "state_dist")
        out["L_data"] = J_old + float(dD @ gain) / (1 - g)
        out["data_error_bound"] = 2 * float(np.abs(gain).max()) * 0.5 * float(np.abs(dD - d_old).sum()) / (1 - g)
    return out

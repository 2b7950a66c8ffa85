"""FamO2O on tabular MDPs: the advantage-weighted policy family and the state-adaptive balance, exactly.

Wang, Yang, Gao, Lin, Chen, Wu, Jia, Song, Huang, "Train Once, Get a Family: State-Adaptive Balances for
Offline-to-Online Reinforcement Learning", NeurIPS 2023, arXiv 2310.17966 (code LeapLabTHU/FamO2O, IQL version:
actor loss ``-exp(beta (Q - V)) log pi``, balance ``beta`` in ``(1, 5)`` by default [V: code, digest WP-C]).

- :func:`behaviour_policy` -- ``pi_hat_b(a | s) = N(s, a) / N(s)`` (uniform at unvisited states);
- :func:`awr_family` -- ``pi_beta(a | s) ∝ pi_hat_b(a | s) exp(beta A_hat(s, a))``, the maximiser of
  ``E_pi[A_hat] - (1 / beta) KL(pi || pi_hat_b)`` at each state (the AWR / IQL actor's target), one per ``beta``;
- :func:`balance_mdp` -- the MDP whose action at ``s`` is "pick ``beta_k``": ``P_k(. | s) = sum_a
  pi_k(a | s) P(. | s, a)``, ``r_k(s) = sum_a pi_k(a | s) r(s, a)``;
- :func:`state_adaptive_balance` -- its exact optimum (policy iteration): the best state-wise assignment
  ``beta(s)``, which is at least as good as every single ``beta`` (a fixed ``beta`` is one of its policies: the
  tabular form of the paper's claim that state-adaptive balances dominate fixed ones [U: theorem statement not
  read; the digest's restatement]);
- :func:`greedy_balance` -- FamO2O's balance rule ``beta(s) = argmax_k sum_a pi_k(a | s) Q_hat(s, a)`` (the
  balance model maximises the critic over ``beta``), for a given critic ``Q_hat``;
- :func:`balance_policy` -- the policy of an assignment ``beta(s)``.

Note: with ``Q_hat`` the critic the advantages came from, ``E_{pi_beta}[A_hat]`` is non-decreasing in ``beta``
(its derivative is ``Var_{pi_beta}(A_hat) >= 0``), so the greedy rule always picks the largest ``beta``:
maximising a non-pessimistic critic over the balance is not a balance at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl import planning
from theory_rl._validation import (
    Instance,
    as_float_array,
    as_index_array,
    check_distributions,
    check_shape,
    validate_params,
)
from theory_rl.data import CountDataset
from theory_rl.mdp import TabularMDP
from theory_rl.results import Result

__all__ = [
    "PAPER_BETAS",
    "BalanceResult",
    "behaviour_policy",
    "awr_family",
    "balance_mdp",
    "balance_policy",
    "state_adaptive_balance",
    "fixed_balance_returns",
    "greedy_balance",
]

#: FamO2O's IQL balance range (1, 5) [V: code, digest WP-C], as a grid of five values.
PAPER_BETAS = (1.0, 2.0, 3.0, 4.0, 5.0)


@dataclass(frozen=True, kw_only=True, repr=False)
class BalanceResult(Result):
    """The state-adaptive optimum over a policy family.

    Attributes
    ----------
    policy : numpy.ndarray, shape (S,)
        The chosen member (balance index) per state.
    V : numpy.ndarray, shape (S,)
        Exact values of the resulting policy.
    Q : numpy.ndarray, shape (S, K)
        Exact values of choosing member ``k`` at ``s`` and the optimal assignment after.
    action_policy : numpy.ndarray, shape (S, A)
        The policy over actions, ``pi_{beta(s)}(. | s)``.
    J : float
        ``rho . V``.
    """

    action_policy: np.ndarray
    J: float


def behaviour_policy(data: CountDataset) -> np.ndarray:
    """The count MLE ``N(s, a) / N(s)`` of a discounted :class:`CountDataset`; uniform where ``N(s) = 0``."""
    if not isinstance(data, CountDataset):
        raise ValueError(f"data is a {type(data).__name__}, expected a CountDataset")
    if data.horizon is not None:
        raise ValueError(f"data has horizon {data.horizon}, expected discounted counts (horizon None)")
    N = np.asarray(data.counts, dtype=np.float64)
    Ns = N.sum(axis=1, keepdims=True)
    return np.where(Ns > 0, N / np.where(Ns > 0, Ns, 1.0), 1.0 / data.A)


def _family_args(behaviour, advantages, betas):
    pi_b = as_float_array(behaviour, "behaviour", ndim=2)
    check_distributions(pi_b, "behaviour")
    adv = as_float_array(advantages, "advantages", ndim=2)
    check_shape(adv, "advantages", pi_b.shape)
    betas = as_float_array(betas, "betas", ndim=1)
    if betas.size == 0 or np.any(betas < 0):
        raise ValueError(f"betas is {betas}, expected a non-empty sequence of balances >= 0")
    return pi_b, adv, betas


def awr_family(behaviour, advantages, betas=PAPER_BETAS) -> np.ndarray:
    """The AWR policies ``pi_beta(a | s) ∝ pi_hat_b(a | s) exp(beta A_hat(s, a))``, one per ``beta``.

    Each is the exact maximiser over the simplex of ``sum_a pi(a) A_hat(s, a) - KL(pi || pi_hat_b(. | s)) /
    beta`` (Peng et al. 2019, AWR, Eq. 7; the target of IQL's and FamO2O's actor). Support stays in the
    behaviour's support; ``beta = 0`` is the behaviour.

    Parameters
    ----------
    behaviour : array_like, shape (S, A)
        ``pi_hat_b`` (rows on the simplex).
    advantages : array_like, shape (S, A)
        ``A_hat``; entries outside the behaviour's support are ignored.
    betas : array_like, shape (K,)
        Balances ``>= 0``; FamO2O's IQL range by default (:data:`PAPER_BETAS`).

    Returns
    -------
    numpy.ndarray, shape (K, S, A)
    """
    pi_b, adv, betas = _family_args(behaviour, advantages, betas)
    support = pi_b > 0
    # shift by the max over the support per state: exp never overflows, the ratio is unchanged
    shift = np.where(support, adv, -np.inf).max(axis=1, keepdims=True)
    z = betas[:, None, None] * np.where(support, adv - shift, 0.0)
    w = np.where(support, pi_b * np.exp(z), 0.0)
    return w / w.sum(axis=2, keepdims=True)


def _family(mdp: TabularMDP, family) -> np.ndarray:
    fam = as_float_array(family, "family", ndim=3)
    check_shape(fam, "family", (fam.shape[0], mdp.S, mdp.A))
    if fam.shape[0] == 0:
        raise ValueError("family is empty, expected at least one member")
    check_distributions(fam, "family")
    return fam


@validate_params(mdp=Instance(TabularMDP, episodic=False))
def balance_mdp(mdp: TabularMDP, family) -> TabularMDP:
    """The MDP whose actions are the family's members: ``P_k(·|s) = sum_a pi_k(a|s) P(·|s, a)``.

    Parameters
    ----------
    mdp : TabularMDP
        Discounted.
    family : array_like, shape (K, S, A)
        Policies (e.g. :func:`awr_family`).

    Returns
    -------
    TabularMDP
        ``K`` actions; same discount and start distribution (its rewards are means; reward noise irrelevant).
    """
    fam = _family(mdp, family)
    P = np.einsum("ksa,sat->skt", fam, mdp.P)
    P /= P.sum(axis=2, keepdims=True)  # exact normalisation after the floating-point sums
    R = np.einsum("ksa,sa->sk", fam, mdp.R)
    return TabularMDP(P, R, mdp.init, gamma=mdp.gamma, reward_noise="deterministic")


@validate_params(mdp=Instance(TabularMDP, episodic=False))
def balance_policy(mdp: TabularMDP, family, balance) -> np.ndarray:
    """The policy ``pi(·|s) = family[balance[s], s, :]`` of a state-wise assignment, shape ``(S, A)``."""
    fam = _family(mdp, family)
    k = as_index_array(balance, "balance", fam.shape[0])
    check_shape(k, "balance", (mdp.S,))
    return fam[k, np.arange(mdp.S)]


@validate_params(mdp=Instance(TabularMDP, episodic=False))
def state_adaptive_balance(mdp: TabularMDP, family) -> BalanceResult:
    """The best state-wise choice of member, by exact planning on :func:`balance_mdp`.

    Its return is ``>= max_k J(family[k])`` (each constant assignment is a policy of the balance MDP); equality
    holds when one member is optimal at every state. Tested against enumeration of all ``K^S`` assignments.
    """
    bmdp = balance_mdp(mdp, family)
    res = planning.solve(bmdp)
    k = np.asarray(res.policy, dtype=np.int64)
    pi = balance_policy(mdp, family, k)
    V = planning.evaluate(mdp, pi)
    return BalanceResult(policy=k, V=V, Q=planning.q_values(bmdp, k), method="state_adaptive_balance",
                         constants={"K": int(bmdp.A)}, action_policy=pi, J=float(mdp.init @ V))  # fmt: skip


@validate_params(mdp=Instance(TabularMDP, episodic=False))
def fixed_balance_returns(mdp: TabularMDP, family) -> np.ndarray:
    """``J(family[k])`` for each member, exactly; the best single balance is their max."""
    fam = _family(mdp, family)
    return np.array([planning.expected_return(mdp, pi) for pi in fam])


def greedy_balance(family, Q_hat) -> np.ndarray:
    """FamO2O's balance rule on a critic: ``beta(s) = argmax_k sum_a pi_k(a | s) Q_hat(s, a)`` (lowest index
    among ties), shape ``(S,)``.

    Parameters
    ----------
    family : array_like, shape (K, S, A)
    Q_hat : array_like, shape (S, A)
        The critic the balance model maximises (FamO2O: ``min(Q1, Q2)``, trained by IQL).
    """
    fam = as_float_array(family, "family", ndim=3)
    if fam.shape[0] == 0:
        raise ValueError("family is empty, expected at least one member")
    check_distributions(fam, "family")
    Q = as_float_array(Q_hat, "Q_hat", ndim=2)
    check_shape(Q, "Q_hat", fam.shape[1:])
    return np.einsum("ksa,sa->sk", fam, Q).argmax(axis=1)

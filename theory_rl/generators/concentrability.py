"""Concentrability-parameterised instances of Rashidinejad, Zhu, Ma, Jiao & Russell (2021), "Bridging Offline RL and
Imitation Learning": the families by which they bound LCB and its baselines in terms of C*.

Each function returns ``(problem, mu)``: the bandit or MDP and the data distribution ``mu`` over state-action pairs
(shape ``(S, A)``) of the i.i.d. data model (Sec. 2), so that ``coverage.concentrability(problem, pi*, mu)`` is the
instance's C*. In every family the optimal action has the *higher* index, so the lowest-index tie-breaking rule of
:mod:`theory_rl.algorithms.lcb` never favours it: the instances are worst cases for that rule too.

Not provided: Thm 7's MDP replicas (App. C.6). The digest gives their states ``s0, s1, s+, s-`` and
``p = 1/(2 - gamma)``, ``q = 2 - 1/gamma``, but not ``d*`` and ``mu`` on the replicas (so not C*), the number of
replicas, the rewards, nor the two hypotheses' perturbation; building them would mean guessing the paper. What is
missing and which sources were searched (issue 22) is in ``theory_rl.bounds.UNREGISTERED``.
"""

from __future__ import annotations

import numpy as np

from theory_rl import planning
from theory_rl._random import SeedLike, as_generator
from theory_rl._validation import Integer, Real, as_float_array, check_real, check_table, validate_params
from theory_rl.mdp import ContextualBandit, MultiArmedBandit, TabularMDP

__all__ = [
    "prop1_bandit",
    "two_arm_bandit",
    "fano_contextual_bandit",
    "rare_context_bandit",
    "prop3_contextual_bandit",
    "rare_state_mdp",
    "undercovered_mdp",
]


#: The specs of the families' parameters: C* >= 1, a gap in [0, 1/2] (means stay in [0, 1]), a discount factor.
_C_STAR = Real(1.0, None)
_GAP = Real(0.0, 0.5)
_GAMMA = Real(0.0, 1.0, closed="left")


@validate_params(N=Integer(2), p_high=Real(0.0, 2.0 / 2.1, closed="neither"))
def prop1_bandit(N: int, *, p_high: float = 0.5) -> tuple[MultiArmedBandit, np.ndarray]:
    """Prop. 1: the empirical best arm fails with constant probability.

    Two arms, data ``mu = (1 - 1/N, 1/N)`` (so C* = N/(N-1) -> 1). The paper's arm 1 pays 2 surely and arm 2 pays
    2.1 or 0; rescaled by 2.1 the means are ``(2/2.1, p_high)``. Arm 2 is seen about once; when its single reward
    is 1 it beats arm 1's empirical mean, so greedy errs with probability about ``p_high (1 - 1/e)`` for every N.
    Here arm 0 is the optimal one (index 0 is the frequent arm, as in the paper). ``p_high`` (the probability of
    the 2.1 reward) is not fixed by the digest of the paper (unverified); any value < 2/2.1 keeps arm 0 optimal.
    Rewards are Bernoulli with these means (the paper's arm 1 is deterministic; the failure mechanism is the same).
    """
    bandit = MultiArmedBandit([2.0 / 2.1, p_high])
    return bandit, np.array([[1.0 - 1.0 / N, 1.0 / N]])


@validate_params(c_star=_C_STAR, gap=_GAP)
def two_arm_bandit(c_star: float, gap: float) -> tuple[MultiArmedBandit, np.ndarray]:
    """Two Bernoulli arms with means ``(1/2, 1/2 + gap)`` and data ``mu = (1 - 1/C*, 1/C*)``: C* = 1/mu(a*).

    The two-point family of the MAB lower bounds (Thm 2, Le Cam) and of the non-adaptivity example (Thm 3, C* = 1.5
    and 6). For C* < 2 the optimal arm is the more played one (most-played errs exponentially rarely, Prop. 2);
    for C* >= 2 it is the less played one.
    """
    return MultiArmedBandit([0.5, 0.5 + gap]), np.array([[1.0 - 1.0 / c_star, 1.0 / c_star]])


@validate_params(S=Integer(1), c_star=_C_STAR, gap=_GAP)
def fano_contextual_bandit(S: int, c_star: float, gap: float, *, signs=None) -> tuple[ContextualBandit, np.ndarray]:
    """Thm 5's contextual bandits (Fano): S uniform contexts, two actions, the optimal one under-sampled.

    ``mu(s, a_0) = 1/S - 1/(S C*)``, ``mu(s, a_1) = 1/(S C*)``, ``R(s, a_0) = 1/2``, ``R(s, a_1) = 1/2 + v_s gap``.
    The theorem takes ``gap = min(1/3, sqrt(S C*/(200 N)))`` and signs ``v_s`` in {+1, -1}; with all ``v_s = +1``
    (default) the rarely sampled action is optimal everywhere and C* is exactly ``c_star``. A context with
    ``v_s = -1`` has ratio ``C*/(C* - 1)``, which is at most C* only when ``c_star >= 2``.
    """
    check_table("the mean rewards", (S, 2), ("S", "2"))
    v = np.ones(S) if signs is None else as_float_array(signs, "signs", shape=(S,))
    if not np.all(np.isin(v, (-1.0, 1.0))):
        raise ValueError(f"signs must be {S} entries of +1 or -1")
    means = np.column_stack([np.full(S, 0.5), 0.5 + v * gap])
    mu = np.column_stack([np.full(S, (1.0 - 1.0 / c_star) / S), np.full(S, 1.0 / (S * c_star))])
    return ContextualBandit(means, np.full(S, 1.0 / S)), mu


@validate_params(c_star=Real(1.0, 2.0, closed="neither"), eta=Real(0.0, 1.0, closed="neither"))
def prop3_contextual_bandit(c_star: float, *, eta: float = 0.01) -> tuple[ContextualBandit, np.ndarray]:
    """Prop. 3: per-state most-played fails in contextual bandits for C* in (1, 2), with loss -> C* - 1.

    Two contexts; action 1 pays 1 and action 0 pays 0 in both. Contexts ``rho = (2 - C* + eta, C* - 1 - eta)``; the
    data ``mu(s, 1) = rho(s) / C*`` (so C* is exactly ``c_star``) puts the remaining mass ``1 - 1/C*`` on the bad
    action of context 1, which then outnumbers the good one there (``(C*-1)/C* > (C*-1-eta)/C*``). Per-state
    most-played picks the bad action at context 1 with probability -> 1, losing ``rho(1) = C* - 1 - eta``. The
    construction is ours: the digest of the paper states the proposition, not its instance.
    """
    check_real(eta, "eta", low=0.0, high=c_star - 1.0, closed="neither")  # eta in (0, c_star - 1)
    rho = np.array([2.0 - c_star + eta, c_star - 1.0 - eta])
    mu = np.array([[0.0, rho[0] / c_star], [1.0 - 1.0 / c_star, rho[1] / c_star]])
    return ContextualBandit([[0.0, 1.0], [0.0, 1.0]], rho), mu


def _rare_distribution(S_rare: int, zeta) -> np.ndarray:
    zeta = check_real(zeta, "zeta", low=0.0, high=1.0 / (S_rare + 1), closed="right")
    return np.concatenate([np.full(S_rare, zeta), [1.0 - S_rare * zeta]])


@validate_params(S=Integer(2))
def rare_context_bandit(S: int, zeta: float) -> tuple[ContextualBandit, np.ndarray]:
    """Expert data (C* = 1) with rare contexts: the contextual-bandit form of the paper's Fig. 6 instance.

    Contexts ``rho = (zeta, ..., zeta, 1 - (S-1) zeta)``; action 1 pays 1, action 0 pays 0; the data holds only the
    optimal action, ``mu(s, 1) = rho(s)``. A context unseen in N samples forces a guess, so the expected loss of
    any rule that guesses action 0 there is ``sum_s rho(s) (1 - rho(s))^N``, about ``(S-1)/(e N)`` at
    ``zeta = 1/(N+1)`` (the paper's choice): the ``S/N`` rate at C* = 1.
    """
    check_table("the mean rewards", (S, 2), ("S", "2"))
    rho = _rare_distribution(S - 1, zeta)
    means = np.column_stack([np.zeros(S), np.ones(S)])
    mu = np.column_stack([np.zeros(S), rho])
    return ContextualBandit(means, rho), mu


@validate_params(S=Integer(3), gamma=_GAMMA)
def rare_state_mdp(S: int, zeta: float, *, gamma: float = 0.9) -> tuple[TabularMDP, np.ndarray]:
    """The paper's Fig. 6 instance (C* = 1): rare initial states, and a wrong action that is unrecoverable.

    States ``0..S-2`` start with ``rho = (zeta, ..., zeta, 1 - (S-2) zeta)`` and state ``S-1`` is absorbing with
    reward 0 (``rho = 0``). At a live state action 1 pays 1 and stays; action 0 pays 0 and falls into the absorbing
    state. Expert data: ``mu = d^{pi*}``, i.e. ``mu(s, 1) = rho(s)``, so an unseen state costs ``1/(1-gamma)``
    weighted by its probability, and the expected loss is about ``(S-2)/(e N (1-gamma))`` at ``zeta = 1/(N+1)``.
    """
    check_table("P", (S, 2, S), ("S", "2", "S"))
    live = S - 1
    rho = np.concatenate([_rare_distribution(live - 1, zeta), [0.0]])
    P = np.zeros((S, 2, S))
    R = np.zeros((S, 2))
    for s in range(live):
        P[s, 1, s] = 1.0
        P[s, 0, S - 1] = 1.0
        R[s, 1] = 1.0
    P[S - 1, :, S - 1] = 1.0
    mdp = TabularMDP(P, R, rho, gamma=gamma)
    return mdp, planning.occupancy(mdp, np.ones(S, dtype=int))


@validate_params(S=Integer(1), c_star=_C_STAR, gap=_GAP, gamma=_GAMMA)
def undercovered_mdp(
    S: int, c_star: float, gap: float, *, gamma: float = 0.9, seed: SeedLike
) -> tuple[TabularMDP, np.ndarray]:
    """An MDP whose optimal action is under-sampled by exactly the factor C*.

    S states with action-independent random transitions (rows uniform on the simplex, drawn from ``seed``), a
    uniform initial distribution, ``R(s, 0) = 1/2`` and ``R(s, 1) = 1/2 + gap``: action 1 is optimal everywhere
    (transitions do not depend on the action). The data distribution puts ``mu(s, 1) = d*(s)/C*`` and
    ``mu(s, 0) = d*(s) (1 - 1/C*)``, where ``d*`` is the optimal policy's discounted state occupancy, so the
    measured C* equals ``c_star`` and the learner must still estimate ``P_hat(.|s, a)`` for both actions.
    """
    check_table("P", (S, 2, S), ("S", "2", "S"))
    rng = as_generator(seed)
    rows = rng.exponential(size=(S, S))
    rows /= rows.sum(axis=1, keepdims=True)
    P = np.repeat(rows[:, None, :], 2, axis=1)
    R = np.column_stack([np.full(S, 0.5), np.full(S, 0.5 + gap)])
    mdp = TabularMDP(P, R, np.full(S, 1.0 / S), gamma=gamma)
    d_star = planning.state_occupancy(mdp, np.ones(S, dtype=int))
    mu = np.column_stack([d_star * (1.0 - 1.0 / c_star), d_star / c_star])
    return mdp, mu

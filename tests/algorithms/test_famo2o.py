"""FamO2O's family and state-adaptive balance (issue 19): closed form vs numeric optimum, VI vs enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from theory_rl import data, generators, planning
from theory_rl.algorithms.o2o import (
    awr_family,
    balance_mdp,
    balance_policy,
    behaviour_policy,
    fixed_balance_returns,
    greedy_balance,
    state_adaptive_balance,
)
from theory_rl.mdp import TabularMDP


def _instance(seed, S=4, A=3, K=3):
    mdp = generators.garnet(S, A, 2, gamma=0.8, seed=seed)
    rng = np.random.default_rng(seed)
    pi_b = rng.dirichlet(np.ones(A), size=S)
    pi_b[rng.random((S, A)) < 0.2] = 0.0  # some actions outside the behaviour's support
    pi_b[:, 0] += 1e-3
    pi_b /= pi_b.sum(axis=1, keepdims=True)
    adv = rng.normal(size=(S, A))
    betas = np.sort(rng.choice([0.0, 0.5, 1.0, 2.0, 5.0, 20.0], size=K, replace=False))
    return mdp, pi_b, adv, betas


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), beta=st.sampled_from([0.1, 1.0, 3.0]))
def test_awr_policy_maximises_the_kl_regularised_objective(seed, beta):
    """The closed form against a numeric maximisation over the simplex (softmax parametrisation, BFGS)."""
    _, pi_b, adv, _ = _instance(seed)
    pi = awr_family(pi_b, adv, [beta])[0]
    for s in range(pi_b.shape[0]):
        supp = pi_b[s] > 0

        def neg(theta, s=s, supp=supp):
            p = np.exp(theta - theta.max())
            p /= p.sum()
            return -(p @ adv[s, supp] - (p @ np.log(p / pi_b[s, supp])) / beta)

        best = minimize(neg, np.zeros(supp.sum()), method="BFGS", options={"gtol": 1e-10})
        closed = pi[s, supp]
        assert -neg(np.log(closed)) >= -best.fun - 1e-7  # the closed form is at least as good as the optimiser
        assert np.all(pi[s, ~supp] == 0.0)


def test_beta_zero_is_the_behaviour_and_large_beta_the_in_support_argmax():
    pi_b = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    adv = np.array([[0.0, 1.0, 9.0], [3.0, 1.0, 2.0]])
    fam = awr_family(pi_b, adv, [0.0, 200.0])
    np.testing.assert_allclose(fam[0], pi_b)
    np.testing.assert_allclose(fam[1], [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_state_adaptive_equals_enumeration_and_dominates_every_single_balance(seed):
    mdp, pi_b, adv, betas = _instance(seed)
    fam = awr_family(pi_b, adv, betas)
    res = state_adaptive_balance(mdp, fam)
    K, S = fam.shape[0], mdp.S
    enum = [planning.expected_return(mdp, balance_policy(mdp, fam, np.array(k)))
            for k in itertools.product(range(K), repeat=S)]
    assert res.J == pytest.approx(max(enum), abs=1e-9)
    fixed = fixed_balance_returns(mdp, fam)
    assert res.J >= fixed.max() - 1e-10
    # the balance MDP's values are the exact values of the induced action policy
    np.testing.assert_allclose(planning.evaluate(balance_mdp(mdp, fam), res.policy), res.V, atol=1e-9)


def test_strict_gain_when_state_wise_best_balances_differ():
    """Two independent one-step states (start uniform): at state 0 the advantage estimate is right (large beta
    best), at state 1 it is wrong (beta = 0, the behaviour, best). No single beta is best at both."""
    P = np.zeros((2, 2, 2))
    P[:, :, 0] = 1.0  # gamma = 0: a contextual bandit, the next state is irrelevant
    R = np.array([[0.2, 0.8], [0.8, 0.2]])
    mdp = TabularMDP(P, R, np.array([0.5, 0.5]), gamma=0.0)
    pi_b = np.full((2, 2), 0.5)
    adv = np.array([[-1.0, 1.0], [-1.0, 1.0]])  # right at state 0, wrong at state 1
    fam = awr_family(pi_b, adv, [0.0, 50.0])
    res = state_adaptive_balance(mdp, fam)
    fixed = fixed_balance_returns(mdp, fam)
    assert res.policy.tolist() == [1, 0]
    assert res.J > fixed.max() + 0.1


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_greedy_balance_on_its_own_critic_picks_the_largest_beta(seed):
    """d/dbeta E_{pi_beta}[A] = Var_{pi_beta}(A) >= 0: with the critic the advantages came from, FamO2O's rule
    picks the largest beta at every state where the advantage is not constant on the support."""
    _, pi_b, adv, betas = _instance(seed)
    fam = awr_family(pi_b, adv, betas)
    Q_hat = adv + np.arange(pi_b.shape[0])[:, None]  # any state-wise shift of A: the same ordering
    k = greedy_balance(fam, Q_hat)
    varying = np.array([np.ptp(adv[s, pi_b[s] > 0]) > 1e-9 for s in range(pi_b.shape[0])])
    assert np.all(k[varying] == len(betas) - 1)


def test_behaviour_policy_from_counts():
    mdp = generators.garnet(3, 2, 2, gamma=0.9, seed=0)
    D = data.sample_generative(mdp, np.array([[[2, 6], [0, 0], [1, 0]]]).reshape(3, 2), 0)
    np.testing.assert_allclose(behaviour_policy(D), [[0.25, 0.75], [0.5, 0.5], [1.0, 0.0]])
    with pytest.raises(ValueError, match="data"):
        behaviour_policy(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="betas"):
        awr_family(np.full((2, 2), 0.5), np.zeros((2, 2)), [-1.0])
    with pytest.raises(ValueError, match="balance"):
        balance_policy(mdp, awr_family(np.full((3, 2), 0.5), np.zeros((3, 2)), [1.0]), [0, 1, 0])

"""The offline-to-online harness (issue 19): oracles for the update, the metrics and the bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import data, generators, planning
from theory_rl.algorithms import lcb
from theory_rl.algorithms.o2o import finetune, initial_dip, offline_phase, steps_to_threshold, td_error
from theory_rl.mdp import TabularMDP


def _garnet(seed, S=5, A=3, gamma=0.8):
    return generators.garnet(S, A, 3, gamma=gamma, seed=seed)


def _rollout_counts(mdp, policy, n, seed, n_steps=10):
    b = data.CountsBuilder(mdp.S, mdp.A, gamma=mdp.gamma)
    b.add_rollouts(data.sample_rollouts(mdp, policy, n, seed, n_steps=n_steps))
    return b.to_counts()


# ---------------------------------------------------------------------- metrics
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), gamma=st.sampled_from([0.0, 0.5, 0.9]))
def test_td_error_against_a_loop_and_zero_at_q_star(seed, gamma):
    mdp = _garnet(seed, gamma=gamma)
    rng = np.random.default_rng(seed)
    Q = rng.normal(size=(mdp.S, mdp.A))
    mu = rng.dirichlet(np.ones(mdp.S * mdp.A)).reshape(mdp.S, mdp.A)
    expected = 0.0
    for s in range(mdp.S):
        for a in range(mdp.A):
            target = mdp.R[s, a] + gamma * sum(mdp.P[s, a, t] * max(Q[t]) for t in range(mdp.S))
            expected += mu[s, a] * (Q[s, a] - target) ** 2
    assert td_error(mdp, Q, mu) == pytest.approx(expected, rel=1e-10, abs=1e-12)
    assert td_error(mdp, planning.solve(mdp).Q, mu) == pytest.approx(0.0, abs=1e-12)


def test_dip_and_threshold_hand_values():
    assert initial_dip(1.0, [0.9, 0.4, 1.2]) == pytest.approx(0.6)
    assert initial_dip(1.0, [0.9, 0.4, 1.2], window=1) == pytest.approx(0.1)
    assert initial_dip(0.3, [0.9, 0.4]) == 0.0
    assert steps_to_threshold([0, 10, 20], [0.1, 0.5, 0.9], 0.5) == 10.0
    assert steps_to_threshold([0, 10, 20], [0.1, 0.5, 0.9], 0.95) == float("inf")
    with pytest.raises(ValueError, match="steps"):
        steps_to_threshold([0, 20, 10], [0.1, 0.5, 0.9], 0.5)
    with pytest.raises(ValueError, match="J_eval"):
        initial_dip(1.0, [])


# ---------------------------------------------------------------------- the update's fixed point
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_offline_only_buffer_converges_to_the_empirical_optimum(seed):
    """offline_fraction = 1: every update is the expected update on D, whose fixed point is Q* of (P_hat, r_hat)
    (an independent solve by policy iteration on the empirical MDP; D covers every pair)."""
    mdp = _garnet(seed, gamma=0.5)
    D = data.sample_generative(mdp, 5, seed)
    model = D.empirical_model()
    Q_hat = planning.solve(TabularMDP(model.P, model.R, mdp.init, gamma=mdp.gamma)).Q
    res = finetune(mdp, D, seed=seed, offline="none", offline_fraction=1.0, online_steps=400, n_steps=20,
                   tau=0.5, lr=1.0)
    np.testing.assert_allclose(res.Q, Q_hat, atol=1e-8)
    # and the curve's last entry is the exact return of the returned policy
    assert res.J_eval[-1] == pytest.approx(planning.expected_return(mdp, res.policy), abs=1e-12)


def test_no_update_keeps_the_offline_q_and_warmup_regret_is_exact():
    """tau -> the target moves, but one online episode with lr tiny leaves Q near Q_off; the regret after the
    warm-up and one episode is (warm-up episodes) (J* - J_off) + (J* - J(behaviour_0)), exactly."""
    mdp = _garnet(3)
    D = data.sample_generative(mdp, 3, 0)
    pi_off, Q_off = offline_phase(D, "empirical_vi")
    res = finetune(mdp, D, seed=0, offline="empirical_vi", warmup_steps=30, online_steps=10, n_steps=10)
    J_star = planning.optimal_return(mdp)
    J_off = planning.expected_return(mdp, pi_off)
    expected = 3 * (J_star - J_off) + (J_star - res.J_behaviour[0])
    assert res.regret[-1] == pytest.approx(expected, rel=1e-12)
    assert res.steps.tolist() == [0.0, 40.0]
    assert res.J_eval[0] == pytest.approx(J_off)
    assert res.q_start[0] == pytest.approx(mdp.init @ Q_off.max(axis=1))


def test_offline_phase_uses_the_toolkit_algorithms():
    mdp = _garnet(1)
    D = data.sample_generative(mdp, 4, 1)
    pi, Q = offline_phase(D, "vi_lcb", {"penalty_scale": 0.1})
    ref = lcb.vi_lcb(D, split=False, penalty_scale=0.1)
    np.testing.assert_array_equal(pi, ref.policy)
    np.testing.assert_array_equal(Q, ref.Q)
    pi, Q = offline_phase(D, "none")
    assert not Q.any() and not pi.any()


def test_optimism_explores_where_greedy_q_learning_does_not():
    """From scratch (Q = 0) with no offline data in the batches, greedy Q-learning never leaves action 0's
    loop on a gridworld, the optimistic learner (bonus on unseen pairs) reaches the goal: a test that fails if
    the bonus is dropped."""
    mdp = generators.gridworld(3, 3, slip=0.0, gamma=0.9)
    D = _rollout_counts(mdp, np.zeros(mdp.S, int), 2, 0)  # only action 0 (up) in the data
    kw = dict(offline="none", online_steps=600, n_steps=20, epsilon=0.0)
    greedy = finetune(mdp, D, seed=0, online="q_learning", **kw)
    optimistic = finetune(mdp, D, seed=0, online="optimistic", bonus_scale=0.05, **kw)
    assert greedy.J_eval[-1] == 0.0
    assert optimistic.J_eval.max() > 0.5 * planning.optimal_return(mdp)


def test_seed_reproducible_and_bad_input():
    mdp = _garnet(2)
    D = _rollout_counts(mdp, np.full((mdp.S, mdp.A), 1 / mdp.A), 5, 0)
    a = finetune(mdp, D, seed=4, online_steps=50, offline_kwargs={"penalty_scale": 0.1})
    b = finetune(mdp, D, seed=4, online_steps=50, offline_kwargs={"penalty_scale": 0.1})
    np.testing.assert_array_equal(a.J_eval, b.J_eval)
    other = _garnet(2, S=6)
    with pytest.raises(ValueError, match="data"):
        finetune(other, D, seed=0)
    with pytest.raises(ValueError, match="offline_kwargs"):
        finetune(mdp, D, seed=0, offline="none", offline_kwargs={"penalty_scale": 1.0})
    with pytest.raises(ValueError, match="offline_fraction"):
        finetune(mdp, D, seed=0, offline_fraction=1.5)

"""Bradley-Terry reward learning and OPPO-lite (issue 18, optional item 5): a hand computation, an independent
Newton solve of the convex BT problem, and the imitation weights."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl.algorithms import preference as pf


def test_features_by_hand():
    phi = pf.trajectory_features(np.array([[0, 1, 1]]), np.array([[1, 0, 0]]), 2, 2, gamma=0.5)
    assert phi.tolist() == [[0.0, 1.0, 0.5 + 0.25, 0.0]]


def newton_bt(D, y, l2, iters=100):
    r = np.zeros(D.shape[1])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(D @ r)))
        g = D.T @ (p - y) + l2 * r
        H = D.T @ (D * (p * (1 - p))[:, None]) + l2 * np.eye(D.shape[1])
        r = r - np.linalg.solve(H, g)
    return r


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), l2=st.sampled_from([0.01, 0.1, 1.0]))
def test_bt_mle_is_the_newton_solution(seed, l2):
    rng = np.random.default_rng(seed)
    phi = rng.random((12, 5)) * 3
    pairs = rng.integers(0, 12, size=(40, 2))
    y = rng.integers(0, 2, size=40).astype(float)
    r = pf.bradley_terry_reward(phi, pairs, y, l2=l2)
    ref = newton_bt(phi[pairs[:, 0]] - phi[pairs[:, 1]], y, l2)
    assert r == pytest.approx(ref, abs=1e-5)


def test_bt_recovers_the_ranking_of_a_true_reward():
    """4000 BT comparisons from a true reward: the fitted returns rank the trajectories like the true ones
    (Spearman > 0.9 at this fixed seed; measured 0.99)."""
    import scipy.stats

    rng = np.random.default_rng(0)
    phi = rng.random((60, 6)) * 2
    r_true = rng.normal(size=6)
    pairs = rng.integers(0, 60, size=(4000, 2))
    m = (phi[pairs[:, 0]] - phi[pairs[:, 1]]) @ r_true
    y = (rng.random(4000) < 1 / (1 + np.exp(-m))).astype(float)
    r = pf.bradley_terry_reward(phi, pairs, y)
    assert scipy.stats.spearmanr(phi @ r, phi @ r_true).statistic > 0.9


def test_preference_conditioned_imitation_weights_and_policy():
    states = np.array([[0, 1], [0, 1], [0, 0]])
    actions = np.array([[1, 1], [0, 0], [0, 0]])
    pairs = np.array([[0, 1], [0, 2], [0, 1], [0, 2]])
    prefs = np.ones(4)  # trajectory 0 always preferred
    pi, w = pf.preference_conditioned_imitation(states, actions, 2, 2, pairs, prefs, bandwidth=1e-3)
    assert w[0] == 1.0 and w[1] < 1e-100 and w[2] < 1e-100
    assert pi == pytest.approx(np.array([[0.0, 1.0], [0.0, 1.0]]))  # trajectory 0's actions
    pi_wide, w_wide = pf.preference_conditioned_imitation(states, actions, 2, 2, pairs, prefs, bandwidth=1e6)
    assert w_wide == pytest.approx(np.ones(3))
    assert pi_wide[1] == pytest.approx([0.5, 0.5]) and pi_wide[0] == pytest.approx([3 / 4, 1 / 4])  # plain BC


def test_refusals():
    with pytest.raises(ValueError, match="pairs"):
        pf.bradley_terry_reward(np.eye(3), np.array([[0, 5]]), [1.0])
    with pytest.raises(ValueError, match="preferences"):
        pf.bradley_terry_reward(np.eye(3), np.array([[0, 1]]), [2.0])
    with pytest.raises(ValueError, match="actions"):
        pf.trajectory_features(np.zeros((2, 3), int), np.zeros((2, 2), int), 2, 2)

"""WSRL's linear-TD stability oracle (issue 19): on-policy margin, tabular negative control, off-policy breakdown."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import generators, planning
from theory_rl.algorithms.o2o import expected_td, td_fixed_point, td_stability
from theory_rl.mdp import TabularMDP


def _setup(seed, S=5, A=2, d=3, gamma=0.9):
    mdp = generators.garnet(S, A, 3, gamma=gamma, seed=seed)
    rng = np.random.default_rng(seed)
    phi = rng.normal(size=(S, A, d))
    pi = rng.dirichlet(np.ones(A), size=S)
    return mdp, phi, pi, rng


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), gamma=st.sampled_from([0.5, 0.9, 0.99]))
def test_expected_td_against_a_loop(seed, gamma):
    mdp, phi, pi, rng = _setup(seed, gamma=gamma)
    mu = rng.dirichlet(np.ones(mdp.S * mdp.A)).reshape(mdp.S, mdp.A)
    A, b = expected_td(mdp, phi, pi, mu)
    A_ref, b_ref = np.zeros_like(A), np.zeros_like(b)
    for s in range(mdp.S):
        for a in range(mdp.A):
            nxt = sum(mdp.P[s, a, t] * pi[t, c] * phi[t, c] for t in range(mdp.S) for c in range(mdp.A))
            A_ref += mu[s, a] * np.outer(phi[s, a], phi[s, a] - gamma * nxt)
            b_ref += mu[s, a] * phi[s, a] * mdp.R[s, a]
    np.testing.assert_allclose(A, A_ref, atol=1e-12)
    np.testing.assert_allclose(b, b_ref, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), gamma=st.sampled_from([0.5, 0.9, 0.99]))
def test_on_policy_occupancy_gives_the_margin_one_minus_sqrt_gamma(seed, gamma):
    mdp, phi, pi, _ = _setup(seed, gamma=gamma)
    mu = planning.occupancy(mdp, pi)
    A, b = expected_td(mdp, phi, pi, mu)
    G = phi.reshape(-1, phi.shape[2]).T @ (mu.reshape(-1, 1) * phi.reshape(-1, phi.shape[2]))
    stab = td_stability(A, G)
    assert stab["relative_margin"] >= 1 - np.sqrt(gamma) - 1e-9
    assert stab["min_real_eig"] > 0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_tabular_features_are_stable_for_any_buffer(seed):
    """The negative control: one-hot features, any full-support mu, any target: eig(A) in the right half plane."""
    mdp, _, pi, rng = _setup(seed, gamma=0.99)
    mu = rng.dirichlet(np.full(mdp.S * mdp.A, 0.3)).reshape(mdp.S, mdp.A) + 1e-6
    mu /= mu.sum()
    onehot = np.eye(mdp.S * mdp.A).reshape(mdp.S, mdp.A, -1)
    A, _ = expected_td(mdp, onehot, pi, mu)
    assert td_stability(A)["min_real_eig"] > 0


def test_off_policy_data_can_break_it():
    """The w, 2w example (Tsitsiklis & Van Roy 1997; Sutton & Barto Sec. 11.2): data only at the first state,
    features 1 and 2, gamma > 1/2: A = 1 - 2 gamma < 0; the same features on the on-policy occupancy are stable."""
    P = np.zeros((2, 1, 2))
    P[:, 0, 1] = 1.0
    mdp = TabularMDP(P, np.zeros((2, 1)), np.array([1.0, 0.0]), gamma=0.9)
    phi = np.array([[[1.0]], [[2.0]]])
    A, _ = expected_td(mdp, phi, np.zeros(2, int), np.array([[1.0], [0.0]]))
    assert td_stability(A)["min_real_eig"] == pytest.approx(1 - 2 * 0.9)
    A_on, _ = expected_td(mdp, phi, np.zeros(2, int), planning.occupancy(mdp, np.zeros(2, int)))
    assert td_stability(A_on)["min_real_eig"] > 0
    # and random off-policy buffers on random features break it too, while on-policy ones never do
    broken = 0
    for seed in range(200):
        mdp, phi, pi, rng = _setup(seed, gamma=0.99, d=2)
        mu = rng.dirichlet(np.full(mdp.S * mdp.A, 0.3)).reshape(mdp.S, mdp.A)
        broken += td_stability(expected_td(mdp, phi, pi, mu)[0])["min_real_eig"] < 0
    assert broken > 0


def test_fixed_point_is_the_limit_of_the_expected_update():
    mdp, phi, pi, _ = _setup(7, gamma=0.9)
    A, b = expected_td(mdp, phi, pi, planning.occupancy(mdp, pi))
    w = np.zeros(phi.shape[2])
    alpha = 1.0 / np.abs(np.linalg.eigvals(A)).max() / 2
    for _ in range(200_00):
        w = w + alpha * (b - A @ w)
    np.testing.assert_allclose(w, td_fixed_point(A, b), rtol=1e-8, atol=1e-10)
    with pytest.raises(ValueError, match="singular"):
        td_fixed_point(np.zeros((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="G"):
        td_stability(np.eye(2), -np.eye(2))

"""FactoredLinearMDP (issue 15, item 4): per-factor validation, exact planning through the factorisation against
dense tabular planning, the latent sampler's law (exact enumeration of its tables and a chi-square test), and the
generator of random factored models. Dense forms are materialised here, in the tests only, on small instances."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tests.strategies import factored_linear_models
from theory_rl import planning
from theory_rl.generators.linear import random_factored_linear_mdp, random_linear_mdp
from theory_rl.linear import (
    FactoredLinearMDP,
    LatentSampler,
    LinearMDP,
    linear_backward_induction,
    linear_evaluate,
    linear_weights,
)
from theory_rl.linear.latent import alias_law

factored_models = factored_linear_models


def _dense(F):
    return F.to_linear().to_tabular()


# -- construction and validation -----------------------------------------------------------------------------------
def test_million_state_model_is_stored_by_its_factors():
    F = random_factored_linear_mdp(1_000_000, 2, 3, 50, seed=0)
    assert F.nbytes < 100e6  # the kernel (H, S, A, S) would be 8e14 bytes
    assert F.phi.shape == (1_000_000, 2, 3) and F.mu.shape == (3, 1_000_000)
    with pytest.raises(ValueError, match="needs"):
        F.to_linear()


def test_round_trip_with_the_dense_linear_mdp():
    L = random_linear_mdp(5, 3, 4, 3, seed=2)
    F = FactoredLinearMDP.from_linear(L)
    back = F.to_linear()
    assert np.abs(back.P - L.P).max() < 1e-15 and np.abs(back.R - L.R).max() < 1e-15
    for h in range(3):
        V = np.arange(5.0)
        assert np.abs(F.expected_next(h, V) - L.expected_next(h, V)).max() < 1e-13
        occ = np.full((5, 3), 1 / 15)
        assert np.abs(F.push_forward(h, occ) - L.push_forward(h, occ)).max() < 1e-15
        assert np.abs(F.stage_reward(h) - L.stage_reward(h)).max() < 1e-15


def _simplex_parts(seed=0):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(2), size=(3, 2)), rng.dirichlet(np.ones(3), size=2), rng.random((2, 2)), \
        np.full(3, 1 / 3)


def test_refuses_rows_that_do_not_sum_to_one():
    phi, mu, theta, init = _simplex_parts()
    phi[1, 0] *= 1.01
    with pytest.raises(ValueError, match=r"P\[0, 1, 0\] = phi_h\(s, a\) @ mu_h sums to"):
        FactoredLinearMDP(phi, mu, theta, init)
    phi, mu, theta, init = _simplex_parts()
    mu[1] *= 0.5
    with pytest.raises(ValueError, match="sums to"):
        FactoredLinearMDP(phi, mu, theta, init)


def test_refuses_rewards_outside_unit_interval_and_bad_shapes():
    phi, mu, theta, init = _simplex_parts()
    theta[1] = [1.5, 1.2]
    with pytest.raises(ValueError, match=r"R\[1, .*expected a mean reward in \[0, 1\]"):
        FactoredLinearMDP(phi, mu, theta, init)
    phi, mu, theta, init = _simplex_parts()
    with pytest.raises(ValueError, match="mu"):
        FactoredLinearMDP(phi, mu[:, :2], theta, init)
    with pytest.raises(ValueError, match="phi has feature dimension"):
        FactoredLinearMDP(phi[..., :1], mu, theta, init)
    with pytest.raises(ValueError, match="init"):
        FactoredLinearMDP(phi, mu, theta, np.array([0.5, 0.5, 0.5]))
    with pytest.raises(ValueError, match="horizon"):
        FactoredLinearMDP(phi, mu, theta, init, horizon=3)
    phi[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="phi"):
        FactoredLinearMDP(phi, mu, theta, init)


def _signed(eps):
    """d = 2: phi(s, a) = (1, c_sa), mu_0 = q, mu_1 = eps * (e_0 - e_1): rows sum to 1, P >= 0 iff eps small."""
    c = np.array([[1.0, -1.0], [0.5, 0.0], [-0.3, 0.2]])
    phi = np.stack([np.ones_like(c), c], axis=-1)
    mu = np.array([[0.2, 0.3, 0.5], [eps, -eps, 0.0]])
    return phi, mu, np.zeros((2, 2)), np.full(3, 1 / 3)


def test_signed_factors_are_certified_or_refused():
    F = FactoredLinearMDP(*_signed(0.1))
    assert not F.nonnegative
    assert np.abs(_dense(F).stage_P.sum(-1) - 1).max() < 1e-14 and _dense(F).stage_P.min() >= 0
    with pytest.raises(ValueError, match=r"P\[0, 0, 0, 1\] = <phi, mu> is -0.2, expected a probability >= 0"):
        FactoredLinearMDP(*_signed(0.5))
    with pytest.raises(ValueError, match="max_check"):
        FactoredLinearMDP(*_signed(0.1), max_check=10)
    with pytest.raises(ValueError, match="signed factors"):
        LatentSampler(F)


def test_model_is_immutable():
    F = random_factored_linear_mdp(4, 2, 3, 2, seed=0)
    with pytest.raises(AttributeError):
        F.theta = None
    with pytest.raises(ValueError):
        F.phi[0, 0, 0] = 1.0


# -- exact planning through the factorisation ------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(factored_models())
def test_backward_induction_matches_dense_tabular_planning(F):
    ref = planning.backward_induction(_dense(F))
    res = linear_backward_induction(F)
    assert np.abs(res.V - ref.V).max() < 1e-12
    assert np.abs(res.Q - ref.Q).max() < 1e-12
    assert res.constants["form"] == "factored" and res.converged
    dense = linear_backward_induction(F.to_linear())  # the same code path on the dense operators
    assert dense.constants["form"] == "dense" and np.abs(dense.Q - ref.Q).max() < 1e-12
    # Q_h = phi_h w_h with w_h = theta_h + mu_h V_{h+1} (Jin et al. 2020, Prop. 2.3)
    w = linear_weights(F, res.V)
    assert np.abs(np.einsum("hsad,hd->hsa", F.stage_phi, w) - res.Q).max() < 1e-12


@settings(max_examples=40, deadline=None)
@given(factored_models(), st.integers(0, 2**32 - 1), st.booleans())
def test_evaluation_matches_dense_tabular_evaluation(F, seed, stochastic):
    rng = np.random.default_rng(seed)
    pol = rng.dirichlet(np.ones(F.A), size=(F.H, F.S)) if stochastic else rng.integers(F.A, size=(F.H, F.S))
    assert np.abs(linear_evaluate(F, pol) - planning.evaluate(_dense(F), pol)).max() < 1e-12
    stat = pol[0]  # stationary form too
    assert np.abs(linear_evaluate(F, stat) - planning.evaluate(_dense(F), stat)).max() < 1e-12


def test_evaluation_refuses_bad_policies():
    F = random_factored_linear_mdp(4, 2, 3, 2, seed=0)
    with pytest.raises(ValueError, match="policy"):
        linear_evaluate(F, np.full((2, 4), 2))
    with pytest.raises(ValueError, match="policy"):
        linear_evaluate(F, np.zeros((3, 4), int))
    with pytest.raises(ValueError, match="policy"):
        linear_evaluate(F, np.full((4, 2), 0.7))


# -- the latent sampler -------------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(factored_models())
def test_sampler_tables_enumerate_to_the_dense_kernel(F):
    """Exact enumeration: the law the kernel draws from (latent weights x alias tables) is P_h(. | s, a)."""
    P = _dense(F).stage_P
    smp = LatentSampler(F)
    for h in range(F.H):
        for s in range(F.S):
            for a in range(F.A):
                assert np.abs(smp.transition_law(h, s, a) - P[h, s, a]).max() < 1e-12
    prob, alias = smp._init_prob, smp._init_alias  # noqa: SLF001 - the tables under test
    assert np.abs(alias_law(prob, alias) - F.init).max() < 1e-12


def test_sampler_law_chi_square():
    """End to end: joint counts of (s_h, a_h, s_{h+1}) under a stochastic policy against the exact
    d_h(s) pi(a | s) P_h(s' | s, a). Fixed seed; each of the H tests rejects with probability 1e-6 under the null,
    so a correct sampler fails with probability <= 3e-6."""
    F = random_factored_linear_mdp(5, 2, 3, 3, seed=11, stationary=False)
    pi = np.random.default_rng(1).dirichlet(np.ones(2), size=(3, 5))
    n = 60_000
    states, actions, rewards = LatentSampler(F).rollouts(pi, n, 123)
    P = _dense(F).stage_P
    dist = F.init.copy()
    for h in range(F.H):
        expected = (dist[:, None, None] * pi[h][:, :, None] * P[h]).ravel() * n
        idx = (states[:, h] * F.A + actions[:, h]) * F.S + states[:, h + 1]
        observed = np.bincount(idx, minlength=F.S * F.A * F.S)
        keep = expected > 0
        assert observed[~keep].sum() == 0
        assert stats.chisquare(observed[keep], expected[keep]).pvalue > 1e-6
        dist = F.push_forward(h, dist[:, None] * pi[h])
    # Bernoulli rewards: mean over all steps against the exact expected return (5 standard errors)
    V = linear_evaluate(F, pi)[0] @ F.init
    assert abs(rewards.sum(axis=1).mean() - V) < 5 * rewards.sum(axis=1).std() / np.sqrt(n)


def test_episode_equals_batched_rollouts_from_the_same_stream():
    F = random_factored_linear_mdp(50, 3, 4, 6, seed=3)
    pol = np.random.default_rng(0).integers(3, size=(6, 50))
    smp = LatentSampler(F)
    one = smp.episode(lambda h, s: pol[h, s], np.random.default_rng(9))
    batch = smp.rollouts(pol, 1, np.random.default_rng(9))
    for x, y in zip(one, batch, strict=True):
        assert np.array_equal(x, y[0])
    with pytest.raises(ValueError, match="act"):
        smp.episode(lambda h, s: 7, np.random.default_rng(0))


def test_sampler_memory_is_d_tables_over_S():
    F = random_factored_linear_mdp(100_000, 4, 5, 10, seed=0)
    smp = LatentSampler(F)
    assert smp.nbytes <= 12 * (F.d + 1) * F.S + 64  # d alias tables over S (+ init), not S A tables
    s, a, r = smp.rollouts(np.zeros(F.S, int), 100, 0)
    assert s.shape == (100, 11) and (a == 0).all() and set(np.unique(r)) <= {0.0, 1.0}


# -- the generator --------------------------------------------------------------------------------------------------
def test_generator_is_seeded_and_simplex():
    F = random_factored_linear_mdp(30, 2, 4, 5, seed=7)
    G = random_factored_linear_mdp(30, 2, 4, 5, seed=7)
    assert np.array_equal(F.phi, G.phi) and np.array_equal(F.mu, G.mu) and np.array_equal(F.theta, G.theta)
    assert not np.array_equal(F.phi, random_factored_linear_mdp(30, 2, 4, 5, seed=8).phi)
    assert np.abs(F.phi.sum(-1) - 1).max() < 1e-12 and np.abs(F.mu.sum(-1) - 1).max() < 1e-12
    assert F.nonnegative and F.phi.shape == (30, 2, 4) and F.mu.shape == (4, 30)
    P = random_factored_linear_mdp(30, 2, 4, 5, seed=7, stationary=False)
    assert P.phi.shape == (5, 30, 2, 4) and P.mu.shape == (5, 4, 30)
    tiny = random_factored_linear_mdp(20, 2, 3, 2, seed=0, concentration=1e-4)
    assert np.abs(tiny.phi.sum(-1) - 1).max() < 1e-12
    assert isinstance(F.to_linear(), LinearMDP)


def test_nonnegative_non_simplex_factors_sample_by_reweighted_latents():
    """phi rows summing to 1/2 and mu rows to 2: the latent weights are phi_i * mass_i, still the law of phi mu."""
    rng = np.random.default_rng(5)
    phi = 0.5 * rng.dirichlet(np.ones(3), size=(4, 2))
    mu = 2.0 * rng.dirichlet(np.ones(4), size=3)
    F = FactoredLinearMDP(phi, mu, np.full((2, 3), 0.5), np.full(4, 0.25))
    P = _dense(F).stage_P
    smp = LatentSampler(F)
    for s in range(4):
        for a in range(2):
            assert np.abs(smp.transition_law(1, s, a) - P[1, s, a]).max() < 1e-12

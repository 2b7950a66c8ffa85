"""LinearMDP: validity, exact tabular round trip, linear-form planning against tabular planning, the data layer's
samplers on a LinearMDP, feature covariances, and the deprecated linear-only counts record and samplers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import tabular_mdps
from theory_rl import data, planning
from theory_rl.generators.linear import coverage_family, hybrid_family, random_linear_mdp
from theory_rl.linear import LinearMDP, feature_covariance


@settings(max_examples=30, deadline=None)
@given(tabular_mdps(episodic=True, max_S=5, max_A=3, max_H=4))
def test_tabular_round_trip_is_exact(mdp):
    lin = LinearMDP.from_tabular(mdp)
    assert lin.d == mdp.S * mdp.A
    back = lin.to_tabular()
    assert np.array_equal(back.stage_P, mdp.stage_P)
    assert np.array_equal(back.stage_R, mdp.stage_R)
    assert np.array_equal(back.init, mdp.init)


def _linear_backward_induction(lin):
    """Optimal values computed in the linear form only: Q_h = phi (theta_h + mu_h V_{h+1})."""
    V = np.zeros(lin.S)
    out = []
    for h in range(lin.H - 1, -1, -1):
        Q = lin.stage_phi[h] @ (lin.theta[h] + lin.mu[h] @ V)
        V = Q.max(axis=1)
        out.append(V)
    return np.array(out[::-1])


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**31))
def test_linear_planning_matches_tabular_planning(S, A, d, H, seed):
    lin = random_linear_mdp(S, A, d, H, seed=seed)
    assert lin.max_feature_norm <= 1 + 1e-12
    V = planning.solve(lin.to_tabular()).V
    np.testing.assert_allclose(_linear_backward_induction(lin), V, atol=1e-12)


def test_invalid_models_are_rejected_naming_the_entry():
    lin = hybrid_family(0.2)
    mu = np.array(lin.mu)
    mu[0, 0, 1] = -0.5
    mu[0, 0, 2] += 0.5
    with pytest.raises(ValueError, match=r"P\[0, 0, 0, 1\]"):
        lin.replace(mu=mu)
    mu = np.array(lin.mu)
    mu[0, 1, 2] = 0.9
    with pytest.raises(ValueError, match=r"sums to 0.9"):
        lin.replace(mu=mu)
    with pytest.raises(ValueError, match=r"R\[1, 1, 0\]"):
        lin.replace(theta=[[0, 0], [1.5, 0.5]])
    with pytest.raises(ValueError, match="feature dimension"):
        LinearMDP(np.ones((3, 2, 3)), lin.mu, lin.theta, lin.init)
    with pytest.raises(ValueError, match="init"):
        lin.replace(init=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="mdp must be finite-horizon"):
        LinearMDP.from_tabular(planning.TabularMDP(np.ones((1, 1, 1)), [[0.0]], [1.0], gamma=0.5))
    with pytest.raises(ValueError, match=r"reach\[0\]"):
        coverage_family([0.0])
    with pytest.raises(AttributeError):
        lin.theta = 0


def _rollout_counts(lin, policy, n, seed, weights=None):
    builder = data.CountsBuilder(lin.S, lin.A, horizon=lin.H)
    builder.add_episode(*data.sample_rollouts(lin, policy, n, seed, weights=weights))
    return builder.to_counts()


@pytest.mark.parametrize("kind", ["deterministic mixture", "stochastic"])
def test_counted_rollouts_and_direct_count_sampler_agree_in_distribution(kind):
    lin = random_linear_mdp(4, 2, 3, 3, seed=3)
    rng = np.random.default_rng(0)
    if kind == "stochastic":
        policy, weights = rng.dirichlet(np.ones(2), size=(3, 4)), None
    else:
        policy, weights = list(rng.integers(0, 2, size=(2, 3, 4))), [0.3, 0.7]
    n = 20_000
    c1 = _rollout_counts(lin, policy, n, 1, weights)
    c2 = data.sample_policy_counts(lin, policy, n, 2, weights=weights)
    assert c2.horizon == lin.H and c2.transition_counts.shape == (3, 4, 2, 4)
    assert c1.counts.sum() == c2.counts.sum() == n * lin.H
    np.testing.assert_array_equal(c2.transition_counts.sum(axis=-1), c2.counts)
    # Each count is a sum of n Bernoullis: |difference| <= 6 sigma fails with probability < 1e-8 per entry.
    for a, b in ((c1.counts, c2.counts), (c1.transition_counts, c2.transition_counts)):
        p = a / n
        sigma = np.sqrt(2 * n * p * (1 - p)) + 1
        assert (np.abs(a - b) <= 6 * sigma).all()
    p = c1.counts / n
    sigma = np.sqrt(2 * n * p * (1 - p)) + 1
    assert (np.abs(c1.reward_sums - c2.reward_sums) <= 6 * sigma + 6 * np.sqrt(n)).all()


def test_direct_count_sampler_is_exact_for_a_deterministic_chain_and_checks_its_input():
    lin = hybrid_family(0.3)  # s0 --explore (0)--> u w.p. p, else c; safe (1) --> c
    c = data.sample_policy_counts(lin, np.array([[1, 0, 0], [0, 0, 0]]), 50, 0)
    assert c.counts[0, 0, 1] == 50 and c.transition_counts[0, 0, 1, 2] == 50 and c.counts[1, 2, 0] == 50
    assert data.sample_policy_counts(lin, np.zeros((2, 3), int), 0, 0).n == 0
    with pytest.raises(ValueError, match="discounted"):
        data.sample_policy_counts(planning.TabularMDP(np.ones((1, 1, 1)), [[0.0]], [1.0], gamma=0.5), [0], 3, 0)
    with pytest.raises(ValueError, match=r"policy\[1, 0, 0\] is 5, expected a value in 0..1"):  # a stack
        data.sample_policy_counts(lin, [np.zeros((2, 3), int), np.full((2, 3), 5)], 3, 0, weights=[0.5, 0.5])
    with pytest.raises(ValueError, match=r"policy\[1\]"):  # policies of several forms: checked one by one
        data.sample_policy_counts(lin, [np.full((3, 2), 0.5), np.full((2, 3), 5)], 3, 0, weights=[0.5, 0.5])
    with pytest.raises(ValueError, match="weights"):
        data.sample_policy_counts(lin, [np.zeros((2, 3), int)], 3, 0, weights=[0.5, 0.6])
    with pytest.raises(ValueError, match="n_episodes is -1"):
        data.sample_policy_counts(lin, np.zeros((2, 3), int), -1, 0)


def test_sample_generative_hits_the_prescribed_counts():
    lin = hybrid_family(0.3)
    n_sa = np.zeros((2, 3, 2))
    n_sa[0, 0, 0] = 1000
    n_sa[1, 1, 0] = 7
    d = data.sample_generative(lin, n_sa, 0)
    assert isinstance(d, data.CountDataset) and d.horizon == 2 and d.counts.dtype == np.int64
    assert np.array_equal(d.counts, n_sa)
    assert d.reward_sums[1, 1, 0] <= 7
    # Binomial(1000, 0.3) for u: 6 sigma = 87.
    assert abs(d.transition_counts[0, 0, 0, 1] - 300) < 87
    with pytest.raises(ValueError, match=r"n_per_pair\[0, 0, 0\]"):
        data.sample_generative(lin, -n_sa, 0)
    with pytest.raises(ValueError, match="n_per_pair has shape"):
        data.sample_generative(lin, n_sa[0], 0)
    with pytest.raises(ValueError, match="seed"):
        data.sample_generative(lin, n_sa, None)
    assert np.array_equal(data.sample_generative(lin, 4, 0).counts, np.full((2, 3, 2), 4))


def test_feature_covariance_is_the_sum_of_outer_products():
    lin = random_linear_mdp(3, 2, 2, 2, seed=0)
    d = data.sample_generative(lin, np.arange(12).reshape(2, 3, 2), 0)
    cov = feature_covariance(d.counts, lin.phi)
    for h in range(2):
        want = sum(d.counts[h, s, a] * np.outer(lin.stage_phi[h, s, a], lin.stage_phi[h, s, a])
                   for s in range(3) for a in range(2))
        np.testing.assert_allclose(cov[h], want, rtol=1e-12)
        np.testing.assert_allclose(feature_covariance(d.counts[h], lin.stage_phi[h]), want, rtol=1e-12)
    np.testing.assert_allclose(feature_covariance(d.counts, lin.stage_phi), cov, rtol=1e-12)
    with pytest.raises(ValueError, match="phi has shape"):
        feature_covariance(d.counts, np.ones((3, 3, 2)))
    with pytest.raises(ValueError, match="counts has a negative entry"):
        feature_covariance(-d.counts, lin.phi)
    with pytest.raises(ValueError, match="counts"):
        feature_covariance(np.full((2, 3, 2), np.nan), lin.phi)


def test_linear_mdp_renormalises_tolerated_rows_and_validates_reward_std():
    # P = [1 + 5e-11, 0] is accepted within tol = 1e-10; it used to reach numpy's multinomial unnormalised.
    phi = np.ones((2, 1, 1))
    lin = LinearMDP(phi, np.array([[[1 + 5e-11, 0.0]]]), np.zeros((1, 1)), np.array([1.0, 0.0]))
    assert np.array_equal(lin.P.sum(axis=-1), np.ones((1, 2, 1)))
    c = data.sample_generative(lin, np.ones((1, 2, 1)), 0)
    assert c.transition_counts.sum() == 2
    assert data.sample_policy_counts(lin, np.zeros((1, 2), dtype=int), 5, 0).transition_counts.sum() == 5
    # A clipped round-off negative entry: the row is renormalised too.
    lin = LinearMDP(phi, np.array([[[1 + 5e-11, -5e-11]]]), np.zeros((1, 1)), np.array([1.0, 0.0]))
    assert np.array_equal(lin.P[0, 0, 0], [1.0, 0.0])
    for std in (-1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="reward_std"):
            LinearMDP(phi, np.array([[[1.0, 0.0]]]), np.zeros((1, 1)), np.array([1.0, 0.0]),
                      reward_noise="gaussian", reward_std=std)  # fmt: skip


def test_validation_refuses_nan_tolerance_bad_noise_and_fractional_states():
    lin = hybrid_family(0.2)
    args = (lin.phi, lin.mu, lin.theta, lin.init)
    for tol in (float("nan"), float("inf"), -1e-3, 0.5, 1j):
        with pytest.raises(ValueError, match="tol is"):
            LinearMDP(*args, tol=tol)
    with pytest.raises(ValueError, match="reward_noise is 'poisson'"):
        LinearMDP(*args, reward_noise="poisson")
    with pytest.raises(ValueError, match="reward_std is nan"):
        LinearMDP(*args, reward_std=float("nan"))
    with pytest.raises(ValueError, match="n_episodes is -1"):
        data.sample_rollouts(lin, np.zeros((2, 3), dtype=int), -1, 0)
    with pytest.raises(ValueError, match=r"n_per_pair\[0, 0, 0\] is 0.5"):
        data.sample_generative(lin, np.full((2, 3, 2), 0.5), 0)
    with pytest.raises(ValueError, match="concentration is nan"):
        random_linear_mdp(2, 2, 2, 2, seed=0, concentration=float("nan"))
    with pytest.raises(ValueError, match="p is 0.0"):
        hybrid_family(0.0)


def test_deprecated_aliases_warn_and_point_to_the_new_names():
    import theory_rl.generators.linear as gl
    import theory_rl.linear as tl
    from theory_rl.linear import _deprecated

    for old, new in (("random_linear_mdp", gl.random_linear_mdp), ("coverage_family", gl.coverage_family),
                     ("hybrid_family", gl.hybrid_family), ("sample_transitions", _deprecated.sample_generative_counts),
                     ("Counts", _deprecated.Counts), ("sample_episodes", _deprecated.sample_episodes),
                     ("sample_policy_counts", _deprecated.sample_policy_counts),
                     ("sample_generative_counts", _deprecated.sample_generative_counts),
                     ("sample_rewards", _deprecated.sample_rewards)):
        with pytest.warns(DeprecationWarning, match=f"theory_rl.linear.{old} is deprecated"):
            assert getattr(tl, old) is new
        assert old not in tl.__all__
    with pytest.warns(DeprecationWarning, match="theory_rl.linear.sample_episodes is deprecated"):
        from theory_rl.linear.sampling import sample_episodes  # noqa: F401 - the old module path
    with pytest.warns(DeprecationWarning, match="linear.counts.Counts is deprecated"):
        from theory_rl.linear.counts import Counts  # noqa: F401
    with pytest.raises(AttributeError):
        tl.no_such_name  # noqa: B018


def test_deprecated_aliases_build_on_the_data_layer():
    """The old linear-only record and samplers return the ONE counts record, drawn by the data layer's samplers
    (the same draws for the same seed), with the old signatures and the old default (a uniform mixture)."""
    from theory_rl.linear import _deprecated as old

    lin = hybrid_family(0.3)
    n_sa = np.full((2, 3, 2), 3.0)
    a, b = old.sample_generative_counts(lin, n_sa, seed=5), data.sample_generative(lin, n_sa, 5)
    for name in ("counts", "transition_counts", "reward_sums"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    pols = np.stack([np.zeros((2, 3), int), np.ones((2, 3), int)])
    s, act, r = old.sample_episodes(lin, pols, 10, seed=1)
    want = data.sample_rollouts(lin, list(pols), 10, 1, weights=[0.5, 0.5])
    np.testing.assert_array_equal(s, want.states)
    np.testing.assert_array_equal(r, want.rewards)
    c = old.sample_policy_counts(lin, pols[0], 7, seed=2)
    np.testing.assert_array_equal(c.counts, data.sample_policy_counts(lin, pols[0], 7, 2).counts)
    rec = old.Counts.from_episodes(s, act, r, lin.S, lin.A)
    assert isinstance(rec, data.CountDataset) and rec.horizon == 2 and rec.n == 20
    same = old.Counts(rec.transition_counts, rec.reward_sums)
    np.testing.assert_array_equal(same.counts, rec.counts)
    assert old.Counts.zeros(2, 3, 2).transition_counts.shape == (2, 3, 2, 3)
    with pytest.raises(ValueError, match=r"actions\[0, 0\] is 2, expected a value in 0..1"):
        old.Counts.from_episodes(np.array([[0, 0]]), np.array([[2]]), np.ones((1, 1)), 3, 2)
    R = np.array([0.0, 0.3, 1.0])
    np.testing.assert_array_equal(old.sample_rewards(R, noise="bernoulli", std=0.0, seed=0),
                                  data.sample_rewards(np.random.default_rng(0), R, "bernoulli"))
    with pytest.raises(ValueError, match="noise is 'uniform'"):
        old.sample_rewards(R, noise="uniform", std=0.1, seed=0)

"""LinearMDP: validity, exact tabular round trip, linear-form planning against tabular planning, samplers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import tabular_mdps
from theory_rl import planning
from theory_rl.generators.linear import coverage_family, hybrid_family, random_linear_mdp
from theory_rl.linear import (
    Counts,
    LinearMDP,
    sample_episodes,
    sample_generative_counts,
    sample_policy_counts,
)


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


def test_counts_from_episodes_and_direct_count_sampler_agree_in_distribution():
    lin = random_linear_mdp(4, 2, 3, 3, seed=3)
    pols = np.random.default_rng(0).integers(0, 2, size=(2, 3, 4))
    n = 20_000
    s, a, r = sample_episodes(lin, pols, n, seed=1, weights=[0.3, 0.7])
    c1 = Counts.from_episodes(s, a, r, lin.S, lin.A)
    c2 = sample_policy_counts(lin, pols, n, seed=2, weights=[0.3, 0.7])
    assert c1.n_sa.sum() == c2.n_sa.sum() == n * lin.H
    # Each count is a sum of n Bernoullis: |difference| <= 6 sigma fails with probability < 1e-8 per entry.
    p = c1.n_sa / n
    sigma = np.sqrt(2 * n * p * (1 - p)) + 1
    assert (np.abs(c1.n_sa - c2.n_sa) <= 6 * sigma).all()
    assert (np.abs(c1.reward_sums - c2.reward_sums) <= 6 * sigma + 6 * np.sqrt(n)).all()


def test_sample_transitions_hits_the_prescribed_counts():
    lin = hybrid_family(0.3)
    n_sa = np.zeros((2, 3, 2))
    n_sa[0, 0, 0] = 1000
    n_sa[1, 1, 0] = 7
    data = sample_generative_counts(lin, n_sa, seed=0)
    assert np.array_equal(data.n_sa, n_sa)
    assert data.reward_sums[1, 1, 0] <= 7
    # Binomial(1000, 0.3) for u: 6 sigma = 87.
    assert abs(data.N[0, 0, 0, 1] - 300) < 87
    with pytest.raises(ValueError, match=r"n_sa\[0, 0, 0\]"):
        sample_generative_counts(lin, -n_sa, seed=0)
    with pytest.raises(ValueError, match="seed"):
        sample_generative_counts(lin, n_sa, seed=None)


def test_counts_from_episodes_rejects_out_of_range_entries_and_at_step_bad_h():
    S, A = 3, 2
    r = np.array([[1.0]])
    # An action A or a next state S used to be counted silently as another (step, pair, next state).
    with pytest.raises(ValueError, match=r"actions\[0, 0\] is 2, expected a value in 0..1"):
        Counts.from_episodes(np.array([[0, 0]]), np.array([[2]]), r, S, A)
    with pytest.raises(ValueError, match=r"states\[0, 1\] is 3, expected a value in 0..2"):
        Counts.from_episodes(np.array([[0, 3]]), np.array([[0]]), r, S, A)
    with pytest.raises(ValueError, match=r"states\[1, 0\] is -1"):
        Counts.from_episodes(np.array([[0, 1], [-1, 0]]), np.array([[0], [0]]), np.ones((2, 1)), S, A)
    with pytest.raises(ValueError, match=r"rewards\[0, 0\] is nan"):
        Counts.from_episodes(np.array([[0, 1]]), np.array([[0]]), np.array([[np.nan]]), S, A)
    c = Counts.from_episodes(np.array([[0, 1, 2]]), np.array([[1, 0]]), np.array([[0.5, 1.0]]), S, A)
    assert c.N[0, 0, 1, 1] == 1 and c.N[1, 1, 0, 2] == 1 and c.N.sum() == 2
    assert c.at_step(1).N.sum() == 1 and c.at_step(1).N[1, 1, 0, 2] == 1
    for h in (-1, 2, 1.0):
        with pytest.raises(ValueError, match=r"h is .*expected an integer"):
            c.at_step(h)


def test_linear_mdp_renormalises_tolerated_rows_and_validates_reward_std():
    # P = [1 + 5e-11, 0] is accepted within tol = 1e-10; it used to reach numpy's multinomial unnormalised.
    phi = np.ones((2, 1, 1))
    lin = LinearMDP(phi, np.array([[[1 + 5e-11, 0.0]]]), np.zeros((1, 1)), np.array([1.0, 0.0]))
    assert np.array_equal(lin.P.sum(axis=-1), np.ones((1, 2, 1)))
    c = sample_generative_counts(lin, np.ones((1, 2, 1)), seed=0)
    assert c.N.sum() == 2
    assert sample_policy_counts(lin, np.zeros((1, 1, 2), dtype=int), 5, seed=0).N.sum() == 5
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
    r = np.zeros((1, 1))
    with pytest.raises(ValueError, match="states must be an integer array"):
        Counts.from_episodes(np.array([[0, 1.7]]), np.array([[0]]), r, 3, 2)
    with pytest.raises(ValueError, match="actions must be an integer array"):
        Counts.from_episodes(np.array([[0, 1]]), np.array([[0.5]]), r, 3, 2)
    with pytest.raises(ValueError, match="S is 0"):
        Counts.from_episodes(np.array([[0, 1]]), np.array([[0]]), r, 0, 2)
    with pytest.raises(ValueError, match="n_episodes is -1"):
        sample_episodes(lin, np.zeros((2, 3), dtype=int), -1, seed=0)
    with pytest.raises(ValueError, match="n_sa"):
        sample_generative_counts(lin, np.full((2, 3, 2), 0.5), seed=0)
    with pytest.raises(ValueError, match="concentration is nan"):
        random_linear_mdp(2, 2, 2, 2, seed=0, concentration=float("nan"))
    with pytest.raises(ValueError, match="p is 0.0"):
        hybrid_family(0.0)


def test_sample_rewards_is_the_models_noise():
    from theory_rl.linear import sample_rewards

    R = np.array([0.0, 0.3, 1.0])
    b = sample_rewards(np.tile(R, (20000, 1)), noise="bernoulli", std=0.0, seed=0)
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b[:, 1].mean() - 0.3) < 0.02  # 4.9 sd: false failure ~1e-6
    assert (b[:, 0] == 0).all() and (b[:, 2] == 1).all()
    np.testing.assert_array_equal(sample_rewards(R, noise="deterministic", std=0.1, seed=0), R)
    g = sample_rewards(np.zeros(20000), noise="gaussian", std=2.0, seed=1)
    assert abs(g.std() - 2.0) < 0.1
    with pytest.raises(ValueError, match="noise is 'uniform'"):
        sample_rewards(R, noise="uniform", std=0.1, seed=0)


def test_deprecated_aliases_warn_and_point_to_the_new_names():
    import theory_rl.generators.linear as gl
    import theory_rl.linear as tl

    for old, new in (("random_linear_mdp", gl.random_linear_mdp), ("coverage_family", gl.coverage_family),
                     ("hybrid_family", gl.hybrid_family), ("sample_transitions", sample_generative_counts)):
        with pytest.warns(DeprecationWarning, match=f"theory_rl.linear.{old} is deprecated"):
            assert getattr(tl, old) is new
        assert old not in tl.__all__
    with pytest.raises(AttributeError):
        tl.no_such_name  # noqa: B018

"""PEVI and LSVI-UCB: exact limits, pessimism on the good event, rank-one inverses."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import planning
from theory_rl.algorithms.linear import lsvi_ucb, pevi, pevi_good_event, ridge, sherman_morrison
from theory_rl.data import CountDataset, CountsBuilder, sample_generative
from theory_rl.generators.linear import hybrid_family, random_linear_mdp


def _empty(H, S, A) -> CountDataset:
    return CountsBuilder(S, A, horizon=H).to_counts()


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 40), st.integers(0, 2**31))
def test_sherman_morrison_stream_equals_inverse(d, n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    inv = np.eye(d)
    for x in X:
        inv = sherman_morrison(inv, x)
    np.testing.assert_allclose(inv, np.linalg.inv(np.eye(d) + X.T @ X), rtol=1e-8, atol=1e-10)


def test_ridge_matches_augmented_least_squares():
    rng = np.random.default_rng(0)
    Phi, y = rng.normal(size=(30, 4)), rng.normal(size=30)
    aug = np.linalg.lstsq(np.vstack([Phi, np.sqrt(2.0) * np.eye(4)]), np.r_[y, np.zeros(4)], rcond=None)[0]
    np.testing.assert_allclose(ridge(Phi, y, 2.0), aug, atol=1e-12)


def test_pevi_without_penalty_on_exact_expected_data_is_backward_induction():
    lin = random_linear_mdp(5, 3, 3, 4, seed=7)
    n = 1e6
    # the population version of the data: every (h, s, a) seen n times
    exact = CountDataset(np.full(lin.R.shape, n), n * lin.P, n * lin.R, lin.S, lin.A, horizon=lin.H)
    res = pevi(lin.phi, exact, penalty_scale=0.0, lam=1e-9)
    opt = planning.solve(lin.to_tabular())
    np.testing.assert_allclose(res.V, opt.V, atol=1e-8)


def test_pevi_is_pessimistic_on_the_good_event():
    lin = random_linear_mdp(4, 2, 3, 3, seed=11)
    tab = lin.to_tabular()
    rng = np.random.default_rng(0)
    good = 0
    for seed in range(15):
        n_sa = rng.integers(0, 40, size=(lin.H, lin.S, lin.A))
        data = sample_generative(lin, n_sa, seed)
        res = pevi(lin.phi, data, penalty_scale=0.05)  # a small penalty so that the event sometimes fails
        if pevi_good_event(lin, res):
            good += 1
            V_pi = planning.evaluate(tab, res.policy)
            assert (res.V <= V_pi + 1e-12).all()
    assert good >= 3  # the premise must be exercised (deterministic at these seeds)


def test_pevi_picks_the_covered_optimal_policy_and_rejects_bad_input():
    lin = hybrid_family(0.1, r_safe=0.3)
    n_sa = np.zeros((2, 3, 2))
    n_sa[0, 0, 1] = n_sa[1, 2, 0] = 5000  # only pi* (the safe path) is covered
    res = pevi(lin.phi, sample_generative(lin, n_sa, 0))
    assert res.policy[0, 0] == 1
    assert res.Q[0, 0, 0] == 0.0  # the uncovered action is fully penalised
    with pytest.raises(ValueError, match="xi"):
        pevi(lin.phi, _empty(2, 3, 2), xi=0.0)
    with pytest.raises(ValueError, match="CountDataset"):
        pevi(lin.phi, n_sa)
    with pytest.raises(ValueError, match="penalty_scale"):
        pevi(lin.phi, _empty(2, 3, 2), penalty_scale=-1)
    with pytest.raises(ValueError, match="discounted CountDataset"):
        pevi(lin.phi, CountsBuilder(3, 2).to_counts())
    with pytest.raises(ValueError, match="phi has 3 stages, expected H = 2"):
        pevi(np.ones((3, 3, 2, 2)), _empty(2, 3, 2))


def test_lsvi_ucb_rank_one_inverse_and_learning():
    lin = random_linear_mdp(4, 2, 2, 2, seed=5)
    res = lsvi_ucb(lin, 400, seed=0, bonus_scale=0.2)
    phi = lin.stage_phi
    for h in range(lin.H):
        Lam = np.einsum("sa,sad,sae->de", res.data.counts[h], phi[h], phi[h]) + np.eye(lin.d)
        np.testing.assert_allclose(res.Lambda_inv[h], np.linalg.inv(Lam), rtol=1e-8, atol=1e-12)
    # The collected data are the ONE counts record: K H transitions, the played episodes' rewards.
    assert isinstance(res.data, CountDataset) and res.data.horizon == lin.H and res.data.n == 400 * lin.H
    np.testing.assert_allclose(res.data.reward_sums.sum(), res.returns.sum(), rtol=1e-12)
    v_star = float(lin.init @ planning.solve(lin.to_tabular()).V[0])
    assert res.episode_values.max() <= v_star + 1e-12
    # Fixed seed: the last 100 greedy policies are within 0.05 of optimal (measured mean gap at this seed 0.012;
    # re-measured when the episodes moved to the shared data.RolloutSampler, issue 12).
    # No theorem covers this at these constants: LSVI-UCB's regret bound (Jin et al. 2020) needs the bonus
    # constant of the theorem (bonus_scale = 0.2 is below it) and, at K = 400 episodes, d = H = 2, is not below
    # the trivial bound anyway. A deterministic regression test at a fixed seed; no probability is claimed.
    # (The rank-one inverse check above is exact up to round-off.)
    assert res.episode_values[-100:].mean() >= v_star - 0.05
    with pytest.raises(ValueError, match="n_episodes"):
        lsvi_ucb(lin, 0, seed=0)
    with pytest.raises(ValueError, match="reward"):
        lsvi_ucb(lin, 2, seed=0, reward=np.zeros((1, 1, 1)))


def test_results_share_the_vocabulary_penalty_is_elliptical_and_old_names_warn():
    from theory_rl.algorithms.linear import LSVIUCBResult, PEVIResult
    from theory_rl.penalties import elliptical
    from theory_rl.results import Result

    assert issubclass(PEVIResult, Result) and issubclass(LSVIUCBResult, Result)
    lin = random_linear_mdp(3, 2, 2, 3, seed=1)
    res = pevi(lin.phi, sample_generative(lin, np.full((3, 3, 2), 5), 0), xi=0.2)
    assert res.method == "pevi" and res.V.shape == (3, 3) and res.policy.shape == (3, 3)
    beta = res.constants["beta"]
    for h in range(3):
        np.testing.assert_allclose(res.penalty[h], elliptical(lin.stage_phi[h], np.linalg.inv(res.Lambda[h]), beta))
    with pytest.warns(DeprecationWarning, match="Gamma is deprecated"):
        assert res.Gamma is res.penalty
    with pytest.warns(DeprecationWarning, match="beta is deprecated"):
        assert res.beta == beta
    run = lsvi_ucb(lin, 5, seed=0)
    assert run.method == "lsvi_ucb" and np.array_equal(run.policy, run.Q.argmax(axis=2))
    np.testing.assert_array_equal(run.policy, run.policies[-1])
    with pytest.warns(DeprecationWarning, match="values is deprecated"):
        assert run.values is run.episode_values
    with pytest.warns(DeprecationWarning, match="beta is deprecated"):
        assert run.beta == run.constants["beta"]


def test_invalid_parameters_are_refused_by_name():
    lin = hybrid_family(0.2)
    data = _empty(2, 3, 2)
    for kw, name in ((dict(xi=float("nan")), "xi"), (dict(lam=0.0), "lam"), (dict(penalty_scale=-1.0),
                     "penalty_scale"), (dict(c=float("inf")), "c"), (dict(n_episodes=1.5), "n_episodes")):
        with pytest.raises(ValueError, match=f"{name} is"):
            pevi(lin.phi, data, **kw)
    with pytest.raises(ValueError, match="data is a ndarray"):
        pevi(lin.phi, np.zeros((2, 3, 2, 3)))
    for kw, name in ((dict(p=1.0), "p"), (dict(bonus_scale=float("nan")), "bonus_scale"), (dict(lam=-1.0), "lam")):
        with pytest.raises(ValueError, match=f"{name} is"):
            lsvi_ucb(lin, 3, seed=0, **kw)
    with pytest.raises(ValueError, match="n_episodes is 0"):
        lsvi_ucb(lin, 0, seed=0)
    with pytest.raises(ValueError, match="lam is nan"):
        ridge(np.eye(2), np.ones(2), lam=float("nan"))
    with pytest.raises(ValueError, match="A_inv has shape"):
        sherman_morrison(np.eye(3), np.ones(2))


def _pevi_oracle(phi, data, beta, lam=1.0):
    """Jin, Yang & Wang (2021) Alg. 2 written out again, per (h, s, a) sums instead of the counts module."""
    H, S, A, d = data.horizon, data.S, data.A, phi.shape[-1]
    V = np.zeros((H + 1, S))
    for h in range(H - 1, -1, -1):
        Lam, rhs = lam * np.eye(d), np.zeros(d)
        for s in range(S):
            for a in range(A):
                x = phi[s, a]
                Lam += data.counts[h, s, a] * np.outer(x, x)
                rhs += x * (data.reward_sums[h, s, a] + data.transition_counts[h, s, a] @ V[h + 1])
        w, inv = np.linalg.solve(Lam, rhs), np.linalg.inv(Lam)
        Q = np.array([[min(max(phi[s, a] @ w - beta * np.sqrt(phi[s, a] @ inv @ phi[s, a]), 0.0), H - h)
                       for a in range(A)] for s in range(S)])
        V[h] = Q.max(axis=1)
    return V[:H]


def test_pevi_pessimism_where_the_penalty_binds():
    """Issue 14: at penalty_scale = 0.05 (beta = 0.05 d H sqrt(log(2 d H K / xi)) = 1.55, stated here) the good
    event holds on every dataset below while V_hat > 0, so the check binds: V_hat <= V^pi_hat, the penalty changes
    V, and beta = 0 violates the inequality. The value is compared with an independent re-implementation whose
    beta is typed from Theorem 4.4, so a wrong beta fails."""
    lin = random_linear_mdp(4, 2, 3, 3, seed=11)
    tab = lin.to_tabular()
    d, H, K, xi = 3, 3, 4 * 2 * 100, 0.1
    beta = 0.05 * 1.0 * d * H * np.sqrt(np.log(2 * d * H * K / xi))
    greedy_violations = 0
    for seed in range(10):
        data = sample_generative(lin, np.full((H, 4, 2), 100), seed)
        res, greedy = pevi(lin.phi, data, penalty_scale=0.05), pevi(lin.phi, data, penalty_scale=0.0)
        assert res.constants["beta"] == pytest.approx(beta, rel=1e-14)
        assert pevi_good_event(lin, res)  # measured: 10/10 seeds (deterministic at these seeds)
        assert (res.V[0] > 0).all()
        assert (res.V <= planning.evaluate(tab, res.policy) + 1e-12).all()
        assert (res.V < greedy.V - 1e-3).any()
        greedy_violations += (greedy.V > planning.evaluate(tab, greedy.policy) + 1e-12).any()
        np.testing.assert_allclose(res.V, _pevi_oracle(lin.phi, data, beta), atol=1e-10)
    assert greedy_violations >= 5  # measured: 9/10

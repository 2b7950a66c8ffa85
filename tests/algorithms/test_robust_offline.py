"""Tabular IQL / RIQL (issue 18) against independent oracles: scipy minimisation of each loss, bisection on the
estimating equation for the Huber midpoint rule, a linear solve for IQL at tau = 1/2, and the properties that make
the Bellman maps contractions (monotone, translation-equivariant)."""

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import data, generators, planning
from theory_rl.algorithms import robust_offline as ro
from theory_rl.mdp import TabularMDP

# values on a coarse grid make the Huber minimiser an interval often (every residual in the linear region)
coarse = st.lists(st.integers(-6, 6).map(float), min_size=1, max_size=7)
fine = st.lists(st.floats(-50, 50, allow_nan=False, allow_infinity=False), min_size=1, max_size=9)
kappas = st.sampled_from([0.1, 0.5, 1.0, 3.0])


def huber_objective(q, y, w, k):
    r = np.abs(np.asarray(y) - q)
    return float(np.sum(w * np.where(r <= k, r * r / (2 * k), r - k / 2)))


def huber_score(q, y, w, k):
    return float(np.sum(w * np.clip((q - np.asarray(y)) / k, -1.0, 1.0)))


def root_interval(y, w, k):
    """Ends of {q : g(q) = 0} by bisection on the direct sum (g non-decreasing): inf{g >= 0}, sup{g <= 0}."""
    lo0, hi0 = min(y) - k - 1, max(y) + k + 1
    tol = 1e-12 * max(1.0, np.sum(w))

    def bisect(pred):  # smallest q with pred(q) true
        a, b = lo0, hi0
        for _ in range(200):
            m = 0.5 * (a + b)
            a, b = (a, m) if pred(m) else (m, b)
        return b

    left = bisect(lambda q: huber_score(q, y, w, k) >= -tol)
    right = bisect(lambda q: huber_score(q, y, w, k) > tol)
    return left, right


@settings(max_examples=300, deadline=None)
@given(y=st.one_of(coarse, fine), k=kappas, data_w=st.data())
def test_huber_location_minimises_and_takes_the_midpoint(y, k, data_w):
    w = np.array(data_w.draw(st.lists(st.integers(1, 4), min_size=len(y), max_size=len(y))), float)
    q = ro.huber_location(y, k, weights=w)
    ref = scipy.optimize.minimize_scalar(huber_objective, args=(y, w, k), bounds=(min(y) - 1, max(y) + 1),
                                         method="bounded", options={"xatol": 1e-12})
    assert huber_objective(q, y, w, k) <= huber_objective(ref.x, y, w, k) + 1e-9 * (1 + abs(ref.fun))
    left, right = root_interval(y, w, k)
    assert q == pytest.approx(0.5 * (left + right), abs=1e-7)


def test_huber_interval_case_happens_and_is_resolved_by_the_midpoint():
    # residuals all in the linear region: minimisers [1, 9], midpoint 5; the median rule would give anything there
    assert ro.huber_location([0.0, 10.0], 1.0) == 5.0
    assert ro.huber_location([0.0, 0.0, 10.0, 10.0], 1.0) == 5.0
    assert ro.huber_location([0.0, 1.0, 2.0, 100.0], 1.0) == 1.5
    assert ro.huber_location([0.0, 0.5], 1.0) == 0.25  # all residuals quadratic: the mean


@settings(max_examples=200, deadline=None)
@given(y=fine, k=kappas, shift=st.floats(-100, 100), bump=st.data())
def test_huber_location_is_monotone_and_translation_equivariant(y, k, shift, bump):
    y = np.array(y)
    q = ro.huber_location(y, k)
    assert ro.huber_location(y + shift, k) == pytest.approx(q + shift, abs=1e-8 * (1 + abs(shift) + abs(q)))
    up = np.array(bump.draw(st.lists(st.floats(0, 10), min_size=len(y), max_size=len(y))))
    assert ro.huber_location(y + up, k) >= q - 1e-9 * (1 + abs(q))


@settings(max_examples=100, deadline=None)
@given(n_clean=st.integers(3, 12), frac=st.floats(0.0, 0.49), magnitude=st.floats(10.0, 1e8), k=kappas)
def test_huber_influence_is_bounded_where_the_mean_is_not(n_clean, frac, magnitude, k):
    """Contamination c < 1/2 by outliers at +M: the Huber location stays <= max(clean) + kappa for every M
    (g(max + kappa) >= n_clean - n_out > 0), while the mean grows like c M."""
    rng = np.random.default_rng(n_clean)
    clean = rng.random(n_clean)
    n_out = int(frac * n_clean / (1 - frac))
    n_out = min(n_out, n_clean - 1)
    y = np.concatenate([clean, np.full(n_out, magnitude)])
    assert ro.huber_location(y, k) <= clean.max() + k + 1e-9
    if n_out:
        assert y.mean() > clean.max() + k or magnitude * n_out / y.size <= clean.max() + k


@settings(max_examples=200, deadline=None)
@given(y=fine, tau=st.floats(0.05, 0.95), data_w=st.data())
def test_expectile_minimises_the_asymmetric_square(y, tau, data_w):
    w = np.array(data_w.draw(st.lists(st.integers(0, 4), min_size=len(y), max_size=len(y))), float)
    w[0] += 1.0
    q = ro.expectile(y, tau, weights=w)
    y = np.array(y)

    def loss(c):
        return float(np.sum(w * np.abs(tau - (y < c)) * (y - c) ** 2))

    ref = scipy.optimize.minimize_scalar(loss, bounds=(y.min() - 1, y.max() + 1), method="bounded",
                                         options={"xatol": 1e-12})
    assert q == pytest.approx(ref.x, abs=1e-5 * (1 + np.ptp(y)))
    assert loss(q) <= loss(ref.x) + 1e-9 * (1 + ref.fun)


def test_expectile_closed_forms():
    assert ro.expectile([0.0, 1.0, 2.0], 0.7) == pytest.approx(17 / 13)  # 0.7 (2 - q) = 0.3 (2 q - 1)
    assert ro.expectile([1.0, 5.0], 0.5, weights=[3.0, 1.0]) == pytest.approx(2.0)  # weighted mean
    rows = np.array([[0.0, 1.0, 2.0], [4.0, 4.0, 4.0]])
    assert ro.expectile(rows, 0.7) == pytest.approx([17 / 13, 4.0])


def test_ensemble_quantile_ends_and_median():
    v = np.array([[3.0, 0.0], [1.0, 5.0], [2.0, 1.0]])
    assert ro.ensemble_quantile(v, 0.0) == pytest.approx([1.0, 0.0])
    assert ro.ensemble_quantile(v, 1.0) == pytest.approx([3.0, 5.0])
    assert ro.ensemble_quantile(v, 0.5) == pytest.approx([2.0, 1.0])


def _instance(seed, S=6, A=3, n=400):
    mdp = generators.garnet(S=S, A=A, branching=3, gamma=0.8, seed=seed)
    mu = np.random.default_rng(seed).dirichlet(np.ones(S * A)).reshape(S, A)
    return mdp, data.sample_iid(mdp, mu, n, seed=seed + 1)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_iql_at_tau_half_is_the_behaviour_value_of_the_empirical_model(seed):
    """tau = 1/2: V(s) = sum_a pi_hat_b(a|s) Q(s, a), so V is V^{pi_hat_b} of (P_hat, r_hat): a linear solve."""
    mdp, d = _instance(seed)
    res = ro.iql(d, tau=0.5)
    N = d.counts.astype(float)
    seen_s = N.sum(1) > 0
    pi_b = np.where(seen_s[:, None], N / np.maximum(N.sum(1, keepdims=True), 1), 1.0 / d.A)
    model = d.empirical_model()
    # unseen states keep V = 0: make them absorbing with zero reward in the oracle model
    P, R = model.P.copy(), np.where(model.seen, model.R, 0.0)
    P[~seen_s] = 0.0
    P[~seen_s, :, ~seen_s] = 0.0
    for s in np.flatnonzero(~seen_s):
        P[s, :, s] = 1.0
    oracle = planning.evaluate(TabularMDP(P, R, np.full(d.S, 1 / d.S), gamma=d.gamma), pi_b)
    assert res.converged and res.V == pytest.approx(oracle, abs=1e-8)
    assert np.max(np.abs(res.V - oracle)) <= res.error_bound + 1e-9


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), tau=st.floats(0.55, 0.95))
def test_iql_fixed_point_equations_hold_by_direct_minimisation(seed, tau):
    mdp, d = _instance(seed)
    res = ro.iql(d, tau=tau)
    N = d.counts.astype(float)
    for s in range(d.S):
        if N[s].sum() == 0:
            assert res.V[s] == 0.0 and res.policy[s] == pytest.approx(np.full(d.A, 1 / d.A))
            continue
        ys, ws = res.Q[s][N[s] > 0], N[s][N[s] > 0]

        def loss(c, ys=ys, ws=ws):
            return float(np.sum(ws * np.abs(tau - (ys < c)) * (ys - c) ** 2))

        ref = scipy.optimize.minimize_scalar(loss, bounds=(ys.min() - 1, ys.max() + 1), method="bounded",
                                             options={"xatol": 1e-12})
        assert res.V[s] == pytest.approx(ref.x, abs=1e-5)
    # Q = mean of the targets r_i + gamma V(s'_i) on each seen pair
    for i in np.unique(d.state.astype(int) * d.A + d.action)[:5]:
        s, a = divmod(int(i), d.A)
        sel = (d.state == s) & (d.action == a)
        assert res.Q[s, a] == pytest.approx(np.mean(d.reward[sel] + d.gamma * res.V[d.next_state[sel]]))
    # the actor: pi ∝ pi_hat_b exp(beta A), capped at 100
    s = int(np.argmax(N.sum(1)))
    w = N[s] * np.minimum(np.exp(3.0 * (res.Q[s] - res.V[s])), 100.0)
    assert res.policy[s] == pytest.approx(w / w.sum())


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), alpha=st.sampled_from([0.0, 0.25, 0.5]), kappa=st.sampled_from([0.3, 1.0]))
def test_riql_fixed_point_is_the_huber_quantile_expectile_composition(seed, alpha, kappa):
    """At the returned V: V = expectile of Q_alpha over the data actions (recomputed with the public operator), and
    Q_alpha lies in the range of each pair's targets (every critic is a Huber location of a resample of them, and
    a quantile of locations stays in their range). The exact per-critic check is the K = 1 test below."""
    mdp, d = _instance(seed, n=150)
    res = ro.riql(d, seed=seed, alpha=alpha, kappa=kappa, n_critics=3)
    assert res.converged
    N = d.counts.astype(float)
    for s in range(d.S):
        if N[s].sum() == 0:
            continue
        m = N[s] > 0
        assert res.V[s] == pytest.approx(ro.expectile(res.Q[s][m], 0.7, weights=N[s][m]), abs=1e-9)
        for a in np.flatnonzero(m):
            sel = (d.state == s) & (d.action == a)
            y = d.reward[sel] + d.gamma * res.V[d.next_state[sel]]
            assert y.min() - 1e-9 <= res.Q[s, a] <= y.max() + 1e-9


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_riql_one_critic_is_huber_iql_and_a_huge_kappa_is_iql(seed):
    mdp, d = _instance(seed, n=150)
    big = ro.riql(d, seed=0, n_critics=1, kappa=1e6)
    assert big.V == pytest.approx(ro.iql(d).V, abs=1e-7)
    one = ro.riql(d, seed=0, n_critics=1, kappa=0.5)
    for s, a in [(int(d.state[0]), int(d.action[0])), (int(d.state[-1]), int(d.action[-1]))]:
        sel = (d.state == s) & (d.action == a)
        y = d.reward[sel] + d.gamma * one.V[d.next_state[sel]]
        assert one.Q[s, a] == pytest.approx(ro.huber_location(y, 0.5), abs=1e-9)


def test_riql_resists_reward_outliers_that_break_the_mean():
    """30% of rewards replaced by U(-30, 30) (RIQL's random attack): IQL's mean critic moves by several units on
    some pair, RIQL's Huber/quantile critic stays within 1 of its clean value (fixed seeds: deterministic)."""
    from theory_rl.data.corruption import corrupt

    mdp, d = _instance(3, n=2000)
    bad = corrupt(d, "reward", seed=5).data
    clean_i, bad_i = ro.iql(d), ro.iql(bad)
    clean_r, bad_r = ro.riql(d, seed=1), ro.riql(bad, seed=1)
    assert np.max(np.abs(bad_i.Q - clean_i.Q)) > 2.0  # measured 4.17
    assert np.max(np.abs(bad_r.Q - clean_r.Q)) < 1.0  # measured 0.49
    assert np.max(np.abs(bad_r.V - clean_r.V)) < 0.5 * np.max(np.abs(bad_i.V - clean_i.V))  # 0.29 vs 1.55


def test_contraction_certificate_and_on_max_iter():
    mdp, d = _instance(0)
    res = ro.iql(d, tol=1e-12)
    assert res.converged and res.error_bound <= 0.8 / 0.2 * 1e-12 + 1e-15
    from theory_rl.results import ConvergenceError, ConvergenceWarning

    with pytest.raises(ConvergenceError):
        ro.riql(d, seed=0, max_iter=2)
    with pytest.warns(ConvergenceWarning):
        assert not ro.iql(d, max_iter=2, on_max_iter="warn").converged


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="weights"):
        ro.huber_location([1.0, 2.0], 1.0, weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="weights"):
        ro.expectile([1.0, 2.0], 0.5, weights=[0.0, 0.0])
    with pytest.raises(ValueError, match="values"):
        ro.huber_location([], 1.0)
    epi = generators.garnet(S=3, A=2, branching=2, horizon=2, seed=0)
    with pytest.raises(ValueError, match="discounted"):
        ro.iql(data.sample_generative(epi, 2, seed=0))

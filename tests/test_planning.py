"""Planning against independent oracles: LP vs value iteration vs policy iteration, linear solve vs trajectory
enumeration, occupancy by linear solve vs power series, and the certificates against the exact solution."""

import itertools
import warnings

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import planning as pl
from theory_rl.mdp import ContextualBandit, MultiArmedBandit, TabularMDP
from theory_rl.policies import policy_matrix
from theory_rl.results import ConvergenceWarning, IterativeResult

from .strategies import mdps_with_policy, tabular_mdps

FAST = settings(max_examples=60, deadline=None)


# ---------------------------------------------------------------------- optimal values
@FAST
@given(tabular_mdps(episodic=False))
def test_discounted_solvers_agree_with_lp(mdp):
    vi = pl.value_iteration(mdp, tol=1e-9)
    pi = pl.policy_iteration(mdp)
    cold = pl.policy_iteration(mdp, warm_start=0)  # the warm start changes the path, never the answer
    lp = pl.optimal_values_lp(mdp)
    assert vi.converged and pi.converged and cold.converged
    np.testing.assert_allclose(vi.V, lp.V, rtol=0, atol=1e-8)
    np.testing.assert_allclose(pi.V, lp.V, rtol=0, atol=1e-8)
    np.testing.assert_allclose(cold.V, lp.V, rtol=0, atol=1e-8)


@FAST
@given(tabular_mdps(episodic=True))
def test_backward_induction_agrees_with_lp(mdp):
    bi = pl.backward_induction(mdp)
    lp = pl.optimal_values_lp(mdp)
    assert bi.V.shape == (mdp.horizon, mdp.S) and bi.Q.shape == (mdp.horizon, mdp.S, mdp.A)
    np.testing.assert_allclose(bi.V, lp.V, rtol=0, atol=1e-8)


@FAST
@given(tabular_mdps())
def test_evaluating_the_optimal_policy_gives_optimal_values(mdp):
    res = pl.solve(mdp)
    np.testing.assert_allclose(pl.evaluate(mdp, res.policy), res.V, rtol=0, atol=1e-9 * mdp.vmax)


@FAST
@given(tabular_mdps(episodic=False), st.sampled_from([1e-2, 1e-4, 1e-6]))
def test_value_iteration_certificate_holds(mdp, tol):
    exact = pl.policy_iteration(mdp)  # |V - V*| <= 1e-12-ish: an exact reference
    vi = pl.value_iteration(mdp, tol=tol)
    slack = 1e-11 * mdp.vmax  # floating-point error of the reference itself
    assert np.abs(vi.V - exact.V).max() <= vi.error_bound + slack
    assert vi.error_bound < tol / 2 + slack
    # Puterman Thm 6.3.1: the greedy policy of the returned values is tol-optimal.
    assert (exact.V - pl.evaluate(mdp, vi.policy)).max() <= tol + slack


@FAST
@given(tabular_mdps(episodic=False))
def test_policy_iteration_certificate_holds(mdp):
    pi = pl.policy_iteration(mdp)
    lp = pl.optimal_values_lp(mdp)
    assert np.abs(pi.V - lp.V).max() <= pi.error_bound + lp.error_bound + 1e-12


def test_value_iteration_raises_or_warns_at_max_iter():
    rng = np.random.default_rng(0)
    P = rng.random((4, 2, 4))
    mdp = TabularMDP(P / P.sum(-1, keepdims=True), rng.random((4, 2)), np.full(4, 0.25), gamma=0.99)
    with pytest.raises(pl.ConvergenceError, match="value_iteration did not converge in 3 iterations"):
        pl.value_iteration(mdp, max_iter=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = pl.value_iteration(mdp, max_iter=3, on_max_iter="warn")
    assert not res.converged and res.iterations == 3
    assert any(issubclass(w.category, ConvergenceWarning) and "in 3 iterations" in str(w.message) for w in caught)
    with pytest.raises(pl.ConvergenceError, match="policy_iteration did not converge in 1 iterations"):
        pl.policy_iteration(mdp, max_iter=1, policy0=1 - pl.policy_iteration(mdp).policy)


def _exact_optimal_values(mdp: TabularMDP, actions: np.ndarray) -> list:
    """V* in exact rational arithmetic, after checking in rationals that ``actions`` is optimal."""
    S, A, g = mdp.S, mdp.A, sympy.Rational(mdp.gamma)
    P = [[[sympy.Rational(mdp.P[s, a, t]) for t in range(S)] for a in range(A)] for s in range(S)]
    R = [[sympy.Rational(mdp.R[s, a]) for a in range(A)] for s in range(S)]
    system = sympy.eye(S) - g * sympy.Matrix(S, S, lambda s, t: P[s][actions[s]][t])
    V = system.LUsolve(sympy.Matrix([R[s][actions[s]] for s in range(S)]))
    for s in range(S):
        for a in range(A):
            assert R[s][a] + g * sum(P[s][a][t] * V[t] for t in range(S)) <= V[s], "not optimal"
    return [V[s] for s in range(S)]


@pytest.mark.parametrize("tol", [1e-6, 1e-12, 1e-16])
def test_certificates_hold_against_exact_rational_solution(tol):
    # An exact oracle: V* as rationals. The certificates must hold even where tol is below float resolution
    # (then value iteration stops at a floating-point fixed point and the round-off floor carries the bound).
    rng = np.random.default_rng(1)
    P = rng.random((4, 2, 4))
    mdp = TabularMDP(P / P.sum(-1, keepdims=True), rng.random((4, 2)), np.full(4, 0.25), gamma=0.99)
    exact = _exact_optimal_values(mdp, pl.policy_iteration(mdp).policy)
    for res in (pl.value_iteration(mdp, tol=tol), pl.policy_iteration(mdp), pl.optimal_values_lp(mdp)):
        error = max(abs(sympy.Rational(float(v)) - e) for v, e in zip(res.V, exact, strict=True))
        assert error <= sympy.Rational(res.error_bound), res.method


def test_planning_arguments_are_validated():
    mdp = MultiArmedBandit([0.1, 0.9])
    with pytest.raises(ValueError, match="tol"):
        pl.value_iteration(mdp, tol=-1.0)
    with pytest.raises(ValueError, match="on_max_iter"):
        pl.value_iteration(mdp, on_max_iter="ignore")
    with pytest.raises(ValueError, match="TabularMDP"):
        pl.evaluate("not an mdp", [0])
    with pytest.raises(ValueError, match="policy0"):
        pl.policy_iteration(mdp, policy0=np.array([5]))


# ---------------------------------------------------------------------- policy evaluation
def _enumerated_return(mdp: TabularMDP, policy) -> float:
    """J(pi) of a finite-horizon MDP by summing over every trajectory: an oracle with no linear algebra."""
    pi = policy_matrix(mdp, policy)
    total = 0.0
    for states in itertools.product(range(mdp.S), repeat=mdp.horizon):
        for actions in itertools.product(range(mdp.A), repeat=mdp.horizon):
            prob, ret = mdp.init[states[0]], 0.0
            for h in range(mdp.horizon):
                s, a = states[h], actions[h]
                prob *= pi[h, s, a]
                ret += mdp.R_at(h)[s, a]
                if h + 1 < mdp.horizon:
                    prob *= mdp.P_at(h)[s, a, states[h + 1]]
            total += prob * ret
    return total


@settings(max_examples=40, deadline=None)
@given(mdps_with_policy(episodic=True, max_S=3, max_A=2, max_H=3))
def test_finite_horizon_evaluation_matches_trajectory_enumeration(case):
    mdp, policy = case
    assert pl.expected_return(mdp, policy) == pytest.approx(_enumerated_return(mdp, policy), abs=1e-12)


@FAST
@given(mdps_with_policy(episodic=False))
def test_discounted_evaluation_is_the_fixed_point_of_the_expectation_operator(case):
    mdp, policy = case
    V = pl.evaluate(mdp, policy)
    np.testing.assert_allclose(pl.bellman_expectation(mdp, policy, V), V, rtol=0, atol=1e-10 * mdp.vmax)
    # A second method: iterate the operator from zero until the contraction has run its course. T^pi is affine,
    # T U = b + M U: read b and M off S + 1 calls of the operator itself, then iterate 4000 times in numpy (the
    # 4000 calls took 15-20 s per test, issue 16; the iterates are the same up to round-off).
    b = pl.bellman_expectation(mdp, policy, np.zeros(mdp.S))
    M = np.stack([pl.bellman_expectation(mdp, policy, e) - b for e in np.eye(mdp.S)], axis=1)
    U = np.zeros(mdp.S)
    for _ in range(4000):
        U = b + M @ U
    np.testing.assert_allclose(U, V, rtol=0, atol=1e-9 * mdp.vmax)


@FAST
@given(mdps_with_policy())
def test_q_values_are_consistent_with_values(case):
    mdp, policy = case
    Q, V, pi = pl.q_values(mdp, policy), pl.evaluate(mdp, policy), policy_matrix(mdp, policy)
    np.testing.assert_allclose((pi * Q).sum(axis=-1), V, rtol=0, atol=1e-10 * mdp.vmax)


# ---------------------------------------------------------------------- occupancy
@FAST
@given(mdps_with_policy(episodic=False))
def test_discounted_occupancy_normalisation_flow_and_return(case):
    mdp, policy = case
    d = pl.occupancy(mdp, policy)
    assert d.shape == (mdp.S, mdp.A) and (d >= 0).all()
    assert d.sum() == pytest.approx(1.0, abs=1e-10)
    # Flow: sum_a d(s', a) = (1 - gamma) rho(s') + gamma sum_{s, a} P(s'|s, a) d(s, a).
    inflow = (1 - mdp.gamma) * mdp.init + mdp.gamma * np.einsum("sa,sat->t", d, mdp.P)
    np.testing.assert_allclose(d.sum(axis=1), inflow, rtol=0, atol=1e-10)
    assert pl.expected_return(mdp, policy) == pytest.approx((d * mdp.R).sum() / (1 - mdp.gamma), abs=1e-9 * mdp.vmax)


@FAST
@given(mdps_with_policy(episodic=False))
def test_discounted_occupancy_matches_power_series(case):
    mdp, policy = case
    pi = policy_matrix(mdp, policy)
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    d_s, term = np.zeros(mdp.S), mdp.init.copy()
    for _ in range(5000):  # gamma <= 0.99: the tail after 5000 terms is below 0.99^5000 ~ 1e-22
        d_s += term
        term = mdp.gamma * (term @ P_pi)
    np.testing.assert_allclose(pl.occupancy(mdp, policy), (1 - mdp.gamma) * d_s[:, None] * pi, rtol=0, atol=1e-10)


@FAST
@given(mdps_with_policy(episodic=True))
def test_finite_horizon_occupancy_normalisation_flow_and_return(case):
    mdp, policy = case
    d = pl.occupancy(mdp, policy)
    assert d.shape == (mdp.horizon, mdp.S, mdp.A) and (d >= 0).all()
    np.testing.assert_allclose(d.sum(axis=(1, 2)), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(d[0].sum(axis=1), mdp.init, rtol=0, atol=1e-12)
    for h in range(mdp.horizon - 1):
        flow = np.einsum("sa,sat->t", d[h], mdp.P_at(h))
        np.testing.assert_allclose(d[h + 1].sum(axis=1), flow, rtol=0, atol=1e-12)
    J = sum((d[h] * mdp.R_at(h)).sum() for h in range(mdp.horizon))
    assert pl.expected_return(mdp, policy) == pytest.approx(J, abs=1e-10 * mdp.vmax)


def test_bandit_values_and_occupancy():
    mab = MultiArmedBandit([0.2, 0.7, 0.5])
    res = pl.solve(mab)
    assert res.policy.tolist() == [1] and res.V[0] == pytest.approx(0.7)
    assert pl.expected_return(mab, np.array([2])) == pytest.approx(0.5)
    means = np.array([[0.1, 0.9], [0.8, 0.3], [0.5, 0.5]])
    cb = ContextualBandit(means, [0.5, 0.3, 0.2])
    pi = np.array([[0.25, 0.75], [1.0, 0.0], [0.5, 0.5]])
    np.testing.assert_allclose(pl.occupancy(cb, pi), cb.context_dist[:, None] * pi, atol=1e-14)
    assert pl.expected_return(cb, pi) == pytest.approx(cb.context_dist @ (pi * means).sum(1))
    assert pl.solve(cb).policy.tolist() == cb.best_actions.tolist()


# ---------------------------------------------------------------------- Bellman operator
@FAST
@given(tabular_mdps(episodic=False), st.integers(0, 2**32 - 1))
def test_bellman_operator_is_a_monotone_gamma_contraction(mdp, seed):
    rng = np.random.default_rng(seed)
    V = rng.uniform(-mdp.vmax, mdp.vmax, mdp.S)
    U = rng.uniform(-mdp.vmax, mdp.vmax, mdp.S)
    TV, TU = pl.bellman_optimality(mdp, V), pl.bellman_optimality(mdp, U)
    assert np.abs(TV - TU).max() <= mdp.gamma * np.abs(V - U).max() + 1e-12 * mdp.vmax
    W = V + rng.uniform(0, 1, mdp.S)  # W >= V pointwise
    assert (pl.bellman_optimality(mdp, W) >= TV - 1e-12).all()


# ---------------------------------------------------------------------- issue 12: shared vocabulary and checks
def test_planning_result_is_an_iterative_result():
    mdp = MultiArmedBandit([0.1, 0.9])
    res = pl.policy_iteration(mdp)
    assert isinstance(res, IterativeResult) and res.method == "policy_iteration"
    assert res.constants == {"max_iter": 10_000}
    assert res.certificate().startswith("policy_iteration: converged after")
    with pytest.raises(TypeError):
        pl.PlanningResult(res.V, res.Q, res.policy, 1, 0.0, 0.0, True, "x")  # kw_only now


def test_step_index_is_checked():
    fin = TabularMDP(np.full((2, 2, 2), 0.5), np.full((2, 2), 0.5), [1.0, 0.0], horizon=3)
    disc = fin.replace(horizon=None, gamma=0.9)
    V = np.zeros(2)
    for op in (pl.q_from_values, pl.bellman_optimality):
        for bad in (-1, 3, 0.5, None):
            with pytest.raises(ValueError, match="h"):
                op(fin, V, bad)
        for bad in (99, 0.5, 0):
            with pytest.raises(ValueError, match="stationary"):
                op(disc, V, bad)
    with pytest.raises(ValueError, match=r"h is -1, expected an integer in \[0, 2\]"):
        pl.bellman_expectation(fin, np.zeros((3, 2), dtype=int), V, -1)
    with pytest.raises(ValueError, match="stationary"):
        pl.bellman_expectation(disc, np.zeros(2, dtype=int), V, 99)
    assert pl.bellman_optimality(fin, V, 2).shape == (2,)


def test_optimal_return_is_exact_and_cached(monkeypatch):
    rng = np.random.default_rng(3)
    P = rng.random((4, 2, 4))
    mdp = TabularMDP(P / P.sum(-1, keepdims=True), rng.random((4, 2)), np.full(4, 0.25), gamma=0.9)
    fin = mdp.replace(gamma=None, horizon=5)
    for m in (mdp, fin):
        V = pl.solve(m).V
        assert pl.optimal_return(m) == float(m.init @ (V[0] if m.is_episodic else V))
    calls = []
    real_solve = pl.solve
    monkeypatch.setattr(pl, "solve", lambda m, **kw: calls.append(m) or real_solve(m, **kw))
    fresh = mdp.replace()  # a new object: not in the cache yet
    J = pl.optimal_return(fresh)
    for _ in range(5):
        assert pl.optimal_return(fresh) == J
        pl.suboptimality(fresh, np.zeros(4, dtype=int))
    assert calls == [fresh]  # planned exactly once
    assert pl.suboptimality(fresh, pl.policy_iteration(fresh).policy) == J - pl.expected_return(
        fresh, pl.policy_iteration(fresh).policy)


# ---------------------------------------------------------------------- issue 14: certificate values, not only validity
EPS = np.finfo(np.float64).eps


def _one_state(rewards, gamma):
    A = len(rewards)
    return TabularMDP(np.ones((1, A, 1)), np.array([rewards], dtype=float), np.ones(1), gamma=gamma)


@pytest.mark.parametrize(("gamma", "tol", "k"), [(0.5, 1e-3, 12), (0.9, 1e-2, 73)])
def test_value_iteration_certificate_value_by_hand(gamma, tol, k):
    """One state, reward 1: V_k = (1 - gamma^k)/(1 - gamma), residual gamma^(k-1). The rule stops at the first k
    with gamma^(k-1) < tol (1 - gamma)/(2 gamma) (k = 12 at gamma = 1/2, tol = 1e-3: 2^-11 < 5e-4 <= 2^-10), and the
    bound gamma^k/(1 - gamma) (+ round-off) equals the true error |V_k - V*| = gamma^k/(1 - gamma): it is tight, so a
    halved certificate would be false."""
    assert gamma ** (k - 1) < tol * (1 - gamma) / (2 * gamma) <= gamma ** (k - 2)
    res = pl.value_iteration(_one_state([1.0], gamma), tol=tol)
    assert res.iterations == k
    assert res.residual == pytest.approx(gamma ** (k - 1), rel=1e-12)
    V = (1 - gamma**k) / (1 - gamma)
    roundoff = 3 * EPS * (1 + V)  # (S + 2) eps (1 + |V|) with S = 1
    assert res.error_bound == pytest.approx((gamma**k + roundoff) / (1 - gamma), rel=1e-12)
    # the round-off term itself (about 1e-11 of the bound), against the run's own residual; abs=0, since
    # pytest.approx's default absolute tolerance of 1e-12 would swallow it
    V_k = float(res.V[0])
    expected = (gamma * res.residual + 3 * EPS * (1 + V_k)) / (1 - gamma)
    assert res.error_bound == pytest.approx(expected, rel=1e-15, abs=0)
    true_error = 1 / (1 - gamma) - float(res.V[0])
    assert true_error <= res.error_bound and true_error > res.error_bound / 2


@pytest.mark.parametrize("gamma", [0.5, 0.9])
def test_policy_iteration_certificate_value_by_hand(gamma):
    """One state, rewards (0, 1), started at the bad action and stopped after one step (on_max_iter="warn"):
    V = 0, T V = 1, so the certificate is (1 + 3 eps)/(1 - gamma), and the true error 1/(1 - gamma) attains it."""
    with pytest.warns(ConvergenceWarning):
        res = pl.policy_iteration(_one_state([0.0, 1.0], gamma), max_iter=1, policy0=[0], on_max_iter="warn")
    assert res.V[0] == 0.0 and res.residual == 1.0 and not res.converged
    assert res.error_bound == pytest.approx((1 + 3 * EPS) / (1 - gamma), rel=1e-15, abs=0)
    true_error = 1 / (1 - gamma) - float(res.V[0])
    assert true_error <= res.error_bound and true_error > res.error_bound / 2
    done = pl.policy_iteration(_one_state([0.0, 1.0], gamma))
    assert done.converged and done.residual == 0.0 and done.V[0] == pytest.approx(1 / (1 - gamma), rel=1e-15)
    assert done.error_bound == pytest.approx(3 * EPS * (1 + 1 / (1 - gamma)) / (1 - gamma), rel=1e-12, abs=0)


@FAST
@given(tabular_mdps(episodic=False), st.sampled_from([1e-2, 1e-4]))
def test_certificate_values_recomputed_from_their_definition(mdp, tol):
    """error_bound is (gamma residual + round-off)/(1 - gamma) for value iteration, with residual |V_k - V_(k-1)|
    recomputed from a run stopped one step earlier, and (|T V - V| + round-off)/(1 - gamma) for policy iteration."""
    gamma, S = mdp.gamma, mdp.S
    vi = pl.value_iteration(mdp, tol=tol)
    if vi.iterations > 1 and gamma > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            prev = pl.value_iteration(mdp, tol=tol, max_iter=vi.iterations - 1, on_max_iter="warn")
        assert vi.residual == pytest.approx(np.abs(vi.V - prev.V).max(), rel=1e-9, abs=1e-15)
        roundoff = (S + 2) * EPS * (1 + np.abs(vi.V).max())
        assert vi.error_bound == pytest.approx((gamma * vi.residual + roundoff) / (1 - gamma), rel=1e-12)
    pi = pl.policy_iteration(mdp)
    TV = (mdp.R + gamma * mdp.P @ pi.V).max(axis=1)
    roundoff = (S + 2) * EPS * (1 + np.abs(pi.V).max())
    # T V recomputed here may differ from the solver's in the last bits (amplified by 1/(1 - gamma)): the
    # round-off floor is asserted exactly, the residual to within one more round-off (the one-state tests above pin
    # the value exactly)
    assert roundoff / (1 - gamma) <= pi.error_bound <= (np.abs(TV - pi.V).max() + 2 * roundoff) / (1 - gamma)

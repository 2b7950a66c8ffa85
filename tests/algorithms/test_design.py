"""Experiment design: Kiefer-Wolfowitz, Frank-Wolfe against cvxpy, exact policy features."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import planning
from theory_rl._validation import as_float_array
from theory_rl.algorithms.design import (
    design_objective,
    g_optimal_design,
    g_optimal_design_cvxpy,
    reachable_design,
    reachable_design_cvxpy,
)
from theory_rl.generators.linear import hybrid_family, random_linear_mdp
from theory_rl.linear import best_response, policy_covariances, policy_features
from theory_rl.results import ConvergenceError, ConvergenceWarning


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(0, 12), st.integers(0, 2**31))
def test_kiefer_wolfowitz_max_leverage_is_d(d, extra, seed):
    X = np.random.default_rng(seed).normal(size=(d + extra, d))
    res = g_optimal_design(X, tol=1e-7)
    assert abs(res.weights.sum() - 1) < 1e-12 and (res.weights >= 0).all()
    g = np.einsum("nd,de,ne->n", X, np.linalg.inv(res.covariance), X)
    # sum_i w_i g_i = d for every design, so max g >= d; KW: equality at the optimum.
    assert d - 1e-9 <= g.max() <= d * (1 + 1e-7) + 1e-12


def test_g_optimal_frank_wolfe_agrees_with_cvxpy():
    X = np.random.default_rng(1).normal(size=(10, 3))
    fw = g_optimal_design(X, tol=1e-8)
    cv = g_optimal_design_cvxpy(X)
    assert cv.converged
    assert abs(cv.value - 3) < 1e-5 and abs(fw.value - cv.value) < 1e-5
    with pytest.raises(ValueError, match="rank"):
        g_optimal_design(np.ones((4, 2)))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(0, 2**31),
       st.booleans())
def test_policy_features_match_occupancy_and_value(S, A, d, H, seed, stochastic):
    lin = random_linear_mdp(S, A, d, H, seed=seed)
    rng = np.random.default_rng(seed)
    pol = rng.dirichlet(np.ones(A), size=(H, S)) if stochastic else rng.integers(0, A, size=(H, S))
    occ = planning.occupancy(lin.to_tabular(), pol)
    phi = lin.stage_phi
    np.testing.assert_allclose(policy_features(lin, pol), np.einsum("hsa,hsad->hd", occ, phi), atol=1e-12)
    np.testing.assert_allclose(policy_covariances(lin, pol), np.einsum("hsa,hsad,hsae->hde", occ, phi, phi),
                               atol=1e-12)
    value = np.einsum("hd,hd->", policy_features(lin, pol), lin.theta)
    assert abs(value - planning.expected_return(lin.to_tabular(), pol)) < 1e-12


def test_best_response_matches_backward_induction():
    lin = random_linear_mdp(5, 3, 3, 4, seed=2)
    tab = lin.to_tabular()
    g = np.random.default_rng(0).random((lin.S, lin.A))
    for h in range(lin.H):
        R = np.zeros((lin.H, lin.S, lin.A))
        R[h] = g
        m = tab.replace(R=R)
        best = planning.solve(m)
        pol = best_response(lin, h, g)
        assert abs(planning.expected_return(m, pol) - lin.init @ best.V[0]) < 1e-12


@pytest.mark.parametrize("seed", [0, 1])
def test_reachable_design_frank_wolfe_agrees_with_cvxpy(seed):
    lin = random_linear_mdp(4, 2, 3, 3, seed=seed)
    rng = np.random.default_rng(seed)
    X = np.stack([policy_features(lin, rng.integers(0, 2, size=(3, 4)))[2] for _ in range(5)])
    A0 = 0.1 * np.eye(3)
    eta = 20.0
    # Frank-Wolfe does not reach tol = 1e-7 in 2000 iterations on these instances (gap ~1e-5): it warns, and the
    # returned gap still certifies the suboptimality, which is what this test checks against cvxpy.
    with pytest.warns(ConvergenceWarning, match="reachable_design did not converge in 2000 iterations"):
        fw = reachable_design(lin, 2, X, scale=10.0, A0=A0, eta=eta, tol=1e-7, max_iter=2000, on_max_iter="warn")
    assert not fw.converged and fw.iterations == 2000
    cv_val, cv_Lam = reachable_design_cvxpy(lin, 2, X, scale=10.0, A0=A0, eta=eta)
    assert fw.value - fw.error_bound - 1e-6 <= cv_val <= fw.value + 1e-6  # the gap certifies FW's suboptimality
    assert abs(fw.value - cv_val) < 1e-3
    # The design is reachable: its covariance is the mixture of its policies' covariances.
    mix = sum(w * policy_covariances(lin, p)[2] for w, p in zip(fw.weights, fw.support, strict=True))
    np.testing.assert_allclose(mix, fw.covariance, atol=1e-10)
    # The smoothing brackets the max: max <= f_eta <= max + log(m) / eta.
    cv_max, _ = reachable_design_cvxpy(lin, 2, X, scale=10.0, A0=A0, eta=None)
    assert cv_max - 1e-6 <= cv_val <= cv_max + np.log(len(X)) / eta + 1e-6


def test_design_objective_gradient_and_bad_inputs():
    X = np.random.default_rng(0).normal(size=(4, 2))
    M = np.array([[2.0, 0.3], [0.3, 1.0]])
    val, G = design_objective(M, X, eta=3.0)
    D = np.array([[0.1, 0.02], [0.02, -0.05]])
    t = 1e-6
    fd = (design_objective(M + t * D, X, 3.0)[0] - design_objective(M - t * D, X, 3.0)[0]) / (2 * t)
    assert abs(fd - np.sum(G * D)) < 1e-6
    lin = hybrid_family(0.2)
    with pytest.raises(ValueError, match="h is 5"):
        reachable_design(lin, 5, X)
    with pytest.raises(ValueError, match="X has shape"):
        reachable_design(lin, 0, np.ones((2, 3)))


def test_reachable_design_never_stops_at_max_iter_silently():
    lin = random_linear_mdp(4, 2, 3, 3, seed=0)
    rng = np.random.default_rng(0)
    X = np.stack([policy_features(lin, rng.integers(0, 2, size=(3, 4)))[2] for _ in range(5)])
    kw = dict(scale=10.0, A0=0.1 * np.eye(3), eta=20.0)
    with pytest.raises(ConvergenceError, match="max_iter=3"):
        reachable_design(lin, 2, X, **kw, tol=1e-12, max_iter=3)  # default: raise (the shared on_max_iter rule)
    assert planning.ConvergenceError is ConvergenceError
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        capped = reachable_design(lin, 2, X, **kw, tol=1e-12, max_iter=3, on_max_iter="warn")
    assert not capped.converged and capped.iterations == 3 and capped.error_bound > 1e-12
    assert capped.residual == capped.error_bound and capped.method == "reachable_design"
    with pytest.warns(DeprecationWarning, match="gap is deprecated"):
        assert capped.gap == capped.error_bound
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a run that meets its stopping rule neither warns nor raises
        done = reachable_design(lin, 2, X, **kw, tol=1e-3, max_iter=500, on_max_iter="raise")
        assert done.converged and done.iterations < 500 and done.error_bound <= 1e-3 * max(1.0, done.value)
        # eta=None has no certificate and no stopping rule: exactly max_iter iterations, reported as such.
        sub = reachable_design(lin, 2, X, scale=10.0, A0=0.1 * np.eye(3), eta=None, max_iter=7, on_max_iter="raise")
    assert sub.iterations == 7 and not sub.converged and np.isnan(sub.error_bound)
    with pytest.raises(ValueError, match="on_max_iter"):
        reachable_design(lin, 2, X, **kw, on_max_iter="ignore")


def test_g_optimal_design_stops_through_the_shared_on_max_iter_rule():
    X = np.random.default_rng(1).normal(size=(30, 4))
    with pytest.raises(ConvergenceError, match="g_optimal_design did not converge in 2 iterations"):
        g_optimal_design(X, tol=1e-9, max_iter=2)
    with pytest.warns(ConvergenceWarning, match="max leverage"):
        capped = g_optimal_design(X, tol=1e-9, max_iter=2, on_max_iter="warn")
    assert not capped.converged and capped.iterations == 2 and capped.residual > 1e-9
    done = g_optimal_design(X, tol=1e-6)
    assert done.converged and done.residual <= 1e-6 and done.method == "g_optimal_design"
    assert done.policy is None and done.V is None and done.error_bound >= 0
    for kw, name in ((dict(tol=float("nan")), "tol"), (dict(max_iter=0), "max_iter"),
                     (dict(on_max_iter="ignore"), "on_max_iter")):
        with pytest.raises(ValueError, match=f"{name} is"):
            g_optimal_design(X, **kw)


def test_design_results_share_the_result_vocabulary_and_old_names_warn():
    from theory_rl.algorithms import design
    from theory_rl.results import IterativeResult

    assert issubclass(design.DesignResult, IterativeResult)
    moved = {"policy_features": policy_features, "policy_covariances": policy_covariances,
             "_best_response": best_response}
    for old, new in moved.items():
        with pytest.warns(DeprecationWarning, match=f"design.{old} is deprecated"):
            assert getattr(design, old) is new
    lin = hybrid_family(0.2)
    with pytest.raises(ValueError, match="scale is nan"):
        reachable_design(lin, 0, np.eye(2), scale=float("nan"))
    with pytest.raises(ValueError, match="g has shape"):
        best_response(lin, 0, np.ones((2, 2)))


@pytest.mark.parametrize("eta", [20.0, None])
def test_reachable_design_internal_objective_is_bit_identical_to_the_validating_one(monkeypatch, eta):
    """Issue 16: the line search calls the objective without re-validation and without the gradient it does not
    read. Replaying the run as before (every call validating its arrays and computing the gradient) must give the
    same design bit for bit; and the public ``design_objective`` gives the same value as the internal path."""
    from theory_rl.algorithms import design

    lin = random_linear_mdp(4, 2, 3, 3, seed=3)
    rng = np.random.default_rng(3)
    X = np.stack([policy_features(lin, rng.integers(0, 2, size=(3, 4)))[2] for _ in range(5)])
    kw = dict(scale=10.0, A0=0.1 * np.eye(3), eta=eta, tol=1e-6, max_iter=60, on_max_iter="warn")
    calls = []
    real = design._objective

    def counting(*args, **kwargs):
        calls.append(kwargs.get("gradient", True))
        return real(*args, **kwargs)

    def validating(M, X, eta, gradient=True):  # the path before issue 16: validate, and always the gradient
        M, X = as_float_array(M, "M", ndim=2), as_float_array(X, "X", ndim=2)
        return real(M, X, eta, gradient=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        monkeypatch.setattr(design, "_objective", counting)
        fast = reachable_design(lin, 2, X, **kw)
        monkeypatch.setattr(design, "_objective", validating)
        slow = reachable_design(lin, 2, X, **kw)
    assert calls.count(False) > calls.count(True) > 0  # the line search really takes the value-only path
    assert fast.value == slow.value and fast.iterations == slow.iterations
    assert fast.error_bound == slow.error_bound or (np.isnan(fast.error_bound) and np.isnan(slow.error_bound))
    np.testing.assert_array_equal(fast.weights, slow.weights)
    np.testing.assert_array_equal(fast.support, slow.support)
    np.testing.assert_array_equal(fast.covariance, slow.covariance)
    M = 10.0 * fast.covariance + 0.1 * np.eye(3)
    assert design_objective(M, X, eta)[0] == real(M, X, eta, gradient=False)[0]

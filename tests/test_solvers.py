"""Planning that scales (issue 15 item 2): MPI, Gauss-Seidel VI, Krylov PI and the sparse exact solvers, each
against the exact dense solver (policy iteration's direct solves) and the LP, on hypothesis-generated MDPs, dense
and sparse; and their certificates: the bound holds against the true error and is not vacuous."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import planning, solvers
from theory_rl.backups import DIRECT_LIMIT, Backups, policy_values
from theory_rl.generators import garnet
from theory_rl.mdp import TabularMDP
from theory_rl.results import ConvergenceError, ConvergenceWarning
from theory_rl.sparse_planning import sparse_evaluate

from .strategies import tabular_mdps


def _sparse(mdp: TabularMDP) -> TabularMDP:
    kw = {"gamma": mdp.gamma} if mdp.is_discounted else {"horizon": mdp.horizon}
    return TabularMDP(sp.csr_array(np.asarray(mdp.P).reshape(-1, mdp.S)), mdp.R, mdp.init, **kw)


SCALABLE = {
    "mpi": lambda m, tol: solvers.modified_policy_iteration(m, tol=tol),
    "mpi_m0": lambda m, tol: solvers.modified_policy_iteration(m, tol=tol, m=0),
    "mpi_m3": lambda m, tol: solvers.modified_policy_iteration(m, tol=tol, m=3, V0=np.zeros(m.S)),
    "gauss_seidel": lambda m, tol: solvers.gauss_seidel_value_iteration(m, tol=tol),
    "krylov_direct": lambda m, tol: solvers.krylov_policy_iteration(m, tol=tol, linear_solver="direct"),
    "krylov_gmres": lambda m, tol: solvers.krylov_policy_iteration(m, tol=tol, linear_solver="gmres"),
    "krylov_bicgstab": lambda m, tol: solvers.krylov_policy_iteration(m, tol=tol, linear_solver="bicgstab"),
    "value_iteration": lambda m, tol: planning.value_iteration(m, tol=tol),
}


@settings(max_examples=40, deadline=None)
@given(mdp=tabular_mdps(episodic=False, max_S=7), sparse=st.booleans(), tol=st.sampled_from([1e-8, 1e-3]))
def test_every_method_is_certified_against_the_exact_solution(mdp, sparse, tol):
    """|V - V*| <= error_bound (V* by direct solves, cross-checked by the LP), and error_bound < tol (the
    certificate is the one the stopping rule promises, not vacuous); the greedy policy is near-optimal accordingly."""
    exact = planning.policy_iteration(mdp)
    lp = planning.optimal_values_lp(mdp)
    assert np.abs(exact.V - lp.V).max() <= exact.error_bound + lp.error_bound
    model = _sparse(mdp) if sparse else mdp
    J_star = float(mdp.init @ exact.V)
    for name, run in SCALABLE.items():
        res = run(model, tol)
        err = np.abs(res.V - exact.V).max()
        assert res.converged, name
        assert err <= res.error_bound + exact.error_bound, (name, err, res.error_bound)
        assert res.error_bound < tol, (name, res.error_bound)
        assert np.allclose(res.Q, planning.q_from_values(mdp, res.V), rtol=0, atol=1e-12 * mdp.vmax), name
        assert np.array_equal(res.policy, np.argmax(res.Q, axis=1))
        # |V^pi - V*| <= 2 gamma / (1 - gamma) |V - V*| for the greedy policy pi of V
        J = planning.expected_return(mdp, res.policy)
        assert J_star - J <= 2 * mdp.gamma / (1 - mdp.gamma) * res.error_bound + 1e-12 * mdp.vmax, name


@settings(max_examples=40, deadline=None)
@given(mdp=tabular_mdps(episodic=False, max_S=7), sparse=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_span_certificate_brackets_the_optimal_values(mdp, sparse, seed):
    """Porteus' bounds hold around any V; for V = V* + c (a constant shift) the span is 0 and the midpoint
    recovers V* exactly: a wrong constant (1/(1-gamma) for gamma/(1-gamma)) fails here."""
    if mdp.gamma == 0:
        return
    model = _sparse(mdp) if sparse else mdp
    B = Backups(model)
    V_star = planning.policy_iteration(mdp).V
    rng = np.random.default_rng(seed)
    for V in (rng.random(mdp.S) * mdp.vmax, V_star + rng.normal() * mdp.vmax):
        W, _ = B.bellman(V)
        V_out, bound, span = B.span_certificate(V, W)
        assert np.abs(V_out - V_star).max() <= bound + 1e-12 * mdp.vmax
        assert span >= 0
    assert bound <= 1e-11 * mdp.vmax  # the shifted V*: span of round-off only


def test_mpi_stops_by_the_span_and_reports_it():
    mdp = garnet(200, 4, 5, seed=3, gamma=0.99)
    res = solvers.modified_policy_iteration(mdp, tol=1e-6)
    assert res.residual < 1e-6 * 0.01 and res.constants == {
        "tol": 1e-6, "m": "adaptive", "sweeps": res.constants["sweeps"], "max_iter": res.constants["max_iter"],
        "dropped": 0}  # dense storage: no action elimination
    assert 0 < res.constants["sweeps"] <= 50 * (res.iterations - 1)  # adaptive: at most MPI_SWEEP_CAP a backup
    vi = planning.value_iteration(mdp, tol=1e-6)
    assert res.iterations < vi.iterations / 20  # far fewer full backups than value iteration
    for sparse in (False, True):  # a given m: exactly m sweeps after each backup but the last
        fixed = solvers.modified_policy_iteration(_sparse(mdp) if sparse else mdp, tol=1e-6, m=3)
        assert fixed.constants["m"] == 3 and fixed.constants["sweeps"] == 3 * (fixed.iterations - 1)
        assert np.abs(fixed.V - res.V).max() <= fixed.error_bound + res.error_bound
    with pytest.raises(ConvergenceError, match="modified_policy_iteration did not converge in 2"):
        solvers.modified_policy_iteration(mdp, max_iter=2)
    V_star = planning.policy_iteration(mdp).V
    for model in (mdp, _sparse(mdp)):  # stopped early, the certificate still holds (V and T V of one backup)
        with pytest.warns(ConvergenceWarning):
            early = solvers.modified_policy_iteration(model, max_iter=2, m=1, on_max_iter="warn")
        assert not early.converged and early.error_bound > 1e-6
        assert np.abs(early.V - V_star).max() <= early.error_bound
    with pytest.warns(ConvergenceWarning):
        assert not solvers.gauss_seidel_value_iteration(mdp, max_iter=2, on_max_iter="warn").converged


def test_finite_horizon_and_gamma_zero_are_exact():
    epi = garnet(6, 3, 2, seed=0, horizon=4)
    for m in (epi, _sparse(epi)):
        for fn in (solvers.modified_policy_iteration, solvers.gauss_seidel_value_iteration,
                   solvers.krylov_policy_iteration):
            res = fn(m)
            assert res.method == "backward_induction"
            assert np.abs(res.V - planning.backward_induction(epi).V).max() < 1e-13
    bandit = garnet(5, 3, 2, seed=1, gamma=0.0)
    assert np.array_equal(solvers.modified_policy_iteration(bandit).V, bandit.R.max(axis=1))


def test_default_method_by_size_and_solve_names_it():
    small, epi = garnet(20, 2, 3, seed=0, gamma=0.9), garnet(20, 2, 3, seed=0, horizon=3)
    assert solvers.default_method(small) == "policy_iteration" == planning.solve(small).method
    assert solvers.default_method(epi) == "backward_induction" == planning.solve(epi).method
    big = garnet(solvers.DENSE_PI_LIMIT + 1, 2, 3, seed=0, gamma=0.9, sparse=True)
    res = planning.solve(big)
    assert solvers.default_method(big) == "modified_policy_iteration" == res.method and res.error_bound < 1e-8
    for method in solvers.METHODS:
        if method != "backward_induction":
            out = planning.solve(small, method=method)
            assert np.abs(out.V - planning.solve(small).V).max() <= out.error_bound + 1e-12
    with pytest.raises(ValueError, match="method"):
        planning.solve(small, method="simplex")


def test_krylov_evaluation_beyond_the_direct_limit():
    """S > DIRECT_LIMIT: evaluation by GMRES + Jacobi polish, against SuperLU's direct sparse solve."""
    S = DIRECT_LIMIT + 500
    mdp = garnet(S, 2, 3, seed=5, gamma=0.95, sparse=True)
    rng = np.random.default_rng(0)
    pi = rng.random((S, 2))
    pi /= pi.sum(axis=1, keepdims=True)
    P_pi, r_pi = Backups(mdp).policy_system(pi)
    oracle = spla.spsolve(sp.csc_array(sp.eye_array(S) - 0.95 * P_pi), r_pi)
    V = sparse_evaluate(mdp, pi)
    assert np.abs(V - oracle).max() < 1e-11 / 0.05
    assert np.abs(planning.evaluate(mdp, pi) - V).max() == 0  # planning dispatches here
    for solver in ("gmres", "bicgstab"):
        assert np.abs(policy_values(P_pi, r_pi, 0.95, linear_solver=solver, atol=1e-10) - oracle).max() < 1e-8
    res = planning.policy_iteration(mdp)  # sparse: Krylov policy iteration (GMRES at this size)
    assert res.constants["linear_solver"] == "gmres" and res.error_bound < 1e-8
    mpi = solvers.modified_policy_iteration(mdp, tol=1e-10)
    assert np.abs(res.V - mpi.V).max() <= res.error_bound + mpi.error_bound


def test_policy_values_refuses_what_it_cannot_certify():
    with pytest.raises(ValueError, match="P_pi has shape"):
        policy_values(np.eye(3), np.ones(2), 0.9)
    with pytest.raises(ValueError, match="P_pi"):
        policy_values(sp.csr_array(np.full((2, 2), np.nan)), np.ones(2), 0.9)
    # the Krylov result is polished until the sup-norm residual meets atol, which is what the certificate uses
    P_pi, r_pi = Backups(garnet(300, 1, 20, seed=0, gamma=0.999, sparse=True)).policy_system(np.zeros(300, int))
    for solver, atol in (("gmres", 1e-14), ("bicgstab", 1e-13)):
        V = policy_values(P_pi, r_pi, 0.999, linear_solver=solver, atol=atol)
        assert np.abs(r_pi + 0.999 * (P_pi @ V) - V).max() <= atol


def test_mpi_drops_only_suboptimal_actions():
    """Sparse MPI's action elimination (MacQueen's test with Porteus' bounds) drops many actions but never an
    optimal one, ties included: action 4 duplicates action 0, so wherever 0 is optimal both must stay."""
    base = garnet(300, 4, 3, seed=7, gamma=0.95, sparse=True)
    S, A = base.S, 5
    T = base.transitions
    rows = (np.arange(S)[:, None] * 4 + np.array([0, 1, 2, 3, 0])).reshape(-1)
    mdp = TabularMDP(sp.csr_array(T[rows]), np.asarray(base.R)[:, [0, 1, 2, 3, 0]], base.init, gamma=0.95)
    exact = planning.policy_iteration(TabularMDP(T[rows].toarray().reshape(S, A, S), mdp.R, mdp.init, gamma=0.95))
    optimal = exact.Q >= exact.Q.max(axis=1, keepdims=True) - 1e-9
    assert optimal[:, 0].sum() > 10 and np.array_equal(optimal[:, 0], optimal[:, 4])
    res = solvers.modified_policy_iteration(mdp, tol=1e-10)
    assert np.abs(res.V - exact.V).max() <= res.error_bound + exact.error_bound
    assert np.abs(res.Q - exact.Q).max() <= res.error_bound + exact.error_bound + 1e-12  # dropped rows' Q too
    B = Backups(mdp)
    run = B.mpi(np.full(S, float(mdp.R.min()) / 0.05), m=None, threshold=1e-10 * 0.05, max_iter=1000)
    alive = run.alive.reshape(S, A).astype(bool)
    assert res.constants["dropped"] == (~alive).sum() > S  # more than one action a state on average
    assert alive[optimal].all()


def test_mpi_elimination_keeps_an_optimal_action_that_looks_bad_at_the_start():
    """The slack gamma sp(T V - V) / (1 - gamma) is needed: from V0 = V* + (0, -4, +4) the optimal action 0 of
    state 0 (to the absorbing state 1, reward 1; action 1 leads to state 2, reward 0.9) trails by 5.7 at V0 while
    sp(T V0 - V0) = 2.1; a slack of sp(T V - V) alone would drop it and converge to the wrong values."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 1] = P[0, 1, 2] = P[1, :, 1] = P[2, :, 2] = 1.0
    R = np.array([[0.0, 0.0], [1.0, 1.0], [0.9, 0.9]])
    mdp = TabularMDP(sp.csr_array(P.reshape(6, 3)), R, np.full(3, 1 / 3), gamma=0.95)
    V_star = np.array([19.0, 20.0, 18.0])
    res = solvers.modified_policy_iteration(mdp, V0=V_star + np.array([0.0, -4.0, 4.0]), m=0)
    assert res.policy[0] == 0 and np.abs(res.V - V_star).max() <= res.error_bound + 1e-12


def test_mpi_on_a_larger_sparse_garnet_agrees_with_policy_iteration():
    """S = 2,000, gamma 0.99 (the regime of benchmarks/quantecon.py, scaled down): the fused sparse MPI (adaptive
    sweeps, action elimination, Q from the kept P V) and the dense one agree with exact policy iteration within
    their certificates, and the policy is the optimal one."""
    sparse = garnet(2000, 6, 4, seed=11, gamma=0.99, sparse=True)
    dense = TabularMDP(sparse.P, sparse.R, sparse.init, gamma=0.99)
    exact = solvers.krylov_policy_iteration(dense, linear_solver="direct")
    for model in (sparse, dense):
        res = solvers.modified_policy_iteration(model)
        assert res.error_bound < 1e-8 and res.converged  # tol / 2 plus the round-off term (S terms dense)
        assert np.abs(res.V - exact.V).max() <= res.error_bound + exact.error_bound
        assert np.abs(res.Q - planning.q_from_values(dense, res.V)).max() <= 1e-12 * dense.vmax
        assert np.array_equal(res.policy, exact.policy)
    assert res.constants["dropped"] == 0 < solvers.modified_policy_iteration(sparse).constants["dropped"]

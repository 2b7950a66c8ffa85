"""Tests that kill the mutants of the planning layer (issue 14, item 3): planning.py, solvers.py,
sparse_planning.py and backups.py, run by ``python -m benchmarks.mutation --module planning``.

Each test checks a value against an independent oracle (a closed form worked by hand, an exact rational solve, the
LP, a recursion written out here) or a documented error message, through the public functions only, so that it
holds whatever the kernels' internals (the stopping rules, certificates and defaults it pins are the documented
ones). Survivors that cannot change behaviour are listed with their reasons in tests/mutation_equivalent.md.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
import scipy.sparse as sp

from theory_rl import planning as pl
from theory_rl import solvers
from theory_rl.backups import DIRECT_LIMIT, Backups, policy_values
from theory_rl.mdp import TabularMDP
from theory_rl.results import ConvergenceError, ConvergenceWarning
from theory_rl.sparse_planning import (
    default_max_iter,
    sparse_backward_induction,
    sparse_evaluate,
    sparse_q_from_values,
    sparse_value_iteration,
)

EPS = np.finfo(np.float64).eps


def _sparse(mdp: TabularMDP) -> TabularMDP:
    """The same MDP on CSR storage (stage-dependent transitions stacked by step)."""
    kw = {"gamma": mdp.gamma} if mdp.is_discounted else {"horizon": mdp.horizon}
    P = np.asarray(mdp.stage_P if mdp.is_episodic else mdp.P)
    return TabularMDP(sp.csr_array(P.reshape(-1, mdp.S)), mdp.R if mdp.is_discounted else mdp.stage_R, mdp.init,
                      **kw)


def _random_mdp(S, A, seed, **kw) -> TabularMDP:
    rng = np.random.default_rng(seed)
    lead = (kw["horizon"],) if kw.pop("staged", False) else ()
    P = rng.random(lead + (S, A, S)) ** 3
    P /= P.sum(-1, keepdims=True)
    return TabularMDP(P, rng.random(lead + (S, A)), np.full(S, 1.0 / S), **kw)


# ---------------------------------------------------------------------- finite horizon: backward induction
def _ladder(H: int = 3) -> TabularMDP:
    """Two states, two actions, horizon H: state 0 pays 1/2 for action 1 and moves to state 1, which pays 1 for
    either action and stays. V_h(1) = H - h, V_h(0) = max(0 + V_{h+1}(0), 1/2 + V_{h+1}(1))."""
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = P[1, :, 1] = 1.0
    R = np.array([[0.0, 0.5], [1.0, 1.0]])
    return TabularMDP(P, R, np.array([1.0, 0.0]), horizon=H)


def _ladder_values(H: int) -> np.ndarray:
    V = np.zeros((H + 1, 2))
    for h in range(H - 1, -1, -1):
        V[h, 1] = 1.0 + V[h + 1, 1]
        V[h, 0] = max(V[h + 1, 0], 0.5 + V[h + 1, 1])
    return V[:H]


@pytest.mark.parametrize("sparse", [False, True])
def test_backward_induction_result_record_by_hand(sparse):
    """Exact values, residual 0, converged, H iterations, and the documented round-off bound H (b + c) eps
    (1 + |V_0|_inf), sized by V_0 (the largest values), b = S dense (c = 2), the largest row support sparse (c = 6)."""
    H = 4
    mdp = _sparse(_ladder(H)) if sparse else _ladder(H)
    for res in (pl.backward_induction(mdp), pl.value_iteration(mdp), pl.solve(mdp)):
        assert np.array_equal(res.V, _ladder_values(H))
        assert res.residual == 0.0 and res.converged is True and res.iterations == H
        assert res.method == "backward_induction"
        width = 1 + 6 if sparse else 2 + 2  # every row of the ladder has one non-zero
        assert res.error_bound == pytest.approx(H * width * EPS * (1 + H), rel=1e-12, abs=0)
        assert np.array_equal(res.policy[:, 0], [1, 1, 1, 1])
    if sparse:
        res = sparse_backward_induction(mdp)
        assert res.converged is True and res.residual == 0.0
        assert res.error_bound == pytest.approx(H * 7 * EPS * (1 + H), rel=1e-12, abs=0)


def test_backward_induction_refuses_a_discounted_mdp_by_name():
    disc = _ladder().replace(horizon=None, gamma=0.9)
    with pytest.raises(ValueError, match="^backward_induction is defined for finite-horizon MDPs only"):
        pl.backward_induction(disc)
    with pytest.raises(ValueError, match="mdp must be finite-horizon"):
        sparse_backward_induction(_sparse(disc))


def test_bellman_expectation_at_a_step_of_a_finite_horizon_mdp():
    """T^pi_h V = sum_a pi_h(a|s) (R_h(s, a) + P_h(.|s, a) V), written out, for a stage-dependent policy."""
    mdp = _random_mdp(3, 2, 0, horizon=3, staged=True)
    rng = np.random.default_rng(1)
    pi = rng.random((3, 3, 2))
    pi /= pi.sum(-1, keepdims=True)
    V = rng.random(3)
    for h in range(3):
        want = [sum(pi[h, s, a] * (mdp.R_at(h)[s, a] + mdp.P_at(h)[s, a] @ V) for a in range(2)) for s in range(3)]
        got = pl.bellman_expectation(mdp, pi, V, h)
        assert np.allclose(got, want, rtol=0, atol=1e-14)


@pytest.mark.parametrize("sparse", [False, True])
def test_finite_horizon_state_occupancy_is_the_forward_distribution(sparse):
    """d_h(s) = Pr(s_h = s): init pushed forward through P_pi h times; shape (H, S) with S != A."""
    mdp = _random_mdp(3, 2, 2, horizon=4)
    mdp = _sparse(mdp) if sparse else mdp
    actions = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0], [0, 0, 0]])
    d = pl.state_occupancy(mdp, actions)
    assert d.shape == (4, 3)
    P = np.asarray(_random_mdp(3, 2, 2, horizon=4).P)
    dist = mdp.init.copy()
    for h in range(4):
        assert np.allclose(d[h], dist, rtol=0, atol=1e-15)
        dist = dist @ P[np.arange(3), actions[h]]


def test_sparse_values_arguments_are_checked_by_name():
    dense = _random_mdp(3, 2, 0, gamma=0.9)
    with pytest.raises(ValueError, match=r"^V must have 1 dimensions, got shape \(1, 3\)"):
        pl.q_from_values(dense, np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"^V0 must have 1 dimensions, got shape \(1, 3\)"):
        pl.value_iteration(dense, V0=np.zeros((1, 3)))
    mdp = _sparse(dense)
    with pytest.raises(ValueError, match=r"^V must have 1 dimensions, got shape \(1, 3\)"):
        sparse_q_from_values(mdp, np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"^V has shape \(2,\), expected \(3,\)"):
        sparse_q_from_values(mdp, np.zeros(2))
    with pytest.raises(ValueError, match=r"^V0 has shape \(2,\), expected \(3,\)"):
        pl.value_iteration(mdp, V0=np.zeros(2))


# ---------------------------------------------------------------------- the scalable solvers' documented defaults
SOLVERS = ("modified_policy_iteration", "gauss_seidel_value_iteration", "krylov_policy_iteration")


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("name", SOLVERS)
def test_gamma_zero_is_one_backup_named_by_its_method(name, sparse):
    """gamma = 0: V = max_a R exactly, Q = R, one iteration, residual 0, converged, and the round-off bound of one
    backup (b + 6) eps (1 + |Q|_inf) (b = the largest row support: S dense, 2 here sparse)."""
    R = np.array([[0.25, 0.5], [0.5, 0.0], [0.0, 0.125]])
    P = np.zeros((3, 2, 3))
    P[:, :, 0], P[:, :, 2] = 0.5, 0.5
    mdp = TabularMDP(P, R, np.full(3, 1 / 3), gamma=0.0)
    mdp = _sparse(mdp) if sparse else mdp
    res = getattr(solvers, name)(mdp)
    assert res.method == name and res.iterations == 1 and res.residual == 0.0 and res.converged is True
    assert np.array_equal(res.V, [0.5, 0.5, 0.125]) and np.array_equal(res.Q, R)
    assert np.array_equal(res.policy, [1, 0, 1])
    assert res.error_bound == pytest.approx((2 + 6 if sparse else 3 + 6) * EPS * 1.5, rel=1e-12, abs=0)
    vi = pl.value_iteration(mdp, V0=[0.25, 0.0, 0.0])  # gamma = 0: one step; residual |T V0 - V0|
    assert np.array_equal(vi.V, [0.5, 0.5, 0.125]) and np.array_equal(vi.Q, R) and vi.iterations == 1
    assert vi.residual == 0.5 and vi.converged is True and vi.method == "value_iteration"
    assert vi.error_bound == pytest.approx((2 + 6 if sparse else 3 + 2) * EPS * 1.5, rel=1e-12, abs=0)


@pytest.mark.parametrize("name", SOLVERS)
def test_default_tolerance_and_on_max_iter(name):
    """tol defaults to 1e-8 (the certificate then is below 1e-8), and a run that hits max_iter raises by default."""
    mdp = _random_mdp(6, 3, 4, gamma=0.95)
    exact = pl.policy_iteration(mdp)
    res = getattr(solvers, name)(mdp)
    assert res.constants["tol"] == 1e-8 and res.error_bound < 1e-8
    assert np.abs(res.V - exact.V).max() <= res.error_bound + exact.error_bound
    kw = {"policy0": np.zeros(6, dtype=int), "warm_start": 0} if name == "krylov_policy_iteration" else {}
    with pytest.raises(ConvergenceError, match=f"^{name} did not converge in 1 iterations"):
        getattr(solvers, name)(mdp, max_iter=1, **kw)


# ---------------------------------------------------------------------- Gauss-Seidel value iteration by hand
def _one_state(rewards, gamma) -> TabularMDP:
    A = len(rewards)
    return TabularMDP(np.ones((1, A, 1)), np.array([rewards], dtype=float), np.ones(1), gamma=gamma)


@pytest.mark.parametrize("sparse", [False, True])
def test_gauss_seidel_stopping_rule_and_certificate_by_hand(sparse):
    """One state, reward 1, gamma 1/2, start 0: V_k = 2 - 2^(1-k) and the sweep changes V by 2^(1-k), exactly in
    floating point. The rule stops at the first change below tol (1 - gamma) / (2 gamma) = tol / 2; at tol = 2^-9
    the change 2^-10 of sweep 11 equals the threshold (no stop: the inequality is strict), so k = 12 with residual
    2^-11. The span bound (0 span: the midpoint is V* = 2 exactly, bound (b + 6) eps (1 + 2) / (1 - gamma)) is
    tighter than the contraction bound, so the result carries it."""
    mdp = _one_state([1.0], 0.5)
    mdp = _sparse(mdp) if sparse else mdp
    res = solvers.gauss_seidel_value_iteration(mdp, tol=2.0**-9)
    assert res.iterations == 12 and res.residual == 2.0**-11 and res.converged is True
    assert res.method == "gauss_seidel_value_iteration"
    assert res.V[0] == 2.0 and res.Q[0, 0] == 2.0
    assert res.error_bound == pytest.approx(7 * EPS * 3 / 0.5, rel=1e-12, abs=0)
    assert res.constants == {"tol": 2.0**-9, "max_iter": res.constants["max_iter"]}
    assert res.constants["max_iter"] >= 100
    # an explicit start: V0 = 1 is V_1, so one sweep fewer
    res1 = solvers.gauss_seidel_value_iteration(mdp, tol=2.0**-9, V0=[1.0])
    assert res1.iterations == 11 and res1.residual == 2.0**-11
    with pytest.warns(ConvergenceWarning, match="gauss_seidel_value_iteration did not converge in 3 iterations"):
        capped = solvers.gauss_seidel_value_iteration(mdp, tol=2.0**-9, max_iter=3, on_max_iter="warn")
    assert capped.iterations == 3 and capped.residual == 0.25 and capped.converged is False


def test_gauss_seidel_at_the_threshold_and_at_a_fixed_point():
    """Capped at sweep 11, whose change equals the threshold: not converged (strict inequality). With tol = 1e-300
    the sweeps reach the floating-point fixed point V = 2 (change 0): the contraction bound is then
    (b + 6) eps (1 + 2) / (1 - gamma)^2 = 84 eps, the span bound half of it, and the result carries the span bound."""
    mdp = _one_state([1.0], 0.5)
    with pytest.warns(ConvergenceWarning, match="did not converge in 11 iterations"):
        res = solvers.gauss_seidel_value_iteration(mdp, tol=2.0**-9, max_iter=11, on_max_iter="warn")
    assert res.converged is False and res.residual == 2.0**-10
    for model in (mdp, _sparse(mdp)):
        res = solvers.gauss_seidel_value_iteration(model, tol=1e-300)
        assert res.residual == 0.0 and res.V[0] == 2.0 and res.converged is True
        assert res.error_bound == pytest.approx(7 * EPS * 3 / 0.5, rel=1e-12, abs=0)


def test_gauss_seidel_messages_name_the_method_and_the_numbers():
    mdp = _one_state([1.0], 0.5)
    threshold = 2.0**-9 * 0.5 / 1.0
    with pytest.raises(ConvergenceError, match=(
            r"^gauss_seidel_value_iteration did not converge in 2 iterations \(change 5\.000e-01 above the stopping "
            rf"threshold {threshold:.3e}, tol={2.0**-9:g}\)")):
        solvers.gauss_seidel_value_iteration(mdp, tol=2.0**-9, max_iter=2)


def _idle(S: int, gamma: float) -> TabularMDP:
    """S states, 2 actions, zero rewards, uniform transitions: V* = 0 is the start, so a run stops at once."""
    return TabularMDP(np.full((S, 2, S), 1.0 / S), np.zeros((S, 2)), np.full(S, 1.0 / S), gamma=gamma)


def _thin(S: int) -> sp.csr_array:
    """(S * 2, S) transitions: action 0 moves from s to s or s + 1 (mod S) with probability 1/2 each, action 1
    stays: 3 S entries in all."""
    rows, cols, vals = [], [], []
    for s in range(S):
        rows += [2 * s, 2 * s, 2 * s + 1]
        cols += [s, (s + 1) % S, s]
        vals += [0.5, 0.5, 1.0]
    return sp.csr_array((vals, (rows, cols)), shape=(2 * S, S))


def test_default_iteration_caps_refuse_absurd_work_by_name():
    """gamma = 1 - 1e-5: the default cap is 2 ceil(log(vmax / threshold) / -log gamma) + 100 = 8.4e6 sweeps.
    Gauss-Seidel sweeps all S A S = 2e4 transitions each time (1.7e11 operations > 1e11: refused at once, naming
    the method); modified policy iteration checks the cap alone (8.4e10 <= 1e11: it runs, and stops at once)."""
    gamma = 1 - 1e-5
    mdp = _idle(100, gamma)
    ops = r"asks for about 2\.53e\+11 operations"  # 8427992 sweeps x (2e4 transitions + 1e4)
    with pytest.raises(ValueError, match=rf"^gauss_seidel_value_iteration at gamma={gamma!r} \(max_iter 8\.43e\+06\) "
                                         + ops):
        solvers.gauss_seidel_value_iteration(mdp)
    with pytest.raises(ValueError, match=rf"^value_iteration at gamma={gamma!r} \(max_iter 8\.43e\+06\) " + ops):
        pl.value_iteration(mdp)
    for model in (_sparse(mdp),):
        with pytest.raises(ValueError, match=rf"^value_iteration at gamma={gamma!r} \(max_iter 8\.43e\+06\) " + ops):
            pl.value_iteration(model)
    with pytest.raises(ValueError, match=rf"^gauss_seidel_value_iteration at gamma={gamma!r} \(max_iter 8\.43e\+06\) "
                                         + ops):
        solvers.gauss_seidel_value_iteration(_sparse(mdp))
    # a sparser MDP: 300 transitions per sweep, 8.43e6 x (300 + 1e4) = 8.7e10 operations, allowed (and stops at once)
    thin = TabularMDP(_thin(100), np.zeros((100, 2)), np.full(100, 0.01), gamma=gamma)
    assert pl.value_iteration(thin).iterations == 1
    assert solvers.gauss_seidel_value_iteration(thin).iterations == 1
    # the same transitions stored dense: a sweep reads all S A S entries, so the same cap is refused
    dense_thin = TabularMDP(_thin(100).toarray().reshape(100, 2, 100), np.zeros((100, 2)), np.full(100, 0.01),
                            gamma=gamma)
    with pytest.raises(ValueError, match=rf"^gauss_seidel_value_iteration at gamma={gamma!r} \(max_iter 8\.43e\+06\) "
                                         + ops):
        solvers.gauss_seidel_value_iteration(dense_thin)
    res = solvers.modified_policy_iteration(mdp)
    assert res.iterations == 1 and res.constants["max_iter"] == 8427992 and np.array_equal(res.V, np.zeros(100))
    # gamma = 1 - 1e-6: MPI's cap alone, 9.3e7 x 1e4 operations, is refused too
    closer = 1 - 1e-6
    cap = default_max_iter(closer, 1e-8, 1 / (1 - closer))
    with pytest.raises(ValueError, match="^" + re.escape(f"modified_policy_iteration at gamma={closer!r} (max_iter "
                                                         f"{cap:.3g}) asks for about {cap * 1e4:.3g} operations")):
        solvers.modified_policy_iteration(_idle(3, closer))
    assert solvers.gauss_seidel_value_iteration(mdp, max_iter=5).iterations == 1


# ------------------------------------------------------------- the solvers against their written-out algorithms
def _greedy(mdp, V):
    Q = mdp.R + mdp.gamma * mdp.P @ V
    return Q.max(axis=1), Q.argmax(axis=1)


def _width(mdp, sparse):
    return int((np.asarray(mdp.P).reshape(mdp.S * mdp.A, mdp.S) != 0).sum(axis=1).max()) if sparse else mdp.S


def _reference_mpi(mdp, tol, m, V0):
    """Puterman's MPI(m) with the span rule and the midpoint of Porteus' band around V, ``V + [min, max](W - V) /
    (1 - gamma)``, stopping at ``sp(W - V) < tol (1 - gamma)``, in plain numpy (Sec. 6.5-6.6)."""
    gamma, rows = mdp.gamma, np.arange(mdp.S)
    V = np.array(V0, dtype=float)
    for k in range(1, 10_000):
        W, act = _greedy(mdp, V)
        d = W - V
        if d.max() - d.min() < tol * (1 - gamma):
            break
        V = W
        for _ in range(m):
            V = mdp.R[rows, act] + gamma * mdp.P[rows, act] @ V
    return k, d.max() - d.min(), V + (d.max() + d.min()) / (2 * (1 - gamma))


def _reference_gauss_seidel(mdp, tol, V0):
    gamma = mdp.gamma
    V = np.array(V0, dtype=float)
    for k in range(1, 10_000):
        change = 0.0
        for s in range(mdp.S):
            new = (mdp.R[s] + gamma * mdp.P[s] @ V).max()
            change = max(change, abs(new - V[s]))
            V[s] = new
        if change < tol * (1 - gamma) / (2 * gamma):
            return k, change, V
    raise AssertionError("no convergence")


def _reference_howard(mdp, actions, slack=0.0):
    """Howard's policy iteration from ``actions``, switching on a strict improvement above ``slack``; the number
    of evaluations and the final values."""
    gamma, rows = mdp.gamma, np.arange(mdp.S)
    for k in range(1, 1000):
        V = np.linalg.solve(np.eye(mdp.S) - gamma * mdp.P[rows, actions], mdp.R[rows, actions])
        Q = mdp.R + gamma * mdp.P @ V
        best = Q.argmax(axis=1)
        improves = Q[rows, best] > Q[rows, actions] + slack + 1e-12 * (1 + np.abs(V).max())
        if not improves.any():
            return k, V, Q
        actions = np.where(improves, best, actions)
    raise AssertionError("cycling")


def _warm_actions(mdp, sweeps):
    V = np.zeros(mdp.S)
    for _ in range(sweeps):
        V, _ = _greedy(mdp, V)
    return _greedy(mdp, V)[1]


CASES = [(5, 3, 0, 0.9), (6, 2, 1, 0.95), (4, 4, 2, 0.8), (7, 3, 3, 0.9)]


@pytest.mark.parametrize("sparse", [False, True])
def test_modified_policy_iteration_by_hand_on_one_state(sparse):
    """One state, rewards (0.5, 1), gamma 1/2: the start min R / (1 - gamma) = 1, W = T V = 1.5, span 0 (one state),
    so one iteration; the midpoint W + c (W - V) = 2 = V* exactly, and the bound is the round-off term alone,
    (b + 6) eps (1 + 2) / (1 - gamma) = 42 eps."""
    mdp = _one_state([0.5, 1.0], 0.5)
    res = solvers.modified_policy_iteration(_sparse(mdp) if sparse else mdp)
    assert res.iterations == 1 and res.residual == 0.0 and res.V[0] == 2.0 and res.converged is True
    assert res.error_bound == pytest.approx(42 * EPS, rel=1e-12, abs=0)
    assert np.array_equal(res.Q, [[1.5, 2.0]]) and np.array_equal(res.policy, [1])


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(("S", "A", "seed", "gamma"), CASES)
def test_modified_policy_iteration_is_puterman_mpi(S, A, seed, gamma, sparse):
    """Iterations, span, the midpoint values and the certificate sp / (2 (1 - gamma)) + (b + 6) eps (1 + |V|) /
    (1 - gamma) of the written-out algorithm, for explicit m and V0 (start min R / (1 - gamma) by default); the
    default adaptive sweep count is checked against the exact solution and its certificate."""
    mdp = _random_mdp(S, A, seed, gamma=gamma)
    model = _sparse(mdp) if sparse else mdp
    tol = 1e-3
    start = np.full(S, mdp.R.min() / (1 - gamma))
    for m, V0, kw in ((0, start, {"m": 0}), (1, start, {"m": 1}), (max(A, 2), start, {"m": max(A, 2)}),
                      (3, np.zeros(S), {"m": 3, "V0": np.zeros(S)}), (2, np.ones(S), {"m": 2, "V0": [1.0] * S})):
        k, span, V = _reference_mpi(mdp, tol, m, V0)
        res = solvers.modified_policy_iteration(model, tol=tol, **kw)
        assert (res.iterations, res.method, res.converged) == (k, "modified_policy_iteration", True), (m, kw)
        assert res.residual == pytest.approx(span, rel=1e-9, abs=0)
        assert np.allclose(res.V, V, rtol=1e-12, atol=0)
        roundoff = (_width(mdp, sparse) + 6) * EPS * (1 + np.abs(res.V).max())
        assert res.error_bound == pytest.approx(span / (2 * (1 - gamma)) + roundoff / (1 - gamma), rel=1e-9, abs=0)
        # the default cap: value iteration's, from |V0 - V*| <= vmax + |V0|
        cap = default_max_iter(gamma, tol, 1 / (1 - gamma) + np.abs(V0).max())
        assert {key: res.constants[key] for key in ("tol", "m", "max_iter")} == {"tol": tol, "m": m, "max_iter": cap}
        assert res.constants["sweeps"] == m * (k - 1)
        assert np.allclose(res.Q, mdp.R + gamma * mdp.P @ res.V, rtol=1e-12, atol=1e-12)
    exact = pl.policy_iteration(mdp)
    res = solvers.modified_policy_iteration(model, tol=tol)
    assert res.converged and res.constants["m"] == "adaptive" and 0 < res.error_bound < tol
    assert np.abs(res.V - exact.V).max() <= res.error_bound


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(("S", "A", "seed", "gamma"), CASES)
def test_gauss_seidel_is_the_in_place_sweep(S, A, seed, gamma, sparse):
    """Iterations and last change of the written-out in-place sweep from 0 (or V0); the result is the tighter of
    the contraction bound (gamma change + roundoff / (1 - gamma)) / (1 - gamma) with the sweep's values and
    Porteus' bound with the midpoint of one more Jacobi backup."""
    mdp = _random_mdp(S, A, seed, gamma=gamma)
    model = _sparse(mdp) if sparse else mdp
    tol, c = 1e-3, gamma / (1 - gamma)
    for V0, kw in ((np.zeros(S), {}), (np.full(S, 2.0), {"V0": np.full(S, 2.0)})):
        k, change, V = _reference_gauss_seidel(mdp, tol, V0)
        res = solvers.gauss_seidel_value_iteration(model, tol=tol, **kw)
        assert (res.iterations, res.converged) == (k, True)
        assert res.residual == pytest.approx(change, rel=1e-9, abs=0)
        W, _ = _greedy(mdp, V)
        d = W - V
        b = _width(mdp, sparse) + 6
        span_bound = c * (d.max() - d.min()) / 2 + b * EPS * (1 + np.abs(W + c * (d.max() + d.min()) / 2).max()) / (
            1 - gamma)
        gs_bound = (gamma * change + b * EPS * (1 + np.abs(V).max()) / (1 - gamma)) / (1 - gamma)
        assert res.error_bound == pytest.approx(min(span_bound, gs_bound), rel=1e-9, abs=0)
        want = W + c * (d.max() + d.min()) / 2 if span_bound < gs_bound else V
        assert np.allclose(res.V, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(("S", "A", "seed", "gamma"), CASES)
def test_policy_iterations_are_howards(S, A, seed, gamma, sparse):
    """planning.policy_iteration and krylov_policy_iteration (direct solves: no slack) take Howard's steps from the
    greedy policy after warm_start Bellman sweeps from 0 (3 by default) or from policy0; the certificate is
    (|T V - V| + (b + c) eps (1 + |V|)) / (1 - gamma) (c = 2 dense planning, 6 otherwise)."""
    mdp = _random_mdp(S, A, seed, gamma=gamma)
    model = _sparse(mdp) if sparse else mdp
    b = _width(mdp, sparse)
    for kw, actions in (({}, _warm_actions(mdp, 3)), ({"warm_start": 0}, _warm_actions(mdp, 0)),
                        ({"warm_start": 1}, _warm_actions(mdp, 1)),
                        ({"policy0": np.zeros(S, dtype=int)}, np.zeros(S, dtype=int))):
        k, V, Q = _reference_howard(mdp, actions)
        for res, c in ((pl.policy_iteration(model, **kw), 6 if sparse else 2),
                       (solvers.krylov_policy_iteration(model, linear_solver="direct", **kw), 6)):
            assert res.iterations == k and res.converged is True, kw
            assert np.allclose(res.V, V, rtol=1e-12, atol=0)
            residual = np.abs(Q.max(axis=1) - V).max()
            assert res.residual == pytest.approx(residual, rel=1e-6, abs=1e-13)
            assert res.error_bound == pytest.approx((res.residual + (b + c) * EPS * (1 + np.abs(V).max())) / (
                1 - gamma), rel=1e-12, abs=0)


@pytest.mark.parametrize("sparse", [False, True])
def test_krylov_policy_iteration_names_its_solver_and_meets_tol(sparse):
    """"auto" is a direct solve at this size; GMRES and BiCGSTAB evaluate to atol = tol (1 - gamma) / 4 and switch
    only on improvements above 2 gamma atol / (1 - gamma): the same policy steps as Howard's here, and the
    certificate then is below tol / 4 plus round-off."""
    mdp = _random_mdp(6, 3, 7, gamma=0.9)
    model = _sparse(mdp) if sparse else mdp
    k, V, _ = _reference_howard(mdp, _warm_actions(mdp, 3))
    auto = solvers.krylov_policy_iteration(model)
    assert auto.constants == {"tol": 1e-8, "linear_solver": "direct", "max_iter": 1000}
    assert auto.method == "krylov_policy_iteration" and auto.iterations == k
    for solver in ("gmres", "bicgstab"):
        tol = 1e-6
        res = solvers.krylov_policy_iteration(model, tol=tol, linear_solver=solver)
        assert res.constants["linear_solver"] == solver and res.iterations == k
        assert np.abs(res.V - V).max() <= tol * 0.1 / 4 / 0.1 + 1e-13
        assert res.error_bound <= tol / 4 + 1e-12
        assert np.array_equal(res.policy, auto.policy)


def test_solver_messages_at_the_iteration_cap():
    """The ConvergenceError names the method, the cap and how far from the stopping rule the run was."""
    mdp = _random_mdp(5, 3, 0, gamma=0.9)
    tol = 1e-6
    V1, _ = _greedy(mdp, np.zeros(5))
    for model in (mdp, _sparse(mdp)):
        with pytest.raises(ConvergenceError, match=(
                rf"^value_iteration did not converge in 1 iterations \(max_iter=1, residual {V1.max():.3e} above the "
                rf"stopping threshold {tol * 0.1 / 1.8:.3e}, tol={tol:g}, gamma=0\.9\); raise max_iter")):
            pl.value_iteration(model, tol=tol, max_iter=1)
        start = np.full(5, mdp.R.min() / 0.1)
        d = _greedy(mdp, start)[0] - start
        with pytest.raises(ConvergenceError, match=(
                rf"^modified_policy_iteration did not converge in 1 iterations \(span {d.max() - d.min():.3e} above "
                rf"the stopping threshold {tol * 0.1:.3e}, tol={tol:g}, gamma=0\.9\)")):
            solvers.modified_policy_iteration(model, tol=tol, max_iter=1)
        for name, fn in (("krylov_policy_iteration", solvers.krylov_policy_iteration),
                         ("policy_iteration", pl.policy_iteration)):
            if model.is_sparse:
                name = "krylov_policy_iteration"
            with pytest.raises(ConvergenceError, match=rf"^{name} did not converge in 1 iterations \(max_iter=1, "
                                                       r"no stable policy\)"):
                fn(model, max_iter=1, policy0=np.zeros(5, dtype=int))
            with pytest.warns(ConvergenceWarning):
                res = fn(model, max_iter=1, policy0=np.zeros(5, dtype=int), on_max_iter="warn")
            assert res.iterations == 1 and res.converged is False
            V = np.linalg.solve(np.eye(5) - 0.9 * mdp.P[:, 0], mdp.R[:, 0])
            assert np.allclose(res.V, V, rtol=1e-12, atol=0)


def test_default_max_iter_closed_form():
    """2 ceil(log(vmax / threshold) / -log gamma) + 100 with threshold tol (1 - gamma) / (2 gamma); 100 when
    vmax is below the threshold already."""
    for gamma, tol, vmax in ((0.9, 1e-8, 10.0), (0.5, 1e-3, 2.0), (0.99, 1e-6, 100.0)):
        threshold = tol * (1 - gamma) / (2 * gamma)
        want = 2 * math.ceil(math.log(vmax / threshold) / -math.log(gamma)) + 100
        assert default_max_iter(gamma, tol, vmax) == want
    assert default_max_iter(0.9, 1e-8, 10.0) == 550
    assert default_max_iter(0.5, 1.0, 0.1) == 100 == default_max_iter(0.5, 1.0, 0.0)


def _reference_backward_induction(mdp):
    H, S = mdp.horizon, mdp.S
    V = np.zeros((H + 1, S))
    for h in range(H - 1, -1, -1):
        V[h] = (mdp.R_at(h) + mdp.P_at(h) @ V[h + 1]).max(axis=1)
    return V[:H]


@pytest.mark.parametrize("staged", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_every_solver_does_backward_induction_on_stages(staged, sparse):
    """Finite horizon, stationary or stage-dependent P and R, dense or sparse: every solver and the policy
    evaluation of the optimal policy give the written-out backward induction."""
    mdp = _random_mdp(4, 3, 11, horizon=3, staged=staged)
    model = _sparse(mdp) if sparse else mdp
    want = _reference_backward_induction(mdp)
    for fn in (pl.backward_induction, pl.value_iteration, pl.policy_iteration, solvers.modified_policy_iteration,
               solvers.gauss_seidel_value_iteration, solvers.krylov_policy_iteration, sparse_backward_induction):
        res = fn(model)
        assert np.allclose(res.V, want, rtol=1e-14, atol=0), fn
        assert res.method == "backward_induction" and res.iterations == 3 and res.converged is True
        assert np.allclose(pl.evaluate(model, res.policy), want, rtol=1e-14, atol=0)
        assert np.allclose(res.Q[0], mdp.R_at(0) + mdp.P_at(0) @ want[1], rtol=1e-14, atol=0)
    assert np.allclose(pl.optimal_values_lp(model).V, want, rtol=0, atol=1e-8)
    for h in range(3):
        Vnext = want[h + 1] if h < 2 else np.zeros(4)
        q = mdp.R_at(h) + mdp.P_at(h) @ Vnext
        assert np.allclose(pl.q_from_values(model, Vnext, h), q, rtol=1e-14, atol=0)
        assert np.allclose(sparse_q_from_values(model, Vnext, h), q, rtol=1e-14, atol=0)
        assert np.allclose(pl.bellman_optimality(model, Vnext, h), want[h], rtol=1e-14, atol=0)


# ---------------------------------------------------------------------- policy evaluation: direct and Krylov
def _policy(S, A, seed):
    pi = np.random.default_rng(seed).random((S, A)) ** 2
    return pi / pi.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("sparse", [False, True])
def test_policy_system_and_values_against_the_definition(sparse):
    """P_pi = sum_a pi(a|s) P(.|s, a), r_pi likewise (actions or probabilities); policy_values is the solution of
    (I - gamma P_pi) V = r_pi: direct ("auto" below DIRECT_LIMIT states, bit for bit), and GMRES / BiCGSTAB to a
    sup-norm residual below atol, hence |V - V^pi| <= atol / (1 - gamma)."""
    mdp = _random_mdp(6, 3, 5, gamma=0.9)
    model = _sparse(mdp) if sparse else mdp
    B = Backups(model)
    pi = _policy(6, 3, 0)
    P_pi, r_pi = B.policy_system(pi)
    want_P, want_r = np.einsum("sa,sat->st", pi, mdp.P), (pi * mdp.R).sum(axis=1)
    assert np.allclose(P_pi.toarray() if sparse else P_pi, want_P, rtol=1e-14, atol=0)
    assert np.allclose(r_pi, want_r, rtol=1e-14, atol=0)
    actions = np.array([2, 0, 1, 1, 0, 2])
    P_a, r_a = B.policy_system(actions)
    assert np.array_equal(P_a.toarray() if sparse else P_a, mdp.P[np.arange(6), actions])
    assert np.array_equal(r_a, mdp.R[np.arange(6), actions])
    exact = np.linalg.solve(np.eye(6) - 0.9 * want_P, want_r)
    direct = policy_values(P_pi, r_pi, 0.9, linear_solver="direct")
    assert np.allclose(direct, exact, rtol=1e-13, atol=0)
    assert np.array_equal(policy_values(P_pi, r_pi, 0.9), direct)
    assert np.allclose(policy_values(P_pi, r_pi, 0.0), r_pi, rtol=0, atol=0)
    for solver in ("gmres", "bicgstab"):
        for atol in (1e-3, 1e-6, 1e-12):
            V = policy_values(P_pi, r_pi, 0.9, linear_solver=solver, atol=atol)
            assert np.abs(r_pi + 0.9 * (P_pi @ V) - V).max() <= atol
            assert np.abs(V - exact).max() <= atol / 0.1
        assert np.abs(policy_values(P_pi, r_pi, 0.9, linear_solver=solver) - exact).max() <= 1e-12 / 0.1
    for model_eval in (pl.evaluate(model, pi), sparse_evaluate(model, pi)):
        assert np.allclose(model_eval, exact, rtol=1e-12, atol=0)
    P_dense = mdp.P[np.arange(6), actions]
    assert np.allclose(pl.evaluate(model, actions), np.linalg.solve(np.eye(6) - 0.9 * P_dense, r_a), rtol=1e-12, atol=0)


def test_policy_values_polishes_a_crude_krylov_solution_with_jacobi_sweeps():
    """A dense P_pi (a linear operator for the Krylov method); at gamma = 0.999 the Krylov solve alone leaves a
    sup-norm residual above atol = 1e-14 on some systems: the Jacobi sweeps must bring it down."""
    rng = np.random.default_rng(3)
    for S in (3, 40):
        P = rng.random((S, S)) ** 4
        P /= P.sum(axis=1, keepdims=True)
        r = rng.random(S)
        exact = np.linalg.solve(np.eye(S) - 0.999 * P, r)
        for solver in ("gmres", "bicgstab"):
            for P_pi in (P, sp.csr_array(P)):
                V = policy_values(P_pi, r, 0.999, linear_solver=solver, atol=1e-11)
                assert np.abs(r + 0.999 * (P_pi @ V) - V).max() <= 1e-11
                assert np.abs(V - exact).max() <= 1e-11 / 0.001


def test_policy_values_beyond_the_direct_limit_is_gmres():
    """S = DIRECT_LIMIT + 1: "auto" is GMRES (the same bits as asking for it), certified to atol."""
    S = DIRECT_LIMIT + 1
    rng = np.random.default_rng(0)
    cols = rng.integers(0, S, size=(S, 2))
    P = sp.csr_array((np.full(2 * S, 0.5), cols.reshape(-1), np.arange(0, 2 * S + 1, 2)), shape=(S, S))
    r = rng.random(S)
    V = policy_values(P, r, 0.9, atol=1e-9)
    assert np.array_equal(V, policy_values(P, r, 0.9, linear_solver="gmres", atol=1e-9))
    assert np.abs(r + 0.9 * (P @ V) - V).max() <= 1e-9


class _Jittery(sp.csr_array):
    """A transition matrix whose products carry an alternating error of 1e-9: Jacobi sweeps cannot settle."""

    flips = 0

    def __matmul__(self, other):
        _Jittery.flips += 1
        return super().__matmul__(other) + (-1.0) ** _Jittery.flips * 1e-9


def test_policy_values_refuses_a_residual_the_sweeps_cannot_lower():
    """After the Krylov solve, Jacobi sweeps in batches of ceil(log(atol / residual) / log gamma) (66 here: the
    residual stays near 1e-9) until 10^4 sweeps are done; then a ConvergenceError naming the solver, the
    residual, atol, the sweeps and gamma."""
    P = _Jittery(np.array([[0.5, 0.5], [0.25, 0.75]]))
    for solver in ("gmres", "bicgstab"):
        with pytest.raises(ConvergenceError) as err:
            policy_values(P, [0.3, 1.0], 0.9, linear_solver=solver, atol=1e-12)
        pattern = (rf"^policy_values \({solver}\): residual (\d\.\d{{3}}e-(09|10)) above atol=1e-12 after the Krylov "
                   r"solve and (\d+) Jacobi sweeps \(gamma=0\.9\)$")
        match = re.match(pattern, str(err.value))
        assert match, str(err.value)
        n = math.ceil(math.log(1e-12 / float(match.group(1))) / math.log(0.9))
        assert 60 <= n <= 70 and 10_000 <= int(match.group(3)) < 10_000 + n
    # gamma = 0.999: each batch would need ~7000 sweeps, capped at 1000, so exactly ten batches
    with pytest.raises(ConvergenceError, match=r"after the Krylov solve and 10000 Jacobi sweeps \(gamma=0\.999\)$"):
        policy_values(P, [0.3, 1.0], 0.999, linear_solver="gmres", atol=1e-12)


def test_policy_values_refusals_are_named():
    with pytest.raises(ValueError, match=r"^P_pi has shape \(3, 3\), expected \(2, 2\) to match r_pi"):
        policy_values(np.eye(3), np.ones(2), 0.9)
    with pytest.raises(ValueError, match=r"^P_pi has shape \(3, 3\), expected \(2, 2\) to match r_pi"):
        policy_values(sp.eye_array(3, format="csr"), np.ones(2), 0.9)
    with pytest.raises(ValueError, match="^P_pi must have finite real entries"):
        policy_values(sp.csr_array(np.full((2, 2), np.inf)), np.ones(2), 0.9)
    with pytest.raises(ValueError, match="^P_pi must have finite real entries"):
        policy_values(sp.csr_array(np.array([[1j, 0], [0, 1]])), np.ones(2), 0.9)
    with pytest.raises(ValueError, match=r"^gamma is 1\.0, expected a real number in \[0, 1\)"):
        policy_values(np.eye(2), np.ones(2), 1.0)
    with pytest.raises(ValueError, match=r"^gamma is -0\.1, expected a real number in \[0, 1\)"):
        policy_values(np.eye(2), np.ones(2), -0.1)
    with pytest.raises(ValueError, match=r"^atol is 0\.0, expected a real number in \(0, inf\)"):
        policy_values(np.eye(2), np.ones(2), 0.5, atol=0.0)
    with pytest.raises(ValueError, match="^linear_solver"):
        policy_values(np.eye(2), np.ones(2), 0.5, linear_solver="lu")
    with pytest.raises(ValueError, match=r"^r_pi must have 1 dimensions"):
        policy_values(np.eye(2), np.ones((2, 1)), 0.5)
    with pytest.raises(ValueError, match=r"^P_pi must have 2 dimensions"):
        policy_values(np.ones(2), np.ones(2), 0.5)
    V = policy_values(np.eye(2, dtype=int), [1, 2], 0.5, linear_solver="gmres")
    assert np.allclose(V, [2, 4], rtol=1e-12, atol=0)
    assert np.allclose(policy_values([[0, 1], [1, 0]], [1, 0], 0.5), [4 / 3, 2 / 3], rtol=1e-15, atol=0)


# ---------------------------------------------------------------------- solve, returns, occupancy, the LP
def test_solve_dispatch_and_the_size_rule():
    """default_method: policy iteration up to DENSE_PI_LIMIT = 400 states inclusive, MPI beyond; solve names the
    method it ran, passes keywords on, and refuses backward induction on a discounted MDP by name."""
    for S, want in ((400, "policy_iteration"), (401, "modified_policy_iteration")):
        mdp = TabularMDP(np.full((S, 1, S), 1.0 / S), np.full((S, 1), 0.5), np.full(S, 1.0 / S), gamma=0.5)
        assert solvers.default_method(mdp) == want == pl.solve(mdp).method
        assert np.allclose(pl.solve(mdp).V, 1.0, rtol=0, atol=1e-8)
    mdp = _random_mdp(5, 3, 0, gamma=0.9)
    exact = pl.policy_iteration(mdp)
    for method in solvers.METHODS:
        if method == "backward_induction":
            with pytest.raises(ValueError, match="^backward_induction is defined for finite-horizon MDPs only"):
                pl.solve(mdp, method=method)
            continue
        res = pl.solve(mdp, method=method)
        assert res.method == ("lp" if method == "lp" else method)
        assert np.abs(res.V - exact.V).max() <= res.error_bound + exact.error_bound
    assert pl.solve(mdp, method="value_iteration", tol=1e-2).constants["tol"] == 1e-2
    with pytest.raises(ValueError, match="^method is 'simplex'"):
        pl.solve(mdp, method="simplex")
    epi = _random_mdp(3, 2, 0, horizon=2)
    for method in ("value_iteration", "lp", "policy_iteration"):
        assert pl.solve(epi, method=method).method == "backward_induction"


def test_expected_and_optimal_returns_by_hand():
    """One state, rewards (0.25, 0.75), gamma 1/2: J(a) = 2 R(a); J* = 1.5, suboptimality 1 for action 0; the
    cached returns of different policies on one MDP stay distinct, and so do J and J*."""
    mdp = _one_state([0.25, 0.75], 0.5)
    for _ in range(2):
        assert pl.expected_return(mdp, np.array([0])) == 0.5
        assert pl.expected_return(mdp, np.array([1])) == 1.5
        assert pl.expected_return(mdp, np.array([1], dtype=np.uint8)) == 1.5
        assert pl.optimal_return(mdp) == 1.5
        assert pl.suboptimality(mdp, np.array([0])) == 1.0
        assert pl.expected_return(mdp, np.array([[0.5, 0.5]])) == 1.0
    two = TabularMDP(np.full((2, 2, 2), 0.5), np.array([[0.0, 1.0], [0.5, 0.0]]), np.array([0.25, 0.75]), gamma=0.5)
    # V^pi solves V = r_pi + 0.5 * mean(V): mean(V) = mean(r_pi) / 0.5
    for actions in ([0, 0], [1, 0], [1, 1], [0, 1]):
        r = two.R[[0, 1], actions]
        V = r + 0.5 * r.mean() / 0.5
        assert pl.expected_return(two, np.array(actions)) == pytest.approx(0.25 * V[0] + 0.75 * V[1], rel=1e-14, abs=0)


@pytest.mark.parametrize("sparse", [False, True])
def test_discounted_occupancy_is_the_normalised_discounted_visitation(sparse):
    """d(s, a) = (1 - gamma) sum_t gamma^t Pr(s_t = s) pi(a|s), by the power series summed far enough, and
    state_occupancy its row sums."""
    mdp = _random_mdp(4, 3, 9, gamma=0.8)
    model = _sparse(mdp) if sparse else mdp
    pi = _policy(4, 3, 2)
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    dist, total = mdp.init.copy(), np.zeros(4)
    for t in range(400):
        total += 0.2 * 0.8**t * dist
        dist = dist @ P_pi
    assert np.allclose(pl.occupancy(model, pi), total[:, None] * pi, rtol=0, atol=1e-14)
    assert np.allclose(pl.state_occupancy(model, pi), total, rtol=0, atol=1e-14)
    assert (pl.occupancy(model, pi) >= 0).all()


def test_finite_horizon_lp_and_q_values_by_hand():
    """The ladder: the LP's values (finite horizon) are the backward induction's, with H x the residual bound and
    its iterations; q_values of a policy are R_h + P_h V_{h+1}^pi with V_H = 0."""
    mdp = _ladder(3)
    lp = pl.optimal_values_lp(mdp)
    assert np.allclose(lp.V, _ladder_values(3), rtol=0, atol=1e-9) and lp.method == "lp" and lp.converged is True
    residual = np.abs(np.stack([(mdp.R + mdp.P @ (lp.V[h + 1] if h < 2 else np.zeros(2))).max(axis=1)
                                for h in range(3)]) - lp.V).max()
    assert lp.residual == pytest.approx(residual, rel=1e-6, abs=1e-15)
    assert lp.error_bound == pytest.approx((lp.residual + 4 * EPS * (1 + np.abs(lp.V).max())) * 3, rel=1e-9, abs=0)
    stay = np.zeros((3, 2), dtype=int)  # action 0: state 0 stays and earns nothing
    Q = pl.q_values(mdp, stay)
    assert np.array_equal(Q[:, 1], [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]][::-1])
    assert np.array_equal(Q[:, 0], [[0.0, 2.5], [0.0, 1.5], [0.0, 0.5]])


def test_discounted_lp_certificate_by_hand():
    """One state, rewards (0.25, 0.75), gamma 1/2: V* = 1.5; the certificate is (residual + 3 eps (1 + |V|)) / (1 -
    gamma) with the residual |max_a Q - V| recomputed."""
    lp = pl.optimal_values_lp(_one_state([0.25, 0.75], 0.5))
    assert lp.V[0] == pytest.approx(1.5, rel=1e-9, abs=0) and lp.method == "lp" and lp.converged is True
    assert lp.residual == pytest.approx(abs(0.75 + 0.5 * lp.V[0] - lp.V[0]), abs=1e-16)
    assert lp.error_bound == pytest.approx((lp.residual + 3 * EPS * (1 + lp.V[0])) / 0.5, rel=1e-9, abs=0)
    assert np.array_equal(lp.policy, [1])


def test_lp_failure_is_a_convergence_error(monkeypatch):
    import scipy.optimize  # noqa: PLC0415

    class Failed:
        status, message, x, nit = 2, "The problem is infeasible.", None, 0

    monkeypatch.setattr(scipy.optimize, "linprog", lambda *a, **k: Failed())
    for mdp in (_one_state([0.5], 0.5), _ladder(2)):
        with pytest.raises(ConvergenceError, match=r"^the LP solver failed: The problem is infeasible\.$"):
            pl.optimal_values_lp(mdp)


def test_returns_of_policies_in_every_form_are_not_confused_by_the_cache():
    """Probability policies that truncate to the same integers, lists, and finite-horizon returns (init . V_0)."""
    mdp = _one_state([0.25, 0.75], 0.5)
    assert pl.expected_return(mdp, np.array([[0.5, 0.5]])) == 1.0
    assert pl.expected_return(mdp, np.array([[0.75, 0.25]])) == pytest.approx(0.75, rel=1e-15, abs=0)
    assert pl.expected_return(mdp, [1]) == 1.5 and pl.expected_return(mdp, [0]) == 0.5
    assert pl.expected_return(mdp, np.array([1.0])) == 1.5  # a float action array, not a probability table
    ladder = _ladder(3)
    stay, go = np.zeros((3, 2), dtype=int), np.ones((3, 2), dtype=int)
    assert pl.expected_return(ladder, stay) == 0.0 and pl.expected_return(ladder, go) == 2.5
    assert pl.optimal_return(ladder) == 2.5 and pl.suboptimality(ladder, stay) == 2.5
    assert pl.optimal_return(ladder.replace(init=[0.0, 1.0])) == 3.0


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(("gamma", "tol", "k"), [(0.5, 1e-3, 12), (0.9, 1e-2, 73)])
def test_value_iteration_by_hand_on_both_storages(gamma, tol, k, sparse):
    """As tests/test_planning.py's one-state check, on dense and sparse storage, from 0 and from V0 = V_1 = 1 (one
    step fewer): k, residual gamma^(k-1), and the bound (gamma^k + roundoff) / (1 - gamma), roundoff (b + c) eps
    (1 + |V|) with b = 1 and c = 2 dense, 6 sparse."""
    mdp = _one_state([1.0], gamma)
    mdp = _sparse(mdp) if sparse else mdp
    for V0, steps in ((None, k), ([1.0], k - 1)):
        res = pl.value_iteration(mdp, tol=tol, V0=V0)
        assert res.iterations == steps and res.method == "value_iteration" and res.converged is True
        assert res.residual == pytest.approx(gamma ** (k - 1), rel=1e-9, abs=0)  # a difference of near-equal V
        V = (1 - gamma**k) / (1 - gamma)
        assert res.V[0] == pytest.approx(V, rel=1e-15, abs=0)
        assert res.Q[0, 0] == pytest.approx(1 + gamma * V, rel=1e-15, abs=0)
        roundoff = (7 if sparse else 3) * EPS * (1 + V)  # 3e-11 of the bound: seen at rel=1e-13
        assert res.error_bound == pytest.approx((gamma * res.residual + roundoff) / (1 - gamma), rel=1e-13, abs=0)
        assert res.constants == {"tol": tol, "max_iter": default_max_iter(gamma, tol, 1 / (1 - gamma) + (
            0.0 if V0 is None else 1.0))}
    with pytest.warns(ConvergenceWarning, match="^value_iteration did not converge in 2 iterations"):
        capped = pl.value_iteration(mdp, tol=tol, max_iter=2, on_max_iter="warn")
    assert capped.iterations == 2 and capped.converged is False
    assert capped.residual == pytest.approx(gamma, rel=1e-15, abs=0)
    assert capped.constants["max_iter"] == 2


@pytest.mark.parametrize("sparse", [False, True])
def test_start_and_policy_arguments_are_checked_by_name(sparse):
    mdp = _random_mdp(5, 3, 0, gamma=0.9)
    model = _sparse(mdp) if sparse else mdp
    for fn in (solvers.modified_policy_iteration, solvers.gauss_seidel_value_iteration, pl.value_iteration):
        with pytest.raises(ValueError, match=r"^V0 has shape \(2,\), expected \(5,\)"):
            fn(model, V0=np.zeros(2))
    for fn in (solvers.modified_policy_iteration, solvers.gauss_seidel_value_iteration):
        with pytest.raises(ValueError, match=r"^V0 must have 1 dimensions, got shape \(1, 5\)"):
            fn(model, V0=np.zeros((1, 5)))
    for fn in (solvers.krylov_policy_iteration, pl.policy_iteration):
        with pytest.raises(ValueError, match=r"^policy0 has shape \(2,\), expected \(5,\)"):
            fn(model, policy0=np.zeros(2, dtype=int))
        with pytest.raises(ValueError, match=r"^policy0\[1\] is 3, expected"):
            fn(model, policy0=[0, 3, 0, 0, 0])
    with pytest.raises(ValueError, match=r"^policy\[0\] is 7, expected"):
        Backups(model).policy_system(np.array([7, 0, 0, 0, 0]))


@pytest.mark.parametrize("sparse", [False, True])
def test_backups_checks_its_arguments_by_name(sparse):
    mdp = _random_mdp(3, 2, 0, gamma=0.9)
    fin = _random_mdp(3, 2, 0, horizon=2)
    model, fin_model = (_sparse(mdp), _sparse(fin)) if sparse else (mdp, fin)
    with pytest.raises(TypeError, match="^mdp is a NoneType, expected a TabularMDP"):
        Backups(None)
    with pytest.raises(ValueError, match=r"^V has shape \(2,\), expected \(3,\)"):
        Backups(model).q(np.zeros(2))
    with pytest.raises(ValueError, match=r"^V has shape \(2,\), expected \(3,\)"):
        Backups(model).bellman(np.zeros(2))
    with pytest.raises(ValueError, match=r"^h is 0, but the model is stationary"):
        Backups(model).q(np.zeros(3), 0)
    with pytest.raises(ValueError, match=r"^a finite-horizon model needs the step h in 0\.\.1"):
        Backups(fin_model).q(np.zeros(3))
    with pytest.raises(ValueError, match=r"^a finite-horizon model needs the step h in 0\.\.1"):
        Backups(fin_model).rewards()
    B = Backups(fin_model)
    assert B.gamma == 1.0 and Backups(model).gamma == 0.9 and B.S == 3 and B.A == 2
    assert np.array_equal(B.rewards(1), fin.R_at(1).reshape(-1))
    V = np.array([0.5, 1.0, 0.25])
    for h in (0, 1):
        assert np.allclose(B.q(V, h), fin.R_at(h) + fin.P_at(h) @ V, rtol=1e-15, atol=0)
        W, act = B.bellman(V, h)
        assert np.array_equal(W, B.q(V, h).max(axis=1)) and np.array_equal(act, B.q(V, h).argmax(axis=1))


SOLVER_CALLS = {
    "value_iteration": pl.value_iteration, "policy_iteration": pl.policy_iteration, "lp": pl.optimal_values_lp,
    "modified_policy_iteration": solvers.modified_policy_iteration,
    "gauss_seidel_value_iteration": solvers.gauss_seidel_value_iteration,
    "krylov_policy_iteration": solvers.krylov_policy_iteration, "backward_induction": pl.backward_induction,
}


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("name", sorted(SOLVER_CALLS))
def test_results_are_read_only_and_typed(name, sparse):
    """Every solver's V, Q and policy are read-only (a caller cannot corrupt a cached result), with Python scalars
    for the counters, on both storages and both kinds of MDP."""
    for mdp in (_random_mdp(4, 3, 1, gamma=0.9), _random_mdp(4, 3, 1, horizon=2), _one_state([0.5, 1.0], 0.0)):
        if name == "backward_induction" and mdp.is_discounted:
            continue
        res = SOLVER_CALLS[name](_sparse(mdp) if sparse else mdp)
        for arr in (res.V, res.Q, res.policy):
            assert not arr.flags.writeable
            with pytest.raises(ValueError):
                arr[...] = 0
        assert type(res.iterations) is int and type(res.residual) is float and type(res.error_bound) is float
        assert res.converged is True and isinstance(res.constants, dict)
        assert res.policy.shape == res.Q.shape[:-1] and res.V.shape == res.Q.shape[:-1]


def test_expected_return_is_cached_for_integer_action_arrays_only(monkeypatch):
    """Documented: the return of a deterministic action array is computed once per MDP (any integer dtype, keyed by
    its content); probability tables and lists are evaluated each time."""
    mdp = _random_mdp(4, 2, 3, gamma=0.9)
    calls = []
    real = pl.evaluate
    monkeypatch.setattr(pl, "evaluate", lambda m, p: calls.append(1) or real(m, p))
    a, b = np.array([0, 1, 1, 0]), np.array([1, 1, 1, 0], dtype=np.uint16)
    J = [pl.expected_return(mdp, a), pl.expected_return(mdp, b)]
    assert len(calls) == 2 and J[0] != J[1]
    assert [pl.expected_return(mdp, a), pl.expected_return(mdp, b.astype(np.int32))] == J and len(calls) == 2
    assert pl.expected_return(mdp, a.reshape(1, 4)[0]) == J[0] and len(calls) == 2
    pi = np.eye(2)[a]
    assert pl.expected_return(mdp, pi) == pytest.approx(J[0], rel=1e-14, abs=0) and len(calls) == 3
    pl.expected_return(mdp, pi)
    pl.expected_return(mdp, list(a))
    assert len(calls) == 5


@pytest.mark.parametrize("sparse", [False, True])
def test_policy_iteration_switches_only_above_its_documented_margin(sparse):
    """One state, rewards (0.5, 0.5 + delta), gamma 1/2, started at action 0 (V = 1): a switch needs
    Q(1) - Q(0) = delta above 1e-12 (1 + |V|) = 2e-12 with direct solves, and above 2 gamma atol / (1 - gamma)
    + 2e-12 with a Krylov solver, atol = tol (1 - gamma) / 4 (2.5e-7 at tol = 1e-6). Without a switch the run
    stops after one evaluation with V = 1; with one, after two with V = 1 + 2 delta."""
    def run(delta, fn, **kw):
        mdp = _one_state([0.5, 0.5 + delta], 0.5)
        return fn(_sparse(mdp) if sparse else mdp, policy0=[0], **kw)

    direct = [pl.policy_iteration, lambda m, **kw: solvers.krylov_policy_iteration(m, linear_solver="direct", **kw)]
    for fn in direct:
        for delta, switched in ((1.5e-12, False), (2.5e-12, True)):
            res = run(delta, fn)
            assert res.iterations == (2 if switched else 1), (fn, delta)
            assert res.V[0] == pytest.approx(1 + 2 * delta if switched else 1.0, rel=1e-15, abs=0)
    for solver in ("gmres", "bicgstab"):
        for delta, switched in ((2.45e-7, False), (2.55e-7, True)):
            res = run(delta, solvers.krylov_policy_iteration, tol=1e-6, linear_solver=solver)
            assert res.iterations == (2 if switched else 1), (solver, delta)
            assert res.V[0] == pytest.approx(1 + 2 * delta if switched else 1.0, rel=1e-12, abs=0)
            assert res.error_bound == pytest.approx((0.0 if switched else delta) / 0.5, rel=1e-6, abs=1e-14)


def test_krylov_solve_does_the_work_where_jacobi_sweeps_alone_could_not():
    """gamma = 0.9999: from a poor start, Jacobi sweeps alone would need about log(atol) / log(gamma) = 2.5e5 sweeps
    (more than the 10^4 allowed), so the result within atol shows the Krylov solve itself converged on the system
    I - gamma P_pi (dense operator and sparse matrix)."""
    rng = np.random.default_rng(5)
    P = rng.random((40, 40)) ** 3
    P /= P.sum(axis=1, keepdims=True)
    r = rng.random(40)
    exact = np.linalg.solve(np.eye(40) - 0.9999 * P, r)
    for P_pi in (P, sp.csr_array(P)):
        for solver in ("gmres", "bicgstab"):
            V = policy_values(P_pi, r, 0.9999, linear_solver=solver, atol=1e-9)
            assert np.abs(r + 0.9999 * (P_pi @ V) - V).max() <= 1e-9
            assert np.abs(V - exact).max() <= 1e-9 / 1e-4


@pytest.mark.parametrize("sparse", [False, True])
def test_value_iteration_at_the_threshold(sparse):
    """One state, reward 1, gamma 1/2, tol 2^-9: the threshold is 2^-10, which the residual of step 11 equals
    exactly; the rule is strict, so it stops at step 12, and a run capped at 11 has not converged."""
    mdp = _one_state([1.0], 0.5)
    mdp = _sparse(mdp) if sparse else mdp
    assert pl.value_iteration(mdp, tol=2.0**-9).iterations == 12
    with pytest.warns(ConvergenceWarning, match="^value_iteration did not converge in 11 iterations"):
        res = pl.value_iteration(mdp, tol=2.0**-9, max_iter=11, on_max_iter="warn")
    assert res.converged is False and res.residual == 2.0**-10


def test_sparse_value_iteration_called_directly():
    """sparse_value_iteration is public: its own defaults (tol 1e-8, raise at the cap), its finite-horizon
    dispatch, and its work estimate from the stored non-zeros (a dense MDP: S A S per sweep)."""
    mdp = _random_mdp(5, 3, 0, gamma=0.9)
    for model in (mdp, _sparse(mdp)):
        res = sparse_value_iteration(model)
        assert res.constants["tol"] == 1e-8 and res.error_bound < 1e-8 / 2 and res.method == "value_iteration"
        with pytest.raises(ConvergenceError, match="^value_iteration did not converge in 1 iterations"):
            sparse_value_iteration(model, max_iter=1)
    epi = _ladder(3)
    for model in (epi, _sparse(epi)):
        res = sparse_value_iteration(model)
        assert res.method == "backward_induction" and np.array_equal(res.V, _ladder_values(3))
    gamma = 1 - 1e-5
    dense_thin = TabularMDP(_thin(100).toarray().reshape(100, 2, 100), np.zeros((100, 2)), np.full(100, 0.01),
                            gamma=gamma)
    with pytest.raises(ValueError, match=rf"^value_iteration at gamma={gamma!r} \(max_iter 8\.43e\+06\) asks for "
                                         r"about 2\.53e\+11 operations"):
        sparse_value_iteration(dense_thin)
    assert sparse_value_iteration(TabularMDP(_thin(100), np.zeros((100, 2)), np.full(100, 0.01),
                                             gamma=gamma)).iterations == 1


def test_lp_resolves_optimal_values_below_highs_default_tolerance():
    """One state, rewards (0.5, 0.5 + 1e-8), gamma 1/2: V* = 1 + 2e-8. HiGHS at its default tolerances (1e-7)
    returns 1 here; the LP check runs at 1e-10 and must see the difference."""
    for delta in (1e-8, 1e-9):
        lp = pl.optimal_values_lp(_one_state([0.5, 0.5 + delta], 0.5))
        assert abs(lp.V[0] - (1 + 2 * delta)) < 1e-12 and np.array_equal(lp.policy, [1])
    epi = TabularMDP(np.ones((1, 2, 1)), np.array([[0.5, 0.5 + 1e-8]]), np.ones(1), horizon=2)
    assert np.allclose(pl.optimal_values_lp(epi).V[:, 0], [1 + 2e-8, 0.5 + 1e-8], rtol=0, atol=1e-12)


def test_discounted_lp_certificate_recomputed():
    """Several states: the LP's residual is max_s |max_a Q(s, a) - V(s)| of its own V and Q, and its bound
    (residual + (S + 2) eps (1 + |V|)) / (1 - gamma)."""
    mdp = _random_mdp(6, 3, 4, gamma=0.9)
    lp = pl.optimal_values_lp(mdp)
    assert np.allclose(lp.Q, mdp.R + 0.9 * mdp.P @ lp.V, rtol=1e-14, atol=0)
    assert lp.residual == np.abs(lp.Q.max(axis=1) - lp.V).max() and lp.residual < 1e-8
    assert lp.error_bound == pytest.approx((lp.residual + 8 * EPS * (1 + np.abs(lp.V).max())) / 0.1, rel=1e-14,
                                           abs=0)
    assert np.abs(lp.V - pl.policy_iteration(mdp).V).max() <= lp.error_bound


@pytest.mark.parametrize("sparse", [False, True])
def test_policy_iteration_default_warm_start_is_three_sweeps(sparse):
    """An MDP where the greedy policies after 3 and after 4 warm-up sweeps differ and need 2 and 1 evaluations:
    the default (3) is seen in the iteration count."""
    mdp = _random_mdp(8, 4, 10, gamma=0.99)
    assert (_warm_actions(mdp, 3) != _warm_actions(mdp, 4)).any()
    k3, k4 = _reference_howard(mdp, _warm_actions(mdp, 3))[0], _reference_howard(mdp, _warm_actions(mdp, 4))[0]
    assert (k3, k4) == (2, 1)
    model = _sparse(mdp) if sparse else mdp
    assert pl.policy_iteration(model).iterations == 2 == solvers.krylov_policy_iteration(model).iterations
    assert solvers.krylov_policy_iteration(model, warm_start=4).iterations == 1


def test_direct_policy_values_never_multiply_by_p_pi():
    """"direct" (and "auto" below DIRECT_LIMIT states) is one dense solve of (I - gamma P_pi) V = r_pi: no product
    with P_pi, so a matrix whose products are inexact (_Jittery) still gives the exact solution."""
    P = np.array([[0.5, 0.5], [0.25, 0.75]])
    exact = np.linalg.solve(np.eye(2) - 0.9 * P, [0.3, 1.0])
    for solver in ("direct", "auto"):
        assert np.allclose(policy_values(_Jittery(P), [0.3, 1.0], 0.9, linear_solver=solver), exact, rtol=1e-14,
                           atol=0)


def test_a_krylov_solution_within_atol_is_returned_without_sweeps():
    """The sup-norm residual of the Krylov solution is checked once (one product with P_pi); when it meets atol,
    no Jacobi sweep follows."""
    P = np.array([[0.5, 0.5], [0.25, 0.75]])
    for solver in ("gmres", "bicgstab"):
        _Jittery.flips = 0
        policy_values(_Jittery(P), [0.3, 1.0], 0.9, linear_solver=solver, atol=1e-6)
        assert _Jittery.flips == 1


@pytest.mark.parametrize("episodic", [False, True])
def test_lp_values_may_be_negative_with_a_negative_reward_range(episodic):
    """Rewards on [-1, 0] (issue 15's reward ranges): V* < 0, which the LP finds only with free variables (scipy's
    default bounds V >= 0 would give an infeasible or wrong programme). Closed forms: a one-state MDP paying -1/2
    per step has V* = -1/2 / (1 - 1/2) = -1 (discounted) and V*_h = -(H - h)/2 (horizon H = 3)."""
    P, R = np.ones((1, 2, 1)), np.array([[-0.5, -0.75]])
    if episodic:
        mdp = TabularMDP(P, R, [1.0], horizon=3, reward_range=(-1, 0))
        expected = np.array([[-1.5], [-1.0], [-0.5]])
    else:
        mdp = TabularMDP(P, R, [1.0], gamma=0.5, reward_range=(-1, 0))
        expected = np.array([-1.0])
    result = pl.optimal_values_lp(mdp)
    np.testing.assert_allclose(result.V, expected, rtol=0, atol=1e-9)
    assert (np.asarray(result.policy) == 0).all()


# ------------------------------------------- the complete run on the merged code (action masks, fused MPI, horizons)
def _masked(S, A, seed, **kw) -> TabularMDP:
    """A random MDP whose action mask leaves out pairs (state s loses action (s % A) when A > 1; state 0 keeps only
    action 0); infeasible pairs keep finite rewards (the convention of theory_rl.feasibility)."""
    base = _random_mdp(S, A, seed, **kw)
    feasible = np.ones((S, A), dtype=bool)
    feasible[np.arange(S), np.arange(S) % A] = False
    feasible[0] = False
    feasible[0, 0] = True
    kw = {"gamma": base.gamma} if base.is_discounted else {"horizon": base.horizon}
    P = np.asarray(base.stage_P if base.is_episodic else base.P)
    R = base.R if base.is_discounted else base.stage_R
    return TabularMDP(P, R, base.init, feasible=feasible, **kw)


def test_bellman_expectation_of_a_masked_mdp_reads_only_the_policys_actions():
    """T^pi V = sum_a pi(a|s) Q(s, a) over the actions pi takes: a feasible policy puts no mass where Q is -inf, and
    the operator must not turn 0 * -inf into NaN."""
    mdp = _masked(5, 3, 2, gamma=0.8)
    pi = np.where(mdp.feasible, 1.0, 0.0)
    pi /= pi.sum(axis=1, keepdims=True)
    V = np.random.default_rng(3).random(5)
    Q = mdp.R + 0.8 * mdp.P @ V
    want = (pi * Q).sum(axis=1)
    got = pl.bellman_expectation(mdp, pi, V)
    assert np.all(np.isfinite(got))
    assert np.allclose(got, want, rtol=1e-14, atol=0)


@pytest.mark.parametrize("sparse", [False, True])
def test_backups_policy_sweeps_are_m_jacobi_sweeps_of_the_policy(sparse):
    """Backups.policy_sweeps(actions, V, m): m sweeps V <- r_d + gamma P_d V of the deterministic policy d, written
    out; V itself is left unchanged, and m = 0 returns its values."""
    mdp = _random_mdp(5, 3, 8, gamma=0.7)
    B = Backups(_sparse(mdp) if sparse else mdp)
    actions = np.array([2, 0, 1, 2, 1])
    V0 = np.random.default_rng(4).random(5) * 3.0
    keep = V0.copy()
    P_d, r_d = mdp.P[np.arange(5), actions], mdp.R[np.arange(5), actions]
    want = V0.copy()
    for m in range(4):
        got = B.policy_sweeps(actions, V0, m)
        assert got.shape == (5,)
        assert np.allclose(got, want, rtol=1e-14, atol=1e-15)
        want = r_d + 0.7 * (P_d @ want)
    assert np.array_equal(V0, keep)


def _tempting_mask(S, A, seed, **kw) -> TabularMDP:
    """`_masked` with reward 1 at every infeasible pair and at most 1/2 elsewhere: planning that let an infeasible
    action in would find larger values."""
    mdp = _masked(S, A, seed, **kw)
    R = np.asarray(mdp.R if mdp.is_discounted else mdp.stage_R) * 0.5
    R = np.where(mdp.feasible, R, 1.0)
    P = np.asarray(mdp.stage_P if mdp.is_episodic else mdp.P)
    kw = {"gamma": mdp.gamma} if mdp.is_discounted else {"horizon": mdp.horizon}
    return TabularMDP(P, R, mdp.init, feasible=mdp.feasible, **kw)


def _best_feasible_values(mdp) -> np.ndarray:
    """Optimal values by enumeration of the feasible deterministic stationary policies (discounted), or backward
    induction with the max over feasible actions written out (finite horizon)."""
    S = mdp.S
    choices = [np.flatnonzero(mdp.feasible[s]) for s in range(S)]
    if mdp.is_discounted:
        best = np.full(S, -np.inf)
        for actions in itertools.product(*choices):
            rows = np.arange(S), np.array(actions)
            best = np.maximum(best, np.linalg.solve(np.eye(S) - mdp.gamma * mdp.P[rows], mdp.R[rows]))
        return best
    V = np.zeros((mdp.horizon + 1, S))
    for h in range(mdp.horizon - 1, -1, -1):
        Q = mdp.R_at(h) + mdp.discount * mdp.P_at(h) @ V[h + 1]
        V[h] = [max(Q[s, a] for a in choices[s]) for s in range(S)]
    return V[:-1]


@pytest.mark.parametrize("kw", [{"gamma": 0.8}, {"horizon": 3}, {"horizon": 3, "staged": True}])
def test_lp_of_a_masked_mdp_leaves_the_infeasible_constraints_out(kw):
    """The LP's constraints of infeasible pairs are left out (optimal values over feasible actions only): against
    enumeration of the feasible policies, with infeasible pairs paying more than any feasible one."""
    mdp = _tempting_mask(4, 3, 6, **dict(kw))
    want = _best_feasible_values(mdp)
    res = pl.optimal_values_lp(mdp)
    assert np.allclose(res.V, want, rtol=0, atol=1e-8)
    assert np.all(mdp.feasible[np.arange(4), res.policy if mdp.is_discounted else res.policy[0]])


def _sweeps_done(span, prev, stop, final, budget):
    """Adaptive MPI's rule after an evaluation sweep (backups.Backups.mpi's docstring), written out."""
    if span < final:
        return True
    if not span < stop:
        return False
    rate = span / prev
    if not rate < 1.0 or rate <= 0.0:
        return True
    return math.log(final / span) / math.log(rate) > budget


def _reference_adaptive_mpi(mdp, tol, V0):
    """Modified policy iteration with the adaptive sweep count (``m=None``): after each backup W = T V with span sp,
    sweeps of the greedy policy from W until a sweep's change has span below max(threshold, 0.1 sp) (below the
    threshold once the greedy policy repeats), unless the observed contraction reaches the threshold within A more
    sweeps; at most 50. Returns iterations, the last span, the midpoint values and the sweeps in all."""
    gamma, rows = mdp.gamma, np.arange(mdp.S)
    threshold = tol * (1 - gamma)
    V, previous, sweeps = np.array(V0, dtype=float), None, 0
    for k in range(1, 10_000):
        W, act = _greedy(mdp, V)
        d = W - V
        span = d.max() - d.min()
        if span < threshold:
            break
        repeated = previous is not None and np.array_equal(act, previous)
        stop = threshold if repeated else max(threshold, 0.1 * span)
        V, change = W, span
        for j in range(1, 51):
            new = mdp.R[rows, act] + gamma * mdp.P[rows, act] @ V
            prev, change = change, (new - V).max() - (new - V).min()
            V = new
            if _sweeps_done(change, prev, stop, threshold, mdp.A):
                break
        sweeps += j
        previous = act
    return k, span, V + (d.max() + d.min()) / (2 * (1 - gamma)), sweeps


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(("S", "A", "seed", "gamma"), CASES)
def test_adaptive_modified_policy_iteration_is_the_documented_rule(S, A, seed, gamma, sparse):
    """The default m (adaptive sweeps) against the rule written out: the same iterations, sweeps and values."""
    mdp = _random_mdp(S, A, seed, gamma=gamma)
    model = _sparse(mdp) if sparse else mdp
    for tol in (1e-2, 1e-6, 1e-10):
        k, span, V, sweeps = _reference_adaptive_mpi(mdp, tol, np.full(S, mdp.R.min() / (1 - gamma)))
        res = solvers.modified_policy_iteration(model, tol=tol)
        assert (res.iterations, res.constants["sweeps"]) == (k, sweeps), tol
        assert res.residual == pytest.approx(span, rel=1e-6, abs=1e-13)  # spans near round-off at tol 1e-10
        assert np.allclose(res.V, V, rtol=1e-10, atol=0)


def _with_mask(mdp: TabularMDP, sparse: bool) -> TabularMDP:
    """``mdp`` (masked) on dense or CSR storage, the same mask."""
    if not sparse:
        return mdp
    kw = {"gamma": mdp.gamma} if mdp.is_discounted else {"horizon": mdp.horizon}
    P = np.asarray(mdp.stage_P if mdp.is_episodic else mdp.P)
    return TabularMDP(sp.csr_array(P.reshape(-1, mdp.S)), mdp.R if mdp.is_discounted else mdp.stage_R, mdp.init,
                      feasible=mdp.feasible, **kw)


@pytest.mark.parametrize("sparse", [False, True])
def test_finite_horizon_evaluation_of_a_masked_mdp_is_finite(sparse):
    """Evaluating a feasible policy of a masked finite-horizon MDP reads the rewards of the actions it takes only:
    V_h = r_pi_h + P_pi_h V_{h+1} written out, finite (Q's -inf at infeasible pairs must not meet pi's zeros)."""
    mdp = _tempting_mask(4, 3, 9, horizon=3, staged=True)
    pi = np.where(mdp.feasible, np.random.default_rng(2).random((4, 3)), 0.0)
    pi = np.broadcast_to(pi / pi.sum(axis=1, keepdims=True), (3, 4, 3))
    V = np.zeros((4, 4))
    for h in range(2, -1, -1):
        V[h] = (pi[h] * (mdp.R_at(h) + mdp.P_at(h) @ V[h + 1])).sum(axis=1)
    model = _with_mask(mdp, sparse)
    for got in (sparse_evaluate(model, pi), pl.evaluate(model, pi)):
        assert np.all(np.isfinite(got))
        assert np.allclose(got, V[:3], rtol=1e-13, atol=0)


@pytest.mark.parametrize("sparse", [False, True])
def test_policy_iterations_refuse_an_infeasible_start_by_name(sparse):
    """policy0 with an infeasible (state, action) is refused at once, the message naming the argument and the
    first infeasible pair (state 0 keeps action 0 only)."""
    mdp = _with_mask(_masked(4, 3, 1, gamma=0.9), sparse)
    start = np.array([1, 0, 0, 0])
    message = r"^policy0's \(state, action\) pairs: \(state, action\) = \(0, 1\) is infeasible \(mdp\.feasible is False"
    for solver in (pl.policy_iteration, solvers.krylov_policy_iteration):
        with pytest.raises(ValueError, match=message):
            solver(mdp, policy0=start)


@pytest.mark.parametrize("sparse", [False, True])
def test_auto_linear_solver_is_direct_up_to_the_limit_inclusive(sparse, monkeypatch):
    """"auto" means a direct solve up to DIRECT_LIMIT states, the limit included, and GMRES beyond (the documented
    rule of krylov_policy_iteration and policy_values), checked at a limit lowered to 6 states."""
    import theory_rl.backups as backups_module  # noqa: PLC0415

    monkeypatch.setattr(solvers, "DIRECT_LIMIT", 6)
    monkeypatch.setattr(backups_module, "DIRECT_LIMIT", 6)
    for S, want in ((6, "direct"), (7, "gmres")):
        mdp = _random_mdp(S, 2, S, gamma=0.9)
        model = _sparse(mdp) if sparse else mdp
        assert solvers.krylov_policy_iteration(model).constants["linear_solver"] == want
        P_pi, r_pi = Backups(model).policy_system(np.zeros(S, dtype=int))
        assert np.array_equal(policy_values(P_pi, r_pi, 0.9), policy_values(P_pi, r_pi, 0.9, linear_solver=want))


@pytest.mark.parametrize("sparse", [False, True])
def test_krylov_policy_iteration_evaluates_with_the_named_solver_at_its_atol(sparse):
    """Each evaluation is policy_values(P_pi, r_pi, gamma, linear_solver=..., atol=tol (1 - gamma) / 4): the final
    values are those bits for the final policy, not a direct solve's nor another tolerance's (300 states at
    gamma = 0.99, where the Krylov methods stop measurably short of the exact solution)."""
    rng = np.random.default_rng(0)
    S, A = 300, 2
    P = rng.random((S, A, S)) ** 8
    P[P < 0.3] = 0.0
    P[np.arange(S), :, np.arange(S)] += 0.5
    P /= P.sum(-1, keepdims=True)
    mdp = TabularMDP(sp.csr_array(P.reshape(-1, S)) if sparse else P, rng.random((S, A)), np.full(S, 1 / S),
                     gamma=0.99)
    for solver in ("gmres", "bicgstab"):
        res = solvers.krylov_policy_iteration(mdp, tol=1e-3, linear_solver=solver)
        P_pi, r_pi = Backups(mdp).policy_system(res.policy)
        want = policy_values(P_pi, r_pi, 0.99, linear_solver=solver, atol=1e-3 * 0.01 / 4)
        assert np.array_equal(res.V, want)
        assert not np.array_equal(res.V, policy_values(P_pi, r_pi, 0.99, linear_solver="direct"))
        assert not np.array_equal(res.V, policy_values(P_pi, r_pi, 0.99, linear_solver=solver))


@pytest.mark.parametrize("sparse", [False, True])
def test_policy_iteration_keeps_its_action_at_exactly_the_margin(sparse):
    """The switch needs a STRICT improvement: one state, gamma 1/2, action 0 paying 1/2 (V = 1 and Q(0) = 1 exactly)
    and action 1 paying r = fl(1 + 2e-12) - 1/2 (exact), so that Q(1) = fl(1 + 2e-12) equals Q(0) + 1e-12 (1 + |V|)
    to the last bit: no switch, one evaluation (direct solves)."""
    edge = 1.0 + 1e-12 * (1.0 + 1.0)
    mdp = _one_state([0.5, edge - 0.5], 0.5)
    model = _sparse(mdp) if sparse else mdp
    for fn in (pl.policy_iteration, solvers.krylov_policy_iteration):
        res = fn(model, policy0=[0])
        assert res.Q[0, 1] == edge and res.Q[0, 0] == 1.0
        assert res.iterations == 1 and res.V[0] == 1.0


def test_krylov_policy_values_keep_a_sparse_system_sparse():
    """GMRES and BiCGSTAB on a CSR P_pi work on the sparse system I - gamma P_pi, in memory of order its non-zeros:
    3,000 states with 3 non-zeros a row, where one dense S x S matrix would take 72 MB (numpy's allocations are
    traced by tracemalloc), and the values solve the system."""
    import tracemalloc  # noqa: PLC0415

    S = 3000
    rng = np.random.default_rng(5)
    P = sp.csr_array((np.full(3 * S, 1 / 3), rng.integers(0, S, 3 * S), np.arange(0, 3 * S + 1, 3)), shape=(S, S))
    r = rng.random(S)
    for solver in ("gmres", "bicgstab"):
        tracemalloc.start()
        try:
            V = policy_values(P, r, 0.9, linear_solver=solver, atol=1e-10)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 8 * S * S / 10, (solver, peak)
        assert np.abs(r + 0.9 * (P @ V) - V).max() <= 1e-10


@pytest.mark.parametrize("solver", ["gmres", "bicgstab"])
def test_policy_values_runs_the_krylov_method_it_is_asked_for(solver, monkeypatch):
    """linear_solver="gmres" / "bicgstab" runs that scipy.sparse.linalg method (and not the other), on the system
    I - gamma P_pi, to the stated tolerances."""
    import scipy.sparse.linalg as spla  # noqa: PLC0415

    calls = []
    for name in ("gmres", "bicgstab"):
        real = getattr(spla, name)
        monkeypatch.setattr(spla, name, lambda *a, _real=real, _name=name, **kw: calls.append(_name) or _real(*a, **kw))
    mdp = _random_mdp(8, 2, 3, gamma=0.9)
    P_pi, r_pi = Backups(_sparse(mdp)).policy_system(np.zeros(8, dtype=int))
    V = policy_values(P_pi, r_pi, 0.9, linear_solver=solver, atol=1e-11)
    assert calls == [solver]
    assert np.abs(r_pi + 0.9 * (P_pi @ V) - V).max() <= 1e-11


@pytest.mark.parametrize("solver", ["gmres", "bicgstab"])
def test_policy_values_stops_at_a_residual_equal_to_atol(solver):
    """The Krylov answer is returned as it is when its sup-norm residual |r + gamma P V - V|_inf is at most atol,
    equality included. The Krylov stop is rtol = 1e-13 relative (2-norm) whenever 0.25 atol is below that, so a
    first call at such an atol gives the Krylov answer x; called again with atol = the residual of x exactly, the
    same x must come back, not a Jacobi sweep of it."""
    mdp = _random_mdp(40, 2, 4, gamma=0.95)
    P_pi, r_pi = Backups(_sparse(mdp)).policy_system(np.zeros(40, dtype=int))
    atol = 3.9e-13 * np.linalg.norm(r_pi)
    x = policy_values(P_pi, r_pi, 0.95, linear_solver=solver, atol=atol)
    residual = float(np.abs(r_pi + 0.95 * (P_pi @ x) - x).max())
    assert 0 < residual <= atol
    assert np.array_equal(policy_values(P_pi, r_pi, 0.95, linear_solver=solver, atol=residual), x)


@pytest.mark.parametrize("solver", ["gmres", "bicgstab"])
def test_policy_values_jacobi_polish_counts_its_sweeps(solver):
    """The polish after the Krylov answer x runs ceil(log(atol / residual) / log gamma) sweeps, at least one: with
    gamma * residual <= atol < residual that is exactly one sweep, r + gamma P x (the Krylov stop, rtol 1e-13
    relative, does not depend on such an atol). At gamma = 0 one sweep gives r itself (no logarithm of 0), bit
    for bit, however small atol is."""
    mdp = _random_mdp(40, 2, 4, gamma=0.5)
    P_pi, r_pi = Backups(_sparse(mdp)).policy_system(np.zeros(40, dtype=int))
    x = policy_values(P_pi, r_pi, 0.5, linear_solver=solver, atol=3.9e-13 * np.linalg.norm(r_pi))
    residual = float(np.abs(r_pi + 0.5 * (P_pi @ x) - x).max())
    assert residual > 0
    once = policy_values(P_pi, r_pi, 0.5, linear_solver=solver, atol=0.75 * residual)
    assert np.array_equal(once, r_pi + 0.5 * (P_pi @ x))
    r = np.random.default_rng(7).random(40) * np.pi
    assert np.array_equal(policy_values(P_pi, r, 0.0, linear_solver=solver, atol=1e-300), r)


def test_mpi_run_reports_the_dropped_actions_as_a_uint8_mask():
    """Backups.mpi's record: on sparse storage ``alive`` is the documented ``(S*A,)`` uint8 mask (1 kept, 0 proven
    suboptimal), whose zeros modified_policy_iteration reports as ``dropped``; on dense storage None."""
    mdp = _random_mdp(30, 4, 12, gamma=0.9)
    start = np.full(30, mdp.R.min() / 0.1)
    run = Backups(_sparse(mdp)).mpi(start, m=None, threshold=1e-9 * 0.1, max_iter=1000)
    assert run.alive.dtype == np.uint8 and run.alive.shape == (120,)
    assert set(np.unique(run.alive)) <= {0, 1}
    dropped = solvers.modified_policy_iteration(_sparse(mdp), tol=1e-9).constants["dropped"]
    assert dropped == 120 - int(run.alive.sum()) > 0
    assert Backups(mdp).mpi(start, m=None, threshold=1e-9 * 0.1, max_iter=1000).alive is None


def test_mpi_elimination_reaches_every_state():
    """MacQueen's test drops, in EVERY state, an action that trails by more than the slack: 6 states moving
    uniformly whatever the action, action 1 paying 1 less than action 0; from V0 = (0, 0.08, ..., 0.4) at gamma 1/2
    the first backup has span 0.4, so the slack (about 0.4) is below the gap 1 and action 1 goes everywhere, the
    last state included, while action 0 stays."""
    S = 6
    P = np.full((S, 2, S), 1.0 / S)
    R = np.tile([1.0, 0.0], (S, 1))
    mdp = TabularMDP(sp.csr_array(P.reshape(-1, S)), R, np.full(S, 1.0 / S), gamma=0.5)
    run = Backups(mdp).mpi(np.linspace(0.0, 0.4, S), m=1, threshold=1e-12, max_iter=100)
    assert np.array_equal(run.alive.reshape(S, 2), np.tile([1, 0], (S, 1)))


@pytest.mark.parametrize("sparse", [False, True])
def test_mpi_stops_only_below_the_threshold(sparse):
    """The stop needs sp(T V - V) STRICTLY below tol (1 - gamma): two absorbing states paying 0 and 1/4, gamma 1/2,
    tol 1/2 (threshold 1/4 exactly), from V0 = 0: the first backup's span is exactly 1/4, so a second backup is
    needed (its span is 1/8)."""
    P = np.zeros((2, 1, 2))
    P[0, 0, 0] = P[1, 0, 1] = 1.0
    mdp = TabularMDP(P, np.array([[0.0], [0.25]]), np.array([0.5, 0.5]), gamma=0.5)
    model = _sparse(mdp) if sparse else mdp
    res = solvers.modified_policy_iteration(model, tol=0.5, V0=[0.0, 0.0], m=0)
    assert res.iterations == 2 and res.residual == 0.125
    with pytest.warns(ConvergenceWarning):  # capped at that first backup: not converged
        capped = solvers.modified_policy_iteration(model, tol=0.5, V0=[0.0, 0.0], m=0, max_iter=1, on_max_iter="warn")
    assert capped.converged is False and capped.iterations == 1 and capped.residual == 0.25


@pytest.mark.parametrize("side", [-1.0, 1.0])
def test_mpi_elimination_slack_is_the_documented_one(side):
    """An action is dropped exactly when it trails the backup by more than the documented slack c sp(T V - V) +
    c (|lo| + |hi|) PROB_TOL + 4 (1 + c) roundoff(V), c = gamma / (1 - gamma), roundoff(V) = (width + 6) eps
    (1 + |V|_inf). Two states, gamma 1/2 (c = 1), V = 0, rows of one non-zero (width 1): state 0 stays for 1/2
    (action 0) or moves to state 1 for b (action 1); state 1 stays for 1/4. The backup is (1/2, 1/4): lo = 1/4,
    hi = 1/2, and action 1 trails by 1/2 - b, set to the slack minus or plus 1e-15 (below a third of any term's
    share, 2 roundoff = 3.1e-15): kept just inside, dropped just outside, after one backup."""
    from theory_rl._validation import PROB_TOL  # noqa: PLC0415

    slack = 0.25 + (0.25 + 0.5) * PROB_TOL + 4.0 * 2.0 * (7 * EPS * 1.0)
    b = 0.5 - (slack + side * 1e-15)
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = P[1, :, 1] = 1.0
    mdp = TabularMDP(sp.csr_array(P.reshape(4, 2)), np.array([[0.5, b], [0.25, 0.25]]), np.array([1.0, 0.0]),
                     gamma=0.5)
    run = Backups(mdp).mpi(np.zeros(2), m=0, threshold=1e-12, max_iter=2)
    assert run.alive.tolist() == ([1, 1, 1, 1] if side < 0 else [1, 0, 1, 1])


@pytest.mark.parametrize("sparse", [False, True])
def test_adaptive_mpi_first_backup_is_never_a_repeat(sparse):
    """The sweeps after the FIRST backup stop at max(threshold, 0.1 sp) even when its greedy policy happens to be
    all zeros (the initial action table): only a later backup can repeat a policy. Action 0 pays 1 more than the
    others everywhere, so every greedy policy is all zeros; iterations and sweeps as the rule written out."""
    base = _random_mdp(7, 3, 21, gamma=0.9)
    R = np.asarray(base.R) * 0.5
    R[:, 0] += 1.0
    mdp = TabularMDP(base.P, R / R.max(), base.init, gamma=0.9)
    for tol in (1e-3, 1e-8):
        k, _, V, sweeps = _reference_adaptive_mpi(mdp, tol, np.full(7, mdp.R.min() / 0.1))
        res = solvers.modified_policy_iteration(_sparse(mdp) if sparse else mdp, tol=tol)
        assert np.array_equal(res.policy, np.zeros(7, dtype=int))
        assert (res.iterations, res.constants["sweeps"]) == (k, sweeps)
        assert np.allclose(res.V, V, rtol=1e-10, atol=0)


@pytest.mark.parametrize("sparse", [False, True])
def test_adaptive_mpi_keeps_sweeping_while_a_slow_chain_moves(sparse):
    """A slowly mixing chain (each action stays put with probability 0.9) at gamma 0.99: a sweep's change shrinks
    little, so it stays above 0.1 sp(T V - V) for many sweeps, and the rule keeps sweeping (up to 50); iterations,
    sweeps and values as the rule written out."""
    base = _random_mdp(6, 2, 17, gamma=0.99)
    P = 0.1 * np.asarray(base.P)
    P[np.arange(6), :, np.arange(6)] += 0.9
    mdp = TabularMDP(P, base.R, base.init, gamma=0.99)
    for tol in (1e-2, 1e-7):
        k, _, V, sweeps = _reference_adaptive_mpi(mdp, tol, np.full(6, mdp.R.min() / 0.01))
        res = solvers.modified_policy_iteration(_sparse(mdp) if sparse else mdp, tol=tol)
        assert (res.iterations, res.constants["sweeps"]) == (k, sweeps) and sweeps > 2 * k
        assert np.allclose(res.V, V, rtol=1e-10, atol=0)


def test_backups_bellman_reads_the_stage_it_is_given():
    """On stage-dependent CSR transitions, Backups.bellman(V, h) is max_a R_h + P_h V (written out on the dense
    stages) with its lowest argmax, for every step h, not stage 0's."""
    mdp = _random_mdp(4, 3, 13, horizon=3, staged=True)
    B = Backups(_sparse(mdp))
    V = np.random.default_rng(1).random(4)
    for h in range(3):
        Q = mdp.R_at(h) + mdp.P_at(h) @ V
        TV, act = B.bellman(V, h)
        assert np.allclose(TV, Q.max(axis=1), rtol=1e-14, atol=0) and np.array_equal(act, Q.argmax(axis=1))


def test_mpi_cap_check_counts_no_transitions():
    """Modified policy iteration's default cap is checked alone (cap x 10^4 operations, no transitions counted, as
    _cap's docstring says): at gamma = 0.999991506694339 the cap is exactly 10^7 iterations, 10^11 operations, the
    limit itself: allowed (and the idle MDP stops at once), where counting even one transition would refuse it."""
    gamma = 0.999991506694339
    assert default_max_iter(gamma, 1e-8, 1 / (1 - gamma)) == 10**7
    res = solvers.modified_policy_iteration(_idle(3, gamma))
    assert res.iterations == 1 and res.constants["max_iter"] == 10**7


@pytest.mark.parametrize("sparse", [False, True])
def test_scalable_solvers_of_a_masked_mdp_range_over_feasible_actions(sparse):
    """MPI, Gauss-Seidel VI and Krylov policy iteration on a masked MDP whose infeasible pairs pay more than any
    feasible one: the optimal values over feasible policies (enumeration), a feasible greedy policy, and Q = -inf
    exactly at the infeasible pairs (finite elsewhere), on dense and CSR storage; Backups.q masks by default."""
    mdp = _tempting_mask(4, 3, 6, gamma=0.8)
    model = _with_mask(mdp, sparse)
    want = _best_feasible_values(mdp)
    for solver in (solvers.modified_policy_iteration, solvers.gauss_seidel_value_iteration,
                   solvers.krylov_policy_iteration):
        res = solver(model)
        assert np.allclose(res.V, want, rtol=0, atol=1e-7), solver
        assert np.all(mdp.feasible[np.arange(4), res.policy])
        assert np.array_equal(np.isneginf(res.Q), ~mdp.feasible) and np.all(np.isfinite(res.Q[mdp.feasible]))
    B = Backups(model)
    V = np.random.default_rng(0).random(4)
    assert np.array_equal(np.isneginf(B.q(V)), ~mdp.feasible)
    assert np.array_equal(B.q(V)[mdp.feasible], B.q(V, masked=False)[mdp.feasible])
    assert np.all(np.isfinite(B.q(V, masked=False)))


@pytest.mark.parametrize("sparse", [False, True])
def test_backward_induction_of_a_masked_mdp_ranges_over_feasible_actions(sparse):
    """Finite horizon with stage-dependent rewards and a mask whose infeasible pairs pay the most: backward
    induction's values are the feasible optimum (written out), Q is -inf exactly at infeasible pairs, every step."""
    mdp = _tempting_mask(4, 3, 10, horizon=3, staged=True)
    res = pl.backward_induction(_with_mask(mdp, sparse))
    assert np.allclose(res.V, _best_feasible_values(mdp), rtol=1e-14, atol=0)
    for h in range(3):
        assert np.array_equal(np.isneginf(res.Q[h]), ~mdp.feasible)


@pytest.mark.parametrize("sparse", [False, True])
def test_backups_take_integer_values_as_float64(sparse):
    """Backups' methods accept any real V and work in float64: an integer start gives the same MPI run (values,
    iterations, sweeps) and the same backups as its float64 copy."""
    mdp = _random_mdp(6, 3, 19, gamma=0.9)
    B = Backups(_sparse(mdp) if sparse else mdp)
    start = np.arange(6) % 3
    a = B.mpi(start, m=None, threshold=1e-8 * 0.1, max_iter=1000)
    b = B.mpi(start.astype(np.float64), m=None, threshold=1e-8 * 0.1, max_iter=1000)
    assert a.V.dtype == np.float64 and np.array_equal(a.V, b.V) and (a.iterations, a.sweeps) == (b.iterations, b.sweeps)
    assert np.array_equal(B.q(start), B.q(start.astype(np.float64)))
    assert np.array_equal(B.bellman(start)[0], B.bellman(start.astype(np.float64))[0])

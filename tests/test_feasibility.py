"""Infeasible actions (issue 15, item 5): an MDP with an action mask against the MDP with those actions removed.

Oracles: (1) with k feasible actions in every state, the reduced MDP (the feasible actions re-indexed 0..k-1,
no mask) has the same optimal values, Q on the feasible pairs and optimal returns, for every planning method,
dense and sparse (infeasible rows empty), discounted and finite horizon; (2) with any number of feasible actions
per state, the unmasked MDP whose infeasible pairs are copies of a feasible action of the same state has the same
optimal values. The infeasible pairs are made attractive (reward 1, a self-loop), so a planner that ignored the
mask would find larger values: these tests fail then (see test_ignoring_the_mask_would_fail)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import planning, solvers
from theory_rl.mdp import TabularMDP, trusted_mdp

DISCOUNTED_METHODS = {
    "policy_iteration": {}, "value_iteration": {}, "lp": {}, "modified_policy_iteration": {},
    "gauss_seidel_value_iteration": {}, "krylov_policy_iteration": {},
    "krylov_gmres": {"linear_solver": "gmres"},
}


def _solve(mdp, name):
    kwargs = dict(DISCOUNTED_METHODS.get(name, {}))
    method = "krylov_policy_iteration" if name == "krylov_gmres" else name
    return planning.solve(mdp, method=method, **kwargs)


def _instance(seed: int, S: int, A: int, k: int | None, horizon: int | None, stages: bool):
    """A random MDP, its mask and (with k feasible actions per state) the feasible actions ``idx (S, k)``."""
    rng = np.random.default_rng(seed)
    lead = (horizon,) if (horizon is not None and stages) else ()
    P = rng.dirichlet(np.ones(S), size=lead + (S, A))
    P[rng.random(P.shape) < 0.5] = 0.0
    P[..., 0] += P.sum(-1) == 0
    P /= P.sum(-1, keepdims=True)
    R = rng.random(lead + (S, A)) * 0.8
    if k is not None:
        idx = np.sort(np.argsort(rng.random((S, A)), axis=1)[:, :k], axis=1)
        mask = np.zeros((S, A), bool)
        mask[np.arange(S)[:, None], idx] = True
    else:
        idx = None
        mask = rng.random((S, A)) < 0.5
        mask[np.arange(S), rng.integers(0, A, S)] = True
    # infeasible pairs are attractive: reward 1 and a self-loop, so ignoring the mask changes the answer
    R[..., ~mask] = 1.0
    loops = np.zeros((S, A, S))
    loops[np.arange(S), :, np.arange(S)] = 1.0
    P[..., ~mask, :] = loops[~mask]
    return P, R, mask, idx


def _kind(horizon, gamma):
    return {"horizon": horizon} if horizon is not None else {"gamma": gamma}


def _masked(P, R, init, mask, kind, sparse: bool) -> TabularMDP:
    if not sparse:
        return TabularMDP(P, R, init, feasible=mask, **kind)
    S, A = mask.shape
    rows = P.reshape(-1, S).copy()
    rows[np.tile(~mask.reshape(-1), rows.shape[0] // (S * A))] = 0.0  # infeasible rows left empty
    return TabularMDP(sp.csr_array(rows), R, init, feasible=mask, **kind)


def _reduced(P, R, init, idx, kind) -> TabularMDP:
    S = idx.shape[0]
    rows = np.arange(S)[:, None]
    return TabularMDP(P[..., rows, idx, :], R[..., rows, idx], init, **kind)


@st.composite
def masked_problems(draw, episodic: bool):
    S = draw(st.integers(1, 6))
    A = draw(st.integers(2, 4))
    k = draw(st.integers(1, A - 1))
    horizon = draw(st.integers(1, 4)) if episodic else None
    stages = draw(st.booleans()) if episodic else False
    gamma = None if episodic else draw(st.sampled_from([0.0, 0.5, 0.9]))
    seed = draw(st.integers(0, 2**32 - 1))
    return S, A, k, horizon, stages, gamma, seed


@settings(max_examples=30, deadline=None)
@given(masked_problems(episodic=False), st.booleans())
def test_discounted_mask_equals_the_reduced_mdp_for_every_method(problem, sparse):
    S, A, k, _, _, gamma, seed = problem
    P, R, mask, idx = _instance(seed, S, A, k, None, False)
    init = np.full(S, 1.0 / S)
    mdp = _masked(P, R, init, mask, {"gamma": gamma}, sparse)
    red = _reduced(P, R, init, idx, {"gamma": gamma})
    exact = planning.policy_iteration(red)
    rows = np.arange(S)[:, None]
    for name in DISCOUNTED_METHODS:
        res = _solve(mdp, name)
        tol = max(res.error_bound, 1e-9) + 1e-9
        np.testing.assert_allclose(res.V, exact.V, atol=tol, err_msg=name)
        assert np.all(np.abs(res.V - exact.V) <= res.error_bound + 1e-12), name  # the certificate holds
        assert np.all(np.isneginf(res.Q[~mask])), name
        np.testing.assert_allclose(res.Q[rows, idx], planning.q_from_values(red, res.V), atol=1e-9, err_msg=name)
        assert mask[np.arange(S), res.policy].all(), name  # never an infeasible action
        # the greedy policy is optimal: its exact value (evaluation on the masked MDP) is V*
        np.testing.assert_allclose(planning.evaluate(mdp, res.policy), exact.V, atol=2 * tol + 1e-8, err_msg=name)
    assert planning.optimal_return(mdp) == pytest.approx(planning.optimal_return(red), abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(masked_problems(episodic=True), st.booleans())
def test_finite_horizon_mask_equals_the_reduced_mdp(problem, sparse):
    S, A, k, H, stages, _, seed = problem
    P, R, mask, idx = _instance(seed, S, A, k, H, stages)
    init = np.full(S, 1.0 / S)
    mdp = _masked(P, R, init, mask, {"horizon": H}, sparse)
    red = _reduced(P, R, init, idx, {"horizon": H})
    exact = planning.backward_induction(red)
    rows = np.arange(S)[:, None]
    for res in (planning.backward_induction(mdp), planning.optimal_values_lp(mdp), solvers.modified_policy_iteration(
            mdp)):
        np.testing.assert_allclose(res.V, exact.V, atol=1e-8)
        assert np.all(np.isneginf(res.Q[:, ~mask]))
        np.testing.assert_allclose(res.Q[:, rows, idx], exact.Q, atol=1e-8)
        assert mask[np.arange(S), res.policy].all()
    np.testing.assert_allclose(planning.evaluate(mdp, idx[np.arange(S), exact.policy]), exact.V, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(2, 4), st.integers(0, 2**32 - 1), st.booleans(), st.booleans())
def test_any_mask_equals_copies_of_a_feasible_action(S, A, seed, sparse, episodic):
    # oracle 2: the infeasible pair (s, a) replaced by a copy of a feasible action of s changes no optimal value
    H = 3 if episodic else None
    P, R, mask, _ = _instance(seed, S, A, None, H, False)
    init = np.full(S, 1.0 / S)
    kind = _kind(H, 0.9)
    mdp = _masked(P, R, init, mask, kind, sparse)
    first = np.argmax(mask, axis=1)
    Pc, Rc = P.copy(), R.copy()
    for s, a in zip(*np.nonzero(~mask), strict=True):
        Pc[s, a], Rc[s, a] = P[s, first[s]], R[s, first[s]]
    oracle = planning.solve(TabularMDP(Pc, Rc, init, **kind))
    for res in (planning.solve(mdp), solvers.gauss_seidel_value_iteration(mdp), planning.optimal_values_lp(mdp)):
        np.testing.assert_allclose(res.V, oracle.V, atol=1e-7)


def test_ignoring_the_mask_would_fail():
    # the oracle tests can fail: the same MDP without its mask has strictly larger optimal values
    P, R, mask, idx = _instance(3, 5, 3, 1, None, False)
    init = np.full(5, 0.2)
    free = planning.solve(TabularMDP(P, R, init, gamma=0.9)).V
    exact = planning.solve(_reduced(P, R, init, idx, {"gamma": 0.9})).V
    assert np.all(free > exact + 0.1)
    np.testing.assert_allclose(planning.solve(TabularMDP(P, R, init, gamma=0.9, feasible=mask)).V, exact, atol=1e-12)


# ---------------------------------------------------------------------- the mask on the MDP
def _small(**kw):
    P = np.zeros((2, 2, 2))
    P[:, :, 0] = 1.0
    return TabularMDP(P, [[0.0, 1.0], [0.5, 0.2]], [1.0, 0.0], gamma=0.9, **kw)


def test_mask_validation_and_storage():
    mask = np.array([[True, False], [True, True]])
    mdp = _small(feasible=mask)
    assert mdp.feasible is not mask and not mdp.feasible.flags.writeable
    mask[0, 0] = False  # the caller's array is not aliased
    assert mdp.feasible[0, 0]
    assert _small(feasible=np.ones((2, 2), bool)).feasible is None  # all feasible: no restriction
    assert _small().feasible is None
    assert mdp.replace(gamma=0.5).feasible is not None
    assert mdp.replace(feasible=None).feasible is None
    with pytest.raises(ValueError, match=r"feasible\[1\] has no feasible action: state 1"):
        _small(feasible=np.array([[True, False], [False, False]]))
    with pytest.raises(ValueError, match="bool array"):
        _small(feasible=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"shape \(2, 3\), expected \(S, A\) = \(2, 2\)"):
        _small(feasible=np.ones((2, 3), bool))
    with pytest.raises(AttributeError):
        mdp.feasible = None


def test_sparse_rows_of_infeasible_pairs_may_be_empty_and_feasible_ones_may_not():
    rows = sp.csr_array(np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
    mdp = TabularMDP(rows, np.zeros((2, 2)), [1.0, 0.0], gamma=0.9, feasible=np.array([[True, False], [True, True]]))
    np.testing.assert_array_equal(mdp.transitions.toarray()[1], [1.0, 0.0])  # stored as the self-loop 0 -> 0
    assert rows.toarray()[1].sum() == 0.0  # the caller's matrix is untouched
    with pytest.raises(ValueError, match=r"row \(s=0, a=1\) sums to 0"):
        TabularMDP(rows, np.zeros((2, 2)), [1.0, 0.0], gamma=0.9)
    with pytest.raises(ValueError, match=r"P\[0, 1\] sums to 0"):
        TabularMDP(rows.toarray().reshape(2, 2, 2), np.zeros((2, 2)), [1.0, 0.0], gamma=0.9,
                   feasible=np.array([[True, False], [True, True]]))  # dense rows must stay distributions


def test_trusted_mdp_carries_the_mask():
    P = np.zeros((2, 2, 2))
    P[:, :, 0] = 1.0
    R, init = np.array([[0.0, 1.0], [0.5, 0.2]]), np.array([1.0, 0.0])
    mask = np.array([[True, False], [True, True]])
    mask.setflags(write=False)
    a = TabularMDP(P, R, init, gamma=0.9, feasible=mask)
    b = trusted_mdp(P.copy(), R.copy(), init.copy(), gamma=0.9, feasible=mask)
    assert sorted(vars(a)) == sorted(vars(b))
    np.testing.assert_array_equal(planning.solve(a).V, planning.solve(b).V)


# ---------------------------------------------------------------------- policies on a masked MDP
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("episodic", [False, True])
def test_policies_on_infeasible_actions_are_refused_naming_the_pair(sparse, episodic):
    P, R, mask, _ = _instance(5, 4, 3, 1, 2 if episodic else None, False)
    mdp = _masked(P, R, np.full(4, 0.25), mask, _kind(2 if episodic else None, 0.9), sparse)
    s = 2
    a = int(np.argmin(mask[s]))
    actions = np.argmax(mask, axis=1)
    actions[s] = a
    probs = mask / mask.sum(axis=1, keepdims=True)
    probs[s] = 0.0
    probs[s, a] = 1.0
    msg = rf"\(state, action\) = \({s}, {a}\)"
    for policy in (actions, probs):
        for f in (planning.evaluate, planning.expected_return, planning.occupancy, planning.q_values):
            with pytest.raises(ValueError, match=msg):
                f(mdp, policy)
    good = np.argmax(mask, axis=1)
    assert np.isfinite(planning.evaluate(mdp, good)).all()
    assert np.isfinite(planning.bellman_expectation(mdp, good, np.zeros(4), 0 if episodic else None)).all()
    with pytest.raises(ValueError, match=msg):
        planning.policy_iteration(mdp, policy0=actions) if not episodic else planning.evaluate(mdp, actions)
    if not episodic:
        with pytest.raises(ValueError, match=msg):
            solvers.krylov_policy_iteration(mdp, policy0=actions)


@pytest.mark.parametrize("episodic", [False, True])
def test_max_reachability_ranges_over_feasible_policies(episodic):
    # oracle: the reduced MDP's reachability, re-indexed; infeasible pairs are never reached
    from theory_rl.coverage import max_reachability  # noqa: PLC0415
    H = 3 if episodic else None
    P, R, mask, idx = _instance(11, 4, 3, 2, H, False)
    init = np.array([0.4, 0.3, 0.2, 0.1])
    reach = max_reachability(TabularMDP(P, R, init, feasible=mask, **_kind(H, 0.7)))
    red = max_reachability(_reduced(P, R, init, idx, _kind(H, 0.7)))
    rows = np.arange(4)[:, None]
    np.testing.assert_allclose(reach[..., rows, idx], red, atol=1e-12)
    assert np.all(reach[..., ~mask] == 0.0)

"""QuantEcon's DiscreteDP and pymdptoolbox's array forms imported as MDPs (issue 15, item 5): round trips against
QuantEcon's own solver on random problems, every input form, layouts never guessed, infeasible actions (-inf) as
the MDP's action mask, against QuantEcon's solution."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import planning
from theory_rl.interop import RewardMap, from_discrete_dp, from_mdptoolbox

ddp = pytest.importorskip("quantecon.markov.ddp")


@st.composite
def problems(draw, square: bool = False):
    """Random DiscreteDP problems: S != A (or S == A), rewards on a random range, sparse rows, gamma in [0, 0.99]."""
    S = draw(st.integers(1, 7))
    A = S if square else draw(st.integers(1, 5).filter(lambda a: a != S))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    Q = rng.dirichlet(np.ones(S), size=(S, A))
    Q[rng.random(Q.shape) < 0.4] = 0.0  # some zeros: the sparse forms have something to drop
    Q[..., 0] += Q.sum(-1) == 0
    Q /= Q.sum(-1, keepdims=True)
    low, width = draw(st.sampled_from([(0.0, 1.0), (-10.0, 30.0), (3.0, 0.5), (-1e3, 1.0)]))
    R = low + width * rng.random((S, A))
    beta = draw(st.sampled_from([0.0, 0.5, 0.9, 0.99]))
    return R, Q, beta


def quantecon_values(R, Q, beta, *args):
    return ddp.DiscreteDP(R, Q, beta, *args).solve(method="policy_iteration")


def check_round_trip(imp, res, beta):
    """Our optimal values, mapped back, equal QuantEcon's; our greedy policy is optimal for QuantEcon's problem."""
    ours = planning.solve(imp.mdp)
    scale = max(1.0, np.abs(res.v).max())
    np.testing.assert_allclose(imp.values(ours.V), res.v, atol=1e-9 * scale)
    # the policy: its value (QuantEcon's evaluation) equals the optimum (ties may pick another optimal action)
    np.testing.assert_allclose(imp.values(planning.evaluate(imp.mdp, ours.policy)), res.v, atol=1e-9 * scale)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_product_form_round_trip(problem):
    R, Q, beta = problem
    imp = from_discrete_dp(R, Q, beta)
    check_round_trip(imp, quantecon_values(R, Q, beta), beta)
    assert imp.mdp.gamma == beta
    lo, hi = R.min(), R.max()
    expect = RewardMap(0.0, 1.0) if lo >= 0 and hi <= 1 else RewardMap(lo, hi if hi > lo else lo + 1)
    assert imp.reward_map == expect


@settings(max_examples=40, deadline=None)
@given(problems(), st.integers(0, 2**32 - 1), st.booleans(), st.sampled_from([None, True, False]))
def test_state_action_pair_form_round_trip(problem, seed, sparse_input, storage):
    R, Q, beta = problem
    S, A = R.shape
    s, a = (x.ravel() for x in np.indices((S, A)))
    perm = np.random.default_rng(seed).permutation(S * A)  # pairs in any order
    Q2 = Q.reshape(S * A, S)[perm]
    Q2 = scipy.sparse.csr_matrix(Q2) if sparse_input else Q2
    imp = from_discrete_dp(R.ravel()[perm], Q2, beta, s[perm], a[perm], sparse=storage)
    assert imp.mdp.is_sparse == bool(storage)  # None: small problems are stored dense
    check_round_trip(imp, quantecon_values(R.ravel()[perm], Q2, beta, s[perm], a[perm]), beta)
    np.testing.assert_allclose(imp.mdp.P, Q, atol=0)  # rows back in (s, a) order, exactly


@settings(max_examples=40, deadline=None)
@given(problems(), st.sampled_from(["SA", "S", "ASS", "list-sparse", "list-dense"]))
def test_mdptoolbox_forms_round_trip(problem, r_form):
    R, Q, beta = problem
    S, A = R.shape
    if beta == 0.0:
        beta = 0.5  # pymdptoolbox's discount lies in (0, 1)
    P = Q.transpose(1, 0, 2)  # (A, S, S)
    if r_form == "S":
        R = np.repeat(R[:, :1], A, axis=1)  # one reward per state
        R_arg = R[:, 0]
    elif r_form == "SA":
        R_arg = R
    else:
        # per-transition rewards whose P-average is R: R3[a, s, s'] = R[s, a] + noise with P-mean zero
        noise = np.random.default_rng(0).normal(size=P.shape)
        noise -= (P * noise).sum(-1, keepdims=True)
        R3 = R.T[:, :, None] + noise
        R_arg = R3 if r_form == "ASS" else [scipy.sparse.csr_matrix(R3[k] * (P[k] > 0)) if r_form == "list-sparse"
                                            else R3[k] for k in range(A)]  # fmt: skip
    P_arg = [scipy.sparse.csr_matrix(P[k]) for k in range(A)] if r_form == "list-sparse" else P
    imp = from_mdptoolbox(P_arg, R_arg, beta)
    check_round_trip(imp, quantecon_values(R, Q, beta), beta)
    sparse = from_mdptoolbox(P_arg, R_arg, beta, sparse=True)
    assert sparse.mdp.is_sparse and sparse.reward_map == imp.reward_map
    np.testing.assert_array_equal(sparse.mdp.P, imp.mdp.P)
    np.testing.assert_array_equal(sparse.mdp.R, imp.mdp.R)


def test_mdptoolbox_finite_horizon_matches_a_backward_loop():
    rng = np.random.default_rng(3)
    A, S, H = 2, 4, 6
    P = rng.dirichlet(np.ones(S), size=(A, S))
    R = rng.normal(size=(S, A)) * 4
    for discount in (None, 1.0, 0.8):
        imp = from_mdptoolbox(P, R, discount, horizon=H)
        g = 1.0 if discount is None else discount
        V = np.zeros(S)
        for _ in range(H):  # the oracle: V_h(s) = max_a R(s, a) + g sum_s' P[a, s, s'] V_{h+1}(s')
            V = np.max(R + g * np.einsum("ast,t->sa", P, V), axis=1)
        np.testing.assert_allclose(imp.values(planning.solve(imp.mdp).V)[0], V, atol=1e-10)
        assert imp.stage_discount is None and imp.mdp.gamma == (0.8 if discount == 0.8 else None)  # native form
    with pytest.raises(ValueError, match="discount"):  # no horizon: a discount in (0, 1) is needed
        from_mdptoolbox(P, R)
    with pytest.raises(ValueError, match="discount"):
        from_mdptoolbox(P, R, 1.0)
    # the native discounted finite horizon has no stage rewards 0.01^h to underflow (issue 15, item 5)
    imp = from_mdptoolbox(P, R, 0.01, horizon=200)
    V = imp.values(planning.solve(imp.mdp).V)
    np.testing.assert_allclose(V[-1], R.max(axis=1), atol=1e-12)  # the last step pays its reward, undiscounted


@pytest.mark.filterwarnings("ignore:infinite horizon solution methods are disabled")  # QuantEcon at beta = 1
@settings(max_examples=30, deadline=None)
@given(problems(), st.integers(1, 12), st.sampled_from([1.0, 0.95, 0.5, 0.1]), st.sampled_from([None, True]))
def test_finite_horizon_round_trip_against_quantecon_backward_induction(problem, T, beta, sparse):
    R, Q, _ = problem
    vs, sigmas = ddp.backward_induction(ddp.DiscreteDP(R, Q, beta), T)  # vs[T] = 0, the terminal values
    imp = from_discrete_dp(R, Q, beta, horizon=T, sparse=sparse)
    assert imp.mdp.is_episodic and imp.mdp.horizon == T
    res = planning.solve(imp.mdp)
    scale = max(1.0, np.abs(vs).max())
    np.testing.assert_allclose(imp.values(res.V), vs[:T], atol=1e-9 * scale)
    # our greedy policy is optimal for QuantEcon's problem at every step (ties may pick another optimal action)
    np.testing.assert_allclose(imp.values(planning.evaluate(imp.mdp, res.policy)), vs[:T], atol=1e-9 * scale)
    # Q-values map back too: QuantEcon's Q_h = R + beta Q_mat v_{h+1}
    Q_ref = R[None] + beta * np.einsum("sat,ht->hsa", Q, vs[1:])
    np.testing.assert_allclose(imp.values(res.Q), Q_ref, atol=1e-9 * scale)


@settings(max_examples=20, deadline=None)
@given(problems(square=True))
def test_square_layouts_are_never_guessed(problem):
    R, Q, beta = problem
    S = R.shape[0]
    with pytest.raises(ValueError, match="layout"):
        from_discrete_dp(R, Q, beta)
    with pytest.raises(ValueError, match="layout"):
        from_mdptoolbox(Q.transpose(1, 0, 2), R, 0.5)
    res = quantecon_values(R, Q, beta)
    check_round_trip(from_discrete_dp(R, Q, beta, layout="SAS"), res, beta)
    check_round_trip(from_discrete_dp(R, Q.transpose(1, 0, 2), beta, layout="ASS"), res, beta)
    check_round_trip(from_mdptoolbox(Q.transpose(1, 0, 2), R, beta or 0.5, layout="ASS"),
                     quantecon_values(R, Q, beta or 0.5), beta)  # fmt: skip
    if S > 1:  # the two readings differ: the wrong one is a different problem
        wrong = from_discrete_dp(R, Q, beta, layout="ASS")
        assert not np.array_equal(wrong.mdp.P, from_discrete_dp(R, Q, beta, layout="SAS").mdp.P) or \
            np.array_equal(Q, Q.transpose(1, 0, 2))


def test_the_other_library_layout_is_refused_without_layout():
    rng = np.random.default_rng(0)
    S, A = 4, 2
    Q = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.random((S, A))
    with pytest.raises(ValueError, match="layout='SAS'"):
        from_mdptoolbox(Q, R, 0.9)  # (S, A, S) handed to pymdptoolbox's importer
    with pytest.raises(ValueError, match="layout='ASS'"):
        from_discrete_dp(R, Q.transpose(1, 0, 2), 0.9)  # (A, S, S) handed to QuantEcon's
    np.testing.assert_array_equal(from_mdptoolbox(Q, R, 0.9, layout="SAS").mdp.P, Q)
    with pytest.raises(ValueError, match="shape"):
        from_discrete_dp(R, Q[:, :, :3], 0.9)
    with pytest.raises(ValueError, match=r"R has shape"):
        from_discrete_dp(R.T, Q, 0.9)


@st.composite
def infeasible_problems(draw):
    """DiscreteDP problems with infeasible actions (R = -inf), every state keeping at least one feasible action;
    the infeasible pairs' rows point at the best reward, so a solver ignoring the mask finds larger values."""
    R, Q, beta = draw(problems())
    S, A = R.shape
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    infeasible = rng.random((S, A)) < 0.4
    infeasible[np.arange(S), rng.integers(0, A, S)] = False
    R = np.where(infeasible, -np.inf, R)
    return R, Q, beta, infeasible


@settings(max_examples=40, deadline=None)
@given(infeasible_problems(), st.sampled_from([None, True, False]))
def test_infeasible_actions_become_the_mask_and_match_quantecon(problem, sparse):
    R, Q, beta, infeasible = problem
    S, A = R.shape
    res = quantecon_values(R, Q, beta)
    imp = from_discrete_dp(R, Q, beta, sparse=sparse)
    if infeasible.any():
        np.testing.assert_array_equal(imp.mdp.feasible, ~infeasible)
    else:
        assert imp.mdp.feasible is None
    check_round_trip(imp, res, beta)
    ours = planning.solve(imp.mdp)
    assert not infeasible[np.arange(S), ours.policy].any()
    assert np.isneginf(ours.Q[infeasible]).all()
    finite = R[~infeasible]
    lo, hi = finite.min(), finite.max()
    assert imp.reward_map == (RewardMap(0.0, 1.0) if lo >= 0 and hi <= 1 else RewardMap(lo, hi if hi > lo else lo + 1))
    # the state-action pair form leaving the infeasible pairs out (QuantEcon's own convention) gives the same MDP
    s, a = np.nonzero(~infeasible)
    pairs = from_discrete_dp(R[s, a], Q[s, a], beta, s, a, sparse=sparse)
    if A == a.max() + 1:  # the pair form reads A from a_indices
        check_round_trip(pairs, res, beta)
        assert (pairs.mdp.feasible is None) == (not infeasible.any())
    if beta > 0:  # pymdptoolbox's (A, S, S) kernel with -inf in its (S, A) rewards: the same problem
        check_round_trip(from_mdptoolbox(Q.transpose(1, 0, 2), R, beta, layout="ASS"), res, beta)


def test_infeasible_actions_in_every_form():
    rng = np.random.default_rng(1)
    S, A = 3, 2
    Q = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.random((S, A))
    R[1, 0] = -np.inf
    imp = from_discrete_dp(R, Q, 0.9)
    np.testing.assert_array_equal(imp.mdp.feasible, R > -np.inf)
    assert imp.mdp.R[1, 0] == 0.0  # a finite placeholder, never read
    s, a = (x.ravel() for x in np.indices((S, A)))
    keep = np.arange(S * A) != 3
    left_out = from_discrete_dp(np.zeros(keep.sum()), Q.reshape(-1, S)[keep], 0.9, s[keep], a[keep])
    np.testing.assert_array_equal(left_out.mdp.feasible, [[True, True], [True, False], [True, True]])
    np.testing.assert_array_equal(left_out.mdp.P[1, 1], [0.0, 1.0, 0.0])  # the left-out pair: a self-loop
    with pytest.raises(ValueError, match=r"feasible\[1\] has no feasible action: state 1"):
        from_discrete_dp(np.where([[0, 0], [1, 1], [0, 0]], -np.inf, R), Q, 0.9)
    with pytest.raises(ValueError, match=r"feasible\[1\] has no feasible action"):
        from_mdptoolbox(Q.transpose(1, 0, 2), np.array([0.0, -np.inf, 1.0]), 0.9)
    with pytest.raises(ValueError, match="every action is infeasible"):
        from_discrete_dp(np.full((S, A), -np.inf), Q, 0.9)
    dup = np.append(np.arange(S * A), 0)
    with pytest.raises(ValueError, match=r"pair \(0, 0\) 2 times"):
        from_discrete_dp(np.zeros(S * A + 1), Q.reshape(-1, S)[dup], 0.9, s[dup], a[dup])
    R3 = np.zeros((A, S, S))
    R3[0, 1, 2] = -np.inf
    with pytest.raises(ValueError, match=r"R\[0, 1, 2\] is -inf: a transition reward of -inf is not an action mask"):
        from_mdptoolbox(Q.transpose(1, 0, 2), R3, 0.9)
    with pytest.raises(ValueError, match="together"):
        from_discrete_dp(R, Q, 0.9, s_indices=s)


def test_large_sparse_problems_stay_sparse():
    # S = 3,000, A = 3, 4 successors a pair: the dense form (2.7e7 entries) passes the automatic threshold
    rng = np.random.default_rng(5)
    S, A, k = 3000, 3, 4
    L = S * A
    cols = rng.integers(0, S, size=(L, k))
    Q = scipy.sparse.csr_matrix((np.full(L * k, 1 / k), (np.repeat(np.arange(L), k), cols.ravel())), shape=(L, S))
    s, a = (x.ravel() for x in np.indices((S, A)))
    R = rng.normal(size=L)
    imp = from_discrete_dp(R, Q, 0.9, s, a)
    assert imp.mdp.is_sparse and imp.mdp.transitions.nnz == Q.nnz
    np.testing.assert_allclose(imp.mdp.transitions.toarray(), Q.toarray(), atol=1e-15)


def test_bad_kernels_and_ranges_are_refused():
    S, A = 3, 2
    Q = np.full((S, A, S), 1 / S)
    R = np.zeros((S, A))
    bad = Q.copy()
    bad[2, 1, 0] += 0.01
    with pytest.raises(ValueError, match=r"Q\[2, 1\] sums to"):
        from_discrete_dp(R, bad, 0.9)
    with pytest.raises(ValueError, match=r"P\[1\]\[2\] sums to"):
        from_mdptoolbox(bad.transpose(1, 0, 2), R, 0.9)
    neg = Q.copy()
    neg[0, 0] = [1.5, -0.5, 0.0]
    with pytest.raises(ValueError, match="probabilities >= 0"):
        from_discrete_dp(R, neg, 0.9)
    with pytest.raises(ValueError, match="reward_range"):
        from_discrete_dp(R + 5, Q, 0.9, reward_range=(0.0, 1.0))
    with pytest.raises(ValueError, match="beta"):
        from_discrete_dp(R, Q, 1.0)
    imp = from_discrete_dp(R + 5, Q, 0.9, reward_range=(0.0, 10.0), init=[1.0, 0.0, 0.0])
    assert imp.reward_map == RewardMap(0.0, 10.0) and imp.mdp.init[0] == 1.0
    np.testing.assert_allclose(imp.values(planning.solve(imp.mdp).V), 5 / (1 - 0.9))

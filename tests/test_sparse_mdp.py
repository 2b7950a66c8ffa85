"""Sparse transition storage (issue 15 item 1): scipy.sparse input, canonical read-only CSR, densify-on-demand with a
size limit, named errors for invalid input, and dense/sparse agreement of every planning and evaluation result."""

import re

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import planning
from theory_rl._sparse import DENSE_LIMIT
from theory_rl.mdp import TabularMDP

from .strategies import mdp_arrays, mdps_with_policy


def _sparse_twin(mdp: TabularMDP, fmt: str = "csr") -> TabularMDP:
    """The same MDP with its transitions given as a scipy.sparse matrix of format ``fmt``."""
    T = sp.csr_array(np.asarray(mdp.P).reshape(-1, mdp.S)).asformat(fmt)
    kw = {"gamma": mdp.gamma} if mdp.is_discounted else {"horizon": mdp.horizon}
    return TabularMDP(T, mdp.R, mdp.init, reward_noise=mdp.reward_noise, **kw)


@settings(max_examples=60, deadline=None)
@given(arrays=mdp_arrays(), fmt=st.sampled_from(["csr", "csc", "coo", "lil"]))
def test_sparse_input_stores_the_same_mdp(arrays, fmt):
    P, R, init, kw = arrays
    dense = TabularMDP(P, R, init, **kw)
    sparse = _sparse_twin(dense, fmt)
    assert sparse.is_sparse and not dense.is_sparse
    assert (sparse.S, sparse.A, sparse.is_stationary) == (dense.S, dense.A, dense.is_stationary)
    # densified on demand, exactly (H = 1: a (1, S, A, S) P is stored as the stationary (S*A, S) one)
    assert np.array_equal(sparse.P, dense.P.reshape(sparse.P.shape))
    for m in (sparse, dense):
        T = m.transitions
        assert isinstance(T, sp.csr_array) and T.shape == (np.asarray(P).size // dense.S, dense.S)
        assert T.indices.dtype == np.int64 and T.indptr.dtype == np.int64
        assert T.has_canonical_format and np.all(T.data > 0)  # sorted, summed, no explicit zeros
        assert not (T.data.flags.writeable or T.indices.flags.writeable or T.indptr.flags.writeable)
        assert np.array_equal(T.toarray(), np.asarray(P).reshape(-1, dense.S))
    assert dense.transitions is dense.transitions  # built once, cached
    if dense.is_episodic:
        assert np.array_equal(sparse.stage_P, dense.stage_P)
        assert np.array_equal(sparse.P_at(dense.horizon - 1), dense.P_at(dense.horizon - 1))
    assert "sparse nnz=" in repr(sparse) and "sparse" not in repr(dense)
    again = sparse.replace(reward_noise="gaussian")
    assert again.is_sparse and again.reward_noise == "gaussian" and np.array_equal(again.P, sparse.P)


def test_duplicates_are_summed_zeros_dropped_and_caller_not_aliased():
    rows = np.array([0, 0, 0, 1, 1, 2, 3])  # S = 2, A = 2: rows (s, a) = (0,0) (0,1) (1,0) (1,1)
    cols = np.array([1, 0, 1, 0, 1, 1, 0])
    vals = np.array([0.25, 0.5, 0.25, 1.0, 0.0, 1.0, 1.0])  # (0,0): 0.5 + 0.5 to s'=1 split in two entries
    coo = sp.coo_array((vals, (rows, cols)), shape=(4, 2))
    mdp = TabularMDP(coo, np.zeros((2, 2)), [1.0, 0.0], gamma=0.5)
    T = mdp.transitions
    assert T.nnz == 5 and np.array_equal(T.indptr, [0, 2, 3, 4, 5])
    assert np.array_equal(mdp.P[0, 0], [0.5, 0.5])
    csr = sp.csr_array(coo)
    csr.data[:] = 0.3  # mutating the caller's matrix afterwards does not reach the MDP
    assert np.array_equal(mdp.P[0, 0], [0.5, 0.5])
    with pytest.raises(ValueError):
        T.data[0] = 0.1


def _bad(S=3, A=2):
    rng = np.random.default_rng(0)
    P = rng.random((S * A, S))
    return P / P.sum(1, keepdims=True), rng.random((S, A)), np.full(S, 1 / S)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda P: P.__setitem__((3, 1), -0.2), r"P entry \(s=1, a=1, s'=1\) is -0.2, expected a probability >= 0"),
        (lambda P: P.__setitem__((4, 2), np.nan), r"P entry \(s=2, a=0, s'=2\) is nan"),
        (lambda P: P.__setitem__((5, 0), np.inf), r"P entry \(s=2, a=1, s'=0\) is inf"),
        (lambda P: P.__setitem__(3, P[3] * 0.97), r"P row \(s=1, a=1\) sums to 0.97, expected 1 \(tolerance 1e-10\)"),
        (lambda P: P.__setitem__(2, 0.0), r"P row \(s=1, a=0\) sums to 0, expected 1"),
    ],
)
def test_invalid_sparse_entries_are_named(edit, message):
    P, R, init = _bad()
    edit(P)
    with pytest.raises(ValueError, match=message):
        TabularMDP(sp.csr_array(P), R, init, gamma=0.9)


def test_invalid_sparse_shapes_and_stages_are_named():
    P, R, init = _bad()
    T = sp.csr_array(P)
    with pytest.raises(ValueError, match=r"P has 5 rows, expected 6 \(rows \(h, s, a\) with S = 3 columns and A = 2"):
        TabularMDP(T[:5], R, init, gamma=0.9)
    with pytest.raises(ValueError, match=r"P has 6 rows, expected 9 .*A = 3"):  # A from R: a wrong R names P's rows
        TabularMDP(T, np.zeros((3, 3)), init, gamma=0.9)
    with pytest.raises(ValueError, match="R"):
        TabularMDP(T, np.zeros((2, 2)), init, gamma=0.9)
    with pytest.raises(ValueError, match="init"):
        TabularMDP(T, R, np.ones(4) / 4, gamma=0.9)
    staged = sp.vstack([T, T, T])
    with pytest.raises(ValueError, match=r"P has 18 rows, expected 6 \("):  # discounted: stationary only
        TabularMDP(staged, R, init, gamma=0.9)
    with pytest.raises(ValueError, match=r"P has 18 rows, expected 6 or 24 .*H = 4"):
        TabularMDP(staged, R, init, horizon=4)
    assert not TabularMDP(staged, R, init, horizon=3).is_stationary
    bad = sp.vstack([T, T, T]).tolil()
    bad[14, 0] += 0.5
    with pytest.raises(ValueError, match=r"P row \(h=2, s=1, a=0\) sums to 1.5"):
        TabularMDP(bad, R, init, horizon=3)
    with pytest.raises(ValueError, match="complex"):
        TabularMDP(sp.csr_array(P.astype(complex)), R, init, gamma=0.9)


def test_large_sparse_mdp_refuses_to_densify_with_a_clear_error():
    S = 6000  # S * A * S = 3.6e7 > 2^25
    assert S * S > DENSE_LIMIT
    mdp = TabularMDP(sp.eye_array(S, format="csr"), np.zeros((S, 1)), np.full(S, 1 / S), horizon=2)
    for read in (lambda: mdp.P, lambda: mdp.stage_P, lambda: mdp.P_at(0)):
        with pytest.raises(ValueError, match=re.escape("(6000, 1, 6000) = 3.6e+07 entries") + ".*mdp.transitions"):
            read()
    assert repr(mdp).startswith("TabularMDP(S=6000, A=1, horizon=2, sparse nnz=6000")
    assert mdp.transitions.nnz == S


@settings(max_examples=60, deadline=None)
@given(case=mdps_with_policy())
def test_dense_and_sparse_plan_and_evaluate_alike(case):
    """Every planning and evaluation result agrees to 1e-12 between a dense MDP and its sparse twin."""
    dense, policy = case
    sparse = _sparse_twin(dense)
    tol = 1e-12 * dense.vmax
    for fn in (planning.solve, planning.value_iteration, planning.policy_iteration):
        a, b = fn(dense), fn(sparse)
        assert np.abs(a.V - b.V).max() <= tol and np.abs(a.Q - b.Q).max() <= tol
        assert b.error_bound <= max(a.error_bound * 1.01, 1e-10)
    assert np.abs(planning.evaluate(dense, policy) - planning.evaluate(sparse, policy)).max() <= tol
    assert abs(planning.expected_return(dense, policy) - planning.expected_return(sparse, policy)) <= tol
    assert abs(planning.optimal_return(dense) - planning.optimal_return(sparse)) <= tol
    V = np.linspace(0, dense.vmax, dense.S)
    h = 0 if dense.is_episodic else None
    assert np.abs(planning.q_from_values(dense, V, h) - planning.q_from_values(sparse, V, h)).max() <= tol
    assert np.abs(planning.occupancy(dense, policy) - planning.occupancy(sparse, policy)).max() <= 1e-12

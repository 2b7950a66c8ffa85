"""Sparse paths of the structured generators (issue 15, item 6): RiverSwim, the gridworld and the combination lock
built as CSR equal their dense forms bit for bit, on hypothesis-drawn parameters; the automatic choice; the
candidate merger against a Python loop; large instances stay sparse."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import generators, planning
from theory_rl.generators.csr import SPARSE_MIN_ENTRIES, rows_to_csr, use_sparse

probabilities = st.one_of(st.sampled_from([0.0, 1.0, 1 / 3, 0.1, 0.35, 0.05]), st.floats(0.0, 1.0))


def same_mdp(dense, sparse):
    assert sparse.is_sparse and not dense.is_sparse
    np.testing.assert_array_equal(sparse.P, dense.P.reshape(sparse.P.shape))  # bit for bit, not to rounding
    np.testing.assert_array_equal(sparse.R, dense.R)
    np.testing.assert_array_equal(sparse.init, dense.init)
    assert (sparse.gamma, sparse.horizon, sparse.reward_noise) == (dense.gamma, dense.horizon, dense.reward_noise)


@settings(max_examples=60, deadline=None)
@given(S=st.integers(2, 12), p=probabilities, q=probabilities, horizon=st.one_of(st.none(), st.integers(1, 4)))
def test_river_swim_sparse_equals_dense(S, p, q, horizon):
    p_right, p_left = min(p, 1.0), min(q, 1.0 - min(p, 1.0))
    kw = dict(p_right=p_right, p_left=p_left, horizon=horizon)
    same_mdp(generators.river_swim(S, sparse=False, **kw), generators.river_swim(S, sparse=True, **kw))


@st.composite
def grids(draw):
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    cells = [(r, c) for r in range(h) for c in range(w)]
    start, goal = draw(st.sampled_from(cells)), draw(st.sampled_from(cells))
    walls = draw(st.lists(st.sampled_from(cells), max_size=4).map(lambda ws: tuple(x for x in ws
                                                                                 if x not in (start, goal))))
    return h, w, dict(slip=draw(probabilities), walls=walls, start=start, goal=goal,
                      gamma=draw(st.sampled_from([0.5, 0.95])))  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(grids())
def test_gridworld_sparse_equals_dense(grid):
    h, w, kw = grid
    same_mdp(generators.gridworld(h, w, sparse=False, **kw), generators.gridworld(h, w, sparse=True, **kw))


@settings(max_examples=30, deadline=None)
@given(H=st.integers(1, 6), A=st.integers(2, 5), seed=st.integers(0, 2**32 - 1), anti=probabilities)
def test_combination_lock_sparse_equals_dense(H, A, seed, anti):
    dense = generators.combination_lock(H, A, seed=seed, anti_reward=anti, sparse=False)
    sparse = generators.combination_lock(H, A, seed=seed, anti_reward=anti, sparse=True)
    same_mdp(dense, sparse)
    assert sparse.transitions.nnz == H * 2 * A  # one entry a row


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_candidate_merger_matches_a_python_loop(n_rows, k, S, seed):
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, S, size=(n_rows, k))
    weights = rng.choice([0.0, 0.1, 1 / 3, 0.25, 0.7], size=(n_rows, k))
    loop = np.zeros((n_rows, S))
    for r in range(n_rows):  # the oracle: the dense += loop, in candidate order
        for j in range(k):
            loop[r, targets[r, j]] += weights[r, j]
    T = rows_to_csr(targets, weights, S)
    np.testing.assert_array_equal(T.toarray(), loop)
    assert (T.data != 0).all()  # zero sums dropped
    assert all(len(set(T.indices[T.indptr[r]:T.indptr[r + 1]])) == T.indptr[r + 1] - T.indptr[r]
               for r in range(n_rows))  # one entry per next state  # fmt: skip


def test_the_automatic_choice():
    assert not generators.river_swim(6).is_sparse and not generators.gridworld(4, 4).is_sparse
    side = next(n for n in range(1, 100) if 4 * n**4 > SPARSE_MIN_ENTRIES)  # dense P (n^2, 4, n^2) over the threshold
    assert generators.gridworld(side, side).is_sparse and not generators.gridworld(side - 1, side - 1).is_sparse
    assert generators.river_swim(1000).is_sparse  # 2 * 10^6 entries, 0.15% non-zero
    assert not generators.combination_lock(50, 4, seed=0).is_sparse  # half its entries are non-zero
    assert use_sparse(4, 4, True) and not use_sparse(10**12, 1, False) and use_sparse(10**12, 1)
    with pytest.raises(ValueError, match="sparse"):
        generators.river_swim(6, sparse="yes")


def test_large_instances_are_built_sparse_and_solved():
    mdp = generators.river_swim(200_000, p_right=0.35, p_left=0.05)
    # swim left: 1 entry a row; right: 3 at inner states, 2 at each bank
    assert mdp.is_sparse and mdp.transitions.nnz == 200_000 + 3 * (200_000 - 2) + 4
    grid = generators.gridworld(300, 300, slip=0.2, walls=((1, 1), (2, 2)))
    assert grid.is_sparse and grid.transitions.nnz <= 5 * 4 * 300 * 300
    # small sparse instances plan exactly like their dense twins
    small = generators.gridworld(6, 7, slip=0.3, walls=((2, 2),), sparse=True)
    res, ref = planning.solve(small), planning.solve(generators.gridworld(6, 7, slip=0.3, walls=((2, 2),)))
    np.testing.assert_allclose(res.V, ref.V, atol=1e-12)

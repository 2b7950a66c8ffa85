"""Issue 16: the one-pass dense check and copy of TabularMDP's P (theory_rl._dense) and ``copy=False``.

The pass must give exactly the verdicts and messages of the numpy checks it replaces (as_float_array's finiteness,
check_distributions' signs and row sums), including rows at the edge of the tolerance, where its own sum (another
order than numpy's) may differ by round-off and it must defer to numpy.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl._dense import SMALL, dense_scan, owned_transitions
from theory_rl._validation import PROB_TOL, as_float_array, check_distributions
from theory_rl.mdp import TabularMDP

S, A = 40, 8  # S * A * S = 12,800 > SMALL: the kernel's path
assert S * A * S > SMALL


def _P(seed: int = 0) -> np.ndarray:
    P = np.random.default_rng(seed).random((S, A, S))
    return P / P.sum(axis=-1, keepdims=True)


def _R():
    return np.full((S, A), 0.5)


def _init():
    return np.full(S, 1.0 / S)


def _numpy_verdict(P) -> str | None:
    """The message of the numpy checks the pass replaces (None: accepted)."""
    try:
        check_distributions(as_float_array(P, "P", ndim=(3, 4)), "P")
    except ValueError as err:
        return str(err)
    return None


def _our_verdict(P) -> str | None:
    try:
        TabularMDP(P, _R(), _init(), gamma=0.9)
    except ValueError as err:
        return str(err)
    return None


def _edge_row(rng, target: float) -> np.ndarray:
    """A non-negative row of S entries whose float sum is within a few ulps of ``target``."""
    row = rng.random(S)
    return row * (target / row.sum())


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), s=st.integers(0, S - 1), a=st.integers(0, A - 1), s2=st.integers(0, S - 1),
       kind=st.sampled_from(["ok", "nan", "inf", "-inf", "negative", "tiny_negative", "sum_high", "sum_low",
                             "edge_in", "edge_out", "edge_exact"]))  # fmt: skip
def test_verdicts_and_messages_equal_the_numpy_checks(seed, s, a, s2, kind):
    rng = np.random.default_rng(seed)
    P = _P(seed)
    if kind in ("nan", "inf", "-inf"):
        P[s, a, s2] = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}[kind]
    elif kind in ("negative", "tiny_negative"):
        P[s, a, s2] = -0.25 if kind == "negative" else -1e-300
    elif kind in ("sum_high", "sum_low"):
        P[s, a] *= 1.0 + (1e-8 if kind == "sum_high" else -1e-8)
    elif kind.startswith("edge"):  # within round-off of 1 +- tol: the kernel must leave the verdict to numpy
        offset = {"edge_in": -1e-15, "edge_out": 1e-15, "edge_exact": 0.0}[kind]
        P[s, a] = _edge_row(rng, 1.0 + rng.choice([-1.0, 1.0]) * (PROB_TOL + offset))
    assert _our_verdict(P) == _numpy_verdict(P)


def test_messages_name_the_entry_and_keep_their_order():
    P = _P()
    P[3, 1] *= 0.97
    with pytest.raises(ValueError, match=r"P\[3, 1\] sums to 0.97"):
        TabularMDP(P, _R(), _init(), gamma=0.9)
    P = _P()
    P[2, 5, 7] = np.nan
    with pytest.raises(ValueError, match=r"P\[2, 5, 7\] is nan, expected a finite number"):
        TabularMDP(P, _R()[:, :3], _init(), gamma=0.9)  # P's non-finite entry first, as before
    P = _P()
    P[2, 5, 7] = -0.5
    with pytest.raises(ValueError, match=r"R has shape"):
        TabularMDP(P, _R()[:, :3], _init(), gamma=0.9)  # a bad row sum or sign after R's shape, as before
    with pytest.raises(ValueError, match=r"P\[2, 5, 7\] is -0.5, expected a probability >= 0"):
        TabularMDP(P, _R(), _init(), gamma=0.9)


def test_the_kernel_finds_the_first_bad_row_and_copies_exactly():
    P = _P(1)
    rows = P.reshape(-1, S)
    out = np.empty_like(rows)
    assert dense_scan(rows, out, PROB_TOL) == -1
    assert np.array_equal(out, rows)
    assert dense_scan(rows, np.empty((0, 0)), PROB_TOL) == -1
    for value, row in ((np.nan, 17), (-1e-300, 5), (np.inf, 200), (0.5, 99)):
        bad = rows.copy()
        bad[row, 3] = value if value != 0.5 else bad[row, 3] + 0.5
        bad[row + 1, 0] = np.nan  # only the first bad row is reported
        assert dense_scan(bad, np.empty((0, 0)), PROB_TOL) == row
    # a row summing to one up to round-off in any order is accepted; one off by the tolerance is not
    near = rows.copy()
    near[0] = _edge_row(np.random.default_rng(2), 1.0 + PROB_TOL / 2)
    assert dense_scan(near, np.empty((0, 0)), PROB_TOL) == -1
    near[0] = _edge_row(np.random.default_rng(2), 1.0 + 2 * PROB_TOL)
    assert dense_scan(near, np.empty((0, 0)), PROB_TOL) == 0


def test_copy_true_never_aliases_and_copy_false_takes_a_read_only_view():
    P = _P()
    mdp = TabularMDP(P, _R(), _init(), gamma=0.9)
    assert not np.shares_memory(mdp.P, P) and np.array_equal(mdp.P, P) and not mdp.P.flags.writeable
    R, init = _R(), _init()
    view = TabularMDP(P, R, init, gamma=0.9, copy=False)
    for mine, theirs in ((view.P, P), (view.R, R), (view.init, init)):
        assert np.shares_memory(mine, theirs) and not mine.flags.writeable
        assert theirs.flags.writeable  # the caller's array itself is left as it was
    with pytest.raises(ValueError):
        view.P[0, 0, 0] = 1.0
    # not float64 (a list) or not C-contiguous: copied, with copy=False too; the values are the same
    for other in (np.concatenate([P, P], axis=-1)[..., :S], np.asfortranarray(P), P.tolist()):
        mdp = TabularMDP(other, R, init, gamma=0.9, copy=False)
        assert not np.shares_memory(mdp.P, P) and mdp.P.flags.c_contiguous and not mdp.P.flags.writeable
        assert np.array_equal(mdp.P, np.asarray(other))
    with pytest.raises(ValueError, match="copy"):
        TabularMDP(P, R, init, gamma=0.9, copy="no")


def test_small_and_large_paths_store_the_same_arrays():
    # below SMALL entries numpy alone checks; a converted (int, list) argument is owned without a second copy
    small = np.zeros((2, 2, 2), dtype=np.int64)
    small[:, :, 0] = 1
    for P in (small, small.tolist(), small.astype(float)):
        stored, checked = owned_transitions(P, "P")
        assert not checked and stored.dtype == np.float64 and not stored.flags.writeable
        assert np.array_equal(stored, small)
    big = np.zeros((S, A, S), dtype=np.int64)
    big[..., 0] = 1
    for P in (big, big.astype(float)):
        stored, checked = owned_transitions(P, "P")
        assert checked and np.array_equal(stored, big) and not np.shares_memory(stored, P)

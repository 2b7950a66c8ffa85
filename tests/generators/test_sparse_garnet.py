"""The sparse Garnet (issue 15 item 3): supports of exactly `branching` distinct states, uniform over states and
on the simplex, seeded, chosen automatically above the densify limit; all three support samplers exercised."""

import numpy as np
import pytest
from scipy import stats

from theory_rl import planning
from theory_rl._sparse import DENSE_LIMIT
from theory_rl.generators import garnet


@pytest.mark.parametrize("S, b", [(400, 5), (40, 9), (12, 7), (6, 6), (5, 1)])  # rejection, Floyd, permutation
def test_sparse_garnet_supports_and_seeding(S, b):
    mdp = garnet(S, 3, b, seed=4, gamma=0.9, sparse=True)
    T = mdp.transitions
    assert mdp.is_sparse and T.shape == (S * 3, S) and np.all(np.diff(T.indptr) == b)
    rows = T.indices.reshape(-1, b)
    assert np.all(np.diff(rows, axis=1) > 0)  # distinct (sorted strictly)
    assert np.allclose(T.data.reshape(-1, b).sum(axis=1), 1.0, rtol=0, atol=1e-12)
    again, other = garnet(S, 3, b, seed=4, gamma=0.9, sparse=True), garnet(S, 3, b, seed=5, gamma=0.9, sparse=True)
    assert np.array_equal(again.transitions.data, T.data) and np.array_equal(again.R, mdp.R)
    assert b == S or not np.array_equal(other.transitions.indices, T.indices)
    assert garnet(S, 3, b, seed=4, horizon=3, sparse=True).is_episodic


def test_sparse_garnet_is_uniform_over_states_and_the_simplex():
    """Chi-square test of the next-state counts (uniform over S) and a KS test of one coordinate of the weights
    against Beta(1, b - 1), the marginal of the uniform law on the simplex. Fixed seed; each test at level 1e-4,
    so the false-failure probability is below 2e-4."""
    S, A, b = 50, 40, 4
    mdp = garnet(S, A, b, seed=0, gamma=0.9, sparse=True)  # b^2 <= S: rejection sampler
    counts = np.bincount(mdp.transitions.indices, minlength=S)
    assert stats.chisquare(counts).pvalue > 1e-4
    first = mdp.transitions.data.reshape(-1, b)[:, 0]
    assert stats.kstest(first, stats.beta(1, b - 1).cdf).pvalue > 1e-4
    floyd = garnet(30, 200, 8, seed=1, gamma=0.9, sparse=True)  # b^2 > S >= 4 b: Floyd
    assert stats.chisquare(np.bincount(floyd.transitions.indices, minlength=30)).pvalue > 1e-4


def test_storage_is_chosen_by_size():
    assert not garnet(20, 2, 3, seed=0).is_sparse  # small: the dense draw, as before
    S = int(np.sqrt(DENSE_LIMIT / 2)) + 1  # S * 2 * S just above 2^25
    big = garnet(S, 2, 3, seed=0, gamma=0.9)
    assert big.is_sparse and big.transitions.nnz == S * 2 * 3
    assert planning.solve(big).error_bound < 1e-8  # planned without densifying (its dense P is refused)
    with pytest.raises(ValueError, match="mdp.transitions"):
        _ = big.P
    with pytest.raises(ValueError, match="sparse"):
        garnet(20, 2, 3, seed=0, sparse="yes")

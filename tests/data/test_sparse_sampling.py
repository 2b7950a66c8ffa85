"""The samplers on sparse MDPs (issue 15 item 3): the support tables come from ``mdp.transitions``, so a sparse
MDP and its dense form give the same samples for the same seeds, and a sparse MDP too large to densify samples
without ever building ``P``."""

import numpy as np
import pytest
import scipy.sparse as sp

from theory_rl.data import sample_iid, sample_trajectories, sample_transitions
from theory_rl.mdp import TabularMDP


def _pair(seed, S=7, A=3, **kind):
    """A random MDP with about half its transitions zero, dense and sparse."""
    rng = np.random.default_rng(seed)
    P = rng.random((S, A, S)) * (rng.random((S, A, S)) < 0.5)
    P[..., 0] += 1e-3  # every row has support
    P /= P.sum(-1, keepdims=True)
    R, init = rng.random((S, A)), np.full(S, 1.0 / S)
    dense = TabularMDP(P, R, init, **kind)
    return dense, TabularMDP(sp.csr_array(P.reshape(S * A, S)), R, init, **kind)


@pytest.mark.parametrize("kind", [{"gamma": 0.9}, {"horizon": 4}])
@pytest.mark.parametrize("seed", [0, 1])
def test_sparse_and_dense_forms_give_the_same_samples(kind, seed):
    dense, sparse = _pair(seed, **kind)
    assert sparse.is_sparse and not dense.is_sparse
    policy = np.random.default_rng(seed).dirichlet(np.ones(dense.A), size=dense.S)  # stochastic: joint draws
    steps = {"n_steps": 6} if "gamma" in kind else {}
    a = sample_trajectories(dense, policy, 20, seed, **steps)
    b = sample_trajectories(sparse, policy, 20, seed, **steps)
    for name in ("state", "action", "reward", "next_state", "behaviour_prob"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    mu = np.full((dense.S, dense.A), 1.0 / (dense.S * dense.A))
    if "horizon" in kind:
        mu = np.broadcast_to(mu, (4,) + mu.shape)
    np.testing.assert_array_equal(sample_iid(dense, mu, 50, seed).next_state,
                                  sample_iid(sparse, mu, 50, seed).next_state)  # fmt: skip
    if "gamma" in kind:
        pairs = np.arange(dense.S) % dense.S, np.arange(dense.S) % dense.A
        got = sample_transitions(dense, *pairs, seed), sample_transitions(sparse, *pairs, seed)
        for x, y in zip(*got, strict=True):
            np.testing.assert_array_equal(x, y)


def test_a_sparse_mdp_too_large_to_densify_samples_without_P():
    # S = 6,000, A = 1: the dense P would have 3.6e7 entries, above the densifying limit, so any use of mdp.P
    # inside the sampler would raise; each state moves one step right with probability 1/2 (a ring).
    S = 6000
    rows = np.repeat(np.arange(S), 2)
    cols = np.stack([np.arange(S), (np.arange(S) + 1) % S], axis=1).ravel()
    P = sp.csr_array((np.full(2 * S, 0.5), (rows, cols)), shape=(S, S))
    init = np.zeros(S)
    init[0] = 1.0
    mdp = TabularMDP(P, np.zeros((S, 1)), init, gamma=0.99)
    with pytest.raises(ValueError, match="transitions"):
        _ = mdp.P
    data = sample_trajectories(mdp, np.zeros(S, int), 200, 0, n_steps=50)
    moves = data.next_state - data.state
    assert set(np.unique(moves)) <= {0, 1}
    # each step moves with probability 1/2: 10,000 Bernoulli(1/2) draws; |mean - 1/2| > 0.03 has probability
    # below 1e-9 (Hoeffding), so this fails only if the sampler does not follow P.
    assert abs(moves.mean() - 0.5) < 0.03

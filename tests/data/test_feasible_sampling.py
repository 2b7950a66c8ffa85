"""Samplers and behaviour policies on an MDP with infeasible actions (issue 15, item 5): an infeasible pair is never
drawn, a policy or distribution with mass on one is refused naming the (state, action), and the behaviour designs
(controlled coverage: its i.i.d. distribution and its epsilon-mixture) put mass on feasible pairs only."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from theory_rl.coverage import concentrability
from theory_rl.data import (
    RolloutSampler,
    controlled_coverage,
    sample_generative,
    sample_iid,
    sample_iid_counts,
    sample_policy_counts,
    sample_rollouts,
    sample_trajectories,
)
from theory_rl.data.sampling import sample_transitions
from theory_rl.feasibility import feasible_uniform
from theory_rl.mdp import TabularMDP

MASK = np.array([[True, False, True], [False, True, False], [True, True, False], [True, True, True]])
S, A = MASK.shape
PAIR = r"\(state, action\) = \(1, 0\)"


def _mdp(episodic: bool, sparse: bool = False) -> TabularMDP:
    rng = np.random.default_rng(7)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.random((S, A))
    kind = {"horizon": 3} if episodic else {"gamma": 0.8}
    if sparse:
        rows = P.reshape(-1, S).copy()
        rows[~MASK.reshape(-1)] = 0.0
        return TabularMDP(sp.csr_array(rows), R, np.full(S, 1.0 / S), feasible=MASK, **kind)
    return TabularMDP(P, R, np.full(S, 1.0 / S), feasible=MASK, **kind)


def _bad_actions():
    actions = np.argmax(MASK, axis=1)
    actions[1] = 0  # infeasible in state 1
    return actions


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("episodic", [False, True])
def test_rollouts_of_the_feasible_uniform_policy_never_take_an_infeasible_action(episodic, sparse):
    mdp = _mdp(episodic, sparse)
    steps = None if episodic else 5
    ro = sample_rollouts(mdp, feasible_uniform(mdp), 400, seed=3, n_steps=steps)
    assert MASK[ro.states[:, :-1], ro.actions].all()
    # and every feasible pair of a visited state is taken (the mask, not the sampler, removed the rest):
    # 400 episodes, P(a pair of a visited state never drawn) < 1e-12
    taken = np.zeros((S, A), bool)
    taken[ro.states[:, :-1], ro.actions] = True
    visited = np.unique(ro.states[:, :-1])
    np.testing.assert_array_equal(taken[visited], MASK[visited])
    data = sample_trajectories(mdp, feasible_uniform(mdp), 50, seed=4, n_steps=steps)
    assert np.all(np.asarray(data.counts)[..., ~MASK] == 0)


@pytest.mark.parametrize("episodic", [False, True])
def test_samplers_refuse_infeasible_policies_and_pairs(episodic):
    mdp = _mdp(episodic)
    steps = None if episodic else 5
    bad = _bad_actions()
    probs = feasible_uniform(mdp)
    probs[1] = [1.0, 0.0, 0.0]
    for policy in (bad, probs):
        with pytest.raises(ValueError, match=PAIR):
            sample_rollouts(mdp, policy, 3, seed=0, n_steps=steps)
        with pytest.raises(ValueError, match=PAIR):
            sample_trajectories(mdp, policy, 3, seed=0, n_steps=steps)
        with pytest.raises(ValueError, match=PAIR):
            RolloutSampler(mdp, n_steps=steps).episode(policy, np.random.default_rng(0))
    with pytest.raises(ValueError, match=PAIR):
        sample_transitions(mdp, [0, 1], [0, 0], seed=0)
    mu = np.zeros((S, A))
    mu[1, 0] = 1.0
    with pytest.raises(ValueError, match=PAIR):
        sample_iid(mdp, mu, 5, seed=0)
    with pytest.raises(ValueError, match=PAIR):
        sample_iid_counts(mdp, mu, 5, seed=0)
    if episodic:
        with pytest.raises(ValueError, match=PAIR):
            sample_policy_counts(mdp, bad, 5, seed=0)
        stack = np.stack([np.tile(np.argmax(MASK, axis=1), (3, 1)), np.tile(bad, (3, 1))])
        with pytest.raises(ValueError, match=PAIR):
            sample_policy_counts(mdp, stack, 5, seed=0, weights=[0.5, 0.5])


@pytest.mark.parametrize("episodic", [False, True])
def test_the_generative_model_samples_feasible_pairs_only(episodic):
    mdp = _mdp(episodic)
    data = sample_generative(mdp, 7, seed=1)
    N = np.asarray(data.counts)
    assert np.all(N[..., MASK] == 7) and np.all(N[..., ~MASK] == 0)
    assert np.all(np.asarray(data.transition_counts)[..., ~MASK, :] == 0)
    per_pair = np.ones(N.shape, dtype=np.int64)
    with pytest.raises(ValueError, match=r"n_per_pair puts mass 1 on \(state, action\) = \(0, 1\)"):
        sample_generative(mdp, per_pair, seed=1)
    per_pair[..., ~MASK] = 0
    assert np.asarray(sample_generative(mdp, per_pair, seed=1).counts).sum() == per_pair.sum()


@pytest.mark.parametrize("episodic", [False, True])
def test_controlled_coverage_stays_on_feasible_pairs(episodic):
    mdp = _mdp(episodic)
    cov = controlled_coverage(mdp, 3.0)
    mu = cov.mu.reshape(-1, S, A)
    assert np.all(mu[:, ~MASK] == 0) and np.all(mu[:, MASK] > 0)
    assert cov.c_star == pytest.approx(3.0, rel=1e-9)
    b = cov.behaviour_policy.reshape(-1, S, A)
    assert np.all(b[:, ~MASK] == 0)
    assert concentrability(mdp, cov.target_policy, cov.mu) == pytest.approx(3.0, rel=1e-9)
    sample_iid(mdp, cov.mu, 20, seed=2)  # the sampler accepts it
    # the uniform end of the mixture is uniform over each state's feasible actions
    full = controlled_coverage(mdp, 1e6)
    if full.epsilon == 1.0:
        np.testing.assert_allclose(full.behaviour_policy.reshape(-1, S, A)[0], MASK / MASK.sum(1, keepdims=True))

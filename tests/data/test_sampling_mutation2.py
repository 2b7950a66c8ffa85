"""Kill tests of the ``data-sampling`` mutants left by the complete run of the third session of 2026-11-26 (issue 14;
``python -m benchmarks.mutation --module data-sampling``): the seed record of a single i.i.d. batch, the policy
copy behind a trajectory batch's lazy coverage, and sampling from a model whose support tables are large enough
(4 MiB) to be copied into numpy's own memory (``tables._numpy_owned``, issue 15).

Only public functions are called; the statistical test states its false-failure probability.
"""

from __future__ import annotations

import numpy as np
import pytest

from theory_rl import data
from theory_rl.mdp import TabularMDP

S, A = 3, 2


def _to_s1(**kind) -> TabularMDP:
    """Every move leads to s1; deterministic rewards in [-1, 2] (the scaled model of test_sampling_mutation)."""
    P = np.zeros((S, A, S))
    P[..., 1] = 1.0
    reward = np.array([[0.0, 1.0], [0.5, 0.25], [1.0, 0.0]])
    return TabularMDP(P, 3 * reward - 1, np.array([1.0, 0.0, 0.0]), reward_noise="deterministic",
                      reward_range=(-1, 2), **kind)


def test_a_single_iid_batch_records_its_seed():
    mdp = _to_s1(gamma=0.75)
    one = data.sample_iid_batch(mdp, np.full((S, A), 1 / 6), 4, 5, None)
    assert dict(one.meta) == {"generator": "sample_iid", "mdp": repr(mdp), "n": 4, "reward_range": [-1.0, 2.0],
                              "seed": {"entropy": "5", "spawn_key": []}}
    assert one.meta["coverage"] == {"C_star": 4.5}  # max d* / mu with mu = 1/6: d* peaks at 3/4


def test_a_trajectory_batch_keeps_its_own_copy_of_the_policy():
    """The coverage record is computed lazily, on the first read of ``meta["coverage"]``: a caller who reuses the
    policy array in between must not change the record of the data already sampled."""
    mdp = _to_s1(gamma=0.75)
    policy = np.array([1, 0, 0])  # takes a1 in s0, as pi* does
    reference = data.sample_trajectories_batch(mdp, policy.copy(), 2, 5, None, n_steps=3).meta["coverage"]
    assert reference == {"C_star": 1.125}
    changed = data.sample_trajectories_batch(mdp, np.zeros(S, int), 2, 5, None, n_steps=3).meta["coverage"]
    assert changed == {"C_star": "inf"}  # never a1 in s0: the edit below would show in the record
    for n_trials in (None, 2):
        out = data.sample_trajectories_batch(mdp, policy, 2, 5, n_trials, n_steps=3)
        policy[:] = 0  # reused by the caller before the record is read
        for d in out if n_trials else [out]:
            assert d.meta["coverage"] == reference
        policy[:] = [1, 0, 0]


def test_sampling_from_a_model_with_4_mib_tables():
    """S = 128, A = 32 and full support: the transition table holds 524288 entries, its thresholds exactly 4 MiB,
    the size from which the tables are copied into numpy's memory. Each pair (s, a) moves to (s + a) mod S with
    probability 1 - 127e-12 (every other state 1e-12): a draw elsewhere has probability 1.27e-10, so over the 4096
    draws below the test fails falsely with probability below 6e-7."""
    S_big, A_big, eps = 128, 32, 1e-12
    P = np.full((S_big, A_big, S_big), eps)
    s, a = np.meshgrid(np.arange(S_big), np.arange(A_big), indexing="ij")
    P[s, a, (s + a) % S_big] = 1.0 - (S_big - 1) * eps
    R = (s + a) % 3 / 2.0
    mdp = TabularMDP(P, R, np.full(S_big, 1 / S_big), gamma=0.5, reward_noise="deterministic")
    states, actions = s.reshape(-1), a.reshape(-1)
    nxt, rew = data.sample_transitions(mdp, states, actions, 3)
    np.testing.assert_array_equal(nxt, (states + actions) % S_big)
    np.testing.assert_array_equal(rew, R.reshape(-1))


def _raises(message, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` raises a ValueError whose message is exactly ``message``."""
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    assert str(info.value) == message


def test_every_sampler_refuses_bernoulli_rewards_outside_the_unit_range():
    """A Bernoulli reward lies in {0, 1}: a model whose rewards range over [-1, 2] cannot draw them, whichever
    sampler is asked (each reaches the model's tables, where the check is made)."""
    P = np.zeros((S, A, S))
    P[..., 1] = 1.0
    mdp = TabularMDP(P, np.full((S, A), 0.5), np.array([1.0, 0.0, 0.0]), gamma=0.5, reward_noise="bernoulli",
                     reward_range=(-1, 2))
    message = ("mdp has Bernoulli rewards (values in {0, 1}) but reward_range (-1.0, 2.0): Bernoulli draws need "
               "rewards in [0, 1]. Give reward_noise='gaussian' or 'deterministic', or sample "
               "theory_rl.scales.unit_rewards(mdp) and map the rewards back with its RewardMap")
    policy = np.zeros(S, int)
    _raises(message, data.sample_transitions, mdp, [0], [0], 1)
    _raises(message, data.sample_iid, mdp, np.full((S, A), 1 / 6), 3, seed=1)
    _raises(message, data.sample_iid_batch, mdp, np.full((S, A), 1 / 6), 3, 1, 2)
    _raises(message, data.sample_trajectories, mdp, policy, 2, seed=1, n_steps=2)
    _raises(message, data.sample_trajectories_batch, mdp, policy, 2, 1, 2, n_steps=2)
    _raises(message, data.RolloutSampler, mdp, n_steps=2)


def test_rollout_sampler_names_the_policy_forms_of_a_discounted_model():
    """Actions of a discounted model's policy have one form, (S,): the message says so (a finite-horizon model also
    takes (H, S))."""
    mdp = _to_s1(gamma=0.5)
    sampler = data.RolloutSampler(mdp, n_steps=3)
    _raises("policy has shape (2,), expected (S,) actions with S = 3, H = None", sampler.sample, np.array([0, 1]), 1, 0)
    _raises("policy has shape (2, 3), expected (S,) actions with S = 3, H = None", sampler.episode,
            np.zeros((2, S), int), np.random.default_rng(0))
    episodic = data.RolloutSampler(_to_s1(horizon=2))
    _raises("policy has shape (2,), expected (S,) or (H, S) actions with S = 3, H = 2", episodic.sample,
            np.array([0, 1]), 1, 0)


@pytest.mark.parametrize("episodic", [False, True])
def test_an_infeasible_action_is_refused_by_the_policy_name(episodic):
    """Deterministic policies given as actions take the samplers' fast path (no probabilities built); an infeasible
    action there is named as the policy's, as in the other paths."""
    mask = np.array([[True, True], [True, False], [True, True]])
    P = np.zeros((S, A, S))
    P[..., 1] = 1.0
    kind = {"horizon": 2} if episodic else {"gamma": 0.5}
    mdp = TabularMDP(P, np.full((S, A), 0.5), np.full(S, 1 / S), feasible=mask, **kind)
    bad = np.array([0, 1, 0])  # action 1 in state 1
    message = "policy: (state, action) = (1, 1) is infeasible (mdp.feasible is False there)"
    sampler = data.RolloutSampler(mdp, n_steps=None if episodic else 3)
    _raises(message, sampler.sample, bad, 2, 0)
    _raises(message, sampler.episode, bad, np.random.default_rng(0))
    if episodic:
        _raises(message, data.sample_policy_counts, mdp, bad, 4, seed=0)
        _raises(message.replace("policy", "policy[1]", 1), data.sample_policy_counts, mdp, [np.zeros(S, int), bad],
                4, seed=0, weights=[0.5, 0.5])

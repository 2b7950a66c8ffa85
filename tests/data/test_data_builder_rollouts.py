"""The counts builder, the one rollout sampler, the reward-noise function and the lazy coverage manifest."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.stats

from tests.strategies_sim import build_mdp, random_policy
from theory_rl import data
from theory_rl.data.files import Manifest
from theory_rl.linear import LinearMDP
from theory_rl.planning import occupancy
from theory_rl.policies import policy_matrix


@pytest.mark.parametrize("horizon", [None, 4])
def test_builder_equals_counts_from_scratch(horizon):
    rng = np.random.default_rng(3)
    S, A, n, T = 5, 3, 40, 4
    states = rng.integers(0, S, size=(n, T + 1))
    actions = rng.integers(0, A, size=(n, T))
    rewards = rng.random((n, T))
    one, many, pairs = (data.CountsBuilder(S, A, horizon=horizon) for _ in range(3))
    for i in range(n):
        one.add_episode(states[i], actions[i], rewards[i])
    many.add_episode(states, actions, rewards)
    for i in range(n):
        for h in range(T):
            pairs.add_transition(h if horizon else None, states[i, h], actions[i, h], rewards[i, h],
                                 states[i, h + 1])  # fmt: skip
    shape = (S, A) if horizon is None else (horizon, S, A)
    N, C, R = np.zeros(shape, int), np.zeros(shape + (S,), int), np.zeros(shape)
    for i in range(n):
        for h in range(T):
            idx = (states[i, h], actions[i, h]) if horizon is None else (h, states[i, h], actions[i, h])
            N[idx] += 1
            C[idx + (states[i, h + 1],)] += 1
            R[idx] += rewards[i, h]
    for b in (one, many, pairs):
        c = b.to_counts()
        np.testing.assert_array_equal(c.counts, N)
        np.testing.assert_array_equal(c.transition_counts, C)
        np.testing.assert_allclose(c.reward_sums, R, rtol=1e-12)
        assert c.n == n * T
    np.testing.assert_array_equal(one.init_counts, np.bincount(states[:, 0], minlength=S))
    np.testing.assert_array_equal(many.init_counts, one.init_counts)
    assert pairs.init_counts.sum() == 0


def test_builder_matches_offline_dataset_counts():
    mdp = build_mdp(1, S=4, A=2, horizon=3, stage_dependent=True)
    ds = data.sample_trajectories(mdp, random_policy(mdp, 2, deterministic=False), 200, seed=5)
    b = data.CountsBuilder(4, 2, horizon=3)
    b.add_batch(ds.state, ds.action, ds.reward, ds.next_state, ds.step)
    ref = ds.to_counts()
    np.testing.assert_array_equal(b.to_counts().counts, ref.counts)
    np.testing.assert_array_equal(b.to_counts().transition_counts, ref.transition_counts)
    np.testing.assert_allclose(b.to_counts().reward_sums, ref.reward_sums)


def test_builder_rejects_bad_input():
    b = data.CountsBuilder(3, 2, horizon=2)
    with pytest.raises(ValueError, match="s is 3"):
        b.add_transition(0, 3, 0, 1.0, 0)
    with pytest.raises(ValueError, match="h is 2"):
        b.add_transition(2, 0, 0, 1.0, 0)
    with pytest.raises(ValueError, match="r is nan"):
        b.add_transition(0, 0, 0, np.nan, 0)
    with pytest.raises(ValueError, match="actions"):
        b.add_episode([0, 1, 2], [0, 5], [0.0, 1.0])
    with pytest.raises(ValueError, match="rewards"):
        b.add_episode([0, 1, 2], [0, 1], [0.0])
    with pytest.raises(ValueError, match="horizon"):
        b.add_episode([0, 1, 2, 0], [0, 1, 1], [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="steps"):
        b.add_batch([0], [0], [1.0], [1])
    with pytest.raises(ValueError, match="S is 0"):
        data.CountsBuilder(0, 2)


@pytest.mark.parametrize("deterministic", [True, False])
def test_rollout_frequencies_match_exact_occupancy(deterministic):
    mdp = build_mdp(7, S=4, A=3, horizon=3, stage_dependent=True)
    policy = random_policy(mdp, 8, deterministic=deterministic, stage_dependent=True)
    n = 20_000
    states, actions, rewards = data.sample_rollouts(mdp, policy, n, seed=11)
    assert states.shape == (n, 4) and actions.shape == (n, 3) and rewards.shape == (n, 3)
    d = occupancy(mdp, policy)
    for h in range(3):
        observed = np.bincount(states[:, h] * mdp.A + actions[:, h], minlength=mdp.S * mdp.A)
        p = d[h].ravel()
        assert observed[p == 0].sum() == 0
        if (p > 0).sum() > 1:
            # 6 tests at level 1e-6 each (fixed seed): false-failure probability <= 6e-6 under a correct sampler.
            assert scipy.stats.chisquare(observed[p > 0], n * p[p > 0]).pvalue > 1e-6


def test_rollouts_equal_the_trajectory_dataset_and_are_reproducible():
    mdp = build_mdp(2, S=5, A=2, horizon=4)
    pol = random_policy(mdp, 3, deterministic=False)
    r1 = data.sample_rollouts(mdp, pol, 30, seed=9)
    r2 = data.sample_rollouts(mdp, pol, 30, seed=np.random.SeedSequence(9))
    ds = data.sample_trajectories(mdp, pol, 30, seed=9)
    for x, y in zip(r1, r2, strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(r1.states[:, :-1].ravel(), ds.state)
    np.testing.assert_array_equal(r1.states[:, 1:].ravel(), ds.next_state)
    np.testing.assert_array_equal(r1.actions.ravel(), ds.action)
    np.testing.assert_array_equal(r1.rewards.ravel(), ds.reward)
    sampler = data.RolloutSampler(mdp)
    a = [sampler.episode(pol, np.random.default_rng(4)) for _ in range(2)]
    for x, y in zip(a[0], a[1], strict=True):
        np.testing.assert_array_equal(x, y)
    rng = np.random.default_rng(4)
    e1, e2 = sampler.episode(pol, rng), sampler.episode(pol, rng)
    assert e1.states.shape == (5,) and e1.actions.shape == (4,)
    assert not all(np.array_equal(x, y) for x, y in zip(e1, e2, strict=True))


def test_rollouts_mixture_init_discounted_and_linear():
    mdp = build_mdp(4, S=4, A=2, horizon=3, noise="deterministic")
    pols = np.stack([np.zeros((3, 4), int), np.ones((3, 4), int)])
    n = 20_000
    _, actions, _ = data.sample_rollouts(mdp, pols, n, seed=1, weights=[0.3, 0.7])
    assert np.all(actions == actions[:, :1])  # each episode follows one policy throughout
    # Binomial(20000, 0.3): 6 standard deviations is a false-failure probability below 2e-9.
    assert abs(actions[:, 0].mean() - 0.7) < 6 * np.sqrt(0.21 / n)
    disc = build_mdp(5, S=4, A=2, gamma=0.9)
    init = np.array([0.0, 0.0, 1.0, 0.0])
    s, a, r = data.sample_rollouts(disc, np.full((4, 2), 0.5), 50, seed=2, n_steps=6, init=init)
    assert s.shape == (50, 7) and np.all(s[:, 0] == 2)
    lin = LinearMDP.from_tabular(mdp)
    s1, a1, r1 = data.sample_rollouts(lin, pols[0], 40, seed=3)
    s2, a2, r2 = data.sample_rollouts(mdp, pols[0], 40, seed=3)
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_allclose(r1, r2)
    np.testing.assert_array_equal(r2, mdp.stage_R[np.arange(3), s2[:, :-1], a2])


def test_rollouts_reject_bad_input():
    mdp = build_mdp(4, S=4, A=2, horizon=3)
    with pytest.raises(ValueError, match="n_episodes"):
        data.sample_rollouts(mdp, np.zeros(4, int), -1, seed=0)
    with pytest.raises(ValueError, match="policy"):
        data.sample_rollouts(mdp, np.full(4, 2), 3, seed=0)
    with pytest.raises(ValueError, match="policy"):
        data.RolloutSampler(mdp).episode(np.zeros((2, 4), int), np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        data.RolloutSampler(mdp).episode(np.zeros(4, int), 3)
    with pytest.raises(ValueError, match="init"):
        data.RolloutSampler(mdp, init=[0.5, 0.5, 0.5, 0.0])
    with pytest.raises(ValueError, match="n_steps"):
        data.RolloutSampler(build_mdp(4, S=4, A=2, gamma=0.5))
    with pytest.raises(ValueError, match="weights"):
        data.sample_rollouts(mdp, [np.zeros(4, int)] * 2, 3, seed=0, weights=[0.5, 0.6])
    with pytest.raises(ValueError, match="mdp"):
        data.sample_rollouts("mdp", np.zeros(4, int), 3, seed=0)
    with pytest.raises(ValueError, match="n_episodes"):
        data.sample_rollouts(mdp, np.zeros(4, int), 10**15, seed=0)


@pytest.mark.parametrize("noise", ["bernoulli", "gaussian", "deterministic"])
def test_sample_rewards_single_and_sums(noise):
    R = np.array([[0.2, 0.9], [0.5, 0.0]])
    n = np.array([[4000, 1], [0, 30000]])
    rng = np.random.default_rng(0)
    single = data.sample_rewards(rng, np.broadcast_to(R, (20000, 2, 2)), noise, 0.3)
    sums = data.sample_rewards(rng, R, noise, 0.3, n=n)
    assert isinstance(data.sample_rewards(rng, 0.5, noise, 0.3), float)
    # 8 standard errors (sd <= 0.5 per reward): false-failure probability below 1e-14 per entry.
    np.testing.assert_allclose(single.mean(axis=0), R, atol=8 * 0.5 / np.sqrt(20000))
    assert np.all(np.abs(sums - n * R) <= 8 * 0.5 * np.sqrt(np.maximum(n, 1)))
    if noise == "bernoulli":
        assert set(np.unique(single)) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="noise"):
        data.sample_rewards(rng, R, "poisson")
    with pytest.raises(ValueError, match="n"):
        data.sample_rewards(rng, R, noise, n=-n)
    with pytest.raises(ValueError, match="mean"):
        data.sample_rewards(rng, np.array([np.nan]), noise)


def test_sample_rewards_keeps_the_old_streams():
    R = np.array([0.3, 0.6, 0.1])
    a = data.sample_rewards(np.random.default_rng(5), R, "gaussian", 0.2)
    b = R + 0.2 * np.random.default_rng(5).standard_normal(3)
    np.testing.assert_array_equal(a, b)
    n = np.array([3, 0, 7])
    np.testing.assert_array_equal(data.sample_rewards(np.random.default_rng(6), R, "bernoulli", n=n),
                                  np.random.default_rng(6).binomial(n, R).astype(float))  # fmt: skip


def test_coverage_record_is_lazy_and_saved(tmp_path):
    mdp = build_mdp(3, S=3, A=2, horizon=2)
    ds = data.sample_iid(mdp, np.full((3, 2), 1 / 6), 10, seed=0)
    assert isinstance(ds.meta, Manifest) and "coverage" not in dict(ds.meta)
    assert "coverage" in ds.meta
    sub = ds.subset(np.arange(3))
    assert float(ds.meta["coverage"]["C_star"]) >= 1
    assert "coverage" in dict(ds.meta)  # computed once, then kept
    assert sub.meta["coverage"] == ds.meta["coverage"]
    again = pickle.loads(pickle.dumps(ds))
    assert again.meta["coverage"] == ds.meta["coverage"]
    traj = data.sample_trajectories(mdp, np.zeros(3, int), 5, seed=1)
    traj.save(tmp_path / "t")
    assert data.load(tmp_path / "t").meta["coverage"]["C_star"] == traj.meta["coverage"]["C_star"]


def test_policy_probabilities_recorded_by_the_transition_kernel():
    mdp = build_mdp(6, S=4, A=3, horizon=3)
    pol = random_policy(mdp, 1, deterministic=False)
    ds = data.sample_trajectories(mdp, pol, 50, seed=2)
    np.testing.assert_array_equal(ds.behaviour_prob, policy_matrix(mdp, pol)[ds.step, ds.state, ds.action])
    np.testing.assert_array_equal(ds.step, np.tile(np.arange(3), 50))
    np.testing.assert_array_equal(ds.episode, np.repeat(np.arange(50), 3))


def test_direct_policy_counts_match_the_occupancy_on_a_tabular_model():
    """sample_policy_counts on a finite-horizon TabularMDP: E[N_h(s, a)] = n d_h(s, a) (exact occupancy); each
    count is Binomial(n, d_h), so 6 sigma + 1 fails with probability < 1e-8 per entry."""
    from theory_rl.generators import garnet

    mdp = garnet(S=5, A=3, branching=2, horizon=4, seed=2)
    pi = np.random.default_rng(1).dirichlet(np.ones(3), size=(4, 5))
    n = 50_000
    c = data.sample_policy_counts(mdp, pi, n, 3)
    d = occupancy(mdp, pi)
    assert c.horizon == 4 and c.n == n * 4
    sigma = np.sqrt(n * d * (1 - d)) + 1
    assert (np.abs(c.counts - n * d) <= 6 * sigma).all()
    # Per-pair generative counts on a tabular model: exactly the counts asked for.
    want = np.random.default_rng(0).integers(0, 9, size=(4, 5, 3))
    g = data.sample_generative(mdp, want, 0)
    np.testing.assert_array_equal(g.counts, want)
    np.testing.assert_array_equal(g.transition_counts.sum(axis=-1), want)


def test_add_rollouts_equals_add_episode_and_refuses_foreign_rollouts():
    mdp = build_mdp(seed=4, S=5, A=3, horizon=4)
    sampler = data.RolloutSampler(mdp)
    batch = sampler.sample(np.zeros((4, 5), int), 30, seed=2)
    one = sampler.episode(np.ones((4, 5), int), np.random.default_rng(0))
    fast, slow = data.CountsBuilder(5, 3, horizon=4), data.CountsBuilder(5, 3, horizon=4)
    for b in (batch, one):
        fast.add_rollouts(b)
        slow.add_episode(*b)
    for name in ("counts", "transition_counts", "reward_sums", "init_counts"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name))
    assert fast.n == 31 * 4
    with pytest.raises(ValueError, match="rollouts"):
        fast.add_rollouts((batch.states, batch.actions, batch.rewards))  # a plain tuple: not the sampler's record
    big = data.RolloutSampler(build_mdp(seed=4, S=7, A=3, horizon=4)).sample(np.zeros((4, 7), int), 50, seed=1)
    with pytest.raises(ValueError, match="outside this builder's S = 5"):
        fast.add_rollouts(big)

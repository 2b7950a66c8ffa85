"""Offline datasets: samplers, counts, empirical models, folds, concatenation, I/O, export, controlled coverage."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import tabular_mdps
from tests.strategies_sim import build_mdp, random_distributions, random_policy
from theory_rl import data
from theory_rl.coverage import concentrability
from theory_rl.data import CountDataset, OfflineDataset
from theory_rl.generators import random_bandit, random_contextual_bandit
from theory_rl.mdp import TabularMDP
from theory_rl.planning import occupancy, solve


@pytest.fixture(scope="module")
def finite():
    return build_mdp(21, S=4, A=3, horizon=3, stage_dependent=True)


@pytest.fixture(scope="module")
def discounted():
    return build_mdp(22, S=4, A=2, gamma=0.8)


def test_iid_pairs_follow_mu_and_record_behaviour_probability(discounted):
    mu = random_distributions(np.random.default_rng(1), (8,)).reshape(4, 2)
    n = 30_000
    ds = data.sample_iid(discounted, mu, n, seed=4)
    assert len(ds) == n and ds.counts.sum() == n
    np.testing.assert_array_equal(ds.behaviour_prob, mu[ds.state, ds.action])
    obs = ds.counts.reshape(-1)
    assert obs[mu.reshape(-1) == 0].sum() == 0
    keep = mu.reshape(-1) > 0
    # One chi-square test at level 1e-6: false-failure probability 1e-6.
    assert scipy.stats.chisquare(obs[keep], n * mu.reshape(-1)[keep]).pvalue > 1e-6
    np.testing.assert_array_equal(ds.episode, np.arange(n))
    expected = concentrability(discounted, solve(discounted).policy, mu, allow_infinite=True)
    assert float(ds.meta["coverage"]["C_star"]) == pytest.approx(expected)


def test_iid_finite_horizon_draws_n_per_step(finite):
    mu = random_distributions(np.random.default_rng(2), (3, 12)).reshape(3, 4, 3)
    ds = data.sample_iid(finite, mu, 50, seed=0)
    assert ds.counts.shape == (3, 4, 3)
    np.testing.assert_array_equal(ds.counts.sum(axis=(1, 2)), [50, 50, 50])
    assert np.all(mu[ds.step, ds.state, ds.action] > 0)
    assert len(data.sample_iid(finite, mu[0], 0, seed=0)) == 0


def test_generative_counts(finite, discounted):
    g = data.sample_generative(finite, 25, seed=1)
    assert g.counts.shape == (3, 4, 3) and np.all(g.counts == 25)
    np.testing.assert_array_equal(g.transition_counts.sum(axis=-1), g.counts)
    assert np.all(g.transition_counts[finite.stage_P == 0] == 0)
    assert np.all((g.reward_sums >= 0) & (g.reward_sums <= 25)) and np.all(g.reward_sums == np.round(g.reward_sums))
    det = discounted.replace(reward_noise="deterministic")
    gd = data.sample_generative(det, 7, seed=2)
    np.testing.assert_allclose(gd.reward_sums, 7 * det.R)
    assert data.sample_generative(discounted, 0, seed=0).n == 0


def test_generative_transition_frequencies_chi_square(discounted):
    n = 50_000
    g = data.sample_generative(discounted, n, seed=3)
    for s in range(discounted.S):
        for a in range(discounted.A):
            p = discounted.P[s, a]
            if (p > 0).sum() > 1:
                # 8 tests at level 1e-6: false-failure probability <= 8e-6.
                assert scipy.stats.chisquare(g.transition_counts[s, a][p > 0], n * p[p > 0]).pvalue > 1e-6


def test_iid_counts_match_the_sample_law(finite):
    mu = np.full((4, 3), 1 / 12)
    c = data.sample_iid_counts(finite, mu, 40, seed=5)
    np.testing.assert_array_equal(c.counts.sum(axis=(1, 2)), [40] * 3)
    np.testing.assert_array_equal(c.transition_counts.sum(axis=-1), c.counts)


def test_empirical_model_conventions():
    mdp = build_mdp(9, S=3, A=2, gamma=0.9, noise="deterministic")
    ds = data.sample_iid(mdp, np.array([[0.5, 0.0], [0.5, 0.0], [0.0, 0.0]]), 200, seed=0)
    uni = ds.empirical_model()
    loop = ds.empirical_model(unseen="self_loop", unseen_reward=0.25)
    seen = ds.counts > 0
    np.testing.assert_array_equal(uni.seen, seen)
    np.testing.assert_allclose(uni.P[seen], ds.transition_counts[seen] / ds.counts[seen][:, None])
    np.testing.assert_allclose(uni.R[seen], mdp.R[seen])
    np.testing.assert_allclose(uni.P[~seen], 1 / 3)
    assert np.all(uni.R[~seen] == 0) and np.all(loop.R[~seen] == 0.25)
    for s, a in np.argwhere(~seen):
        np.testing.assert_array_equal(loop.P[s, a], np.eye(3)[s])
    emdp = ds.empirical_mdp(mdp.init)
    assert emdp.gamma == 0.9 and emdp.S == 3
    with pytest.raises(ValueError, match="unseen"):
        ds.empirical_model(unseen="zero")


def test_split_is_a_random_partition(finite):
    ds = data.sample_trajectories(finite, random_policy(finite, 0, deterministic=False), 40, seed=0)
    folds = ds.split(7, seed=1)
    sizes = [len(f) for f in folds]
    assert sum(sizes) == len(ds) and max(sizes) - min(sizes) <= 1
    assert sum(f.counts for f in folds).tolist() == ds.counts.tolist()
    folds_e = ds.split(3, seed=1, by="episode")
    eps = [set(f.episode.tolist()) for f in folds_e]
    assert set().union(*eps) == set(range(40)) and sum(len(e) for e in eps) == 40
    assert all(len(f) % 3 == 0 for f in folds_e)
    assert [len(f) for f in ds.split(7, seed=1)] == sizes
    tiny = ds.subset(np.arange(3)).split(5, seed=0)
    assert [len(f) for f in tiny].count(0) == 2 and sum(len(f) for f in tiny) == 3
    with pytest.raises(ValueError):
        ds.split(0, seed=0)
    with pytest.raises(ValueError):
        ds.split(2, seed=0, by="state")


def test_concatenate_offline_and_online(finite):
    pi = solve(finite).policy
    off = data.sample_iid(finite, np.full((4, 3), 1 / 12), 10, seed=0)
    on = data.sample_trajectories(finite, pi, 5, seed=1)
    both = data.concatenate([off, on])
    assert len(both) == len(off) + len(on)
    np.testing.assert_array_equal(both.counts, off.counts + on.counts)
    assert both.n_episodes == off.n_episodes + on.n_episodes
    summed = off.to_counts() + on.to_counts()
    np.testing.assert_array_equal(summed.transition_counts, both.transition_counts)
    with pytest.raises(ValueError, match="differ"):
        data.concatenate([off, data.sample_iid(build_mdp(1, 4, 3, gamma=0.5), np.full((4, 3), 1 / 12), 3, seed=0)])


def test_save_load_roundtrip(tmp_path, finite):
    ds = data.sample_trajectories(finite, solve(finite).policy, 20, seed=3)
    ds.save(tmp_path / "run1")
    back = data.load(tmp_path / "run1.npz")
    for f in ("state", "action", "reward", "next_state", "step", "episode", "behaviour_prob"):
        np.testing.assert_array_equal(getattr(back, f), getattr(ds, f))
    assert (back.S, back.A, back.horizon, back.gamma) == (4, 3, 3, None)
    manifest = json.loads((tmp_path / "run1.json").read_text())
    assert manifest["meta"]["generator"] == "sample_trajectories"
    assert manifest["meta"]["seed"]["entropy"] == "3"
    assert manifest["meta"]["coverage"]["C_star"] >= 1
    with np.load(tmp_path / "run1.npz", allow_pickle=False) as npz:
        assert set(npz.files) == {
            "state",
            "action",
            "reward",
            "next_state",
            "step",
            "episode",
            "behaviour_prob",
            "save_id",  # ties the .npz to its manifest (issue 13)
        }
    counts = data.sample_generative(finite, 3, seed=0)
    counts.save(tmp_path / "gen")
    back = data.load(tmp_path / "gen")
    np.testing.assert_array_equal(back.transition_counts, counts.transition_counts)


def test_export_layouts(finite):
    ds = data.sample_trajectories(finite, solve(finite).policy, 4, seed=0)
    arr = ds.as_arrays()
    assert set(arr) >= {"observations", "actions", "rewards", "terminations", "truncations"}
    assert arr["truncations"].sum() == 4 and not arr["terminations"].any()
    np.testing.assert_array_equal(np.flatnonzero(arr["truncations"]), [2, 5, 8, 11])
    eps = ds.episodes()
    assert len(eps) == 4
    for e in eps:
        assert e["observations"].shape == (4,) and e["actions"].shape == (3,) and e["truncations"][-1]
    np.testing.assert_array_equal(eps[1]["observations"][1:], ds.next_state[3:6])


# ---------------------------------------------------------------------- controlled coverage
@settings(max_examples=40, deadline=None)
@given(tabular_mdps(max_S=4, max_A=3, max_H=4), st.floats(1.0, 50.0), st.booleans(), st.integers(0, 2**31 - 1))
def test_requested_c_star_is_measured_c_star(mdp, c_star, own_policy, seed):
    if mdp.S * mdp.A == 1:
        c_star = 1.0
    policy = random_policy(mdp, seed, deterministic=False) if own_policy else None
    cc = data.controlled_coverage(mdp, c_star, policy)
    target = cc.target_policy
    assert cc.c_star == pytest.approx(c_star, rel=0, abs=1e-9)
    assert concentrability(mdp, target, cc.mu) == pytest.approx(c_star, rel=0, abs=1e-9)
    # The trajectory model: measured C* of the behaviour, equal to the request whenever eps < 1.
    assert cc.behaviour_c_star == pytest.approx(concentrability(mdp, target, occupancy(mdp, cc.behaviour_policy)))
    if cc.epsilon < 1.0:
        assert cc.behaviour_c_star == pytest.approx(c_star, rel=1e-8)
    else:
        assert cc.behaviour_c_star <= c_star + 1e-9


def test_controlled_coverage_bandit_and_contextual_bandit():
    mab = random_bandit(5, seed=0)
    cc = data.controlled_coverage(mab, 4.0)
    assert cc.mu[0, mab.best_arm] == pytest.approx(0.25)
    cb = random_contextual_bandit(3, 4, seed=1)
    cc = data.controlled_coverage(cb, 2.0)
    ratio = cb.context_dist / cc.mu[np.arange(3), cb.best_actions]
    assert ratio.max() == pytest.approx(2.0, abs=1e-12)  # LCB's C* = max_s rho(s)/mu(s, pi*(s))
    assert data.controlled_coverage(cb, 1.0).mu == pytest.approx(occupancy(cb, cb.best_actions))


def test_bad_inputs_raise_value_error(finite, discounted):
    mu = np.full((4, 2), 1 / 8)
    for bad_c in (0.5, np.nan, np.inf, -1):
        with pytest.raises(ValueError, match="c_star"):
            data.controlled_coverage(discounted, bad_c)
    with pytest.raises(ValueError, match="single state-action"):
        data.controlled_coverage(random_bandit(1, seed=0), 2.0)
    with pytest.raises(ValueError, match="mu"):
        data.sample_iid(discounted, mu * 1.1, 5, seed=0)
    with pytest.raises(ValueError, match=r"mu\[0, 1\]"):
        data.sample_iid(discounted, np.array([[0.5, -0.125], [0.125] * 2, [0.125] * 2, [0.25, 0.0]]), 5, seed=0)
    with pytest.raises(ValueError, match="shape"):
        data.sample_iid(discounted, np.full((4, 3), 1 / 12), 5, seed=0)
    with pytest.raises(ValueError, match="n is -1"):
        data.sample_iid(discounted, mu, -1, seed=0)
    with pytest.raises(ValueError, match="n_episodes"):
        data.sample_trajectories(finite, np.zeros(4, dtype=int), -3, seed=0)
    with pytest.raises(ValueError, match="n_steps"):
        data.sample_trajectories(discounted, np.zeros(4, dtype=int), 3, seed=0)
    with pytest.raises(ValueError, match="policy"):
        data.sample_trajectories(finite, np.full(4, 7), 3, seed=0)
    with pytest.raises(ValueError, match="n_per_pair"):
        data.sample_generative(finite, -2, seed=0)
    with pytest.raises(ValueError, match="states"):
        data.sample_transitions(discounted, np.array([0, 9]), np.array([0, 0]), seed=0)
    with pytest.raises(ValueError, match="does not cover"):
        # A target policy the data cannot cover: mu puts no mass on action 1.
        concentrability(discounted, np.ones(4, dtype=int), np.array([[0.25, 0.0]] * 4))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**31 - 1),
    st.sampled_from(["negative", "scaled", "nan", "shape"]),
)
def test_invalid_mu_is_rejected_before_any_kernel(seed, how):
    mdp = build_mdp(seed % 7, S=3, A=2, horizon=2)
    rng = np.random.default_rng(seed)
    mu = random_distributions(rng, (6,), sparsity=0.0).reshape(3, 2)
    if how == "negative":
        i = tuple(rng.integers(0, [3, 2]))
        mu[i] = -rng.uniform(1e-6, 1.0)
    elif how == "scaled":
        mu = mu * rng.choice([0.5, 0.999, 1.001, 2.0])
    elif how == "nan":
        mu[tuple(rng.integers(0, [3, 2]))] = np.nan
    else:
        mu = np.full((2, 2), 0.25)
    for call in (
        lambda: data.sample_iid(mdp, mu, 5, seed=0),
        lambda: data.sample_iid_counts(mdp, mu, 5, seed=0),
        lambda: concentrability(mdp, np.zeros(3, dtype=int), mu),
    ):
        with pytest.raises(ValueError, match="mu"):
            call()


def test_manifest_of_data_that_misses_the_optimal_policy(tmp_path):
    mdp = build_mdp(8, S=2, A=2, gamma=0.5, noise="deterministic")
    best = solve(mdp).policy
    mu = np.zeros((2, 2))
    mu[:, 1 - best[0]] = 0.5  # never the optimal action in state 0
    ds = data.sample_iid(mdp, mu, 10, seed=0)
    assert ds.meta["coverage"]["C_star"] == "inf"
    ds.save(tmp_path / "uncovered")
    json.loads((tmp_path / "uncovered.json").read_text(), parse_constant=lambda c: pytest.fail(c))


def test_discounted_trajectory_manifest_is_the_c_star_of_the_sampled_distribution():
    # Chain: state 0 (start) stays under action 0 and moves to the absorbing rewarding state 1 under action 1.
    # The behaviour leaves state 0 with probability 0.1 per step, so Pr(s_t = 0) = 0.9^t; the T steps of an
    # episode weigh equally, so the data put mass m0 = (1/T) sum_{t<T} 0.9^t = (1 - 0.9^T) / (0.1 T) on state 0
    # and 0.1 m0 on (0, 1). pi* moves at once: d*(0, 1) = 1 - gamma = 0.1 and d*(1, a*) = 0.9, against the data
    # mass 0.5 (1 - m0) on (1, a*); the ratio at (0, 1), 1/m0, is the larger. The discounted occupancy of the
    # behaviour would give 3.8 instead (the value the manifest reported before).
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = P[1, :, 1] = 1.0
    mdp = TabularMDP(P, np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([1.0, 0.0]), gamma=0.9,
                     reward_noise="deterministic")  # fmt: skip
    behaviour = np.array([[0.9, 0.1], [0.5, 0.5]])
    T = 50
    m0 = (1 - 0.9**T) / (0.1 * T)
    ds = data.sample_trajectories(mdp, behaviour, 3, seed=1, n_steps=T)
    assert ds.meta["coverage"]["C_star"] == pytest.approx(max(1 / m0, 0.9 / (0.5 * (1 - m0))), rel=1e-12)
    assert concentrability(mdp, solve(mdp).policy, occupancy(mdp, behaviour)) == pytest.approx(3.8, rel=1e-12)


def test_datasets_validate_at_construction_and_load(tmp_path, finite, discounted):
    i32 = lambda *v: np.array(v, dtype=np.int32)  # noqa: E731
    good = dict(state=i32(0, 1), action=i32(1, 0), reward=np.array([1.0, 0.0]), next_state=i32(2, 0),
                step=i32(0, 1), episode=np.array([0, 0]), behaviour_prob=np.array([0.5, 1.0]))  # fmt: skip
    OfflineDataset(**good, S=3, A=2, gamma=0.9)  # a discounted step is a position in the episode: any >= 0
    OfflineDataset(**good, S=3, A=2, horizon=2)
    for field_, value, message in [
        ("action", i32(1, 2), r"action\[1\] is 2"),
        ("state", i32(-1, 0), r"state\[0\] is -1"),
        ("next_state", i32(2, 3), r"next_state\[1\] is 3"),
        ("step", i32(0, 2), r"step\[1\] is 2"),
        ("episode", np.array([0, -4]), r"episode\[1\] is -4"),
        ("reward", np.array([np.nan, 0.0]), r"reward\[0\] is nan"),
        ("behaviour_prob", np.array([0.5, 1.5]), r"behaviour_prob\[1\] is 1.5"),
        ("action", np.array([1.0, 0.0]), "action has dtype"),
        ("reward", np.array([1.0]), "reward has 1 entries"),
    ]:
        with pytest.raises(ValueError, match=message):
            OfflineDataset(**{**good, field_: value}, S=3, A=2, horizon=2)
    with pytest.raises(ValueError, match="S is 0"):
        OfflineDataset(**good, S=0, A=2, horizon=2)

    N = np.array([[2, 0], [1, 1]])
    C = np.zeros((2, 2, 2), dtype=np.int64)
    C[0, 0, 1], C[1, 0, 0], C[1, 1, 1] = 2, 1, 1
    sums = np.array([[1.0, 0.0], [0.5, 1.0]])
    CountDataset(N, C, sums, 2, 2, gamma=0.9)
    bad_c = C.copy()
    bad_c[1, 1, 0] = 1
    for args, message in [
        ((N, C[..., :1], sums), r"transition_counts has shape \(2, 2, 1\), expected \(S, A, S\) = \(2, 2, 2\)"),
        ((N[None], C[None], sums[None]), r"counts has shape \(1, 2, 2\), expected \(S, A\) = \(2, 2\)"),
        ((N * np.array([1, -1]), C, sums), r"counts\[1, 1\] is -1"),
        ((N, bad_c, sums), r"transition_counts\[1, 1\] sums to 2 over next states, but counts\[1, 1\] is 1"),
        ((N, C, sums + np.array([0.0, np.inf])), r"reward_sums\[0, 1\] is inf"),
    ]:
        with pytest.raises(ValueError, match=message):
            CountDataset(*args, 2, 2, gamma=0.9)
    with pytest.raises(ValueError, match=r"counts has shape \(2, 2\), expected \(horizon, S, A\) = \(3, 2, 2\)"):
        CountDataset(N, C, sums, 2, 2, horizon=3)

    # load() goes through the same checks: a corrupted file is refused, naming the entry.
    ds = data.sample_iid(finite, np.full((3, 4, 3), 1 / 12), 5, seed=0)
    ds.save(tmp_path / "d")
    arrays = dict(np.load(tmp_path / "d.npz"))
    arrays["next_state"][3] = 4
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(ValueError, match=r"next_state\[3\] is 4"):
        data.load(tmp_path / "d")
    cd = data.sample_iid_counts(discounted, np.full((4, 2), 1 / 8), 20, seed=0)
    cd.save(tmp_path / "c")
    arrays = dict(np.load(tmp_path / "c.npz"))
    arrays["counts"][0, 0] += 1
    np.savez(tmp_path / "c.npz", **arrays)
    with pytest.raises(ValueError, match=r"transition_counts\[0, 0\] sums to"):
        data.load(tmp_path / "c")

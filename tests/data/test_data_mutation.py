"""Kill tests of the data layer's mutants (issue 14, item 3; ``python -m benchmarks.mutation --module data``).

Each test pins a value a plausible slip would change: counts against hand-computed tables, the exact error
message (which names the offending entry and the expected range), the manifests' entries, file round trips.
Only public functions and methods are called. Statistical checks use fixed seeds and state their false-failure
probability.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import zipfile
from collections.abc import Mapping

import numpy as np
import pytest

from theory_rl import data
from theory_rl.data import CountDataset, CountsBuilder, OfflineDataset
from theory_rl.data.samples import FIELDS
from theory_rl.mdp import TabularMDP


def _raises(exc, message, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` raises ``exc`` whose message is exactly ``message``."""
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    assert str(info.value) == message
    return info.value


# ---------------------------------------------------------------------- CountsBuilder
def test_add_transition_refuses_each_entry_by_name_and_range():
    b = CountsBuilder(3, 2)
    _raises(ValueError, "s is -1, expected an integer in [0, 2]", b.add_transition, None, -1, 0, 0.5, 0)
    _raises(ValueError, "s is 3, expected an integer in [0, 2]", b.add_transition, None, 3, 0, 0.5, 0)
    _raises(ValueError, "a is -1, expected an integer in [0, 1]", b.add_transition, None, 0, -1, 0.5, 0)
    _raises(ValueError, "a is 2, expected an integer in [0, 1]", b.add_transition, None, 0, 2, 0.5, 0)
    _raises(ValueError, "s_next is -1, expected an integer in [0, 2]", b.add_transition, None, 0, 0, 0.5, -1)
    _raises(ValueError, "s_next is 3, expected an integer in [0, 2]", b.add_transition, None, 0, 0, 0.5, 3)
    with pytest.raises(ValueError, match=r"^r is nan"):
        b.add_transition(None, 0, 0, float("nan"), 0)
    assert b.n == 0  # nothing was counted by a refused call


def test_add_transition_counts_exactly_discounted_and_per_step():
    b = CountsBuilder(3, 2, gamma=0.5)
    b.add_transition(None, 2, 1, 0.25, 0)
    b.add_transition(None, 2, 1, 0.5, 1)
    b.add_transition(None, 0, 0, 1.0, 2)
    N = np.zeros((3, 2), int)
    N[2, 1], N[0, 0] = 2, 1
    np.testing.assert_array_equal(b.counts, N)
    C = np.zeros((3, 2, 3), int)
    C[2, 1, 0] = C[2, 1, 1] = C[0, 0, 2] = 1
    np.testing.assert_array_equal(b.transition_counts, C)
    R = np.zeros((3, 2))
    R[2, 1], R[0, 0] = 0.75, 1.0
    np.testing.assert_array_equal(b.reward_sums, R)
    h = CountsBuilder(3, 2, horizon=2)
    h.add_transition(1, 2, 1, 0.25, 0)
    N2 = np.zeros((2, 3, 2), int)
    N2[1, 2, 1] = 1
    np.testing.assert_array_equal(h.counts, N2)
    assert h.transition_counts[1, 2, 1, 0] == 1 and h.transition_counts.sum() == 1
    assert h.reward_sums[1, 2, 1] == 0.25 and h.reward_sums.sum() == 0.25


def test_add_batch_refuses_each_argument_by_name():
    b = CountsBuilder(3, 2)
    ok = dict(states=[0, 1], actions=[1, 0], rewards=[0.5, 0.25], next_states=[2, 0])
    for name, bad, message in (
        ("states", [0, 3], "states[1] is 3, expected a value in 0..2"),
        ("actions", [2, 0], "actions[0] is 2, expected a value in 0..1"),
        ("next_states", [0, 3], "next_states[1] is 3, expected a value in 0..2"),
    ):
        _raises(ValueError, message, b.add_batch, **{**ok, name: bad})
    _raises(ValueError, "rewards must have 1 dimensions, got shape (1, 2)", b.add_batch,
            **{**ok, "rewards": [[0.5, 0.25]]})
    for name, short in (("actions", [1]), ("rewards", [0.5]), ("next_states", [2])):
        _raises(ValueError, f"{name} has shape (1,), expected (2,) as states", b.add_batch, **{**ok, name: short})
    _raises(ValueError, "steps is given, but the builder is discounted (horizon=None): omit steps",
            b.add_batch, **ok, steps=[0, 0])
    h = CountsBuilder(3, 2, horizon=4)
    _raises(ValueError, "a finite-horizon builder needs steps in 0..3", h.add_batch, **ok)
    _raises(ValueError, "steps[1] is 4, expected a value in 0..3", h.add_batch, **ok, steps=[0, 4])
    _raises(ValueError, "steps has shape (1,), expected (2,) as states", h.add_batch, **ok, steps=[0])
    assert b.n == 0 and h.n == 0


def test_builder_views_are_read_only_and_rollouts_must_be_a_record():
    b = CountsBuilder(2, 2, horizon=2)
    for view in (b.counts, b.transition_counts, b.reward_sums, b.init_counts):
        with pytest.raises(ValueError, match="read-only"):
            view[(0,) * view.ndim] = 5
    _raises(ValueError, "rollouts is a tuple, expected a Rollouts record", b.add_rollouts, (1, 2, 3))
    mdp = TabularMDP(np.full((2, 2, 2), 0.5), np.full((2, 2), 0.5), [0.5, 0.5], horizon=2)
    _raises(ValueError, "rng is a int, expected a Generator", data.RolloutSampler(mdp).episode, [0, 0], 3)
    assert b.n == 0


def test_add_episode_refuses_each_argument_by_name():
    b = CountsBuilder(3, 2, horizon=2)
    for args, message in (
        (([[[0, 1]]], [[[0]]], [[[0.0]]]), "states has shape (1, 1, 2), expected (T+1,) or (n, T+1) with T+1 >= 1"),
        ((np.array([], int), [], []), "states has shape (0,), expected (T+1,) or (n, T+1) with T+1 >= 1"),
        (([0, 1, 2], [0], [0.0, 1.0]), "actions has shape (1,), expected (2,)"),
        (([0, 1, 2], [0, 1], [0.0]), "rewards has shape (1,), expected (2,)"),
        (([0, 5], [0], [0.0]), "states[1] is 5, expected a value in 0..2"),
        (([0, 1], [3], [0.0]), "actions[0] is 3, expected a value in 0..1"),
        (([0, 1], [1], [np.nan]), "rewards[0] is nan, expected a finite number"),
        (([0, 1, 1, 1], [0, 0, 0], [0.0, 0.0, 0.0]), "the episode has 3 steps, more than the horizon H = 2"),
    ):
        _raises(ValueError, message, b.add_episode, *args)
    assert b.n == 0 and b.init_counts.sum() == 0


def test_add_episode_of_zero_steps_counts_the_first_state_only():
    b = CountsBuilder(3, 2, horizon=2)
    b.add_episode([2], np.array([], int), [])
    b.add_episode([[1, 0], [1, 2]], [[1], [0]], [[0.5], [0.25]])
    np.testing.assert_array_equal(b.init_counts, [0, 2, 1])
    assert b.n == 2 and b.counts[0, 1, 1] == 1 and b.counts[0, 1, 0] == 1
    assert b.transition_counts[0, 1, 1, 0] == 1 and b.transition_counts[0, 1, 0, 2] == 1
    np.testing.assert_array_equal(b.reward_sums[0, 1], [0.25, 0.5])


def test_add_rollouts_checks_ranges_exactly_at_the_edges():
    R = data.Rollouts
    b = CountsBuilder(2, 1, horizon=2)
    b.add_rollouts(R(np.array([[1]]), np.empty((1, 0), np.int64), np.empty((1, 0))))  # no step: no action
    b.add_rollouts(R(np.array([[1, 0]]), np.array([[0]]), np.array([[0.5]])))  # A = 1: action 0 is in range
    np.testing.assert_array_equal(b.init_counts, [0, 2])
    assert b.n == 1 and b.counts[0, 1, 0] == 1 and b.reward_sums[0, 1, 0] == 0.5
    msg = "rollouts has states or actions outside this builder's S = 2, A = 1"
    _raises(ValueError, msg, b.add_rollouts, R(np.array([[0, 2]]), np.array([[0]]), np.array([[0.0]])))
    _raises(ValueError, msg, b.add_rollouts, R(np.array([[0, 1]]), np.array([[1]]), np.array([[0.0]])))
    _raises(ValueError, "the episodes have 3 steps, more than the horizon H = 2", b.add_rollouts,
            R(np.zeros((1, 4), np.int64), np.zeros((1, 3), np.int64), np.zeros((1, 3))))
    assert b.n == 1


def test_to_counts_records_gamma_and_meta():
    b = CountsBuilder(2, 2, gamma=0.25)
    b.add_transition(None, 0, 1, 0.5, 1)
    c = b.to_counts()
    assert c.meta == {"generator": "CountsBuilder"} and c.gamma == 0.25 and c.horizon is None
    given = {"source": "x"}
    c2 = b.to_counts(meta=given)
    assert c2.meta == {"source": "x"} and c2.meta is not given
    b.add_transition(None, 0, 1, 0.5, 1)
    assert c.n == 1 and b.n == 2  # a copy: the builder keeps growing


def test_copy_count_dataset_is_the_same_record_with_a_copied_meta():
    from theory_rl.data.counts import copy_count_dataset

    h = _counts(horizon=3)
    c = copy_count_dataset(h)
    for f in ("counts", "transition_counts", "reward_sums"):
        assert getattr(c, f) is getattr(h, f)
    assert (c.S, c.A, c.gamma, c.horizon) == (2, 2, None, 3)
    assert c.meta == {"tag": "x"} and c.meta is not h.meta
    d = copy_count_dataset(_counts())
    assert (d.gamma, d.horizon) == (0.5, None)


def test_add_batch_counts_exactly():
    b = CountsBuilder(3, 2)
    b.add_batch([0, 1, 0], [1, 0, 1], [0.5, 0.25, 1.0], [2, 0, 1])
    np.testing.assert_array_equal(b.counts, [[0, 2], [1, 0], [0, 0]])
    np.testing.assert_array_equal(b.reward_sums, [[0, 1.5], [0.25, 0], [0, 0]])
    assert b.transition_counts[0, 1, 2] == 1 and b.transition_counts[0, 1, 1] == 1
    assert b.transition_counts[1, 0, 0] == 1 and b.transition_counts.sum() == 3
    h = CountsBuilder(3, 2, horizon=2)
    h.add_batch([0, 0], [1, 1], [0.5, 0.25], [2, 1], steps=[1, 0])
    assert h.counts[1, 0, 1] == 1 and h.counts[0, 0, 1] == 1 and h.counts.sum() == 2
    assert h.transition_counts[1, 0, 1, 2] == 1 and h.transition_counts[0, 0, 1, 1] == 1
    assert h.reward_sums[1, 0, 1] == 0.5 and h.reward_sums[0, 0, 1] == 0.25


# ---------------------------------------------------------------------- CountDataset
def _counts(horizon=None, gamma=0.5, *, low_sum=-1.0, meta=None):
    """S = 2, A = 2; pair (0, 1) seen 3 times with reward sum 4.5 (r_hat = 1.5 > 1), pair (1, 0) seen twice with
    sum ``low_sum`` (r_hat = -0.5 < 0 by default), the others unseen; ``meta`` defaults to ``{"tag": "x"}``."""
    lead = () if horizon is None else (horizon,)
    N = np.zeros(lead + (2, 2), np.int64)
    C = np.zeros(lead + (2, 2, 2), np.int64)
    Rs = np.zeros(lead + (2, 2))
    N[..., 0, 1], N[..., 1, 0] = 3, 2
    C[..., 0, 1, 0], C[..., 0, 1, 1], C[..., 1, 0, 0] = 1, 2, 2
    Rs[..., 0, 1], Rs[..., 1, 0] = 4.5, low_sum
    return CountDataset(N, C, Rs, 2, 2, gamma=None if horizon else gamma, horizon=horizon,
                        meta={"tag": "x"} if meta is None else meta)


# the empirical MDP's scale entries of ``meta`` (issue 15), left alive by the data-io run of the third session of
# 2026-11-26: pair (1, 0)'s mean is -1.5 here, below both ranges
@pytest.mark.parametrize("horizon", [None, 3])
def test_empirical_mdp_clips_to_the_data_s_reward_range(horizon):
    """The empirical rewards are clipped to ``meta["reward_range"]`` (here [-1, 2]: 1.5 kept, -1.5 raised to -1), and
    the model carries that range; without the entry the range is [0, 1]."""
    scaled = _counts(horizon, low_sum=-3.0, meta={"reward_range": [-1.0, 2.0]})
    scaled = scaled.empirical_mdp([0.5, 0.5], unseen_reward=0.25)
    assert scaled.reward_range == (-1.0, 2.0)
    want = np.array([[0.25, 1.5], [-1.0, 0.25]])
    np.testing.assert_array_equal(scaled.R if horizon is None else scaled.stage_R, want if horizon is None else
                                  np.broadcast_to(want, (horizon, 2, 2)))
    unit = _counts(horizon, low_sum=-3.0, meta={}).empirical_mdp([0.5, 0.5], unseen_reward=0.25)
    assert unit.reward_range == (0.0, 1.0)
    np.testing.assert_array_equal(unit.R if horizon is None else unit.stage_R[0], [[0.25, 1.0], [0.0, 0.25]])


def test_empirical_mdp_keeps_a_finite_horizon_s_discount():
    model = _counts(3, low_sum=-3.0, meta={"reward_range": [-1.0, 2.0], "discount": 0.9}).empirical_mdp([1.0, 0.0])
    assert (model.horizon, model.gamma) == (3, 0.9)
    plain = _counts(3, low_sum=-3.0, meta={}).empirical_mdp([1.0, 0.0])
    assert (plain.horizon, plain.gamma) == (3, None)
    discounted = _counts(low_sum=-3.0, meta={"discount": 0.9})
    assert discounted.empirical_mdp([1.0, 0.0]).gamma == 0.5  # discounted data: its own gamma


def test_empirical_mdp_clips_rewards_keeps_the_kind_and_the_unseen_reward():
    d = _counts()
    m = d.empirical_mdp([0.5, 0.5], unseen_reward=0.75)
    assert m.gamma == 0.5 and m.horizon is None and m.reward_noise == "deterministic"
    # r_hat = 1.5 clipped to 1, -0.5 clipped to 0, unseen pairs get 0.75
    np.testing.assert_array_equal(m.R, [[0.75, 1.0], [0.0, 0.75]])
    np.testing.assert_allclose(m.P[0, 1], [1 / 3, 2 / 3])
    np.testing.assert_array_equal(m.P[0, 0], [0.5, 0.5])
    loop = d.empirical_mdp([0.5, 0.5], unseen="self_loop")
    np.testing.assert_array_equal(loop.P[1, 1], [0.0, 1.0])
    np.testing.assert_array_equal(loop.R, [[0.0, 1.0], [0.0, 0.0]])
    h = _counts(horizon=3).empirical_mdp([1.0, 0.0], unseen_reward=0.25)
    assert h.horizon == 3 and h.reward_noise == "deterministic"
    np.testing.assert_array_equal(h.stage_R[2], [[0.25, 1.0], [0.0, 0.25]])


def test_offline_dataset_empirical_mdp_passes_the_unseen_reward():
    ds = OfflineDataset(np.array([0, 0]), np.array([1, 1]), np.array([0.5, 1.0]), np.array([1, 0]),
                        np.zeros(2, np.int32), np.arange(2), np.ones(2), 2, 2, gamma=0.9)
    m = ds.empirical_mdp([1.0, 0.0], unseen_reward=0.25)
    np.testing.assert_array_equal(m.R, [[0.25, 0.75], [0.25, 0.25]])
    # the default unseen reward is 0 (LCB's convention), for both records
    np.testing.assert_array_equal(ds.empirical_mdp([1.0, 0.0]).R, [[0.0, 0.75], [0.0, 0.0]])
    np.testing.assert_array_equal(ds.to_counts().empirical_mdp([1.0, 0.0]).R, [[0.0, 0.75], [0.0, 0.0]])
    np.testing.assert_array_equal(ds.empirical_mdp([1.0, 0.0], "self_loop").P[1, 0], [0.0, 1.0])
    assert m.gamma == 0.9
    np.testing.assert_array_equal(m.P[0, 1], [0.5, 0.5])


def test_adding_count_datasets_adds_every_table_and_records_both_parts():
    a, b = _counts(), _counts()
    s = a + b
    np.testing.assert_array_equal(s.counts, 2 * a.counts)
    np.testing.assert_array_equal(s.transition_counts, 2 * a.transition_counts)
    np.testing.assert_array_equal(s.reward_sums, 2 * a.reward_sums)
    assert (s.S, s.A, s.gamma, s.horizon) == (2, 2, 0.5, None)
    assert s.meta == {"generator": "concatenate", "parts": [{"tag": "x"}, {"tag": "x"}]}
    assert s.n == 10
    h = _counts(horizon=2) + _counts(horizon=2)
    assert (h.gamma, h.horizon) == (None, 2)
    with pytest.raises(ValueError, match=r"^datasets differ in gamma: 0.5 vs None$"):
        a + _counts(horizon=2)


# ---------------------------------------------------------------------- OfflineDataset
def _trajectories(episode=(0, 0, 1), gamma=0.9):
    """Three transitions: an episode 0 -> 1 -> 0 and a one-step episode 1 -> 1 (by default)."""
    n = len(episode)
    return OfflineDataset(np.array([0, 1, 1])[:n], np.array([1, 0, 1])[:n], np.array([0.5, 0.25, 1.0])[:n],
                          np.array([1, 0, 1])[:n], np.array([0, 1, 0])[:n], np.array(episode, np.int64), np.ones(n),
                          2, 2, gamma=gamma, meta={"tag": "t"})  # fmt: skip


def test_manifest_reports_computed_entries_as_present():
    mdp = TabularMDP(np.full((2, 2, 2), 0.5), np.full((2, 2), 0.5), [0.5, 0.5], gamma=0.9)
    ds = data.sample_iid(mdp, np.full((2, 2), 0.25), 3, seed=0)
    assert "generator" in ds.meta and "coverage" in ds.meta and "absent" not in ds.meta
    assert ds.meta.get("absent", 7) == 7 and ds.meta["generator"] == "sample_iid"


def test_as_arrays_flags_and_keys():
    out = _trajectories().as_arrays()
    assert list(out) == ["observations", "actions", "rewards", "next_observations", "terminations", "truncations",
                         "episode_ids"]
    assert out["truncations"].dtype == bool and out["terminations"].dtype == bool
    np.testing.assert_array_equal(out["truncations"], [False, True, True])
    np.testing.assert_array_equal(out["terminations"], [False, False, False])
    np.testing.assert_array_equal(out["next_observations"], [1, 0, 1])
    np.testing.assert_array_equal(out["episode_ids"], [0, 0, 1])
    two = _trajectories(episode=(4, 4)).as_arrays()
    np.testing.assert_array_equal(two["truncations"], [False, True])
    one = _trajectories(episode=(0,)).as_arrays()
    np.testing.assert_array_equal(one["truncations"], [True])


def test_episodes_exact_arrays_including_one_step_episodes():
    eps = _trajectories().episodes()
    assert [sorted(e) for e in eps] == [sorted(["id", "observations", "actions", "rewards", "terminations",
                                                "truncations"])] * 2
    assert [e["id"] for e in eps] == [0, 1]
    np.testing.assert_array_equal(eps[0]["observations"], [0, 1, 0])
    np.testing.assert_array_equal(eps[1]["observations"], [1, 1])
    np.testing.assert_array_equal(eps[0]["rewards"], [0.5, 0.25])
    np.testing.assert_array_equal(eps[1]["actions"], [1])
    for e in eps:
        assert e["terminations"].dtype == bool and not e["terminations"].any()
        assert e["truncations"].dtype == bool and e["truncations"][-1] and not e["truncations"][:-1].any()
    singles = _trajectories(episode=(5, 6, 7)).episodes()
    assert [e["id"] for e in singles] == [5, 6, 7]
    assert _trajectories(episode=()).episodes() == []


def test_episodes_names_the_first_break():
    d = OfflineDataset(np.array([0, 0, 1]), np.zeros(3, int), np.zeros(3), np.array([1, 0, 1]), np.zeros(3, int),
                       np.array([3, 3, 3]), np.ones(3), 2, 1, gamma=0.5)  # fmt: skip
    _raises(ValueError, "episode 3 is not a trajectory: next_state[0] is 1 but state[1] is 0; "
                        "theory_rl.interop.to_minari cuts it into runs", d.episodes)
    d2 = OfflineDataset(np.array([0, 1, 0]), np.zeros(3, int), np.zeros(3), np.array([1, 1, 1]), np.zeros(3, int),
                        np.array([3, 3, 3]), np.ones(3), 2, 1, gamma=0.5)  # fmt: skip
    _raises(ValueError, "episode 3 is not a trajectory: next_state[1] is 1 but state[2] is 0; "
                        "theory_rl.interop.to_minari cuts it into runs", d2.episodes)


def test_concatenate_renumbers_episodes_and_records_the_parts():
    a, b = _trajectories(), _trajectories(episode=(2, 2, 5))
    c = data.concatenate([a, b, a])
    np.testing.assert_array_equal(c.episode, [0, 0, 1, 4, 4, 7, 8, 8, 9])
    np.testing.assert_array_equal(c.state, np.tile(a.state, 3))
    assert (c.S, c.A, c.gamma, c.horizon) == (2, 2, 0.9, None)
    assert c.meta == {"generator": "concatenate", "parts": [{"tag": "t"}] * 3}
    one = data.concatenate([b])
    np.testing.assert_array_equal(one.episode, [2, 2, 5])
    assert one.gamma == 0.9
    empty = _trajectories(episode=())
    np.testing.assert_array_equal(data.concatenate([empty, a]).episode, [0, 0, 1])


def test_concatenate_refusals_name_the_entry():
    a = _trajectories()
    _raises(ValueError, "datasets is empty", data.concatenate, [])
    with pytest.raises(ValueError, match=r"^datasets is OfflineDataset \("):
        data.concatenate(a)
    with pytest.raises(ValueError, match=r"^datasets\[1\] "):
        data.concatenate([a, "x"])
    _raises(ValueError, "datasets differ in gamma: 0.9 vs 0.5", data.concatenate, [a, _trajectories(gamma=0.5)])


# ---------------------------------------------------------------------- corrupt
def _iid(n=400, seed=0):
    mdp = TabularMDP(np.full((3, 2, 3), 1 / 3), np.full((3, 2), 0.5), [0.5, 0.25, 0.25], gamma=0.9)
    return data.sample_iid(mdp, np.full((3, 2), 1 / 6), n, seed=seed)


def test_corrupt_records_its_parameters_and_drops_the_clean_coverage_record():
    clean = _iid()
    out = data.corrupt(clean, "reward", seed=1)
    m = out.data.meta
    assert m["corruption"] == {"target": "reward", "mode": "random", "rate": 0.3, "scale": 1.0,
                               "n_corrupted": int(out.mask.sum()),
                               "source": "Yang et al. (2023), RIQL attack.py (tabular analogue)"}
    # the clean data's C* no longer describes the corrupted samples: gone, whether or not it had been read
    assert "coverage" not in m and m.get("coverage") is None
    assert m["generator"] == "sample_iid" and "coverage" in clean.meta
    clean.meta["coverage"]  # noqa: B018 (computed now)
    assert "coverage" not in data.corrupt(clean, "state", seed=1).data.meta


def test_corrupt_default_scale_is_one():
    clean = _iid()
    adv = data.corrupt(clean, "reward", seed=1, mode="adversarial")
    np.testing.assert_array_equal(adv.data.reward[adv.mask], -clean.reward[adv.mask])
    rnd = data.corrupt(clean, "reward", seed=1, rate=1.0)
    # U(-30, 30) over 400 draws: |r| > 15 has probability 1/2 each; all at most 15 has probability 2^-400
    assert np.abs(rnd.data.reward).max() > 15 and np.abs(rnd.data.reward).max() <= 30


def test_corrupt_refuses_a_misshapen_q_for_every_target():
    clean = _iid()
    for target in ("reward", "dynamics", "action", "state"):
        for mode in ("random", "adversarial"):
            _raises(ValueError, "Q has shape (2, 2), expected (3, 2)", data.corrupt, clean, target, seed=0,
                    mode=mode, Q=np.zeros((2, 2)))
    _raises(ValueError, "the adversarial state attack needs Q, shape (3, 2)", data.corrupt, clean, "state", seed=0,
            mode="adversarial")


@pytest.mark.parametrize("target, field, size", [("action", "action", 2), ("state", "state", 3),
                                                 ("dynamics", "next_state", 3)])
def test_random_index_attacks_draw_uniform_values_without_q(target, field, size):
    clean = _iid(n=600)
    out = data.corrupt(clean, target, seed=4, rate=1.0)  # no Q: the random attacks never read it
    new = getattr(out.data, field)
    assert new.dtype == getattr(clean, field).dtype
    counts = np.bincount(new, minlength=size)
    # 600 uniform draws on 2 or 3 values: every count within 6 sd of its mean (false failure < 1e-8)
    sd = np.sqrt(600 * (1 / size) * (1 - 1 / size))
    assert np.all(np.abs(counts - 600 / size) < 6 * sd), counts


# ---------------------------------------------------------------------- samplers: sizes
def test_generative_sample_sizes_are_bounded_and_named():
    mdp = TabularMDP(np.full((2, 2, 2), 0.5), np.full((2, 2), 0.5), [0.5, 0.5], gamma=0.9)
    _raises(ValueError, "n_per_pair is 4611686018427387905, expected an integer in [0, 4611686018427387904]",
            data.sample_generative, mdp, 2**62 + 1, 0)
    _raises(ValueError, "n_per_pair[0, 1] is 4.61169e+18, expected an integer count in [0, 2**62)",
            data.sample_generative, mdp, np.array([[1.0, 2.0**62], [0.0, 0.0]]), 0)
    d = data.sample_generative(mdp, np.array([[3.0, 0.0], [1.0, 2.0]]), 0)
    assert d.counts.dtype == np.int64 and d.meta["n_per_pair"] == "per pair" and d.meta["n"] == 6
    assert d.meta["generator"] == "sample_generative" and d.meta["mdp"] == repr(mdp)
    np.testing.assert_array_equal(d.counts, [[3, 0], [1, 2]])
    e = data.sample_generative(mdp, 4, 0)
    assert e.counts.dtype == np.int64 and e.meta["n_per_pair"] == 4 and e.n == 16


# ---------------------------------------------------------------------- subsets, counts of samples
def test_subset_keeps_the_record_and_refuses_bad_indices_by_name():
    d = _trajectories()
    s = d.subset(np.array([True, False, True]))
    np.testing.assert_array_equal(s.state, [0, 1])
    assert (s.gamma, s.horizon, s.S, s.A) == (0.9, None, 2, 2) and s.meta == {"tag": "t"} and s.meta is not d.meta
    np.testing.assert_array_equal(d.subset([2, 0]).reward, [1.0, 0.5])
    _raises(ValueError, "index is a boolean mask of shape (2,), expected (3,)", d.subset, np.array([True, False]))
    _raises(ValueError, "index[1] is 3, expected a value in 0..2", d.subset, [0, 3])
    # a 2-D index would give 2-D fields, a record the constructor refuses
    _raises(ValueError, "index must have 1 dimension(s), got shape (2, 2)", d.subset, np.array([[0, 1], [1, 2]]))


def test_to_counts_of_finite_horizon_samples_keeps_horizon_and_meta():
    d = OfflineDataset(np.array([0, 1]), np.array([1, 0]), np.array([0.5, 0.25]), np.array([1, 0]),
                       np.array([0, 2]), np.array([0, 0]), np.ones(2), 2, 2, horizon=3, meta={"tag": "h"})  # fmt: skip
    c = d.to_counts()
    assert (c.horizon, c.gamma) == (3, None) and c.meta == {"tag": "h"} and c.meta is not d.meta
    assert c.counts.shape == (3, 2, 2) and c.counts[0, 0, 1] == 1 and c.counts[2, 1, 0] == 1


# ---------------------------------------------------------------------- files
def test_count_dataset_round_trip_and_manifest_entries(tmp_path):
    d = _counts(horizon=2)
    d.save(tmp_path / "c")
    manifest = json.loads((tmp_path / "c.json").read_text())
    assert manifest["n"] == 10 and manifest["meta"] == {"tag": "x"} and manifest["kind"] == "counts"
    assert (manifest["S"], manifest["A"], manifest["gamma"], manifest["horizon"]) == (2, 2, None, 2)
    back = data.load(tmp_path / "c.npz")
    for f in ("counts", "transition_counts", "reward_sums"):
        np.testing.assert_array_equal(getattr(back, f), getattr(d, f))
    assert back.meta == {"tag": "x"} and back.horizon == 2


def test_manifest_missing_key_is_a_key_error_naming_the_key():
    mdp = TabularMDP(np.full((2, 2, 2), 0.5), np.full((2, 2), 0.5), [0.5, 0.5], gamma=0.9)
    meta = data.sample_iid(mdp, np.full((2, 2), 0.25), 3, seed=0).meta
    with pytest.raises(KeyError) as info:
        meta["absent"]  # noqa: B018
    assert info.value.args == ("absent",)


class _Meta(Mapping):
    """A read-only mapping with no ``copy`` method (a valid ``meta``: any mapping is)."""

    def __init__(self, **kw):
        self._d = kw

    def __getitem__(self, k):
        return self._d[k]

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)


def test_any_mapping_is_a_valid_meta_for_subsets_and_counts():
    d = OfflineDataset(np.array([0]), np.array([1]), np.array([0.5]), np.array([1]), np.array([0]), np.array([0]),
                       np.ones(1), 2, 2, gamma=0.5, meta=_Meta(tag="m"))  # fmt: skip
    assert d.subset([0]).meta == {"tag": "m"} and type(d.subset([0]).meta) is dict
    assert d.to_counts().meta == {"tag": "m"}


def _saved(tmp_path):
    d = _trajectories()
    d.save(tmp_path / "d")
    return d, str(tmp_path / "d")


def _rewrite_npz(path, members):
    """Replace ``path``'s members: ``members`` maps a name to the raw bytes of its ``.npy`` (or another) file; the
    saved ``save_id`` member is kept."""
    with zipfile.ZipFile(path) as zf:
        keep = {"save_id.npy": zf.read("save_id.npy")}
    with zipfile.ZipFile(path, "w") as zf:
        for name, raw in {**keep, **members}.items():
            zf.writestr(name, raw)


def _npy(arr, version=(1, 0)):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), version=version, allow_pickle=True)
    return buf.getvalue()


def _header_only(shape, payload: int) -> bytes:
    """A version-1.0 ``.npy`` of int64 that declares ``shape`` but holds ``payload`` bytes of data."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<i8", "fortran_order": False, "shape": shape})
    return buf.getvalue() + bytes(payload)


def test_version_2_headers_load(tmp_path):
    d, stem = _saved(tmp_path)
    _rewrite_npz(stem + ".npz", {f + ".npy": _npy(getattr(d, f), version=(2, 0)) for f in FIELDS})
    back = data.load(stem)
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(back, f), getattr(d, f))


def test_hostile_arrays_are_refused_naming_the_file_and_the_array(tmp_path):
    d, stem = _saved(tmp_path)
    npz = stem + ".npz"
    good = {f + ".npy": _npy(getattr(d, f)) for f in FIELDS}
    _rewrite_npz(npz, {**good, "notes.txt": b"x"})
    _raises(ValueError, f"{npz}: holds 'notes.txt', not a .npy array", data.load, stem)
    _rewrite_npz(npz, {**good, "state.npy": _npy(np.array([1, "a"], dtype=object))})
    _raises(ValueError, f"{npz}: array 'state' has dtype object (pickled objects): refused", data.load, stem)
    # 10 x 10 int64 declared (800 bytes), 16 held: the product of the dimensions, times the item size
    member = _header_only((10, 10), 16)
    _rewrite_npz(npz, {**good, "state.npy": member})
    _raises(ValueError, f"{npz}: array 'state' declares shape (10, 10) of int64 but holds {len(member)} bytes",
            data.load, stem)
    # declared size exactly the member's size: not refused by the size check (numpy then reads it)
    exact = _header_only((20,), 32)  # 128-byte header + 32 bytes = 160 = 20 * 8
    assert len(exact) == 160
    _rewrite_npz(npz, {**good, "state.npy": exact})
    with pytest.raises(ValueError) as info:
        data.load(stem)
    assert "declares shape" not in str(info.value) and str(info.value).startswith(npz + ": ")


def test_hostile_manifests_are_refused_naming_the_file(tmp_path, monkeypatch):
    d, stem = _saved(tmp_path)
    js = stem + ".json"
    text = open(js).read()
    for content, problem in (
        ("[1, 2]", "is not a theory_rl dataset manifest (format 'theory_rl.dataset/1')"),
        ('{"format": "other"}', "is not a theory_rl dataset manifest (format 'theory_rl.dataset/1')"),
        ("{", "is not valid JSON: JSONDecodeError: Expecting property name enclosed in double quotes: line 1 "
              "column 2 (char 1)"),
    ):
        with open(js, "w") as fh:
            fh.write(content)
        _raises(ValueError, f"{js}: {problem}", data.load, stem)
    with open(js, "w") as fh:
        fh.write(text)
    files = importlib.import_module("theory_rl.data.files")
    reads = []
    real_open = open

    def recording_open(*args, **kwargs):
        fh = real_open(*args, **kwargs)
        read = fh.read

        def counted(size=-1):
            reads.append(size)
            return read(size)

        fh.read = counted
        return fh

    monkeypatch.setattr(files, "open", recording_open, raising=False)
    size = len(text.encode())
    monkeypatch.setattr(files, "MAX_MANIFEST_BYTES", size)  # exactly the manifest's size: still read
    assert len(data.load(stem)) == 3
    assert reads == [size + 1]  # one bounded read: at most one byte over the limit
    monkeypatch.setattr(files, "MAX_MANIFEST_BYTES", size - 1)
    _raises(ValueError, f"{js}: is over {size - 1} bytes, not a dataset manifest", data.load, stem)


def test_npz_errors_are_wrapped_once_and_cut_at_200_characters(tmp_path):
    d, stem = _saved(tmp_path)
    npz = stem + ".npz"
    good = {f + ".npy": _npy(getattr(d, f)) for f in FIELDS}
    # numpy's own ValueError (truncated data), wrapped once, its text kept
    _rewrite_npz(npz, {**good, "state.npy": _header_only((20,), 32)})
    _raises(ValueError, f"{npz}: is not a valid .npz of plain arrays: EOF: reading array data, expected 160 bytes "
                        "got 32", data.load, stem)
    # a header numpy refuses with a long message (it quotes the header): the text is cut at 200 characters
    header = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), '" + "x" * 300 + "': 0}"
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    raw = np.lib.format.magic(1, 0) + len(header).to_bytes(2, "little") + header.encode("latin1") + bytes(24)
    _rewrite_npz(npz, {**good, "state.npy": raw})
    with pytest.raises(ValueError) as info:
        data.load(stem)
    prefix = f"{npz}: is not a valid .npz of plain arrays: "
    text = str(info.value)
    assert text.startswith(prefix) and len(text) == len(prefix) + 200 and not text[len(prefix):].startswith(npz)
    # not a zip: the exception's name and text
    with open(npz, "wb") as fh:
        fh.write(b"not a zip")
    _raises(ValueError, f"{npz}: is not a valid .npz of plain arrays: BadZipFile: File is not a zip file",
            data.load, stem)


def test_a_missing_array_file_with_a_long_name_is_cut_at_200_characters(tmp_path):
    folder = tmp_path / ("d" * 200)
    folder.mkdir()
    d = _trajectories()
    d.save(folder / "x")
    npz = str(folder / "x.npz")
    (folder / "x.npz").unlink()
    err = f"[Errno 2] No such file or directory: '{npz}'"
    assert len(err) > 201
    _raises(ValueError, f"{npz}: is not a valid .npz of plain arrays: FileNotFoundError: {err[:200]}", data.load,
            folder / "x")


def test_save_ids_that_do_not_match_are_named_as_found(tmp_path):
    d, stem = _saved(tmp_path)
    npz = stem + ".npz"
    sid = json.loads(open(stem + ".json").read())["save_id"]
    good = {f + ".npy": _npy(getattr(d, f)) for f in FIELDS}
    for found, shown in ((None, "None"), (np.array(5), "array(5)"), (np.array(["abc"]), "array(['abc'], dtype='<U3')")):
        with zipfile.ZipFile(npz, "w") as zf:
            for name, raw in good.items():
                zf.writestr(name, raw)
            if found is not None:
                zf.writestr("save_id.npy", _npy(found))
        _raises(ValueError, f"{npz}: is not the array file of its manifest (save_id {shown} against {sid!r}): the "
                            "pair is from two different saves (a save interrupted between its two renames?)",
                data.load, stem)


def test_the_memory_check_counts_each_array_in_its_own_item_size(tmp_path, monkeypatch):
    d, stem = _saved(tmp_path)
    npz = stem + ".npz"
    good = {f + ".npy": _npy(getattr(d, f)) for f in FIELDS}
    # 100 int32 states are 400 bytes: under a 500-byte limit (at 8 bytes an entry they would be 800)
    _rewrite_npz(npz, {**good, "state.npy": _npy(np.zeros(100, np.int32))})
    monkeypatch.setattr("theory_rl._validation.MEMORY_BYTES", 500)
    _raises(ValueError, f"{stem}.json / .npz: action has 3 entries, but state has 100", data.load, stem)
    _rewrite_npz(npz, {**good, "state.npy": _npy(np.zeros(126, np.int32))})
    with pytest.raises(ValueError, match=r": array 'state' asks for 126 entries"):
        data.load(stem)


# ---------------------------------------------------------------------- rollouts
def test_an_episode_is_one_lane_run_from_one_raw_draw():
    mdp = TabularMDP(np.full((3, 2, 3), 1 / 3), np.full((3, 2), 0.5), [1 / 3] * 3, horizon=4)
    sampler = data.RolloutSampler(mdp)
    policy = np.array([0, 1, 1])
    rng = np.random.default_rng(5)
    raw = np.random.default_rng(5).bit_generator.random_raw()
    ep = sampler.episode(policy, rng)
    # the documented seed rule: one raw 64-bit output, then a one-episode kernel run from it
    states, actions, rewards = sampler._run(np.uint64(raw), policy, 1)
    np.testing.assert_array_equal(ep.states, states[0])
    np.testing.assert_array_equal(ep.actions, actions[0])
    np.testing.assert_array_equal(ep.rewards, rewards[0])
    assert ep.states.shape == (5,) and ep.actions.shape == (4,)
    assert rng.bit_generator.random_raw() == np.random.default_rng(5).bit_generator.random_raw(2)[1]


def test_saves_write_hidden_temporaries_beside_the_files_then_rename(tmp_path, monkeypatch):
    files = importlib.import_module("theory_rl.data.files")
    moves = []
    real = files.os.replace

    def recording(src, dst):
        moves.append((str(src), str(dst)))
        return real(src, dst)

    monkeypatch.setattr(files.os, "replace", recording)
    d = _trajectories()
    d.save(tmp_path / "s")
    assert [dst for _, dst in moves] == [str(tmp_path / "s.npz"), str(tmp_path / "s.json")]
    for src, dst in moves:
        assert os.path.dirname(src) == str(tmp_path) and os.path.basename(src).startswith(".tmp-")
        assert os.path.splitext(src)[1] == os.path.splitext(dst)[1]
    manifest = json.loads((tmp_path / "s.json").read_text())
    assert manifest["n"] == 3 and manifest["meta"] == {"tag": "t"} and manifest["kind"] == "samples"
    assert sorted(os.listdir(tmp_path)) == ["s.json", "s.npz"]


def test_the_manifest_count_must_be_an_int_equal_to_the_arrays(tmp_path):
    d = _trajectories(episode=(0,))
    d.save(tmp_path / "one")
    path = tmp_path / "one.json"
    manifest = json.loads(path.read_text())
    for n, shown in ((True, "True"), (1.0, "1.0"), (2, "2")):
        path.write_text(json.dumps({**manifest, "n": n}))
        _raises(ValueError, f"{tmp_path / 'one'}.json / .npz: the manifest says n = {shown}, but the arrays hold 1 "
                            "transitions", data.load, tmp_path / "one")
    path.write_text(json.dumps({**manifest, "n": None}))
    assert len(data.load(tmp_path / "one.json")) == 1


def test_corrupt_keeps_the_kind_of_the_data():
    out = data.corrupt(_iid(n=20), "action", seed=0)
    assert (out.data.gamma, out.data.horizon, out.data.S, out.data.A) == (0.9, None, 3, 2)
    mdp = TabularMDP(np.full((3, 2, 3), 1 / 3), np.full((3, 2), 0.5), [0.5, 0.25, 0.25], horizon=2)
    h = data.corrupt(data.sample_iid(mdp, np.full((3, 2), 1 / 6), 10, seed=0), "state", seed=0)
    assert (h.data.gamma, h.data.horizon) == (None, 2)


# ---------------------------------------------------------------------- the records' construction checks
def _cd(N, C, R):
    return CountDataset(np.asarray(N) if not isinstance(N, list) else N, np.asarray(C), np.asarray(R), 2, 1,
                        gamma=0.5)


def test_count_dataset_refusals_name_the_entry_and_the_expected_value():
    C0, R0 = np.zeros((2, 1, 2)), np.zeros((2, 1))
    _raises(ValueError, "counts has shape list, expected (S, A) = (2, 1)", _cd, [[1], [0]], C0, R0)
    _raises(ValueError, "counts has dtype complex128, expected integers or floats", _cd, np.array([[1j], [0]]), C0,
            R0)
    _raises(ValueError, "counts[1, 0] is -1, expected a finite count >= 0", _cd, np.array([[1], [-1]]), C0, R0)
    _raises(ValueError, "counts[1, 0] is nan, expected a finite count >= 0", _cd, np.array([[1.0], [np.nan]]),
            [[[1.0, 0]], [[0, 0]]], R0)
    _raises(ValueError, "reward_sums[0, 0] is inf, expected a finite number", _cd, np.array([[1], [0]]),
            [[[1, 0]], [[0, 0]]], np.array([[np.inf], [0]]))
    _raises(ValueError, "transition_counts[0, 0] sums to 1.0000000000015 over next states, but counts[0, 0] is 1.0",
            _cd, np.array([[1.0], [0]]), [[[1.0 + 1.5e-12, 0]], [[0, 0]]], R0)
    # the tolerance is relative, 1e-12 * max(1, N), with a strict inequality: N = 1e12 admits a difference of 1
    assert 1e-12 * 1e12 == 1.0
    ok = _cd(np.array([[1e12], [0]]), [[[1e12 + 1, 0]], [[0, 0]]], R0)
    assert ok.counts.dtype == np.float64 and _cd(np.array([[1.0], [0]]), [[[1.0 + 0.5e-12, 0]], [[0, 0]]], R0)


def _od(**over):
    f = dict(state=np.array([0, 1]), action=np.array([0, 0]), reward=np.array([0.5, 1.0]),
             next_state=np.array([1, 0]), step=np.array([0, 0]), episode=np.array([0, 0]), behaviour_prob=np.ones(2))
    return OfflineDataset(**{**f, **over}, S=2, A=1, gamma=0.5)


def test_offline_dataset_refusals_name_the_entry_and_the_expected_value():
    assert _od(reward=np.array([0.5, 1.0], np.float32)).reward.dtype == np.float32  # any float or integer rewards
    assert _od(reward=np.array([0, 1])).reward.dtype.kind == "i"
    _raises(ValueError, "reward has dtype bool, expected a float array", _od, reward=np.array([True, False]))
    _raises(ValueError, "state must be a 1-D numpy array, got shape list", _od, state=[0, 1])
    _raises(ValueError, "episode[1] is -1, expected an integer >= 0", _od, episode=np.array([0, -1]))
    _raises(ValueError, "state[1] is 2, expected a value in 0..1", _od, state=np.array([0, 2]))
    e = np.array([], int)
    with pytest.raises(ValueError, match=r"^counts of shape \(S, A\) = \(10000000, 10000000\) needs 1e\+14 "):
        OfflineDataset(e, e, np.array([]), e, e, e, np.array([]), 10**7, 10**7, gamma=0.5)
    with pytest.raises(ValueError, match=r"^counts of shape \(horizon, S, A\) = \(1000, 10000000, 10000000\) "
                                         r"needs 1e\+17 "):
        OfflineDataset(e, e, np.array([]), e, e, e, np.array([]), 10**7, 10**7, horizon=1000)


# ---------------------------------------------------------------------- writing files
def test_the_manifest_is_sorted_indented_json_with_lists_kept(tmp_path):
    d = _trajectories()
    meta = {"parts": [{"a": 1}, 2], "b": "x"}
    d2 = d.subset(np.arange(3))
    object.__setattr__(d2, "meta", meta)  # a meta with a list (as concatenate records)
    d2.save(tmp_path / "m.json")  # a path ending in .json names the pair
    text = (tmp_path / "m.json").read_text()
    manifest = json.loads(text)
    assert text == json.dumps(manifest, indent=2, sort_keys=True)
    assert manifest["meta"] == meta and sorted(os.listdir(tmp_path)) == ["m.json", "m.npz"]


def test_write_files_checks_its_arguments_and_defaults_meta(tmp_path):
    files = importlib.import_module("theory_rl.data.files")
    _raises(ValueError, "kind is 'bad', expected one of ('counts', 'samples')", files.write_files, tmp_path / "a",
            "bad", {}, {})
    _raises(ValueError, "arrays is a list, expected a dict", files.write_files, tmp_path / "a", "counts", [], {})
    files.write_files(tmp_path / "a", "counts", {"x": np.zeros(2)}, {"S": 1})
    assert json.loads((tmp_path / "a.json").read_text())["meta"] == {}


def test_a_failed_save_leaves_nothing_and_raises_the_cause(tmp_path, monkeypatch):
    files = importlib.import_module("theory_rl.data.files")
    d = _trajectories()
    calls = []

    def failing_fsync(fd, fail_at):
        calls.append(fd)
        if len(calls) == fail_at:
            raise OSError("disk full")

    for fail_at in (1, 2):  # the array file's write, then the manifest's
        calls.clear()
        monkeypatch.setattr(files.os, "fsync", lambda fd, k=fail_at: failing_fsync(fd, k))
        with pytest.raises(OSError, match="^disk full$"):
            d.save(tmp_path / "f")
        assert os.listdir(tmp_path) == []


def test_single_precision_counts_are_admitted_and_checked():
    N = np.array([[1.0], [0.0]], np.float32)
    assert _cd(N, [[[1.0, 0]], [[0, 0]]], np.zeros((2, 1))).counts.dtype == np.float32
    _raises(ValueError, "counts[1, 0] is nan, expected a finite count >= 0", _cd,
            np.array([[1.0], [np.nan]], np.float32), [[[1.0, 0]], [[0, 0]]], np.zeros((2, 1)))
    _raises(ValueError, "state must be a 1-D numpy array, got shape (1, 2)", _od, state=np.array([[0, 1]]))


def test_sizes_and_probabilities_at_their_edges():
    z = np.zeros
    _raises(ValueError, "horizon is 0, expected an integer >= 1", CountDataset, z((2, 1)), z((2, 1, 2)), z((2, 1)), 2,
            1, horizon=0)
    assert CountDataset(z((1, 2, 1)), z((1, 2, 1, 2)), z((1, 2, 1)), 2, 1, horizon=1).horizon == 1
    _raises(ValueError, "gamma is 1.0, expected a discount factor in [0, 1) or None", CountDataset, z((2, 1)),
            z((2, 1, 2)), z((2, 1)), 2, 1, gamma=1.0)
    _raises(ValueError, "gamma is 0.5 and horizon is 2: a dataset is discounted (gamma) or finite-horizon (horizon), "
                        "not both", CountDataset, z((2, 2, 1)), z((2, 2, 1, 2)), z((2, 2, 1)), 2, 1, gamma=0.5,
            horizon=2)
    assert _od(behaviour_prob=np.array([0.0, 1.0])).behaviour_prob[0] == 0.0  # both ends of [0, 1] admitted
    _raises(ValueError, "behaviour_prob[1] is 1.5, expected a probability in [0, 1]", _od,
            behaviour_prob=np.array([1.0, 1.5]))
    _raises(ValueError, "reward[0] is nan, expected a finite number", _od, reward=np.array([np.nan, 1.0]))

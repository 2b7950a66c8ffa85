"""Minari export and import with the real library: exact round trips, the layout Minari users read, foreign data."""

from __future__ import annotations

import numpy as np
import pytest

minari = pytest.importorskip("minari", reason="the 'minari' extra is not installed (pip install -e '.[minari]')")
spaces = pytest.importorskip("gymnasium.spaces")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from minari.data_collector import EpisodeBuffer  # noqa: E402

from tests.interop.conftest import (  # noqa: E402
    FIELDS,
    assert_same_statistics,
    fresh_id,
    offline_datasets,
    small_datasets,
)
from theory_rl import data  # noqa: E402
from theory_rl.interop import from_minari, to_minari  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore:`(author|author_email|code_permalink)` is set to None"),
              pytest.mark.filterwarnings("ignore:(env_spec|`eval_env`) is set to None|env_spec is None")]

DATASETS = small_datasets()


@pytest.mark.parametrize("name", list(DATASETS))
def test_round_trip_is_exact_in_every_field(minari_home, name):
    d = DATASETS[name]
    out = to_minari(d, fresh_id())
    assert out.total_steps == len(d)  # every transition kept
    back = from_minari(out)
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(back, f), getattr(d, f), err_msg=f)
    assert (back.gamma, back.horizon) == (d.gamma, d.horizon)
    assert_same_statistics(back, d)
    assert back.meta["coverage"] == d.meta["coverage"]  # the measured coverage travels in the metadata


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(d=offline_datasets())
def test_round_trip_is_exact_on_random_datasets(minari_home, d):
    """Shuffled chains, shared episode ids, any step: Minari's episodes hold them all, and every field returns."""
    out = to_minari(d, fresh_id("tr/hyp"))
    assert out.total_steps == len(d)
    back = from_minari(out)
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(back, f), getattr(d, f), err_msg=f)


def test_layout_is_what_minari_users_read(minari_home):
    d = DATASETS["traj-epi"]  # 12 episodes of H = 4 steps
    dataset_id = fresh_id()
    to_minari(d, dataset_id, author="t", author_email="t@x", code_permalink="c")
    out = minari.load_dataset(dataset_id)  # read back by Minari alone
    assert out.total_episodes == 12 and out.total_steps == 48
    assert out.observation_space == spaces.Discrete(5) and out.action_space == spaces.Discrete(3)
    for k, ep in enumerate(out.iterate_episodes()):
        rows = slice(4 * k, 4 * k + 4)
        np.testing.assert_array_equal(ep.observations[:-1], d.state[rows])
        assert ep.observations[-1] == d.next_state[4 * k + 3]  # the final next observation is stored
        np.testing.assert_array_equal(ep.actions, d.action[rows])
        np.testing.assert_array_equal(ep.rewards, d.reward[rows])
        assert not ep.terminations.any()  # no terminal states in a tabular MDP
        np.testing.assert_array_equal(ep.truncations, [False, False, False, True])  # the horizon truncates
        np.testing.assert_array_equal(ep.infos["step"], [0, 1, 2, 3, 4])
    meta = out.storage.metadata["theory_rl"]
    assert meta["S"] == 5 and meta["horizon"] == 4 and meta["n_transitions"] == 48
    assert meta["meta"]["coverage"]["C_star"] == pytest.approx(d.meta["coverage"]["C_star"])
    assert meta["meta"]["generator"] == d.meta["generator"]


def test_iid_samples_are_one_step_episodes(minari_home):
    d = DATASETS["iid-disc"]
    out = to_minari(d, fresh_id())
    assert out.total_episodes == len(d) == out.total_steps
    ep = next(iter(out.iterate_episodes([3])))
    np.testing.assert_array_equal(ep.observations, [d.state[3], d.next_state[3]])
    assert ep.truncations.tolist() == [True] and ep.terminations.tolist() == [False]


def test_shuffled_episodes_are_cut_into_linked_runs(minari_home):
    """Rows of a shuffled subset are no longer contiguous episodes: each stored episode is then a run of linked
    transitions, and reading the raw Minari steps gives back the dataset's rows as a multiset."""
    d = DATASETS["shuffled"]
    out = to_minari(d, fresh_id())
    assert out.total_steps == len(d) and out.total_episodes > d.n_episodes
    stored = []
    for ep in out.iterate_episodes():
        o = ep.observations
        stored += [(o[t], ep.actions[t], ep.rewards[t], o[t + 1], ep.infos["step"][t]) for t in range(len(ep.actions))]
    rows = list(zip(d.state, d.action, d.reward, d.next_state, d.step, strict=True))
    assert sorted(stored) == sorted(rows)


def test_failed_export_leaves_nothing(minari_home):
    d = DATASETS["iid-epi"]
    dataset_id = fresh_id()
    to_minari(d, dataset_id)
    with pytest.raises(ValueError, match="dataset_id"):
        to_minari(d, dataset_id)  # Minari never overwrites
    assert from_minari(dataset_id).n == len(d)  # the first one is intact
    for bad in ("no-version", "x/y-v0", "a b-v0"):
        with pytest.raises(ValueError, match="dataset_id"):
            to_minari(d, bad)
    assert sorted(p.name for p in minari_home.rglob("*") if p.is_dir() and "no-version" in p.name) == []
    with pytest.raises(ValueError, match="empty"):
        to_minari(d.subset(np.zeros(0, int)), fresh_id())


def test_foreign_dataset_imports_with_positions_and_empirical_behaviour(minari_home):
    """A Minari dataset written by Minari alone (no theory_rl metadata, no infos): steps are positions in the
    episode, behaviour probabilities the empirical frequencies, terminated episodes counted."""
    rng = np.random.default_rng(0)
    buffers, rows = [], []
    for k in range(5):
        L = 3 + k % 2
        obs = rng.integers(0, 4, L + 1)
        act = rng.integers(0, 2, L)
        rew = rng.random(L)
        term = [False] * (L - 1) + [k == 4]
        buffers.append(EpisodeBuffer(id=k, observations=obs, actions=act, rewards=list(rew), terminations=term,
                                     truncations=[False] * (L - 1) + [k != 4]))
        rows += [(obs[t], act[t], rew[t], obs[t + 1], t, k) for t in range(L)]
    dataset_id = fresh_id()
    minari.create_dataset_from_buffers(dataset_id, buffers, observation_space=spaces.Discrete(4),
                                       action_space=spaces.Discrete(2), algorithm_name="x", description="d")
    back = from_minari(dataset_id, horizon=4)
    s, a, r, s2, h, e = (np.array(c) for c in zip(*rows, strict=True))
    np.testing.assert_array_equal(back.state, s)
    np.testing.assert_array_equal(back.next_state, s2)
    np.testing.assert_array_equal(back.action, a)
    np.testing.assert_array_equal(back.reward, r)
    np.testing.assert_array_equal(back.step, h)
    np.testing.assert_array_equal(back.episode, e)
    assert back.meta["terminated_episodes"] == 1 and "empirical" in back.meta["behaviour_prob"]
    counts = back.counts
    for i in range(len(s)):  # N_h(s, a) / N_h(s)
        assert back.behaviour_prob[i] == counts[h[i], s[i], a[i]] / counts[h[i], s[i]].sum()
    with pytest.raises(ValueError, match="step"):
        from_minari(dataset_id, horizon=3)  # episodes of 4 steps do not fit a horizon of 3


def test_exact_analysis_runs_on_imported_data(minari_home):
    d = DATASETS["traj-epi"]
    back = from_minari(to_minari(d, fresh_id()))
    want, got = d.empirical_model(), back.empirical_model()
    np.testing.assert_array_equal(got.P, want.P)
    np.testing.assert_array_equal(got.R, want.R)
    assert isinstance(back.to_counts(), data.CountDataset)


def test_non_discrete_spaces_are_refused(minari_home):
    dataset_id = fresh_id()
    buf = EpisodeBuffer(id=0, observations=np.zeros((3, 2), np.float32), actions=np.array([0, 1]), rewards=[0.0, 1.0],
                        terminations=[False, False], truncations=[False, True])
    minari.create_dataset_from_buffers(dataset_id, [buf], observation_space=spaces.Box(-1, 1, (2,)),
                                       action_space=spaces.Discrete(2), algorithm_name="x", description="d")
    with pytest.raises(ValueError, match="Discrete"):
        from_minari(dataset_id)
    with pytest.raises(ValueError, match="dataset"):
        from_minari("tr/no-such-dataset-v0")

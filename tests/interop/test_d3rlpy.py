"""d3rlpy export and import with the real library: every transition kept, exact round trips, DiscreteCQL trains.

d3rlpy 2.8.1 pins gymnasium==1.0.0, so it is not in the README's main test command; run these with the separate
d3rlpy command of the README (its own venv).
"""

from __future__ import annotations

import numpy as np
import pytest

d3rlpy = pytest.importorskip(
    "d3rlpy", reason="the 'd3rlpy' extra is not installed: see the README's separate d3rlpy test command")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.interop.conftest import assert_same_statistics, offline_datasets, small_datasets  # noqa: E402
from theory_rl.interop import from_d3rlpy, to_d3rlpy  # noqa: E402

DATASETS = small_datasets()


def _mdp_dataset(obs, actions, rewards, terminals, timeouts, A):
    return d3rlpy.dataset.MDPDataset(np.asarray(obs, np.float32), np.asarray(actions), np.asarray(rewards, float),
                                     np.asarray(terminals, np.float32), np.asarray(timeouts, np.float32),
                                     action_space=d3rlpy.constants.ActionSpace.DISCRETE, action_size=A)  # fmt: skip


@pytest.mark.parametrize("observation", ["one_hot", "index"])
@pytest.mark.parametrize("name", list(DATASETS))
def test_every_transition_is_kept_and_the_round_trip_is_exact(name, observation):
    d = DATASETS[name]
    out = to_d3rlpy(d, observation)
    assert out.transition_count == len(d)
    back = from_d3rlpy(out, observation, S=d.S, gamma=d.gamma, horizon=d.horizon)
    assert len(back) == len(d)
    assert_same_statistics(back, d)
    np.testing.assert_array_equal(back.reward, d.reward)  # float64 rewards, not rounded to float32
    if d.horizon is not None:
        np.testing.assert_array_equal(back.step, d.step)  # the step is part of the observation


@settings(max_examples=40, deadline=None)
@given(offline_datasets(), st.sampled_from(["one_hot", "index"]))
def test_round_trip_is_exact_on_random_datasets(d, observation):
    out = to_d3rlpy(d, observation)
    assert out.transition_count == len(d)
    back = from_d3rlpy(out, observation, S=d.S, gamma=d.gamma, horizon=d.horizon)
    assert_same_statistics(back, d)
    for f in ("state", "action", "reward", "next_state"):  # the same transitions, in the same order
        np.testing.assert_array_equal(getattr(back, f), getattr(d, f), err_msg=f)
    if d.horizon is not None:
        np.testing.assert_array_equal(back.step, d.step)


def test_the_row_layout_loses_what_to_d3rlpy_keeps():
    """The issue's measurement: rows of ``as_arrays()`` fed to MDPDataset as (terminals, timeouts) lose the last
    step of each episode, and all of i.i.d. data (each sample a one-row timed-out episode)."""
    for name, lost in (("iid-disc", 40), ("traj-epi", 12)):
        d = DATASETS[name]
        arr = d.as_arrays()
        naive = _mdp_dataset(np.eye(d.S)[arr["observations"]], arr["actions"], arr["rewards"], arr["terminations"],
                             arr["truncations"], d.A)
        assert naive.transition_count == len(d) - lost
        assert to_d3rlpy(d).transition_count == len(d)


def test_one_hot_layout_has_the_final_next_state_in_a_padding_row():
    d = DATASETS["traj-epi"]  # H = 4, S = 5
    ep = to_d3rlpy(d, "one_hot").episodes[0]
    assert ep.observations.shape == (5, 5 + 5) and not ep.terminated
    states = np.argmax(ep.observations[:, :5], axis=1)
    steps = np.argmax(ep.observations[:, 5:], axis=1)
    np.testing.assert_array_equal(states, np.append(d.state[:4], d.next_state[3]))
    np.testing.assert_array_equal(steps, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(ep.actions[:4, 0], d.action[:4])
    assert ep.actions[4, 0] == 0 and ep.rewards[4, 0] == 0  # padding, never a transition's own
    idx = to_d3rlpy(d, "index").episodes[0].observations
    np.testing.assert_array_equal(idx, np.stack([states, steps], axis=1))


def test_discrete_cql_trains_on_an_exported_dataset():
    d3rlpy.seed(0)
    d = DATASETS["traj-disc"]
    cql = d3rlpy.algos.DiscreteCQLConfig(batch_size=8, gamma=0.9).create(device="cpu:0")
    history = cql.fit(to_d3rlpy(d), n_steps=20, n_steps_per_epoch=10, show_progress=False, save_interval=100,
                      logger_adapter=d3rlpy.logging.NoopAdapterFactory())  # fmt: skip
    assert len(history) == 2 and all(np.isfinite(m["loss"]) for _, m in history)
    actions = cql.predict(np.eye(d.S, dtype=np.float32))
    assert actions.shape == (d.S,) and set(actions.tolist()) <= set(range(d.A))


def test_foreign_terminal_episodes_need_a_terminal_state():
    # two episodes: 0 -> 1 -> 2 (timeout: 2 transitions), 3 -> 0 then terminal (2 transitions, the last to nowhere)
    obs = np.eye(4)[[0, 1, 2, 3, 0]]
    ds = _mdp_dataset(obs, [1, 0, 1, 1, 0], [0.5, 1, 0, 0.25, 2], [0, 0, 0, 0, 1], [0, 0, 1, 0, 0], 2)
    with pytest.raises(ValueError, match="terminal_state"):
        from_d3rlpy(ds)
    back = from_d3rlpy(ds, terminal_state=2)
    np.testing.assert_array_equal(back.state, [0, 1, 3, 0])
    np.testing.assert_array_equal(back.next_state, [1, 2, 0, 2])
    np.testing.assert_array_equal(back.action, [1, 0, 1, 0])
    np.testing.assert_array_equal(back.reward, [0.5, 1, 0.25, 2])
    np.testing.assert_array_equal(back.episode, [0, 0, 1, 1])
    np.testing.assert_array_equal(back.step, [0, 1, 0, 1])
    np.testing.assert_array_equal(back.behaviour_prob, [0.5, 1, 1, 0.5])  # state 0: actions 1 and 0, once each
    assert "empirical" in back.meta["behaviour_prob"]


def test_bad_observations_are_refused():
    obs = np.eye(4)[[0, 1, 2]]
    obs[1, 2] = 1.0  # two hot entries
    ds = _mdp_dataset(obs, [0, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1], 2)
    with pytest.raises(ValueError, match="one-hot"):
        from_d3rlpy(ds)
    with pytest.raises(ValueError, match="S"):
        from_d3rlpy(ds, "index")  # S is needed
    with pytest.raises(ValueError, match="shape"):
        from_d3rlpy(ds, "index", S=4)  # 4 columns, not one index
    frac = _mdp_dataset([[0.0], [1.5], [2.0]], [0, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1], 2)
    with pytest.raises(ValueError, match="integer"):
        from_d3rlpy(frac, "index", S=4)
    out_of_range = _mdp_dataset([[0.0], [7.0], [2.0]], [0, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1], 2)
    with pytest.raises(ValueError, match=r"state\[1\] is 7"):
        from_d3rlpy(out_of_range, "index", S=4)
    with pytest.raises(ValueError, match="empty"):
        to_d3rlpy(DATASETS["iid-disc"].subset(np.zeros(0, int)))

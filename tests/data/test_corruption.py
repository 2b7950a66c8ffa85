"""RIQL's corruption protocol as a transform of the sample-level dataset (issue 18)."""

import numpy as np
import pytest

from theory_rl import data, generators, planning
from theory_rl.data.corruption import REWARD_FACTOR, corrupt

MDP = generators.garnet(S=5, A=3, branching=2, gamma=0.9, seed=0)
CLEAN = data.sample_iid(MDP, np.full((5, 3), 1 / 15), 4000, seed=1)
Q = planning.solve(MDP).Q
FIELDS = ("state", "action", "reward", "next_state")
TOUCHES = {"reward": "reward", "dynamics": "next_state", "action": "action", "state": "state"}


@pytest.mark.parametrize("target", list(TOUCHES))
@pytest.mark.parametrize("mode", ["random", "adversarial"])
def test_only_the_target_field_of_the_attacked_transitions_changes(target, mode):
    out = corrupt(CLEAN, target, seed=3, mode=mode, Q=Q)
    for f in FIELDS:
        before, after = getattr(CLEAN, f), getattr(out.data, f)
        if f == TOUCHES[target]:
            assert np.array_equal(before[~out.mask], after[~out.mask])
        else:
            assert np.array_equal(before, after)
    assert out.data.meta["corruption"]["n_corrupted"] == out.mask.sum()
    assert "corruption" not in CLEAN.meta  # the input is never modified


def test_fraction_is_binomial_with_the_code_default():
    # n = 4000, p = 0.3: sd = 29; |count - 1200| > 145 (5 sd) has probability < 1e-6 (fixed seed anyway)
    m = corrupt(CLEAN, "reward", seed=11).mask.sum()
    assert abs(m - 1200) < 145
    assert corrupt(CLEAN, "reward", seed=11, rate=0.0).mask.sum() == 0
    assert corrupt(CLEAN, "reward", seed=11, rate=1.0).mask.all()


def test_attack_values():
    rnd = corrupt(CLEAN, "reward", seed=2, scale=0.5)
    r = rnd.data.reward[rnd.mask]
    assert r.min() >= -REWARD_FACTOR * 0.5 and r.max() <= REWARD_FACTOR * 0.5 and r.std() > 5  # U(-15, 15)
    adv = corrupt(CLEAN, "reward", seed=2, mode="adversarial", scale=0.5)
    assert adv.data.reward[adv.mask] == pytest.approx(-0.5 * CLEAN.reward[adv.mask])
    dyn = corrupt(CLEAN, "dynamics", seed=2, mode="adversarial", Q=Q)
    assert (dyn.data.next_state[dyn.mask] == np.argmin(Q.max(axis=1))).all()
    act = corrupt(CLEAN, "action", seed=2, mode="adversarial", Q=Q)
    assert (act.data.action[act.mask] == np.argmin(Q, axis=1)[CLEAN.state[act.mask]]).all()
    st = corrupt(CLEAN, "state", seed=2, mode="adversarial", Q=Q)
    assert (st.data.state[st.mask] == np.argmin(Q, axis=0)[CLEAN.action[st.mask]]).all()
    uni = corrupt(CLEAN, "dynamics", seed=2, rate=1.0)
    counts = np.bincount(uni.data.next_state, minlength=5)
    assert counts.min() > 700  # uniform over 5 states: 800 each, sd 25; a miss has probability < 1e-4


def test_refusals():
    with pytest.raises(ValueError, match="needs Q"):
        corrupt(CLEAN, "action", seed=0, mode="adversarial")
    with pytest.raises(ValueError, match="Q"):
        corrupt(CLEAN, "action", seed=0, mode="adversarial", Q=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="target"):
        corrupt(CLEAN, "obs", seed=0)
    with pytest.raises(ValueError, match="rate"):
        corrupt(CLEAN, "reward", seed=0, rate=1.5)

"""Issue 14, item 3 (second pass on ``theory_rl/algorithms/lcb.py``): tests written against the mutants that the
complete run on the current code (action masks, reward ranges, the compiled VI-LCB sweeps) left alive."""

import re

import numpy as np
import pytest

from theory_rl.algorithms import lcb
from theory_rl.data import sample_iid, sample_iid_counts
from theory_rl.mdp import TabularMDP


def test_vi_lcb_policy_is_integer_actions_with_and_without_splitting():
    """VI-LCB's sweeps run in one compiled call that fills the result's buffers: the policy must come back as
    integer actions (int64), usable as indices, and the values as float64, with and without data splitting."""
    rng = np.random.default_rng(0)
    mdp = TabularMDP(rng.dirichlet(np.ones(3), size=(3, 2)), rng.random((3, 2)), np.full(3, 1 / 3), gamma=0.8)
    data = sample_iid(mdp, np.full((3, 2), 1 / 6), 200, seed=1)
    for split in (True, False):
        res = lcb.vi_lcb(data, seed=2, split=split, penalty_scale=0.01)
        assert res.policy.dtype == np.int64 and res.policy.shape == (3,)
        assert res.V.dtype == np.float64 and res.Q.dtype == np.float64
        assert set(res.policy.tolist()) <= {0, 1}


def test_lcb_algorithms_refuse_data_off_the_unit_scale_by_name():
    """Every learner of the module checks its data first: a record whose meta states rewards on [0, 2], or a
    discounted finite horizon, is refused with a message naming the module (its constants assume [0, 1] rewards
    and undiscounted layers), never run."""
    rng = np.random.default_rng(1)
    S, A, H = 3, 2, 2
    P = rng.dirichlet(np.ones(S), size=(S, A))
    ranged = TabularMDP(P, rng.random((S, A)), np.full(S, 1 / S), gamma=0.8, reward_range=(0.0, 2.0),
                        reward_noise="deterministic")
    disc_h = TabularMDP(P, rng.random((S, A)), np.full(S, 1 / S), gamma=0.8, horizon=H)
    wide = sample_iid_counts(ranged, np.full((S, A), 1 / (S * A)), 50, seed=0)
    layered = sample_iid_counts(disc_h, np.full((H, S, A), 1 / (S * A)), 50, seed=0)
    name = re.escape("this algorithm (theory_rl.algorithms.lcb)")
    for call in (lambda d: lcb.vi_lcb(d, split=False), lcb.empirical_vi, lcb.most_played, lcb.bernstein_vi_lcb):
        with pytest.raises(ValueError, match=rf"^{name} assumes rewards in \[0, 1\], but the rewards lie in \[0\.0, 2"):
            call(wide)
    for call in (lcb.vi_lcb_episodic, lcb.bernstein_vi_lcb):
        with pytest.raises(ValueError, match=rf"^{name} assumes an undiscounted finite horizon"):
            call(layered)

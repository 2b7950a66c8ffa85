"""Kill tests of the ``data-io`` mutants left by the complete run of the third session of 2026-11-26 (issue 14;
``python -m benchmarks.mutation --module data-io``): the empirical MDP of counts with a reward range and a
finite horizon's discount (issue 15's scale entries in ``meta``).

Each test pins values computed by hand; only public functions and methods are called.
"""

from __future__ import annotations

import numpy as np
import pytest

from theory_rl.data import CountDataset


def _counts(meta, horizon=None):
    """Two states, two actions: (0, 1) seen 3 times (reward sum 4.5, mean 1.5), (1, 0) twice (sum -3, mean -1.5)."""
    lead = () if horizon is None else (horizon,)
    N = np.zeros(lead + (2, 2), np.int64)
    C = np.zeros(lead + (2, 2, 2), np.int64)
    Rs = np.zeros(lead + (2, 2))
    N[..., 0, 1], N[..., 1, 0] = 3, 2
    C[..., 0, 1, 0], C[..., 0, 1, 1], C[..., 1, 0, 0] = 1, 2, 2
    Rs[..., 0, 1], Rs[..., 1, 0] = 4.5, -3.0
    return CountDataset(N, C, Rs, 2, 2, gamma=None if horizon else 0.5, horizon=horizon, meta=meta)


@pytest.mark.parametrize("horizon", [None, 3])
def test_empirical_mdp_clips_to_the_data_s_reward_range(horizon):
    """The empirical rewards are clipped to ``meta["reward_range"]`` (here [-1, 2]: 1.5 kept, -1.5 raised to -1), and
    the model carries that range; without the entry the range is [0, 1]."""
    scaled = _counts({"reward_range": [-1.0, 2.0]}, horizon).empirical_mdp([0.5, 0.5], unseen_reward=0.25)
    assert scaled.reward_range == (-1.0, 2.0)
    want = np.array([[0.25, 1.5], [-1.0, 0.25]])
    np.testing.assert_array_equal(scaled.R if horizon is None else scaled.stage_R, want if horizon is None else
                                  np.broadcast_to(want, (horizon, 2, 2)))
    unit = _counts({}, horizon).empirical_mdp([0.5, 0.5], unseen_reward=0.25)
    assert unit.reward_range == (0.0, 1.0)
    np.testing.assert_array_equal(unit.R if horizon is None else unit.stage_R[0], [[0.25, 1.0], [0.0, 0.25]])


def test_empirical_mdp_keeps_a_finite_horizon_s_discount():
    model = _counts({"reward_range": [-1.0, 2.0], "discount": 0.9}, horizon=3).empirical_mdp([1.0, 0.0])
    assert (model.horizon, model.gamma) == (3, 0.9)
    plain = _counts({}, horizon=3).empirical_mdp([1.0, 0.0])
    assert (plain.horizon, plain.gamma) == (3, None)
    assert _counts({"discount": 0.9}).empirical_mdp([1.0, 0.0]).gamma == 0.5  # discounted data: its own gamma

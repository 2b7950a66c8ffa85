"""Kill tests for the mutants of theory_rl/bounds.py left by the complete mutation run of 2026-11-26 (issue 14)
on the code after the reward-range merge: ``python -m benchmarks.mutation --module bounds``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory_rl import bounds


@pytest.mark.parametrize(("low", "high"), [(-1.0, 2.0), (0.0, 5.0), (2.0, 2.5)])
def test_evaluate_scales_by_the_width_of_the_reward_range(low, high):
    """A bound stated for rewards in [0, 1] scales by r_max - r_min on [r_min, r_max] (the affine map of the rewards
    scales every sub-optimality by that factor): Thm 7 at N = 100, C = 2, S = 2, gamma = 1/2 is 0.4 + 0.08 on [0, 1]
    (tests/test_bounds.py's hand formula), on scalars and on arrays alike."""
    thm7 = bounds.get("rashidinejad2021_thm7")
    got = thm7.evaluate(reward_range=(low, high), N=100, C=2, S=2, gamma=0.5)
    assert got == pytest.approx((high - low) * 0.48, rel=1e-13, abs=0)
    arr = thm7.evaluate(reward_range=(low, high), N=np.array([100.0, 1000.0]), C=2, S=2, gamma=0.5)
    unit = thm7.evaluate(N=np.array([100.0, 1000.0]), C=2, S=2, gamma=0.5)
    assert np.allclose(arr, (high - low) * unit, rtol=1e-13, atol=0) and not math.isclose(high - low, 1.0)

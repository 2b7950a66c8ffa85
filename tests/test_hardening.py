"""Issue 13 [hardening]: bad input refused at the boundary, one test per class the hostile-user run found.

The common invalid-input test (test_invalid_input.py) feeds every public parameter NaN, inf, a complex number,
None, a complex array and a NaN array; the cases here are those it cannot generate (a value valid in type but
absurd in size or meaning).
"""

from __future__ import annotations

import numpy as np
import pytest

from theory_rl import generators, planning, policies
from theory_rl._validation import WORK_LIMIT, check_work
from theory_rl.algorithms import glow
from theory_rl.algorithms.two_arm_exact import exact_suboptimality
from theory_rl.mdp import TabularMDP
from theory_rl.results import ConvergenceWarning


def test_check_work_refuses_beyond_the_limit_and_nan():
    check_work(WORK_LIMIT, "n")
    for n in (WORK_LIMIT + 1, 10**30, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="n asks for"):
            check_work(n, "n")


def test_is_deterministic_on_an_action_array():
    # before: an int action array was read as probabilities, max 0 != 1, so "not deterministic"
    assert policies.is_deterministic(np.zeros(4, dtype=int))
    assert policies.is_deterministic(np.eye(2)[[0, 1, 0]])
    assert not policies.is_deterministic(np.full((3, 2), 0.5))
    assert policies.to_actions(np.array([1, 0, 1])).tolist() == [1, 0, 1]  # not argmax over the actions
    assert policies.to_actions(np.eye(2)[[1, 0, 1]]).tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match="probs"):
        policies.is_deterministic(np.array([-1, 0]))
    with pytest.raises(ValueError, match="probs"):
        policies.is_deterministic(np.zeros(4))  # floats that are not probabilities
    with pytest.raises(ValueError, match="probs"):
        policies.is_deterministic(np.array([[0.7, 0.7]]))


def test_decoy_targets_are_not_cast_to_bool():
    # before: targets * 0.5 (or NaN, or a complex array) became True everywhere it was non-zero
    decoy = generators.coverability.coverability_family(2, 2, 0.5, horizon=2)
    for bad in (decoy.targets * 0.5, decoy.targets * np.nan, decoy.targets + 0.5j, decoy.targets * 2):
        with pytest.raises(ValueError, match="targets"):
            glow.decoy_classes(decoy.mdp, bad, 0.8)
    ok = glow.decoy_classes(decoy.mdp, decoy.targets.astype(int), 0.8)
    assert ok.F.shape == glow.decoy_classes(decoy.mdp, decoy.targets, 0.8).F.shape


def test_exact_suboptimality_refuses_a_quadratic_hang():
    # before: N = 10**6 ran O(N^2) for hours
    with pytest.raises(ValueError, match=r"N asks for .* O\(N\^2\)"):
        exact_suboptimality((0.4, 0.6), (0.5, 0.5), 10**6)
    # most_played is O(N): not refused
    assert exact_suboptimality((0.4, 0.6), (0.5, 0.5), 10**6, algorithm="most_played") >= 0


def test_value_iteration_refuses_an_astronomical_default_cap():
    # before: gamma = 1 - 1e-15 got a 1.8e17-iteration cap and spun
    mdp = generators.garnet(S=4, A=2, branching=2, gamma=0.9, seed=0)
    near_one = TabularMDP(mdp.P, mdp.R, np.full(4, 0.25), gamma=1 - 1e-15)
    with pytest.raises(ValueError, match=r"value_iteration at gamma=0.999.* \(max_iter 1.77e\+17\) asks for"):
        planning.value_iteration(near_one)
    # an explicit cap is the user's choice (it stops there, by the on_max_iter rule); solve still works exactly
    with pytest.warns(ConvergenceWarning):
        res = planning.value_iteration(near_one, max_iter=5, on_max_iter="warn")
    assert res.iterations == 5 and not res.converged
    assert np.isfinite(planning.solve(near_one).V).all()

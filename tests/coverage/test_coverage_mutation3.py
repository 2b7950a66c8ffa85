"""Issue 14, item 3 (third pass on ``theory_rl/coverage/``): tests written against the mutants that the complete run
on the current code left alive after ``test_coverage_mutation.py`` and ``test_coverage_mutation2.py``. A closed-form
coefficient ``C(T) = K / T`` is substituted for the solver (as in ``test_coverage_mutation2.py``), so every
comparison with one is exact."""

import math

from theory_rl.coverage import o2o as o2o_module
from theory_rl.generators.linear import hybrid_family


def test_minimal_online_episodes_never_exceeds_t_max(monkeypatch):
    """``T_max`` caps the search: when it suffices (``C(T_max) <= 1``) the answer lies in ``(0, T_max]``, however
    coarse ``rtol`` is. Threshold K = 1.3 with T_max = 1.5 and rtol = 0.5: the bracket [1, 1.5] already meets the
    tolerance, so the answer is T_max itself (a search that starts above T_max can return more)."""
    lin = hybrid_family(0.1, r_safe=0.3)

    def fake(lmdp, offline, eps, T, *, h=None, **kwargs):
        return math.inf if T == 0 else 1.3 / T

    monkeypatch.setattr(o2o_module, "o2o_coefficient", fake)
    for T_max, rtol in ((1.5, 0.5), (1.5, 0.01), (3.0, 2.0)):
        T = o2o_module.minimal_online_episodes(lin, None, 0.1, h=0, T_max=T_max, rtol=rtol)
        assert 1.3 <= T <= T_max
        assert 1.3 / T <= 1.0 < 1.3 / (T / (1 + rtol))
    assert o2o_module.minimal_online_episodes(lin, None, 0.1, h=0, T_max=1.5, rtol=0.5) == 1.5


def test_max_reachability_never_uses_an_infeasible_action():
    """Two states; from state 0 only the infeasible action 1 leads to state 1 (a valid row the mask forbids), so
    under the mask state 1 is never reached: its reachability is 0 (discounted and at every step of a horizon),
    while (0, 0) is reached with probability 1 ((1 - gamma) sum_t gamma^t = 1). Without the mask, state 1 would be
    reached (reachability 1/2 at gamma = 1/2)."""
    import numpy as np

    from theory_rl.coverage import max_reachability
    from theory_rl.mdp import TabularMDP

    P = np.zeros((2, 2, 2))
    P[0, 0], P[0, 1], P[1, :] = [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]
    mask = np.array([[True, False], [True, True]])
    want = np.array([[1.0, 0.0], [0.0, 0.0]])
    disc = max_reachability(TabularMDP(P, np.zeros((2, 2)), np.array([1.0, 0.0]), gamma=0.5, feasible=mask))
    np.testing.assert_allclose(disc, want, atol=1e-12)
    epi = max_reachability(TabularMDP(P, np.zeros((2, 2)), np.array([1.0, 0.0]), horizon=3, feasible=mask))
    np.testing.assert_array_equal(epi, np.stack([want] * 3))
    free = max_reachability(TabularMDP(P, np.zeros((2, 2)), np.array([1.0, 0.0]), gamma=0.5))
    np.testing.assert_allclose(free[1], [0.5, 0.5], atol=1e-12)


def test_a_data_distribution_on_an_infeasible_pair_is_refused_by_name():
    """No data can lie on an infeasible pair: ``as_distribution`` (and every coverage measure through it) refuses
    a distribution with mass there, naming the argument, the pair and (per step) the step; the same distribution is
    accepted when the MDP has no mask."""
    import re

    import numpy as np
    import pytest

    from theory_rl.coverage import as_distribution, concentrability
    from theory_rl.mdp import TabularMDP

    P = np.full((2, 2, 2), 0.5)
    mask = np.array([[True, False], [True, True]])
    mu = np.array([[0.25, 0.25], [0.25, 0.25]])
    disc = TabularMDP(P, np.zeros((2, 2)), np.array([1.0, 0.0]), gamma=0.5, feasible=mask)
    msg = "mu puts mass 0.25 on (state, action) = (0, 1), which is infeasible (mdp.feasible is False there)"
    with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
        as_distribution(disc, mu)
    with pytest.raises(ValueError, match="^" + re.escape(msg.replace("mu ", "nu ", 1)) + "$"):
        as_distribution(disc, mu, "nu")
    with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
        concentrability(disc, np.zeros(2, int), mu)
    epi = TabularMDP(P, np.zeros((2, 2)), np.array([1.0, 0.0]), horizon=2, feasible=mask)
    step_msg = msg.replace("(0, 1), which", "(0, 1) at step h=0, which")
    with pytest.raises(ValueError, match="^" + re.escape(step_msg) + "$"):
        as_distribution(epi, mu)
    free = TabularMDP(P, np.zeros((2, 2)), np.array([1.0, 0.0]), gamma=0.5)
    np.testing.assert_array_equal(as_distribution(free, mu), mu)

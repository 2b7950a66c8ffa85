"""Issue 14, item 3: tests written against the mutants of ``theory_rl/coverage/`` that the suite let live
(``python -m benchmarks.mutation --module coverage``): values by hand on small instances, the forms of the returned
values, the flags passed through, and the error messages."""

import math

import numpy as np
import pytest

from theory_rl import coverage
from theory_rl.coverage.o2o import minimal_online_episodes, o2o_coefficient
from theory_rl.generators.linear import hybrid_family
from theory_rl.mdp import TabularMDP


def _two_state(gamma=None, horizon=None):
    """State 0 (start) -> action 0 stays, action 1 goes to state 1 (absorbing): every pair reachable."""
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = P[1, :, 1] = 1.0
    return TabularMDP(P, np.array([[0.2, 0.5], [1.0, 0.0]]), np.array([1.0, 0.0]), gamma=gamma, horizon=horizon)


def test_all_policy_concentrability_by_hand_and_its_flag():
    """Discounted, gamma = 1/2: R(0, 0) = 1 (stay at 0 forever), R(0, 1) = 1 - gamma = 1/2 (leave at once),
    R(1, a) = gamma = 1/2 (leave at once, then a forever). With mu uniform (1/4) the all-policy coefficient is 4; a mu
    missing pair (1, 1) gives inf with allow_infinite, else an error that says "every policy"."""
    mdp = _two_state(gamma=0.5)
    np.testing.assert_allclose(coverage.max_reachability(mdp), [[1.0, 0.5], [0.5, 0.5]], rtol=1e-14)
    assert coverage.all_policy_concentrability(mdp, np.full((2, 2), 0.25)) == pytest.approx(4.0, rel=1e-14)
    mu = np.array([[0.5, 0.25], [0.25, 0.0]])
    assert coverage.all_policy_concentrability(mdp, mu, allow_infinite=True) == math.inf
    with pytest.raises(ValueError, match=r"^mu does not cover every policy: it visits \(s, a\) = \(1, 1\)"):
        coverage.all_policy_concentrability(mdp, mu)


def test_clipped_concentrability_by_hand_float_when_discounted():
    """pi = always action 1 from state 0, gamma = 1/2: d = (1/2 at (0, 1), 1/2 at (1, 1)). mu puts 1/8 on (0, 1)
    and 1/8 on (1, 1): ratios 4 and 4; CC = E_d[min(4, g)] = min(4, g). A float for a discounted MDP, an array (H,)
    per step for a finite horizon."""
    mdp = _two_state(gamma=0.5)
    mu = np.array([[0.375, 0.125], [0.375, 0.125]])
    pi = np.array([1, 1])
    for g, want in ((2.0, 2.0), (10.0, 4.0)):
        cc = coverage.clipped_concentrability(mdp, pi, mu, g)
        assert isinstance(cc, float) and cc == pytest.approx(want, rel=1e-14)
    fin = _two_state(horizon=2)  # d_0 = 1 at (0, 1); d_1 = 1 at (1, 1): ratio 8 at both steps
    cc = coverage.clipped_concentrability(fin, np.array([[1, 1], [1, 1]]), mu, 3.0)
    assert isinstance(cc, np.ndarray) and cc.shape == (2,)
    np.testing.assert_allclose(cc, [3.0, 3.0], rtol=1e-14)


def test_minimal_online_episodes_default_tolerance_and_step_check():
    """The default rtol = 0.01 gives a bracket [hi / 1.01, hi] of the threshold; a step outside 0..H-1 is refused
    naming ``h``."""
    lin = hybrid_family(0.1, r_safe=0.3)
    off = np.zeros((2, 2, 2))
    T = minimal_online_episodes(lin, off, 0.1, h=0)
    assert o2o_coefficient(lin, off, 0.1, T, h=0) <= 1 + 1e-9
    assert o2o_coefficient(lin, off, 0.1, T / 1.0101, h=0) > 1
    with pytest.raises(ValueError, match=r"^h is 2, expected"):
        minimal_online_episodes(lin, off, 0.1, h=2)


def test_minimal_online_episodes_is_zero_exactly_when_the_offline_data_suffice():
    """C(0) <= 1: no online episode (0.0); C(0) = 1.5: some (the offline data alone do not suffice). The prefactor
    c_0 scales C linearly, so it sets C(0) exactly."""
    lin = hybrid_family(0.1, r_safe=0.3)
    full = np.stack([np.diag([50.0, 200.0])] * 2)
    base = o2o_coefficient(lin, full, 0.1, 0.0, h=0, prefactor=1.0)
    assert minimal_online_episodes(lin, full, 0.1, h=0, prefactor=0.5 / base) == 0.0
    T = minimal_online_episodes(lin, full, 0.1, h=0, prefactor=1.5 / base, rtol=0.5)
    assert 0.0 < T < math.inf


def test_minimal_online_episodes_ends_of_the_search():
    """Online only (Lambda_off = 0): C(T) = C(1) / T, and the prefactor sets C(1) = K. K = 1e-3 with T_max = 20: the
    threshold 1e-3 lies below 1 / T_max, whose value 0.05 is returned (the search steps 1, 1/16, then 1/T_max).
    C(T_max) = 1.5 > 1: T_max does not suffice, inf."""
    lin = hybrid_family(0.1, r_safe=0.3)
    off = np.zeros((2, 2, 2))
    unit = o2o_coefficient(lin, off, 0.1, 1.0, h=0, prefactor=1.0)
    assert minimal_online_episodes(lin, off, 0.1, h=0, T_max=20.0, prefactor=1e-3 / unit) == 1 / 20.0
    assert minimal_online_episodes(lin, off, 0.1, h=0, T_max=20.0, prefactor=30.0 / unit) == math.inf


def test_offline_only_coefficient_rank_threshold():
    """T = 0: directions of Lambda_off with eigenvalue <= 1e-12 max(lambda_max, 1) count as uncovered (C = inf when a
    policy's features point there; hybrid_family's policies all have an e_2 component). Eigenvalues 1e-8 under
    lambda_max = 1e6, and exactly 1e-12 under lambda_max = 1/2, are uncovered; 1.5e-12 under lambda_max = 1 is
    covered (a finite, huge coefficient)."""
    lin = hybrid_family(0.1, r_safe=0.3)

    def coef(e1, e2):
        return o2o_coefficient(lin, np.stack([np.diag([e1, e2])] * 2), 0.1, 0.0, h=0)

    assert coef(1e6, 1e-8) == math.inf
    assert coef(0.5, 1e-12) == math.inf
    assert 1e10 < coef(1.0, 1.5e-12) < math.inf
    # the e_2 coordinates of the targets phi / max(gap, eps) are 1 / eps for the gap-0 policies: uncovered above
    # 1e-12 (eps = 10: 0.1, inf), not at 1e-12 itself (eps = 1e12: then only the covered e_1 part counts)
    uncovered = np.stack([np.diag([1.0, 0.0])] * 2)
    assert o2o_coefficient(lin, uncovered, 10.0, 0.0, h=0) == math.inf
    assert o2o_coefficient(lin, uncovered, 1e12, 0.0, h=0) < 1e-20


def test_concentrability_error_names_the_policy():
    mdp = _two_state(gamma=0.5)
    with pytest.raises(ValueError, match=r"^mu does not cover the policy: it visits \(s, a\) = \(0, 1\)"):
        coverage.concentrability(mdp, np.array([1, 1]), np.array([[0.5, 0.0], [0.25, 0.25]]))


def test_o2o_coefficient_falls_back_to_scs_when_the_solver_is_missing():
    """A listed solver that is not installed (MOSEK here) raises cvxpy's SolverError; the coefficient is then solved
    by SCS at eps = 1e-9, and agrees with CLARABEL's (measured: relative difference 3e-8)."""
    import cvxpy as cp

    if "MOSEK" in cp.installed_solvers():
        pytest.skip("MOSEK is installed: no fallback to test")
    lin = hybrid_family(0.1, r_safe=0.3)
    off = np.stack([np.diag([5.0, 1.0])] * 2)
    want = o2o_coefficient(lin, off, 0.1, 10.0, h=0)
    np.testing.assert_allclose(o2o_coefficient(lin, off, 0.1, 10.0, h=0, solver="MOSEK"), want, rtol=1e-6)

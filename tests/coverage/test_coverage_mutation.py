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
        assert type(cc) is float and cc == pytest.approx(want, rel=1e-14)  # a Python float, not numpy's
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


def test_o2o_coefficient_ridge_is_added():
    """reg adds reg I to Lambda_off: with no offline data and reg = 2, T = 0 gives c_0 max ||x||^2 / 2, x the
    targets phi_pi / max(gap, eps), by hand."""
    from theory_rl.coverage.o2o import policy_class_summary

    lin = hybrid_family(0.1, r_safe=0.3)
    pols, feats, _, gaps = policy_class_summary(lin)
    x = feats[:, 0] / np.maximum(gaps, 0.1)[:, None]
    c0 = lin.H**4 * math.log(len(pols) / 0.1)
    got = o2o_coefficient(lin, np.zeros((2, 2, 2)), 0.1, 0.0, h=0, reg=2.0)
    assert got == pytest.approx(c0 * (x**2).sum(axis=1).max() / 2, rel=1e-12)


def test_o2o_coefficient_one_step_is_that_step():
    lin = hybrid_family(0.1, r_safe=0.3)
    off = np.stack([np.diag([50.0, 200.0]), np.diag([5.0, 1.0])])
    every = o2o_coefficient(lin, off, 0.1, 0.0)
    assert every.shape == (2,) and every[0] != pytest.approx(every[1], rel=1e-3)
    for h in range(2):
        one = o2o_coefficient(lin, off, 0.1, 0.0, h=h)
        assert isinstance(one, float) and one == pytest.approx(every[h], rel=1e-14)
    # an object with counts but no transition counts is not a counts record: it is read as an array and refused
    holder = type("Holder", (), {"counts": np.ones((2, 2, 2))})()
    with pytest.raises(ValueError, match=r"^offline: Lambda_off"):
        o2o_coefficient(lin, holder, 0.1, 0.0)


def test_offline_covariance_refusals_name_shape_and_horizon():
    """A counts record must match (H, S, A) = (2, 3, 2) in both shape and horizon; either mismatch alone is refused,
    the message giving both; a record-like object without a horizon reads as horizon None; an array must be 3-D."""
    from theory_rl.data import CountDataset

    lin = hybrid_family(0.1, r_safe=0.3)

    def record(H, S, A):
        return CountDataset(np.ones((H, S, A)), np.ones((H, S, A, S)) / S, np.zeros((H, S, A)), S, A, horizon=H)

    with pytest.raises(ValueError, match=r"^offline has counts of shape \(2, 2, 2\) \(horizon 2\), expected "
                                         r"\(2, 3, 2\) \(horizon 2\)$"):
        o2o_coefficient(lin, record(2, 2, 2), 0.1, 0.0)
    with pytest.raises(ValueError, match=r"^offline has counts of shape \(3, 3, 2\) \(horizon 3\), expected "
                                         r"\(2, 3, 2\) \(horizon 2\)$"):
        o2o_coefficient(lin, record(3, 3, 2), 0.1, 0.0)
    good = record(2, 3, 2)
    no_horizon = type("NoHorizon", (), {"counts": good.counts, "transition_counts": good.transition_counts})()
    with pytest.raises(ValueError, match=r"\(horizon None\), expected \(2, 3, 2\) \(horizon 2\)$"):
        o2o_coefficient(lin, no_horizon, 0.1, 0.0)
    with pytest.raises(ValueError, match=r"^offline: Lambda_off must have 3 dimensions, got shape \(2, 2\)$"):
        o2o_coefficient(lin, np.zeros((2, 2)), 0.1, 0.0)


def test_offline_covariance_tolerances_are_relative_to_the_spectral_norm():
    """Symmetry: max |L - L^T| <= 1e-10 max(1, ||L||_2); semi-definiteness: smallest eigenvalue of (L + L^T) / 2 >=
    -1e-10 max(1, ||L||_2). Each case sits between the stated tolerance and a wrong one (2 instead of 1, the
    Frobenius norm instead of the spectral one, (L + L^T) * 2 or / 3)."""
    lin = hybrid_family(0.1, r_safe=0.3)

    def check(L):
        return o2o_coefficient(lin, np.stack([np.asarray(L, float)] * 2), 0.1, 0.0, h=0)

    with pytest.raises(ValueError, match=r"Lambda_off\[0\] is not symmetric"):
        check([[0.5, 0.5 + 1.5e-10], [0.5, 0.5]])  # 1.5e-10 > 1e-10 max(1, 1)
    with pytest.raises(ValueError, match=r"Lambda_off\[0\] is not symmetric"):
        check([[10.0, 1.2e-9], [0.0, 10.0]])  # 1.2e-9 > 1e-10 * 10, below 1e-10 ||L||_F = 1.41e-9
    with pytest.raises(ValueError, match=r"Lambda_off\[0\] is not positive semi-definite"):
        check([[1.0, 0.0], [0.0, -1.2e-10]])
    check([[1.0, 0.0], [0.0, -5e-11]])  # within the tolerance: accepted


def test_explicit_policy_class():
    """A class passed as (n, H, S) actions is used as given: T = 0 by hand on three policies (c_0 = H^4 log(3 /
    delta), gaps within the class); another shape is refused with the expected one."""
    from theory_rl.coverage.o2o import policy_class_summary
    from theory_rl.linear.policies import all_deterministic_policies

    lin = hybrid_family(0.1, r_safe=0.3)
    off = np.stack([np.diag([50.0, 200.0])] * 2)
    pols = all_deterministic_policies(lin)
    _, feats, _, gaps = policy_class_summary(lin, pols[:3])
    x = feats[:, 0] / np.maximum(gaps, 0.1)[:, None]
    by_hand = 2**4 * math.log(3 / 0.1) * np.einsum("nd,de,ne->n", x, np.linalg.inv(off[0]), x).max()
    sub = o2o_coefficient(lin, off, 0.1, 0.0, h=0, policies=pols[:3])
    assert sub == pytest.approx(by_hand, rel=1e-12) and sub != pytest.approx(o2o_coefficient(lin, off, 0.1, 0.0, h=0))
    with pytest.raises(ValueError, match=r"^policies has shape \(3, 2, 4\), expected \(n, H, S\) = \(n, 2, 3\)$"):
        o2o_coefficient(lin, off, 0.1, 0.0, policies=np.zeros((3, 2, 4), int))

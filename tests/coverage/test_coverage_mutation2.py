"""Issue 14, item 3 (second pass): tests written against the mutants of ``theory_rl/coverage/`` that a complete run
of ``python -m benchmarks.mutation --module coverage`` left alive after ``test_coverage_mutation.py``: error messages
in full, the ratio conventions without a division warning, the reachability's clip to a probability, and the ends
of ``minimal_online_episodes`` where the coefficient equals one exactly (a closed-form coefficient ``C(T) = K / T``
is substituted for the solver, so the equalities are exact)."""

import math
import re
import warnings

import numpy as np
import pytest

from theory_rl import coverage
from theory_rl.coverage import density
from theory_rl.coverage import o2o as o2o_module
from theory_rl.generators.linear import hybrid_family
from theory_rl.mdp import TabularMDP


def _full(msg):
    return "^" + re.escape(msg) + "$"


# ---------------------------------------------------------------------------------------------- density ratios
def _pair_mdps():
    P = np.full((2, 2, 2), 0.5)
    return (TabularMDP(P, np.zeros((2, 2)), np.array([1.0, 0.0]), gamma=0.5),
            TabularMDP(P, np.zeros((2, 2)), np.array([1.0, 0.0]), horizon=3))


def test_as_distribution_shape_messages_in_full():
    """A data distribution is (S, A) or (H, S, A): other dimensions and other shapes are refused, naming ``mu``."""
    disc, fin = _pair_mdps()
    for mdp in (disc, fin):
        with pytest.raises(ValueError, match=_full("mu must have 2 or 3 dimensions, got shape (4,)")):
            coverage.as_distribution(mdp, np.full(4, 0.25))
    with pytest.raises(ValueError, match=_full("mu has shape (2, 3), expected (2, 2)")):
        coverage.as_distribution(disc, np.full((2, 3), 1 / 6))
    with pytest.raises(ValueError, match=_full("mu has shape (3, 2, 3), expected (3, 2, 2)")):
        coverage.as_distribution(fin, np.full((3, 2, 3), 1 / 6))
    with pytest.raises(ValueError, match=_full("mu[0, 0] is 1.5, expected a value in [0, 1]")):
        coverage.as_distribution(disc, [[1.5, -0.5], [0.0, 0.0]])


def test_as_distribution_sum_messages_and_tolerance():
    """The total must be one within 1e-10 * max(1, S A) (4e-10 here): one sum for a discounted mu, one per step for
    a finite horizon (an (S, A) mu is used at every step), each message in full. Totals off by 3e-10 pass; with
    S = A = 1 the tolerance is 1e-10 itself."""
    disc, fin = _pair_mdps()
    with pytest.raises(ValueError, match=_full("mu sums to 1.001, expected 1 (tolerance 4e-10)")):
        coverage.as_distribution(disc, np.full((2, 2), 0.25 * 1.001))
    with pytest.raises(ValueError, match=_full("mu (per step h)[0] sums to 1.001, expected 1 (tolerance 4e-10)")):
        coverage.as_distribution(fin, np.full((2, 2), 0.25 * 1.001))
    steps = np.full((3, 2, 2), 0.25)
    steps[2] *= 1.001
    with pytest.raises(ValueError, match=_full("mu (per step h)[2] sums to 1.001, expected 1 (tolerance 4e-10)")):
        coverage.as_distribution(fin, steps)
    np.testing.assert_array_equal(coverage.as_distribution(disc, np.full((2, 2), 0.25 + 7.5e-11)),
                                  np.full((2, 2), 0.25 + 7.5e-11))
    np.testing.assert_array_equal(coverage.as_distribution(fin, np.full((3, 2, 2), 0.25 - 7.5e-11)),
                                  np.full((3, 2, 2), 0.25 - 7.5e-11))
    one = TabularMDP(np.ones((1, 1, 1)), np.zeros((1, 1)), np.array([1.0]), gamma=0.5)
    with pytest.raises(ValueError, match=_full("mu sums to 0.99999999985, expected 1 (tolerance 1e-10)")):
        coverage.as_distribution(one, [[1 - 1.5e-10]])
    assert coverage.as_distribution(one, [[1 - 0.5e-10]])[0, 0] == 1 - 0.5e-10


def test_occupancy_ratio_range_messages_in_full():
    """d must lie in [-1e-10, 1 + 1e-10] and mu in [0, 1 + 1e-10]: 1.5 is refused for both, naming the array and
    the interval (printed with %g: 1 + 1e-10 shows as 1)."""
    half = np.array([0.5, 0.5])
    with pytest.raises(ValueError, match=_full("d[0] is 1.5, expected a value in [-1e-10, 1]")):
        density.occupancy_ratio(np.array([1.5, 0.0]), half)
    with pytest.raises(ValueError, match=_full("mu[0] is 1.5, expected a value in [0, 1]")):
        density.occupancy_ratio(half, np.array([1.5, 0.0]))
    with pytest.raises(ValueError, match=_full("mu[1] is -0.25, expected a value in [0, 1]")):
        density.occupancy_ratio(half, np.array([0.5, -0.25]))


def test_occupancy_ratio_conventions_without_a_division_warning():
    """0 where d = 0 (whatever mu), inf where only mu = 0, d / mu elsewhere: the uncovered entries are set, never
    computed as d / 0 (no RuntimeWarning, checked with warnings as errors)."""
    d = np.array([0.5, 0.25, 0.0, 0.25, 0.0])
    mu = np.array([0.25, 0.0, 0.5, 0.25, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = density.occupancy_ratio(d, mu)
    np.testing.assert_array_equal(out, [2.0, math.inf, 0.0, 1.0, 0.0])


def test_max_ratio_messages_name_the_pair_its_probability_and_the_flag():
    """The message of an uncovered pair, in full: ``(h, s, a)`` for a per-step occupancy (3 indices), ``(s, a)``
    for a discounted one, the visit probability of ``d`` and the hint on ``allow_infinite``."""
    d = np.zeros((2, 2, 2))
    d[1, 0, 1] = 0.75
    d[1, 1, 0] = 0.25
    d[0, 0, 0] = 1.0
    mu = np.full((2, 2, 2), 0.25)
    mu[1, 0, 1] = 0.0
    mu[1, 0, 0] = 0.5
    with pytest.raises(ValueError, match=_full(
            "mu does not cover every policy: it visits (h, s, a) = (1, 0, 1) with probability 0.75 but "
            "mu[1, 0, 1] = 0 (pass allow_infinite=True to get inf instead)")):
        density.max_ratio(d, mu, "every policy")
    with pytest.raises(ValueError, match=_full(
            "mu does not cover the policy: it visits (s, a) = (0, 1) with probability 0.75 but mu[0, 1] = 0 "
            "(pass allow_infinite=True to get inf instead)")):
        density.max_ratio(d[1], mu[1])
    assert density.max_ratio(d, mu, allow_infinite=True) == math.inf
    assert density.max_ratio(d[0], mu[0]) == 4.0  # covered: 1 / 0.25


def test_max_ratio_of_empty_arrays_is_zero():
    """The maximum over no entry is 0 (documented), not an error and not 1."""
    assert density.max_ratio(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0
    assert density.max_ratio(np.zeros((2, 0, 3)), np.zeros((2, 0, 3)), allow_infinite=True) == 0.0


# ---------------------------------------------------------------------------------------------- reachability
def test_max_reachability_is_a_probability_even_when_init_sums_slightly_above_one():
    """TabularMDP accepts an ``init`` summing to 1 within 1e-10 and keeps it as given; a pair reached surely then
    has ``init @ W`` = 1 + 8e-11 in floating point. The reachability is a probability: clipped to exactly 1
    (discounted: one state, one action, reached forever; finite horizon: every state moves to state 0)."""
    disc = TabularMDP(np.ones((1, 1, 1)), np.zeros((1, 1)), np.array([1.0 + 8e-11]), gamma=0.9)
    np.testing.assert_array_equal(coverage.max_reachability(disc), [[1.0]])
    P = np.zeros((2, 2, 2))
    P[:, :, 0] = 1.0
    fin = TabularMDP(P, np.zeros((2, 2)), np.array([0.5 + 8e-11, 0.5]), horizon=2)
    reach = coverage.max_reachability(fin)
    assert reach.max() == 1.0
    np.testing.assert_array_equal(reach[1], [[1.0, 1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(reach[0], [[0.5 + 8e-11] * 2, [0.5, 0.5]])


def test_coverability_refusals_of_the_class_in_full():
    """A class that is not a sequence names its type; an empty one says how to ask for all policies."""
    mdp = TabularMDP(np.full((2, 2, 2), 0.5), np.zeros((2, 2)), np.array([1.0, 0.0]), horizon=2)
    with pytest.raises(ValueError, match=_full("policies is a int, expected a sequence of policies")):
        coverage.coverability(mdp, 3)
    with pytest.raises(ValueError, match=_full(
            "policies is empty; pass at least one policy or None for all policies")):
        coverage.coverability(mdp, [])


def test_coverability_names_the_policy_that_is_not_one():
    mdp = TabularMDP(np.full((2, 2, 2), 0.5), np.zeros((2, 2)), np.array([1.0, 0.0]), horizon=2)
    with pytest.raises(ValueError, match=_full(
            "policies[1] is not a policy of this MDP: policy holds actions with shape (2, 3), expected (2,) or "
            "(2, 2)")):
        coverage.coverability(mdp, [np.zeros((2, 2), int), np.zeros((2, 3), int)])


def test_coverability_mu_is_the_reachability_over_its_step_total_even_below_one():
    """mu_h = R_h / sum R_h exactly. One policy, H = 1, init = (0.7, 0.2, 0.1): the total is 0.9999999999999999 in
    floating point (below one), and mu is still R divided by it."""
    mdp = TabularMDP(np.full((1, 3, 1, 3), 1 / 3), np.zeros((1, 3, 1)), np.array([0.7, 0.2, 0.1]), horizon=1)
    cov = coverage.coverability(mdp, [np.zeros((1, 3), int)])
    assert cov.per_step[0] < 1.0
    np.testing.assert_array_equal(cov.mu, cov.reachability / cov.per_step[0])
    assert cov.mu[0, 0, 0] != cov.reachability[0, 0, 0]


# ---------------------------------------------------------------------------------------------- minimal_online_episodes
def _closed_form(monkeypatch, K):
    """Replace the coefficient by ``C(T) = K / T`` (``inf`` at T = 0): the threshold is ``K`` exactly."""
    calls = []

    def fake(lmdp, offline, eps, T, *, h=None, **kwargs):
        calls.append(T)
        return math.inf if T == 0 else K / T

    monkeypatch.setattr(o2o_module, "o2o_coefficient", fake)
    return calls


def test_minimal_online_episodes_when_t_max_suffices_exactly(monkeypatch):
    """C(T_max) = 1 exactly: T_max suffices (C <= 1), so the answer is finite (the bracket's upper end, <= T_max),
    not inf. K = T_max = 64 (powers of two: every K / T below is exact)."""
    lin = hybrid_family(0.1, r_safe=0.3)
    _closed_form(monkeypatch, 64.0)
    T = o2o_module.minimal_online_episodes(lin, None, 0.1, h=0, T_max=64.0)
    assert T == 64.0


def test_minimal_online_episodes_default_t_max_is_1e12(monkeypatch):
    """The documented default T_max = 1e12: a threshold just above it (K = 1e12 + 0.5) is out of reach (inf), one at
    1e12 exactly is not."""
    lin = hybrid_family(0.1, r_safe=0.3)
    _closed_form(monkeypatch, 1e12 + 0.5)
    assert o2o_module.minimal_online_episodes(lin, None, 0.1, h=0) == math.inf
    _closed_form(monkeypatch, 1e12)
    assert 1e12 <= o2o_module.minimal_online_episodes(lin, None, 0.1, h=0) <= 1e12 * 1.01


def test_minimal_online_episodes_is_zero_when_the_offline_coefficient_is_exactly_one():
    """C(0) = 1 exactly: the offline data suffice (C <= 1), so no online episode is needed: 0.0. The offline-only
    coefficient (T = 0) is a closed form (eigen-decomposition, no solver), so the prefactor p with p * C_1(0) == 1
    in floating point (C_1 the coefficient at prefactor 1) makes C(0) exactly one."""
    lin = hybrid_family(0.1, r_safe=0.3)
    full = np.stack([np.diag([50.0, 200.0])] * 2)
    base = o2o_module.o2o_coefficient(lin, full, 0.1, 0.0, h=0, prefactor=1.0)
    p = 1.0 / base
    while p * base > 1.0:
        p = np.nextafter(p, 0.0)
    while p * base < 1.0:
        p = np.nextafter(p, math.inf)
    assert o2o_module.o2o_coefficient(lin, full, 0.1, 0.0, h=0, prefactor=float(p)) == 1.0
    assert o2o_module.minimal_online_episodes(lin, full, 0.1, h=0, prefactor=float(p)) == 0.0


def test_minimal_online_episodes_returns_the_smallest_sufficient_t_it_evaluated(monkeypatch):
    """Whenever the search evaluates a T with C(T) <= 1, the answer is at most that T (the tightest certified
    episode count it has seen). Thresholds placed where the search evaluates C = 1 exactly: at its first step (K =
    1: C(1) = 1), at the first geometric midpoint (T_max = 2^40, K = 2^20 = sqrt(1 * 2^40)) and on the way down
    (K = 1/16). The bracket's invariant C(hi) <= 1 < C(hi / (1 + rtol)) holds."""
    lin = hybrid_family(0.1, r_safe=0.3)
    for K, T_max in ((1.0, 1e12), (2.0**20, 2.0**40), (2.0**-4, 1e12)):
        calls = _closed_form(monkeypatch, K)
        T = o2o_module.minimal_online_episodes(lin, None, 0.1, h=0, T_max=T_max)
        sufficient = [t for t in calls if t > 0 and K / t <= 1]
        assert T == min(sufficient)
        assert K / T <= 1 < K / (T / 1.01)


# ---------------------------------------------------------------------------------------------- o2o: the class
def test_policy_class_summary_values_are_the_returns_from_step_zero():
    """V^pi_0 of every deterministic policy equals its exact expected return in the tabular form of the linear MDP
    (an independent evaluation, :func:`theory_rl.planning.expected_return`), and the gaps are max - V."""
    from theory_rl.planning import expected_return

    lin = hybrid_family(0.1, r_safe=0.3)
    pols, feats, values, gaps = o2o_module.policy_class_summary(lin)
    tab = lin.to_tabular()
    want = np.array([expected_return(tab, p) for p in pols])
    np.testing.assert_allclose(values, want, rtol=0, atol=1e-14)
    np.testing.assert_allclose(gaps, want.max() - want, rtol=0, atol=1e-14)
    assert np.ptp(want) > 0.1  # the class is not flat: a value read at another step would show


def test_explicit_policy_class_refusals_and_a_single_policy():
    """An empty class and an action outside 0..A-1 are refused, each message in full; a class of one policy is
    valid: its gap is 0, so T = 0 gives c_0 ||phi_pi / eps||^2_{Lambda_off^-1} with c_0 = H^4 log(1 / delta)."""
    from theory_rl.linear.policies import all_deterministic_policies

    lin = hybrid_family(0.1, r_safe=0.3)
    off = np.stack([np.diag([50.0, 200.0])] * 2)
    pols = all_deterministic_policies(lin)
    with pytest.raises(ValueError, match=_full("policies is empty, expected at least one policy")):
        o2o_module.o2o_coefficient(lin, off, 0.1, 0.0, policies=pols[:0])
    bad = pols[:2].copy()
    bad[1, 1, 2] = 2
    with pytest.raises(ValueError, match=_full("policies[1, 1, 2] is 2, expected a value in 0..1")):
        o2o_module.o2o_coefficient(lin, off, 0.1, 0.0, policies=bad)
    _, feats, _, _ = o2o_module.policy_class_summary(lin, pols[5:6])
    x = feats[0, 0] / 0.1
    want = 2**4 * math.log(1 / 0.1) * float(x @ np.linalg.inv(off[0]) @ x)
    got = o2o_module.o2o_coefficient(lin, off, 0.1, 0.0, h=0, policies=pols[5:6])
    assert got == pytest.approx(want, rel=1e-12)


def test_offline_covariance_tolerances_are_inclusive():
    """The tolerances are bounds that are accepted: max |L - L^T| = 1e-10 exactly (scale max(1, ||L||_2) = 1) and a
    smallest eigenvalue of exactly -1e-10 (a diagonal matrix: eigvalsh returns its diagonal) pass unchanged."""
    asym = np.stack([np.array([[0.0, 1e-10], [0.0, 0.0]])] * 2)
    np.testing.assert_array_equal(coverage.offline_covariance(hybrid_family(0.1), asym), asym)
    neg = np.stack([np.diag([1.0, -1e-10])] * 2)
    np.testing.assert_array_equal(coverage.offline_covariance(hybrid_family(0.1), neg), neg)


# ---------------------------------------------------------------------------------------------- o2o: the solver
def _forced_status(monkeypatch, status):
    """Every cvxpy solve then reports ``status`` (its value kept): a solver's verdict injected."""
    import cvxpy as cp

    solve = cp.Problem.solve

    def patched(self, *args, **kwargs):
        out = solve(self, *args, **kwargs)
        self._status = status
        return out

    monkeypatch.setattr(cp.Problem, "solve", patched)


def test_o2o_coefficient_trusts_optimal_inaccurate_and_nothing_worse(monkeypatch):
    """A solve reported "optimal_inaccurate" is used (the same value as "optimal"); one stopped at its iteration
    limit ("user_limit", a value present) or reported "infeasible_inaccurate" gives inf: no unverified number."""
    lin = hybrid_family(0.1, r_safe=0.3)
    off = np.stack([np.diag([5.0, 1.0])] * 2)
    want = o2o_module.o2o_coefficient(lin, off, 0.1, 10.0, h=0)
    assert 0 < want < math.inf
    _forced_status(monkeypatch, "optimal_inaccurate")
    assert o2o_module.o2o_coefficient(lin, off, 0.1, 10.0, h=0) == want
    for status in ("user_limit", "infeasible_inaccurate"):
        _forced_status(monkeypatch, status)
        assert o2o_module.o2o_coefficient(lin, off, 0.1, 10.0, h=0) == math.inf


def test_o2o_coefficient_scs_fallback_is_solved_tightly():
    """The fallback (a listed solver not installed, here MOSEK) solves with SCS at eps = 1e-9: online only (no offline
    data, T = 1) it agrees with CLARABEL to 3e-7 (measured 9e-8; SCS at its default tolerance is off by 1.1e-6)."""
    import cvxpy as cp

    if "MOSEK" in cp.installed_solvers():
        pytest.skip("MOSEK is installed: no fallback to test")
    lin = hybrid_family(0.1, r_safe=0.3)
    off = np.zeros((2, 2, 2))
    want = o2o_module.o2o_coefficient(lin, off, 0.1, 1.0, h=0)
    got = o2o_module.o2o_coefficient(lin, off, 0.1, 1.0, h=0, solver="MOSEK")
    assert got != want  # another solver answered
    np.testing.assert_allclose(got, want, rtol=3e-7)

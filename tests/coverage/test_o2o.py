"""Offline-to-online coefficient: closed forms, homogeneity, monotonicity, bisection."""

import math

import numpy as np
import pytest

from theory_rl.coverage.o2o import minimal_online_episodes, o2o_coefficient, policy_class_summary
from theory_rl.generators.linear import hybrid_family


def _offline(n):
    L = np.zeros((2, 2, 2))
    L[:, 0, 0] = n
    return L


def test_offline_only_closed_form_and_rank_deficiency():
    lin = hybrid_family(0.1, r_safe=0.3)
    pols, feats, _, gaps = policy_class_summary(lin)
    eps = 0.1
    full = np.stack([np.diag([50.0, 200.0])] * 2)
    c0 = lin.H ** 4 * math.log(len(pols) / 0.1)
    for h in range(2):
        x = feats[:, h] / np.maximum(gaps, eps)[:, None]
        direct = c0 * np.max(np.einsum("nd,de,ne->n", x, np.linalg.inv(full[h]), x))
        assert abs(o2o_coefficient(lin, full, eps, 0.0, h=h) - direct) < 1e-9 * direct
    assert o2o_coefficient(lin, _offline(1e6), eps, 0.0, h=0) == math.inf  # e2 never covered offline


def test_online_only_is_homogeneous_and_monotone_in_T():
    lin = hybrid_family(0.1, r_safe=0.3)
    c1 = o2o_coefficient(lin, np.zeros((2, 2, 2)), 0.1, 1.0)
    c1000 = o2o_coefficient(lin, np.zeros((2, 2, 2)), 0.1, 1000.0)
    np.testing.assert_allclose(c1000, c1 / 1000, rtol=1e-5)  # Lambda_off = 0: C(T) = C(1) / T
    prev = np.full(2, np.inf)
    for T in [10.0, 100.0, 1e3, 1e4]:
        c = o2o_coefficient(lin, _offline(500.0), 0.1, T)
        assert (c <= prev * (1 + 1e-6)).all()
        prev = c


def test_minimal_online_episodes_brackets_the_threshold_and_drops_with_offline_data():
    lin = hybrid_family(0.1, r_safe=0.3)
    t_on = [minimal_online_episodes(lin, _offline(n), 0.1, h=0, rtol=0.01) for n in (0.0, 1e8)]
    for n, T in zip((0.0, 1e8), t_on, strict=True):
        assert o2o_coefficient(lin, _offline(n), 0.1, T, h=0) <= 1 + 1e-9
        assert o2o_coefficient(lin, _offline(n), 0.1, T / 1.02, h=0) > 1
    assert t_on[1] < t_on[0]
    with pytest.raises(ValueError, match="eps"):
        o2o_coefficient(lin, _offline(0), 0.0, 1.0)
    with pytest.raises(ValueError, match="Lambda_off"):
        o2o_coefficient(lin, np.zeros((2, 3, 3)), 0.1, 1.0)


def test_offline_covariance_must_be_symmetric_positive_semi_definite():
    lin = hybrid_family(0.1, r_safe=0.3)
    good = np.zeros((2, 2, 2))
    good[:, 0, 0] = 100.0
    assert np.isfinite(o2o_coefficient(lin, good, 0.1, 10.0)).all()
    near = good.copy()
    near[1, 1, 1] = -1e-9  # round-off of a sum of outer products: within 1e-10 * ||L|| = 1e-8
    near[1, 0, 1] = 1e-9
    o2o_coefficient(lin, near, 0.1, 0.0, h=0)
    not_psd = good.copy()
    not_psd[1, 1, 1] = -50.0
    asym = good.copy()
    asym[1, 0, 1] = 30.0
    nan = good.copy()
    nan[1, 0, 0] = np.nan
    for L, message in [(not_psd, "positive semi-definite"), (asym, "not symmetric"), (nan, r"0, 0\] is nan")]:
        for T in (0.0, 10.0):
            with pytest.raises(ValueError, match=rf"Lambda_off\[1(\]|,) .*{message}"):
                o2o_coefficient(lin, L, 0.1, T)


def test_minimal_online_episodes_brackets_a_threshold_below_one_episode():
    # With prefactor 1e-3 and Lambda_off = 1e8 e_0 e_0^T the threshold is about T = 0.1 (C(0.1) = 0.99999985):
    # the bracket used to start at T = 1 and returned 1.0 for any threshold in (0, 1).
    lin = hybrid_family(0.1, r_safe=0.3)
    L = np.zeros((2, 2, 2))
    L[:, 0, 0] = 1e8
    kw = dict(h=0, prefactor=1e-3)
    T = minimal_online_episodes(lin, L, 0.1, rtol=0.01, **kw)
    assert o2o_coefficient(lin, L, 0.1, T, **kw) <= 1 < o2o_coefficient(lin, L, 0.1, T / 1.01, **kw)
    assert 0.09 < T < 0.11
    with pytest.raises(ValueError, match="rtol"):
        minimal_online_episodes(lin, L, 0.1, rtol=0.0, **kw)


def test_o2o_module_is_a_deprecated_alias_of_coverage_o2o():
    import theory_rl.o2o as old
    from theory_rl import coverage
    from theory_rl.linear import all_deterministic_policies

    for name in ("o2o_coefficient", "minimal_online_episodes", "policy_class_summary", "offline_covariance"):
        with pytest.warns(DeprecationWarning, match=f"theory_rl.o2o.{name} is deprecated"):
            assert getattr(old, name) is getattr(coverage, name)
    with pytest.warns(DeprecationWarning, match="use theory_rl.linear.all_deterministic_policies"):
        assert old.all_deterministic_policies is all_deterministic_policies


def test_o2o_validation_names_the_parameter():
    lin = hybrid_family(0.2)
    for kw, name in ((dict(eps=float("nan")), "eps"), (dict(T=-1.0), "T"), (dict(delta=1.0), "delta"),
                     (dict(h=2), "h"), (dict(solver="NOPE"), "solver"), (dict(reg=float("inf")), "reg")):
        args = dict(eps=0.1, T=10.0, h=0) | kw
        with pytest.raises(ValueError, match=f"{name} is"):
            o2o_coefficient(lin, np.zeros((2, 2, 2)), **args)
    with pytest.raises(ValueError, match="policies"):
        policy_class_summary(lin, np.full((1, 2, 3), 1.5))


def test_offline_covariance_reads_the_one_counts_record():
    from theory_rl import data
    from theory_rl.coverage.o2o import offline_covariance
    from theory_rl.linear import feature_covariance

    lin = hybrid_family(0.1, r_safe=0.3)
    n_sa = np.zeros((2, 3, 2))
    n_sa[0, 0, 0] = n_sa[1, 1, 0] = 100
    off = data.sample_generative(lin, n_sa, 0)
    cov = offline_covariance(lin, off)
    np.testing.assert_array_equal(cov, feature_covariance(n_sa, lin.stage_phi))
    assert cov[0, 0, 0] == 100 and cov[1, 0, 0] == 100  # phi = e1 on (s0, explore) and (u, 0)
    np.testing.assert_allclose(o2o_coefficient(lin, off, 0.1, 10.0), o2o_coefficient(lin, cov, 0.1, 10.0))
    with pytest.raises(ValueError, match=r"expected \(2, 3, 2\) \(horizon 2\)"):
        offline_covariance(lin, data.CountsBuilder(3, 2, horizon=3).to_counts())
    with pytest.raises(ValueError, match="horizon None"):
        offline_covariance(lin, data.CountsBuilder(3, 2).to_counts())

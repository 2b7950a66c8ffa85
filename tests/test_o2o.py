"""Offline-to-online coefficient: closed forms, homogeneity, monotonicity, bisection."""

import math

import numpy as np
import pytest

from theory_rl.linear import hybrid_family
from theory_rl.o2o import minimal_online_episodes, o2o_coefficient, policy_class_summary


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

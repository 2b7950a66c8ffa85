"""The shared penalties against values computed independently (by hand, or by a per-entry loop)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import penalties


def test_hoeffding_pinned_values_and_unseen_rule():
    N = np.array([4.0, 1.0, 0.0])
    # 10 sqrt(2/4), 10 sqrt(2/1); N = 0 takes the N = 1 value unless told otherwise
    want = [10 * math.sqrt(0.5), 10 * math.sqrt(2), 10 * math.sqrt(2)]
    np.testing.assert_allclose(penalties.hoeffding(N, 2.0, value_range=10.0), want, rtol=1e-15)
    np.testing.assert_allclose(penalties.hoeffding(N, 2.0, value_range=10.0, unseen=99.0)[2], 99.0)
    assert penalties.hoeffding(np.array([9.0]), 0.0)[0] == 0.0  # no confidence term, no width


def test_bernstein_both_forms_pinned_and_capped():
    N, var, log, c, vr = np.array([100.0, 2.0, 0.0]), np.array([0.25, 1.0, 0.5]), 3.0, 2.0, 5.0
    first = np.sqrt(c * log * var[:2] / N[:2])
    want_max = np.minimum(np.maximum(first, 2 * c * log * vr / N[:2]), vr)
    want_sum = np.minimum(first + c * log * vr / N[:2], vr)
    got_max = penalties.bernstein(N, var, log, c_b=c, value_range=vr, second_order="max")
    got_sum = penalties.bernstein(N, var, log, c_b=c, value_range=vr, second_order="sum")
    np.testing.assert_allclose(got_max[:2], want_max, rtol=1e-15)
    np.testing.assert_allclose(got_sum[:2], want_sum, rtol=1e-15)
    assert got_max[2] == got_sum[2] == vr  # unseen pairs get the cap
    assert got_max[1] == got_sum[1] == vr  # N = 2: the second-order term exceeds the cap
    assert got_max[0] == pytest.approx(0.6)  # max(sqrt(2*3*0.25/100), 2*2*3*5/100) = max(0.1225, 0.6)
    with pytest.raises(ValueError, match="second_order"):
        penalties.bernstein(N, var, log, c_b=c, value_range=vr, second_order="min")


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(0, 2**32 - 1), st.floats(0.1, 10.0))
def test_elliptical_equals_a_per_vector_solve(d, n, seed, beta):
    rng = np.random.default_rng(seed)
    phi = rng.normal(size=(n, 2, d))
    M = rng.normal(size=(d, d))
    Lam = M @ M.T + np.eye(d)
    got = penalties.elliptical(phi, np.linalg.inv(Lam), beta)
    want = [[beta * math.sqrt(x @ np.linalg.solve(Lam, x)) for x in row] for row in phi]
    np.testing.assert_allclose(got, want, rtol=1e-10)

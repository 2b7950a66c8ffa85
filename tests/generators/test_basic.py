"""generators.basic.slip_kernel: the move model shared by the torus and edge-of-reach gridworlds."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl.generators.basic import slip_kernel


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 4), st.floats(0.0, 1.0), st.data())
def test_slip_kernel_matches_a_loop_over_moves(S, A, slip, data):
    targets = np.array(data.draw(st.lists(st.lists(st.integers(0, S - 1), min_size=A, max_size=A), min_size=S,
                                          max_size=S)))
    absorbing = data.draw(st.none() | st.integers(0, S - 1))
    expected = np.zeros((S, A, S))
    for s in range(S):
        for a in range(A):
            if s == absorbing:
                expected[s, a, s] = 1.0
                continue
            expected[s, a, targets[s, a]] += 1.0 - slip
            for b in range(A):
                expected[s, a, targets[s, b]] += slip / A
    P = slip_kernel(targets, slip, absorbing=absorbing)
    assert np.allclose(P, expected, atol=1e-15) and np.allclose(P.sum(axis=-1), 1.0)


def test_slip_kernel_refuses_targets_outside_the_states():
    with pytest.raises(ValueError, match=r"targets\[1, 0\] is 2, expected a value in 0..1"):
        slip_kernel(np.array([[0, 1], [2, 0]]), 0.1)

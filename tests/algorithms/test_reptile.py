"""MOORL's Reptile update (theory_rl.algorithms.reptile) against its closed form and the closed form's limits:
the expected meta-update iterated with actual inner gradient steps (not the matrix-power formula), the mixture
least squares (K = 1, by numpy's lstsq on stacked weighted rows), the parameter average (K large), and the
stochastic meta-loop's tail average (a statistical check with a fixed seed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl.algorithms import reptile as rp

SETTINGS = settings(max_examples=25, deadline=None)


@st.composite
def two_buffers(draw):
    """Two linear-FQE losses on the same d features: random features, weights and targets per buffer."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    d = draw(st.integers(1, 4))
    n = draw(st.integers(d, 8))
    X = rng.normal(size=(n, d))
    out = []
    for _ in range(2):
        w = rng.random(n) + 0.1
        y = rng.normal(size=n)
        out.append((X, w, y))
    return out


def _expected_update(theta, A_off, t_off, A_on, t_on, K, alpha, p):
    """The expected meta-step p (theta_K^off - theta) + (1 - p) (theta_K^on - theta), with explicit inner steps."""

    def adapted(th, A, t):
        for _ in range(K):
            th = th - alpha * (A @ (th - t))
        return th

    return p * (adapted(theta, A_off, t_off) - theta) + (1 - p) * (adapted(theta, A_on, t_on) - theta)


@SETTINGS
@given(two_buffers(), st.integers(1, 6), st.sampled_from([0.3, 0.5, 0.8]))
def test_closed_form_zeroes_the_expected_update(bufs, K, p):
    (X, w1, y1), (_, w2, y2) = bufs
    A_off, t_off = rp.quadratic_loss(X, w1, y1)
    A_on, t_on = rp.quadratic_loss(X, w2, y2)
    alpha = 0.9 / max(np.linalg.eigvalsh(A_off).max(), np.linalg.eigvalsh(A_on).max())
    M = p * (np.eye(len(t_off)) - np.linalg.matrix_power(np.eye(len(t_off)) - alpha * A_off, K))
    M += (1 - p) * (np.eye(len(t_off)) - np.linalg.matrix_power(np.eye(len(t_off)) - alpha * A_on, K))
    if np.linalg.cond(M) > 1e8:
        return  # a direction (almost) no buffer sees: the closed form refuses it (tested below)
    closed = rp.reptile_fixed_point(A_off, t_off, A_on, t_on, K=K, alpha=alpha, p=p)
    step = _expected_update(closed, A_off, t_off, A_on, t_on, K, alpha, p)
    assert np.abs(step).max() <= 1e-9 * max(1.0, np.abs(closed).max(), np.abs(t_off).max(), np.abs(t_on).max())
    # ... and a point off the fixed point is moved (the check can fail).
    moved = _expected_update(closed + 1.0, A_off, t_off, A_on, t_on, K, alpha, p)
    assert np.abs(moved).max() > 1e-6


@SETTINGS
@given(two_buffers(), st.sampled_from([0.3, 0.5]))
def test_one_inner_step_is_mixture_least_squares_and_many_are_the_average(bufs, p):
    (X, w1, y1), (_, w2, y2) = bufs
    A_off, t_off = rp.quadratic_loss(X, w1, y1)
    A_on, t_on = rp.quadratic_loss(X, w2, y2)
    alpha = 0.9 / max(np.linalg.eigvalsh(A_off).max(), np.linalg.eigvalsh(A_on).max())
    # K = 1: argmin p L_off + (1 - p) L_on, by lstsq on the stacked weighted rows.
    rows = np.vstack([np.sqrt(p * w1)[:, None] * X, np.sqrt((1 - p) * w2)[:, None] * X])
    rhs = np.concatenate([np.sqrt(p * w1) * y1, np.sqrt((1 - p) * w2) * y2])
    mix = np.linalg.lstsq(rows, rhs, rcond=None)[0]
    np.testing.assert_allclose(rp.reptile_fixed_point(A_off, t_off, A_on, t_on, K=1, alpha=alpha, p=p), mix,
                               atol=1e-7 * max(1.0, np.abs(mix).max()))  # fmt: skip
    # K -> inf: the parameter average (when both A are well conditioned enough for K = 5000 to be the limit).
    lam_min = min(np.linalg.eigvalsh(A_off).min(), np.linalg.eigvalsh(A_on).min())
    if alpha * lam_min > 1e-2:
        avg = p * t_off + (1 - p) * t_on
        np.testing.assert_allclose(rp.reptile_fixed_point(A_off, t_off, A_on, t_on, K=5000, alpha=alpha, p=p), avg,
                                   atol=1e-8 * max(1.0, np.abs(avg).max()))  # fmt: skip


def test_one_hot_features_give_count_insensitive_weights():
    # Tabular: theta_dagger(s, a) = sum_i b_i theta_i / sum_i b_i with b_i = 1 - (1 - alpha d_i)^K.
    d_off, d_on = np.array([0.5, 0.3, 0.2]), np.array([0.1, 0.1, 0.8])
    t_off, t_on = np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.0, 5.0])
    K, alpha = 4, 0.7
    b_off, b_on = 1 - (1 - alpha * d_off) ** K, 1 - (1 - alpha * d_on) ** K
    want = (b_off * t_off + b_on * t_on) / (b_off + b_on)
    got = rp.reptile_fixed_point(np.diag(d_off), t_off, np.diag(d_on), t_on, K=K, alpha=alpha)
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_stochastic_meta_loop_concentrates_at_the_fixed_point():
    # Fixed seed; with beta = 0.01 the stationary spread around theta_dagger is O(sqrt(beta)) times the distance
    # between the two buffers' adapted points: the tail average over 30000 meta-epochs is within 0.05 (the
    # failure probability at this seed is 0: the run is deterministic; the tolerance is ~10 standard errors).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 3))
    A_off, t_off = rp.quadratic_loss(X, rng.random(6) + 0.1, rng.normal(size=6))
    A_on, t_on = rp.quadratic_loss(X, rng.random(6) + 0.1, rng.normal(size=6))
    alpha = 0.9 / max(np.linalg.eigvalsh(A_off).max(), np.linalg.eigvalsh(A_on).max())
    res = rp.reptile(A_off, t_off, A_on, t_on, K=20, alpha=alpha, beta=0.01, n_meta=40000, seed=1)
    target = rp.reptile_fixed_point(A_off, t_off, A_on, t_on, K=20, alpha=alpha)
    tail = res.thetas[10000:].mean(axis=0)
    assert np.abs(tail - target).max() < 0.05
    assert abs(res.choices.mean() - 0.5) < 0.02
    # It is not simply the mixture least squares (K = 20 differs from K = 1 here).
    mix = rp.reptile_fixed_point(A_off, t_off, A_on, t_on, K=1, alpha=alpha)
    assert np.abs(target - mix).max() > 5 * np.abs(tail - target).max()


def test_invalid_inputs_are_named():
    with pytest.raises(ValueError, match="A_off"):
        rp.reptile_fixed_point(np.array([[1.0, 2.0], [0.0, 1.0]]), np.zeros(2), np.eye(2), np.zeros(2), K=1,
                               alpha=0.1)  # fmt: skip
    with pytest.raises(ValueError, match="singular"):
        rp.reptile_fixed_point(np.diag([1.0, 0.0]), np.zeros(2), np.diag([1.0, 0.0]), np.zeros(2), K=2, alpha=0.1)

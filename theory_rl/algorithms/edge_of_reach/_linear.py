"""Linear fitted Q-iteration and the minimal two-state example where the edge of reach makes it diverge.

In a tabular Q-table an unfitted edge-of-reach value stays put; with function approximation the fitted weights
also move the edge values, and the error can compound without bound (Sims et al. 2024, arXiv 2402.12527,
Section 3 and Proposition 1). The smallest instance: a single buffer pair ``(s1, a)`` with feature 1 and reward
0 leads to an edge-of-reach state ``s2`` whose two actions have features +2 and -2. Least squares gives
``w <- gamma * max(2 w, -2 w) = 2 gamma |w|``: ``|w_t| = (2 gamma)^t |w_0|``, divergent exactly when
``gamma > 1/2`` (and constant at ``gamma = 1/2``).
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import as_float_array, check_positive_int, check_real, check_table

__all__ = ["linear_fqi", "two_state_example"]


def linear_fqi(features, rewards, next_features, gamma: float, *, w0, n_iterations: int) -> np.ndarray:
    """Linear fitted Q-iteration with greedy targets, by ordinary least squares.

    ``w_{t+1} = argmin_w sum_i (phi_i^T w - r_i - gamma max_a' psi_{i, a'}^T w_t)^2``; among the minimisers the one
    closest to ``w_t`` (where gradient descent started at ``w_t`` converges), so directions the buffer does not
    constrain keep their values, exactly as unfitted entries of a Q-table do.

    Parameters
    ----------
    features : array_like, shape (n, d)
        Features ``phi_i = phi(s_i, a_i)`` of the buffer's inputs.
    rewards : array_like, shape (n,)
    next_features : array_like, shape (n, A', d)
        Features ``psi_{i, a'} = phi(s'_i, a')`` of every action at each next state.
    gamma : float
        Discount in [0, 1).
    w0 : array_like, shape (d,)
    n_iterations : int
        Iterations (an absurd number, whose trajectory would not fit in memory, is refused at once).

    Returns
    -------
    numpy.ndarray, shape (n_iterations + 1, d)
        The weight trajectory ``w_0, ..., w_T``.
    """
    phi = as_float_array(features, "features", ndim=2)
    r = as_float_array(rewards, "rewards", ndim=1)
    psi = as_float_array(next_features, "next_features", ndim=3)
    n, d = phi.shape
    if r.shape != (n,):
        raise ValueError(f"rewards has shape {r.shape}, expected ({n},)")
    if psi.shape[0] != n or psi.shape[2] != d:
        raise ValueError(f"next_features has shape {psi.shape}, expected ({n}, A', {d})")
    if psi.shape[1] < 1:
        raise ValueError("next_features has 0 next actions; the max over next actions needs at least one")
    gamma = check_real(gamma, "gamma", low=0.0, high=1.0, closed="left")
    w = as_float_array(w0, "w0", ndim=1)
    if w.shape != (d,):
        raise ValueError(f"w0 has shape {w.shape}, expected ({d},)")
    T = check_positive_int(n_iterations, "n_iterations")
    check_table("the weight trajectory", (T + 1, d), ("n_iterations + 1", "d"))
    pinv = np.linalg.pinv(phi)
    out = np.empty((T + 1, d))
    out[0] = w
    for t in range(T):
        y = r + gamma * (psi @ w).max(axis=1)
        w = w + pinv @ (y - phi @ w)
        out[t + 1] = w
    return out


def two_state_example(gamma: float, *, w0: float = 1.0, n_iterations: int = 50) -> np.ndarray:
    """Linear FQI on the two-state edge-of-reach example; returns the scalar weights ``w_0..w_T``.

    ``s1`` (in the buffer, one action, feature 1, reward 0) moves to the edge-of-reach state ``s2`` (never in the
    buffer, two actions with features +2 and -2). Closed form ``w_t = (2 gamma)^t |w_0|`` for ``t >= 1``:
    divergence exactly for ``gamma > 1/2``, convergence to 0 for ``gamma < 1/2``.
    """
    w0 = check_real(w0, "w0")
    traj = linear_fqi([[1.0]], [0.0], [[[2.0], [-2.0]]], gamma, w0=[w0], n_iterations=n_iterations)
    return traj[:, 0]

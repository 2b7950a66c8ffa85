"""MOORL's meta (Reptile) update over offline and online data, on quadratic losses, with its closed form.

Chaudhary, Mondal & Behera (2025), "MOORL: A Framework for Integrating Offline-Online Reinforcement Learning"
(arXiv 2506.09574; no public code): each meta-epoch picks one buffer (offline with probability ``p``, online
otherwise), copies the meta-parameters, takes ``K`` inner gradient steps of size ``alpha`` on that buffer's loss and
moves the meta-parameters toward the adapted ones, ``theta <- theta + beta (theta_K - theta)`` (Reptile, Nichol et
al. 2018). ``K``, ``alpha``, ``beta`` and ``p`` are not given in what could be read of the paper: parameters here.

Analogue. For a quadratic loss ``L_i(theta) = 1/2 (theta - theta_i)^T A_i (theta - theta_i)`` (linear FQE with a
fixed target on buffer ``i``, ``A_i`` its feature covariance), ``K`` steps give
``theta_K - theta = -B_i (theta - theta_i)`` with ``B_i = I - (I - alpha A_i)^K``, so the expected meta-update has
the fixed point

    theta_dagger = (p B_off + (1 - p) B_on)^{-1} (p B_off theta_off + (1 - p) B_on theta_on).

``K = 1`` gives the least-squares fit on the ``p``-mixture of the two buffers (Hy-Q's / RLPD's data mixing); as
``K -> inf`` (with ``0 < alpha A_i < 2 I``) it tends to the parameter average ``p theta_off + (1 - p) theta_on``.
With one-hot features each pair is averaged with the count-insensitive weights ``b_i = 1 - (1 - alpha d_i)^K``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._random import SeedLike, as_generator
from theory_rl._validation import Integer, Real, as_float_array, check_table, validate_params
from theory_rl.results import Result

__all__ = ["ReptileResult", "quadratic_loss", "inner_steps", "reptile_fixed_point", "reptile"]


@dataclass(frozen=True, kw_only=True, repr=False)
class ReptileResult(Result):
    """A Reptile run: ``thetas`` ``(n_meta + 1, d)`` the meta-parameters after each meta-epoch, ``choices``
    ``(n_meta,)`` 1 for the offline buffer and 0 for the online one; ``policy``, ``V`` and ``Q`` are None-like
    placeholders (``policy`` is the final ``theta``)."""

    thetas: np.ndarray
    choices: np.ndarray


def _quadratic(A, theta, a_name: str, t_name: str):
    A = as_float_array(A, a_name, ndim=2)
    d = A.shape[0]
    if A.shape != (d, d) or not np.allclose(A, A.T, atol=1e-12 * max(1.0, np.abs(A).max())):
        raise ValueError(f"{a_name} has shape {A.shape} or is not symmetric; expected a symmetric (d, d) matrix")
    if np.linalg.eigvalsh(A).min() < -1e-10 * max(1.0, np.abs(A).max()):
        raise ValueError(f"{a_name} is not positive semi-definite")
    theta = as_float_array(theta, t_name, shape=(d,))
    return A, theta


def quadratic_loss(features, weights, targets) -> tuple[np.ndarray, np.ndarray]:
    """``(A, theta*)`` of the weighted least-squares loss ``1/2 sum_k w_k (phi_k^T theta - y_k)^2`` (a buffer's
    linear FQE loss with a fixed target): ``A = Phi^T W Phi`` and ``theta*`` its minimum-norm minimiser."""
    X = as_float_array(features, "features", ndim=2)
    w = as_float_array(weights, "weights", shape=(X.shape[0],))
    y = as_float_array(targets, "targets", shape=(X.shape[0],))
    if np.any(w < 0):
        raise ValueError("weights must be >= 0")
    A = X.T @ (w[:, None] * X)
    return A, np.linalg.pinv(A, rcond=1e-12, hermitian=True) @ (X.T @ (w * y))


@validate_params(K=Integer(0), alpha=Real(0.0, None))
def inner_steps(theta, A, theta_star, K: int, alpha: float) -> np.ndarray:
    """``K`` gradient steps of size ``alpha`` on ``1/2 (theta - theta*)^T A (theta - theta*)``, one at a time."""
    A, theta_star = _quadratic(A, theta_star, "A", "theta_star")
    th = as_float_array(theta, "theta", shape=theta_star.shape).copy()
    check_table("the inner steps", (K,), ("K",))
    for _ in range(K):
        th -= alpha * (A @ (th - theta_star))
    return th


def _B(A: np.ndarray, K: int, alpha: float) -> np.ndarray:
    return np.eye(A.shape[0]) - np.linalg.matrix_power(np.eye(A.shape[0]) - alpha * A, K)


@validate_params(K=Integer(1), alpha=Real(0.0, None, closed="neither"), p=Real(0.0, 1.0))
def reptile_fixed_point(A_off, theta_off, A_on, theta_on, *, K: int, alpha: float, p: float = 0.5) -> np.ndarray:
    """The fixed point ``theta_dagger`` of the expected Reptile update (closed form of the module docstring).

    Raises a ValueError when ``p B_off + (1 - p) B_on`` is singular (a direction neither buffer's loss sees).
    """
    A_off, theta_off = _quadratic(A_off, theta_off, "A_off", "theta_off")
    A_on, theta_on = _quadratic(A_on, theta_on, "A_on", "theta_on")
    if A_on.shape != A_off.shape:
        raise ValueError(f"A_on has shape {A_on.shape}, expected A_off's {A_off.shape}")
    check_table("the matrix powers", (min(K, 64), *A_off.shape), ("min(K, 64)", "d", "d"))
    B_off, B_on = _B(A_off, K, alpha), _B(A_on, K, alpha)
    M = p * B_off + (1 - p) * B_on
    if np.linalg.cond(M) > 1e12:
        raise ValueError("p B_off + (1 - p) B_on is singular: some direction is seen by neither buffer's loss")
    return np.linalg.solve(M, p * B_off @ theta_off + (1 - p) * B_on @ theta_on)


@validate_params(K=Integer(1), alpha=Real(0.0, None, closed="neither"), beta=Real(0.0, 1.0, closed="right"),
                 n_meta=Integer(0), p=Real(0.0, 1.0))  # fmt: skip
def reptile(A_off, theta_off, A_on, theta_on, *, K: int, alpha: float, beta: float, n_meta: int, seed: SeedLike,
            p: float = 0.5, theta0=None) -> ReptileResult:  # fmt: skip
    """MOORL's meta-loop on the two quadratic losses: ``n_meta`` meta-epochs, each on one buffer drawn with
    probability ``p`` (offline) or ``1 - p`` (online), ``K`` inner steps, then ``theta += beta (theta_K - theta)``.
    With ``beta`` small the iterates concentrate around :func:`reptile_fixed_point`."""
    A_off, theta_off = _quadratic(A_off, theta_off, "A_off", "theta_off")
    A_on, theta_on = _quadratic(A_on, theta_on, "A_on", "theta_on")
    if A_on.shape != A_off.shape:
        raise ValueError(f"A_on has shape {A_on.shape}, expected A_off's {A_off.shape}")
    d = theta_off.shape[0]
    check_table("the meta-iterates", (n_meta + 1, d), ("n_meta + 1", "d"))
    check_table("the inner steps", (K,), ("K",))
    theta = np.zeros(d) if theta0 is None else as_float_array(theta0, "theta0", shape=(d,)).copy()
    choices = (as_generator(seed).random(n_meta) < p).astype(np.int64)
    thetas = np.empty((n_meta + 1, d))
    thetas[0] = theta
    for t, c in enumerate(choices):
        A, target = (A_off, theta_off) if c else (A_on, theta_on)
        th = theta.copy()
        for _ in range(K):
            th -= alpha * (A @ (th - target))
        theta = theta + beta * (th - theta)
        thetas[t + 1] = theta
    return ReptileResult(policy=theta, method="reptile", thetas=thetas, choices=choices,
                         constants={"K": K, "alpha": alpha, "beta": beta, "p": p, "n_meta": n_meta})  # fmt: skip

"""The penalties (pessimism) and bonuses (optimism) that several papers share, as public functions.

Algorithms call these instead of re-typing them, so the papers' constants live in one place:

- :func:`hoeffding`: ``value_range * sqrt(log_term / N)``, the LCB penalty of Rashidinejad et al. (2021,
  Alg. 1-3) and the count-based bonus of UCB-style methods;
- :func:`bernstein`: the variance-aware penalty of Li, Shi, Chen, Chi & Wei (2024, eqs. (28) and (55));
- :func:`elliptical`: ``beta * ||phi(s, a)||_{Lambda^{-1}}``, the linear-MDP penalty of PEVI (Jin, Yang & Wang
  2021, Alg. 2) and the bonus of LSVI-UCB (Jin et al. 2020, Alg. 1).

Each returns the un-scaled quantity of its paper; a ``penalty_scale`` / ``bonus_scale`` multiplies it at the call
site. Unseen pairs (``N = 0``) get the value stated in each docstring.
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import as_float_array, check_range, check_real

__all__ = ["hoeffding", "bernstein", "elliptical"]


def _counts(N) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    N = as_float_array(N, "N")  # complex, strings, NaN and inf refused, naming N
    check_range(N, "N", 0.0, np.inf)  # a count is >= 0
    seen = N > 0
    return N, seen, np.where(seen, N, 1.0)


def hoeffding(N, log_term: float, *, value_range: float = 1.0, unseen: float | None = None) -> np.ndarray:
    """Hoeffding's width ``value_range * sqrt(log_term / N)`` per entry of the counts ``N``.

    Parameters
    ----------
    N : array_like
        Counts ``N(s, a)`` (any shape).
    log_term : float
        The confidence term, e.g. ``log(2 A / delta) / 2`` (Rashidinejad et al. 2021, Alg. 1) or
        ``L = c log(2 (T + 1) S A / delta)`` (their Alg. 3).
    value_range : float, default 1
        The range of the estimated quantity (``Vmax = 1/(1 - gamma)`` for values, 1 for rewards in [0, 1]).
    unseen : float, optional
        The value at ``N = 0``; by default that of ``N = 1`` (``value_range * sqrt(log_term)``).

    Returns
    -------
    numpy.ndarray
        The widths, shape of ``N``.
    """
    N, seen, safe = _counts(N)
    log_term = check_real(log_term, "log_term", low=0.0)
    value_range = check_real(value_range, "value_range", low=0.0)
    if unseen is not None:
        unseen = check_real(unseen, "unseen")
    width = value_range * np.sqrt(log_term / safe)
    if unseen is None:
        return width
    return np.where(seen, width, unseen)


def bernstein(
    N, variance, log_term: float, *, c_b: float, value_range: float, second_order: str = "max"
) -> np.ndarray:
    """Bernstein-style width of Li et al. (2024), capped at ``value_range``; unseen pairs get ``value_range``.

    ``second_order="max"`` (discounted, their eq. (28)):
    ``min{ max{ sqrt(c_b l Var / N), 2 c_b l value_range / N }, value_range }``;
    ``second_order="sum"`` (finite horizon, their eq. (55)):
    ``min{ sqrt(c_b l Var / N) + c_b l value_range / N, value_range }``, with ``l = log_term`` and
    ``Var = Var_{P_hat(.|s,a)}(V)`` the empirical variance of the next value. (The discounted form's extra
    ``5 / N`` is added by the caller, as in the paper it is outside the cap.)

    Parameters
    ----------
    N, variance : array_like
        Counts and next-value variances, one shape.
    log_term : float
    c_b : float
        The paper's constant (examples: 144 discounted, 16 finite horizon).
    value_range : float
        ``1/(1 - gamma)`` or ``H`` in the paper.
    second_order : {"max", "sum"}
    """
    N, seen, safe = _counts(N)
    variance = as_float_array(variance, "variance")
    check_range(variance, "variance", 0.0, np.inf)
    log_term = check_real(log_term, "log_term", low=0.0)
    c_b = check_real(c_b, "c_b", low=0.0)
    value_range = check_real(value_range, "value_range", low=0.0)
    first = np.sqrt(c_b * log_term * variance / safe)
    if second_order == "max":
        width = np.maximum(first, 2.0 * c_b * log_term * value_range / safe)
    elif second_order == "sum":
        width = first + c_b * log_term * value_range / safe
    else:
        raise ValueError(f"second_order is {second_order!r}, expected 'max' or 'sum'")
    return np.where(seen, np.minimum(width, value_range), value_range)


def elliptical(phi, Lambda_inv, beta: float = 1.0) -> np.ndarray:
    """``beta * sqrt(phi^T Lambda^{-1} phi)`` for every feature vector in ``phi`` (last axis ``d``).

    Parameters
    ----------
    phi : array_like
        Features, shape ``(..., d)`` (e.g. ``(S, A, d)``).
    Lambda_inv : array_like
        The inverse regularised covariance ``Lambda^{-1}``, ``(d, d)``.
    beta : float, default 1
    """
    phi = as_float_array(phi, "phi")
    if phi.ndim < 1:
        raise ValueError(f"phi has shape {phi.shape}, expected feature vectors of shape (..., d)")
    d = phi.shape[-1]
    Lambda_inv = as_float_array(Lambda_inv, "Lambda_inv", shape=(d, d))
    beta = check_real(beta, "beta", low=0.0)
    quad = np.einsum("...d,de,...e->...", phi, Lambda_inv, phi)
    return beta * np.sqrt(np.maximum(quad, 0.0))  # round-off can make a tiny quadratic form negative

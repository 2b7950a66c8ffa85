"""The ONE numpy reward-noise function: rewards with mean ``R(s, a)``, or sums of ``n`` of them.

Reward models (:data:`theory_rl.mdp.REWARD_NOISES`): ``"bernoulli"`` (``r ~ Bernoulli(R)``, rewards in {0, 1}, as
in LCB, Rashidinejad et al. 2021, Sec. 2), ``"gaussian"`` (``r ~ N(R, std^2)``) and ``"deterministic"`` (``r = R``).
The numba kernels of :mod:`theory_rl._kernels` draw the same laws in-kernel (their ``_reward``); this function
serves numpy code (round-by-round learners, counts drawn directly).
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import (
    Options,
    Real,
    as_float_array,
    check_instance,
    check_range,
    index_str,
    validate_params,
)
from theory_rl.mdp import REWARD_NOISES

__all__ = ["sample_rewards"]


@validate_params(noise=Options(REWARD_NOISES), std=Real(0.0))
def sample_rewards(rng: np.random.Generator, mean, noise: str, std: float = 0.0, *, n=None):
    """Sampled rewards with mean ``mean``, one per entry, or the sum of ``n[i]`` independent ones per entry.

    Parameters
    ----------
    rng : numpy.random.Generator
        The stream to draw from (it advances).
    mean : float or array_like
        Mean rewards ``R``; in ``[0, 1]`` for Bernoulli rewards.
    noise : {"bernoulli", "gaussian", "deterministic"}
    std : float, default 0
        Standard deviation of Gaussian rewards (unused otherwise).
    n : array_like of int, optional
        Sample sizes, the shape of ``mean``. Given, the result is the sum of ``n`` rewards per entry, drawn
        directly at a cost independent of ``n``: ``Binomial(n, R)`` (Bernoulli), ``N(n R, n std^2)`` (Gaussian)
        or ``n R`` (deterministic), the law of the sum of ``n`` single draws.

    Returns
    -------
    float or numpy.ndarray
        A float for a scalar ``mean`` and no ``n`` (one draw: ``rng.random() < R``, ``R + std * z`` or ``R``);
        else a float64 array of ``mean``'s shape.

    Notes
    -----
    Draw order (the streams of existing figures depend on it): single Bernoulli rewards use one
    ``rng.random(shape)``, single Gaussian rewards one ``rng.standard_normal(shape)``; sums use one
    ``rng.binomial(n, R)`` or one ``rng.normal(n R, sqrt(n) std)``; deterministic rewards draw nothing.
    """
    check_instance(rng, "rng", np.random.Generator)
    scalar = np.ndim(mean) == 0 and n is None
    R = as_float_array(mean, "mean")
    if noise == "bernoulli":
        check_range(R, "mean", 0.0, 1.0)
    if n is None:
        if noise == "bernoulli":
            out = (rng.random(R.shape) < R).astype(np.float64)
        elif noise == "gaussian":
            out = R + std * rng.standard_normal(R.shape)
        else:
            out = R.astype(np.float64, copy=True)
        return float(out) if scalar else out
    N = np.asarray(n)
    if N.dtype == bool or not np.issubdtype(N.dtype, np.integer):
        N = as_float_array(N, "n")
        if (np.round(N) != N).any():
            idx = tuple(np.argwhere(np.round(N) != N)[0])
            raise ValueError(f"n{index_str(idx)} is {N[idx]}, expected an integer count")
        N = N.astype(np.int64)
    if N.shape != R.shape:
        raise ValueError(f"n has shape {N.shape}, expected the shape {R.shape} of mean")
    if (N < 0).any():
        idx = tuple(np.argwhere(N < 0)[0])
        raise ValueError(f"n{index_str(idx)} is {N[idx]}, expected a count >= 0")
    if noise == "bernoulli":
        return rng.binomial(N, R).astype(np.float64)
    if noise == "gaussian":
        return rng.normal(N * R, np.sqrt(N) * std)
    return N * R

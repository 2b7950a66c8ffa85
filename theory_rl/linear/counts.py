"""Feature covariances of count data on a finite linear MDP.

Every least-squares estimate of the linear-MDP papers (PEVI, Jin, Yang & Wang 2021, Alg. 2; LSVI-UCB, Jin et al.
2020, Alg. 1; PEDEL / FTPedel, Wagenmaker & Jamieson 2022 and Wagenmaker & Pacchiano 2023) is a function of the
visit counts ``n_h(s, a)``, the transition counts and the reward sums, because the features depend on ``(h, s, a)``
only. The data are the ONE counts record of the library, :class:`theory_rl.data.CountDataset` (finite horizon:
``counts`` (H, S, A), ``transition_counts`` (H, S, A, S), ``reward_sums`` (H, S, A)); this module holds what the
linear side computes from its counts: :func:`feature_covariance`, ``Lambda_h = sum_tau phi_tau phi_tau^T``.

``Counts`` (the former linear-only record) is a deprecated alias for one release: it builds the equivalent
CountDataset.
"""

from __future__ import annotations

import warnings

import numpy as np

from theory_rl._validation import as_float_array, check_shape

__all__ = ["feature_covariance"]


def feature_covariance(counts, phi) -> np.ndarray:
    """Unregularised covariance ``Lambda_h = sum_tau phi_h(s_tau, a_tau) phi_h(s_tau, a_tau)^T`` of count data.

    With finitely many ``(s, a)``, ``Lambda_h = sum_{s, a} n_h(s, a) phi_h(s, a) phi_h(s, a)^T`` exactly (the
    Gram matrix of the ridge regressions of PEVI, Jin, Yang & Wang 2021, eq. 4.6, LSVI-UCB and PEDEL / FTPedel's
    ``Lambda_off,h``).

    Parameters
    ----------
    counts : array_like, shape (H, S, A) or (S, A)
        Visit counts ``n_h(s, a)`` (e.g. ``CountDataset.counts``), finite and ``>= 0``; one step or all.
    phi : array_like, shape (S, A, d) or (H, S, A, d)
        Features, stationary or per step (per step only with per-step counts).

    Returns
    -------
    numpy.ndarray
        ``(H, d, d)`` for per-step counts, ``(d, d)`` for one step.
    """
    n = as_float_array(counts, "counts", ndim=(2, 3))
    if (n < 0).any():
        raise ValueError(f"counts has a negative entry {n.min():.6g}, expected counts >= 0")
    phi = as_float_array(phi, "phi", ndim=(3, 4))
    if phi.ndim == 4 and n.ndim == 2:
        raise ValueError(f"phi has shape {phi.shape} (per step), but counts has shape {n.shape} (one step)")
    check_shape(phi, "phi", (n.shape if phi.ndim == 4 else n.shape[-2:]) + phi.shape[-1:])
    if n.ndim == 2:
        return np.einsum("sa,sad,sae->de", n, phi, phi)
    phi = np.broadcast_to(phi, n.shape + phi.shape[-1:])
    return np.einsum("hsa,hsad,hsae->hde", n, phi, phi)


def __getattr__(name: str):
    if name == "Counts":
        warnings.warn("theory_rl.linear.counts.Counts is deprecated; use theory_rl.data.CountDataset (horizon H)",
                      DeprecationWarning, stacklevel=2)
        from theory_rl.linear._deprecated import Counts

        return Counts
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

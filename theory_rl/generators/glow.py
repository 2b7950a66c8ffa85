"""Instances for GLOW / HyGLOW (Amortila et al. 2024, arXiv 2401.09681): coverability under control.

- :func:`coverability_family`: ``k`` states, ``A >= k`` actions, action ``a`` moves to state ``a mod k`` with
  probability ``p`` and to a uniform state otherwise, so ``C_cov,h = A (1 + (k - 1) p)`` for ``h >= 2`` (and
  ``A`` at ``h = 1``, the initial distribution being uniform).
- :func:`block_mdp`: the same dynamics on ``k`` latent states, each emitting one of ``m`` observations uniformly:
  ``|X| = k m`` grows while ``C_cov`` stays ``A (1 + (k - 1) p)``.

Reward: only at the last layer, Bernoulli with mean ``1/2 + gap * 1{a = 0}``, so returns lie in ``[0, 1]`` (the
paper's normalisation), action 0 is optimal everywhere and every other last-layer action loses ``gap``. Each
instance comes with decoy targets (one per last-layer latent state and action ``a >= 1``) for
:func:`theory_rl.algorithms.glow.decoy_classes`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._validation import check_positive_int
from theory_rl.mdp import TabularMDP

__all__ = ["DecoyInstance", "coverability_family", "block_mdp"]


@dataclass(frozen=True, eq=False)
class DecoyInstance:
    """An MDP, its decoy targets ``(n, H, S, A)`` (boolean) and its coverability in closed form."""

    mdp: TabularMDP
    targets: np.ndarray
    c_cov: float


def _check(k, A, p, horizon, gap):
    k = check_positive_int(k, "k")
    A = check_positive_int(A, "A", minimum=max(k, 2))
    horizon = check_positive_int(horizon, "horizon", minimum=2)
    p, gap = float(p), float(gap)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p is {p}, expected a probability in [0, 1]")
    if not 0.0 < gap <= 0.5:
        raise ValueError(f"gap is {gap}, expected a value in (0, 0.5]")
    return k, A, p, horizon, gap


def _latent(k, A, p, horizon, gap):
    P = np.full((k, A, k), (1.0 - p) / k)
    P[:, np.arange(A), np.arange(A) % k] += p
    R = np.zeros((horizon, k, A))
    R[-1] = 0.5
    R[-1, :, 0] += gap
    return P, R


def coverability_family(k: int, A: int, p: float, *, horizon: int = 3, gap: float = 0.1) -> DecoyInstance:
    """The controlled-coverability family: ``C_cov = A (1 + (k - 1) p)`` (digest ``papers/glow.md``)."""
    k, A, p, horizon, gap = _check(k, A, p, horizon, gap)
    P, R = _latent(k, A, p, horizon, gap)
    mdp = TabularMDP(P, R, np.full(k, 1.0 / k), horizon=horizon)
    targets = np.zeros((k * (A - 1), horizon, k, A), dtype=bool)
    for i, (x, a) in enumerate((x, a) for x in range(k) for a in range(1, A)):
        targets[i, -1, x, a] = True
    return DecoyInstance(mdp, targets, A * (1.0 + (k - 1) * p))


def block_mdp(k: int, A: int, p: float, m: int, *, horizon: int = 3, gap: float = 0.1) -> DecoyInstance:
    """Block MDP: observation ``x = s m + j`` of latent ``s`` (``j`` uniform in ``0..m-1``); ``|X| = k m``.

    The decoy targets are latent (all observations of a latent state at once), so ``|F|`` and the ratio class do
    not grow with ``m``; ``C_cov = A (1 + (k - 1) p)`` for every ``m``.
    """
    k, A, p, horizon, gap = _check(k, A, p, horizon, gap)
    m = check_positive_int(m, "m")
    P_lat, R_lat = _latent(k, A, p, horizon, gap)
    latent = np.repeat(np.arange(k), m)
    P = P_lat[latent][:, :, latent] / m  # (S, A, S): latent move, then a uniform emission
    R = R_lat[:, latent]
    mdp = TabularMDP(P, R, np.full(k * m, 1.0 / (k * m)), horizon=horizon)
    targets = np.zeros((k * (A - 1), horizon, k * m, A), dtype=bool)
    for i, (s, a) in enumerate((s, a) for s in range(k) for a in range(1, A)):
        targets[i, -1, latent == s, a] = True
    return DecoyInstance(mdp, targets, A * (1.0 + (k - 1) * p))

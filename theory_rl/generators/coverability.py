"""Instance families for GLOW / HyGLOW (Amortila et al. 2024, arXiv 2401.09681): coverability under control.

(This module was ``theory_rl.generators.glow``, renamed so that it no longer shadows
:mod:`theory_rl.algorithms.glow`; the old path stays importable, deprecated, for one release.)

- :func:`coverability_family`: ``k`` states, ``A >= k`` actions, action ``a`` moves to state ``a mod k`` with
  probability ``p`` and to a uniform state otherwise, so ``C_cov,h = A (1 + (k - 1) p)`` for ``h >= 2`` (and
  ``A`` at ``h = 1``, the initial distribution being uniform).
- :func:`block_mdp`: the same dynamics on ``k`` latent states, each emitting one of ``m`` observations uniformly:
  ``|X| = k m`` grows while ``C_cov`` stays ``A (1 + (k - 1) p)``.

With ``n_decoys`` (and ``decoy_states``) :func:`coverability_family` lays out a given number of decoys on a given
number of states, so that the coverability of the class's own policies (Thm 3.1's ``C_cov``, over
``Pi = {pi_f : f in F}``) varies while ``|F|`` and every decoy's reach stay fixed, or the converse (issue 22):
``DecoyInstance.c_cov_class`` is that coverability in closed form.

Reward: only at the last layer, Bernoulli with mean ``1/2 + gap * 1{a = 0}``, so returns lie in ``[0, 1]`` (the
paper's normalisation), action 0 is optimal everywhere and every other last-layer action loses ``gap``. Each
instance comes with decoy targets (one per last-layer latent state and action ``a >= 1``) for
:func:`theory_rl.algorithms.glow.decoy_classes`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._validation import check_positive_int, check_real, check_table
from theory_rl.mdp import TabularMDP

__all__ = ["DecoyInstance", "IncompleteInstance", "block_mdp", "coverability_family", "incomplete_fqi_instance"]


@dataclass(frozen=True, eq=False)
class DecoyInstance:
    """An MDP, its decoy targets ``(n, H, S, A)`` (boolean) and its coverability in closed form.

    ``c_cov`` is the coverability of all policies; ``c_cov_class`` (when the generator knows it) that of the greedy
    policies of ``decoy_classes(mdp, targets, bonus)`` for any ``bonus > 0`` (ties to the lowest action)."""

    mdp: TabularMDP
    targets: np.ndarray
    c_cov: float
    c_cov_class: float | None = None


def _check(k, A, p, horizon, gap):
    k = check_positive_int(k, "k")
    check_table("P", (k, k), ("k", "k"))  # an absurd k is refused as such, not as "A < k"
    A = check_positive_int(A, "A", minimum=max(k, 2))
    horizon = check_positive_int(horizon, "horizon", minimum=2)
    # The decoy targets (k (A - 1), horizon, k, A) are the largest table (booleans).
    check_table("the decoy targets", (k * (A - 1), horizon, k, A), ("k * (A - 1)", "horizon", "k", "A"), itemsize=1)
    p = check_real(p, "p", low=0.0, high=1.0)
    gap = check_real(gap, "gap", low=0.0, high=0.5, closed="right")
    return k, A, p, horizon, gap


def _latent(k, A, p, horizon, gap):
    P = np.full((k, A, k), (1.0 - p) / k)
    P[:, np.arange(A), np.arange(A) % k] += p
    R = np.zeros((horizon, k, A))
    R[-1] = 0.5
    R[-1, :, 0] += gap
    return P, R


def coverability_family(k: int, A: int, p: float, *, horizon: int = 3, gap: float = 0.1,
                        n_decoys: int | None = None, decoy_states: int | None = None) -> DecoyInstance:
    """The controlled-coverability family: ``C_cov = A (1 + (k - 1) p)`` (digest ``papers/glow.md``).

    By default one decoy per last-layer pair ``(x, a)``, ``a >= 1``. With ``n_decoys = n`` (and ``decoy_states =
    s``, default ``min(n, k)``), decoy ``j`` targets ``(j mod s, 1 + j // s)``: ``n`` decoys on the first ``s``
    states, each reached by its own greedy policy with probability ``q = p + (1 - p)/k``. The class's coverability
    is then (``p > 0``; dynamics do not depend on the state, so only the step before the last steers)
    ``C_cov(Pi) = max(|X|, (n + 1) q + (k - 1)(1 - p)/k)``, ``X = {0..s-1}`` the steered-to states (``Q*``
    steers to 0 by the tie rule): ``s`` moves ``C_cov(Pi)`` while ``|F| = n + 1`` and ``q`` stay fixed, and ``n``
    moves ``|F|`` while ``C_cov(Pi) = s`` stays fixed as long as ``(n + 1) q + (k - 1)(1 - p)/k <= s``.
    """
    k, A, p, horizon, gap = _check(k, A, p, horizon, gap)
    P, R = _latent(k, A, p, horizon, gap)
    mdp = TabularMDP(P, R, np.full(k, 1.0 / k), horizon=horizon)
    if n_decoys is None:
        if decoy_states is not None:
            raise ValueError("decoy_states needs n_decoys")
        targets = np.zeros((k * (A - 1), horizon, k, A), dtype=bool)
        for i, (x, a) in enumerate((x, a) for x in range(k) for a in range(1, A)):
            targets[i, -1, x, a] = True
        return DecoyInstance(mdp, targets, A * (1.0 + (k - 1) * p))
    n = check_positive_int(n_decoys, "n_decoys")
    s = min(n, k) if decoy_states is None else check_positive_int(decoy_states, "decoy_states")
    if s > min(n, k):
        raise ValueError(f"decoy_states is {s}, expected at most min(n_decoys, k) = {min(n, k)}")
    if 1 + (n - 1) // s > A - 1:
        raise ValueError(f"n_decoys is {n}: {s} state(s) hold at most {s * (A - 1)} decoys with A = {A}")
    targets = np.zeros((n, horizon, k, A), dtype=bool)
    for j in range(n):
        targets[j, -1, j % s, 1 + j // s] = True
    q = p + (1.0 - p) / k
    c_class = max(float(s), (n + 1) * q + (k - 1) * (1.0 - p) / k) if p > 0 else None
    return DecoyInstance(mdp, targets, A * (1.0 + (k - 1) * p), c_class)


def block_mdp(k: int, A: int, p: float, m: int, *, horizon: int = 3, gap: float = 0.1) -> DecoyInstance:
    """Block MDP: observation ``x = s m + j`` of latent ``s`` (``j`` uniform in ``0..m-1``); ``|X| = k m``.

    The decoy targets are latent (all observations of a latent state at once), so ``|F|`` and the ratio class do
    not grow with ``m``; ``C_cov = A (1 + (k - 1) p)`` for every ``m``.
    """
    k, A, p, horizon, gap = _check(k, A, p, horizon, gap)
    m = check_positive_int(m, "m")
    check_table("P", (k * m, A, k * m), ("k * m", "A", "k * m"))
    check_table("the decoy targets", (k * (A - 1), horizon, k * m, A), ("k * (A - 1)", "horizon", "k * m", "A"),
                itemsize=1)
    P_lat, R_lat = _latent(k, A, p, horizon, gap)
    latent = np.repeat(np.arange(k), m)
    P = P_lat[latent][:, :, latent] / m  # (S, A, S): latent move, then a uniform emission
    R = R_lat[:, latent]
    mdp = TabularMDP(P, R, np.full(k * m, 1.0 / (k * m)), horizon=horizon)
    targets = np.zeros((k * (A - 1), horizon, k * m, A), dtype=bool)
    for i, (s, a) in enumerate((s, a) for s in range(k) for a in range(1, A)):
        targets[i, -1, latent == s, a] = True
    return DecoyInstance(mdp, targets, A * (1.0 + (k - 1) * p))


@dataclass(frozen=True, eq=False)
class IncompleteInstance:
    """An MDP, an offline distribution ``nu`` ``(H, S, A)`` and a value class ``F`` ``(2, H, S, A)`` that realizes
    ``Q*`` (``F[1]``) but is not Bellman complete."""

    mdp: TabularMDP
    nu: np.ndarray
    F: np.ndarray


def incomplete_fqi_instance(*, rho: float = 0.1) -> IncompleteInstance:
    """A realizable, non-complete two-member class on which FQI (and so Hy-Q) fails and MABO.CR does not.

    Horizon 2, states ``sA = 0`` (initial), ``sB = 1``, ``g = 2``, ``c = 3``, ``b = 4``; two actions. From ``sA``
    action 0 reaches ``g`` (mean reward 0.8) and action 1 reaches ``c`` (0.3); from ``sB`` both reach ``b`` (0.5).
    ``F = {f_bad, Q*}``: ``f_bad`` equals ``Q*`` except ``f_bad_2(b, 1) = 1`` (never in the data),
    ``f_bad_1(sB, .) = (1, 1)`` and ``f_bad_1(sA, .) = (0.55, 0.56)``. The offline data put ``1 - rho`` of layer 1 on
    ``sB`` and ``rho`` on ``(sA, 0)``, and ``1 - rho`` of layer 2 on ``(b, 0)`` and ``rho`` on ``(g, 0)``
    (``C_star = 1 / rho``).

    FQI ties at layer 2 (``f_bad_2 = Q*_2`` on the data; lowest index wins), so its layer-1 targets at ``sB`` are
    the inflated 1; ``T f_bad_2`` is not in ``F_1`` (no completeness), and the least-squares projection picks
    ``f_bad_1``, whose greedy action at ``sA`` goes to ``c`` (sub-optimality 0.5). Its own online data land on
    ``(sA, 1)`` and ``c``, never on ``(b, 1)``, so the error is never corrected. ``f_bad`` has Bellman error 0.26 on
    ``(sA, 1)`` and -0.25 on ``(sA, 0)``, which MABO.CR's weights see.
    """
    rho = check_real(rho, "rho", low=0.0, high=1.0, closed="neither")
    S, A, H = 5, 2, 2
    P = np.zeros((H, S, A, S))
    P[0, :, :, 2] = 1.0
    P[0, 0, 1] = np.eye(S)[3]
    P[0, 1, :] = np.eye(S)[4]
    P[1, np.arange(S), :, np.arange(S)] = 1.0
    R = np.zeros((H, S, A))
    R[1, 2], R[1, 3], R[1, 4] = 0.8, 0.3, 0.5
    mdp = TabularMDP(P, R, np.eye(S)[0], horizon=H)
    q_star = np.zeros((H, S, A))
    q_star[1] = R[1]
    q_star[0] = (P[0].reshape(S * A, S) @ R[1].max(axis=1)).reshape(S, A)
    bad = q_star.copy()
    bad[1, 4, 1] = 1.0
    bad[0, 1] = 1.0
    bad[0, 0] = (0.55, 0.56)
    nu = np.zeros((H, S, A))
    nu[0, 1] = (1 - rho) / 2
    nu[0, 0, 0] = rho
    nu[1, 4, 0], nu[1, 2, 0] = 1 - rho, rho
    return IncompleteInstance(mdp, nu, np.stack([bad, q_star]))

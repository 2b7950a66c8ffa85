"""Per-layer sufficient statistics and the vectorised GLOW / MABO.CR criteria (Amortila et al. 2024).

For tabular data every empirical quantity in GLOW (Alg. 1) and MABO.CR is a function of, per layer ``h``: the
counts ``n_h(x, a)``, the reward sums ``R_h(x, a)`` and the transition counts ``C_h(x, a, x')``. With
``V_{f,h+1}(x') = max_a' f_{h+1}(x', a')`` (``f_{H+1} = 0``), the residual sums

    B_{f,h}(x, a) = n_h(x, a) f_h(x, a) - R_h(x, a) - sum_x' C_h(x, a, x') V_{f,h+1}(x')

give ``E_hat_{D_h}[Delta_h f * w~] = (1/N_h) sum_{x,a} w~_h(x, a) B_{f,h}(x, a)`` and
``E_hat_{D_h}[w~^2] = (1/N_h) sum_{x,a} n_h(x, a) w~_h(x, a)^2`` for all ``f`` and ``w`` at once: one einsum for
``B`` (``O(|F| H S^2 A)``) and one matrix product per layer (``O(|F| |W| H S A)``).
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import Real, validate_params

__all__ = [
    "ALPHA", "CLIP", "SufficientStatistics", "residual_sums", "weighted_moments", "glow_violations", "confidence_set",
]


class SufficientStatistics:
    """Mutable per-layer counts of transitions ``(h, x, a, r, x')`` and of initial states.

    Attributes
    ----------
    n : numpy.ndarray
        ``(H, S, A)`` visit counts.
    r : numpy.ndarray
        ``(H, S, A)`` reward sums.
    C : numpy.ndarray
        ``(H, S, A, S)`` transition counts (the last layer's next states are recorded but never used).
    init : numpy.ndarray
        ``(S,)`` counts of the layer-1 states of the online trajectories (GLOW's optimism averages over them).
    """

    def __init__(self, H: int, S: int, A: int) -> None:
        self.n = np.zeros((H, S, A))
        self.r = np.zeros((H, S, A))
        self.C = np.zeros((H, S, A, S))
        self.init = np.zeros(S)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.n.shape

    @property
    def per_layer(self) -> np.ndarray:
        """``N_h``, the number of samples at each layer, ``(H,)``."""
        return self.n.sum(axis=(1, 2))

    def add_transition(self, h: int, x: int, a: int, reward: float, x_next: int) -> None:
        self.n[h, x, a] += 1
        self.r[h, x, a] += reward
        self.C[h, x, a, x_next] += 1

    def add_trajectory(self, states, actions, rewards) -> None:
        """One episode: ``states`` has ``H + 1`` entries, ``actions`` and ``rewards`` ``H``."""
        self.init[states[0]] += 1
        for h in range(len(actions)):
            self.add_transition(h, states[h], actions[h], rewards[h], states[h + 1])

    def __add__(self, other: SufficientStatistics) -> SufficientStatistics:
        if other.shape != self.shape:
            raise ValueError(f"statistics have shapes {self.shape} and {other.shape}")
        out = SufficientStatistics(*self.shape)
        for name in ("n", "r", "C", "init"):
            setattr(out, name, getattr(self, name) + getattr(other, name))
        return out


def next_values(F: np.ndarray) -> np.ndarray:
    """``V_{f,h+1}(x') = max_a' f_{h+1}(x', a')`` with ``f_{H+1} = 0``: ``(|F|, H, S)``."""
    V = np.zeros(F.shape[:3])
    V[:, :-1] = F[:, 1:].max(axis=-1)
    return V


def residual_sums(F: np.ndarray, stats: SufficientStatistics) -> np.ndarray:
    """``B_{f,h}(x, a)`` of the module docstring, ``(|F|, H, S, A)``."""
    nF, H, S, A = F.shape
    V = next_values(F).transpose(1, 2, 0)  # (H, S, |F|)
    expected = np.matmul(stats.C.reshape(H, S * A, S), V).transpose(2, 0, 1).reshape(F.shape)
    return stats.n[None] * F - stats.r[None] - expected


#: The specs of the criteria's constants: a clip level ``g > 0`` and a penalty ``alpha >= 0``, both finite and real
#: (NaN, inf and complex refused, as every constant of GLOW and MABO.CR).
CLIP = Real(0, closed="neither")
ALPHA = Real(0)


def _check_shapes(F: np.ndarray, W: np.ndarray, stats: SufficientStatistics) -> None:
    """``F`` ``(|F|, H, S, A)`` and ``W`` ``(|W|, H, S, A)`` with the ``(H, S, A)`` of ``stats``."""
    shape = tuple(stats.shape)
    if F.ndim != 4 or F.shape[1:] != shape:
        raise ValueError(f"F has shape {F.shape}, expected (|F|, H, S, A) with (H, S, A) = {shape} of the statistics")
    if W.ndim != 4 or W.shape[1:] != shape:
        raise ValueError(f"W has shape {W.shape}, expected (|W|, H, S, A) with (H, S, A) = {shape} of the statistics")


@validate_params(clip=CLIP)
def weighted_moments(F: np.ndarray, W: np.ndarray, stats: SufficientStatistics, clip: float):
    """``D[f, w, h] = E_hat_{D_h}[Delta_h f * clip_g[w_h]]`` and ``Q[w, h] = E_hat_{D_h}[clip_g[w_h]^2]``.

    Layers without data give 0 (the empirical mean of an empty sample, read as no constraint).

    Raises
    ------
    ValueError
        If ``clip`` is not a finite positive real, or ``F``, ``W`` and ``stats`` disagree on ``(H, S, A)``.
    """
    F, W = np.asarray(F, dtype=float), np.asarray(W, dtype=float)
    _check_shapes(F, W, stats)
    nF, H, S, A = F.shape
    Wc = np.minimum(W, clip)
    N = stats.per_layer
    inv = np.where(N > 0, 1.0 / np.where(N > 0, N, 1.0), 0.0)
    B = residual_sums(F, stats).reshape(nF, H, S * A)
    Wf = Wc.reshape(W.shape[0], H, S * A)
    D = np.matmul(B.transpose(1, 0, 2), Wf.transpose(1, 2, 0)).transpose(1, 2, 0) * inv
    Q = (stats.n.reshape(1, H, S * A) * Wf**2).sum(axis=2) * inv
    return D, Q


@validate_params(clip=CLIP, alpha=ALPHA)
def glow_violations(F, W, stats, clip: float, alpha: float) -> np.ndarray:
    """``sup_{w in W_h} E_hat[Delta_h f w~ - alpha w~^2]`` for every ``f`` and layer: ``(|F|, H)`` (Alg. 1)."""
    D, Q = weighted_moments(F, W, stats, clip)
    return (D - alpha * Q[None]).max(axis=1)


@validate_params(clip=CLIP, alpha=ALPHA, beta=Real())
def confidence_set(F, W, stats, clip: float, alpha: float, beta: float) -> np.ndarray:
    """GLOW's confidence set ``F_t`` (Alg. 1) as a boolean mask ``(|F|,)``: every layer's supremum ``<= beta``.

    ``beta`` is a finite real (NaN, which would silently empty the set, and inf are refused; GLOW's first round,
    ``beta_1 = inf``, has no data and takes the whole class without calling this)."""
    return np.all(glow_violations(F, W, stats, clip, alpha) <= beta, axis=1)

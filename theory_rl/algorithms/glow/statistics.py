"""The vectorised GLOW / MABO.CR criteria on the ONE counts record (Amortila et al. 2024, arXiv 2401.09681).

For tabular data every empirical quantity in GLOW (Alg. 1) and MABO.CR is a function of, per layer ``h``: the
counts ``n_h(x, a)``, the reward sums ``R_h(x, a)`` and the transition counts ``C_h(x, a, x')``, i.e. of a
finite-horizon :class:`theory_rl.data.CountDataset` (``counts``, ``reward_sums``, ``transition_counts``, built
round by round with :class:`theory_rl.data.CountsBuilder`). With ``V_{f,h+1}(x') = max_a' f_{h+1}(x', a')``
(``f_{H+1} = 0``), the residual sums

    B_{f,h}(x, a) = n_h(x, a) f_h(x, a) - R_h(x, a) - sum_x' C_h(x, a, x') V_{f,h+1}(x')

give ``E_hat_{D_h}[Delta_h f * w~] = (1/N_h) sum_{x,a} w~_h(x, a) B_{f,h}(x, a)`` and
``E_hat_{D_h}[w~^2] = (1/N_h) sum_{x,a} n_h(x, a) w~_h(x, a)^2`` for all ``f`` and ``w`` at once: one einsum for
``B`` (``O(|F| H S^2 A)``) and one matrix product per layer (``O(|F| |W| H S A)``).

Every criterion takes the statistics as a :class:`~theory_rl.data.CountDataset` with a finite horizon (a
:class:`~theory_rl.data.CountsBuilder` is read through its current record); :class:`SufficientStatistics`, the
former mutable record, is a deprecated alias of :class:`~theory_rl.data.CountsBuilder`.

The public criteria validate their arguments (``F``, ``W``: finite real arrays of the statistics' ``(H, S, A)``;
``clip``, ``alpha``, ``beta``: finite reals). GLOW's and H2O's rounds call ``trusted_violations`` and
``trusted_moments`` instead (not exported): the same computations on inputs already checked at their public
boundary, so a round costs no validation.
"""

from __future__ import annotations

import warnings

import numpy as np

from theory_rl._validation import Real, as_float_array, validate_params
from theory_rl.data import CountDataset, CountsBuilder
from theory_rl.scales import require_unit_scale

__all__ = [
    "ALPHA", "CLIP", "SufficientStatistics", "as_counts", "residual_sums", "weighted_moments", "glow_violations",
    "confidence_set",
]


def as_counts(stats) -> CountDataset:
    """``stats`` as a finite-horizon :class:`~theory_rl.data.CountDataset`: a record is returned as is, a
    :class:`~theory_rl.data.CountsBuilder` gives its current record (:meth:`~theory_rl.data.CountsBuilder.to_counts`).

    Raises
    ------
    ValueError
        Naming ``stats``: another type, or a discounted record (``horizon`` None; GLOW's statistics are per layer).
    """
    if isinstance(stats, CountsBuilder):
        stats = stats.to_counts()
    if not isinstance(stats, CountDataset):
        raise ValueError(f"stats is a {type(stats).__name__}, expected a theory_rl.data.CountDataset")
    if stats.horizon is None:
        raise ValueError("stats is a discounted record (horizon None), expected per-layer counts (H, S, A)")
    return require_unit_scale(stats, "GLOW's statistics")  # issue 15: rewards in [0, 1], undiscounted layers


class SufficientStatistics(CountsBuilder):
    """Deprecated alias: use :class:`theory_rl.data.CountsBuilder` ``(S, A, horizon=H)`` and its
    :meth:`~theory_rl.data.CountsBuilder.to_counts` (removed in the next release).

    Keeps the former names readable: ``n``, ``r``, ``C``, ``init`` (float copies of ``counts``, ``reward_sums``,
    ``transition_counts``, ``init_counts``), ``shape``, ``per_layer``, ``add_trajectory`` (=
    :meth:`~theory_rl.data.CountsBuilder.add_episode`); ``a + b`` is the pooled
    :class:`~theory_rl.data.CountDataset` (``CountDataset.__add__``).
    """

    __deprecated_alias__ = True

    def __init__(self, H: int, S: int, A: int) -> None:
        warnings.warn(
            "SufficientStatistics is deprecated; use theory_rl.data.CountsBuilder(S, A, horizon=H) and its "
            "to_counts() (the criteria take the CountDataset)", DeprecationWarning, stacklevel=2,
        )  # fmt: skip
        super().__init__(S, A, horizon=H)

    n = property(lambda self: self.counts.astype(float), doc="``counts`` as floats (deprecated name).")
    r = property(lambda self: self.reward_sums.copy(), doc="``reward_sums`` (deprecated name).")
    C = property(lambda self: self.transition_counts.astype(float), doc="``transition_counts`` (deprecated name).")
    init = property(lambda self: self.init_counts.astype(float), doc="``init_counts`` (deprecated name).")

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.horizon, self.S, self.A)

    @property
    def per_layer(self) -> np.ndarray:
        """``N_h``, the number of samples at each layer, ``(H,)``."""
        return self.counts.sum(axis=(1, 2))

    def add_trajectory(self, states, actions, rewards) -> None:
        """One episode (:meth:`~theory_rl.data.CountsBuilder.add_episode`)."""
        self.add_episode(states, actions, rewards)

    def __add__(self, other) -> CountDataset:
        return as_counts(self) + as_counts(other)


def per_layer(stats: CountDataset) -> np.ndarray:
    """``N_h``, the number of samples at each layer, ``(H,)``."""
    return stats.counts.sum(axis=(1, 2))


def next_values(F: np.ndarray) -> np.ndarray:
    """``V_{f,h+1}(x') = max_a' f_{h+1}(x', a')`` with ``f_{H+1} = 0``: ``(|F|, H, S)``."""
    V = np.zeros(F.shape[:3])
    V[:, :-1] = F[:, 1:].max(axis=-1)
    return V


def _residual_sums(F: np.ndarray, stats: CountDataset) -> np.ndarray:
    nF, H, S, A = F.shape
    V = next_values(F).transpose(1, 2, 0)  # (H, S, |F|)
    C = stats.transition_counts.reshape(H, S * A, S).astype(float)
    expected = np.matmul(C, V).transpose(2, 0, 1).reshape(F.shape)
    return stats.counts[None] * F - stats.reward_sums[None] - expected


def residual_sums(F: np.ndarray, stats: CountDataset) -> np.ndarray:
    """``B_{f,h}(x, a)`` of the module docstring, ``(|F|, H, S, A)``; ``stats`` a finite-horizon
    :class:`~theory_rl.data.CountDataset` (or a :class:`~theory_rl.data.CountsBuilder`).

    Raises
    ------
    ValueError
        Naming ``F`` or ``stats``: a NaN, infinite or complex entry of ``F``, a shape other than
        ``(|F|, H, S, A)`` of the statistics, a record that is not finite-horizon.
    """
    stats = as_counts(stats)
    F = as_float_array(F, "F")
    _check_class(F, "F", stats)
    return _residual_sums(F, stats)


#: The specs of the criteria's constants: a clip level ``g > 0`` and a penalty ``alpha >= 0``, both finite and real
#: (NaN, inf and complex refused, as every constant of GLOW and MABO.CR).
CLIP = Real(0, closed="neither")
ALPHA = Real(0)


def _check_class(X: np.ndarray, name: str, stats: CountDataset) -> None:
    """``X`` ``(|X|, H, S, A)`` with the ``(H, S, A)`` of ``stats`` (else a ValueError naming ``name``)."""
    shape = tuple(stats.counts.shape)
    if X.ndim != 4 or X.shape[1:] != shape:
        raise ValueError(
            f"{name} has shape {X.shape}, expected (|{name}|, H, S, A) with (H, S, A) = {shape} of the statistics")


def check_criteria_args(F, W, stats) -> tuple[np.ndarray, np.ndarray, CountDataset]:
    """The boundary check of every criterion: ``F`` and ``W`` as finite real arrays ``(|F|, H, S, A)`` and
    ``(|W|, H, S, A)`` with the ``(H, S, A)`` of ``stats``, a finite-horizon :class:`~theory_rl.data.CountDataset`
    (a :class:`~theory_rl.data.CountsBuilder` gives its current record). Returns ``(F, W, stats)``."""
    stats = as_counts(stats)
    F, W = as_float_array(F, "F"), as_float_array(W, "W")
    _check_class(F, "F", stats)
    _check_class(W, "W", stats)
    return F, W, stats


def trusted_moments(F: np.ndarray, W: np.ndarray, stats: CountDataset, clip: float):
    """:func:`weighted_moments` without any check: for the rounds of GLOW / H2O, whose inputs were validated once
    at their public boundary (float arrays of matching shapes, a finite-horizon record, a finite ``clip > 0``)."""
    nF, H, S, A = F.shape
    Wc = np.minimum(W, clip)
    N = per_layer(stats)
    inv = np.where(N > 0, 1.0 / np.where(N > 0, N, 1.0), 0.0)
    B = _residual_sums(F, stats).reshape(nF, H, S * A)
    Wf = Wc.reshape(W.shape[0], H, S * A)
    D = np.matmul(B.transpose(1, 0, 2), Wf.transpose(1, 2, 0)).transpose(1, 2, 0) * inv
    Q = (stats.counts.reshape(1, H, S * A) * Wf**2).sum(axis=2) * inv
    return D, Q


def trusted_violations(F: np.ndarray, W: np.ndarray, stats: CountDataset, clip: float, alpha: float) -> np.ndarray:
    """:func:`glow_violations` without any check (see :func:`trusted_moments`)."""
    D, Q = trusted_moments(F, W, stats, clip)
    return (D - alpha * Q[None]).max(axis=1)


@validate_params(clip=CLIP)
def weighted_moments(F: np.ndarray, W: np.ndarray, stats: CountDataset, clip: float):
    """``D[f, w, h] = E_hat_{D_h}[Delta_h f * clip_g[w_h]]`` and ``Q[w, h] = E_hat_{D_h}[clip_g[w_h]^2]``.

    ``stats`` is a finite-horizon :class:`~theory_rl.data.CountDataset` (or a
    :class:`~theory_rl.data.CountsBuilder`, read through its current record). Layers without data give 0 (the
    empirical mean of an empty sample, read as no constraint).

    Raises
    ------
    ValueError
        If ``clip`` is not a finite positive real, ``stats`` is not a finite-horizon record, ``F`` or ``W`` has a
        NaN, infinite or complex entry, or ``F``, ``W`` and ``stats`` disagree on ``(H, S, A)``.
    """
    return trusted_moments(*check_criteria_args(F, W, stats), clip)


@validate_params(clip=CLIP, alpha=ALPHA)
def glow_violations(F, W, stats, clip: float, alpha: float) -> np.ndarray:
    """``sup_{w in W_h} E_hat[Delta_h f w~ - alpha w~^2]`` for every ``f`` and layer: ``(|F|, H)`` (Alg. 1).
    Arguments checked as in :func:`weighted_moments`."""
    return trusted_violations(*check_criteria_args(F, W, stats), clip, alpha)


@validate_params(clip=CLIP, alpha=ALPHA, beta=Real())
def confidence_set(F, W, stats, clip: float, alpha: float, beta: float) -> np.ndarray:
    """GLOW's confidence set ``F_t`` (Alg. 1) as a boolean mask ``(|F|,)``: every layer's supremum ``<= beta``.

    ``beta`` is a finite real (NaN, which would silently empty the set, and inf are refused; GLOW's first round,
    ``beta_1 = inf``, has no data and takes the whole class without calling this)."""
    return np.all(trusted_violations(*check_criteria_args(F, W, stats), clip, alpha) <= beta, axis=1)

"""Offline plug-ins for H2O on finite classes (Amortila et al. 2024, arXiv 2401.09681, Sec. 4).

Each takes the classes and the counts record of the pooled data (a finite-horizon
:class:`theory_rl.data.CountDataset`; pooling offline and online data is ``CountDataset.__add__``) and returns the
index in ``F`` of the selected value function (FQI returns its layer-wise composite and its greedy policy):

- :func:`mabo_cr`: MABO.CR, ``f_hat in argmin_f max_{w in W_bar} sum_h [|E_hat[w~_h Delta_h f]| - alpha
  E_hat[w~_h^2]]`` with ``W_bar`` = ``W``, ``-W`` and their single-layer restrictions (``|W_bar| <= 4 H |W|``);
  the absolute value makes ``-W`` redundant, and a single-layer version contributes one layer's term.
- :func:`fqi`: fitted Q-iteration on the per-layer classes ``F_h = {f_h : f in F}`` (least squares on the targets
  ``r + max_a' f_hat_{h+1}``): with H2O this is Hy-Q (Song et al. 2023), sound under Bellman completeness.
- :func:`model_mle`: the model of largest likelihood among the models behind ``F`` (transition counts, and the
  Bernoulli likelihood of the reward sums), then its ``Q*``.

Ties go to the lowest index everywhere. The public functions validate their arguments (``classes`` a
:class:`~.classes.FiniteClasses`, ``stats`` a finite-horizon record of its ``(H, S, A)``, ``W`` a finite real
array); H2O's rounds call the ``trusted_*`` versions (not exported), which skip the checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._validation import Instance, Real, validate_params
from theory_rl.algorithms.glow.classes import FiniteClasses, trusted_greedy_actions
from theory_rl.algorithms.glow.statistics import CLIP, as_counts, check_criteria_args, trusted_moments
from theory_rl.data import CountDataset
from theory_rl.results import Result

__all__ = ["mabo_cr_objective", "mabo_cr", "FQIResult", "fqi", "model_mle", "mle_log_likelihood"]


_ALPHA_OPT = Real(0, optional=True)
_CLASSES = Instance(FiniteClasses)


def _counts_for(classes: FiniteClasses, stats) -> CountDataset:
    """``stats`` as a finite-horizon record of the classes' ``(H, S, A)`` (else a ValueError naming ``stats``)."""
    stats = as_counts(stats)
    if stats.counts.shape != classes.shape:
        raise ValueError(f"stats has counts of shape {stats.counts.shape}, expected (H, S, A) = {classes.shape}")
    return stats


def trusted_mabo_cr(classes: FiniteClasses, stats: CountDataset, clip: float, alpha: float | None = None,
                    W: np.ndarray | None = None) -> np.ndarray:
    """:func:`mabo_cr_objective` without any check, for H2O's rounds (inputs validated once at ``h2o``)."""
    alpha = 8.0 / clip if alpha is None else alpha
    D, Q = trusted_moments(classes.F, classes.W if W is None else W, stats, clip)
    terms = np.abs(D) - alpha * Q[None]  # (|F|, |W|, H)
    return np.maximum(terms.sum(axis=2).max(axis=1), terms.max(axis=(1, 2)))


@validate_params(classes=_CLASSES, clip=CLIP, alpha=_ALPHA_OPT)
def mabo_cr_objective(classes: FiniteClasses, stats: CountDataset, clip: float,
                      alpha: float | None = None, W=None) -> np.ndarray:
    """The MABO.CR loss of every ``f`` (``alpha = 8 / clip`` by default, as GLOW's ``alpha_t``): ``(|F|,)``.
    ``W`` replaces ``classes.W`` when given (e.g. with the mixture ratios of the round added); it must be a
    finite real array ``(|W|, H, S, A)``."""
    _, W, stats = check_criteria_args(classes.F, classes.W if W is None else W, stats)
    return trusted_mabo_cr(classes, stats, clip, alpha, W)


@validate_params(classes=_CLASSES, clip=CLIP, alpha=_ALPHA_OPT)
def mabo_cr(classes: FiniteClasses, stats: CountDataset, clip: float, alpha: float | None = None,
            W=None) -> int:
    """MABO.CR's ``f_hat`` (index in ``F``), the offline plug-in of HyGLOW. Arguments as in
    :func:`mabo_cr_objective`."""
    return int(np.argmin(mabo_cr_objective(classes, stats, clip, alpha, W)))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class FQIResult(Result):
    """FQI's layer-wise choice in the shared :class:`~theory_rl.results.Result` names.

    One backward pass over the ``H`` layers (no stopping rule, so not an
    :class:`~theory_rl.results.IterativeResult`).

    Attributes
    ----------
    layers : (H,) int, ``layers[h]`` is the index of the ``f`` whose ``f_h`` was selected
    Q : (H, S, A) float, the composite ``f_hat``
    V : (H, S) float, ``max_a Q``
    policy : (H, S) int, greedy actions of ``Q`` (lowest index on ties)
    method : ``"fqi"``
    """

    method: str = "fqi"
    layers: np.ndarray


@validate_params(classes=_CLASSES)
def fqi(classes: FiniteClasses, stats: CountDataset) -> FQIResult:
    """Fitted Q-iteration over ``F_h``: ``f_hat_h = argmin_{f_h} sum_i (f_h(x_i, a_i) - r_i - V_hat_{h+1}(x_i'))^2``.

    With counts the loss is ``sum_{x,a} [n f^2 - 2 f (R + C V_hat)]`` up to a constant. Unseen pairs do not enter.
    ``stats`` is a finite-horizon :class:`~theory_rl.data.CountDataset` of the classes' ``(H, S, A)``.
    """
    return trusted_fqi(classes, _counts_for(classes, stats))


def trusted_fqi(classes: FiniteClasses, stats: CountDataset) -> FQIResult:
    """:func:`fqi` without any check, for H2O's rounds (inputs validated once at ``h2o``)."""
    F = classes.F
    H = F.shape[1]
    N, C, Rsum = stats.counts, stats.transition_counts, stats.reward_sums
    layers = np.zeros(H, dtype=int)
    Q = np.zeros(F.shape[1:])
    V = np.zeros(F.shape[2])
    for h in range(H - 1, -1, -1):
        target = Rsum[h] + C[h] @ V
        loss = (N[h][None] * F[:, h] ** 2 - 2.0 * F[:, h] * target[None]).sum(axis=(1, 2))
        layers[h] = int(np.argmin(loss))
        Q[h] = F[layers[h], h]
        V = Q[h].max(axis=1)
    return FQIResult(policy=trusted_greedy_actions(Q), Q=Q, V=Q.max(axis=-1), method="fqi", layers=layers)


@validate_params(classes=_CLASSES, eps=Real(0, 0.5, closed="neither"))
def mle_log_likelihood(classes: FiniteClasses, stats: CountDataset, eps: float = 1e-12) -> np.ndarray:
    """Log-likelihood of the data under the model behind each ``f``: ``sum C log P + sum [R log r + (n - R)
    log(1 - r)]`` with the model's mean reward ``r`` clipped to ``[eps, 1 - eps]``. ``(|F|,)``."""
    if classes.models is None:
        raise ValueError("classes have no models; the MLE plug-in needs model-based classes")
    return trusted_mle(classes, _counts_for(classes, stats), eps)


def trusted_mle(classes: FiniteClasses, stats: CountDataset, eps: float = 1e-12) -> np.ndarray:
    """:func:`mle_log_likelihood` without any check, for H2O's rounds (inputs validated once at ``h2o``)."""
    N, C, Rsum = stats.counts, stats.transition_counts, stats.reward_sums
    out = np.empty(len(classes.models))
    for i, (P, R, _) in enumerate(classes.models):
        logp = np.log(np.maximum(P, 1e-300))  # an impossible observed transition costs ~690 nats
        r = np.clip(R, eps, 1 - eps)
        out[i] = (C * logp).sum() + (Rsum * np.log(r) + (N - Rsum) * np.log1p(-r)).sum()
    return out


@validate_params(classes=_CLASSES)
def model_mle(classes: FiniteClasses, stats: CountDataset) -> int:
    """Index of the maximum-likelihood model (lowest index on ties); its ``Q*`` is ``F[index]``."""
    return int(np.argmax(mle_log_likelihood(classes, stats)))

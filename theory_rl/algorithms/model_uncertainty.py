"""Uncertainty heuristics of offline model-based RL against the exact model error, on tabular MDPs.

Lu, Ball, Parker-Holder, Osborne & Roberts (2022), "Revisiting Design Choices in Offline Model-Based
Reinforcement Learning", ICLR 2022, arXiv 2110.04135. MOPO's theory (Yu et al. 2020) penalises the true model error
(``lambda u(s, a) >= gamma |(P_bar - P) V^pi|(s, a)`` makes the penalised return a lower bound); practice penalises
ensemble heuristics. In tabular form the true error is exact, so how well each heuristic tracks it can be measured,
on the data distribution and on the distribution of the policy's own model rollouts.

Heuristics (issue-18 digest B2, tabular forms; ``p_i = P_i(.|s, a)`` of ensemble member ``i``):

- ``max_aleatoric``: ``max_i ||diag(p_i) - p_i p_i^T||_F`` (MOPO: the largest predicted covariance);
- ``pairwise``: ``max_{i,j} ||p_i - p_j||_2`` (MOReL's disagreement);
- ``ensemble_std``: ``sqrt(sum_s' Var_i p_i(s'))``; ``ensemble_var``: the same without the square root;
- ``mopo``: ``max_i ||p_i - mean_j p_j||_1``
  (:func:`theory_rl.algorithms.edge_of_reach.disagreement_penalty`);
- ``loo_kl``: ``mean_i KL(p_i || mean_{j != i} p_j)``, both sides smoothed by ``smoothing`` toward uniform (a
  parameter: a count model puts zero mass where another member does not);
- ``ll_var``: Lu et al.'s "LL Var", the variance over members of the log-likelihood each member gives the next
  state, ``Var_i log p~_i(s')`` (population variance; ``p~_i`` smoothed as for ``loo_kl``). Lu et al. evaluate it
  at the next state the rollout draws from a randomly chosen member, i.e. ``s' ~ P_bar``; the tabular form is its
  exact expectation ``sum_s' P_bar(s') Var_i log p~_i(s')``. (Issue-18 digest B2; the paper's text was not
  reachable here, so the sampling of ``s'`` follows the digest [U] and the exact expectation is our choice.)

The exact errors of the model ``P_bar`` (the ensemble mean): ``tv = 1/2 ||P_bar - P||_1``, ``kl = KL(P_bar || P)``
(finite for count models, whose support lies in the true one) and the value-aware ``|(P_bar - P) V|``.
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import Real, as_float_array, check_distributions, validate_params
from theory_rl.algorithms.edge_of_reach import disagreement_penalty

__all__ = ["HEURISTICS", "uncertainty_heuristics", "model_errors", "weighted_spearman", "rollout_distribution"]

HEURISTICS = ("max_aleatoric", "pairwise", "ensemble_std", "ensemble_var", "mopo", "loo_kl", "ll_var")


def _models(models) -> np.ndarray:
    m = as_float_array(models, "models", ndim=4)
    check_distributions(m, "models")
    if m.shape[0] < 2:
        raise ValueError(f"models has {m.shape[0]} member(s), expected an ensemble of at least 2")
    return m


def _kl(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - np.log(np.where(q > 0, q, 1.0))), 0.0)
    inf = ((p > 0) & (q <= 0)).any(axis=-1)
    return np.where(inf, np.inf, terms.sum(axis=-1))


@validate_params(smoothing=Real(0.0, 1.0, closed="neither"))
def uncertainty_heuristics(models, *, smoothing: float = 1e-3) -> dict[str, np.ndarray]:
    """Every heuristic of ``HEURISTICS`` for an ensemble ``models`` of shape ``(M, S, A, S)``, ``M >= 2``.

    Returns
    -------
    dict
        ``{name: array of shape (S, A)}``, all non-negative; all but ``max_aleatoric`` exactly 0 when the members
        agree (the aleatoric term measures the noise of the predicted next state, not the model's error: it stays
        positive at the true model, which is one reason it tracks the error poorly).
    """
    P = _models(models)
    M, S = P.shape[0], P.shape[-1]
    # ||diag(p) - p p^T||_F^2 = sum p^2 - 2 sum p^3 + (sum p^2)^2
    s2, s3 = (P ** 2).sum(-1), (P ** 3).sum(-1)
    aleatoric = np.sqrt(np.maximum(s2 - 2 * s3 + s2 ** 2, 0.0)).max(axis=0)
    # max over pairs of ||P_i - P_j||, one member against the later ones at a time: memory O(M S A S), not the
    # O(M^2 S A S) of all differences at once (3.2 GB at M = 2000, S = 5, A = 2); the same values ((a - b)^2 ==
    # (b - a)^2 exactly, the same sums), so the same maximum (issue 16)
    pairwise = np.zeros(P.shape[1:-1])
    for i in range(M - 1):
        np.maximum(pairwise, np.sqrt(((P[i + 1:] - P[i]) ** 2).sum(-1)).max(axis=0), out=pairwise)
    var = P.var(axis=0).sum(-1)
    smooth = (1.0 - smoothing) * P + smoothing / S
    loo = (smooth.sum(axis=0)[None] - smooth) / (M - 1)
    loo_kl = _kl(smooth, loo).mean(axis=0)
    ll_var = (P.mean(axis=0) * np.log(smooth).var(axis=0)).sum(-1)  # E_{s' ~ P_bar} Var_i log p~_i(s')
    return {"max_aleatoric": aleatoric, "pairwise": pairwise, "ensemble_std": np.sqrt(var), "ensemble_var": var,
            "mopo": disagreement_penalty(P), "loo_kl": loo_kl, "ll_var": ll_var}


def model_errors(P_true, P_model, V=None, *, gamma: float = 1.0) -> dict[str, np.ndarray]:
    """The exact error of ``P_model`` against ``P_true`` per pair: ``tv``, ``kl = KL(P_model || P_true)`` and,
    when ``V`` is given, ``value = gamma |(P_model - P_true) V|`` (MOPO's admissible penalty for that ``V``).

    Parameters
    ----------
    P_true, P_model : array_like, shape (S, A, S)
    V : array_like, shape (S,), optional
    gamma : float in [0, 1], default 1
    """
    P = as_float_array(P_true, "P_true", ndim=3)
    Q = as_float_array(P_model, "P_model", ndim=3)
    check_distributions(P, "P_true")
    check_distributions(Q, "P_model")
    if P.shape != Q.shape:
        raise ValueError(f"P_true has shape {P.shape} and P_model {Q.shape}: they must match")
    from theory_rl._validation import check_real

    gamma = check_real(gamma, "gamma", low=0.0, high=1.0)
    out = {"tv": 0.5 * np.abs(Q - P).sum(-1), "kl": _kl(Q, P)}
    if V is not None:
        V = as_float_array(V, "V", shape=(P.shape[0],))
        out["value"] = gamma * np.abs((Q - P) @ V)
    return out


def _weighted_ranks(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mid-ranks under weights: the weight strictly below plus half the weight of the tie group."""
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    group_w = np.add.reduceat(ws, starts)
    below = np.cumsum(group_w) - group_w
    mid = below + 0.5 * group_w
    ranks = np.empty_like(x)
    ranks[order] = np.repeat(mid, np.diff(np.r_[starts, xs.size]))
    return ranks


def weighted_spearman(x, y, weights=None) -> float:
    """Spearman's rank correlation of ``x`` and ``y`` under the distribution ``weights`` (the Pearson correlation of
    weighted mid-ranks; with integer weights, scipy's ``spearmanr`` of the data repeated that many times).

    Returns NaN when either variable is constant on the weights' support.
    """
    x = as_float_array(x, "x", ndim=None).ravel()
    y = as_float_array(y, "y", ndim=None).ravel()
    if x.shape != y.shape or x.size == 0:
        raise ValueError(f"x and y must be non-empty of one size, got {x.size} and {y.size}")
    w = np.ones_like(x) if weights is None else as_float_array(weights, "weights", ndim=None).ravel()
    if w.shape != x.shape or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be non-negative, of the size of x, with a positive sum")
    keep = w > 0
    x, y, w = x[keep], y[keep], w[keep] / w[keep].sum()
    rx, ry = _weighted_ranks(x, w), _weighted_ranks(y, w)
    dx, dy = rx - w @ rx, ry - w @ ry
    den = np.sqrt((w @ dx ** 2) * (w @ dy ** 2))
    return float((w @ (dx * dy)) / den) if den > 1e-12 else float("nan")  # ranks lie in [0, 1]: a constant


def rollout_distribution(model, policy, starts, h: int) -> np.ndarray:
    """The state-action distribution of ``h``-step rollouts of ``policy`` in ``model`` from ``starts`` (uniform over
    the given start states): ``(1/h) sum_{t<h} d_t(s, a)``, exactly (Lu et al.'s rollout distribution, MBPO-style).

    Parameters
    ----------
    model : array_like, shape (S, A, S)
    policy : array_like, actions (S,) or probabilities (S, A)
    starts : array_like of int
    h : int >= 1
    """
    from theory_rl._validation import as_index_array, check_int

    P = as_float_array(model, "model", ndim=3)
    check_distributions(P, "model")
    S, A = P.shape[:2]
    h = check_int(h, "h", low=1, high=10**6)
    pol = np.asarray(policy)
    if pol.ndim == 1:
        pol = np.eye(A)[as_index_array(pol, "policy", A)]
    else:
        pol = as_float_array(pol, "policy", shape=(S, A))
        check_distributions(pol, "policy")
    idx = as_index_array(starts, "starts", S)
    if idx.size == 0:
        raise ValueError("starts is empty, expected at least one start state")
    d = np.bincount(idx, minlength=S) / idx.size
    P_pi = np.einsum("sa,sat->st", pol, P)
    total = np.zeros((S, A))
    for _ in range(h):
        total += d[:, None] * pol
        d = d @ P_pi
    return total / h

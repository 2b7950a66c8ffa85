"""Tabular IQL and RIQL: in-sample value learning with robust per-pair estimators, iterated to a fixed point.

Kostrikov, Nair & Levine (2022), "Offline RL with Implicit Q-Learning" (IQL), and Yang, Zhong, Xu, Zhang, Zhang,
Han & Zhang (2023), "Towards Robust Offline RL under Diverse Data Corruption" (RIQL), ICLR 2024, arXiv 2310.12955;
constants of the RIQL code (github YangRui2015/RIQL: ``iql_tau = 0.7``, ``beta = 3.0``, ``EXP_ADV_MAX = 100``,
``num_critics = 5``; ``quantile`` and the Huber ``sigma`` are set per task there, so they are parameters here).

Tabular form (issue-18 digest, B1). With targets ``y_i = r_i + gamma V(s'_i)`` of the samples of pair ``(s, a)``:

- IQL: ``Q(s, a) = mean_i y_i`` (the minimiser of the squared loss), ``V(s) = E^tau_{a ~ pi_hat_b(.|s)} Q(s, a)``
  (the ``tau``-expectile of ``Q(s, .)`` weighted by the counts ``N(s, a)``: the expectile loss ``L_2^tau``);
- RIQL: ``K`` critics, critic ``k`` the **Huber location** (loss ``l_kappa(x) = x^2 / (2 kappa)`` for
  ``|x| <= kappa``, else ``|x| - kappa / 2``) of its bootstrap resample of each pair's targets, and
  ``Q_alpha = `` the ``alpha``-quantile over the ``K`` critics (linear interpolation, numpy's and torch's
  default) in place of ``Q`` in the value and the actor. The code's critics differ by initialisation only; in
  tabular form identical data would give identical critics, so the ensemble is a bootstrap (``K = 1``: no
  resampling, the Huber-IQL ablation).
- Actor (both): advantage-weighted regression, whose exact tabular solution is
  ``pi(a|s) ∝ pi_hat_b(a|s) min(exp(beta (Q(s, a) - V(s))), 100)`` (stochastic actor: the code's default
  ``iql_deterministic = False``).

Each of mean, Huber location (midpoint rule when its minimisers form an interval), quantile over members and
expectile is monotone and translation-equivariant, so ``V -> V'`` is a ``gamma``-contraction in the sup norm:
unique fixed point, and value iteration stops with the certificate ``|V - V_fix| <= gamma/(1-gamma) residual``.

Conventions: a state never seen in the data keeps ``V = 0`` (it has no data action to take an expectile over)
and gets a uniform policy; an unseen pair gets ``Q = V(s)`` (advantage 0; it has weight 0 in the actor).
"""

from __future__ import annotations

import math

import numpy as np

from theory_rl._kernels import huber_location_groups
from theory_rl._random import SeedLike, as_generator
from theory_rl._validation import (
    Integer,
    Options,
    Real,
    as_float_array,
    check_instance,
    check_on_max_iter,
    check_real,
    validate_params,
)
from theory_rl.data import CountDataset, OfflineDataset
from theory_rl.results import IterativeResult, stop_at_max_iter
from theory_rl.scales import require_unit_scale

__all__ = ["expectile", "huber_location", "ensemble_quantile", "iql", "riql"]

#: The RIQL code's constants.
IQL_TAU = 0.7
IQL_BETA = 3.0
EXP_ADV_MAX = 100.0
N_CRITICS = 5


def _weights(values: np.ndarray, weights, name: str = "weights") -> np.ndarray:
    if weights is None:
        return np.ones_like(values)
    w = np.broadcast_to(as_float_array(weights, name), values.shape) if np.ndim(weights) else None
    if w is None:
        raise ValueError(f"{name} must be an array of the shape of values {values.shape}")
    if (w < 0).any():
        j = tuple(int(i) for i in np.argwhere(w < 0)[0])
        raise ValueError(f"{name}{list(j)} is {w[j]}, expected a weight >= 0")
    return np.asarray(w, dtype=np.float64)


def _expectile(y: np.ndarray, w: np.ndarray, tau: float) -> np.ndarray:
    """The weighted ``tau``-expectile along the last axis (positive total weight), exactly.

    ``f(q) = tau sum_{y > q} w (y - q) - (1 - tau) sum_{y < q} w (q - y)`` is decreasing; on the segment between
    the sorted knots ``y_(k) <= q <= y_(k+1)`` with ``k`` the last knot where ``f >= 0`` it is linear, with root
    ``q = (tau U_wy + (1 - tau) L_wy) / (tau U_w + (1 - tau) L_w)`` (``L``: the points up to ``k``, ``U``: after).
    """
    order = np.argsort(y, axis=-1, kind="stable")
    ys = np.take_along_axis(y, order, axis=-1)
    ws = np.take_along_axis(w, order, axis=-1)
    cw, cwy = np.cumsum(ws, axis=-1), np.cumsum(ws * ys, axis=-1)
    tw, twy = cw[..., -1:], cwy[..., -1:]
    f = tau * ((twy - cwy) - ys * (tw - cw)) - (1.0 - tau) * (ys * cw - cwy)
    k = np.maximum((f >= 0).sum(axis=-1, keepdims=True) - 1, 0)  # f(y_(1)) >= 0 always
    Lw, Lwy = np.take_along_axis(cw, k, -1), np.take_along_axis(cwy, k, -1)
    q = (tau * (twy - Lwy) + (1.0 - tau) * Lwy) / (tau * (tw - Lw) + (1.0 - tau) * Lw)
    lo = np.take_along_axis(ys, k, -1)
    hi = np.take_along_axis(ys, np.minimum(k + 1, ys.shape[-1] - 1), -1)
    return np.clip(q, lo, np.maximum(lo, hi))[..., 0]


@validate_params(tau=Real(0.0, 1.0, closed="neither"))
def expectile(values, tau: float = IQL_TAU, weights=None) -> np.ndarray | float:
    """The ``tau``-expectile ``argmin_q sum_i w_i |tau - 1(y_i < q)| (y_i - q)^2`` along the last axis.

    IQL's value loss ``L_2^tau`` (Kostrikov et al. 2022, eq. 5) minimised exactly. ``tau = 1/2`` is the weighted
    mean; ``tau -> 1`` the maximum over the points of positive weight.

    Parameters
    ----------
    values : array_like, shape (..., n)
    tau : float in (0, 1), default 0.7 (the RIQL code's ``iql_tau``)
    weights : array_like, optional
        Non-negative, broadcastable to ``values``, positive sum along the last axis.

    Returns
    -------
    float or numpy.ndarray of shape ``values.shape[:-1]``
    """
    y = as_float_array(values, "values")
    if y.ndim == 0 or y.shape[-1] == 0:
        raise ValueError(f"values has shape {y.shape}, expected at least one entry along the last axis")
    w = _weights(y, weights)
    if (w.sum(axis=-1) <= 0).any():
        raise ValueError("weights sum to 0 along the last axis somewhere: the expectile is undefined there")
    q = _expectile(y, w, tau)
    return float(q) if q.ndim == 0 else q


def _huber_groups(values: np.ndarray, weights: np.ndarray, groups: np.ndarray, n_groups: int, kappa: float):
    """Huber location per group (groups given per value, each with positive weight)."""
    order = np.lexsort((values, groups))
    offsets = np.searchsorted(groups[order], np.arange(n_groups + 1))
    out = np.empty(n_groups)
    huber_location_groups(values[order], weights[order], offsets, kappa, out)
    return out


@validate_params(kappa=Real(0.0, None, closed="neither"))
def huber_location(values, kappa: float = 1.0, weights=None) -> float:
    """``argmin_q sum_i w_i l_kappa(y_i - q)``, the Huber location of RIQL's critic loss, exactly.

    ``l_kappa(x) = x^2 / (2 kappa)`` if ``|x| <= kappa``, else ``|x| - kappa / 2`` (Yang et al. 2023, Sec. 4;
    the code's ``sigma`` is ``kappa = 1 / sigma^2``). When every residual lies in the linear region the minimisers
    form an interval (the median's ambiguity) and its midpoint is returned: with that rule the map is monotone
    and translation-equivariant, so RIQL's Bellman map is a contraction.

    Parameters
    ----------
    values : array_like, shape (n,), n >= 1
    kappa : float > 0, default 1 (the code's sigma = 1)
    weights : array_like, shape (n,), optional
        Non-negative, positive sum.
    """
    y = as_float_array(values, "values", ndim=1)
    if y.size == 0:
        raise ValueError("values is empty, expected at least one value")
    w = _weights(y, weights)
    if w.sum() <= 0:
        raise ValueError("weights sum to 0: the Huber location is undefined")
    return float(_huber_groups(y, w, np.zeros(y.size, dtype=np.int64), 1, kappa)[0])


@validate_params(alpha=Real(0.0, 1.0))
def ensemble_quantile(values, alpha: float = 0.25) -> np.ndarray:
    """The ``alpha``-quantile over the ensemble axis 0 (linear interpolation: numpy's and torch's default).

    RIQL's ``Q_alpha`` (Yang et al. 2023, eq. 7): ``alpha = 0`` is the ensemble minimum (the pessimistic target
    of SAC-N / EDAC), ``1/2`` the median.
    """
    v = as_float_array(values, "values")
    if v.ndim == 0 or v.shape[0] == 0:
        raise ValueError(f"values has shape {v.shape}, expected an ensemble axis 0 of at least one member")
    return np.quantile(v, alpha, axis=0)


# ---------------------------------------------------------------------- the learners
def _discount(data) -> float:
    gamma = getattr(data, "gamma", None)
    if gamma is None or getattr(data, "horizon", None) is not None:
        raise ValueError("data must be discounted (data.gamma in [0, 1), no horizon)")
    require_unit_scale(data, "IQL / RIQL")  # issue 15: RIQL's Huber threshold is in [0, 1] reward units
    return check_real(gamma, "data.gamma", low=0.0, high=1.0, closed="left")


def _awr_policy(Q: np.ndarray, V: np.ndarray, N: np.ndarray, beta: float) -> np.ndarray:
    """``pi(a|s) ∝ N(s, a) min(exp(beta (Q - V)), 100)``; uniform where a state has no data."""
    adv = np.where(N > 0, Q - V[:, None], 0.0)
    weight = N * np.minimum(np.exp(np.minimum(beta * adv, math.log(EXP_ADV_MAX))), EXP_ADV_MAX)
    total = weight.sum(axis=1, keepdims=True)
    A = Q.shape[1]
    return np.where(total > 0, weight / np.where(total > 0, total, 1.0), 1.0 / A)


def _iterate(backup, S: int, gamma: float, tol: float, max_iter: int | None, on_max_iter: str, method: str):
    """Value iteration of a gamma-contraction ``V -> backup(V) = (V', Q)`` from 0 with the residual certificate."""
    if max_iter is None:  # enough for a residual tol from |V_0 - V_1| <= vmax-ish scales: log(tol)/log(gamma)
        max_iter = max(10, int(math.ceil(math.log(tol / 1e6) / math.log(max(gamma, 1e-12)))) + 10)
    V = np.zeros(S)
    residual, it = math.inf, 0
    for it in range(1, max_iter + 1):
        V_new, Q = backup(V)
        residual = float(np.max(np.abs(V_new - V))) if S else 0.0
        V = V_new
        if residual <= tol:
            break
    converged = residual <= tol
    if not converged:
        stop_at_max_iter(on_max_iter, method, max_iter, f"residual {residual:.3e} > tol {tol:.1e}")
    bound = gamma / (1.0 - gamma) * residual if gamma < 1 else math.inf
    return V, Q, it, residual, bound, converged


_COMMON = dict(tau=Real(0.0, 1.0, closed="neither"), beta=Real(0.0, None), tol=Real(0.0, None, closed="neither"),
               max_iter=Integer(1, optional=True), on_max_iter=Options(("raise", "warn")))


@validate_params(**_COMMON)
def iql(data, *, tau: float = IQL_TAU, beta: float = IQL_BETA, tol: float = 1e-10, max_iter: int | None = None,
        on_max_iter: str = "raise") -> IterativeResult:
    """Tabular IQL: mean critic, ``tau``-expectile value over the data actions, advantage-weighted actor.

    Iterates ``Q(s, a) = r_hat(s, a) + gamma sum_s' P_hat(s'|s, a) V(s')`` on the seen pairs (the mean of the
    targets ``r + gamma V(s')``, the squared loss's minimiser) and ``V(s) = expectile_tau(Q(s, .); N(s, .))`` to
    the fixed point (module docstring; Kostrikov et al. 2022, eqs. 5-7).

    Parameters
    ----------
    data : CountDataset or OfflineDataset
        Discounted data.
    tau : float in (0, 1), default 0.7
    beta : float >= 0, default 3.0
        Inverse temperature of the actor; ``0`` is behaviour cloning of ``pi_hat_b``.
    tol : float, default 1e-10
        Stop when ``max_s |V_t - V_{t-1}| <= tol``.
    max_iter : int, optional
    on_max_iter : {"raise", "warn"}

    Returns
    -------
    IterativeResult
        ``policy`` (probabilities, ``(S, A)``), ``V``, ``Q``, the certificate.
    """
    check_instance(data, "data", (CountDataset, OfflineDataset))
    gamma = _discount(data)
    check_on_max_iter(on_max_iter)
    N = np.asarray(data.counts, dtype=np.float64)
    seen = N > 0
    safe = np.where(seen, N, 1.0)
    r_hat = np.where(seen, np.asarray(data.reward_sums, dtype=np.float64) / safe, 0.0)
    P_hat = np.asarray(data.transition_counts, dtype=np.float64) / safe[..., None]
    has = seen.any(axis=1)

    def backup(V):
        Q = np.where(seen, r_hat + gamma * (P_hat @ V), 0.0)
        V_new = np.zeros_like(V)
        if has.any():
            V_new[has] = _expectile(Q[has], N[has], tau)
        return V_new, Q

    V, Q, it, res, bound, conv = _iterate(backup, data.S, gamma, tol, max_iter, on_max_iter, "iql")
    Q = np.where(seen, Q, V[:, None])
    policy = _awr_policy(Q, V, N, beta)
    constants = {"tau": tau, "beta": beta, "gamma": gamma, "exp_adv_max": EXP_ADV_MAX}
    return IterativeResult(policy=policy, V=V, Q=Q, method="iql", constants=constants, iterations=it,
                           residual=res, error_bound=bound, converged=conv)


@validate_params(**_COMMON, alpha=Real(0.0, 1.0), kappa=Real(0.0, None, closed="neither"),
                 n_critics=Integer(1, 1000))
def riql(data, *, seed: SeedLike, tau: float = IQL_TAU, beta: float = IQL_BETA, alpha: float = 0.25,
         kappa: float = 1.0, n_critics: int = N_CRITICS, tol: float = 1e-10, max_iter: int | None = None,
         on_max_iter: str = "raise") -> IterativeResult:
    """Tabular RIQL: bootstrap ensemble of Huber-location critics, ``alpha``-quantile target, expectile value, AWR.

    Iterates ``Q_k(s, a) = huber_kappa({r_i + gamma V(s'_i)}, bootstrap weights of critic k)``,
    ``Q_alpha = quantile_alpha(Q_1..Q_K)``, ``V(s) = expectile_tau(Q_alpha(s, .); N(s, .))`` to the fixed point
    (module docstring; Yang et al. 2023, eqs. 5-8).

    Parameters
    ----------
    data : OfflineDataset
        Discounted sample-level data (the Huber location needs every target, not only counts).
    seed : int, SeedSequence or Generator
        The bootstrap resamples (critic ``k`` draws ``n(s, a)`` of pair ``(s, a)``'s samples with replacement).
    tau, beta : as :func:`iql`
    alpha : float in [0, 1], default 0.25
        Quantile over the critics (the code sets 0.1, 0.25 or 0.5 per task).
    kappa : float > 0, default 1
        Huber threshold (the code's ``sigma = 1``; it uses 0.1 to 3 per task, ``kappa = 1/sigma^2``).
    n_critics : int, default 5
        ``K`` (the code: 5, or 3 on some tasks); ``1`` runs one critic on the data itself.
    tol, max_iter, on_max_iter : as :func:`iql`
    """
    check_instance(data, "data", OfflineDataset)
    gamma = _discount(data)
    check_on_max_iter(on_max_iter)
    S, A, K = data.S, data.A, n_critics
    pair = data.state.astype(np.int64) * A + data.action
    N = np.bincount(pair, minlength=S * A).astype(np.float64)
    n = len(data)
    # bootstrap weights: critic k draws n_g samples of group g with replacement (multiplicities of each sample)
    order = np.argsort(pair, kind="stable")
    offsets = np.searchsorted(pair[order], np.arange(S * A + 1))
    weights = np.ones((K, n))
    rng = as_generator(seed)
    if K > 1:
        size = N[pair[order]]
        for k in range(K):
            pick = offsets[pair[order]] + np.floor(rng.random(n) * size).astype(np.int64)
            weights[k, order] = np.bincount(pick, minlength=n)
    groups = (np.arange(K)[:, None] * (S * A) + pair[None, :]).reshape(-1)
    flat_w = weights.reshape(-1)
    keep = flat_w > 0  # a sample a critic never drew plays no part; every seen pair keeps positive weight
    groups, flat_w = groups[keep], flat_w[keep]
    rewards = np.tile(data.reward.astype(np.float64), K)[keep]
    nexts = np.tile(data.next_state.astype(np.int64), K)[keep]
    seen = (N > 0).reshape(S, A)
    Nsa = N.reshape(S, A)
    has = seen.any(axis=1)
    present = np.zeros(K * S * A, dtype=bool)
    present[groups] = True

    def critics(V):
        loc = np.zeros(K * S * A)
        y = rewards + gamma * V[nexts]
        found = _huber_groups(y, flat_w, groups, K * S * A, kappa)
        loc[present] = found[present]
        return loc.reshape(K, S, A)

    def backup(V):
        Q_alpha = np.where(seen, np.quantile(critics(V), alpha, axis=0), 0.0)
        V_new = np.zeros_like(V)
        if has.any():
            V_new[has] = _expectile(Q_alpha[has], Nsa[has], tau)
        return V_new, Q_alpha

    V, Q, it, res, bound, conv = _iterate(backup, S, gamma, tol, max_iter, on_max_iter, "riql")
    Q = np.where(seen, Q, V[:, None])
    policy = _awr_policy(Q, V, Nsa, beta)
    constants = {"tau": tau, "beta": beta, "alpha": alpha, "kappa": kappa, "n_critics": K, "gamma": gamma,
                 "exp_adv_max": EXP_ADV_MAX}
    return IterativeResult(policy=policy, V=V, Q=Q, method="riql", constants=constants, iterations=it,
                           residual=res, error_bound=bound, converged=conv)

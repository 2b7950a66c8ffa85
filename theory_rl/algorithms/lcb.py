"""Pessimism with lower confidence bounds, and its baselines, on tabular data.

Rashidinejad, Zhu, Ma, Jiao & Russell (2021), "Bridging Offline Reinforcement Learning and Imitation Learning:
A Tale of Pessimism" (arXiv 2103.12021): LCB for multi-armed bandits (Alg. 1), contextual bandits (Alg. 2),
discounted MDPs with data splitting (VI-LCB, Alg. 3) and episodic MDPs (Alg. 4). Li, Shi, Chen, Chi & Wei (2024),
"Settling the sample complexity of model-based offline RL" (arXiv 2204.05275): VI-LCB with a Bernstein penalty and
no splitting. Baselines: the empirical best arm / plain value iteration on the empirical model (no pessimism), and
the most-played action (behaviour cloning).

Every function takes a tabular dataset ``data``: anything with ``counts`` ``N(s, a)`` (``(S, A)``, or ``(H, S, A)``
per step), ``transition_counts`` (one more trailing ``S`` axis), ``reward_sums``, ``S``, ``A``, ``gamma`` /
``horizon`` and ``empirical_model(unseen, unseen_reward)`` -- :class:`theory_rl.data.CountDataset` and
:class:`theory_rl.data.OfflineDataset` both qualify; VI-LCB with splitting also needs ``split(k, seed)``. A bandit's
data has ``S = 1`` (multi-armed) or one state per context.

Conventions the papers leave open, chosen here once for all algorithms:

- **Ties** go to the lowest action index (``numpy.argmax``).
- **Unseen pairs** (``N(s, a) = 0``) get ``r_hat = 0`` and the largest penalty any seen pair could get, so an
  unseen action never outranks a seen one with the same empirical reward. The paper's Alg. 1 gives unseen arms
  ``b = 1`` while a once-seen arm gets ``sqrt(log(2A/delta)/2) > 1`` once ``2A/delta > e^2``, ranking a once-seen
  arm *below* an unseen one; we avoid that inversion.
- ``penalty_scale`` multiplies every penalty (unseen ones included): 0 gives the empirical best action (greedy),
  and as it grows LCB selects the action with the most samples (most-played), as in the paper's Sec. 3 remark.
- **Infeasible actions** (issue 15): the MDP learners (``vi_lcb``, ``vi_lcb_episodic``, ``bernstein_vi_lcb``,
  ``empirical_vi``) take ``feasible``, the bool ``(S, A)`` mask of the MDP the data came from (``mdp.feasible``):
  their greedy steps and ``max_a`` range over feasible actions only and ``Q`` is ``-inf`` at infeasible pairs.
  The data carry no mask: without ``feasible``, every action counts as feasible.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from theory_rl import planning
from theory_rl._random import SeedLike, as_generator
from theory_rl._validation import (
    ON_MAX_ITER,
    Boolean,
    Integer,
    Options,
    Real,
    as_float_array,
    check_range,
    check_real,
    check_table,
    validate_params,
)
from theory_rl.algorithms._lcb_kernels import pessimistic_sweeps
from theory_rl.algorithms._offline_result import OfflineResult
from theory_rl.feasibility import as_feasible_mask
from theory_rl.mdp import trusted_mdp
from theory_rl.penalties import bernstein, hoeffding
from theory_rl.results import stop_at_max_iter
from theory_rl.scales import require_unit_scale

__all__ = ["OfflineResult", "bandit_scores", "lcb_bandit", "lcb_contextual", "empirical_best", "most_played", "vi_lcb",
           "vi_lcb_episodic", "bernstein_vi_lcb", "empirical_vi", "behaviour_cloning"]

#: The constant inside the square root of the Hoeffding penalties of Alg. 2-4 (Rashidinejad et al. 2021).
PAPER_CONSTANT = 2000.0
#: The Bernstein constants c_b given as examples by Li et al. (2024): discounted (28) and finite horizon (55).
LI_CONSTANT = 144.0
LI_CONSTANT_EPISODIC = 16.0


def _result(policy, V, Q, penalty, method: str, constants: dict | None = None) -> OfflineResult:
    return OfflineResult(policy=policy, V=V, Q=Q, penalty=penalty, method=method, constants=dict(constants or {}))


# ---------------------------------------------------------------------- shared pieces
def _check_data(data, *, episodic: bool | None = None):
    for attr in ("counts", "reward_sums", "S", "A"):
        if not hasattr(data, attr):
            raise ValueError(f"data has no attribute {attr!r}: pass a theory_rl.data CountDataset or OfflineDataset")
    if episodic is not None and (getattr(data, "horizon", None) is not None) != episodic:
        kind = "finite-horizon (counts per step h)" if episodic else "discounted or bandit"
        raise ValueError(f"this algorithm needs {kind} data; got data with horizon={getattr(data, 'horizon', None)}")
    return require_unit_scale(data, "this algorithm (theory_rl.algorithms.lcb)")  # issue 15: [0, 1], undiscounted H


#: The specs shared by the algorithms' scalar parameters.
_DELTA = Real(0.0, 1.0, closed="neither", optional=True)
_SCALE = Real(0.0, None)
_POSITIVE = Real(0.0, None, closed="neither")


def _delta(delta: float | None, n: int) -> float:
    """The paper's default confidence level delta = 1/N (Rashidinejad et al., Thms 1, 4, 6)."""
    return 1.0 / max(n, 1) if delta is None else _DELTA.check(delta, "delta")


def _empirical_rewards(data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    N = np.asarray(data.counts, dtype=np.float64)
    seen = N > 0
    r_hat = np.where(seen, np.asarray(data.reward_sums, dtype=np.float64) / np.where(seen, N, 1.0), 0.0)
    return N, seen, r_hat


def _rewards(model, known_rewards) -> np.ndarray:
    """The empirical mean rewards, or the known reward function (checked against the model's shape)."""
    if known_rewards is None:
        return model.R
    R = as_float_array(known_rewards, "known_rewards")  # refuses complex, NaN and inf
    try:
        R = np.broadcast_to(R, model.R.shape)
    except ValueError:
        expected = f"{model.R.shape[-2:]} or {model.R.shape}"
        raise ValueError(f"known_rewards has shape {R.shape}, expected {expected}") from None
    check_range(np.asarray(R), "known_rewards", 0.0, 1.0)  # also rejects NaN
    return R


def _unseen_hoeffding(N: np.ndarray, log_term: float) -> np.ndarray:
    """Hoeffding's ``sqrt(log_term / N)``; unseen pairs get the once-seen value ``sqrt(log_term)`` or 1, if larger
    (the module docstring's convention)."""
    return hoeffding(N, log_term, unseen=max(math.sqrt(log_term), 1.0))


@validate_params(n_total=Integer(0), A=Integer(1), algorithm=Options(("lcb", "greedy", "most_played")),
                 delta=_DELTA, penalty_scale=_SCALE)  # fmt: skip
def bandit_scores(N, reward_sums, n_total: int, A: int, *, algorithm: str, delta=None, penalty_scale=1.0):
    """The index ``score(a)`` each bandit rule maximises, from counts and reward sums of any shape.

    ``algorithm`` is ``"lcb"`` (Alg. 1), ``"greedy"`` (empirical best) or ``"most_played"``. Shared by
    :func:`lcb_bandit` and the exact two-arm computation, so both break ties identically. ``N`` must be >= 0."""
    N, reward_sums = as_float_array(N, "N"), as_float_array(reward_sums, "reward_sums")
    check_range(N, "N", 0.0, np.inf)
    if reward_sums.shape != N.shape:
        raise ValueError(f"reward_sums has shape {reward_sums.shape}, expected the shape {N.shape} of N")
    return bandit_index(N, reward_sums, n_total, A, algorithm, delta, penalty_scale)


def bandit_index(N, reward_sums, n_total, A, algorithm, delta, penalty_scale):
    """:func:`bandit_scores` without its checks (not in ``__all__``): for counts this package built itself, e.g.
    the ~1e5 calls of the exact two-arm sum, where the checks cost more than the arithmetic (issue 16)."""
    N, reward_sums = np.asarray(N, dtype=np.float64), np.asarray(reward_sums, dtype=np.float64)
    seen = N > 0
    r_hat = np.where(seen, reward_sums / np.where(seen, N, 1.0), 0.0)
    if algorithm != "lcb":
        return r_hat if algorithm == "greedy" else N  # the empirical best, or the most-played arm
    delta = _delta(delta, n_total)
    return r_hat - penalty_scale * _unseen_hoeffding(N, math.log(2 * A / delta) / 2.0)


def _select(scores: np.ndarray) -> np.ndarray:
    return np.argmax(scores, axis=-1)


def _masked(Q: np.ndarray, mask) -> np.ndarray:  # issue 15: -inf at infeasible pairs, never selected
    return Q if mask is None else np.where(mask, Q, -np.inf)


# ---------------------------------------------------------------------- bandits
@validate_params(delta=_DELTA, penalty_scale=_SCALE)
def lcb_bandit(data, *, delta: float | None = None, penalty_scale: float = 1.0) -> OfflineResult:
    """LCB for multi-armed bandits (Rashidinejad et al. 2021, Alg. 1).

    ``a_hat = argmax_a r_hat(a) - b(a)`` with ``b(a) = sqrt(log(2|A|/delta) / (2 N(a)))`` and ``delta = 1/N`` by
    default. Unseen arms: see the module docstring. Data must have one state (``counts`` of shape ``(1, A)``).
    """
    _check_data(data, episodic=False)
    if data.S != 1:
        raise ValueError(f"lcb_bandit needs multi-armed bandit data (S = 1), got S = {data.S}; see lcb_contextual")
    N, _, r_hat = _empirical_rewards(data)
    n = int(N.sum())
    scores = bandit_scores(N, data.reward_sums, n, data.A, algorithm="lcb", delta=delta, penalty_scale=penalty_scale)
    info = {"delta": _delta(delta, n), "scale": float(penalty_scale)}
    return _result(_select(scores), scores.max(axis=1), scores, r_hat - scores, "lcb_bandit", info)


@validate_params(delta=_DELTA, penalty_scale=_SCALE, constant=_POSITIVE)
def lcb_contextual(
    data, *, delta: float | None = None, penalty_scale: float = 1.0, constant: float = PAPER_CONSTANT
) -> OfflineResult:
    """LCB for contextual bandits (Rashidinejad et al. 2021, Alg. 2): Alg. 1 per context.

    ``b(s, a) = sqrt(constant * log(2 S |A| / delta) / N(s, a))`` with the paper's ``constant = 2000`` and
    ``delta = 1/N`` by default. With the paper's constant, LCB behaves like the most-played action until counts
    reach ~1e4 per pair; ``penalty_scale`` (or ``constant``) changes that.
    """
    _check_data(data, episodic=False)
    scale = penalty_scale
    N, _, r_hat = _empirical_rewards(data)
    delta = _delta(delta, int(N.sum()))
    penalty = scale * _unseen_hoeffding(N, constant * math.log(2 * data.S * data.A / delta))
    scores = r_hat - penalty
    info = {"delta": delta, "scale": scale, "constant": constant}
    return _result(_select(scores), scores.max(axis=1), scores, penalty, "lcb_contextual", info)


def empirical_best(data) -> OfflineResult:
    """The empirical best action per state (greedy on ``r_hat``; unseen actions have ``r_hat = 0``)."""
    _check_data(data, episodic=False)
    _, _, r_hat = _empirical_rewards(data)
    return _result(_select(r_hat), r_hat.max(axis=1), r_hat, np.zeros_like(r_hat), "empirical_best")


def most_played(data) -> OfflineResult:
    """The most-played action per state (per step for episodic data): imitation / behaviour cloning
    (Rashidinejad et al. 2021, Sec. 6 / Thm 8).

    States never visited get action 0 (the tie-breaking rule on all-zero counts).
    """
    _check_data(data)
    N = np.asarray(data.counts, dtype=np.float64)
    return _result(_select(N), np.zeros(N.shape[:-1]), N, np.zeros_like(N), "most_played")


def behaviour_cloning(data) -> OfflineResult:
    """Deprecated alias of :func:`most_played` (the same policy, values and scores; method ``"most_played"``)."""
    warnings.warn("behaviour_cloning is deprecated; use most_played", DeprecationWarning, stacklevel=2)
    return most_played(data)


# ---------------------------------------------------------------------- discounted MDPs
def _gamma(data) -> float:
    """The data's discount factor, refused unless in [0, 1) (1.5 would make VI-LCB optimistic, 1 divide by 0)."""
    gamma = getattr(data, "gamma", None)
    if gamma is None:
        raise ValueError("data carries no discount factor gamma; build it from a discounted MDP")
    return check_real(gamma, "data.gamma", low=0.0, high=1.0, closed="left")


def _pessimistic_sweeps(folds, gamma: float, penalty_fn, pi0: np.ndarray, iterations: int, mask=None):
    """Alg. 3's loop: ``Q_t = r_t - b_t + gamma P_t V_{t-1}`` and the monotone update, over the given folds
    (one compiled call: :func:`theory_rl.algorithms._lcb_kernels.pessimistic_sweeps`)."""
    # One empirical model and penalty per fold, built once (without splitting every iteration reuses the same).
    # Unseen pairs get Q <= 0 in the kernel (its docstring says why).
    models = [fold.empirical_model(unseen="uniform", unseen_reward=0.0) for fold in folds]
    base = np.stack([_masked(model.R - penalty_fn(model.counts), mask) for model in models])
    S, A = base.shape[1:]
    V, policy, Q = np.empty(S), np.empty(S, np.int64), np.empty((S, A))
    pessimistic_sweeps(base, np.stack([m.P for m in models]), np.stack([m.seen for m in models]), float(gamma),
                       pi0.astype(np.int64), iterations, V, policy, Q)
    return V, Q, policy


@validate_params(delta=_DELTA, penalty_scale=_SCALE, constant=_POSITIVE, split=Boolean(),
                 iterations=Integer(1, optional=True))
def vi_lcb(
    data,
    *,
    delta: float | None = None,
    penalty_scale: float = 1.0,
    constant: float = PAPER_CONSTANT,
    split: bool = True,
    seed: SeedLike | None = None,
    iterations: int | None = None,
    feasible=None,
) -> OfflineResult:
    """Discounted VI-LCB (Rashidinejad et al. 2021, Alg. 3), with or without data splitting.

    With ``T = ceil(log N / (1 - gamma))`` iterations, the data is split at random into ``T + 1`` folds; the most
    played action on fold 0 gives ``pi_0`` (with ``V_0 = 0``), and iteration ``t`` uses fold ``t`` only:
    ``Q_t = r_t - b_t + gamma P_t V_{t-1}``, ``b_t(s, a) = Vmax sqrt(L / max(m_t(s, a), 1))``,
    ``L = constant * log(2 (T + 1) S |A| / delta)``, ``Vmax = 1/(1-gamma)``; unseen pairs have ``r = 0``, a
    uniform ``P`` (the paper allows any) and ``Q_t <= 0``, their exact lower bound. The monotone update keeps
    ``V_{t-1}(s), pi_{t-1}(s)`` unless ``max_a Q_t(s, a) > V_{t-1}(s)``. Splitting is an analysis device;
    ``split=False`` runs the same loop on all the data every iteration (``L`` then without the ``T + 1`` factor).

    Parameters
    ----------
    data : OfflineDataset (split=True) or CountDataset / OfflineDataset (split=False)
    delta : float, optional
        Confidence level; ``1/N`` by default.
    penalty_scale : float, default 1
        Multiplies ``b_t``.
    constant : float, default 2000
        The paper's constant in ``L``.
    split : bool, default True
    seed : int, SeedSequence or Generator
        Needed with ``split=True``: the random split.
    iterations : int, optional
        Override ``T``.
    feasible : array_like of bool, shape (S, A), optional
        Infeasible actions (see the module docstring); ``pi_0`` is the most played feasible action.
    """
    _check_data(data, episodic=False)
    gamma, mask = _gamma(data), as_feasible_mask(feasible, data.S, data.A)
    scale = penalty_scale
    n = int(np.asarray(data.counts).sum())
    delta = _delta(delta, n)
    if iterations is not None:
        # iterations + 1 folds of (S, A, S) counts (no split: as many S A S sweeps): an absurd count is refused
        check_table("the folds' counts", (iterations + 1, data.S, data.A, data.S), ("iterations + 1", "S", "A", "S"))
        T = iterations
    else:
        T = max(1, math.ceil(math.log(max(n, 2)) / (1.0 - gamma)))
    vmax = 1.0 / (1.0 - gamma)
    if split:
        if seed is None:
            raise ValueError("vi_lcb with split=True needs a seed for the random split")
        if not hasattr(data, "split"):
            raise ValueError("vi_lcb with split=True needs sample-level data (an OfflineDataset); pass split=False")
        folds = data.split(T + 1, seed=as_generator(seed))
        L = constant * math.log(2 * (T + 1) * data.S * data.A / delta)
        pi0 = _select(_masked(np.asarray(folds[0].counts, dtype=np.float64), mask))
        sweep_folds = folds[1:]
    else:
        L = constant * math.log(2 * data.S * data.A / delta)
        pi0 = _select(_masked(np.asarray(data.counts, dtype=np.float64), mask))
        sweep_folds = [data]

    def penalty_fn(m):  # b_t = scale * Vmax * sqrt(L / max(m, 1)): Hoeffding's width with range scale * Vmax
        return hoeffding(m, L, value_range=scale * vmax)

    V, Q, policy = _pessimistic_sweeps(sweep_folds, gamma, penalty_fn, pi0, T, mask)
    penalty = penalty_fn(np.asarray(data.counts, dtype=np.float64))
    info = {"delta": delta, "L": L, "iterations": T, "split": split, "scale": scale}
    return _result(policy, V, Q, penalty, "vi_lcb" if split else "vi_lcb_nosplit", info)


def _variance(P: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``Var_{P(.|s,a)}(V)`` for every pair, computed stably as ``E[(V - E V)^2]``."""
    mean = P @ V
    return np.maximum(np.einsum("...t,t->...", P, V**2) - mean**2, 0.0)


@validate_params(
    delta=_DELTA, c_b=Real(0.0, None, closed="neither", optional=True), penalty_scale=_SCALE,
    value_bound=Real(0.0, None, closed="neither", optional=True), tol=_POSITIVE, max_iter=Integer(1),
    on_max_iter=Options(ON_MAX_ITER), second_order=Options(("max", "sum"), optional=True),
)
def bernstein_vi_lcb(
    data,
    *,
    delta: float | None = None,
    c_b: float | None = None,
    penalty_scale: float = 1.0,
    known_rewards=None,
    value_bound: float | None = None,
    tol: float = 1e-10,
    max_iter: int = 100_000,
    on_max_iter: str = "raise",
    second_order: str | None = None,
    feasible=None,
) -> OfflineResult:
    """VI-LCB with a Bernstein penalty and no splitting (Li, Shi, Chen, Chi & Wei 2024), discounted or episodic.

    Discounted (their Alg. 1, eqs. (25), (27), (28)): iterate
    ``Q(s, a) = max{ r_hat + gamma P_hat V - b(s, a; V), 0 }``, ``V = max_a Q`` from ``V = 0`` with
    ``b = min{ max{ sqrt(c_b l Var_{P_hat}(V) / N(s, a)), 2 c_b l / ((1 - gamma) N(s, a)) }, 1/(1-gamma) } + 5/N``,
    ``l = log(N / ((1 - gamma) delta))``. The paper runs ``tau_max >= log(N/(1-gamma)) / (1-gamma)`` iterations;
    we iterate until ``max |V_{k+1} - V_k| < tol``, i.e. to the fixed point those iterations approach.

    Finite horizon (their Alg. 2, eq. (55)): backward induction
    ``Q_h = max{ r_hat_h + P_hat_h V_{h+1} - b_h, 0 }`` with
    ``b_h = min{ sqrt(c_b l Var_{P_hat_h}(V_{h+1}) / N_h(s, a)) + c_b H l / N_h(s, a), H }``, ``l = log(N H / delta)``
    and N the number of transitions.

    Unseen pairs get a uniform ``P_hat`` (their (25), (51)) and the capped penalty. The paper assumes the reward
    function known: pass it as ``known_rewards``; otherwise rewards are estimated from the data. Checked against
    the published version (Ann. Statist. 52(1), 2024); the arXiv version's constants may differ.

    Parameters
    ----------
    data : CountDataset or OfflineDataset
    delta : float, optional
        ``1/N`` by default.
    c_b : float, optional
        The penalty constant; by default the paper's examples, 144 (discounted) and 16 (finite horizon). Li et al.'s
        gambler experiment is reported with 0.05 (unverified here).
    penalty_scale : float, default 1
        Multiplies the whole penalty.
    known_rewards : array_like, optional
        Mean rewards ``(S, A)`` or ``(H, S, A)`` to use instead of the empirical ones.
    value_bound : float, optional
        The range of the values, which the penalty's second-order term and its cap scale with: ``H`` (finite
        horizon) or ``1/(1-gamma)`` by default, as in the paper (per-step rewards in [0, 1]). A problem whose
        whole return lies in [0, 1] (the gambler's problem) may pass 1: the Bernstein bound holds with the true
        range, and with H the penalty exceeds every value until N_h(s, a) ~ c_b H log(NH/delta).
    tol, max_iter
        Stopping rule of the discounted iteration: ``max |V_{k+1} - V_k| < tol`` within ``max_iter`` sweeps.
    on_max_iter : {"raise", "warn"}, default "raise"
        At ``max_iter``: raise :class:`theory_rl.results.ConvergenceError`, or warn and return the last iterate
        (``constants["converged"]`` is then False).
    second_order : {"max", "sum"}, optional
        How the penalty's two terms combine (:func:`theory_rl.penalties.bernstein`); by default each setting's own:
        ``"max"`` (discounted, eq. (28)), ``"sum"`` (finite horizon, eq. (55)). The gambler experiment compares both.
    feasible : array_like of bool, shape (S, A), optional
        Infeasible actions (see the module docstring).
    """
    _check_data(data)
    mask = as_feasible_mask(feasible, data.S, data.A)
    scale = penalty_scale
    horizon = getattr(data, "horizon", None)
    if c_b is None:
        c_b = LI_CONSTANT if horizon is None else LI_CONSTANT_EPISODIC
    n = int(np.asarray(data.counts).sum())
    delta = _delta(delta, n)
    model = data.empirical_model(unseen="uniform", unseen_reward=0.0)
    R = _rewards(model, known_rewards)
    N = np.asarray(model.counts, dtype=np.float64)
    form = second_order or ("max" if horizon is None else "sum")
    info = {"delta": delta, "c_b": c_b, "scale": scale, "second_order": form}

    if horizon is not None:
        H = int(horizon)
        vmax = float(H) if value_bound is None else value_bound
        log_term = math.log(n * H / delta)
        V = np.zeros((H + 1, data.S))
        Q = np.empty((H, data.S, data.A))
        penalty = np.empty_like(Q)
        for h in range(H - 1, -1, -1):
            var = _variance(model.P[h], V[h + 1])
            b = bernstein(N[h], var, log_term, c_b=c_b, value_range=vmax, second_order=form)  # eq. (55)
            penalty[h] = scale * b
            Q[h] = _masked(np.maximum(R[h] + model.P[h] @ V[h + 1] - penalty[h], 0.0), mask)
            V[h] = Q[h].max(axis=1)
        info.update(log_term=log_term, value_bound=vmax)
        return _result(_select(Q), V[:H], Q, penalty, "bernstein_vi_lcb", info)

    gamma = _gamma(data)
    vmax = 1.0 / (1.0 - gamma) if value_bound is None else value_bound
    log_term = math.log(n / ((1.0 - gamma) * delta))
    V = np.zeros(data.S)
    converged = False
    for k in range(1, max_iter + 1):
        var = _variance(model.P, V)
        b = bernstein(N, var, log_term, c_b=c_b, value_range=vmax, second_order=form)  # eq. (28)
        penalty = scale * (b + 5.0 / n)
        Q = _masked(np.maximum(R + gamma * model.P @ V - penalty, 0.0), mask)
        V_new = Q.max(axis=1)
        change = float(np.abs(V_new - V).max())
        V = V_new
        if change < tol:
            converged = True
            break
    if not converged:
        stop_at_max_iter(on_max_iter, "bernstein_vi_lcb", max_iter, f"last change {change:.2e}, tol {tol:g}")
    info.update(log_term=log_term, iterations=k, value_bound=vmax, converged=converged)
    return _result(_select(Q), V, Q, penalty, "bernstein_vi_lcb", info)


@validate_params(delta=_DELTA, penalty_scale=_SCALE, constant=_POSITIVE)
def vi_lcb_episodic(
    data, *, delta: float | None = None, penalty_scale: float = 1.0, constant: float = PAPER_CONSTANT, feasible=None
) -> OfflineResult:
    """Episodic VI-LCB (Rashidinejad et al. 2021, Alg. 4, App. D): pessimistic backward induction.

    ``Q_h = r_hat_h - b_h + P_hat_h V_{h+1}``, ``V_h = max(max_a Q_h, 0)``, with
    ``b_h(s, a) = H sqrt(L / max(N_h(s, a), 1))`` and ``L = constant * log(2 S |A| / delta)``; unseen pairs have
    ``r = 0`` and a uniform ``P_hat``. Clipping ``V_h`` at 0 keeps a valid lower bound (true values are
    non-negative). ``feasible``: infeasible actions (see the module docstring).
    """
    _check_data(data, episodic=True)
    mask = as_feasible_mask(feasible, data.S, data.A)
    scale = penalty_scale
    n = int(np.asarray(data.counts).sum())
    delta = _delta(delta, n)
    H = int(data.horizon)
    L = constant * math.log(2 * data.S * data.A / delta)
    model = data.empirical_model(unseen="uniform", unseen_reward=0.0)
    penalty = hoeffding(np.asarray(model.counts, dtype=np.float64), L, value_range=scale * H)  # H sqrt(L / N)
    V = np.zeros((H + 1, data.S))
    Q = np.empty((H, data.S, data.A))
    for h in range(H - 1, -1, -1):
        Q[h] = _masked(model.R[h] - penalty[h] + model.P[h] @ V[h + 1], mask)
        V[h] = np.maximum(Q[h].max(axis=1), 0.0)
    info = {"delta": delta, "L": L, "scale": scale}
    return _result(_select(Q), V[:H], Q, penalty, "vi_lcb_episodic", info)


def empirical_vi(data, *, known_rewards=None, feasible=None) -> OfflineResult:
    """Plain value iteration on the empirical model (no pessimism): the certainty-equivalent policy.

    Solved exactly (policy iteration / backward induction) on ``P_hat, r_hat`` (or ``known_rewards``); unseen pairs
    have ``r_hat = 0`` and a uniform ``P_hat``. ``feasible``: infeasible actions (see the module docstring).
    """
    _check_data(data)
    model = data.empirical_model(unseen="uniform", unseen_reward=0.0)
    R = _rewards(model, known_rewards)
    horizon = getattr(data, "horizon", None)
    kind = {"horizon": int(horizon)} if horizon is not None else {"gamma": _gamma(data)}
    # r_hat of bounded rewards lies in [0, 1]; clipping only guards Gaussian reward noise.
    # The empirical model passed every check by construction (the data's were checked): no re-validation.
    mdp = trusted_mdp(model.P, np.clip(R, 0.0, 1.0), np.full(data.S, 1.0 / data.S), **kind,
                      feasible=as_feasible_mask(feasible, data.S, data.A))
    res = planning.solve(mdp)
    return _result(res.policy, res.V, res.Q, np.zeros_like(res.Q), "empirical_vi")

"""The offline-to-online harness: offline phase, optional warm-up, online phase, exact per-step metrics.

Digest WP-C ("common harness"). One run is

1. **offline**: an offline algorithm of the toolkit on the counts ``D`` (``vi_lcb`` without splitting, the
   certainty-equivalent ``empirical_vi``, or ``none``: start from ``Q = 0``, the "from scratch" baseline);
2. **warm-up** (Zhou et al. 2025, WSRL): ``warmup_steps`` environment steps of the *frozen* offline policy into the
   online buffer, with no update;
3. **online**: episodes of a behaviour policy built on the current ``Q``; after each episode, ``utd`` updates per
   environment step of tabular Q-learning on the buffer, with a Polyak target (rate ``tau``).

The buffer draws a fraction ``offline_fraction`` of each batch from ``D`` and the rest from the online data
(WSRL's ``offline_data_ratio``; RLPD uses 0.5). Each update is the *expected* minibatch update (the large-batch
limit, no sampling noise): with ``mu`` the buffer's pair distribution and ``(r_buf, P_buf)`` its conditional
reward and next-state distribution (the mixture of the offline and online counts),

    ``Q(s, a) <- Q(s, a) + min(1, lr S A mu(s, a)) (y(s, a) - Q(s, a))``,
    ``y = r_buf + kappa b + gamma P_buf max_a' Q_target(., a')``,  ``Q_target <- (1 - tau) Q_target + tau Q``,

with ``b = vmax / sqrt(max(N, 1))`` (Hoeffding's width, :func:`theory_rl.penalties.hoeffding`) on the buffer's
counts ``N`` and ``kappa = 0`` (``q_learning``), ``+bonus_scale`` (``optimistic``: pairs never seen are valued
``vmax``, targets clipped at ``vmax`` and the behaviour is greedy in ``Q + b``, as in optimistic Q-learning, Jin
et al. 2018) or ``-bonus_scale`` (``pessimistic``: the conservative algorithm kept online, WSRL's variant d).
The step ``lr S A mu`` makes a uniform buffer move every pair by ``lr``; the tabular step size is not a paper
constant (WSRL's Adam learning rates have no tabular meaning) and is a parameter.

Per round (after the offline phase and after each online episode), computed exactly with the true model:
``J`` of the evaluation policy (greedy in ``Q``) and of the behaviour policy, the cumulative regret
``sum_k (J* - J(behaviour_k))`` over the episodes played (warm-up included), ``Q`` at the start distribution
against the true ``Q^{pi_t}``, and the TD error on the offline distribution (:func:`~.metrics.td_error`).

**Linear features** (``features=phi``, shape ``(S, A, d)``; WSRL's claim needs shared parameters, digest WP-C C1):
``Q = Phi w``. The offline ``Q`` is projected on the features (least squares weighted by the offline data with a
floor ``projection_floor``); the warm-up still rolls out the offline algorithm's policy (WSRL's frozen offline
*actor*, separate from its critic), so ``J_offline`` is that policy's, and the projection's loss shows in
``J_eval[0]``; each update is
the expected semi-gradient step ``w <- w + Phi^T C (y - Phi w)`` with ``C = diag(min(1, lr S A mu))`` (the tabular
step's weights) and a Polyak target on ``w``. ``Phi`` is rescaled to ``||Phi^T Phi||_2 = 1`` (the same function
class; the step is then non-expansive for a fixed target, so any divergence is the bootstrapping's, not the step
size's). With one-hot features this is the tabular update exactly (tested to 1e-9).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl import planning
from theory_rl._random import SeedLike, as_generator
from theory_rl._validation import (
    Instance,
    Integer,
    Options,
    Real,
    as_float_array,
    check_mapping,
    check_shape,
    check_table,
    validate_params,
)
from theory_rl.algorithms import lcb
from theory_rl.algorithms.o2o.metrics import initial_dip, steps_to_threshold, td_error
from theory_rl.algorithms.o2o.ro2o import ensemble_lcb
from theory_rl.data import CountDataset, CountsBuilder, RolloutSampler
from theory_rl.feasibility import refuse_masked
from theory_rl.mdp import TabularMDP
from theory_rl.penalties import hoeffding
from theory_rl.results import Result
from theory_rl.scales import require_unit_scale

__all__ = ["OFFLINE", "ONLINE", "FinetuneResult", "offline_phase", "finetune"]

#: The offline algorithms of the offline phase.
OFFLINE = ("vi_lcb", "empirical_vi", "ensemble_lcb", "none")
#: The online learners: bonus sign 0, +1, -1 in the target; ``ensemble_lcb`` re-plans RO2O's ensemble LCB.
ONLINE = ("q_learning", "optimistic", "pessimistic", "ensemble_lcb")
_KAPPA = {"q_learning": 0.0, "optimistic": 1.0, "pessimistic": -1.0, "ensemble_lcb": 0.0}


@dataclass(frozen=True, kw_only=True, repr=False)
class FinetuneResult(Result):
    """What :func:`finetune` returns: the final greedy policy and ``Q``, and the per-round curves.

    Attributes
    ----------
    policy, Q, V : numpy.ndarray
        The final evaluation policy (greedy in ``Q``), its ``Q`` table and ``max_a Q``.
    steps : numpy.ndarray, shape (R,)
        Environment steps (warm-up included) at each round; round 0 is the end of the offline phase.
    J_eval, J_behaviour : numpy.ndarray, shape (R,)
        Exact returns of the evaluation and behaviour policies at each round (the behaviour of round ``k``
        plays the episode that ends round ``k + 1``; its last entry is the next behaviour).
    regret : numpy.ndarray, shape (R,)
        Cumulative regret ``sum (J* - J(behaviour))`` over the episodes played before each round.
    q_start, q_start_true : numpy.ndarray, shape (R,)
        ``rho . max_a Q_t`` and the true ``rho . V^{pi_t}`` of the evaluation policy.
    td_offline : numpy.ndarray, shape (R,)
        TD error of the greedy backup on the offline distribution (:func:`~.metrics.td_error`).
    J_offline, J_star, dip, threshold_step : float
        ``J(pi_off)``, ``J*``, :func:`~.metrics.initial_dip` over the online rounds, and
        :func:`~.metrics.steps_to_threshold` of ``J_eval`` (``inf`` if never reached).
    """

    steps: np.ndarray
    J_eval: np.ndarray
    J_behaviour: np.ndarray
    regret: np.ndarray
    q_start: np.ndarray
    q_start_true: np.ndarray
    td_offline: np.ndarray
    J_offline: float
    J_star: float
    dip: float
    threshold_step: float


@validate_params(offline=Options(OFFLINE))
def offline_phase(data: CountDataset, offline: str = "vi_lcb", offline_kwargs: dict | None = None, *,
                  seed: SeedLike | None = None):
    """The offline phase: ``(policy, Q)`` of an offline algorithm on counts ``data``.

    Parameters
    ----------
    data : CountDataset
        Discounted counts.
    offline : {"vi_lcb", "empirical_vi", "ensemble_lcb", "none"}
        :func:`~theory_rl.algorithms.lcb.vi_lcb` with ``split=False`` (paper constants by default),
        :func:`~theory_rl.algorithms.lcb.empirical_vi`, RO2O's :func:`~.ro2o.ensemble_lcb` (its ``Q`` is the
        score ``mean - k std``), or ``none`` (``Q = 0``, policy all action 0).
    offline_kwargs : dict, optional
        Keywords of the offline algorithm (e.g. ``{"penalty_scale": 0.01}`` for ``vi_lcb``).
    seed : int, SeedSequence or Generator, optional
        Needed by ``ensemble_lcb`` (its bootstrap).

    Returns
    -------
    tuple
        ``(policy (S,) int, Q (S, A) float)``.
    """
    if not isinstance(data, CountDataset):
        raise ValueError(f"data is a {type(data).__name__}, expected a CountDataset")
    kwargs = {} if offline_kwargs is None else check_mapping(offline_kwargs, "offline_kwargs")
    seed = None if seed is None else as_generator(seed)  # checked even where unused
    if offline == "none":
        if kwargs:
            raise ValueError(f"offline_kwargs {sorted(kwargs)} given, but offline='none' takes none")
        return np.zeros(data.S, np.int64), np.zeros((data.S, data.A))
    if offline == "ensemble_lcb":
        if seed is None:
            raise ValueError("offline='ensemble_lcb' needs a seed (its bootstrap ensemble)")
        res = ensemble_lcb(data, seed=seed, **kwargs)
    elif offline == "vi_lcb":
        res = lcb.vi_lcb(data, split=False, **kwargs)
    else:
        res = lcb.empirical_vi(data, **kwargs)
    return np.asarray(res.policy, np.int64), np.array(res.Q, dtype=np.float64)


def _greedy(Q: np.ndarray) -> np.ndarray:
    return Q.argmax(axis=1)


def _epsilon_greedy(scores: np.ndarray, epsilon: float) -> np.ndarray:
    S, A = scores.shape
    pi = np.full((S, A), epsilon / A)
    pi[np.arange(S), scores.argmax(axis=1)] += 1.0 - epsilon
    return pi


class _Buffer:
    """The mixture of the offline counts (weight ``rho``) and the online counts (weight ``1 - rho``)."""

    def __init__(self, data: CountDataset, rho: float) -> None:
        self.off = (np.asarray(data.counts, float), np.asarray(data.transition_counts, float),
                    np.asarray(data.reward_sums, float))  # fmt: skip
        self.n_off = float(data.counts.sum())
        self.rho = rho

    def model(self, online: CountsBuilder):
        """``mu (S, A)``, ``r_buf``, ``P_buf`` and the pooled counts ``N``; None when the buffer is empty."""
        parts = []
        n_on = float(online.n)
        w_off = self.rho if n_on > 0 else 1.0
        if self.n_off > 0 and w_off > 0:
            parts.append((w_off / self.n_off, self.off))
        if n_on > 0 and w_off < 1:
            on = (np.asarray(online.counts, float), np.asarray(online.transition_counts, float),
                  np.asarray(online.reward_sums, float))  # fmt: skip
            parts.append(((1.0 - w_off) / n_on, on))
        if not parts:
            return None
        mu = sum(w * p[0] for w, p in parts)
        C = sum(w * p[1] for w, p in parts)
        Rs = sum(w * p[2] for w, p in parts)
        safe = np.where(mu > 0, mu, 1.0)
        N = self.off[0] * (self.n_off > 0) + np.asarray(online.counts, float)
        return mu / mu.sum(), Rs / safe, C / safe[..., None], N


@validate_params(
    mdp=Instance(TabularMDP, episodic=False),
    data=Instance(CountDataset),
    offline=Options(OFFLINE),
    online=Options(ONLINE),
    warmup_steps=Integer(0),
    online_steps=Integer(1),
    n_steps=Integer(1),
    offline_fraction=Real(0.0, 1.0),
    utd=Integer(1, 10_000),
    tau=Real(0.0, 1.0, closed="right"),
    lr=Real(0.0, 1.0, closed="right"),
    epsilon=Real(0.0, 1.0),
    bonus_scale=Real(0.0, None),
    threshold=Real(optional=True),
    projection_floor=Real(0.0, 1.0, closed="right"),
)
def finetune(
    mdp: TabularMDP,
    data: CountDataset,
    *,
    seed: SeedLike,
    offline: str = "vi_lcb",
    offline_kwargs: dict | None = None,
    online: str = "q_learning",
    warmup_steps: int = 0,
    online_steps: int = 1000,
    n_steps: int = 20,
    offline_fraction: float = 0.0,
    utd: int = 4,
    tau: float = 5e-3,
    lr: float = 0.5,
    epsilon: float = 0.1,
    bonus_scale: float = 1.0,
    threshold: float | None = None,
    features=None,
    projection_floor: float = 0.01,
) -> FinetuneResult:
    """One offline-to-online run (see the module docstring for the update and the metrics).

    Parameters
    ----------
    mdp : TabularMDP
        Discounted; the environment of the online phase and the model of the exact metrics.
    data : CountDataset
        The offline counts ``D`` (of ``mdp``'s size).
    seed : int, SeedSequence or Generator
        The online episodes' randomness.
    offline, offline_kwargs
        See :func:`offline_phase`.
    online : {"q_learning", "optimistic", "pessimistic", "ensemble_lcb"}
        The bonus sign in the target (and ``optimistic`` acts greedily in ``Q + b``); ``ensemble_lcb`` (RO2O's
        consistent pessimism) re-plans :func:`~.ro2o.ensemble_lcb` (10 members, ``k = 4``) on the offline plus
        online counts after every episode, and ignores ``offline_fraction``, ``utd``, ``tau`` and ``lr``.
    warmup_steps : int, default 0
        Steps of the frozen offline policy before any update (WSRL: 5000 [V: code, digest]).
    online_steps : int, default 1000
        Online steps after the warm-up (rounded up to whole episodes).
    n_steps : int, default 20
        Episode length.
    offline_fraction : float, default 0
        Fraction of each batch drawn from ``D`` (WSRL's default 0 [V: code]; RLPD 0.5). With no online data
        yet, the whole batch is offline.
    utd : int, default 4
        Updates per environment step (WSRL: 4 [V: code]); at most 10^4.
    tau : float, default 5e-3
        Polyak rate of the target (WSRL: 5e-3 [V: code]).
    lr : float, default 0.5
        Tabular step size (at a pair with buffer mass ``1/(S A)``); not a paper constant.
    epsilon : float, default 0.1
        Exploration of the behaviour policy (epsilon-greedy); not a paper constant (SAC's entropy has no
        tabular counterpart).
    bonus_scale : float, default 1
        ``|kappa|`` of the ``optimistic`` / ``pessimistic`` learners.
    threshold : float, optional
        Threshold on ``J`` for ``FinetuneResult.threshold_step``; ``0.9 J*`` by default.
    features : array_like, shape (S, A, d), optional
        Linear features ``phi(s, a)``: the online learner is linear semi-gradient Q-learning on ``Q = Phi w``
        (module docstring); tabular when None. Not with ``online="ensemble_lcb"``.
    projection_floor : float, default 0.01
        With ``features``: the offline ``Q`` is projected by least squares weighted by
        ``(1 - floor) mu_D + floor / (S A)`` (``mu_D`` the offline pair distribution; the floor keeps unseen
        pairs determined). Not a paper constant; any positive floor gives the tabular ``Q`` with one-hot features.

    Returns
    -------
    FinetuneResult
    """
    kwargs = {} if offline_kwargs is None else check_mapping(offline_kwargs, "offline_kwargs")
    if (data.S, data.A) != (mdp.S, mdp.A) or data.horizon is not None:
        raise ValueError(f"data has (S, A, horizon) = {(data.S, data.A, data.horizon)}, expected "
                         f"{(mdp.S, mdp.A, None)} as mdp")  # fmt: skip
    refuse_masked(mdp, "finetune")  # issue 15: its Q-learning's max over actions ranges over all of them
    require_unit_scale(mdp, "finetune")  # issue 15: vmax = 1/(1 - gamma), the clipping and the bonus assume [0, 1]
    S, A, gamma = mdp.S, mdp.A, mdp.gamma
    Phi = None
    if features is not None:
        if online == "ensemble_lcb":
            raise ValueError("features given with online='ensemble_lcb', which re-plans a table; expected None")
        phi = as_float_array(features, "features", ndim=3)
        check_shape(phi, "features", (S, A, phi.shape[2]))
        Phi = phi.reshape(S * A, -1)
        scale = np.linalg.norm(Phi, 2)
        if phi.shape[2] == 0 or scale == 0:
            raise ValueError("features are all zero, expected at least one non-zero feature")
        Phi = Phi / scale  # ||Phi^T Phi||_2 = 1: the same function class, a non-expansive step
    rng = as_generator(seed)
    pi_off, Q = offline_phase(data, offline, kwargs, seed=rng)
    if Phi is not None:  # the linear function closest to the offline Q, weighted by the data (plus a floor)
        mu0 = np.asarray(data.counts, float).reshape(-1)
        c = np.sqrt((1.0 - projection_floor) * mu0 / max(mu0.sum(), 1.0) + projection_floor / (S * A))
        c = np.exp2(np.round(np.log2(c)))  # powers of two: exact scaling, so one-hot ties survive the projection
        w = np.linalg.lstsq(c[:, None] * Phi, c * Q.reshape(-1), rcond=None)[0]
        Q, w_target = (Phi @ w).reshape(S, A), w.copy()
    vmax = 1.0 / (1.0 - gamma)
    kappa = _KAPPA[online] * bonus_scale
    J_star = planning.optimal_return(mdp)
    J_off = planning.expected_return(mdp, pi_off)
    threshold = 0.9 * J_star if threshold is None else threshold
    mu_off = np.asarray(data.counts, float)
    mu_off = mu_off / mu_off.sum() if mu_off.sum() > 0 else np.full((S, A), 1.0 / (S * A))
    sampler = RolloutSampler(mdp, n_steps=n_steps)
    buffer, online_counts = _Buffer(data, offline_fraction), CountsBuilder(S, A, gamma=gamma)
    Q_target = Q.copy()
    rows: list[tuple] = []
    steps, regret = 0, 0.0

    def optimistic(Q, N):  # unseen pairs valued vmax: the optimistic initialisation of Jin et al. (2018)
        return np.where(N > 0, Q, vmax) if kappa > 0 else Q

    def behaviour(N):
        scores = Q if kappa <= 0 else optimistic(Q, N) + kappa * hoeffding(N, 1.0, value_range=vmax)
        return _epsilon_greedy(scores, epsilon)

    def record(pi_b):
        pi = _greedy(Q)
        V_true = planning.evaluate(mdp, pi)
        rows.append((steps, planning.expected_return(mdp, pi), planning.expected_return(mdp, pi_b), regret,
                     float(mdp.init @ Q.max(axis=1)), float(mdp.init @ V_true), td_error(mdp, Q, mu_off)))

    N0 = np.asarray(data.counts, float)
    record(behaviour(N0))
    n_warm, n_rounds = -(-warmup_steps // n_steps), -(-online_steps // n_steps)
    check_table("the per-round curves", (n_rounds + 1, 7), ("online_steps / n_steps + 1", "7"))
    check_table("the warm-up rollouts", (n_warm, n_steps + 1), ("warmup_steps / n_steps", "n_steps + 1"), itemsize=24)
    if n_warm:  # the frozen offline policy fills the online buffer; no update
        online_counts.add_rollouts(sampler.sample(pi_off, n_warm, rng))
        steps += n_warm * n_steps
        regret += n_warm * (J_star - J_off)
    for _ in range(n_rounds):
        pi_b = behaviour(N0 + np.asarray(online_counts.counts, float))
        online_counts.add_rollouts(sampler.episode(pi_b, rng))
        regret += J_star - planning.expected_return(mdp, pi_b)
        steps += n_steps
        stats = buffer.model(online_counts)
        if online == "ensemble_lcb":  # RO2O: the same ensemble LCB re-planned on all the data so far
            on = online_counts
            pooled = CountDataset(counts=np.asarray(data.counts) + on.counts,
                                  transition_counts=np.asarray(data.transition_counts) + on.transition_counts,
                                  reward_sums=np.asarray(data.reward_sums) + on.reward_sums,
                                  S=S, A=A, gamma=gamma)  # fmt: skip
            Q = ensemble_lcb(pooled, seed=rng).Q
        elif stats is not None:
            mu, r_buf, P_buf, N = stats
            step = np.minimum(1.0, lr * S * A * mu)
            bonus = kappa * hoeffding(N, 1.0, value_range=vmax, unseen=vmax) if kappa != 0 else 0.0
            for _ in range(utd * n_steps):
                if Phi is not None:
                    Q_target = (Phi @ w_target).reshape(S, A)
                y = r_buf + bonus + gamma * (P_buf @ optimistic(Q_target, N).max(axis=1))
                if kappa > 0:  # optimistic targets clipped at vmax (Jin et al. 2018 clip at H)
                    y = np.minimum(y, vmax)
                if Phi is None:
                    Q = Q + step * (y - Q)
                    Q_target = (1.0 - tau) * Q_target + tau * Q
                else:  # expected semi-gradient step; shared parameters move every pair
                    w = w + Phi.T @ (step * (y - Q)).reshape(-1)
                    Q = (Phi @ w).reshape(S, A)
                    w_target = (1.0 - tau) * w_target + tau * w
        record(behaviour(N0 + np.asarray(online_counts.counts, float)))
    cols = [np.array(c, dtype=float) for c in zip(*rows, strict=True)]
    pi = _greedy(Q)
    dip = initial_dip(J_off, cols[1][1:]) if len(rows) > 1 else 0.0
    return FinetuneResult(
        policy=pi, V=Q.max(axis=1), Q=Q, method=f"{offline}+{online}" + ("" if Phi is None else "+linear"),
        constants={"offline": offline, "offline_kwargs": kwargs, "online": online, "warmup_steps": warmup_steps,
                   "online_steps": online_steps, "n_steps": n_steps, "offline_fraction": offline_fraction,
                   "utd": utd, "tau": tau, "lr": lr, "epsilon": epsilon, "bonus_scale": bonus_scale,
                   "threshold": threshold, "features": None if Phi is None else Phi.shape[1],
                   "projection_floor": projection_floor},
        steps=cols[0], J_eval=cols[1], J_behaviour=cols[2], regret=cols[3], q_start=cols[4],
        q_start_true=cols[5], td_offline=cols[6], J_offline=J_off, J_star=J_star, dip=dip,
        threshold_step=steps_to_threshold(cols[0], cols[1], threshold),
    )  # fmt: skip

"""H2O (Amortila et al. 2024, arXiv 2401.09681, Algorithm 2): hybrid-to-offline reduction on finite classes.

Naming. ``h2o`` here is Amortila, Foster, Jiang, Sekhari and Xie's *hybrid-to-offline* reduction (their
Algorithm 2, "H2O"): it turns an offline algorithm into a hybrid one by interleaving fresh offline samples with
online trajectories of the offline algorithm's own policies, and with MABO.CR as the plug-in it is HyGLOW. It is
NOT Niu et al. (2022)'s H2O ("When to Trust Your Simulator: Dynamics-Aware Hybrid Offline-and-Online
Reinforcement Learning", NeurIPS 2022), a sim-to-real method that combines offline real data with an imperfect
simulator through dynamics-gap-weighted value penalties; that method is
:func:`theory_rl.algorithms.sim2real.dynamics_aware_h2o`. The name ``h2o`` is kept here for the reduction.

Round ``t = 1..T``: add the ``t``-th offline sample ``(x, a, r, x') ~ nu_h`` at every layer (one fresh i.i.d.
draw per round, so after ``t`` rounds ``D_off[1:t]`` holds ``t`` samples per layer; the ``T`` samples per layer
are drawn up front in one call of :func:`theory_rl.data.sample_iid`, which changes nothing in their law),
compute ``pi_t = Alg_off(D_off[1:t] u D_on)``, then collect one trajectory of ``pi_t`` into ``D_on`` (the shared
rollout sampler, :class:`theory_rl.data.RolloutSampler`). Both data sets are counts records
(:class:`theory_rl.data.CountsBuilder`; the plug-in reads their pooled :class:`theory_rl.data.CountDataset`).
After ``T`` rounds the data are half offline, half online (``T`` samples of each per layer); the data
distribution of round ``t`` is ``mu_t = (nu + d_bar_t) / 2``. Output: ``Unif(pi_1..pi_T)``.

Plug-ins: ``"mabo_cr"`` (H2O + MABO.CR = HyGLOW, Thm 4.1 / Cor. 4.1), ``"fqi"`` (H2O + FQI ~ Hy-Q), ``"mle"``
(model-based maximum likelihood). MABO.CR's clip at round ``t`` is ``g_t = gamma t`` with default
``gamma = sqrt((C_star + C_cov) / (T L))``, Thm 3.1's tuning with ``C_cov`` replaced by the coverage of the
hybrid data (Thm 4.1 leaves ``g`` to the user), and ``alpha_t = 8 / g_t``. For model-based classes MABO.CR's
weight class also holds, at round ``t``, the ratios ``d^{pi_f} / mu_t`` to the round's data distribution
(:class:`~.classes.MixtureRatios`, Assumption 2.2' for the hybrid data), counted in ``L``.

Also :func:`offline_only`: the pure-offline baseline (a plug-in on ``T`` offline samples per layer).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._random import SeedLike, seed_sequence, spawn
from theory_rl._validation import Instance, Integer, Options, Real, check_table, validate_params
from theory_rl.algorithms.glow.classes import FiniteClasses, MixtureRatios
from theory_rl.algorithms.glow.offline import trusted_fqi, trusted_mabo_cr, trusted_mle
from theory_rl.algorithms.glow.online import (
    POSITIVE,
    POSITIVE_PROB,
    ClassEvaluator,
    check_problem,
    glow_constants,
)
from theory_rl.coverage import as_distribution, concentrability
from theory_rl.data import CountDataset, CountsBuilder, RolloutSampler, sample_iid
from theory_rl.mdp import TabularMDP
from theory_rl.planning import expected_return, solve
from theory_rl.results import Result

__all__ = ["PLUGINS", "H2OResult", "OfflineOnlyResult", "h2o", "offline_only"]

PLUGINS = ("mabo_cr", "fqi", "mle")


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class H2OResult(Result):
    """H2O's run (Amortila et al. 2024, Alg. 2) in the shared :class:`~theory_rl.results.Result` names.

    H2O runs exactly ``T`` rounds (no stopping rule). The paper's output is ``Unif(pi_1..pi_T)``; ``policy``,
    ``Q`` and ``V`` are those of the last round's plug-in on all the data (greedy actions ``(H, S)``, the selected
    ``f`` or FQI's composite ``(H, S, A)``, and ``max_a Q``); ``method`` is ``"h2o_" + plugin``.

    Attributes
    ----------
    gaps : (T,) float, the exact sub-optimality of ``pi_t``
    chosen : (T,) int, the index in ``F`` of ``f_t`` (-1 for FQI's composite)
    offline, online : CountDataset, the final offline and online counts records (``T`` samples per layer each;
        pooled: ``offline + online``)
    constants : dict, ``plugin``, ``gamma``, ``L``, ``c_star``, ``delta``, ``gamma_scale``
    """

    gaps: np.ndarray
    chosen: np.ndarray
    offline: CountDataset
    online: CountDataset

    @property
    def risk(self) -> float:
        """Sub-optimality of the output ``Unif(pi_1..pi_T)``: the mean of ``gaps``."""
        return float(self.gaps.mean())


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class OfflineOnlyResult(Result):
    """The pure-offline baseline's run (:func:`offline_only`) in the shared names: ``policy`` (greedy actions
    ``(H, S)``), ``Q`` (the selected ``f`` or FQI's composite, ``(H, S, A)``), ``V = max_a Q``, ``method``
    (``"offline_" + plugin``) and ``constants``, plus the exact sub-optimality of its policy.

    Attributes
    ----------
    gap : float, ``J* - J(policy)``, exact
    chosen : int, the index in ``F`` of the selected ``f`` (-1 for FQI's composite)
    data : CountDataset, the ``n`` offline samples per layer
    """

    gap: float
    chosen: int
    data: CountDataset

    @property
    def risk(self) -> float:
        """The sub-optimality of the output (``gap``), the name :class:`H2OResult` uses for the same quantity."""
        return self.gap


def _check_plugin(plugin: str, classes: FiniteClasses) -> None:
    if plugin == "mle" and classes.models is None:
        raise ValueError("plugin 'mle' needs model-based classes (classes.models is None)")


def _select(plugin: str, classes: FiniteClasses, stats: CountDataset, clip: float, W=None):
    """(index or -1, greedy actions (H, S), Q (H, S, A)) of the plug-in on ``stats``; the arguments were checked
    at the public boundary (:func:`h2o`, :func:`offline_only`), so the rounds call the unchecked plug-ins."""
    if plugin == "fqi":
        res = trusted_fqi(classes, stats)
        return -1, res.policy, res.Q
    if plugin == "mabo_cr":
        idx = int(np.argmin(trusted_mabo_cr(classes, stats, clip, W=W)))
    else:
        idx = int(np.argmax(trusted_mle(classes, stats)))
    return idx, classes.policies[idx], classes.F[idx]


def _default_gamma(mdp, classes, nu, T, delta, gamma, mix=None):
    ev = ClassEvaluator(mdp, classes)
    c_star = concentrability(mdp, solve(mdp).policy, nu, allow_infinite=True)
    c = ev.c_cov() + (c_star if np.isfinite(c_star) else 0.0)
    log_n_w = mix.log_size(classes.W.shape[0], T) if mix is not None else None
    consts = glow_constants(classes.F.shape[0], classes.W.shape[0], T, mdp.horizon, delta, c, log_n_w=log_n_w)
    return ev, c_star, consts["L"], consts["gamma"] if gamma is None else gamma


_SPECS = dict(mdp=Instance(TabularMDP, episodic=True), classes=Instance(FiniteClasses), plugin=Options(PLUGINS),
              delta=POSITIVE_PROB, gamma=Real(0, closed="neither", optional=True), gamma_scale=POSITIVE)


@validate_params(T=Integer(1), **_SPECS)
def h2o(mdp: TabularMDP, classes: FiniteClasses, nu, T: int, *, seed: SeedLike, plugin: str = "mabo_cr",
        delta: float = 0.1, gamma: float | None = None, gamma_scale: float = 1.0) -> H2OResult:
    """Run H2O (Amortila et al. 2024, Alg. 2) with an offline plug-in for ``T`` rounds.

    This is the hybrid-to-offline *reduction*; Niu et al. (2022)'s sim-to-real H2O is
    :func:`theory_rl.algorithms.sim2real.dynamics_aware_h2o`.

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon.
    classes : FiniteClasses
    nu : array_like
        Offline distribution ``(H, S, A)`` (or ``(S, A)`` at every layer).
    T : int
    seed : int, SeedSequence or Generator
        Two SeedSequence children of ``seed_sequence(seed)``: the first draws the ``T`` offline samples per layer
        (one :func:`theory_rl.data.sample_iid` call), the second seeds one Generator whose raw outputs seed the
        online episodes (:meth:`theory_rl.data.RolloutSampler.episode`, one per round).
    plugin : {"mabo_cr", "fqi", "mle"}
        HyGLOW, Hy-Q, or the model-based MLE.
    delta, gamma : float
        MABO.CR's clip scale ``gamma`` (default in the module docstring) and the ``delta`` of its ``L``.
    gamma_scale : float, default 1
        Multiplies ``gamma``. MABO.CR has no radius beta; its only constant is the clip/penalty trade-off, and
        ``gamma_scale = 1 / sqrt(s)`` matches GLOW's ``beta_scale = s`` (whose default gamma moves the same way).

    Returns
    -------
    H2OResult
        No stopping rule: H2O plays exactly ``T`` rounds (so no ``max_iter`` / ``on_max_iter``).

    Raises
    ------
    ValueError
        Naming the parameter; ``T`` so large that the ``T`` offline samples per layer would not fit in memory is
        refused at once.
    """
    check_problem(mdp, classes)
    check_table("the offline samples", (T, mdp.horizon), ("T", "H"), itemsize=40)
    _check_plugin(plugin, classes)
    nu = as_distribution(mdp, nu, "nu")
    mix = MixtureRatios(classes) if plugin == "mabo_cr" and classes.models is not None else None
    ev, c_star, L, gamma = _default_gamma(mdp, classes, nu, T, delta, gamma, mix)
    gamma *= gamma_scale
    H, S, A = classes.shape
    plays = np.zeros(classes.F.shape[0])
    off_seed, on_seed = spawn(seed_sequence(seed), 2)
    pool = sample_iid(mdp, nu, T, off_seed)  # layer-major: row h * T + i is layer h's (i + 1)-th sample
    sampler, rng = RolloutSampler(mdp), np.random.default_rng(on_seed)
    off, on = CountsBuilder(S, A, horizon=H), CountsBuilder(S, A, horizon=H)
    gaps, chosen = np.zeros(T), np.zeros(T, dtype=int)
    for t in range(1, T + 1):
        rows = np.arange(H) * T + (t - 1)
        off.add_batch(pool.state[rows], pool.action[rows], pool.reward[rows], pool.next_state[rows],
                      steps=pool.step[rows])  # fmt: skip
        W = None
        if mix is not None and t > 1:
            W = np.concatenate([classes.W, mix.weights(plays, nu, t / (2 * t - 1))])
        idx, actions, q = _select(plugin, classes, off.to_counts() + on.to_counts(), gamma * t, W)
        if idx >= 0:
            plays[idx] += 1
        on.add_rollouts(sampler.episode(actions, rng))
        chosen[t - 1] = idx
        gaps[t - 1] = ev.gap(idx) if idx >= 0 else max(ev.j_star - expected_return(mdp, actions), 0.0)
    constants = {"plugin": plugin, "gamma": gamma, "L": L, "c_star": c_star, "delta": delta,
                 "gamma_scale": gamma_scale}
    return H2OResult(policy=actions, Q=q, V=q.max(axis=-1), method=f"h2o_{plugin}", gaps=gaps, chosen=chosen,
                     offline=off.to_counts({"generator": "h2o offline"}),
                     online=on.to_counts({"generator": "h2o online"}), constants=constants)


@validate_params(n=Integer(1), **_SPECS)
def offline_only(mdp: TabularMDP, classes: FiniteClasses, nu, n: int, *, seed: SeedLike, plugin: str = "mabo_cr",
                 delta: float = 0.1, gamma: float | None = None, gamma_scale: float = 1.0) -> OfflineOnlyResult:
    """Pure-offline baseline: the plug-in on ``n`` i.i.d. samples per layer from ``nu`` (one
    :func:`theory_rl.data.sample_iid` call from ``seed``); returns an :class:`OfflineOnlyResult` whose ``gap``
    (also ``risk``) is the exact sub-optimality of its policy. MABO.CR's clip is ``gamma * n`` (default
    ``gamma`` as in :func:`h2o`)."""
    check_problem(mdp, classes)
    _check_plugin(plugin, classes)
    nu = as_distribution(mdp, nu, "nu")
    ev, _, _, gamma = _default_gamma(mdp, classes, nu, n, delta, gamma)
    gamma *= gamma_scale
    stats = sample_iid(mdp, nu, n, seed).to_counts()
    idx, actions, q = _select(plugin, classes, stats, gamma * n)
    gap = ev.gap(idx) if idx >= 0 else max(ev.j_star - expected_return(mdp, actions), 0.0)
    constants = {"plugin": plugin, "gamma": gamma, "delta": delta, "gamma_scale": gamma_scale, "n": n}
    return OfflineOnlyResult(policy=actions, Q=q, V=q.max(axis=-1), method=f"offline_{plugin}", gap=float(gap),
                             chosen=int(idx), data=stats, constants=constants)



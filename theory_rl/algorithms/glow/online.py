"""GLOW (Amortila, Foster, Jiang, Sekhari, Xie 2024, "Harnessing Density Ratios for Online RL", arXiv 2401.09681,
Algorithm 1) on finite classes, with exact per-round diagnostics.

Round ``t = 1..T`` (batch ``K``, clip scale ``gamma``), with ``L = log(6 |F| |W| T H / delta)``:

- ``g_t = gamma t``, ``alpha_t = 8 / g_t``, ``beta_t = 36 g_t L / (K (t - 1))`` (times ``beta_scale``);
- ``F_t = {f : for all h, sup_{w in W_h} E_hat_{D_h}[Delta_h f * clip_{g_t}[w] - alpha_t clip_{g_t}[w]^2] <= beta_t}``
  (vectorised over ``F x W``, :mod:`.statistics`);
- optimism by enumeration: ``f_t = argmax_{f in F_t} E_hat_{x_1 in D_1}[max_a f_1(x_1, a)]``, ``pi_t = greedy(f_t)``;
- ``K`` episodes of ``pi_t``, drawn in one call of the shared rollout sampler
  (:class:`theory_rl.data.RolloutSampler`) from the round's SeedSequence child and added to the counts record
  (:class:`theory_rl.data.CountsBuilder`, whose ``init_counts`` are the layer-1 states of the optimism);
  the output is ``Unif(pi_1..pi_T)``.

Choices where the paper leaves one open: round 1 (no data) plays ``f`` number 0; ties in the argmax go to the
lowest index; an empty ``F_t`` (possible only off the good event) falls back to the ``f`` of smallest largest
violation and is counted in ``empty_rounds``. Default ``gamma = sqrt(C_cov / (T L))`` (Thm 3.1) with ``C_cov``
the exact coverability of the class's policies in the true MDP (an oracle tuning, as in the theorem). With
``beta_scale = s != 1`` the default is ``sqrt(C_cov / (s T L))``: Thm 3.1's gamma balances the clipping penalty
``alpha_t = 8 / g_t`` against ``beta_t``, and the same balance with ``beta_t`` scaled by ``s`` moves gamma by
``1 / sqrt(s)``; scaling beta alone leaves the ``alpha_t`` penalty at its theory size, which then dominates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from theory_rl._random import SeedLike, seed_sequence, spawn
from theory_rl._validation import (
    Boolean,
    Instance,
    Integer,
    Real,
    as_float_array,
    check_instance,
    check_table,
    validate_params,
)
from theory_rl.algorithms.glow.classes import FiniteClasses, MixtureRatios
from theory_rl.algorithms.glow.statistics import trusted_violations
from theory_rl.coverage import coverability
from theory_rl.data import CountsBuilder, RolloutSampler
from theory_rl.feasibility import refuse_masked
from theory_rl.mdp import TabularMDP
from theory_rl.planning import expected_return, occupancy, solve
from theory_rl.results import Result
from theory_rl.scales import require_unit_scale

__all__ = [
    "POSITIVE", "POSITIVE_PROB", "GlowResult", "glow", "glow_constants", "potential", "clipping_loss", "ClassEvaluator",
    "check_problem",
]


def check_problem(mdp, classes) -> None:
    """``mdp`` a finite-horizon TabularMDP, ``classes`` a :class:`FiniteClasses` of the same ``(H, S, A)``."""
    check_instance(mdp, "mdp", TabularMDP, episodic=True)
    refuse_masked(mdp, "glow / h2o / offline_only")  # issue 15: the classes' greedy policies range over all actions
    require_unit_scale(mdp, "GLOW (theory_rl.algorithms.glow)")  # issue 15: its constants assume [0, 1], no discount
    check_instance(classes, "classes", FiniteClasses)
    if classes.shape != (mdp.horizon, mdp.S, mdp.A):
        raise ValueError(f"classes have shape {classes.shape}, expected (H, S, A) = {(mdp.horizon, mdp.S, mdp.A)}")


#: Specs shared with :mod:`.hybrid`: a positive finite constant, a confidence level in (0, 1).
POSITIVE = Real(0, closed="neither")
POSITIVE_PROB = Real(0, 1, closed="neither")


class ClassEvaluator:
    """Exact occupancies and returns of the class's greedy policies in the true MDP, computed on demand.

    ``mdp`` and ``classes`` are checked as in :func:`check_problem` (finite horizon, the same ``(H, S, A)``).
    """

    def __init__(self, mdp: TabularMDP, classes: FiniteClasses) -> None:
        check_problem(mdp, classes)
        self.mdp, self.classes = mdp, classes
        self.j_star = expected_return(mdp, solve(mdp).policy)
        self._occ: dict[int, np.ndarray] = {}
        self._ret: dict[int, float] = {}

    def occupancy(self, i: int) -> np.ndarray:
        if i not in self._occ:
            self._occ[i] = occupancy(self.mdp, self.classes.policies[i])
        return self._occ[i]

    def gap(self, i: int) -> float:
        """``J(pi*) - J(pi_f)`` for member ``i``, exactly (:func:`theory_rl.planning.expected_return`)."""
        if i not in self._ret:
            self._ret[i] = max(self.j_star - expected_return(self.mdp, self.classes.policies[i]), 0.0)
        return self._ret[i]

    def c_cov(self) -> float:
        """Exact coverability of the class's policies (Xie et al. 2023, Def. 2)."""
        return coverability(self.mdp, list(np.unique(self.classes.policies, axis=0))).value


@validate_params(n_f=Integer(1), n_w=Integer(1), T=Integer(1), H=Integer(1), delta=POSITIVE_PROB, c_cov=POSITIVE,
                 beta_scale=POSITIVE, log_n_w=Real(0, optional=True))
def glow_constants(n_f: int, n_w: int, T: int, H: int, delta: float, c_cov: float, beta_scale: float = 1.0,
                   log_n_w: float | None = None) -> dict:
    """``L = log(6 |F| |W| T H / delta)`` and Thm 3.1's ``gamma = sqrt(C_cov / (T L))`` (divided by
    ``sqrt(beta_scale)``, see the module docstring). ``log_n_w`` replaces ``log |W|`` when given."""
    log_w = math.log(n_w) if log_n_w is None else float(log_n_w)
    L = math.log(6 * n_f * T * H / delta) + log_w
    return {"L": L, "gamma": math.sqrt(c_cov / (T * L * beta_scale))}


def potential(occupancies) -> np.ndarray:
    """Cumulative potential ``sum_{s<=t} E_{d_s}[d_s / d~_{s+1}]``, ``d~_{s+1} = sum_{i<=s} d_i``, per layer.

    Lemma E.3 of Amortila et al. (2024) bounds it by ``5 C_cov log(1 + t)``. ``occupancies`` is ``(T, H, S, A)``;
    returns ``(T, H)``.
    """
    d = as_float_array(occupancies, "occupancies", ndim=4)
    cum = np.cumsum(d, axis=0)
    terms = np.where(cum > 0, d**2 / np.where(cum > 0, cum, 1.0), 0.0).sum(axis=(2, 3))
    return np.cumsum(terms, axis=0)


def clipping_loss(occupancies, clips) -> np.ndarray:
    """Per round ``t >= 2``, the largest over layers of the ``d_t``-mass where ``d_t / d_bar_t > g_t``, with
    ``d_bar_t = (1/(t-1)) sum_{s<t} d_s`` the data distribution: the part of the round the clipped weights cannot
    see (the clipping term of GLOW's analysis). Round 1 has no data and gives 0. ``occupancies`` is
    ``(T, H, S, A)``, ``clips`` the clip levels ``g_t``, ``(T,)``. Returns ``(T,)``."""
    d = as_float_array(occupancies, "occupancies", ndim=4)
    T = d.shape[0]
    g = as_float_array(clips, "clips", shape=(T,))
    out = np.zeros(T)
    if T > 1:
        prev = np.cumsum(d, axis=0)[:-1] / np.arange(1, T)[:, None, None, None]
        over = d[1:] > g[1:, None, None, None] * prev
        out[1:] = np.where(over, d[1:], 0.0).sum(axis=(2, 3)).max(axis=1)
    return out


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class GlowResult(Result):
    """GLOW's run and its exact diagnostics (Amortila et al. 2024, Alg. 1), in the shared :class:`Result` names.

    GLOW runs exactly ``T`` rounds: it has no stopping rule (nothing to certify, no ``max_iter``), so this is a
    :class:`~theory_rl.results.Result`, not an :class:`~theory_rl.results.IterativeResult`. The paper's output is
    the mixture ``Unif(pi_1..pi_T)`` over the played members ``chosen``; ``policy``, ``Q`` and ``V`` are those of
    the last round (``pi_T``, the optimistic ``f_T`` and its greedy values), and :attr:`average_suboptimality`
    is the mixture's sub-optimality.

    Attributes
    ----------
    policy : (H, S) int, ``pi_T``, greedy actions of ``f_T``
    Q : (H, S, A) float, ``f_T`` (the member of ``F_T`` chosen by optimism)
    V : (H, S) float, ``max_a f_T(x, a)``
    method : ``"glow"``
    chosen : (T,) int, index in F of ``f_t``
    set_size : (T,) int, ``|F_t|``
    q_star_in : (T,) bool, whether a member equal to ``Q*`` is in ``F_t``
    gaps : (T,) float, ``J(pi*) - J(pi_t)`` exactly
    clip, alpha, beta : (T,) float, ``g_t``, ``alpha_t``, ``beta_t`` (``beta_1 = inf``)
    potential : (T, H) float, :func:`potential` of ``d^{pi_1..pi_t}``
    potential_bound : (T,) float, ``5 C_cov log(1 + t)``
    clipping_loss : (T,) float, :func:`clipping_loss`
    empty_rounds : int, rounds with an empty confidence set
    constants : dict, ``L``, ``gamma``, ``c_cov``, ``delta``, ``K``, ``beta_scale``, ...
    """

    method: str = "glow"
    chosen: np.ndarray
    set_size: np.ndarray
    q_star_in: np.ndarray
    gaps: np.ndarray
    clip: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    potential: np.ndarray
    potential_bound: np.ndarray
    clipping_loss: np.ndarray
    empty_rounds: int

    @property
    def regret(self) -> np.ndarray:
        """Cumulative regret ``sum_{s<=t} (J* - J(pi_s))``, ``(T,)``."""
        return np.cumsum(self.gaps)

    @property
    def average_suboptimality(self) -> np.ndarray:
        """Sub-optimality of the output ``Unif(pi_1..pi_t)`` for every ``t``, ``(T,)``."""
        return self.regret / np.arange(1, len(self.gaps) + 1)


@validate_params(mdp=Instance(TabularMDP, episodic=True), classes=Instance(FiniteClasses), T=Integer(1), K=Integer(1),
                 delta=POSITIVE_PROB, gamma=Real(0, closed="neither", optional=True),
                 c_cov=Real(0, closed="neither", optional=True), beta_scale=POSITIVE,
                 mixture_ratios=Boolean(optional=True), diagnostics=Boolean())
def glow(mdp: TabularMDP, classes: FiniteClasses, T: int, *, seed: SeedLike, K: int = 1, delta: float = 0.1,
         gamma: float | None = None, c_cov: float | None = None, beta_scale: float = 1.0,
         mixture_ratios: bool | None = None, diagnostics: bool = True) -> GlowResult:
    """Run GLOW (Amortila et al. 2024, Alg. 1) for ``T`` rounds of ``K`` episodes on ``mdp``.

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon; rewards should sum to at most 1 along an episode (the paper's normalisation).
    classes : FiniteClasses
        ``F`` (realizability: ``Q*`` in ``F``) and ``W``.
    T, K : int
        Rounds and episodes per round.
    seed : int, SeedSequence or Generator
        One SeedSequence child per round (``spawn(seed_sequence(seed), T)[t - 1]``); round ``t``'s ``K``
        episodes are ``RolloutSampler(mdp).sample(pi_t, K, child)``.
    delta : float, default 0.1
        Confidence in ``L``.
    gamma : float, optional
        Clip scale; default Thm 3.1's ``sqrt(C_cov / (T L))``, over ``sqrt(beta_scale)`` (module docstring).
    c_cov : float, optional
        Coverability for the default ``gamma`` and the potential bound; default the exact coverability of the
        class's policies in ``mdp``.
    beta_scale : float, default 1
        Multiplies ``beta_t`` (1 = the theory constant 36).
    mixture_ratios : bool, optional
        Add, at round ``t``, the ratios ``d^{pi_f} / d_bar_t`` to the data distribution of the rounds so far
        (Assumption 2.2', :class:`~.classes.MixtureRatios`), with ``log |W|`` in ``L`` counting every mixture the
        play counts can produce. Default: True for model-based classes (``classes.models`` set).
    diagnostics : bool, default True
        Compute the potential and clipping loss (needs the occupancy of every played policy).

    Returns
    -------
    GlowResult
        No stopping rule: GLOW plays exactly ``T`` rounds (so no ``max_iter`` / ``on_max_iter``).

    Raises
    ------
    ValueError
        Naming the parameter: a non-integer or non-positive ``T`` / ``K``, ``delta`` outside (0, 1), a NaN,
        infinite, complex or non-positive ``gamma`` / ``c_cov`` / ``beta_scale``, a seed of the wrong kind, a flag
        that is not a bool, ``classes`` of another ``(H, S, A)``, or ``T`` / ``K`` so large that the per-round
        records or one round's episodes would not fit in memory (refused at once).
    """
    check_problem(mdp, classes)
    H, S, A = classes.shape
    if diagnostics:
        check_table("the played policies' occupancies", (T, H, S, A), ("T", "H", "S", "A"))
    else:
        check_table("the per-round records", (T, H), ("T", "H"))
    check_table("one round's episodes", (K, H + 1), ("K", "H + 1"), itemsize=24)
    ev = ClassEvaluator(mdp, classes)
    c_cov = ev.c_cov() if c_cov is None else c_cov
    F, W = classes.F, classes.W
    mixture_ratios = classes.models is not None if mixture_ratios is None else bool(mixture_ratios)
    mix = MixtureRatios(classes) if mixture_ratios else None
    log_n_w = mix.log_size(W.shape[0], T) if mix is not None else None
    consts = glow_constants(F.shape[0], W.shape[0], T, H, delta, c_cov, beta_scale, log_n_w)
    L = consts["L"]
    gamma = consts["gamma"] if gamma is None else gamma
    truth = classes.truth_mask(mdp)
    sampler = RolloutSampler(mdp)
    data = CountsBuilder(S, A, horizon=H)
    v1 = F[:, 0].max(axis=-1)  # (|F|, S): max_a f_1(x, a)
    out = {k: np.zeros(T) for k in ("clip", "alpha", "beta", "gaps")}
    chosen, size, q_in = np.zeros(T, dtype=int), np.zeros(T, dtype=int), np.zeros(T, dtype=bool)
    empty = 0
    plays = np.zeros(F.shape[0])
    for t, child in enumerate(spawn(seed_sequence(seed), T), start=1):
        g = gamma * t
        alpha = 8.0 / g
        beta = math.inf if t == 1 else beta_scale * 36.0 * g * L / (K * (t - 1))
        if t == 1:
            in_set = np.ones(F.shape[0], dtype=bool)
            idx = 0
        else:
            W_t = W if mix is None else np.concatenate([W, mix.weights(plays)])
            viol = trusted_violations(F, W_t, data.to_counts(), g, alpha).max(axis=1)
            in_set = viol <= beta
            init = data.init_counts
            values = v1 @ (init / init.sum())
            if in_set.any():
                idx = int(np.argmax(np.where(in_set, values, -np.inf)))
            else:
                empty += 1
                idx = int(np.argmin(viol))
        data.add_rollouts(sampler.sample(classes.policies[idx], K, child))
        plays[idx] += K
        chosen[t - 1], size[t - 1], q_in[t - 1] = idx, in_set.sum(), bool((in_set & truth).any())
        out["clip"][t - 1], out["alpha"][t - 1], out["beta"][t - 1] = g, alpha, beta
        out["gaps"][t - 1] = ev.gap(idx)
    if diagnostics:
        occ = np.stack([ev.occupancy(int(i)) for i in chosen])
        pot, clip_loss = potential(occ), clipping_loss(occ, out["clip"])
    else:
        pot, clip_loss = np.full((T, H), np.nan), np.full(T, np.nan)
    bound = 5.0 * c_cov * np.log1p(np.arange(1, T + 1))
    constants = {"L": L, "gamma": gamma, "c_cov": c_cov, "delta": delta, "K": K, "beta_scale": beta_scale,
                 "n_F": int(F.shape[0]), "n_W": int(W.shape[0]), "mixture_ratios": mixture_ratios,
                 "log_n_W": math.log(W.shape[0]) if log_n_w is None else log_n_w}
    f_T = F[chosen[-1]]
    return GlowResult(policy=classes.policies[chosen[-1]], Q=f_T, V=f_T.max(axis=-1), method="glow", chosen=chosen,
                      set_size=size, q_star_in=q_in, gaps=out["gaps"], clip=out["clip"], alpha=out["alpha"],
                      beta=out["beta"], potential=pot, potential_bound=bound, clipping_loss=clip_loss,
                      empty_rounds=empty, constants=constants)

"""Dynamics-aware hybrid offline-and-online RL with an imperfect simulator: H2O of Niu et al. (2022), tabular.

Niu, Sharma, Qiu, Li, Zhou, Hu & Zhan (2022), "When to Trust Your Simulator: Dynamics-Aware Hybrid
Offline-and-Online Reinforcement Learning" (NeurIPS 2022, arXiv 2206.13464; code github.com/t6-thu/H2O,
SimpleSAC/sim2real_sac.py). NOT the hybrid-to-offline reduction ``h2o`` of Amortila et al. (2024) in
:mod:`theory_rl.algorithms.glow.hybrid`; the two share only the acronym.

Setting: a fixed offline dataset from the *real* MDP ``P`` (a :class:`~theory_rl.data.CountDataset`) and a
simulator ``P_sim`` that can be queried without limit. The critic loss of the official code, per twin critic, is

    MSE_real(Q, y) + MSE_sim(sqrt(w) Q, sqrt(w) y) + beta * (T logsumexp_sim((Q + log omega) / T) - mean_real Q)

with ``w = clip(P / P_sim, 1e-5, 1)`` on the sim transitions, ``omega = u / sum u`` over the sim batch,
``u(s, a) = clip(KL(P_sim(.|s,a) || P(.|s,a)), 1e-45, 10)``, ``beta = 0.01`` (``cql_min_q_weight``), ``T = 1``
(``cql_temp``), and each MSE a mean over its own half of a 128 real + 128 sim batch (``F.mse_loss``, no 1/2).
In population, with ``rho_r`` the real-data distribution and ``rho_s`` the sim-buffer distribution (each summing
to one, because each loss is a mean over its own half-batch), the gradient in ``Q(s, a)`` vanishes at

    Q(s, a) = [rho_r y_r + rho_s m ybar_s - (beta / 2) (d_phi - rho_r)] / (rho_r + rho_s m)        (*)

where ``y_r = r_hat + gamma P_hat V``, ``m = sum_s' P_sim w`` (``= 1 - TV`` for the exact ratio),
``ybar_s = sum_s' P_sim w (r + gamma V) / m`` (a backup under the *overlap kernel* ``P_sim w / m``) and
``d_phi ∝ rho_s u^(1/T) exp(Q / T)``. :func:`dynamics_aware_h2o` finds the fixed point of (*), with ``V(s) =
max_a Q(s, a)`` (or ``E_pi Q`` for a given policy) and ``d_phi`` both taken at ``Q``, by the relaxed iteration
``Q <- Q + eta (F(Q) - Q)``: ``eta = 1`` (plain iteration, a gamma-contraction without the penalty), halved
whenever the residual ``max |F(Q) - Q|`` grows (the penalty's softmax can make the plain iteration cycle),
down to ``MIN_STEP``; it stops at residual ``<= tol`` and raises at ``max_iter``. Pairs seen by neither source
keep ``Q = 0`` (the "void" of the edge-of-reach analysis). The same core
gives the baselines: :func:`sim_only` (no real data, ``w = 1``, no penalty: value iteration in ``P_sim`` on the
sim support), :func:`naive_mixing` (both sources, ``w = 1``, no penalty) and :func:`darc` (sim only, rewards
shifted by DARC's ``log P / P_sim``, Eysenbach et al. 2021). The offline-only baseline is
:func:`theory_rl.algorithms.lcb.vi_lcb`; the oracle is planning in ``P``.

The ratio ``P / P_sim`` comes from the true kernels (``ratio="exact"``) or from counts (``ratio="counts"``): the
Bayes-optimal classifiers ``D_sa``, ``D_sas`` of the code give exactly ``P_hat / P_sim_hat``, so the count
ratio *is* the tabular discriminator; the real kernel is smoothed, ``(C + alpha) / (N + alpha S)`` with
``alpha = smoothing`` (our choice: the code's classifiers are trained with input noise, std 0.1, which plays
this role), and the simulator, queried without limit, is known exactly. ``u`` is computed exactly instead of the
code's 10 noisy next-state samples. Not modelled: twin critics, target networks, the actor (here greedy), the
penalty difference clip ``[-1000, 1000]`` (inactive at these value scales). The sim buffer's distribution
``rho_s`` is a fixed exploration distribution (uniform by default) in :func:`dynamics_aware_h2o`, or, in
:func:`h2o_onpolicy_sim`, the code's FIFO buffer filled by rollouts of the current policy in the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory_rl._random import SeedLike, as_generator
from theory_rl._validation import (
    ON_MAX_ITER,
    Boolean,
    Instance,
    Integer,
    Options,
    Real,
    as_float_array,
    check_distributions,
    check_instance,
    check_table,
    validate_params,
)
from theory_rl.data import CountDataset, RolloutSampler
from theory_rl.feasibility import refuse_masked
from theory_rl.mdp import TabularMDP
from theory_rl.policies import as_probabilities, epsilon_mixture
from theory_rl.results import IterativeResult, stop_at_max_iter
from theory_rl.scales import require_unit_scale

__all__ = [
    "H2O_DEFAULTS", "Sim2RealResult", "kl_gap", "tv_gap", "overlap_kernel", "count_kernel", "darc_correction",
    "dynamics_aware_h2o", "sim_only", "naive_mixing", "darc", "h2o_onpolicy_sim",
]

#: The official code's defaults (SimpleSAC/sim2real_sac.py, get_default_config, checked at commit 7c87f5a):
#: cql_min_q_weight, clip_dynamics_ratio_min/max, sim_q_coeff_min/max, cql_temp; batch 128 real + 128 sim.
H2O_DEFAULTS = {"beta": 0.01, "is_low": 1e-5, "is_high": 1.0, "gap_low": 1e-45, "gap_high": 10.0,
                "temperature": 1.0, "batch_ratio": 0.5}  # fmt: skip

#: Conventions for the count ratio on pairs without real data (see :func:`dynamics_aware_h2o`).
UNSEEN = ("uniform", "sim")
#: The smallest relaxation step of the fixed-point iteration (see ``_bellman_core``).
MIN_STEP = 1.0 / 1024


@dataclass(frozen=True, kw_only=True, repr=False)
class Sim2RealResult(IterativeResult):
    """The fixed point of one sim-to-real variant, in the shared result names.

    Attributes
    ----------
    policy : (S,) int, greedy in ``Q`` (lowest index among ties); the evaluated policy's greedy actions when a
        policy was given
    V, Q : the fixed point's values (``V = max_a Q``, or ``E_pi Q``)
    gap_measure : (S, A) the ``u`` used by the penalty (zeros when there is no penalty)
    overlap_mass : (S, A) ``m = sum_s' P_sim w``, the weight of the sim backup (ones without IS)
    penalty_dist : (S, A) ``d_phi`` at the fixed point (zeros when there is no penalty)
    error_bound : ``residual / (1 - gamma)`` where the operator is a proven gamma-contraction (no penalty), else
        nan
    """

    gap_measure: np.ndarray
    overlap_mass: np.ndarray
    penalty_dist: np.ndarray


# ---------------------------------------------------------------------- exact gap measures
def _kernels(P, P_sim, names=("P", "P_sim")):
    P = as_float_array(P, names[0], ndim=3)
    P_sim = as_float_array(P_sim, names[1], shape=P.shape)
    if P.shape[0] != P.shape[2]:
        raise ValueError(f"{names[0]} has shape {P.shape}, expected (S, A, S)")
    check_distributions(P, names[0])
    check_distributions(P_sim, names[1])
    return P, P_sim


def _log_ratio(P: np.ndarray, P_sim: np.ndarray) -> np.ndarray:
    """``log P - log P_sim`` on the support of ``P_sim`` (0 off it), ``-inf`` where ``P = 0 < P_sim``."""
    with np.errstate(divide="ignore"):
        out = np.where(P_sim > 0, np.log(np.where(P > 0, P, 0.0)) - np.log(np.where(P_sim > 0, P_sim, 1.0)), 0.0)
    return out


@validate_params(low=Real(0.0, None), high=Real(0.0, None))
def kl_gap(P_sim, P, *, low: float = 1e-45, high: float = 10.0) -> np.ndarray:
    """H2O's dynamics-gap measure ``u(s, a) = clip(KL(P_sim(.|s,a) || P(.|s,a)), low, high)``.

    The code estimates ``E_{s' ~ P_sim} log(P_sim / P)`` with 10 noisy next-state samples and clips it to
    ``[1e-45, 10]``; here the expectation is exact. An infinite KL (``P = 0 < P_sim``) is clipped to ``high``.
    """
    P, P_sim = _kernels(P, P_sim, ("P", "P_sim"))
    if low > high:
        raise ValueError(f"low is {low}, expected at most high = {high}")
    kl = -(P_sim * _log_ratio(P, P_sim)).sum(axis=-1)
    return np.clip(np.nan_to_num(kl, posinf=high), low, high)


def tv_gap(P, P_sim) -> np.ndarray:
    """Total variation ``TV(s, a) = 1 - sum_s' min(P, P_sim)(s'|s,a)``: one minus the mass of the overlap kernel."""
    P, P_sim = _kernels(P, P_sim)
    return np.clip(1.0 - np.minimum(P, P_sim).sum(axis=-1), 0.0, 1.0)


def _is_weights(ratio_P: np.ndarray, P_sim: np.ndarray, low: float, high: float) -> np.ndarray:
    """``w(s, a, s') = clip(P / P_sim, low, high)`` (the code's clamp), 0 off the support of ``P_sim``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(P_sim > 0, ratio_P / np.where(P_sim > 0, P_sim, 1.0), 0.0)
    return np.where(P_sim > 0, np.clip(r, low, high), 0.0)


@validate_params(low=Real(0.0, None), high=Real(0.0, None, closed="neither"))
def overlap_kernel(P, P_sim, *, low: float = 1e-5, high: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The kernel H2O's importance-weighted sim backups evaluate under, and its mass.

    ``K = P_sim w / m`` with ``w = clip(P / P_sim, low, high)`` and ``m = sum_s' P_sim w``. With ``low = 0`` and
    ``high = 1``, ``K = min(P, P_sim) / (1 - TV)``: a third MDP, neither ``P`` nor ``P_sim``. Returns ``(K, m)``;
    rows with ``m = 0`` (disjoint supports and ``low = 0``) are ``P_sim``'s, with ``m = 0``.
    """
    P, P_sim = _kernels(P, P_sim)
    if low > high:
        raise ValueError(f"low is {low}, expected at most high = {high}")
    W = P_sim * _is_weights(P, P_sim, low, high)
    m = W.sum(axis=-1)
    K = np.where(m[..., None] > 0, W / np.where(m > 0, m, 1.0)[..., None], P_sim)
    return K, m


@validate_params(data=Instance(CountDataset), smoothing=Real(0.0, None, closed="neither"))
def count_kernel(data: CountDataset, *, smoothing: float = 1.0) -> np.ndarray:
    """The add-``alpha`` estimate ``(C(s, a, s') + alpha) / (N(s, a) + alpha S)`` of a discounted dataset's kernel.

    Its ratio to the simulator's kernel is the likelihood ratio of the Bayes-optimal real-vs-sim classifiers
    ``D_sa``, ``D_sas`` of H2O / DARC (smoothed; unseen pairs get the uniform kernel).
    """
    if data.horizon is not None:
        raise ValueError("data is finite-horizon; H2O's tabular analogue needs discounted data")
    C = np.asarray(data.transition_counts, dtype=np.float64)
    return (C + smoothing) / (C.sum(axis=-1, keepdims=True) + smoothing * data.S)


@validate_params(clip=Real(0.0, None, closed="neither"))
def darc_correction(P, P_sim, *, clip: float = 10.0) -> np.ndarray:
    """DARC's reward correction ``Delta r(s, a, s') = clip(log P(s'|s,a) - log P_sim(s'|s,a), -clip, clip)``.

    Eysenbach, Chaudhari, Asawa, Levine & Salakhutdinov (2021), Eq. 2: the sim reward becomes ``r + Delta r``.
    Unclipped, its expectation under ``P_sim`` is exactly ``-KL(P_sim || P) = -u`` (H2O's gap measure, used as a
    penalty weight instead of a reward shift). ``clip`` (ours; the paper's classifiers give finite logits) keeps
    ``log 0`` finite. Shape ``(S, A, S)``, zero off the support of ``P_sim``.
    """
    P, P_sim = _kernels(P, P_sim)
    return np.where(P_sim > 0, np.clip(_log_ratio(P, P_sim), -clip, clip), 0.0)


# ---------------------------------------------------------------------- the one Bellman core
def _check_sources(real, sim, sim_mu, policy):
    require_unit_scale(check_instance(sim, "sim", TabularMDP, episodic=False), "the sim2real algorithms")
    refuse_masked(sim, "the sim2real learners")  # issue 15: their soft-max backups range over all actions
    S, A = sim.S, sim.A
    if real is not None:
        require_unit_scale(check_instance(real, "real", CountDataset), "the sim2real algorithms")
        if real.horizon is not None or (real.S, real.A) != (S, A) or real.gamma != sim.gamma:
            raise ValueError(f"real has S={real.S}, A={real.A}, gamma={real.gamma}, horizon={real.horizon}; "
                             f"expected discounted data with S={S}, A={A}, gamma={sim.gamma} (the simulator's)")
    if sim_mu is None:
        rho_s = np.full((S, A), 1.0 / (S * A))
    else:
        rho_s = as_float_array(sim_mu, "sim_mu", shape=(S, A))
        check_distributions(rho_s.reshape(-1), "sim_mu")
    pi = None if policy is None else as_probabilities(policy, S, A, name="policy")
    return rho_s, pi


def _real_terms(real, S, A):
    """``rho_r`` (the data's distribution), ``P_hat`` and ``r_hat`` (zeros where unseen)."""
    if real is None or real.n == 0:
        return np.zeros((S, A)), np.zeros((S, A, S)), np.zeros((S, A))
    N = np.asarray(real.counts, dtype=np.float64)
    safe = np.where(N > 0, N, 1.0)
    return N / N.sum(), np.asarray(real.transition_counts) / safe[..., None], np.asarray(real.reward_sums) / safe


def _ratio_kernel(real, sim, ratio, real_mdp, smoothing, unseen):
    """The numerator ``P`` of the ratio ``P / P_sim``: the true real kernel or the smoothed count kernel (on pairs
    without real data: uniform, or the simulator's own kernel, i.e. ratio 1, by ``unseen``)."""
    if ratio == "exact":
        if real_mdp is None:
            raise ValueError("ratio='exact' needs real_mdp, the true real MDP")
        check_instance(real_mdp, "real_mdp", TabularMDP, episodic=False)
        if (real_mdp.S, real_mdp.A) != (sim.S, sim.A):
            raise ValueError(f"real_mdp has S={real_mdp.S}, A={real_mdp.A}, expected the simulator's {sim.S}, {sim.A}")
        return np.asarray(real_mdp.P)
    if real is None:
        raise ValueError("ratio='counts' needs real data")
    K = count_kernel(real, smoothing=smoothing)
    if unseen == "sim":
        unseen_pairs = np.asarray(real.counts) == 0
        K[unseen_pairs] = np.asarray(sim.P)[unseen_pairs]
    return K


def _bellman_core(sim, rho_r, P_r, R_r, rho_s, W, shift, u, beta, temperature, pi, tol, max_iter, on_max_iter,
                  method, constants):  # fmt: skip
    """Iterate (*) to its fixed point. ``W``: ``P_sim w`` (S, A, S); ``shift``: a per-pair sim reward shift."""
    gamma, R_s = sim.gamma, np.asarray(sim.R)
    S, A = R_s.shape
    m = W.sum(axis=-1)
    sim_reward = m * (R_s + shift)  # sum_s' P_sim w (r + shift): rewards and the shift depend on (s, a) only
    denom = rho_r + rho_s * m
    active = denom > 0
    safe = np.where(active, denom, 1.0)
    use_penalty = beta > 0 and u is not None
    if use_penalty:
        with np.errstate(divide="ignore"):
            base = np.where(rho_s > 0, np.log(np.where(rho_s > 0, rho_s, 1.0)) + np.log(u) / temperature, -np.inf)
    Wf, Pf = W.reshape(S * A, S), P_r.reshape(S * A, S)
    def operator(Q):
        V = Q.max(axis=1) if pi is None else (pi * Q).sum(axis=1)
        num = rho_r * (R_r + gamma * (Pf @ V).reshape(S, A)) + rho_s * (sim_reward + gamma * (Wf @ V).reshape(S, A))
        d = np.zeros((S, A))
        if use_penalty:
            logits = base + Q / temperature
            e = np.exp(logits - logits.max())
            d = e / e.sum()
            num = num - 0.5 * beta * (d - rho_r)
        return np.where(active, num / safe, 0.0), d

    Q = np.zeros((S, A))
    step, residual, previous, it, converged = 1.0, np.inf, np.inf, 0, False
    for it in range(1, max_iter + 1):
        FQ, d_phi = operator(Q)
        residual = float(np.max(np.abs(FQ - Q)))
        if residual <= tol:
            converged = True
            break
        if residual > previous:  # the penalty's softmax can make the plain iteration cycle: relax it
            step = max(0.5 * step, MIN_STEP)
        previous = residual
        Q = Q + step * (FQ - Q)
    if not converged:
        stop_at_max_iter(on_max_iter, method, max_iter, f"fixed-point residual {residual:.3e} > tol {tol:.1e}")
    V = Q.max(axis=1) if pi is None else (pi * Q).sum(axis=1)
    # ||Q - Q*|| <= ||Q - F Q|| / (1 - gamma) for a gamma-contraction F (no penalty); no proven bound otherwise
    bound = residual / (1.0 - gamma) if not use_penalty else float("nan")
    constants = {**constants, "final_step": step}
    return Sim2RealResult(
        policy=np.argmax(Q if pi is None else pi, axis=1), V=V, Q=Q, method=method, constants=constants,
        iterations=it, residual=residual, error_bound=bound, converged=converged,
        gap_measure=np.zeros((S, A)) if u is None else u, overlap_mass=m, penalty_dist=d_phi,
    )


_COMMON = {"tol": Real(0.0, None, closed="neither"), "max_iter": Integer(1), "on_max_iter": Options(ON_MAX_ITER)}


@validate_params(real=Instance(CountDataset), sim=Instance(TabularMDP), ratio=Options(("counts", "exact")),
                 real_mdp=Instance(TabularMDP, optional=True), use_is=Boolean(), use_penalty=Boolean(),
                 beta=Real(0.0, None), is_low=Real(0.0, 1.0), is_high=Real(0.0, None, closed="neither"),
                 gap_low=Real(0.0, None, closed="neither"), gap_high=Real(0.0, None, closed="neither"),
                 temperature=Real(0.0, None, closed="neither"), smoothing=Real(0.0, None, closed="neither"),
                 unseen=Options(UNSEEN), **_COMMON)  # fmt: skip
def dynamics_aware_h2o(
    real: CountDataset,
    sim: TabularMDP,
    *,
    sim_mu=None,
    ratio: str = "counts",
    real_mdp: TabularMDP | None = None,
    use_is: bool = True,
    use_penalty: bool = True,
    beta: float = 0.01,
    is_low: float = 1e-5,
    is_high: float = 1.0,
    gap_low: float = 1e-45,
    gap_high: float = 10.0,
    temperature: float = 1.0,
    smoothing: float = 1.0,
    unseen: str = "uniform",
    policy=None,
    tol: float = 1e-9,
    max_iter: int = 100_000,
    on_max_iter: str = "raise",
) -> Sim2RealResult:
    """H2O (Niu et al. 2022), tabular: the fixed point (*) of the module docstring, with its switches.

    Not :func:`theory_rl.algorithms.glow.h2o`, Amortila et al. (2024)'s hybrid-to-offline reduction.

    Parameters
    ----------
    real : CountDataset
        The real offline data (discounted, same ``S``, ``A``, ``gamma`` as ``sim``); it may be empty.
    sim : TabularMDP
        The simulator (its exact kernel and rewards: a sim buffer in the limit of unlimited queries).
    sim_mu : (S, A) distribution, optional
        The sim buffer's state-action distribution ``rho_s``; uniform by default.
    ratio : {"counts", "exact"}
        Where ``P / P_sim`` comes from: the smoothed real counts (what the classifiers estimate) or ``real_mdp``.
    real_mdp : TabularMDP, optional
        The true real MDP, needed by ``ratio="exact"``.
    use_is, use_penalty : bool
        H2O's two mechanisms: the importance weights on the sim backups and the dynamics-aware penalty.
    beta : float, default 0.01
        ``cql_min_q_weight``.
    is_low, is_high : float, default 1e-5 and 1
        The clip of the importance weights.
    gap_low, gap_high : float, default 1e-45 and 10
        The clip of the gap measure ``u``.
    temperature : float, default 1
        ``cql_temp``.
    smoothing : float, default 1
        ``alpha`` of the count kernel (``ratio="counts"`` only; ours, not the paper's).
    unseen : {"uniform", "sim"}
        ``ratio="counts"`` on pairs without real data, where the Bayes classifier's ratio is 0/0 (ours): the
        smoothed kernel is uniform there (a large gap ``u``: pessimism where the real data are missing), or
        ``"sim"``, ratio 1 (no evidence of a gap: trust the simulator).
    policy : actions (S,) or probabilities (S, A), optional
        Evaluate this policy's fixed point instead of the greedy one.
    tol, max_iter, on_max_iter
        Stop when the fixed-point residual ``max |F(Q) - Q| <= tol``; ``max_iter`` reached raises (or warns).
    """
    rho_s, pi = _check_sources(real, sim, sim_mu, policy)
    if is_low > is_high:
        raise ValueError(f"is_low is {is_low}, expected at most is_high = {is_high}")
    if gap_low > gap_high:
        raise ValueError(f"gap_low is {gap_low}, expected at most gap_high = {gap_high}")
    S, A = sim.S, sim.A
    rho_r, P_r, R_r = _real_terms(real, S, A)
    P_ratio = _ratio_kernel(real, sim, ratio, real_mdp, smoothing, unseen) if (use_is or use_penalty) else None
    P_s = np.asarray(sim.P)
    W = P_s * _is_weights(P_ratio, P_s, is_low, is_high) if use_is else P_s
    u = kl_gap(P_s, P_ratio, low=gap_low, high=gap_high) if use_penalty else None
    constants = {"ratio": ratio, "use_is": use_is, "use_penalty": use_penalty, "beta": beta,
                 "is_clip": [is_low, is_high], "gap_clip": [gap_low, gap_high], "temperature": temperature,
                 "smoothing": smoothing, "unseen": unseen, "n_real": 0 if real is None else real.n}  # fmt: skip
    return _bellman_core(sim, rho_r, P_r, R_r, rho_s, W, np.zeros((S, A)), u, beta if use_penalty else 0.0,
                         temperature, pi, tol, max_iter, on_max_iter, "h2o_sim2real", constants)  # fmt: skip


@validate_params(sim=Instance(TabularMDP), **_COMMON)
def sim_only(sim: TabularMDP, *, sim_mu=None, policy=None, tol: float = 1e-9, max_iter: int = 100_000,
             on_max_iter: str = "raise") -> Sim2RealResult:  # fmt: skip
    """Plan in the simulator: the core with no real data, ``w = 1`` and no penalty (value iteration in ``P_sim``
    on the support of ``sim_mu``; the policy is then evaluated in the real MDP by the caller)."""
    rho_s, pi = _check_sources(None, sim, sim_mu, policy)
    S, A = sim.S, sim.A
    z = np.zeros((S, A))
    return _bellman_core(sim, z, np.zeros((S, A, S)), z, rho_s, np.asarray(sim.P), z, None, 0.0, 1.0, pi, tol,
                         max_iter, on_max_iter, "sim_only", {})  # fmt: skip


@validate_params(real=Instance(CountDataset), sim=Instance(TabularMDP), **_COMMON)
def naive_mixing(real: CountDataset, sim: TabularMDP, *, sim_mu=None, policy=None, tol: float = 1e-9,
                 max_iter: int = 100_000, on_max_iter: str = "raise") -> Sim2RealResult:  # fmt: skip
    """Fitted Q-iteration on real plus sim data, half and half, with no correction: the core with ``w = 1`` and no
    penalty. Its fixed point backs up ``(rho_r P_hat + rho_s P_sim) / (rho_r + rho_s)``: biased toward ``P_sim``
    wherever the sim data outweigh the real data."""
    rho_s, pi = _check_sources(real, sim, sim_mu, policy)
    S, A = sim.S, sim.A
    rho_r, P_r, R_r = _real_terms(real, S, A)
    return _bellman_core(sim, rho_r, P_r, R_r, rho_s, np.asarray(sim.P), np.zeros((S, A)), None, 0.0, 1.0, pi, tol,
                         max_iter, on_max_iter, "naive_mixing", {"n_real": real.n})  # fmt: skip


@validate_params(real=Instance(CountDataset), sim=Instance(TabularMDP), ratio=Options(("counts", "exact")),
                 real_mdp=Instance(TabularMDP, optional=True), smoothing=Real(0.0, None, closed="neither"),
                 unseen=Options(UNSEEN), clip=Real(0.0, None, closed="neither"), **_COMMON)  # fmt: skip
def darc(real: CountDataset, sim: TabularMDP, *, sim_mu=None, ratio: str = "counts",
         real_mdp: TabularMDP | None = None, smoothing: float = 1.0, unseen: str = "uniform", clip: float = 10.0,
         policy=None,
         tol: float = 1e-9, max_iter: int = 100_000, on_max_iter: str = "raise") -> Sim2RealResult:  # fmt: skip
    """DARC (Eysenbach et al. 2021): RL in the simulator with rewards ``r + Delta r`` (:func:`darc_correction`);
    the real data serve only to estimate the ratio (``ratio="counts"``). The core with no real data, ``w = 1``,
    no penalty and the per-pair shift ``E_{P_sim} Delta r`` (``= -KL(P_sim || P)`` unclipped)."""
    rho_s, pi = _check_sources(real, sim, sim_mu, policy)
    S, A = sim.S, sim.A
    P_s = np.asarray(sim.P)
    K = _ratio_kernel(real, sim, ratio, real_mdp, smoothing, unseen)
    shift = (P_s * darc_correction(K, P_s, clip=clip)).sum(axis=-1)
    z = np.zeros((S, A))
    constants = {"ratio": ratio, "smoothing": smoothing, "unseen": unseen, "clip": clip, "n_real": real.n}
    return _bellman_core(sim, z, np.zeros((S, A, S)), z, rho_s, P_s, shift, None, 0.0, 1.0, pi, tol, max_iter,
                         on_max_iter, "darc", constants)  # fmt: skip


@validate_params(real=Instance(CountDataset), sim=Instance(TabularMDP), rounds=Integer(1), episodes=Integer(1),
                 n_steps=Integer(1), epsilon=Real(0.0, 1.0), capacity=Integer(1, optional=True))  # fmt: skip
def h2o_onpolicy_sim(real: CountDataset, sim: TabularMDP, *, seed: SeedLike, rounds: int = 10, episodes: int = 20,
                     n_steps: int = 20, epsilon: float = 0.1, capacity: int | None = None,
                     **h2o_kwargs) -> Sim2RealResult:  # fmt: skip
    """H2O with the sim buffer filled on-policy, as in the official code's loop (each epoch: sim steps with the
    current policy, then critic updates on the FIFO buffer).

    Round 1 rolls out the uniform policy in ``sim`` (the code starts from a random policy); every round then
    solves :func:`dynamics_aware_h2o` with ``sim_mu`` the buffer's state-action distribution and rolls out the
    ``epsilon``-greedy policy of its fixed point (``epsilon``: the exploration of SAC's stochastic actor, ours)
    for the next round's ``episodes`` episodes of ``n_steps`` steps (from ``sim``'s start distribution,
    :class:`~theory_rl.data.RolloutSampler`). The buffer keeps the last ``capacity`` pairs: default ten times the
    real data (the code's ``replaybuffer_ratio = 10``), or everything when there are no real data.
    ``h2o_kwargs`` go to :func:`dynamics_aware_h2o` (not ``sim_mu``, ``policy``). Returns the last round's fixed
    point; ``constants["sim_mu"]`` is the buffer distribution it used and ``constants["sim_pairs"]`` its size.
    """
    if "sim_mu" in h2o_kwargs or "policy" in h2o_kwargs:
        raise ValueError("h2o_onpolicy_sim fills sim_mu itself and solves for the greedy policy; drop sim_mu/policy")
    _check_sources(real, sim, None, None)
    check_table("the sim rollouts per round", (episodes, n_steps + 1), ("episodes", "n_steps + 1"), itemsize=24)
    check_table("the sim pairs of all rounds", (rounds, episodes, n_steps), ("rounds", "episodes", "n_steps"))
    S, A = sim.S, sim.A
    if capacity is None:
        capacity = 10 * real.n if real.n > 0 else None
    rng = as_generator(seed)
    sampler = RolloutSampler(sim, n_steps=n_steps)
    pairs = np.empty(0, dtype=np.int64)
    policy = np.full((S, A), 1.0 / A)
    res = None
    for _ in range(rounds):
        roll = sampler.sample(policy, episodes, rng)
        new = (np.asarray(roll.states)[:, :n_steps] * A + np.asarray(roll.actions)).reshape(-1)
        pairs = np.concatenate([pairs, new])
        if capacity is not None:
            pairs = pairs[-capacity:]  # FIFO: the oldest pairs leave first
        sim_mu = np.bincount(pairs, minlength=S * A).reshape(S, A) / pairs.size
        res = dynamics_aware_h2o(real, sim, sim_mu=sim_mu, **h2o_kwargs)
        policy = epsilon_mixture(res.policy, epsilon, S, A)
    constants = {**res.constants, "sim_data": "on-policy", "rounds": rounds, "episodes": episodes,
                 "n_steps": n_steps, "epsilon": epsilon, "capacity": capacity, "sim_pairs": int(pairs.size),
                 "sim_mu": tuple(map(tuple, sim_mu.tolist()))}  # fmt: skip
    return Sim2RealResult(policy=res.policy, V=res.V, Q=res.Q, method="h2o_sim2real_onpolicy", constants=constants,
                          iterations=res.iterations, residual=res.residual, error_bound=res.error_bound,
                          converged=res.converged, gap_measure=res.gap_measure, overlap_mass=res.overlap_mass,
                          penalty_dist=res.penalty_dist)  # fmt: skip

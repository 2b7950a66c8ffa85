"""PEDEL (online) and FTPedel (offline + online) policy identification in linear MDPs.

- PEDEL: Wagenmaker & Jamieson (2022), "Instance-Dependent Near-Optimal Policy Identification in Linear MDPs via
  Online Experiment Design", NeurIPS, arXiv 2207.02575, Algorithm 1.
- FTPedel: Wagenmaker & Pacchiano (2023), "Leveraging Offline Data in Online Reinforcement Learning", ICML,
  arXiv 2211.04974: PEDEL with the offline covariance ``Lambda_off,h`` added to the design and the regressions.

What is implemented (per epoch l, ``eps_l = 2^-l``, ``beta_l = beta_scale * 36 H^4 log(4 H^2 |Pi_l| l^2 / delta)``):
for ``h = 0..H-1`` collect fresh online data until
``max_{pi in Pi_l} ||phi_hat_{pi,h}||^2_{(Lambda_on + Lambda_off,h + lam I)^{-1}} <= eps_l^2 / beta_l``;
``theta_hat_h`` by ridge regression on online + offline step-h data;
``phi_hat_{pi,h+1} = (sum_tau phi_{pi,h+1}(s'_tau) phi_tau^T) Lambda_hat_h^{-1} phi_hat_{pi,h}``;
``V_hat^pi = sum_h <phi_hat_{pi,h}, theta_hat_h>``; keep pi with ``V_hat^pi >= max V_hat - 2 eps_l``.

Stand-ins and choices (documented deviations):

- OptCov's regret minimiser (FORCE) is replaced by exact planning on the known model (default): the Frank-Wolfe
  design of :func:`theory_rl.algorithms.design.reachable_design` returns a mixture of deterministic policies that
  is played; or by LSVI-UCB (``explorer="lsvi_ucb"``) run on the Frank-Wolfe rewards, which needs no model.
- OptCov's doubling over ``K_i = 2^i``: each round computes the smoothed design for the current episode budget,
  plays ``K`` = the number of episodes the design needs to meet the target (a plug-in estimate), and doubles
  the budget if the realised covariance falls short. Smoothing ``eta_i = 2^{2 i / 5}`` on targets normalised so
  that the stopping condition reads ``f <= 1`` (``i`` = log2 of the budget).
- FTPedel's own constants are unverified (papers/ftpedel.md): ``beta_scale`` defaults to PEDEL's 36 (x 1).
- Ridge ``lam = 1`` in the regressions (PEDEL's are unregularised; FTPedel's digest has ``+ lambda I``).
- The policy class is finite and given; by default every deterministic policy, deduplicated by the exact
  ``phi_{pi,h}`` (policies differing only on unreachable states are one policy). The deduplication and the
  planning step read the model; the regressions, the estimates and the elimination read only data and features.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass

import numpy as np

from theory_rl._random import as_generator
from theory_rl._validation import (
    Instance,
    Integer,
    Options,
    Real,
    as_index_array,
    check_on_max_iter,
    validate_params,
)
from theory_rl.algorithms.design import reachable_design
from theory_rl.data import CountDataset, CountsBuilder, sample_policy_counts
from theory_rl.linear import (
    LINEAR_MODELS,
    FactoredLinearMDP,
    LatentSampler,
    LinearMDP,
    all_deterministic_policies,
    best_response,
    feature_covariance,
    policy_covariances,
    policy_features,
)
from theory_rl.results import ConvergenceWarning, IterativeResult, stop_at_max_iter

__all__ = ["FTPedelResult", "distinct_policies", "ftpedel", "pedel"]


@dataclass(frozen=True, kw_only=True, repr=False)
class FTPedelResult(IterativeResult):
    """Output of :func:`ftpedel` (the shared :class:`~theory_rl.results.IterativeResult` vocabulary).

    Attributes
    ----------
    policy : numpy.ndarray
        The returned deterministic policy (H, S).
    V, Q : None
        FTPedel estimates policy values, not value functions: see ``epochs`` for ``V_hat`` per epoch.
    method : str
        ``"ftpedel"`` or ``"pedel"``.
    constants : dict
        ``eps``, ``delta``, ``beta_scale``, ``lam``, ``l0``, ``explorer``, ...
    iterations : int
        Epochs run. ``residual`` and ``error_bound`` are nan (the guarantee is eps-optimality with probability
        ``1 - delta``, not a certificate); ``converged`` is False only when a data collection stopped at
        ``max_rounds`` with ``on_max_iter="warn"``.
    policy_index : int
        Its index in ``policies``.
    active : numpy.ndarray
        Indices of the policies that survived the last epoch.
    episodes_per_step : numpy.ndarray
        Online episodes collected for each step h, summed over epochs (H,).
    episodes : int
        Total online episodes.
    epochs : list of dict
        Per epoch: ``eps_l``, ``beta_l``, ``n_active``, ``episodes`` (H,), ``V_hat`` of the active policies, and
        ``designs_unconverged``: how many Frank-Wolfe designs (``explorer="plan"``) stopped at ``fw_iter`` before
        their gap tolerance (harmless for correctness: the collected data are checked directly; see ``_collect``).
    policies : numpy.ndarray
        The policy class used (n, H, S).
    """

    policy_index: int
    active: np.ndarray
    episodes_per_step: np.ndarray
    episodes: int
    epochs: list
    policies: np.ndarray


def _policy_class(lmdp: LinearMDP, policies) -> np.ndarray:
    pols = np.asarray(policies)
    if pols.ndim != 3 or pols.shape[1:] != (lmdp.H, lmdp.S) or pols.shape[0] == 0:
        raise ValueError(f"policies has shape {pols.shape}, expected (n, H, S) = (n, {lmdp.H}, {lmdp.S}), n >= 1")
    return as_index_array(pols, "policies", lmdp.A, ndim=3)


@validate_params(lmdp=Instance(LINEAR_MODELS))
def distinct_policies(lmdp: LinearMDP, policies=None) -> np.ndarray:
    """Deterministic policies with pairwise distinct ``(phi_{pi,h})_h`` (one representative per class, the first)."""
    pols = all_deterministic_policies(lmdp) if policies is None else _policy_class(lmdp, policies)
    feats = np.stack([policy_features(lmdp, p).ravel() for p in pols])
    _, first = np.unique(np.round(feats, 12), axis=0, return_index=True)
    return pols[np.sort(first)]


def _max_norm(X, M) -> float:
    return float(np.max(np.einsum("nd,nd->n", X @ np.linalg.inv(M), X)))


def _episodes_needed(X, Lam, A0) -> float:
    """Smallest K with ``max_x ||x||^2_{(K Lam + A0)^{-1}} <= 1`` (geometric bisection; inf if unreachable)."""
    if _max_norm(X, A0) <= 1:
        return 0.0
    hi = 1.0
    while _max_norm(X, hi * Lam + A0) > 1:
        hi *= 2
        if hi > 1e15:
            return math.inf
    lo = hi / 2
    while hi - lo > max(1.0, 1e-3 * hi):
        mid = (lo + hi) / 2
        if _max_norm(X, mid * Lam + A0) <= 1:
            hi = mid
        else:
            lo = mid
    return hi


def _policy_counts(lmdp, support, weights, K: int, rng) -> CountDataset:
    """Counts of ``K`` episodes of the mixture ``(support, weights)`` (one policy drawn per episode).

    Dense model: the data layer's :func:`theory_rl.data.sample_policy_counts`. Factored model (issue 15): the
    latent sampler of :class:`theory_rl.linear.LatentSampler` (no (S A, S) alias tables), episodes per policy
    from one multinomial draw, counted by :class:`theory_rl.data.CountsBuilder`. Same law, different streams.
    """
    if not isinstance(lmdp, FactoredLinearMDP):
        return sample_policy_counts(lmdp, support, K, rng, weights=weights)
    builder = CountsBuilder(lmdp.S, lmdp.A, horizon=lmdp.H)
    sampler = LatentSampler(lmdp)
    for pol, n in zip(support, rng.multinomial(K, np.asarray(weights) / np.sum(weights)), strict=True):
        if n:
            builder.add_episode(*sampler.rollouts(pol, int(n), rng))
    return builder.to_counts()


class _StepData:
    """The step-h transition counts (S, A, S) and reward sums (S, A) of one collection (the rest is discarded)."""

    def __init__(self, lmdp: LinearMDP, h: int) -> None:
        self.h = h
        self.C = np.zeros((lmdp.S, lmdp.A, lmdp.S), np.int64)
        self.R = np.zeros((lmdp.S, lmdp.A))

    def add(self, new: CountDataset) -> np.ndarray:
        """Add the step-h part of ``new``; returns its visit counts (S, A)."""
        self.C += new.transition_counts[self.h]
        self.R += new.reward_sums[self.h]
        return new.counts[self.h]


def _collect(lmdp, h, X, A0, rng, *, k0, max_rounds, fw_iter, on_max_iter):
    """OptCov-style collection at step h until ``max_x ||x||^2_{A^{-1}} <= 1`` (X already normalised)."""
    data = _StepData(lmdp, h)
    phi = lmdp.stage_phi[h]
    A_cur = A0.copy()
    episodes = 0
    unconverged = 0
    budget = float(k0)
    # A covering mixture (one best response per coordinate direction), mixed in with weight `floor` so that a
    # design stuck on a face of Omega_h still spans every reachable direction.
    cover = np.stack([best_response(lmdp, h, phi[..., i] ** 2) for i in range(lmdp.d)])
    floor = 0.02
    for _ in range(max_rounds):
        if _max_norm(X, A_cur) <= 1:
            return data, episodes, unconverged
        for _refine in range(2):  # design for the budget, then for the plug-in number of episodes it needs
            eta = 2.0 ** (2.0 * max(math.log2(budget), 0.0) / 5.0)
            # The design is only a proposal: the plug-in count `need` below and this loop's own check
            # max_x ||x||^2_{A^-1} <= 1 certify the collected data, so a Frank-Wolfe run capped at fw_iter
            # (the usual case at these budgets) costs episodes, not correctness. Its warning is therefore
            # silenced here, and the capped designs are counted in the epoch record ("designs_unconverged").
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="reachable_design did not converge",
                                        category=ConvergenceWarning)
                des = reachable_design(lmdp, h, X, scale=budget, A0=A_cur, eta=eta, max_iter=fw_iter, tol=1e-3,
                                       on_max_iter="warn")
            unconverged += not des.converged
            support = np.concatenate([des.support, cover])
            weights = np.concatenate([(1 - floor) * des.weights, np.full(len(cover), floor / len(cover))])
            Lam = sum(w * policy_covariances(lmdp, q)[h] for w, q in zip(weights, support, strict=True))
            need = _episodes_needed(X, Lam, A_cur)
            if not math.isfinite(need):
                raise ValueError(f"the targets at step {h} are not in the span of the reachable covariances")
            budget = max(budget, need)
        K = max(math.ceil(need), 1)
        n_sa = data.add(_policy_counts(lmdp, support, weights, K, rng))
        A_cur = A_cur + feature_covariance(n_sa, phi)
        episodes += K
        budget = max(2.0 * budget, 2.0 * K)
    if _max_norm(X, A_cur) > 1:  # the last round's data may have met the target
        stop_at_max_iter(on_max_iter, "ftpedel data collection", max_rounds,
                         f"step {h}: max ||x||^2 = {_max_norm(X, A_cur):.6g} > 1 after {max_rounds} rounds")
    return data, episodes, unconverged


def _collect_lsvi_ucb(lmdp, h, X, A0, rng, *, k0, max_rounds, fw_steps, bonus_scale, on_max_iter):
    """Collection with LSVI-UCB as the regret minimiser: no model knowledge beyond the features.

    Round i has a budget of ``k0 2^i`` episodes split over ``fw_steps`` Frank-Wolfe steps; each step computes the
    gradient of the smoothed objective at the covariance collected so far and runs LSVI-UCB (known reward
    ``g(s, a) = phi_h^T (-grad) phi_h`` at step h, scaled to [0, 1]) for its share of episodes, keeping the step-h
    data (PEDEL's data-collection routine, Wagenmaker & Jamieson 2022, Alg. 2, with LSVI-UCB in place of FORCE).
    """
    from theory_rl.algorithms.design import design_objective
    from theory_rl.algorithms.linear import lsvi_ucb

    H, S, A = lmdp.H, lmdp.S, lmdp.A
    data = _StepData(lmdp, h)
    phi = lmdp.stage_phi[h]
    A_cur = A0.copy()
    episodes = 0
    for i in range(max_rounds):
        budget = k0 * 2 ** i
        eta = 2.0 ** (2.0 * math.log2(budget) / 5.0)
        for _ in range(fw_steps):
            if _max_norm(X, A_cur) <= 1:
                return data, episodes
            _, G = design_objective(A_cur, X, eta)
            g = np.maximum(np.einsum("sad,de,sae->sa", phi, -G, phi), 0.0)
            reward = np.zeros((H, S, A))
            reward[h] = g / g.max() if g.max() > 0 else g
            K = max(budget // fw_steps, 1)
            run = lsvi_ucb(lmdp, K, seed=rng, reward=reward, bonus_scale=bonus_scale, track_values=False)
            n_sa = data.add(run.data)
            A_cur = A_cur + feature_covariance(n_sa, phi)
            episodes += K
    if _max_norm(X, A_cur) <= 1:
        return data, episodes
    stop_at_max_iter(on_max_iter, "ftpedel data collection (LSVI-UCB explorer)", max_rounds,
                     f"step {h}: max ||x||^2 = {_max_norm(X, A_cur):.6g} > 1 after {max_rounds} rounds")
    return data, episodes


@validate_params(lmdp=Instance(LINEAR_MODELS), eps=Real(0.0, 1.0, closed="neither"),
                 delta=Real(0.0, 1.0, closed="neither"), offline=Instance(CountDataset, optional=True),
                 beta_scale=Real(0.0, closed="neither"), lam=Real(0.0, closed="neither"),
                 l0=Integer(1, 62, optional=True), k0=Integer(1, 10**9), max_rounds=Integer(1, 10**4),
                 fw_iter=Integer(1, 10**6), explorer=Options(("plan", "lsvi_ucb")),
                 lsvi_bonus_scale=Real(0.0), fw_steps=Integer(1, 10**4))
def ftpedel(lmdp: LinearMDP, eps: float, delta: float, *, seed, offline: CountDataset | None = None, policies=None,
            beta_scale: float = 1.0, lam: float = 1.0, l0: int | None = None, k0: int = 16, max_rounds: int = 40,
            fw_iter: int = 60, explorer: str = "plan", lsvi_bonus_scale: float = 1.0,
            fw_steps: int = 4, on_max_iter: str = "raise") -> FTPedelResult:
    """FTPedel (Wagenmaker & Pacchiano 2023) / PEDEL (``offline=None``; Wagenmaker & Jamieson 2022, Alg. 1).

    Parameters
    ----------
    lmdp : LinearMDP or FactoredLinearMDP
        The environment; the learner uses its features, initial distribution and (planning stand-in) dynamics for
        the design, and only sampled data for the estimates. A factored model (issue 15) is planned through its
        factors and sampled by its latent sampler (``explorer="plan"`` only).
    eps, delta : float
        Accuracy and confidence: the returned policy is eps-optimal in the class with probability >= 1 - delta.
    seed : int, SeedSequence or Generator
    offline : CountDataset, optional
        Offline data (sufficient statistics, finite horizon H: the ONE counts record, e.g. from
        :func:`theory_rl.data.sample_generative`); None for PEDEL.
    policies : array_like (n, H, S), optional
        Finite class Pi (default :func:`distinct_policies`).
    beta_scale : float, default 1
        Multiplies PEDEL's ``beta_l = 36 H^4 log(4 H^2 |Pi_l| l^2 / delta)``.
    lam : float, default 1
        Ridge parameter of the regressions and the design.
    l0 : int, optional
        First epoch (PEDEL: ``ceil(log2(d^{3/2} / H))``, at least 1).
    k0, max_rounds, fw_iter
        First episode budget of a collection, its maximal number of rounds, and Frank-Wolfe iterations per design.
    explorer : {"plan", "lsvi_ucb"}, default "plan"
        The regret minimiser standing in for FORCE: exact planning on the known model (Frank-Wolfe design, then
        its mixture is played; fast at any scale), or LSVI-UCB on the design rewards (uses only features and data;
        one Python step per episode, so practical up to ~1e5 episodes, e.g. with a small ``beta_scale``).
    lsvi_bonus_scale, fw_steps
        LSVI-UCB's bonus scale and the Frank-Wolfe steps per doubling round (``explorer="lsvi_ucb"`` only).
    on_max_iter : {"raise", "warn"}, default "raise"
        When a data collection misses its target in ``max_rounds`` rounds (the shared rule,
        :func:`theory_rl.results.stop_at_max_iter`): raise :class:`~theory_rl.results.ConvergenceError`, or warn
        and go on with the data collected (the result then says ``converged=False``).

    Returns
    -------
    FTPedelResult
    """
    check_on_max_iter(on_max_iter)
    if explorer == "lsvi_ucb" and isinstance(lmdp, FactoredLinearMDP):
        raise ValueError("explorer='lsvi_ucb' runs the count-based LSVI-UCB of a dense LinearMDP; pass "
                         "lmdp.to_linear() or explorer='plan' for a FactoredLinearMDP")
    rng = as_generator(seed)
    H, S, A, d = lmdp.H, lmdp.S, lmdp.A, lmdp.d
    pols = distinct_policies(lmdp) if policies is None else _policy_class(lmdp, policies)
    if offline is None:
        off_n, off_C, off_R = np.zeros((H, S, A)), np.zeros((H, S, A, S)), np.zeros((H, S, A))
    elif offline.transition_counts.shape != (H, S, A, S):
        raise ValueError(f"offline has transition counts of shape {offline.transition_counts.shape}, expected "
                         f"({H}, {S}, {A}, {S}) (a finite-horizon CountDataset of the model's H, S, A)")
    else:
        off_n, off_C, off_R = offline.counts, offline.transition_counts, offline.reward_sums
    phi = lmdp.stage_phi
    steps = np.arange(H)[None, :, None]
    phipol = phi[steps, np.arange(S)[None, None, :], pols]  # (n, H, S, d): phi_h(s, pi_h(s))
    L = math.ceil(math.log2(4.0 / eps))
    l_start = max(1, math.ceil(math.log2(d ** 1.5 / H))) if l0 is None else int(l0)
    active = np.arange(len(pols))
    per_step = np.zeros(H, dtype=np.int64)
    history = []
    Vhat = np.zeros(len(active))
    met = True
    for ell in range(l_start, max(L, l_start) + 1):
        if len(active) == 1:
            break
        eps_l = 2.0 ** -ell
        beta_l = beta_scale * 36 * H ** 4 * math.log(4 * H ** 2 * len(active) * ell ** 2 / delta)
        scale = math.sqrt(beta_l) / eps_l  # normalised targets: the condition reads max ||x||^2 <= 1
        phihat = np.zeros((len(active), H, d))
        phihat[:, 0] = np.einsum("s,nsd->nd", lmdp.init, phipol[active, 0])
        theta = np.zeros((H, d))
        eps_steps = np.zeros(H, dtype=np.int64)
        designs_unconverged = 0
        for h in range(H):
            Loff = feature_covariance(off_n[h], phi[h]) + lam * np.eye(d)
            X = np.unique(np.round(phihat[:, h] * scale, 12), axis=0)
            if explorer == "plan":
                data, n_ep, n_unconv = _collect(lmdp, h, X, Loff, rng, k0=k0, max_rounds=max_rounds,
                                                fw_iter=fw_iter, on_max_iter=on_max_iter)
                designs_unconverged += n_unconv
            else:
                data, n_ep = _collect_lsvi_ucb(lmdp, h, X, Loff, rng, k0=k0, max_rounds=max_rounds,
                                               fw_steps=fw_steps, bonus_scale=lsvi_bonus_scale,
                                               on_max_iter=on_max_iter)
            met = met and _max_norm(X, Loff + feature_covariance(data.C.sum(axis=-1), phi[h])) <= 1
            eps_steps[h] = n_ep
            N = off_C[h] + data.C
            Rs = off_R[h] + data.R
            Lam = feature_covariance(N.sum(axis=-1), phi[h]) + lam * np.eye(d)
            Lam_inv = np.linalg.inv(Lam)
            theta[h] = Lam_inv @ np.einsum("sad,sa->d", phi[h], Rs)
            if h + 1 < H:
                c = np.einsum("sad,dn->nsa", phi[h], Lam_inv @ phihat[:, h].T)
                w_next = np.einsum("sat,nsa->nt", N, c)
                phihat[:, h + 1] = np.einsum("nt,ntd->nd", w_next, phipol[active, h + 1])
        Vhat = np.einsum("nhd,hd->n", phihat, theta)
        per_step += eps_steps
        history.append({"eps_l": eps_l, "beta_l": beta_l, "n_active": int(len(active)), "episodes": eps_steps,
                        "V_hat": Vhat.copy(), "designs_unconverged": designs_unconverged})
        keep = Vhat >= Vhat.max() - 2 * eps_l
        active, Vhat = active[keep], Vhat[keep]
    best = int(active[int(np.argmax(Vhat))]) if len(Vhat) == len(active) else int(active[0])
    constants = {"eps": eps, "delta": delta, "beta_scale": beta_scale, "lam": lam, "l0": l_start, "k0": k0,
                 "max_rounds": max_rounds, "fw_iter": fw_iter, "explorer": explorer}
    return FTPedelResult(policy=pols[best], method="ftpedel", constants=constants, iterations=len(history),
                         converged=met, policy_index=best, active=active, episodes_per_step=per_step,
                         episodes=int(per_step.sum()), epochs=history, policies=pols)


def pedel(lmdp: LinearMDP, eps: float, delta: float, *, seed, **kwargs) -> FTPedelResult:
    """PEDEL (Wagenmaker & Jamieson 2022, Alg. 1): :func:`ftpedel` without offline data."""
    if "offline" in kwargs:
        raise ValueError("pedel takes no offline data; use ftpedel")
    return dataclasses.replace(ftpedel(lmdp, eps, delta, seed=seed, **kwargs), method="pedel")

"""Truncated-rollout fitted Q-iteration: the exact tabular analogue of the edge-of-reach problem.

Sims, Lu, Foerster, Teh (2024), "The Edge-of-Reach Problem in Offline Model-Based Reinforcement Learning",
arXiv 2402.12527. Model-based offline RL (MBPO-style) fits Q only on states reached by k-step model rollouts from
the dataset (within reach, ``W_k``), but bootstraps from the states reached at step k. States in the edge-of-reach
set ``E_k`` (Definition 1) are targets and never inputs, so their values stay at the initialisation ("the void")
and the error propagates back with factor ``gamma^(k - t)`` (Proposition 1).

Tabular regression of a Q-table on a buffer is exact: ``Q(s, a)`` becomes the mean target of the buffer's
``(s, a)`` transitions, and every pair outside the buffer keeps its initial value. In *support* mode the buffer is
every pair with ``s in W_k`` and the expected target is used (the limit of infinitely many rollouts, except for
the ``"terminal"`` variant, whose two modes follow different rules: see ``VARIANTS``); in *sampled*
mode (MBPO-style) each epoch adds ``n_rollouts`` epsilon-greedy rollouts of length k to a replay buffer and Q is
refitted to the empirical mean targets of the whole buffer. The rollouts of an epoch are drawn in one call of the
shared rollout sampler (:class:`theory_rl.data.RolloutSampler`, on the rollout model, starts uniform on the
dataset's start states).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from theory_rl._random import SeedLike, as_generator
from theory_rl._validation import (
    ON_MAX_ITER,
    Instance,
    Integer,
    Options,
    Real,
    as_float_array,
    check_distributions,
    check_positive_int,
    check_table,
    validate_params,
)
from theory_rl.algorithms.edge_of_reach._reach import ATOL, ReachSets, reach_diameter, reach_sets, start_mask
from theory_rl.data import RolloutSampler
from theory_rl.feasibility import refuse_masked
from theory_rl.mdp import TabularMDP
from theory_rl.planning import expected_return, solve
from theory_rl.results import IterativeResult, stop_at_max_iter
from theory_rl.scales import require_unit_scale

__all__ = ["VARIANTS", "MODES", "EdgeOfReachResult", "void_values", "truncated_fqi", "boundary_value_q"]

#: Variants of the learner.
#:
#: - ``"base"``: MBPO-style FQI; targets bootstrap from ``max_a' Q(s', a')`` everywhere (truncation correctly
#:   not a terminal), so E_k contributes its unfitted initial values.
#: - ``"oracle_patch"``: Base-OraclePatch, targets use the true ``Q*(s', a')`` at every pair that is not a
#:   Bellman input (Section 4 / Fig. 2c). In support mode these are exactly the pairs at ``E_k``; in sampled mode
#:   they are the empirical edge (visited as targets, never as inputs).
#: - ``"ravl"``: the RAVL analogue: N Q-tables with independent void draws, all fitted to the shared target
#:   ``max_a' min_i Q_i(s', a')`` (EDAC's min-ensemble target without the diversity term, which has no tabular
#:   counterpart); its effective penalty ``mean_i Q_i - min_i Q_i`` is exactly 0 on fitted pairs.
#: - ``"terminal"``: truncation treated as a terminal. The two modes implement different rules: sampled mode is the
#:   literal MBPO rule (a rollout's last transition, at step k - 1, does not bootstrap, wherever it lands); support
#:   mode, which has no rollout steps, sets the value to 0 beyond W_k. Support mode is NOT the many-rollout limit
#:   of sampled mode for this variant (it is for the others).
#: - ``"long"``: rollouts long enough to cover the reach diameter (``k = max(k, diameter + 1)``), so E_k is empty.
VARIANTS = ("base", "oracle_patch", "ravl", "terminal", "long")
MODES = ("support", "sampled")


@dataclass(frozen=True, kw_only=True, repr=False)
class EdgeOfReachResult(IterativeResult):
    """Result of :func:`truncated_fqi`, with its certificate, in the shared
    :class:`~theory_rl.results.IterativeResult` names (``method = "truncated_fqi"``).

    Attributes
    ----------
    Q : numpy.ndarray, shape (S, A)
        The learned Q-table (for ``"ravl"``, ``min_i Q_i``, the value the policy maximises; for
        ``"oracle_patch"``, ``Q*`` at every pair that was not fitted).
    V : numpy.ndarray, shape (S,)
        ``max_a Q(s, a)``.
    policy : numpy.ndarray of int, shape (S,)
        Greedy actions of ``Q`` (lowest index on ties).
    members : numpy.ndarray, shape (N, S, A)
        All Q-tables (N = 1 except for ``"ravl"``).
    fitted : numpy.ndarray of bool, shape (S, A)
        Pairs that were Bellman inputs (the buffer); all others keep their initial value.
    reach : ReachSets
        Reach sets in the model for the rollout length actually used.
    history : numpy.ndarray, shape (iterations + 1,)
        ``Q(start) = sum_s init(s) V_t(s)`` after each iteration t (t = 0 is the initialisation).
    true_return : float
        ``J(policy)`` in the true MDP, by exact policy evaluation.
    iterations : int
    residual : float
        ``max |Q_t - Q_{t-1}|`` over fitted pairs and members at the last iteration.
    error_bound : float
        ``gamma / (1 - gamma) * residual``: a bound on the distance to the fixed point of the last iteration's
        operator (support mode: the boundary-value solution, see :func:`boundary_value_q`).
    converged : bool
        Support mode: whether the stopping rule was met (False only with ``on_max_iter="warn"``). Sampled mode:
        whether the last change was within ``tol`` (it runs a fixed budget of ``n_iterations`` epochs, like MBPO).
    variant, mode : str
    k : int
        Rollout length used.
    constants : dict
        ``gamma``, ``tol``, ``max_iter`` (support mode), ``atol``, ``penalty_scale``, ``n_members`` and, in
        sampled mode, ``n_rollouts`` and ``epsilon``.
    """

    method: str = "truncated_fqi"
    members: np.ndarray
    fitted: np.ndarray
    reach: ReachSets
    history: np.ndarray
    true_return: float
    variant: str
    mode: str
    k: int

    @property
    def penalty(self) -> np.ndarray:
        """Effective ensemble penalty ``mean_i Q_i - min_i Q_i`` (the RAVL analogue's pessimism), shape (S, A)."""
        # mean of (Q_i - min) rather than mean - min: identical members give exactly 0, with no rounding.
        return (self.members - self.members.min(axis=0)).mean(axis=0)

    def __repr__(self) -> str:
        return (
            f"EdgeOfReachResult(variant={self.variant!r}, mode={self.mode!r}, k={self.k}, "
            f"Q(start)={self.history[-1]:.4g}, true_return={self.true_return:.4g}, iterations={self.iterations}, "
            f"residual={self.residual:.2e})"
        )


@validate_params(S=Integer(1), A=Integer(1), scale=Real(0), n_members=Integer(1))
def void_values(S: int, A: int, *, scale: float, seed: SeedLike, n_members: int = 1) -> np.ndarray:
    """Initial ("void") Q-values ``scale * N(0, 1)``, i.i.d., shape (n_members, S, A).

    Member 0 is the same for every ``n_members`` (draws fill in order), so Base and the RAVL analogue share it.
    Sizes whose table would not fit in memory are refused at once.
    """
    check_table("void", (n_members, S, A), ("n_members", "S", "A"))
    return scale * as_generator(seed).standard_normal((n_members, S, A))


def _model_arg(mdp: TabularMDP, model) -> np.ndarray:
    if model is None:
        return mdp.P
    P = as_float_array(model, "model", ndim=3)
    if P.shape != mdp.P.shape:
        raise ValueError(f"model has shape {P.shape}, expected {mdp.P.shape}")
    check_distributions(P, "model")
    return P


def _reward_arg(mdp: TabularMDP, reward_penalty, penalty_scale: float) -> np.ndarray:
    if reward_penalty is None:
        return np.array(mdp.R)
    u = as_float_array(reward_penalty, "reward_penalty", ndim=2)
    if u.shape != mdp.R.shape:
        raise ValueError(f"reward_penalty has shape {u.shape}, expected {mdp.R.shape}")
    if (u < 0).any():
        idx = tuple(int(i) for i in np.argwhere(u < 0)[0])
        raise ValueError(f"reward_penalty{list(idx)} is {u[idx]:.6g}, expected a penalty >= 0")
    return mdp.R - penalty_scale * u


def _oracle_arg(mdp: TabularMDP, oracle_q) -> np.ndarray | None:
    if oracle_q is None:
        return None
    Q_star = as_float_array(oracle_q, "oracle_q", ndim=2)
    if Q_star.shape != (mdp.S, mdp.A):
        raise ValueError(f"oracle_q has shape {Q_star.shape}, expected ({mdp.S}, {mdp.A})")
    return Q_star


def _check_sizes(S: int, A: int, k: int, n_members: int, n_iterations: int, n_rollouts: int) -> None:
    """Refuse at once sizes whose tables would not fit in memory (every size, whichever variant and mode use it)."""
    check_table("the reach sets R", (k + 1, S), ("k + 1", "S"), itemsize=1)
    check_table("the ensemble", (n_members, S, A), ("n_members", "S", "A"))
    check_table("the sampled-mode history", (n_iterations + 1,), ("n_iterations + 1",))
    check_table("one epoch's rollouts", (n_rollouts, k + 1), ("n_rollouts", "k + 1"), itemsize=24)


def _default_max_iter(gamma: float, tol: float, scale: float) -> int:
    if gamma == 0.0:
        return 3
    threshold = tol * (1.0 - gamma) / gamma
    return 2 * int(math.ceil(math.log(max(scale / threshold, 1.0)) / -math.log(gamma))) + 100


@validate_params(
    mdp=Instance(TabularMDP, episodic=False),
    k=Integer(1),
    variant=Options(VARIANTS),
    mode=Options(MODES),
    void_scale=Real(0),
    n_members=Integer(1),
    penalty_scale=Real(0),
    atol=ATOL,
    tol=Real(0),
    max_iter=Integer(1, optional=True),
    n_iterations=Integer(1),
    n_rollouts=Integer(1),
    epsilon=Real(0, 1),
    on_max_iter=Options(ON_MAX_ITER),
)
def truncated_fqi(
    mdp: TabularMDP,
    starts,
    k: int,
    *,
    variant: str = "base",
    mode: str = "support",
    void_scale: float = 1.0,
    void=None,
    n_members: int = 10,
    model=None,
    reward_penalty=None,
    penalty_scale: float = 1.0,
    oracle_q=None,
    atol: float = 0.0,
    tol: float = 1e-10,
    max_iter: int | None = None,
    n_iterations: int = 100,
    n_rollouts: int = 32,
    epsilon: float = 0.2,
    seed: SeedLike,
    on_max_iter: str = "raise",
) -> EdgeOfReachResult:
    """Fitted Q-iteration on k-step model rollouts from the dataset's start states (Sims et al. 2024, Sec. 3-4).

    Update on the buffer: ``Q(s, a) <- r(s, a) - penalty_scale * u(s, a) + gamma * E_{s' ~ model} V_tgt(s')`` with
    ``V_tgt(s') = max_a' Q(s', a')`` (variants change ``V_tgt``, see ``VARIANTS``); pairs outside the buffer
    keep their initial values. Support mode iterates to the fixed point, which solves the boundary-value Bellman
    equation on ``W_k`` with ``V`` fixed on ``E_k`` (:func:`boundary_value_q`); the error at ``s`` is
    ``gamma^dist(s, E_k)`` times the void error (Proposition 1).

    Stopping rule. Support mode stops at the first iteration ``t >= 2`` with ``gamma / (1 - gamma) * residual <=
    tol`` (``residual = max |Q_t - Q_{t-1}|`` over fitted pairs and members; a contraction certificate of the
    distance to the fixed point; ``gamma = 0`` stops after one iteration); hitting ``max_iter`` first goes through
    :func:`theory_rl.results.stop_at_max_iter` (``on_max_iter``). Sampled mode has no stopping rule: it runs
    exactly ``n_iterations`` epochs, like MBPO, and reports in ``converged`` whether the last change met ``tol``.

    Parameters
    ----------
    mdp : TabularMDP
        The true (discounted) MDP: rewards, the oracle ``V*`` and the exact evaluation of the learned policy.
    starts : array_like of int, or bool mask (S,)
        The dataset's start states (rollouts start here; ``R_0`` of the reach sets).
    k : int
        Rollout length (the paper uses 5 on D4RL and 10 on the 2D environment).
    variant : {"base", "oracle_patch", "ravl", "terminal", "long"}, default "base"
    mode : {"support", "sampled"}, default "support"
    void_scale : float, default 1
        Standard deviation of the i.i.d. Gaussian initial Q-values (the void); ignored when ``void`` is given.
    void : array_like, shape (S, A) or (N, S, A), optional
        Explicit initial Q-values (for ``"ravl"`` shape (N, S, A) with N >= 2).
    n_members : int, default 10
        Ensemble size N of the RAVL analogue (the paper's default N = 10); other variants use one table.
    model : array_like, shape (S, A, S), optional
        Dynamics used for rollouts and targets (a learned model); default the true ``mdp.P``.
    reward_penalty : array_like, shape (S, A), optional
        Non-negative MOPO-style uncertainty ``u`` (e.g. :func:`disagreement_penalty`), subtracted times
        ``penalty_scale`` from the reward.
    penalty_scale : float, default 1
    oracle_q : array_like, shape (S, A), optional
        ``Q*`` used by OraclePatch at unfitted pairs; default ``planning.solve(mdp).Q`` of the true MDP.
    atol : float, default 0
        Support threshold for the reach sets of a stochastic model.
    tol : float, default 1e-10
        Support mode stops when ``gamma / (1 - gamma) * residual <= tol``.
    max_iter : int, optional
        Support mode iteration cap (default: enough iterations for the contraction to reach ``tol`` from the
        scale of the rewards and the void, with a margin).
    n_iterations, n_rollouts, epsilon :
        Sampled mode: epochs, rollouts per epoch, and the exploration rate of the epsilon-greedy rollout policy
        (the paper's SAC policy is stochastic; epsilon-greedy is our tabular choice).
    seed : int, SeedSequence or Generator
        Seeds the void draws and (sampled mode) the rollouts, through two spawned streams. Required (no default).
        Each epoch's ``n_rollouts`` rollouts are one :meth:`theory_rl.data.RolloutSampler.sample` call seeded by
        one draw of the rollout stream.
    on_max_iter : {"raise", "warn"}, default "raise"
        Support mode at ``max_iter``: raise :class:`~theory_rl.results.ConvergenceError`, or warn with a
        :class:`~theory_rl.results.ConvergenceWarning` and return with ``converged=False``.

    Returns
    -------
    EdgeOfReachResult

    Raises
    ------
    ValueError
        Naming the parameter: every argument is checked, including those the chosen variant or mode does not
        read (``n_members``, ``oracle_q``, ``n_iterations``, ``n_rollouts``, ``epsilon``); sizes whose tables
        would not fit in memory are refused at once.
    """
    refuse_masked(mdp, "edge-of-reach FQI")  # issue 15: its max over actions ranges over all of them
    S, A, gamma = require_unit_scale(mdp, "truncated_fqi").S, mdp.A, mdp.gamma  # issue 15: void values, penalties
    _check_sizes(S, A, k, n_members, n_iterations, n_rollouts)
    P = _model_arg(mdp, model)
    R = _reward_arg(mdp, reward_penalty, penalty_scale)
    oracle = _oracle_arg(mdp, oracle_q)
    starts_mask = start_mask(starts, S)
    if variant == "long":
        k = max(k, reach_diameter(P, starts_mask, atol=atol) + 1)
    reach = reach_sets(P, starts_mask, k, atol=atol)
    void_rng, rollout_rng = as_generator(seed).spawn(2)

    n = check_positive_int(n_members, "n_members", minimum=2) if variant == "ravl" else 1
    if void is None:
        Q = void_values(S, A, scale=void_scale, seed=void_rng, n_members=n)
    else:
        Q = as_float_array(void, "void", ndim=(2, 3))
        Q = Q[None] if Q.ndim == 2 else Q.copy()
        if Q.shape[1:] != (S, A) or (variant != "ravl" and Q.shape[0] != 1) or (variant == "ravl" and len(Q) < 2):
            want = "(N, S, A) with N >= 2" if variant == "ravl" else "(S, A)"
            raise ValueError(f"void has shape {np.shape(void)}, expected {want} with S={S}, A={A}")
        n = Q.shape[0]

    Q_star = None
    if variant == "oracle_patch":
        Q_star = solve(mdp).Q if oracle is None else oracle

    def effective(Qm: np.ndarray) -> np.ndarray:
        return Qm.min(axis=0) if variant == "ravl" else Qm[0]

    def target_values(Qm: np.ndarray, fitted: np.ndarray) -> np.ndarray:
        Qe = effective(Qm)
        if Q_star is not None:
            Qe = np.where(fitted.reshape(S, A), Qe, Q_star)
        V = Qe.max(axis=1)
        if variant == "terminal" and mode == "support":
            V = np.where(reach.within, V, 0.0)
        return V

    init = np.asarray(mdp.init)
    history = [float(init @ effective(Q).max(axis=1))]
    flat_P = P.reshape(S * A, S)
    Q = Q.reshape(n, S * A)
    R_flat = R.ravel()

    if mode == "support":
        fitted = np.repeat(reach.within, A)
        scale = np.abs(R).max() / (1.0 - gamma) + np.abs(Q).max() + (0.0 if Q_star is None else np.abs(Q_star).max())
        if max_iter is None:
            max_iter = _default_max_iter(gamma, tol, float(scale))
        converged = False
        residual = np.inf
        for it in range(1, max_iter + 1):
            V = target_values(Q.reshape(n, S, A), fitted)
            y = R_flat[fitted] + gamma * (flat_P[fitted] @ V)
            residual = float(np.abs(y[None] - Q[:, fitted]).max(initial=0.0))
            Q[:, fitted] = y
            history.append(float(init @ effective(Q.reshape(n, S, A)).max(axis=1)))
            if gamma == 0.0 and it >= 1 or (gamma > 0 and gamma / (1.0 - gamma) * residual <= tol and it > 1):
                converged = True
                break
        if not converged:
            bound = gamma / (1.0 - gamma) * residual
            stop_at_max_iter(on_max_iter, "truncated_fqi", max_iter, f"error bound {bound:.3e} > tol {tol:g}")
        iterations = it
        constants = {"gamma": gamma, "tol": tol, "max_iter": max_iter}
    else:
        sampler = _rollout_sampler(mdp, None if model is None else P, starts_mask, reach.k)
        k_boot = reach.k - 1 if variant == "terminal" else reach.k  # steps whose next state is bootstrapped
        next_counts = np.zeros((S * A, S))  # bootstrapped transitions
        pair_counts = np.zeros(S * A)  # all transitions (terminal ones add a reward but no bootstrap)
        residual = np.inf
        for it in range(1, n_iterations + 1):
            Qe = effective(Q.reshape(n, S, A))
            pair_counts_before = pair_counts.copy()
            behaviour = np.full((S, A), epsilon / A)  # epsilon-greedy: uniform w.p. epsilon, else greedy
            behaviour[np.arange(S), Qe.argmax(axis=1)] += 1.0 - epsilon
            states, actions, _ = sampler.sample(behaviour, n_rollouts, rollout_rng)
            idx = states[:, :-1] * A + actions  # (n_rollouts, k) pair indices
            pair_counts += np.bincount(idx.ravel(), minlength=S * A)
            flat = idx[:, :k_boot].ravel() * S + states[:, 1 : k_boot + 1].ravel()
            next_counts += np.bincount(flat, minlength=S * A * S).reshape(S * A, S)
            # the oracle patches pairs without a fitted value yet (pairs first seen in this epoch included)
            V = target_values(Q.reshape(n, S, A), pair_counts_before > 0)
            fitted = pair_counts > 0
            y = R_flat[fitted] + gamma * (next_counts[fitted] @ V) / pair_counts[fitted]
            residual = float(np.abs(y[None] - Q[:, fitted]).max(initial=0.0))
            Q[:, fitted] = y
            history.append(float(init @ effective(Q.reshape(n, S, A)).max(axis=1)))
        iterations = n_iterations
        converged = bool(gamma / (1.0 - gamma) * residual <= tol) if gamma > 0 else True
        constants = {"gamma": gamma, "tol": tol, "n_iterations": n_iterations, "n_rollouts": n_rollouts,
                     "epsilon": epsilon}
    constants.update(atol=atol, penalty_scale=penalty_scale, n_members=n)

    members = Q.reshape(n, S, A)
    Q_eff = effective(members).copy()
    if Q_star is not None:  # the oracle supplies every value the learner never fitted (in support mode: E_k on)
        Q_eff = np.where(fitted.reshape(S, A), Q_eff, Q_star)
    policy = Q_eff.argmax(axis=1)
    out = dict(
        Q=Q_eff,
        members=members,
        V=Q_eff.max(axis=1),
        policy=policy,
        fitted=fitted.reshape(S, A),
        history=np.array(history),
    )
    for arr in out.values():
        arr.setflags(write=False)
    return EdgeOfReachResult(
        **out,
        reach=reach,
        true_return=expected_return(mdp, policy),
        iterations=int(iterations),
        residual=float(residual),
        error_bound=float(gamma / (1.0 - gamma) * residual) if gamma > 0 else 0.0,
        converged=converged,
        method="truncated_fqi",
        constants=constants,
        variant=variant,
        mode=mode,
        k=int(reach.k),
    )


def _rollout_sampler(mdp: TabularMDP, P: np.ndarray | None, starts_mask: np.ndarray, k: int) -> RolloutSampler:
    """The shared rollout sampler of the rollout model ``P`` (None: ``mdp`` itself; the sampled rewards are not
    read, the targets use the mean reward), ``k`` steps from starts uniform on the dataset's start states."""
    model = mdp if P is None else TabularMDP(P, mdp.R, mdp.init, gamma=mdp.gamma, reward_noise="deterministic")
    return RolloutSampler(model, n_steps=k, init=starts_mask / starts_mask.sum())


@validate_params(mdp=Instance(TabularMDP, episodic=False))
def boundary_value_q(mdp: TabularMDP, within, boundary_values, *, model=None, reward=None) -> np.ndarray:
    """Optimal Q of the boundary-value Bellman problem on ``W``, solved by policy iteration (an independent oracle).

    Solves ``Q(s, a) = r(s, a) + gamma sum_s' P(s'|s, a) V(s')`` for ``s in W``, with ``V(s) = max_a Q(s, a)`` on
    ``W`` and ``V(s) = b(s)`` fixed off ``W``: the fixed point of support-mode :func:`truncated_fqi` with
    ``b = max_a Q_0`` on ``E_k`` (Sims et al. 2024, Proposition 1). Built as an auxiliary MDP in which every state
    off ``W`` is absorbing with per-step reward ``(1 - gamma) b(s)``, with rewards affinely rescaled into [0, 1],
    then solved with :func:`theory_rl.planning.solve`.

    Parameters
    ----------
    mdp : TabularMDP
    within : array_like of bool, shape (S,)
    boundary_values : array_like, shape (S,)
        ``b``; only its entries off ``W`` are used.
    model : array_like, shape (S, A, S), optional
        Dynamics (default ``mdp.P``).
    reward : array_like, shape (S, A), optional
        Rewards (default ``mdp.R``; may be penalised, hence outside [0, 1]).

    Returns
    -------
    numpy.ndarray, shape (S, A)
        Q on the rows of ``W``; rows off ``W`` hold ``b(s)`` in every action.
    """
    refuse_masked(mdp, "edge-of-reach FQI")  # issue 15: its max over actions ranges over all of them
    S, A, gamma = mdp.S, mdp.A, mdp.gamma
    W = np.asarray(within)
    if W.dtype != bool or W.shape != (S,):
        raise ValueError(f"within must be a boolean mask of shape ({S},), got {W.dtype} {W.shape}")
    b = as_float_array(boundary_values, "boundary_values", ndim=1)
    if b.shape != (S,):
        raise ValueError(f"boundary_values has shape {b.shape}, expected ({S},)")
    P = _model_arg(mdp, model).copy()
    r = np.array(mdp.R) if reward is None else as_float_array(reward, "reward", ndim=2)
    if r.shape != (S, A):
        raise ValueError(f"reward has shape {r.shape}, expected ({S}, {A})")
    r = r.copy()
    off = np.flatnonzero(~W)
    P[off] = 0.0
    P[off, :, off] = 1.0
    r[off] = (1.0 - gamma) * b[off, None]
    lo, hi = float(r.min()), float(r.max())
    span = hi - lo if hi > lo else 1.0
    aux = TabularMDP(P, (r - lo) / span, np.full(S, 1.0 / S), gamma=gamma, reward_noise="deterministic")
    return solve(aux).Q * span + lo / (1.0 - gamma)

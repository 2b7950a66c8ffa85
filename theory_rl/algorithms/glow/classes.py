"""Finite value classes F and weight classes W for GLOW / H2O (Amortila et al. 2024, arXiv 2401.09681).

A value function ``f`` is an array ``(H, S, A)``; a class is the stacked array ``(|F|, H, S, A)``. A weight
``w`` is a non-negative array ``(H, S, A)`` standing for the density ratio ``w_h(x, a)`` of Assumption 2.2
(``d_h^pi / d_h^pi'``) or 2.2' (``d_h^pi`` over a mixture of occupancies); the weight class is ``(|W|, H, S, A)``
and the supremum over ``W_h`` is taken layer by layer, with the same index set at every layer. The policy of
``f`` is greedy with ties broken towards the lowest action index (consistent tie-breaking, Sec. 2).

Constructions:

- :func:`model_based_classes`: ``F = {Q*_M : M in a finite model set containing the truth}`` and ``W`` the density
  ratios between the greedy policies' occupancies computed in each model (so the true ratios are realized);
- :func:`decoy_classes`: ``Q*`` plus "optimistic decoys", the optimal Q of the true dynamics with a reward bonus on
  a set of target pairs: Bellman-consistent everywhere except on the target, whose visits alone eliminate it;
- :func:`ratio_class`: pairwise ratios (2.2) or ratios to uniform mixtures of subsets of the policies
  (``mixtures > 1``, the mixture-ratio class of Assumption 2.2').

Where a denominator occupancy is zero and the numerator is not, the ratio is ``ratio_cap`` (default ``1e6``):
every clip level below it gives the same clipped weight ``min(w, g)`` as an infinite ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from theory_rl._validation import (
    Instance,
    Integer,
    InvalidParameterError,
    Real,
    as_float_array,
    as_index_array,
    check_distributions,
    check_shape,
    readonly,
    validate_params,
)
from theory_rl.coverage import as_distribution
from theory_rl.mdp import TabularMDP
from theory_rl.planning import occupancy
from theory_rl.scales import require_unit_scale

__all__ = [
    "FiniteClasses", "MixtureRatios", "decoy_classes", "finite_classes", "greedy_actions", "hybrid_ratio_class",
    "model_based_classes", "optimal_q", "ratio_class",
]

RATIO_CAP = 1e6
TIE_TOL = 1e-10


@dataclass(frozen=True, eq=False)
class FiniteClasses:
    """A finite value class and a finite weight class on one state-action space.

    Built by :func:`finite_classes` (or :func:`model_based_classes`, :func:`decoy_classes`); a direct construction
    is validated the same way (arrays stored as read-only float copies).

    Attributes
    ----------
    F : numpy.ndarray
        Value functions, ``(|F|, H, S, A)``, read-only.
    W : numpy.ndarray
        Non-negative weights, ``(|W|, H, S, A)``, read-only.
    policies : numpy.ndarray
        Greedy actions of each ``f`` (lowest index on ties, :func:`greedy_actions`), ``(|F|, H, S)``.
    models : tuple of (P, R, init) or None
        For model-based classes, the model behind each ``f`` (``P`` ``(H, S, A, S)``, mean reward ``R``
        ``(H, S, A)``, ``init`` ``(S,)``): what the model-based MLE plug-in selects from.

    Raises
    ------
    ValueError
        Naming the entry: a non-finite or complex value, wrong dimensions, mismatched ``(H, S, A)``, an empty
        class, a negative weight, ``policies`` that are not the greedy actions of ``F``, a malformed model.
    """

    F: np.ndarray
    W: np.ndarray
    policies: np.ndarray
    models: tuple | None = None

    def __post_init__(self) -> None:
        F = as_float_array(self.F, "F", ndim=4)
        W = as_float_array(self.W, "W", ndim=4)
        if F.shape[0] == 0 or W.shape[0] == 0:
            raise ValueError(f"F has {F.shape[0]} and W {W.shape[0]} members; both classes must be non-empty")
        if F.shape[1:] != W.shape[1:]:
            raise ValueError(
                f"F members have shape {F.shape[1:]} but W members {W.shape[1:]}; expected equal (H, S, A)")
        neg = W < 0
        if neg.any():
            idx = tuple(int(i) for i in np.argwhere(neg)[0])
            raise ValueError(f"W{list(idx)} is {W[idx]:.6g}, expected a non-negative weight")
        n_f, H, S, A = F.shape
        policies = as_index_array(self.policies, "policies", A, ndim=3)
        check_shape(policies, "policies", (n_f, H, S))
        if not np.array_equal(policies, trusted_greedy_actions(F)):
            raise ValueError("policies are not the greedy actions of F (lowest index on ties, greedy_actions(F))")
        policies = policies.copy()
        policies.setflags(write=False)
        object.__setattr__(self, "F", readonly(F))
        object.__setattr__(self, "W", readonly(W))
        object.__setattr__(self, "policies", policies)
        object.__setattr__(self, "models", _check_models(self.models, n_f, (H, S, A)))

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(H, S, A)``."""
        return tuple(self.F.shape[1:])

    def truth_mask(self, mdp: TabularMDP, atol: float = 1e-9) -> np.ndarray:
        """Boolean ``(|F|,)``: which members equal ``Q*`` of ``mdp`` (entrywise within ``atol``)."""
        q_star = _optimal_q(mdp.stage_P, mdp.stage_R)
        return np.all(np.abs(self.F - q_star[None]) <= atol, axis=(1, 2, 3))


def _check_models(models, n_f: int, shape: tuple) -> tuple | None:
    """``models`` as a tuple of ``n_f`` read-only ``(P, R, init)`` triples of the classes' ``(H, S, A)``, or None."""
    if models is None:
        return None
    if isinstance(models, (str, bytes)) or not hasattr(models, "__len__") or not hasattr(models, "__iter__"):
        raise InvalidParameterError(
            f"models is {type(models).__name__} ({models!r}), expected a sequence of (P, R, init) triples or None")
    models = tuple(models)
    if len(models) != n_f:
        raise ValueError(f"models has {len(models)} entries, expected one per member of F ({n_f})")
    H, S, A = shape
    out = []
    for i, triple in enumerate(models):
        if not isinstance(triple, (tuple, list)) or len(triple) != 3:
            raise InvalidParameterError(f"models[{i}] is {type(triple).__name__}, expected a (P, R, init) triple")
        P = as_float_array(triple[0], f"models[{i}].P", shape=(H, S, A, S))
        check_distributions(P, f"models[{i}].P")
        R = as_float_array(triple[1], f"models[{i}].R", shape=(H, S, A))
        init = as_float_array(triple[2], f"models[{i}].init", shape=(S,))
        check_distributions(init, f"models[{i}].init")
        out.append((readonly(P), readonly(R), readonly(init)))
    return tuple(out)


def finite_classes(F, W, *, models=None) -> FiniteClasses:
    """Validate and freeze ``F`` ``(|F|, H, S, A)`` and ``W`` ``(|W|, H, S, A)`` (non-negative, finite).

    ``models``, when given, is one ``(P, R, init)`` per member of ``F`` (see :class:`FiniteClasses`).

    Raises
    ------
    ValueError
        Naming the entry: wrong dimensions, mismatched ``(H, S, A)``, an empty class, a negative weight, a NaN,
        infinite or complex value, a malformed model.
    """
    F = as_float_array(F, "F", ndim=4)
    return FiniteClasses(F, W, trusted_greedy_actions(F), models)


def trusted_greedy_actions(F: np.ndarray, tol: float = TIE_TOL) -> np.ndarray:
    """:func:`greedy_actions` without any check (a float array, a finite ``tol``), for the learners' rounds."""
    return np.argmax(F >= F.max(axis=-1, keepdims=True) - tol, axis=-1)


@validate_params(tol=Real(0))
def greedy_actions(F, tol: float = TIE_TOL) -> np.ndarray:
    """Greedy actions of ``f`` (any leading axes, last axis the action) with ties broken towards the lowest
    index; values within ``tol`` (a finite real ``>= 0``) of the maximum count as ties, so round-off never breaks
    a tie."""
    F = as_float_array(F, "F")
    if F.ndim == 0 or F.shape[-1] == 0:
        raise ValueError(f"F has shape {F.shape}, expected at least one action on the last axis")
    return trusted_greedy_actions(F, tol)


def _optimal_q(P: np.ndarray, R: np.ndarray) -> np.ndarray:
    H, S, A = R.shape
    Q = np.empty((H, S, A))
    V = np.zeros(S)
    for h in range(H - 1, -1, -1):
        Q[h] = R[h] + (P[h].reshape(S * A, S) @ V).reshape(S, A)
        V = Q[h].max(axis=1)
    return Q


def optimal_q(P, R) -> np.ndarray:
    """``Q*`` by backward induction for stage arrays ``P`` ``(H, S, A, S)`` and any finite real rewards ``R``
    ``(H, S, A)`` (decoy rewards may exceed 1, which :class:`~theory_rl.mdp.TabularMDP` refuses).

    Raises
    ------
    ValueError
        Naming ``P`` or ``R``: a NaN, infinite or complex entry, wrong shapes, rows of ``P`` not distributions.
    """
    R = as_float_array(R, "R", ndim=3)
    H, S, A = R.shape
    P = as_float_array(P, "P", shape=(H, S, A, S))
    check_distributions(P, "P")
    return _optimal_q(P, R)


def _policy_list(mdp: TabularMDP, policies) -> list:
    """``policies`` as a non-empty list of deterministic ``(H, S)`` action arrays or stochastic ``(H, S, A)``
    tables of ``mdp`` (each entry checked, named ``policies[i]``)."""
    if isinstance(policies, (str, bytes)) or not hasattr(policies, "__iter__"):
        raise InvalidParameterError(
            f"policies is {type(policies).__name__} ({policies!r}), expected a sequence of policies")
    out = []
    H, S, A = mdp.horizon, mdp.S, mdp.A
    for i, pi in enumerate(policies):
        name = f"policies[{i}]"
        arr = np.asarray(pi) if not isinstance(pi, (str, bytes)) else np.asarray(pi, dtype=object)
        if arr.dtype != bool and np.issubdtype(arr.dtype, np.integer):
            arr = as_index_array(arr, name, A, ndim=2)
            check_shape(arr, name, (H, S))
        elif np.issubdtype(arr.dtype, np.floating):
            arr = as_float_array(arr, name, shape=(H, S, A))
            check_distributions(arr, name)
        else:
            raise InvalidParameterError(
                f"{name} has dtype {arr.dtype}, expected integer actions (H, S) or action probabilities (H, S, A)")
        out.append(arr)
    if not out:
        raise ValueError("policies is empty, expected at least one policy")
    return out


def _ratio(num: np.ndarray, den: np.ndarray, cap: float) -> np.ndarray:
    out = np.zeros_like(num)
    pos = den > 0
    out[pos] = np.minimum(num[pos] / den[pos], cap)
    out[~pos & (num > 0)] = cap
    return out


_CAP = Real(0, closed="neither")


@validate_params(mdp=Instance(TabularMDP, episodic=True), mixtures=Integer(1), ratio_cap=_CAP)
def ratio_class(mdp: TabularMDP, policies, *, mixtures: int = 1, ratio_cap: float = RATIO_CAP) -> np.ndarray:
    """Density ratios ``d_h^pi / d_h^mix`` between the occupancies (in ``mdp``) of the given policies.

    ``mixtures = 1``: all ordered pairs ``d^pi / d^pi'`` (Assumption 2.2, identity ratios included).
    ``mixtures = m > 1``: also ``d^pi / ((1/|U|) sum_{pi' in U} d^pi')`` for every subset ``U`` of at most ``m``
    distinct policies (the uniform mixtures of Assumption 2.2'; mixtures with repeated policies are not
    enumerated). Duplicates are removed. Returns ``(|W|, H, S, A)``.
    """
    occ = np.unique(np.stack([occupancy(mdp, pi) for pi in _policy_list(mdp, policies)]), axis=0)
    dens = [occ[list(U)].mean(axis=0) for m in range(1, min(mixtures, len(occ)) + 1)
            for U in combinations(range(len(occ)), m)]
    W = np.stack([_ratio(num, den, ratio_cap) for den in dens for num in occ])
    return np.unique(np.round(W, 12), axis=0)


@validate_params(mixtures=Integer(1), ratio_cap=_CAP)
def model_based_classes(models, *, mixtures: int = 1, ratio_cap: float = RATIO_CAP) -> FiniteClasses:
    """``F = {Q*_M}`` over a finite model set and ``W`` = occupancy ratios of the greedy policies in each model.

    Parameters
    ----------
    models : sequence of TabularMDP
        Finite-horizon models on one ``(H, S, A)``; the truth should be one of them (realizability,
        Assumption 2.1, then holds for ``F`` and Assumption 2.2 for ``W``).
    mixtures : int, default 1
        See :func:`ratio_class`.
    """
    if isinstance(models, (str, bytes)) or not hasattr(models, "__iter__"):
        raise InvalidParameterError(
            f"models is {type(models).__name__} ({models!r}), expected a sequence of finite-horizon TabularMDPs")
    models = list(models)
    if not models or not all(isinstance(m, TabularMDP) and m.is_episodic for m in models):
        raise ValueError("models must be a non-empty sequence of finite-horizon TabularMDPs")
    if len({(m.horizon, m.S, m.A) for m in models}) != 1:
        raise ValueError("models differ in (H, S, A)")
    for m in models:  # issue 15: F is the undiscounted Q* in [0, H]
        require_unit_scale(m, "model_based_classes")
    F = np.stack([_optimal_q(m.stage_P, m.stage_R) for m in models])
    policies = trusted_greedy_actions(F)
    W = np.unique(np.concatenate([ratio_class(m, policies, mixtures=mixtures, ratio_cap=ratio_cap)
                                  for m in models]), axis=0)
    return finite_classes(F, W, models=[(m.stage_P, m.stage_R, m.init) for m in models])


@validate_params(mdp=Instance(TabularMDP, episodic=True), bonus=Real(0, closed="neither"), mixtures=Integer(1),
                 ratio_cap=_CAP)
def decoy_classes(mdp: TabularMDP, targets, bonus: float, *, mixtures: int = 1,
                  ratio_cap: float = RATIO_CAP) -> FiniteClasses:
    """``Q*`` of ``mdp`` and one optimistic decoy per target (the decoys first, ``Q*`` last).

    The decoy of target mask ``T`` (boolean ``(H, S, A)``) is the optimal Q of ``mdp``'s dynamics with reward
    ``R + bonus * T``: its Bellman error under the true model is ``bonus`` on the target and 0 elsewhere, so it is
    over-optimistic about reaching the target and only data on the target refutes it. ``W`` is
    :func:`ratio_class` of all the greedy policies in ``mdp`` (realizable: the dynamics are the truth's). Each
    ``f`` keeps its model ``(P, R + bonus * T, init)`` for the MLE plug-in.
    """
    targets = np.asarray(targets)  # bools, or 0/1 integers; never 0.5, NaN or a complex number cast to True
    targets = targets if targets.dtype == bool else as_index_array(targets, "targets", 2, ndim=None).astype(bool)
    shape = (mdp.horizon, mdp.S, mdp.A)
    if targets.ndim != 4 or targets.shape[1:] != shape:
        raise ValueError(f"targets has shape {targets.shape}, expected (n_decoys, {shape[0]}, {shape[1]}, {shape[2]})")
    P, R = require_unit_scale(mdp, "decoy_classes").stage_P, mdp.stage_R  # issue 15: undiscounted Q* in [0, H]
    rewards = [R + bonus * t for t in targets] + [np.array(R)]
    F = np.stack([_optimal_q(P, r) for r in rewards])
    W = ratio_class(mdp, trusted_greedy_actions(F), mixtures=mixtures, ratio_cap=ratio_cap)
    return finite_classes(F, W, models=[(P, r, mdp.init) for r in rewards])


class MixtureRatios:
    """The ratios to the data distribution of Assumption 2.2', ``d_h^{pi_f} / mu_h``, built round by round.

    For each distinct dynamics ``(P, init)`` among ``classes.models`` it keeps the occupancies of every member's
    greedy policy; :meth:`weights` returns ``{d^{pi_f}_M / mu_M : f in F, M}`` for the data distribution
    ``mu_M = offline_weight * nu + (1 - offline_weight) * (mean occupancy of the played members in M)``. The
    learner never needs to know the true model: every candidate dynamics contributes its ratios. The set of
    distinct mixtures over ``t`` rounds is indexed by the play counts, so the effective class has
    ``log |W| <= log(|W_0| + n_dyn |F| binom(t + m - 1, m - 1))`` (``m`` distinct policies): :meth:`log_size`.
    """

    @validate_params(classes=Instance(FiniteClasses), ratio_cap=_CAP)
    def __init__(self, classes: FiniteClasses, ratio_cap: float = RATIO_CAP) -> None:
        if classes.models is None:
            raise ValueError("mixture ratios need model-based classes (classes.models is None)")
        dyn: dict = {}
        for P, _, init in classes.models:
            dyn.setdefault((np.asarray(P).tobytes(), np.asarray(init).tobytes()), (P, init))
        H, S, A = classes.shape
        occ = []
        for P, init in dyn.values():
            mdp = TabularMDP(np.asarray(P), np.zeros((H, S, A)), np.asarray(init), horizon=H)
            occ.append(np.stack([occupancy(mdp, pi) for pi in classes.policies]))
        self.occ = np.stack(occ)  # (n_dyn, |F|, H, S, A)
        self.cap = ratio_cap
        self.n_policies = len(np.unique(classes.policies, axis=0))

    def weights(self, counts, nu=None, offline_weight: float = 0.0) -> np.ndarray:
        """Ratios ``(n_dyn |F|, H, S, A)`` to ``mu`` given the play counts ``(|F|,)`` of the members."""
        counts = np.asarray(counts, dtype=float)
        d_bar = np.tensordot(counts / counts.sum(), self.occ, axes=([0], [1]))  # (n_dyn, H, S, A)
        mu = d_bar if nu is None else offline_weight * np.asarray(nu)[None] + (1 - offline_weight) * d_bar
        return _ratio(self.occ, np.broadcast_to(mu[:, None], self.occ.shape), self.cap).reshape(
            (-1,) + self.occ.shape[2:])

    def log_size(self, n_static: int, t: int) -> float:
        """``log(n_static + n_dyn |F| binom(t + m - 1, m - 1))``."""
        from math import exp, lgamma, log

        m = self.n_policies
        log_binom = lgamma(t + m) - lgamma(m) - lgamma(t + 1)
        log_extra = log(self.occ.shape[0] * self.occ.shape[1]) + log_binom
        return log_extra + log(1.0 + n_static * exp(-log_extra)) if log_extra < 700 else log_extra


@validate_params(mdp=Instance(TabularMDP, episodic=True), ratio_cap=_CAP)
def hybrid_ratio_class(mdp: TabularMDP, policies, nu, *, ratio_cap: float = RATIO_CAP) -> np.ndarray:
    """Ratios for hybrid data: ``d^pi / d^pi'``, ``d^pi / nu`` and ``d^pi / ((nu + d^pi') / 2)`` over the policies.

    These realize the density ratios to H2O's data distribution ``(nu + d_bar_t) / 2`` whenever the online rounds
    so far played a single policy (for classes without models, where :class:`MixtureRatios` does not apply).
    """
    nu = as_distribution(mdp, nu, "nu")
    occ = np.unique(np.stack([occupancy(mdp, pi) for pi in _policy_list(mdp, policies)]), axis=0)
    nu = np.broadcast_to(nu, occ.shape[1:])
    dens = list(occ) + [nu] + [(nu + d) / 2 for d in occ]
    return np.unique(np.round(np.stack([_ratio(num, den, ratio_cap) for den in dens for num in occ]), 12), axis=0)

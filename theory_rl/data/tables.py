"""Alias tables of a model and of a policy, the arguments of the sampling kernels (:mod:`theory_rl._kernels`).

A model's support tables (``P``, ``init``; the reward means and noise) are built once per model and cached (weak
keys: they go with the model; models are immutable, so the cache never goes stale). A policy's tables are built per
call: deterministic policies (actions ``(S,)`` or ``(H, S)``) need none, stochastic ones (probabilities ``(S, A)``
or ``(H, S, A)``) one joint ``(a, s')`` support-table row per ``(h, s)``.

Internal plumbing: ``ModelTables``, ``PolicyTables``, ``model_tables``, ``policy_tables``, ``dense_csr``,
``support_table``, ``flatten``, ``kernel_args`` and ``mixture_weights`` serve the samplers of
:mod:`theory_rl.data` (and the kernel benchmarks); they are not in ``__all__``, and the public samplers validate
their arguments before calling them. Their names carry no underscore so that the other data modules import them
without a private import.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from theory_rl import _kernels
from theory_rl._validation import as_float_array, as_index_array, check_distributions, check_instance
from theory_rl.feasibility import check_feasible_pairs
from theory_rl.linear import LinearMDP
from theory_rl.mdp import TabularMDP
from theory_rl.policies import is_deterministic, policy_matrix
from theory_rl.scales import check_sampleable

__all__ = ["MODELS"]

#: The models the samplers draw from: anything with ``P``, ``R``, ``init``, ``reward_noise`` and ``reward_std``.
MODELS = (TabularMDP, LinearMDP)


@dataclass(frozen=True)
class ModelTables:
    """Support tables (:mod:`theory_rl._kernels`) of ``P`` (``nP*S*A`` rows) and ``init`` (one row), rewards ``R``
    ``(nR, S, A)``, the kernel's noise code and the Gaussian noise's standard deviation."""

    P: tuple
    init: tuple
    P_csr: tuple
    R: np.ndarray
    noise: int
    std: float


@dataclass(frozen=True)
class PolicyTables:
    """A policy in the kernels' form: ``actions`` ``(nPi, S)`` int32 (deterministic) or the joint support table
    ``table`` over ``(a, s')`` pairs (stochastic); ``probs`` ``(nPi, S, A)`` the action probabilities."""

    probs: np.ndarray
    table: tuple
    actions: np.ndarray
    deterministic: bool


_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# Stands in for the table of a deterministic policy: one row, one entry (int64 outcomes, the joint tables' type,
# so both policy forms share one compilation), written out so that importing this module compiles nothing.
_NO_TABLE = (np.array([0, 1], np.int64), np.ones(1), np.zeros(1, np.int64), np.zeros(1, np.int64))
_NO_PROBS = np.ones((1, 1, 1))  # stands in for the probabilities of a deterministic policy nothing records


def model_tables(mdp) -> ModelTables:
    """The cached :class:`ModelTables` of a :class:`TabularMDP` or :class:`LinearMDP`."""
    tables = _TABLES.get(mdp)
    if tables is None:
        check_instance(mdp, "mdp", MODELS)
        check_sampleable(mdp)  # Bernoulli rewards need [0, 1]
        S, A = mdp.S, mdp.A
        # A dense P gives its non-zeros as a CSR triple; a sparse model passes its own canonical triple: the same
        # tables, so the same samples for the same seeds, in memory linear in the non-zeros.
        if getattr(mdp, "is_sparse", False):
            T = mdp.transitions
            P_csr = (T.indptr.astype(np.int64, copy=False), T.indices.astype(np.int32), np.ascontiguousarray(T.data))
        else:
            P_csr = dense_csr(mdp.P.reshape(-1, S))
        init_table = support_table(mdp.init.reshape(1, S))
        R = np.ascontiguousarray(mdp.R.reshape(-1, S, A))
        tables = ModelTables(_numpy_owned(_kernels.build_alias_csr(*P_csr)), init_table, P_csr, R,
                             _kernels.NOISE_CODES[mdp.reward_noise], float(mdp.reward_std))  # fmt: skip
        _TABLES[mdp] = tables
    return tables


def _numpy_owned(table: tuple) -> tuple:
    """A table's large arrays copied into numpy's own allocations (issue 15): numpy asks Linux for transparent huge
    pages on arrays of 4 MiB and more (``madvise``), numba's allocator does not, and the sampler's random reads of a
    table far larger than the TLB's reach then miss it at every step (S = 10^6: 1.8 to 2.6M transitions/s)."""
    return tuple(np.array(a) if a.nbytes >= 1 << 22 else a for a in table)


def _stages(mdp) -> int | None:
    return getattr(mdp, "horizon", None)


def policy_tables(mdp, policy, name: str = "policy", *, probabilities: bool = True) -> PolicyTables:
    """The :class:`PolicyTables` of ``policy`` (any form: actions or probabilities, stationary or per step).

    A stage-dependent policy whose stages are all equal is stored as stationary (one table serves every step).
    ``probabilities=False`` skips the ``(nPi, S, A)`` probabilities of a deterministic policy (nothing records
    them): the fast path of one rollout per call.
    """
    check_instance(mdp, "mdp", MODELS)
    S, A, H = mdp.S, mdp.A, _stages(mdp)
    arr = np.asarray(policy)
    if not probabilities and arr.dtype.kind in "iu":
        if arr.shape not in ((S,),) + (((H, S),) if H is not None else ()):
            want = "(S,)" if H is None else "(S,) or (H, S)"
            raise ValueError(f"{name} has shape {arr.shape}, expected {want} actions with S = {S}, H = {H}")
        if arr.min() < 0 or arr.max() >= A:
            as_index_array(arr, name, A, ndim=None)  # raises, naming the first bad entry
        if getattr(mdp, "feasible", None) is not None:  # issue 15
            check_feasible_pairs(mdp, np.broadcast_to(np.arange(S), arr.shape), arr, name)
        actions = arr.astype(np.int32).reshape(-1, S)
        return PolicyTables(_NO_PROBS, _NO_TABLE, actions, True)
    pi = policy_matrix(mdp, policy, name=name)
    probs = np.ascontiguousarray(pi.reshape(-1, S, A))
    if H is not None and probs.shape[0] > 1 and np.all(probs == probs[:1]):
        probs = np.ascontiguousarray(probs[:1])  # stationary: one table serves every step
    deterministic = is_deterministic(probs)
    actions = np.argmax(probs, axis=-1).astype(np.int32)
    # A stochastic policy: the joint table of (a, s') given (h, s), one draw per step (theory_rl._kernels).
    table = _NO_TABLE if deterministic else _kernels.build_alias_csr(
        *_kernels.joint_csr(probs, *model_tables(mdp).P_csr, S, A))
    return PolicyTables(probs, table, actions, deterministic)


def dense_csr(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The canonical CSR triple ``(indptr, indices, data)`` of the non-zeros of a dense ``(rows, K)`` array (row
    by row, indices ascending): what :func:`theory_rl._kernels.build_alias_csr` reads, as a scipy ``csr_array``
    holds it. A sparse model passes its own triple instead (``mdp.transitions``): the same tables."""
    p = np.ascontiguousarray(p, dtype=np.float64)
    mask = p != 0.0
    indptr = np.zeros(p.shape[0] + 1, np.int64)
    np.cumsum(np.count_nonzero(mask, axis=1), out=indptr[1:])
    return indptr, np.nonzero(mask)[1].astype(np.int32), np.ascontiguousarray(p[mask])


def support_table(p: np.ndarray) -> tuple:
    """The support table of every row of a dense ``(rows, K)`` array of distributions."""
    return _kernels.build_alias_csr(*dense_csr(p))


def flatten(model: tuple) -> tuple:
    """A kernel's model arguments with each support table spliced in as its four arrays: the form the ``*_batch``
    kernels take (numba's parallel loops cannot pass a tuple of arrays into their body; a flat one they can)."""
    return tuple(x for item in model for x in (item if isinstance(item, tuple) else (item,)))


def kernel_actions(pt: PolicyTables):
    """The kernels' ``pi_actions``: the actions of a deterministic policy, None for a stochastic one (the kernels
    compile one loop per form and only the form they are called with)."""
    return pt.actions if pt.deterministic else None


def kernel_args(mdp, t: ModelTables, pt: PolicyTables) -> tuple:
    """The model and policy arguments of the trajectory kernels (between ``seed`` and the outputs)."""
    return (
        t.init, t.P, mdp.S, mdp.A, pt.table, kernel_actions(pt), pt.deterministic, pt.probs, t.R, t.noise, t.std,
    )  # fmt: skip


def mixture_weights(policies, weights) -> np.ndarray:
    """The checked weights of a mixture of ``len(policies)`` policies, normalised to sum to 1 (one policy drawn
    per episode, as in FTPedel's designs): a non-empty 1-D distribution (tolerance 1e-8), one weight per policy."""
    weights = as_float_array(weights, "weights", ndim=1)
    m = weights.shape[0]
    if m == 0:
        raise ValueError("weights is empty, expected one weight per policy")
    check_distributions(weights, "weights", tol=1e-8)
    if len(policies) != m:
        raise ValueError(f"policy holds {len(policies)} policies, but weights has {m} entries")
    return weights / weights.sum()

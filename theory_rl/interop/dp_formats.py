"""Models in the array forms of QuantEcon and pymdptoolbox: :func:`from_discrete_dp`, :func:`from_mdptoolbox`.

- QuantEcon's ``DiscreteDP(R, Q, beta)`` (quantecon.markov.ddp): the product form ``R (S, A)``, ``Q (S, A, S)``, or
  the state-action pair form ``R (L,)``, ``Q (L, S)`` (dense or scipy.sparse) with ``s_indices`` and
  ``a_indices``; ``R = -inf`` (or a pair left out) marks an infeasible action.
- pymdptoolbox's ``P (A, S, S)`` (an array, or a list of ``A`` dense or sparse ``(S, S)`` matrices) with
  ``R (S,)``, ``(S, A)`` or, like ``P``, ``(A, S, S)`` (the reward of each transition, averaged over ``P``).

Layouts are never guessed. A kernel of shape ``(X, Y, Z)`` reads as ``(S, A, S)`` (``layout="SAS"``, QuantEcon's
and theory_rl's) when ``X == Z`` and as ``(A, S, S)`` (``layout="ASS"``, pymdptoolbox's) when ``Y == Z``. Each
function takes its library's layout when only that reading fits; when both fit (``S == A``) or only the other
one does, it raises a ValueError asking for ``layout=``. Two-dimensional rewards are ``(S, A)`` in both libraries.

Rewards outside [0, 1] go through the explicit affine :class:`~theory_rl.scales.RewardMap` of their
range (returned; ``ImportedMDP.values`` maps values back). Infeasible actions (QuantEcon's ``R = -inf``, a pair
the state-action form leaves out, or ``-inf`` in a ``(S, A)`` reward table of pymdptoolbox's form) become the MDP's
action mask ``mdp.feasible`` (issue 15, item 5), which planning, policies and samplers respect; the reward map is
fitted to the finite rewards, and infeasible pairs hold the placeholder reward 0 and, when left out, a self-loop
(never read). A ``-inf`` transition reward (pymdptoolbox's ``(A, S, S)`` rewards) is refused: it is not an action
mask. Neither library has an initial
distribution: ``init`` is uniform unless given. A finite horizon (QuantEcon's ``backward_induction``,
pymdptoolbox's ``FiniteHorizon``) with a discount below 1 is imported as a finite-horizon MDP with that discount
(``TabularMDP(..., gamma=discount, horizon=H)``; values mapped back by ``ImportedMDP.values``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from theory_rl._sparse import fill_empty_rows
from theory_rl._validation import (
    Integer,
    Options,
    Real,
    as_float_array,
    as_index_array,
    check_table,
    index_str,
    validate_params,
)
from theory_rl.generators.csr import use_sparse
from theory_rl.interop.rewards import ImportedMDP, fit_reward_map
from theory_rl.mdp import REWARD_NOISES, TabularMDP

__all__ = ["LAYOUTS", "from_discrete_dp", "from_mdptoolbox"]

#: The kernel layouts: ``"SAS"`` is ``P[s, a, s']`` (QuantEcon, theory_rl), ``"ASS"`` is ``P[a, s, s']``
#: (pymdptoolbox).
LAYOUTS = ("SAS", "ASS")
_READING = {"SAS": "(S, A, S)", "ASS": "(A, S, S)"}
#: Tolerance on the row sums of a kernel (TabularMDP's own).
PROB_TOL = 1e-10
_INFEASIBLE = ("a transition reward of -inf is not an action mask: give infeasible actions -inf in a (S, A) "
               "reward table (issue 15, item 5)")


def kernel_layout(shape: tuple, name: str, native: str, library: str, layout: str | None) -> str:
    """The layout of a 3-D kernel of ``shape``: ``layout`` if given (and it fits), else ``native`` when it is the
    only reading that fits; otherwise a ValueError asking for ``layout=``."""
    X, Y, Z = shape
    fits = {"SAS": X == Z, "ASS": Y == Z}
    if layout is not None:
        if not fits[layout]:
            raise ValueError(f"{name} has shape {shape}, which is not {_READING[layout]} as layout={layout!r} says")
        return layout
    other = "ASS" if native == "SAS" else "SAS"
    if fits[native] and fits[other]:
        raise ValueError(f"layout is None, and {name} of shape {shape} reads both as {_READING[native]} "
                         f"({library}'s layout) and as {_READING[other]}: S == A. Pass layout={native!r} or "
                         f"layout={other!r}; it is never guessed")  # fmt: skip
    if fits[native]:
        return native
    if fits[other]:
        raise ValueError(f"layout is None, and {name} of shape {shape} is not {library}'s {_READING[native]} but "
                         f"reads as {_READING[other]}: pass layout={other!r} if that is what it is")  # fmt: skip
    raise ValueError(f"{name} has shape {shape}, expected {_READING['SAS']} or {_READING['ASS']}")


def finite_rewards(R, name: str, ndim, *, allow_infeasible: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """``R`` as a float array and its ``-inf`` entries (QuantEcon's infeasible actions) as a bool array, None when
    there is none; the ``-inf`` entries read 0 in the float array. ``allow_infeasible=False`` refuses them."""
    try:
        arr = np.asarray(R)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric: {err}") from None
    infeasible = None
    if arr.dtype.kind in "fiu" and arr.size and (arr == -np.inf).any():
        if not allow_infeasible:
            idx = tuple(np.argwhere(arr == -np.inf)[0])
            raise ValueError(f"{name}{index_str(idx)} is -inf: {_INFEASIBLE}")
        infeasible = arr == -np.inf
        arr = np.where(infeasible, 0.0, arr)
    return as_float_array(arr, name, ndim=ndim), infeasible


def check_rows(kernel: scipy.sparse.csr_array, name: str, label) -> None:
    """Every row of a CSR kernel is a distribution (entries >= 0, sum 1 within PROB_TOL)."""
    data = kernel.data
    if not np.isfinite(data).all() or (data < 0).any():
        bad = int(np.argmax(~np.isfinite(data) | (data < 0)))
        row = int(np.searchsorted(kernel.indptr, bad, side="right") - 1)
        raise ValueError(f"{name}{label(row)} has entry {data[bad]!r}, expected probabilities >= 0")
    sums = np.asarray(kernel.sum(axis=1)).reshape(-1)
    off = np.abs(sums - 1.0) > PROB_TOL
    if off.any():
        row = int(np.argmax(off))
        raise ValueError(f"{name}{label(row)} sums to {sums[row]:.12g}, expected 1 (tolerance {PROB_TOL:g})")


def build(kernel, R_flat: np.ndarray, S: int, A: int, init, gamma, horizon, reward_range, reward_noise, sparse,
          source: str, meta: dict, infeasible=None) -> ImportedMDP:  # fmt: skip
    """The :class:`ImportedMDP` of a CSR kernel ``(S*A, S)`` (rows ``s*A + a``) and mean rewards ``(S*A,)``:
    stored sparse or dense as :func:`~theory_rl.generators.csr.use_sparse` says. With both ``gamma`` and
    ``horizon`` (a discounted finite horizon), the MDP's native form (``gamma = 1``: undiscounted). ``infeasible``
    (bool ``(S*A,)``, optional): the pairs that become ``mdp.feasible``'s False entries (reward 0 in the unit
    scale; an empty row becomes a self-loop)."""
    infeasible = np.zeros(S * A, bool) if infeasible is None else np.asarray(infeasible, bool).reshape(-1)
    finite = R_flat[~infeasible]
    if finite.size == 0:
        raise ValueError("every action is infeasible (R is -inf everywhere)")
    reward_map = fit_reward_map(float(finite.min()), float(finite.max()), reward_range)
    kernel = fill_empty_rows(kernel, infeasible.reshape(S, A)) if infeasible.any() else kernel
    kernel.sum_duplicates()
    if use_sparse(S * A * S, kernel.nnz, sparse):
        P = kernel
    else:
        check_table("P", (S, A, S), ("S", "A", "S"))
        P = kernel.toarray().reshape(S, A, S)
    init = np.full(S, 1.0 / S) if init is None else init
    R_unit = np.clip(reward_map.to_unit(R_flat.reshape(S, A)), 0.0, 1.0)  # clips rounding only: R in range
    R_unit[infeasible.reshape(S, A)] = 0.0  # a placeholder, never read (issue 15)
    mdp = TabularMDP(P, R_unit, init, gamma=gamma, horizon=horizon, reward_noise=reward_noise,
                     feasible=~infeasible.reshape(S, A) if infeasible.any() else None)
    return ImportedMDP(mdp, reward_map, None, source, {"S": S, "A": A, "nonzeros": int(kernel.nnz), **meta})


def _sa_label(A: int):
    return lambda row: f"[{row // A}, {row % A}]"


@validate_params(beta=Real(0, 1), horizon=Integer(1, optional=True), layout=Options(LAYOUTS, optional=True),
                 reward_noise=Options(REWARD_NOISES))  # fmt: skip
def from_discrete_dp(
    R,
    Q,
    beta: float,
    s_indices=None,
    a_indices=None,
    *,
    horizon: int | None = None,
    layout: str | None = None,
    init=None,
    reward_range=None,
    reward_noise: str = "deterministic",
    sparse: bool | None = None,
) -> ImportedMDP:
    """An MDP from QuantEcon's ``DiscreteDP(R, Q, beta[, s_indices, a_indices])`` arrays.

    Parameters
    ----------
    R : array_like, shape (S, A) or (L,)
        Rewards (finite reals, or ``-inf``: QuantEcon's infeasible action, which becomes ``mdp.feasible``).
    Q : array_like, shape (S, A, S) or (L, S), or scipy.sparse (L, S)
        Transition probabilities (product form, or one row per state-action pair).
    beta : float
        Discount factor in [0, 1) (in [0, 1] with ``horizon``).
    s_indices, a_indices : array_like of int, shape (L,), optional
        The state-action pair form: pair ``l`` is ``(s_indices[l], a_indices[l])``; every pair of
        ``0..S-1 x 0..max(a_indices)`` appears at most once (a missing pair is an infeasible action).
    horizon : int, optional
        A finite horizon ``T``, as QuantEcon's ``backward_induction(ddp, T)`` (terminal values 0). With
        ``beta < 1`` the MDP is discounted by ``beta`` over its ``T`` steps (``mdp.gamma`` with ``mdp.horizon``).
    layout : {"SAS", "ASS"}, optional
        Axis order of a product-form ``Q``: needed when ``S == A`` (see the module doc).
    init : array_like, shape (S,), optional
        Initial distribution; uniform by default.
    reward_range : (float, float), optional
        The range mapped to [0, 1]; by default the rewards' own (identity if they lie in [0, 1]).
    reward_noise : str, default "deterministic"
        Reward sampling of the MDP (see :class:`~theory_rl.mdp.TabularMDP`).
    sparse : bool, optional
        Store the transitions sparse (CSR) or dense; by default sparse when large
        (:func:`theory_rl.generators.csr.use_sparse`).

    Returns
    -------
    ImportedMDP
        ``reward_map.values(V, mdp)`` gives QuantEcon's ``v``.
    """
    if (s_indices is None) != (a_indices is None):
        raise ValueError("s_indices and a_indices must be given together (the state-action pair form) or not at all")
    if horizon is None and beta == 1.0:
        raise ValueError("beta is 1.0: an infinite-horizon problem needs beta < 1 (give horizon for a finite one)")
    if s_indices is None:
        R, infeasible = finite_rewards(R, "R", 2)
        Q = as_float_array(Q, "Q", ndim=3)
        layout = kernel_layout(Q.shape, "Q", "SAS", "QuantEcon", layout)
        if layout == "ASS":
            Q = Q.transpose(1, 0, 2)
        S, A = Q.shape[0], Q.shape[1]
        if R.shape != (S, A):
            raise ValueError(f"R has shape {R.shape}, expected (S, A) = ({S}, {A})")
        kernel = scipy.sparse.csr_array(Q.reshape(S * A, S))
        check_rows(kernel, "Q", _sa_label(A))
        return build(kernel, R.reshape(-1), S, A, init, beta, horizon, reward_range, reward_noise, sparse,
                     "QuantEcon DiscreteDP (product form)", {"layout": layout}, infeasible)  # fmt: skip
    if layout is not None:
        raise ValueError(f"layout is {layout!r}, but it applies to the product form only (s_indices given)")
    R, infeasible = finite_rewards(R, "R", 1)
    if scipy.sparse.issparse(Q):
        if Q.ndim != 2:
            raise ValueError(f"Q has shape {Q.shape}, expected (L, S)")
        Q = scipy.sparse.csr_array(Q, dtype=np.float64)
    else:
        Q = scipy.sparse.csr_array(as_float_array(Q, "Q", ndim=2))
    L, S = Q.shape
    if L < 1 or S < 1:
        raise ValueError(f"Q has shape {Q.shape}, expected at least one pair and one state")
    s_idx = as_index_array(s_indices, "s_indices", S)
    a_idx = as_index_array(a_indices, "a_indices", None)
    for name, arr in (("R", R), ("s_indices", s_idx), ("a_indices", a_idx)):
        if arr.shape != (L,):
            raise ValueError(f"{name} has shape {arr.shape}, expected (L,) = ({L},), one entry per row of Q")
    A = int(a_idx.max()) + 1
    check_table("the state-action pairs", (S, A), ("S", "A"))
    pair = s_idx * A + a_idx
    seen = np.bincount(pair, minlength=S * A)
    if (seen > 1).any():
        p = int(np.argmax(seen > 1))
        raise ValueError(f"s_indices, a_indices list the pair ({p // A}, {p % A}) {seen[p]} times, expected once")
    check_rows(Q, "Q", lambda row: f"[{row}]")
    # Row s*A + a of the full kernel: pair l's row, empty for a pair left out (infeasible, as R = -inf).
    Q = scipy.sparse.csr_array(Q)
    lengths = np.zeros(S * A, np.int64)
    lengths[pair] = np.diff(Q.indptr)
    order = np.argsort(pair)
    rows = Q[order]
    kernel = scipy.sparse.csr_array((rows.data, rows.indices, np.concatenate(([0], np.cumsum(lengths)))),
                                    shape=(S * A, S))
    R_full = np.zeros(S * A)
    R_full[pair] = R
    missing = seen == 0
    if infeasible is not None:
        missing[pair[infeasible]] = True
    return build(kernel, R_full, S, A, init, beta, horizon, reward_range, reward_noise, sparse,
                 "QuantEcon DiscreteDP (state-action pair form)", {"L": L}, missing)  # fmt: skip


def _as_kernel_stack(P, name: str = "P"):
    """``P`` as a 3-D float array, or (a list of ``A`` square matrices, some sparse) a CSR ``(A*S, S)`` with
    ``(A, S, S)``; returns ``(dense or None, csr or None, shape)``. ``-inf`` in rewards is QuantEcon's infeasible
    action (its own message); in a kernel, an invalid entry like NaN."""
    def conv(x, label, ndim):  # a transition reward of -inf is refused: it is not an action mask
        return finite_rewards(x, label, ndim, allow_infeasible=False)[0] if name == "R" else \
            as_float_array(x, label, ndim=ndim)

    if isinstance(P, (list, tuple)) or (isinstance(P, np.ndarray) and P.dtype == object):
        mats = list(P)
        if not mats:
            raise ValueError(f"{name} is empty, expected A >= 1 matrices (S, S)")
        if any(scipy.sparse.issparse(m) for m in mats):
            blocks = []
            for a, m in enumerate(mats):
                m = scipy.sparse.csr_array(m) if scipy.sparse.issparse(m) else \
                    scipy.sparse.csr_array(conv(m, f"{name}[{a}]", 2))
                if m.shape != np.shape(mats[0]) or m.shape[0] != m.shape[1]:
                    raise ValueError(f"{name}[{a}] has shape {m.shape}, expected square (S, S) like {name}[0]")
                blocks.append(m.astype(np.float64))
            S = blocks[0].shape[0]
            return None, scipy.sparse.vstack(blocks, format="csr"), (len(blocks), S, S)
        if len({np.shape(m) for m in mats}) != 1:
            raise ValueError(f"{name} lists matrices of different shapes, expected A matrices (S, S)")
        P = np.stack([conv(m, f"{name}[{a}]", 2) for a, m in enumerate(mats)])
    P = conv(P, name, 3)
    return P, None, P.shape


@validate_params(discount=Real(0, 1, closed="right", optional=True), horizon=Integer(1, optional=True),
                 layout=Options(LAYOUTS, optional=True), reward_noise=Options(REWARD_NOISES))  # fmt: skip
def from_mdptoolbox(
    P,
    R,
    discount: float | None = None,
    *,
    horizon: int | None = None,
    layout: str | None = None,
    init=None,
    reward_range=None,
    reward_noise: str = "deterministic",
    sparse: bool | None = None,
) -> ImportedMDP:
    """An MDP from pymdptoolbox's ``(P, R, discount)`` arrays.

    Parameters
    ----------
    P : array_like, shape (A, S, S), or a list of A (S, S) matrices (dense or scipy.sparse)
        ``P[a][s, s']``.
    R : array_like, shape (S,), (S, A) or like P ((A, S, S) or a list of A (S, S) matrices)
        Rewards of a state, a state-action pair or a transition (then averaged: ``R(s, a) = sum P R``).
    discount : float, optional
        Discount factor in (0, 1) of an infinite-horizon problem; in (0, 1] with ``horizon`` (None: 1).
    horizon : int, optional
        A finite horizon ``N``, pymdptoolbox's ``FiniteHorizon(P, R, discount, N)`` (terminal values 0). With
        ``discount < 1`` the MDP is discounted by it over its ``N`` steps (``mdp.gamma`` with ``mdp.horizon``).
    layout : {"ASS", "SAS"}, optional
        Axis order of ``P``: needed when ``S == A`` (see the module doc).
    init, reward_range, reward_noise, sparse
        As in :func:`from_discrete_dp`.

    Returns
    -------
    ImportedMDP
    """
    if horizon is None and (discount is None or discount == 1.0):
        raise ValueError(f"discount is {discount!r} without a horizon: an infinite-horizon problem needs a discount "
                         "in (0, 1); give horizon for a finite one")  # fmt: skip
    dense, stacked, shape = _as_kernel_stack(P)
    layout = kernel_layout(shape, "P", "ASS", "pymdptoolbox", layout)
    if layout == "ASS":
        A, S = shape[0], shape[1]
        stacked = scipy.sparse.csr_array(dense.reshape(A * S, S)) if stacked is None else stacked
        order = (np.arange(S)[:, None] + S * np.arange(A)[None, :]).reshape(-1)  # rows a*S + s -> s*A + a
        kernel = stacked[order]
    else:
        S, A = shape[0], shape[1]
        kernel = scipy.sparse.csr_array(dense.reshape(S * A, S))
    check_table("P", (S, A), ("S", "A"))
    check_rows(kernel, "P", (lambda row: f"[{row % A}][{row // A}]") if layout == "ASS" else _sa_label(A))
    if isinstance(R, (list, tuple)) or (isinstance(R, np.ndarray) and R.dtype == object):
        R_dense, R_stack, R_shape = _as_kernel_stack(R, "R")  # refuses -inf (a transition reward)
        infeasible = None
    else:
        R_dense, infeasible = finite_rewards(R, "R", (1, 2, 3))
        R_stack, R_shape = None, R_dense.shape
    if len(R_shape) == 3:  # the reward of each transition, averaged over P
        if R_shape != shape:
            raise ValueError(f"R has shape {R_shape}, expected {shape} like P")
        if infeasible is not None:
            finite_rewards(R, "R", 3, allow_infeasible=False)  # raises, naming the entry
        if R_stack is None:
            R_stack = scipy.sparse.csr_array(R_dense.reshape(-1, R_dense.shape[-1]))
        if not np.isfinite(R_stack.data).all():
            raise ValueError(f"R holds a non-finite reward: {_INFEASIBLE}")
        R_rows = R_stack[order] if layout == "ASS" else R_stack
        R_flat = np.asarray(kernel.multiply(R_rows).sum(axis=1)).reshape(-1)
    elif R_dense.shape == (S,):
        R_flat = np.repeat(R_dense, A)
        infeasible = None if infeasible is None else np.repeat(infeasible, A)  # a state without actions: refused
    elif R_dense.shape == (S, A):
        R_flat = R_dense.reshape(-1)
    else:
        raise ValueError(f"R has shape {R_shape}, expected (S,) = ({S},), (S, A) = ({S}, {A}) or {shape} like P")
    gamma = 1.0 if discount is None else discount
    return build(kernel, R_flat, S, A, init, gamma, horizon, reward_range, reward_noise, sparse, "pymdptoolbox (P, R)",
                 {"layout": layout}, infeasible)  # fmt: skip

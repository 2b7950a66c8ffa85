"""The ONE counts record of tabular data (:class:`CountDataset`) and its maximum-likelihood model.

Every tabular algorithm reads the same sufficient statistics, stage-indexed for a finite horizon: visit counts
``N_h(s, a)``, transition counts ``C_h(s, a, s')`` and reward sums ``R_h(s, a)``; shapes ``(S, A[, S])``
(discounted) or ``(H, S, A[, S])`` (finite horizon). Online algorithms build it round by round with
:class:`theory_rl.data.builder.CountsBuilder`.

Empirical model convention (unseen pairs, ``N(s, a) = 0``): ``P_hat(. | s, a)`` is uniform (Li et al. 2024) or a
self-loop, by the ``unseen`` parameter, and ``r_hat(s, a) = unseen_reward`` (0 by default, as in LCB,
Rashidinejad et al. 2021, Alg. 1-3).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from theory_rl._validation import Options, Real, check_int, check_mapping, index_str, validate_params
from theory_rl.data.files import copy_meta, write_files
from theory_rl.mdp import TabularMDP
from theory_rl.scales import scale_meta_of

__all__ = ["UNSEEN_CONVENTIONS", "EmpiricalModel", "CountDataset"]

#: ``P_hat(. | s, a)`` of an unseen pair: uniform over states or a self-loop.
UNSEEN_CONVENTIONS = ("uniform", "self_loop")


@dataclass(frozen=True)
class EmpiricalModel:
    """Maximum-likelihood model from counts, with the unseen-pair convention applied.

    Attributes
    ----------
    P : numpy.ndarray
        ``P_hat``, shape ``(S, A, S)`` or ``(H, S, A, S)``.
    R : numpy.ndarray
        ``r_hat`` (mean observed reward; not clipped), shape ``(S, A)`` or ``(H, S, A)``.
    counts : numpy.ndarray
        ``N(s, a)`` or ``N_h(s, a)``.
    seen : numpy.ndarray
        Boolean mask ``N > 0``.
    """

    P: np.ndarray
    R: np.ndarray
    counts: np.ndarray
    seen: np.ndarray


def check_sizes(obj) -> None:
    """``S``, ``A`` positive integers, ``horizon`` a positive integer or None, ``gamma`` in [0, 1) or None (not
    both set), ``meta`` a dict (the dataset's provenance, saved as JSON)."""
    check_int(obj.S, "S", low=1)
    check_int(obj.A, "A", low=1)
    if obj.horizon is not None:
        check_int(obj.horizon, "horizon", low=1)
    g = obj.gamma
    if g is not None and not (
        isinstance(g, (int, float, np.integer, np.floating)) and not isinstance(g, bool) and np.isfinite(g)
    ):
        raise ValueError(f"gamma is {g!r}, expected a finite number or None")
    # A discount factor is in [0, 1) (1.5 made VI-LCB optimistic, 1 divides by zero), and a dataset is discounted
    # or finite-horizon, never both (issue 13).
    if g is not None and not 0.0 <= g < 1.0:
        raise ValueError(f"gamma is {g!r}, expected a discount factor in [0, 1) or None")
    if g is not None and obj.horizon is not None:
        raise ValueError(f"gamma is {g!r} and horizon is {obj.horizon!r}: a dataset is discounted (gamma) or "
                         "finite-horizon (horizon), not both")
    check_mapping(obj.meta, "meta")


def check_compatible(a, b) -> None:
    """Two datasets of the same ``S``, ``A``, ``gamma`` and ``horizon`` (else a ValueError naming the field)."""
    for attr in ("S", "A", "gamma", "horizon"):
        if getattr(a, attr) != getattr(b, attr):
            raise ValueError(f"datasets differ in {attr}: {getattr(a, attr)} vs {getattr(b, attr)}")


def _check_count_dataset(d: CountDataset) -> None:
    """Shapes against ``S, A`` (and ``H``), non-negative finite counts, ``sum_s' C(s, a, s') = N(s, a)``,
    finite reward sums; ValueErrors name the first bad entry. O(size) numpy, no Python loop."""
    check_sizes(d)
    shape = (d.S, d.A) if d.horizon is None else (d.horizon, d.S, d.A)
    dims = ("S", "A") if d.horizon is None else ("horizon", "S", "A")
    for name, want, what in (("counts", shape, dims), ("transition_counts", shape + (d.S,), dims + ("S",)),
                             ("reward_sums", shape, dims)):  # fmt: skip
        arr = getattr(d, name)
        if not isinstance(arr, np.ndarray) or arr.shape != want:
            got = arr.shape if isinstance(arr, np.ndarray) else type(arr).__name__
            raise ValueError(f"{name} has shape {got}, expected ({', '.join(what)}) = {want}")
        if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
            raise ValueError(f"{name} has dtype {arr.dtype}, expected integers or floats")
        bad = ~np.isfinite(arr) if np.issubdtype(arr.dtype, np.floating) else np.zeros(arr.shape, bool)
        if name != "reward_sums":
            bad |= arr < 0
        if bad.any():
            j = tuple(np.argwhere(bad)[0])
            what = "a finite number" if name == "reward_sums" else "a finite count >= 0"
            raise ValueError(f"{name}{index_str(j)} is {arr[j]}, expected {what}")
    N = d.counts
    total = d.transition_counts.sum(axis=-1)
    bad = np.abs(total - N) > 1e-12 * np.maximum(1.0, np.abs(N))
    if bad.any():
        j = tuple(np.argwhere(bad)[0])
        i = index_str(j)
        raise ValueError(f"transition_counts{i} sums to {total[j]} over next states, but counts{i} is {N[j]}")


@dataclass(frozen=True, eq=False)
class CountDataset:
    """Sufficient statistics of tabular data: counts, transition counts and reward sums.

    Shapes: ``counts`` ``(S, A)`` (discounted) or ``(H, S, A)`` (finite horizon, per step),
    ``transition_counts`` the same plus a trailing ``S`` axis, ``reward_sums`` the shape of ``counts``.
    This is all that LCB, VI-LCB and the other tabular algorithms read.

    Construction (and :func:`theory_rl.data.load`) checks the shapes against ``S``, ``A`` (and ``H``), that counts
    and transition counts are finite and ``>= 0``, that ``transition_counts`` sums over next states to ``counts``
    and that reward sums are finite: a ValueError names the first bad entry.
    """

    counts: np.ndarray
    transition_counts: np.ndarray
    reward_sums: np.ndarray
    S: int
    A: int
    gamma: float | None = None
    horizon: int | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_count_dataset(self)

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.counts.sum())

    @validate_params(unseen=Options(UNSEEN_CONVENTIONS), unseen_reward=Real())
    def empirical_model(self, unseen: str = "uniform", unseen_reward: float = 0.0) -> EmpiricalModel:
        """``P_hat = C / N`` and ``r_hat = (sum of rewards) / N``; unseen pairs follow ``unseen``.

        Parameters
        ----------
        unseen : {"uniform", "self_loop"}
            ``P_hat(. | s, a)`` for ``N(s, a) = 0``: uniform over states (Li et al. 2024) or a self-loop at ``s``.
        unseen_reward : float, default 0
            ``r_hat(s, a)`` for unseen pairs (LCB, Rashidinejad et al. 2021, Alg. 1-3, uses 0).
        """
        N = self.counts
        seen = N > 0
        safe = np.where(seen, N, 1).astype(np.float64)
        P = self.transition_counts / safe[..., None]
        R = np.where(seen, self.reward_sums / safe, float(unseen_reward))
        if unseen == "uniform":
            P[~seen] = np.full(self.S, 1.0 / self.S)
        else:
            eye = np.broadcast_to(np.eye(self.S)[:, None, :], (self.S, self.A, self.S))
            eye = np.broadcast_to(eye, P.shape)
            P[~seen] = eye[~seen]
        return EmpiricalModel(P, R, N.copy(), seen)

    def empirical_mdp(self, init, unseen: str = "uniform", unseen_reward: float = 0.0) -> TabularMDP:
        """The empirical model as a :class:`TabularMDP` (deterministic rewards clipped to the data's reward range,
        ``meta["reward_range"]`` or [0, 1]; a finite horizon's ``meta["discount"]`` kept; issue 15, item 5)."""
        model = self.empirical_model(unseen, unseen_reward)
        scale = scale_meta_of(self)
        low, high = scale.get("reward_range", (0.0, 1.0))
        kind = {"gamma": self.gamma} if self.horizon is None else {"horizon": self.horizon,
                                                                   "gamma": scale.get("discount")}
        return TabularMDP(model.P, np.clip(model.R, low, high), init, reward_noise="deterministic",
                          reward_range=(low, high), **kind)  # fmt: skip

    def __add__(self, other: CountDataset) -> CountDataset:
        if not isinstance(other, CountDataset):
            return NotImplemented
        check_compatible(self, other)
        return trusted_count_dataset(
            self.counts + other.counts,
            self.transition_counts + other.transition_counts,
            self.reward_sums + other.reward_sums,
            self.S,
            self.A,
            self.gamma,
            self.horizon,
            {"generator": "concatenate", "parts": [self.meta, other.meta]},
        )

    def save(self, path) -> None:
        """Write ``path.npz`` (``allow_pickle=False``) and the manifest ``path.json``, each atomically; see
        :func:`theory_rl.data.load`."""
        arrays = {"counts": self.counts, "transition_counts": self.transition_counts, "reward_sums": self.reward_sums}
        header = {"S": self.S, "A": self.A, "gamma": self.gamma, "horizon": self.horizon, "n": self.n,
                  "meta": self.meta}  # fmt: skip
        write_files(path, "counts", arrays, header)


def trusted_count_dataset(counts, transition_counts, reward_sums, S, A, gamma, horizon, meta) -> CountDataset:
    """A :class:`CountDataset` built without the construction checks, for arrays this package produced itself
    (sums of valid records, samplers' outputs): the checks are O(size) and would cost as much as the sampling.
    Never for arrays from a caller."""
    obj = object.__new__(CountDataset)
    for name, value in (("counts", counts), ("transition_counts", transition_counts), ("reward_sums", reward_sums),
                        ("S", S), ("A", A), ("gamma", gamma), ("horizon", horizon), ("meta", meta)):  # fmt: skip
        object.__setattr__(obj, name, value)
    return obj


def copy_count_dataset(d: CountDataset) -> CountDataset:
    """The same record with a copy of its meta (lazy entries stay lazy)."""
    return trusted_count_dataset(d.counts, d.transition_counts, d.reward_sums, d.S, d.A, d.gamma, d.horizon,
                                 copy_meta(d.meta))  # fmt: skip

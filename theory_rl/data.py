"""Offline datasets: sampling (i.i.d., trajectories, generative model), counts, empirical models, I/O, and
behaviour distributions with controlled concentrability.

Data models
-----------
- **i.i.d.** (Rashidinejad et al. 2021, Sec. 2): tuples ``(s, a) ~ mu``, ``r ~ R(s, a)``, ``s' ~ P(. | s, a)``.
  For a finite-horizon MDP, ``mu`` is one distribution per step and ``n`` tuples are drawn at each step.
- **Trajectories**: episodes of a (behaviour) policy from ``s_0 ~ rho``; ``H`` steps for a finite-horizon MDP, a
  given number ``n_steps`` of steps for a discounted one.
- **Generative model** (Li et al. 2024, Sec. 4): ``N`` samples of every ``(s, a[, h])``, drawn directly as
  multinomial transition counts, so only a :class:`CountDataset` is produced.

Seeds (DESIGN.md). Every sampler takes ``seed`` (int, SeedSequence or Generator). A one-trial call runs its kernel
from the uint64 ``SeedSequence(seed).generate_state(1, uint64)[0]``; a batched call of ``n_trials`` gives trial
``i`` the child ``SeedSequence(seed).spawn(n_trials)[i]`` (without mutating a SeedSequence passed in). Hence
``sample_trajectories_batch(..., seed=7, n_trials=4)[i]`` equals
``sample_trajectories(..., seed=np.random.SeedSequence(7).spawn(4)[i])`` for any number of numba threads.
A Generator seed is turned into a SeedSequence by drawing one 63-bit integer from it.

Empirical model convention (unseen pairs, ``N(s, a) = 0``): ``P_hat(. | s, a)`` is uniform (Li et al. 2024) or a
self-loop, by the ``unseen`` parameter, and ``r_hat(s, a) = unseen_reward`` (0 by default, as in LCB Alg. 1-3).
"""

from __future__ import annotations

import json
import os
import weakref
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize

from theory_rl import _kernels
from theory_rl._random import SeedLike
from theory_rl._validation import check_positive_int
from theory_rl.coverage import _max_ratio, as_distribution, concentrability
from theory_rl.mdp import TabularMDP
from theory_rl.planning import occupancy, solve
from theory_rl.policies import epsilon_mixture, is_deterministic, policy_matrix

__all__ = [
    "trial_seeds",
    "OfflineDataset",
    "CountDataset",
    "EmpiricalModel",
    "sample_iid",
    "sample_iid_batch",
    "sample_iid_counts",
    "sample_trajectories",
    "sample_trajectories_batch",
    "sample_generative",
    "sample_transitions",
    "concatenate",
    "load",
    "ControlledCoverage",
    "controlled_coverage",
]

UNSEEN_CONVENTIONS = ("uniform", "self_loop")


# ---------------------------------------------------------------------- seeds
def _seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    if seed is None:
        raise ValueError("seed is None; pass an int, a numpy SeedSequence or a numpy Generator")
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int, SeedSequence or Generator, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed is {seed}, expected a non-negative int")
    return np.random.SeedSequence(int(seed))


def _kernel_seed(ss: np.random.SeedSequence) -> np.uint64:
    return ss.generate_state(1, np.uint64)[0]


def _children(ss: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    # Exactly SeedSequence.spawn(n) of a fresh copy, without mutating the caller's SeedSequence.
    return [
        np.random.SeedSequence(ss.entropy, spawn_key=ss.spawn_key + (i,), pool_size=ss.pool_size)
        for i in range(n)
    ]


def trial_seeds(seed: SeedLike, n_trials: int) -> np.ndarray:
    """One uint64 kernel seed per trial: ``SeedSequence(seed).spawn(n_trials)[i].generate_state(1, uint64)[0]``."""
    n_trials = check_positive_int(n_trials, "n_trials")
    return np.array([_kernel_seed(c) for c in _children(_seed_sequence(seed), n_trials)], dtype=np.uint64)


def _seed_record(ss: np.random.SeedSequence) -> dict:
    return {"entropy": str(ss.entropy), "spawn_key": [int(k) for k in ss.spawn_key]}


# ---------------------------------------------------------------------- model tables (cached per MDP)
@dataclass(frozen=True)
class _Tables:
    P_prob: np.ndarray
    P_alias: np.ndarray
    init_prob: np.ndarray
    init_alias: np.ndarray
    R: np.ndarray  # (nR, S, A)
    noise: int
    std: float


_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _check_mdp(mdp) -> TabularMDP:
    if not isinstance(mdp, TabularMDP):
        raise ValueError(f"expected a TabularMDP (or bandit), got {type(mdp).__name__}")
    return mdp


def _tables(mdp: TabularMDP) -> _Tables:
    tables = _TABLES.get(mdp)
    if tables is None:
        S, A = mdp.S, mdp.A
        P_prob, P_alias = _kernels.build_alias(np.ascontiguousarray(mdp.P.reshape(-1, S)))
        init_prob, init_alias = _kernels.build_alias(np.ascontiguousarray(mdp.init.reshape(1, S)))
        R = np.ascontiguousarray(mdp.R.reshape(-1, S, A))
        tables = _Tables(
            P_prob, P_alias, init_prob, init_alias, R, _kernels.NOISE_CODES[mdp.reward_noise], mdp.reward_std
        )
        _TABLES[mdp] = tables
    return tables


@dataclass(frozen=True)
class _PolicyTables:
    probs: np.ndarray  # (nPi, S, A)
    prob: np.ndarray
    alias: np.ndarray
    actions: np.ndarray  # (nPi, S) int32
    deterministic: bool


def _policy_tables(mdp: TabularMDP, policy, name: str = "policy") -> _PolicyTables:
    pi = policy_matrix(mdp, policy, name=name)
    probs = np.ascontiguousarray(pi.reshape(-1, mdp.S, mdp.A))
    if mdp.is_episodic and np.all(probs == probs[:1]):
        probs = np.ascontiguousarray(probs[:1])  # stationary: one table serves every step
    deterministic = is_deterministic(probs)
    actions = np.argmax(probs, axis=-1).astype(np.int32)
    if deterministic:
        prob, alias = np.ones((1, 1)), np.zeros((1, 1), dtype=np.int32)
    else:
        prob, alias = _kernels.build_alias(probs.reshape(-1, mdp.A))
    return _PolicyTables(probs, prob, alias, actions, deterministic)


# ---------------------------------------------------------------------- count datasets
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


def _first_bad(bad: np.ndarray) -> str:
    """``[i, j, ...]`` index of the first True entry of ``bad`` (C order)."""
    idx = np.unravel_index(int(np.argmax(bad)), bad.shape)
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def _check_sizes(obj) -> None:
    for name in ("S", "A"):
        v = getattr(obj, name)
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} is {v!r}, expected a positive integer")
    h = obj.horizon
    if h is not None and (isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1):
        raise ValueError(f"horizon is {h!r}, expected a positive integer or None")
    g = obj.gamma
    if g is not None and not (isinstance(g, (int, float, np.integer, np.floating)) and np.isfinite(g)):
        raise ValueError(f"gamma is {g!r}, expected a finite number or None")


def _check_count_dataset(d: CountDataset) -> None:
    """Shapes against ``S, A`` (and ``H``), non-negative finite counts, ``sum_s' C(s, a, s') = N(s, a)``,
    finite reward sums; ValueErrors name the first bad entry. O(size) numpy, no Python loop."""
    _check_sizes(d)
    shape = (d.S, d.A) if d.horizon is None else (d.horizon, d.S, d.A)
    arrays = {"counts": d.counts, "transition_counts": d.transition_counts, "reward_sums": d.reward_sums}
    for name, want in (("counts", shape), ("transition_counts", shape + (d.S,)), ("reward_sums", shape)):
        arr = arrays[name]
        if not isinstance(arr, np.ndarray) or arr.shape != want:
            got = arr.shape if isinstance(arr, np.ndarray) else type(arr).__name__
            raise ValueError(f"{name} has shape {got}, expected {want}")
        if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
            raise ValueError(f"{name} has dtype {arr.dtype}, expected integers or floats")
        bad = ~np.isfinite(arr) if np.issubdtype(arr.dtype, np.floating) else np.zeros(arr.shape, bool)
        if name != "reward_sums":
            bad |= arr < 0
        if bad.any():
            j = np.unravel_index(int(np.argmax(bad)), arr.shape)
            what = "a finite number" if name == "reward_sums" else "a finite count >= 0"
            raise ValueError(f"{name}{_first_bad(bad)} is {arr[j]}, expected {what}")
    N = d.counts
    total = d.transition_counts.sum(axis=-1)
    bad = np.abs(total - N) > 1e-12 * np.maximum(1.0, np.abs(N))
    if bad.any():
        i = _first_bad(bad)
        j = np.unravel_index(int(np.argmax(bad)), bad.shape)
        raise ValueError(
            f"transition_counts{i} sums to {total[j]} over next states, but counts{i} is {N[j]}"
        )


def _check_offline_dataset(d: OfflineDataset) -> None:
    """Aligned 1-D arrays, integer indices in range (``state``, ``next_state`` in ``0..S-1``, ``action`` in
    ``0..A-1``, ``step`` in ``0..H-1`` or ``>= 0`` when discounted), finite rewards, behaviour probabilities
    in ``[0, 1]``; ValueErrors name the first bad entry. O(n) numpy, no Python loop."""
    _check_sizes(d)
    n = None
    for f in _FIELDS:
        arr = getattr(d, f)
        if not isinstance(arr, np.ndarray) or arr.ndim != 1:
            got = arr.shape if isinstance(arr, np.ndarray) else type(arr).__name__
            raise ValueError(f"{f} must be a 1-D numpy array, got shape {got}")
        if n is None:
            n = arr.shape[0]
        elif arr.shape[0] != n:
            raise ValueError(f"{f} has {arr.shape[0]} entries, but state has {n}")
    upper = {"state": d.S, "next_state": d.S, "action": d.A, "step": d.horizon, "episode": None}
    for f, hi in upper.items():
        arr = getattr(d, f)
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{f} has dtype {arr.dtype}, expected an integer array")
        bad = arr < 0
        if hi is not None:
            bad |= arr >= hi
        if bad.any():
            i = int(np.argmax(bad))
            rng = "an integer >= 0" if hi is None else f"a value in 0..{hi - 1}"
            raise ValueError(f"{f}[{i}] is {arr[i]}, expected {rng}")
    for f, lo, hi in (("reward", -np.inf, np.inf), ("behaviour_prob", 0.0, 1.0)):
        arr = getattr(d, f)
        if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(f"{f} has dtype {arr.dtype}, expected a float array")
        bad = ~np.isfinite(arr) | (arr < lo) | (arr > hi)
        if bad.any():
            i = int(np.argmax(bad))
            what = "a finite number" if f == "reward" else "a probability in [0, 1]"
            raise ValueError(f"{f}[{i}] is {arr[i]}, expected {what}")


@dataclass(frozen=True, eq=False)
class CountDataset:
    """Sufficient statistics of tabular data: counts, transition counts and reward sums.

    Shapes: ``counts`` ``(S, A)`` (discounted) or ``(H, S, A)`` (finite horizon, per step),
    ``transition_counts`` the same plus a trailing ``S`` axis, ``reward_sums`` the shape of ``counts``.
    This is all that LCB, VI-LCB and the other tabular algorithms read.

    Construction (and :func:`load`) checks the shapes against ``S``, ``A`` (and ``H``), that counts and
    transition counts are finite and ``>= 0``, that ``transition_counts`` sums over next states to ``counts``
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

    def empirical_model(self, unseen: str = "uniform", unseen_reward: float = 0.0) -> EmpiricalModel:
        """``P_hat = C / N`` and ``r_hat = (sum of rewards) / N``; unseen pairs follow ``unseen``.

        Parameters
        ----------
        unseen : {"uniform", "self_loop"}
            ``P_hat(. | s, a)`` for ``N(s, a) = 0``: uniform over states (Li et al. 2024) or a self-loop at ``s``.
        unseen_reward : float, default 0
            ``r_hat(s, a)`` for unseen pairs (LCB, Rashidinejad et al. 2021, Alg. 1-3, uses 0).
        """
        if unseen not in UNSEEN_CONVENTIONS:
            raise ValueError(f"unseen is {unseen!r}, expected one of {UNSEEN_CONVENTIONS}")
        unseen_reward = float(unseen_reward)
        if not np.isfinite(unseen_reward):
            raise ValueError(f"unseen_reward is {unseen_reward}, expected a finite number")
        N = self.counts
        seen = N > 0
        safe = np.where(seen, N, 1).astype(np.float64)
        P = self.transition_counts / safe[..., None]
        R = np.where(seen, self.reward_sums / safe, unseen_reward)
        if unseen == "uniform":
            fill = np.full(self.S, 1.0 / self.S)
            P[~seen] = fill
        else:
            eye = np.broadcast_to(np.eye(self.S)[:, None, :], (self.S, self.A, self.S))
            eye = np.broadcast_to(eye, P.shape)
            P[~seen] = eye[~seen]
        return EmpiricalModel(P, R, N.copy(), seen)

    def empirical_mdp(self, init, unseen: str = "uniform", unseen_reward: float = 0.0) -> TabularMDP:
        """The empirical model as a :class:`TabularMDP` (rewards clipped to [0, 1]; deterministic rewards)."""
        model = self.empirical_model(unseen, unseen_reward)
        kind = {"gamma": self.gamma} if self.horizon is None else {"horizon": self.horizon}
        return TabularMDP(model.P, np.clip(model.R, 0.0, 1.0), init, reward_noise="deterministic", **kind)

    def __add__(self, other: CountDataset) -> CountDataset:
        if not isinstance(other, CountDataset):
            return NotImplemented
        _check_compatible(self, other)
        return CountDataset(
            self.counts + other.counts,
            self.transition_counts + other.transition_counts,
            self.reward_sums + other.reward_sums,
            self.S,
            self.A,
            self.gamma,
            self.horizon,
            {"generator": "concatenate", "parts": [self.meta, other.meta]},
        )

    def _arrays(self) -> dict:
        return {
            "counts": self.counts,
            "transition_counts": self.transition_counts,
            "reward_sums": self.reward_sums,
        }

    def save(self, path) -> None:
        """Write ``path.npz`` (``allow_pickle=False``) and the manifest ``path.json``; see :func:`load`."""
        _save(self, "counts", path)


def _check_compatible(a, b) -> None:
    for attr in ("S", "A", "gamma", "horizon"):
        if getattr(a, attr) != getattr(b, attr):
            raise ValueError(f"datasets differ in {attr}: {getattr(a, attr)} vs {getattr(b, attr)}")


# ---------------------------------------------------------------------- sample-level datasets
_FIELDS = ("state", "action", "reward", "next_state", "step", "episode", "behaviour_prob")


@dataclass(frozen=True, eq=False)
class OfflineDataset:
    """Transitions as a struct of arrays, one entry per sample.

    Attributes
    ----------
    state, action, next_state : numpy.ndarray of int32
    reward : numpy.ndarray of float64
    step : numpy.ndarray of int32
        Time step ``h`` of the sample (trajectories: position in the episode; i.i.d.: the step of ``mu_h``,
        0 for a discounted MDP).
    episode : numpy.ndarray of int64
        Episode id (i.i.d. data: each sample is its own one-step episode).
    behaviour_prob : numpy.ndarray of float64
        Probability of the sampled action under the behaviour policy (trajectories), or ``mu(s, a)`` (i.i.d.).
    S, A : int
    gamma, horizon : float or None, int or None
        Those of the MDP the data came from.
    meta : dict
        JSON-serialisable provenance: generator, seed, sizes, measured coverage.

    Construction (and :func:`load`) checks that the seven arrays are 1-D of one length, that states, next
    states, actions and steps are integers in range (``step < H`` for a finite horizon, ``>= 0`` otherwise),
    episode ids ``>= 0``, rewards finite and behaviour probabilities in ``[0, 1]``: a ValueError names the first
    bad entry.
    """

    state: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    next_state: np.ndarray
    step: np.ndarray
    episode: np.ndarray
    behaviour_prob: np.ndarray
    S: int
    A: int
    gamma: float | None = None
    horizon: int | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_offline_dataset(self)

    def __len__(self) -> int:
        return int(self.state.shape[0])

    @property
    def n(self) -> int:
        """Number of transitions."""
        return len(self)

    @property
    def n_episodes(self) -> int:
        """Number of distinct episodes."""
        return int(np.unique(self.episode).size)

    # ------------------------------------------------------------------ statistics
    def _pair_index(self) -> tuple[np.ndarray, tuple[int, ...]]:
        sa = self.state.astype(np.int64) * self.A + self.action
        if self.horizon is None:
            return sa, (self.S, self.A)
        return self.step.astype(np.int64) * (self.S * self.A) + sa, (self.horizon, self.S, self.A)

    @property
    def counts(self) -> np.ndarray:
        """``N(s, a)`` (discounted) or ``N_h(s, a)`` (finite horizon), int64."""
        idx, shape = self._pair_index()
        return np.bincount(idx, minlength=int(np.prod(shape))).reshape(shape)

    @property
    def transition_counts(self) -> np.ndarray:
        """``C(s, a, s')`` or ``C_h(s, a, s')``, int64."""
        idx, shape = self._pair_index()
        flat = idx * self.S + self.next_state
        return np.bincount(flat, minlength=int(np.prod(shape)) * self.S).reshape(shape + (self.S,))

    @property
    def reward_sums(self) -> np.ndarray:
        """Sum of observed rewards per pair, shape of :attr:`counts`."""
        idx, shape = self._pair_index()
        return np.bincount(idx, weights=self.reward, minlength=int(np.prod(shape))).reshape(shape)

    def to_counts(self) -> CountDataset:
        """The sufficient statistics as a :class:`CountDataset`."""
        return CountDataset(
            self.counts,
            self.transition_counts,
            self.reward_sums,
            self.S,
            self.A,
            self.gamma,
            self.horizon,
            dict(self.meta),
        )

    def empirical_model(self, unseen: str = "uniform", unseen_reward: float = 0.0) -> EmpiricalModel:
        """See :meth:`CountDataset.empirical_model`."""
        return self.to_counts().empirical_model(unseen, unseen_reward)

    def empirical_mdp(self, init, unseen: str = "uniform", unseen_reward: float = 0.0) -> TabularMDP:
        """See :meth:`CountDataset.empirical_mdp`."""
        return self.to_counts().empirical_mdp(init, unseen, unseen_reward)

    # ------------------------------------------------------------------ manipulation
    def subset(self, index) -> OfflineDataset:
        """The samples at ``index`` (an integer or boolean array), in that order."""
        return OfflineDataset(
            *(getattr(self, f)[index] for f in _FIELDS),
            self.S,
            self.A,
            self.gamma,
            self.horizon,
            dict(self.meta),
        )

    def split(self, k: int, seed: SeedLike, *, by: str = "sample") -> list[OfflineDataset]:
        """A uniformly random partition into ``k`` folds of (nearly) equal size.

        The data splitting of VI-LCB (Rashidinejad et al. 2021, Alg. 3: ``T + 1`` folds of ``m = N/(T+1)``
        samples; with ``k > N`` some folds are empty, as ``m = N/(T+1) < 1`` there). ``by="episode"`` keeps
        episodes whole (folds then balance episodes, not samples). Each fold keeps
        the original order of its samples.
        """
        k = check_positive_int(k, "k")
        if by not in ("sample", "episode"):
            raise ValueError(f"by is {by!r}, expected 'sample' or 'episode'")
        rng = np.random.default_rng(_seed_sequence(seed))
        if by == "sample":
            folds = np.array_split(rng.permutation(len(self)), k)
            return [self.subset(np.sort(f)) for f in folds]
        episodes = np.unique(self.episode)
        groups = np.array_split(rng.permutation(episodes), k)
        return [self.subset(np.flatnonzero(np.isin(self.episode, g))) for g in groups]

    # ------------------------------------------------------------------ export
    def as_arrays(self) -> dict[str, np.ndarray]:
        """Flat arrays in the d3rlpy / Minari layout (one row per transition).

        Keys: ``observations``, ``actions``, ``rewards``, ``next_observations``, ``terminations`` (always False:
        tabular MDPs have no terminal states), ``truncations`` (True on the last transition of each episode),
        ``episode_ids``. d3rlpy's ``MDPDataset(observations, actions, rewards, terminals, timeouts)`` takes
        ``terminations`` and ``truncations`` as its ``terminals`` and ``timeouts``.
        """
        last = np.ones(len(self), dtype=bool)
        if len(self) > 1:
            last[:-1] = self.episode[1:] != self.episode[:-1]
        return {
            "observations": self.state.copy(),
            "actions": self.action.copy(),
            "rewards": self.reward.copy(),
            "next_observations": self.next_state.copy(),
            "terminations": np.zeros(len(self), dtype=bool),
            "truncations": last,
            "episode_ids": self.episode.copy(),
        }

    def episodes(self) -> list[dict[str, np.ndarray]]:
        """Per-episode arrays in Minari's ``EpisodeData`` layout: ``observations`` has one more entry than
        ``actions``, ``rewards``, ``terminations`` and ``truncations``. Assumes each episode's samples are
        contiguous and in time order (true for the samplers here)."""
        out = []
        bounds = np.flatnonzero(np.diff(self.episode)) + 1
        for idx in np.split(np.arange(len(self)), bounds):
            if idx.size == 0:
                continue
            T = idx.size
            trunc = np.zeros(T, dtype=bool)
            trunc[-1] = True
            out.append(
                {
                    "id": int(self.episode[idx[0]]),
                    "observations": np.append(self.state[idx], self.next_state[idx[-1]]),
                    "actions": self.action[idx].copy(),
                    "rewards": self.reward[idx].copy(),
                    "terminations": np.zeros(T, dtype=bool),
                    "truncations": trunc,
                }
            )
        return out

    def _arrays(self) -> dict:
        return {f: getattr(self, f) for f in _FIELDS}

    def save(self, path) -> None:
        """Write ``path.npz`` (plain arrays, ``allow_pickle=False``) and the JSON manifest ``path.json``
        (generator, seed, sizes, measured coverage); read back with :func:`load`."""
        _save(self, "samples", path)


def concatenate(datasets) -> OfflineDataset:
    """Concatenate sample-level datasets (e.g. offline then online data); episode ids are renumbered so that
    episodes of different parts stay distinct."""
    datasets = list(datasets)
    if not datasets:
        raise ValueError("datasets is empty")
    for d in datasets:
        if not isinstance(d, OfflineDataset):
            raise ValueError(f"expected OfflineDataset parts, got {type(d).__name__}")
        _check_compatible(datasets[0], d)
    episodes, offset = [], 0
    for d in datasets:
        episodes.append(d.episode + offset)
        if len(d):
            offset += int(d.episode.max()) + 1
    arrays = {f: np.concatenate([getattr(d, f) for d in datasets]) for f in _FIELDS if f != "episode"}
    first = datasets[0]
    return OfflineDataset(
        episode=np.concatenate(episodes),
        S=first.S,
        A=first.A,
        gamma=first.gamma,
        horizon=first.horizon,
        meta={"generator": "concatenate", "parts": [d.meta for d in datasets]},
        **arrays,
    )


# ---------------------------------------------------------------------- I/O
def _stem(path) -> str:
    path = os.fspath(path)
    for ext in (".npz", ".json"):
        if path.endswith(ext):
            return path[: -len(ext)]
    return path


def _save(dataset, kind: str, path) -> None:
    stem = _stem(path)
    np.savez(stem + ".npz", **dataset._arrays())
    manifest = {
        "format": "theory_rl.dataset/1",
        "kind": kind,
        "S": dataset.S,
        "A": dataset.A,
        "gamma": dataset.gamma,
        "horizon": dataset.horizon,
        "n": dataset.n,
        "meta": dataset.meta,
    }
    with open(stem + ".json", "w") as fh:
        json.dump(manifest, fh, indent=2, sort_keys=True)


def load(path) -> OfflineDataset | CountDataset:
    """Read a dataset written by ``save``: ``path.npz`` (loaded with ``allow_pickle=False``) and ``path.json``."""
    stem = _stem(path)
    with open(stem + ".json") as fh:
        manifest = json.load(fh)
    if manifest.get("format") != "theory_rl.dataset/1":
        raise ValueError(f"{stem}.json is not a theory_rl dataset manifest")
    with np.load(stem + ".npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    common = dict(
        S=manifest["S"],
        A=manifest["A"],
        gamma=manifest["gamma"],
        horizon=manifest["horizon"],
        meta=manifest["meta"],
    )
    if manifest["kind"] == "counts":
        return CountDataset(**arrays, **common)
    return OfflineDataset(**arrays, **common)


# ---------------------------------------------------------------------- samplers
def _optimal_policy(mdp: TabularMDP) -> np.ndarray:
    return solve(mdp).policy


#: The optimal policy's occupancy per MDP (immutable, so the cache never goes stale); weak keys free it with the MDP.
_OPTIMAL_OCCUPANCY: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _coverage_record(mdp: TabularMDP, data_dist: np.ndarray) -> dict:
    """C* of the optimal policy w.r.t. a data distribution (exact, population level).

    Every sampler writes it into the manifest; the planning behind it runs once per MDP, not once per dataset.
    """
    d_star = _OPTIMAL_OCCUPANCY.get(mdp)
    if d_star is None:
        d_star = _OPTIMAL_OCCUPANCY[mdp] = occupancy(mdp, _optimal_policy(mdp))
    c = _max_ratio(d_star, as_distribution(mdp, data_dist), "the optimal policy", allow_infinite=True)
    return {"C_star": c if np.isfinite(c) else "inf"}  # strict JSON has no Infinity


def _trajectory_distribution(mdp: TabularMDP, policy, T: int) -> np.ndarray:
    """Population distribution of one transition drawn uniformly from the ``T``-step trajectory samples.

    Finite horizon: the per-step occupancy ``d_h`` (the data record their step). Discounted: every one of the
    ``T`` steps of an episode is a sample of equal weight, so the data distribution is the per-step average
    ``(1/T) sum_{t<T} d_t`` with ``d_t(s, a) = Pr(s_t = s, a_t = a)``, computed exactly by forward recursion
    (it is not the normalised discounted occupancy, which weights step ``t`` by ``(1 - gamma) gamma^t``).
    """
    if mdp.is_episodic:
        return occupancy(mdp, policy)
    pi = policy_matrix(mdp, policy)
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    d_s = mdp.init.astype(np.float64, copy=True)
    total = np.zeros(mdp.S)
    for _ in range(T):
        total += d_s
        d_s = P_pi.T @ d_s
    return (total / T)[:, None] * pi


def _mu_tables(mdp: TabularMDP, mu):
    mu = as_distribution(mdp, mu)
    flat = np.ascontiguousarray(mu.reshape(-1, mdp.S * mdp.A))
    prob, alias = _kernels.build_alias(flat)
    return mu, flat, prob, alias


def _iid_outputs(shape):
    return (
        np.empty(shape, np.int32),
        np.empty(shape, np.int32),
        np.empty(shape, np.float64),
        np.empty(shape, np.int32),
        np.empty(shape, np.int32),
        np.empty(shape, np.float64),
    )


def _iid_dataset(mdp, arrays, meta) -> OfflineDataset:
    s, a, r, s2, h, b = arrays
    return OfflineDataset(
        s, a, r, s2, h, np.arange(s.shape[0], dtype=np.int64), b, mdp.S, mdp.A, mdp.gamma, mdp.horizon, meta
    )


def sample_iid(mdp: TabularMDP, mu, n: int, seed: SeedLike) -> OfflineDataset:
    """i.i.d. data ``(s, a) ~ mu``, ``r ~ R(s, a)``, ``s' ~ P(. | s, a)`` (Rashidinejad et al. 2021, Sec. 2).

    Parameters
    ----------
    mdp : TabularMDP
    mu : array_like
        ``(S, A)`` for a discounted MDP; ``(H, S, A)`` (or ``(S, A)`` for every step) for a finite horizon.
    n : int
        Samples (per step for a finite horizon), ``n >= 0``.
    seed : int, SeedSequence or Generator

    Returns
    -------
    OfflineDataset
        ``n`` (or ``n * H``) samples; ``behaviour_prob`` holds ``mu_h(s, a)``; ``meta["coverage"]["C_star"]`` is
        the exact concentrability of an optimal policy w.r.t. ``mu``.
    """
    return sample_iid_batch(mdp, mu, n, seed, n_trials=None)


def sample_iid_batch(
    mdp: TabularMDP, mu, n: int, seed: SeedLike, n_trials: int | None
) -> list[OfflineDataset]:
    """``n_trials`` independent :func:`sample_iid` datasets in one parallel kernel call (trial ``i`` from the
    ``i``-th spawned child of ``seed``, see the module docstring). ``n_trials=None`` means one trial from
    ``seed`` itself and returns the dataset, not a list."""
    mdp = _check_mdp(mdp)
    n = check_positive_int(n, "n", minimum=0)
    mu, flat, mu_prob, mu_alias = _mu_tables(mdp, mu)
    t = _tables(mdp)
    ss = _seed_sequence(seed)
    stages = flat.shape[0]
    meta = {"generator": "sample_iid", "mdp": repr(mdp), "n": n, "coverage": _coverage_record(mdp, mu)}
    model = (mu_prob, mu_alias, flat, t.P_prob, t.P_alias, mdp.S, mdp.A, t.R, t.noise, t.std)
    if n_trials is None:
        out = _iid_outputs((stages * n,))
        _kernels.iid_trial(_kernel_seed(ss), *model, *out)
        return _iid_dataset(mdp, out, {**meta, "seed": _seed_record(ss)})
    n_trials = check_positive_int(n_trials, "n_trials")
    children = _children(ss, n_trials)
    seeds = np.array([_kernel_seed(c) for c in children], dtype=np.uint64)
    out = _iid_outputs((n_trials, stages * n))
    _kernels.iid_batch(seeds, model, *out)
    return [
        _iid_dataset(mdp, tuple(x[i] for x in out), {**meta, "seed": _seed_record(children[i])})
        for i in range(n_trials)
    ]


def _trajectory_args(mdp: TabularMDP, t: _Tables, pt: _PolicyTables) -> tuple:
    """The model and policy arguments of :func:`_kernels.trajectories_trial` (between seed and outputs)."""
    return (
        t.init_prob, t.init_alias, t.P_prob, t.P_alias, mdp.S, mdp.A, pt.prob, pt.alias, pt.actions,
        pt.deterministic, pt.probs, t.R, t.noise, t.std,
    )  # fmt: skip


def _traj_outputs(shape, T):
    return (
        np.empty(shape + (T + 1,), np.int32),
        np.empty(shape + (T,), np.int32),
        np.empty(shape + (T,), np.float64),
        np.empty(shape + (T,), np.float64),
    )


def _traj_dataset(mdp, arrays, meta) -> OfflineDataset:
    states, actions, rewards, bprob = arrays
    n_ep, T = actions.shape
    return OfflineDataset(
        states[:, :-1].reshape(-1),
        actions.reshape(-1),
        rewards.reshape(-1),
        states[:, 1:].reshape(-1),
        np.tile(np.arange(T, dtype=np.int32), n_ep),
        np.repeat(np.arange(n_ep, dtype=np.int64), T),
        bprob.reshape(-1),
        mdp.S,
        mdp.A,
        mdp.gamma,
        mdp.horizon,
        meta,
    )


def _episode_length(mdp: TabularMDP, n_steps) -> int:
    if mdp.is_episodic:
        if n_steps is not None and n_steps != mdp.horizon:
            raise ValueError(
                f"n_steps is {n_steps}; a finite-horizon MDP runs exactly H = {mdp.horizon} steps"
            )
        return mdp.horizon
    if n_steps is None:
        raise ValueError("a discounted MDP needs n_steps, the length of each sampled trajectory")
    return check_positive_int(n_steps, "n_steps")


def sample_trajectories(
    mdp: TabularMDP, policy, n_episodes: int, seed: SeedLike, *, n_steps: int | None = None
) -> OfflineDataset:
    """Episodes of ``policy`` from ``s_0 ~ rho``: ``H`` steps (finite horizon) or ``n_steps`` (discounted).

    Parameters
    ----------
    mdp : TabularMDP
    policy : array_like
        Behaviour policy in any form (stationary or stage-dependent, deterministic or stochastic).
    n_episodes : int
        ``>= 0``.
    seed : int, SeedSequence or Generator
    n_steps : int, optional
        Episode length ``T`` for a discounted MDP (required there). The ``T`` steps of an episode are samples
        of equal weight, so the data follow the per-step average ``(1/T) sum_{t<T} d_t`` of the step
        distributions ``d_t(s, a) = Pr(s_t = s, a_t = a)``, not the discounted occupancy ``d^pi`` (which
        weights step ``t`` by ``(1 - gamma) gamma^t``); the two differ unless the chain mixes fast.

    Returns
    -------
    OfflineDataset
        ``n_episodes * T`` transitions, episode-major; ``meta["coverage"]["C_star"]`` is the exact
        concentrability of an optimal policy (its occupancy ``d^{pi*}``) w.r.t. the distribution of the
        sampled data: the per-step occupancy ``d_h`` of the behaviour policy (finite horizon) or the
        per-step average ``(1/T) sum_{t<T} d_t`` (discounted).
    """
    return sample_trajectories_batch(mdp, policy, n_episodes, seed, None, n_steps=n_steps)


def sample_trajectories_batch(
    mdp: TabularMDP,
    policy,
    n_episodes: int,
    seed: SeedLike,
    n_trials: int | None,
    *,
    n_steps: int | None = None,
) -> list[OfflineDataset]:
    """``n_trials`` independent :func:`sample_trajectories` datasets in one parallel kernel call; trial ``i``
    equals ``sample_trajectories(..., seed=SeedSequence(seed).spawn(n_trials)[i])``. ``n_trials=None`` means
    one trial from ``seed`` itself and returns the dataset, not a list."""
    mdp = _check_mdp(mdp)
    n_episodes = check_positive_int(n_episodes, "n_episodes", minimum=0)
    T = _episode_length(mdp, n_steps)
    pt = _policy_tables(mdp, policy)
    t = _tables(mdp)
    ss = _seed_sequence(seed)
    meta = {
        "generator": "sample_trajectories",
        "mdp": repr(mdp),
        "n_episodes": n_episodes,
        "n_steps": T,
        "coverage": _coverage_record(mdp, _trajectory_distribution(mdp, policy, T)),
    }
    args = _trajectory_args(mdp, t, pt)
    if n_trials is None:
        out = _traj_outputs((n_episodes,), T)
        _kernels.trajectories_trial(_kernel_seed(ss), *args, *out)
        return _traj_dataset(mdp, out, {**meta, "seed": _seed_record(ss)})
    n_trials = check_positive_int(n_trials, "n_trials")
    children = _children(ss, n_trials)
    seeds = np.array([_kernel_seed(c) for c in children], dtype=np.uint64)
    out = _traj_outputs((n_trials, n_episodes), T)
    _kernels.trajectories_batch(seeds, args, *out)
    return [
        _traj_dataset(mdp, tuple(x[i] for x in out), {**meta, "seed": _seed_record(children[i])})
        for i in range(n_trials)
    ]


def sample_transitions(
    mdp: TabularMDP, states, actions, seed: SeedLike, *, steps=None
) -> tuple[np.ndarray, np.ndarray]:
    """Next states and rewards for given pairs (and steps, for a stage-dependent MDP): ``(next_states, rewards)``."""
    mdp = _check_mdp(mdp)
    states = _int_array(states, "states", mdp.S)
    actions = _int_array(actions, "actions", mdp.A)
    if states.shape != actions.shape:
        raise ValueError(f"states has shape {states.shape} but actions has shape {actions.shape}")
    if steps is None:
        steps = np.zeros_like(states)
    else:
        steps = _int_array(steps, "steps", mdp.horizon if mdp.is_episodic else 1)
        if steps.shape != states.shape:
            raise ValueError(f"steps has shape {steps.shape}, expected {states.shape}")
    t = _tables(mdp)
    nxt = np.empty(states.shape[0], np.int32)
    rew = np.empty(states.shape[0], np.float64)
    _kernels.sample_transitions(
        _kernel_seed(_seed_sequence(seed)),
        t.P_prob,
        t.P_alias,
        mdp.S,
        mdp.A,
        steps,
        states,
        actions,
        t.R,
        t.noise,
        t.std,
        nxt,
        rew,
    )
    return nxt, rew


def _int_array(x, name: str, upper: int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D integer array, got dtype {arr.dtype} and shape {arr.shape}")
    bad = (arr < 0) | (arr >= upper)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name}[{i}] is {arr[i]}, expected a value in 0..{upper - 1}")
    return arr.astype(np.int64)


# ---------------------------------------------------------------------- counts drawn directly
def _reward_sums(mdp: TabularMDP, N: np.ndarray, R: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if mdp.reward_noise == "bernoulli":
        return rng.binomial(N, R).astype(np.float64)
    if mdp.reward_noise == "gaussian":
        return rng.normal(N * R, np.sqrt(N) * mdp.reward_std)
    return N * R


def _multinomial_rows(rng: np.random.Generator, N: np.ndarray, P: np.ndarray) -> np.ndarray:
    P = P / P.sum(axis=-1, keepdims=True)  # exact sums for numpy's check
    return rng.multinomial(N, P)


def sample_generative(mdp: TabularMDP, n_per_pair: int, seed: SeedLike) -> CountDataset:
    """Generative-model data: ``N`` samples of every ``(s, a)`` (every ``(h, s, a)`` for a finite horizon).

    Li et al. (2024), Sec. 4 (the gambler's experiment uses ``N`` samples per ``(s, a, h)``). The transition
    counts are drawn directly as ``Multinomial(N, P(. | s, a))`` and the reward sums as ``Binomial(N, R)``
    (Bernoulli rewards), ``Normal(N R, sqrt(N) std)`` (Gaussian) or ``N R`` (deterministic): the same law as
    ``N`` single samples, at a cost independent of ``N``.
    """
    mdp = _check_mdp(mdp)
    n_per_pair = check_positive_int(n_per_pair, "n_per_pair", minimum=0)
    ss = _seed_sequence(seed)
    rng = np.random.default_rng(ss)
    P = mdp.stage_P if mdp.is_episodic else mdp.P
    R = mdp.stage_R if mdp.is_episodic else mdp.R
    N = np.full(R.shape, n_per_pair, dtype=np.int64)
    C = _multinomial_rows(rng, N, P)
    meta = {
        "generator": "sample_generative",
        "mdp": repr(mdp),
        "n_per_pair": n_per_pair,
        "seed": _seed_record(ss),
    }
    return CountDataset(N, C, _reward_sums(mdp, N, R, rng), mdp.S, mdp.A, mdp.gamma, mdp.horizon, meta)


def sample_iid_counts(mdp: TabularMDP, mu, n: int, seed: SeedLike) -> CountDataset:
    """The counts of :func:`sample_iid` drawn directly: ``N ~ Multinomial(n, mu_h)``, then transition counts and
    reward sums given ``N`` as in :func:`sample_generative`. Same law as ``sample_iid(...).to_counts()`` (not
    the same samples), at a cost independent of ``n``."""
    mdp = _check_mdp(mdp)
    n = check_positive_int(n, "n", minimum=0)
    mu = as_distribution(mdp, mu)
    ss = _seed_sequence(seed)
    rng = np.random.default_rng(ss)
    flat = mu.reshape(-1, mdp.S * mdp.A)
    N = _multinomial_rows(rng, np.full(flat.shape[0], n), flat).reshape(mu.shape)
    P = mdp.stage_P if mdp.is_episodic else mdp.P
    R = mdp.stage_R if mdp.is_episodic else mdp.R
    C = _multinomial_rows(rng, N, P)
    meta = {
        "generator": "sample_iid_counts",
        "mdp": repr(mdp),
        "n": n,
        "seed": _seed_record(ss),
        "coverage": _coverage_record(mdp, mu),
    }
    return CountDataset(N, C, _reward_sums(mdp, N, R, rng), mdp.S, mdp.A, mdp.gamma, mdp.horizon, meta)


# ---------------------------------------------------------------------- controlled coverage
@dataclass(frozen=True)
class ControlledCoverage:
    """Behaviour with a requested concentrability, see :func:`controlled_coverage`.

    Attributes
    ----------
    mu : numpy.ndarray
        Data distribution for the i.i.d. model, ``(S, A)`` or ``(H, S, A)``.
    c_star : float
        Measured ``max d^pi / mu`` (equals the request up to round-off).
    behaviour_policy : numpy.ndarray
        ``(1 - epsilon) pi + epsilon * uniform`` for the trajectory model, probabilities.
    epsilon : float
    behaviour_c_star : float
        Measured ``max d^pi / d^behaviour`` from exact occupancies.
    target_policy : numpy.ndarray
        The target policy ``pi`` as probabilities.
    """

    mu: np.ndarray
    c_star: float
    behaviour_policy: np.ndarray
    epsilon: float
    behaviour_c_star: float
    target_policy: np.ndarray


def controlled_coverage(mdp: TabularMDP, c_star: float, policy=None) -> ControlledCoverage:
    """Behaviour data whose single-policy concentrability w.r.t. ``policy`` (``pi*`` by default) is ``c_star``.

    i.i.d. model. With ``d = d^pi`` (per step ``h`` for a finite horizon), ``k*`` the most visited pair (lowest
    index among ties) and ``nu`` uniform on the other ``S A - 1`` pairs,

        ``mu = d / c_star + (1 - 1/c_star) nu``.

    Then ``d / mu <= c_star`` everywhere (as ``nu >= 0``) with equality at ``k*`` (where ``nu = 0``), so
    ``max d/mu = c_star`` exactly up to round-off; ``c_star = 1`` gives ``mu = d`` (expert data), and for
    ``c_star > 1`` every pair has ``mu > 0``. For a multi-armed bandit this is ``mu(a*) = 1/c_star`` and the
    rest spread uniformly, the instance family of Rashidinejad et al. (2021, Sec. 4).

    Trajectory model. The behaviour policy is the epsilon-mixture ``(1 - eps) pi + eps uniform`` with ``eps``
    solved (Brent's method) so that ``max d^pi / d^behaviour = c_star`` with exact occupancies: the per-step
    occupancies ``d_h`` (finite horizon) or the normalised discounted occupancies of :func:`occupancy`
    (discounted; the standard definition, Rashidinejad et al. 2021). If even ``eps = 1`` (uniform behaviour)
    stays below ``c_star``, ``eps = 1`` is returned and ``behaviour_c_star`` reports the (smaller) value
    reached: always read the measured value. For a discounted MDP, trajectories sampled from the behaviour
    with :func:`sample_trajectories` follow the per-step average of the ``n_steps`` step distributions, not the
    discounted occupancy, so that sampler's ``meta["coverage"]["C_star"]`` (the C* of the sampled
    distribution) can differ from ``behaviour_c_star``.

    Raises
    ------
    ValueError
        ``c_star < 1`` (impossible: ``d`` and ``mu`` both sum to one), not finite, or ``c_star > 1`` on an MDP
        with a single state-action pair.
    """
    mdp = _check_mdp(mdp)
    c_star = float(c_star)
    if not np.isfinite(c_star) or c_star < 1.0:
        raise ValueError(
            f"c_star is {c_star}, expected a finite number >= 1 (max d/mu >= 1 for distributions)"
        )
    S, A, H = mdp.S, mdp.A, mdp.horizon
    if c_star > 1.0 and S * A == 1:
        raise ValueError("c_star > 1 is impossible with a single state-action pair (mu = d^pi = 1)")
    pi = policy_matrix(mdp, _optimal_policy(mdp) if policy is None else policy)
    d = occupancy(mdp, pi)
    flat = d.reshape(-1, S * A)
    mu = flat / c_star
    if c_star > 1.0:
        top = np.argmax(flat, axis=1)
        nu = np.full(flat.shape, 1.0 / (S * A - 1))
        nu[np.arange(flat.shape[0]), top] = 0.0
        mu = mu + (1.0 - 1.0 / c_star) * nu
    mu = mu.reshape(d.shape)
    measured = concentrability(mdp, pi, mu)

    def gap(eps: float) -> float:
        b = epsilon_mixture(pi, eps, S, A, H)
        return concentrability(mdp, pi, occupancy(mdp, b), allow_infinite=True) - c_star

    if c_star == 1.0:
        eps = 0.0
    elif gap(1.0) <= 0.0:
        eps = 1.0
    else:
        eps = float(scipy.optimize.brentq(gap, 0.0, 1.0, xtol=1e-14, rtol=1e-14))
    behaviour = epsilon_mixture(pi, eps, S, A, H)
    b_star = concentrability(mdp, pi, occupancy(mdp, behaviour))
    return ControlledCoverage(mu, measured, behaviour, eps, b_star, pi)

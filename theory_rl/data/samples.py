"""The ONE sample-level dataset: transitions as a struct of arrays (:class:`OfflineDataset`).

One entry per transition ``(h, s, a, r, s')`` with its episode id and the behaviour probability of the action;
concatenation (offline then online data), random splits (VI-LCB's data splitting), subsets, the counts record
(:meth:`OfflineDataset.to_counts`), a flat transition table and per-episode arrays. The exports that offline-RL
libraries load without loss (Minari, d3rlpy) are in :mod:`theory_rl.interop`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from theory_rl._random import SeedLike, seed_sequence
from theory_rl._validation import (
    Integer,
    InvalidParameterError,
    Options,
    as_index_array,
    check_instance,
    check_table,
    validate_params,
)
from theory_rl.data.counts import CountDataset, EmpiricalModel, check_compatible, check_sizes, trusted_count_dataset
from theory_rl.data.files import copy_meta, write_files
from theory_rl.mdp import TabularMDP

__all__ = ["FIELDS", "OfflineDataset", "concatenate"]

FIELDS = ("state", "action", "reward", "next_state", "step", "episode", "behaviour_prob")


def _check_offline_dataset(d: OfflineDataset) -> None:
    """Aligned 1-D arrays, integer indices in range (``state``, ``next_state`` in ``0..S-1``, ``action`` in
    ``0..A-1``, ``step`` in ``0..H-1`` or ``>= 0`` when discounted), finite rewards, behaviour probabilities
    in ``[0, 1]``; ValueErrors name the first bad entry. O(n) numpy, no Python loop."""
    check_sizes(d)
    lead = () if d.horizon is None else (d.horizon,)
    check_table("counts", lead + (d.S, d.A), ("horizon", "S", "A")[-len(lead) - 2:])  # what to_counts allocates
    n = None
    for f in FIELDS:
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
        return trusted_count_dataset(
            self.counts,
            self.transition_counts,
            self.reward_sums,
            self.S,
            self.A,
            self.gamma,
            self.horizon,
            copy_meta(self.meta),
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
        index = np.asarray(index)
        if index.dtype != bool:
            index = as_index_array(index, "index", len(self))  # 1-D: a 2-D index made 2-D fields
        elif index.shape != (len(self),):
            raise ValueError(f"index is a boolean mask of shape {index.shape}, expected ({len(self)},)")
        return trusted_offline_dataset(
            *(getattr(self, f)[index] for f in FIELDS),
            self.S,
            self.A,
            self.gamma,
            self.horizon,
            copy_meta(self.meta),
        )

    @validate_params(k=Integer(1), by=Options(("sample", "episode")))
    def split(self, k: int, seed: SeedLike, *, by: str = "sample") -> list[OfflineDataset]:
        """A uniformly random partition into ``k`` folds of (nearly) equal size.

        The data splitting of VI-LCB (Rashidinejad et al. 2021, Alg. 3: ``T + 1`` folds of ``m = N/(T+1)``
        samples; with ``k > N`` some folds are empty, as ``m = N/(T+1) < 1`` there). ``by="episode"`` keeps
        episodes whole (folds then balance episodes, not samples). Each fold keeps
        the original order of its samples.
        """
        rng = np.random.default_rng(seed_sequence(seed))
        if by == "sample":
            folds = np.array_split(rng.permutation(len(self)), k)
            return [self.subset(np.sort(f)) for f in folds]
        episodes = np.unique(self.episode)
        groups = np.array_split(rng.permutation(episodes), k)
        return [self.subset(np.flatnonzero(np.isin(self.episode, g))) for g in groups]

    # ------------------------------------------------------------------ export
    def as_arrays(self) -> dict[str, np.ndarray]:
        """The transitions as a flat table: one row per transition, copies of this dataset's arrays.

        Keys: ``observations`` (= ``state``), ``actions``, ``rewards``, ``next_observations`` (= ``next_state``),
        ``terminations`` (always False: a tabular MDP has no terminal state), ``truncations`` (True on the last row
        of each episode, by episode id: the row before a change of ``episode``, and the last row) and
        ``episode_ids``. Row ``i`` is the transition ``(state[i], action[i], reward[i], next_state[i])``, with the
        Gymnasium ``step()`` flags of that transition.

        This is a transition table, not an episode layout. In particular it is NOT the input of d3rlpy's
        ``MDPDataset(observations, actions, rewards, terminals, timeouts)``, whose rows are the steps of episodes
        without next observations: fed these rows, d3rlpy drops the last transition of every episode, hence all
        of i.i.d. data, with no error (issue 21: 0 of 2,000 i.i.d. and 1,900 of 2,000 trajectory transitions
        kept). Use :func:`theory_rl.interop.to_d3rlpy` and :func:`theory_rl.interop.to_minari`, which keep every
        transition, and :meth:`episodes` for per-episode arrays.
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
        """Per-episode arrays: ``id``, ``observations`` (one more entry than the others: the states, then the
        final next state), ``actions``, ``rewards``, ``terminations`` (all False), ``truncations`` (True last).

        Plain dicts with the field names of Minari's ``EpisodeData``, not Minari objects (Minari's
        ``create_dataset_from_buffers`` needs ``EpisodeBuffer`` objects: use :func:`theory_rl.interop.to_minari`).
        Each maximal block of rows with one episode id is one episode; its rows must be a trajectory
        (``state[t + 1] == next_state[t]``), else the observations would misstate the data: a ValueError names
        the first break (i.i.d. samples, each its own episode, always qualify; for shuffled or subset data use
        ``to_minari``, which cuts episodes at the breaks).
        """
        out = []
        bounds = np.flatnonzero(np.diff(self.episode)) + 1
        for idx in np.split(np.arange(len(self)), bounds):
            if idx.size == 0:
                continue
            T = idx.size
            broken = self.state[idx[1:]] != self.next_state[idx[:-1]]
            if broken.any():
                i = int(idx[np.argmax(broken)])
                raise ValueError(
                    f"episode {self.episode[i]} is not a trajectory: next_state[{i}] is {self.next_state[i]} but "
                    f"state[{i + 1}] is {self.state[i + 1]}; theory_rl.interop.to_minari cuts it into runs")
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

    def save(self, path) -> None:
        """Write ``path.npz`` (plain arrays, ``allow_pickle=False``) and the JSON manifest ``path.json``
        (generator, seed, sizes, measured coverage); read back with :func:`load`."""
        header = {"S": self.S, "A": self.A, "gamma": self.gamma, "horizon": self.horizon, "n": self.n,
                  "meta": self.meta}  # fmt: skip
        write_files(path, "samples", {f: getattr(self, f) for f in FIELDS}, header)


def concatenate(datasets) -> OfflineDataset:
    """Concatenate sample-level datasets (e.g. offline then online data); episode ids are renumbered so that
    episodes of different parts stay distinct."""
    if isinstance(datasets, OfflineDataset) or not isinstance(datasets, Iterable) or isinstance(datasets, str):
        raise InvalidParameterError(
            f"datasets is {type(datasets).__name__} ({datasets!r}), expected a sequence of OfflineDataset")
    datasets = list(datasets)
    if not datasets:
        raise ValueError("datasets is empty")
    for i, d in enumerate(datasets):
        check_instance(d, f"datasets[{i}]", OfflineDataset)
        check_compatible(datasets[0], d)
    episodes, offset = [], 0
    for d in datasets:
        episodes.append(d.episode + offset)
        if len(d):
            offset += int(d.episode.max()) + 1
    arrays = {f: np.concatenate([getattr(d, f) for d in datasets]) for f in FIELDS if f != "episode"}
    first = datasets[0]
    return trusted_offline_dataset(
        arrays["state"], arrays["action"], arrays["reward"], arrays["next_state"], arrays["step"],
        np.concatenate(episodes), arrays["behaviour_prob"], first.S, first.A, first.gamma, first.horizon,
        {"generator": "concatenate", "parts": [d.meta for d in datasets]},
    )  # fmt: skip


def trusted_offline_dataset(
    state, action, reward, next_state, step, episode, behaviour_prob, S, A, gamma, horizon, meta
) -> OfflineDataset:
    """An :class:`OfflineDataset` built without the construction checks, for arrays this package produced itself
    (samplers' kernel outputs, subsets and concatenations of valid datasets): the checks are O(n) and cost as
    much as the sampling. Never for arrays from a caller."""
    obj = object.__new__(OfflineDataset)
    values = (state, action, reward, next_state, step, episode, behaviour_prob, S, A, gamma, horizon, meta)
    for name, value in zip(FIELDS + ("S", "A", "gamma", "horizon", "meta"), values, strict=True):
        object.__setattr__(obj, name, value)
    return obj



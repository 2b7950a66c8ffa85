"""Transitions cut into runs that other libraries store as episodes, and imported transitions as the shared record.

Episode-based formats (Minari's ``EpisodeData``, d3rlpy's ``Episode``) store an episode as its observations
``o_0 .. o_L`` (one more than its actions): transition ``t`` goes from ``o_t`` to ``o_{t+1}``. A run of an
:class:`~theory_rl.data.OfflineDataset` can be written that way only if its transitions are linked: same episode
id, ``state[t + 1] == next_state[t]`` and ``step[t + 1] == step[t] + 1``. ``run_starts`` finds the runs
(trajectory data: one run per episode; i.i.d. data: one run per sample), so an exporter keeps every transition,
whatever the dataset's order, subsets or splits did to its episodes.
"""

from __future__ import annotations

import numpy as np

from theory_rl.data import OfflineDataset

__all__: list[str] = []


def run_starts(dataset: OfflineDataset) -> np.ndarray:
    """Boolean mask, True where a new run of linked transitions begins (always at row 0). O(n) numpy."""
    n = len(dataset)
    start = np.ones(n, dtype=bool)
    if n > 1:
        linked = (
            (dataset.episode[1:] == dataset.episode[:-1])
            & (dataset.state[1:] == dataset.next_state[:-1])
            & (dataset.step[1:] == dataset.step[:-1] + 1)
        )
        start[1:] = ~linked
    return start


def run_bounds(dataset: OfflineDataset) -> tuple[np.ndarray, np.ndarray]:
    """``(first, last)``: row indices of the first and last transition of each run, in order."""
    first = np.flatnonzero(run_starts(dataset))
    last = np.append(first[1:] - 1, len(dataset) - 1) if first.size else first
    return first, last


def empirical_behaviour(state, action, step, S: int, A: int, horizon: int | None) -> np.ndarray:
    """``N_h(s, a) / N_h(s)`` (``N(s, a) / N(s)`` when discounted) at each sample: the maximum-likelihood
    behaviour probability, for imported data that record none."""
    sa = state.astype(np.int64) * A + action
    if horizon is not None:
        sa = step.astype(np.int64) * (S * A) + sa
    n_sa = np.bincount(sa, minlength=1)
    s_index = sa // A
    n_s = np.bincount(s_index, minlength=1)
    if state.size == 0:
        return np.zeros(0)
    return n_sa[sa] / n_s[s_index]


def imported_dataset(state, action, reward, next_state, step, episode, behaviour_prob, S, A, gamma, horizon,
                     meta, source: str) -> OfflineDataset:  # fmt: skip
    """A validated :class:`OfflineDataset` from imported arrays. Indices are range-checked before they are cast to
    int32 (so 2**32 + 1 cannot wrap to a valid state); the constructor checks the rest. ``behaviour_prob=None``:
    the source records none; the empirical frequency is used and ``meta["behaviour_prob"]`` says so."""
    arrays = {"state": state, "next_state": next_state, "action": action, "step": step, "episode": episode}
    upper = {"state": S, "next_state": S, "action": A, "step": horizon, "episode": None}
    for name, arr in arrays.items():
        arr = np.asarray(arr, dtype=np.int64)
        bad = arr < 0
        if upper[name] is not None:
            bad |= arr >= upper[name]
        if bad.any():
            i = int(np.argmax(bad))
            want = "an integer >= 0" if upper[name] is None else f"a value in 0..{upper[name] - 1}"
            raise ValueError(f"{source}: {name}[{i}] is {arr[i]}, expected {want}")
        arrays[name] = arr
    meta = dict(meta)
    if behaviour_prob is None:
        behaviour_prob = empirical_behaviour(arrays["state"], arrays["action"], arrays["step"], S, A, horizon)
        meta["behaviour_prob"] = "empirical: N_h(s, a) / N_h(s) (the source records no behaviour probability)"
    return OfflineDataset(
        arrays["state"].astype(np.int32),
        arrays["action"].astype(np.int32),
        np.asarray(reward, dtype=np.float64).reshape(-1),
        arrays["next_state"].astype(np.int32),
        arrays["step"].astype(np.int32),
        arrays["episode"],
        np.asarray(behaviour_prob, dtype=np.float64).reshape(-1),
        S,
        A,
        gamma,
        horizon,
        meta,
    )

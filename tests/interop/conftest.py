"""Shared pieces of the interop tests: small datasets of every kind, and a private Minari dataset folder."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import strategies as st

from theory_rl import data, generators

FIELDS = data.samples.FIELDS
_ids = itertools.count()


def fresh_id(prefix: str = "tr/test") -> str:
    """A Minari id not used before in this test session (Minari refuses to overwrite a dataset)."""
    return f"{prefix}-{next(_ids)}-v0"


def small_datasets() -> dict:
    """Every kind an exporter must keep whole: trajectories and i.i.d. data, finite horizon and discounted, and
    a shuffled subset whose episodes are no longer contiguous (each run then becomes its own episode)."""
    epi = generators.garnet(S=5, A=3, branching=2, horizon=4, seed=0)
    disc = generators.garnet(S=5, A=3, branching=2, gamma=0.9, seed=0)
    traj = data.sample_trajectories(epi, np.full((4, 5, 3), 1 / 3), 12, 1)
    sets = {
        "traj-epi": traj,
        "iid-epi": data.sample_iid(epi, np.full((4, 5, 3), 1 / 15), 10, seed=2),
        "iid-disc": data.sample_iid(disc, np.full((5, 3), 1 / 15), 40, seed=3),
        "traj-disc": data.sample_trajectories(disc, np.full((5, 3), 1 / 3), 3, 4, n_steps=15),
        "shuffled": traj.subset(np.random.default_rng(5).permutation(len(traj))[:30]),
    }
    # Gaussian rewards: float64 values that float32 would round (the exporters keep them exact)
    noisy = generators.garnet(S=4, A=2, branching=2, horizon=3, seed=1)
    noisy = type(noisy)(noisy.P, noisy.R, noisy.init, horizon=3, reward_noise="gaussian", reward_std=0.3)
    sets["gaussian"] = data.sample_trajectories(noisy, np.zeros((3, 4), int), 6, 7)
    return sets


def assert_same_statistics(back, d) -> None:
    """The exact analysis reads counts, transition counts and reward sums: all three equal, to the bit."""
    assert (back.S, back.A, back.horizon) == (d.S, d.A, d.horizon)
    np.testing.assert_array_equal(back.counts, d.counts)
    np.testing.assert_array_equal(back.transition_counts, d.transition_counts)
    np.testing.assert_array_equal(back.reward_sums, d.reward_sums)


@pytest.fixture(scope="session")
def minari_home(tmp_path_factory):
    """Minari writes to $MINARI_DATASETS_PATH: a temporary folder for the whole session, never ~/.minari."""
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("minari")
        mp.setenv("MINARI_DATASETS_PATH", str(path))
        yield path


@st.composite
def offline_datasets(draw, *, min_n: int = 1, max_n: int = 25):
    """Random OfflineDatasets of every structure an exporter meets: chains of linked transitions (trajectories)
    of random lengths, finite horizon or discounted, rows optionally shuffled (broken links), repeated episode
    ids, float64 rewards that float32 would round, behaviour probabilities in [0, 1]."""
    S, A = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    horizon = draw(st.one_of(st.none(), st.integers(1, 5)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(min_n, max_n))
    cols = {k: [] for k in ("state", "action", "reward", "next_state", "step", "episode")}
    e = 0
    while len(cols["state"]) < n:
        h = int(rng.integers(0, horizon)) if horizon is not None else int(rng.integers(0, 3))
        s = int(rng.integers(0, S))
        length = int(rng.integers(1, (horizon - h if horizon is not None else 6) + 1))
        for _ in range(min(length, n - len(cols["state"]))):
            s2 = int(rng.integers(0, S))
            cols["state"].append(s)
            cols["action"].append(int(rng.integers(0, A)))
            cols["reward"].append(float(rng.normal()))
            cols["next_state"].append(s2)
            cols["step"].append(h)
            cols["episode"].append(e)
            s, h = s2, h + 1
        e += int(rng.integers(0, 2))  # consecutive chains may share an episode id
    order = rng.permutation(n) if draw(st.booleans()) else np.arange(n)
    arr = {k: np.asarray(v)[order] for k, v in cols.items()}
    return data.OfflineDataset(
        arr["state"].astype(np.int32), arr["action"].astype(np.int32), arr["reward"].astype(np.float64),
        arr["next_state"].astype(np.int32), arr["step"].astype(np.int32), arr["episode"].astype(np.int64),
        rng.random(n), S, A, gamma=None if horizon else 0.9, horizon=horizon, meta={"generator": "hypothesis"},
    )  # fmt: skip

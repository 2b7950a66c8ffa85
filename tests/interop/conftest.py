"""Shared pieces of the interop tests: small datasets of every kind, and a private Minari dataset folder."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

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

"""The library-free parts of theory_rl.interop: runs of linked transitions, empirical behaviour, lazy imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings

from tests.interop.conftest import offline_datasets, small_datasets
from theory_rl.interop import from_d3rlpy, from_minari, to_d3rlpy, to_minari
from theory_rl.interop.transitions import empirical_behaviour, run_bounds, run_starts

DATASETS = small_datasets()


def _runs_by_loop(d) -> list[list[int]]:
    """The oracle: walk the rows, extend the current run while the next row continues it."""
    runs = []
    for i in range(len(d)):
        if runs and d.episode[i] == d.episode[i - 1] and d.state[i] == d.next_state[i - 1] \
                and d.step[i] == d.step[i - 1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


@pytest.mark.parametrize("name", list(DATASETS))
def test_runs_match_a_python_loop(name):
    d = DATASETS[name]
    runs = _runs_by_loop(d)
    first, last = run_bounds(d)
    np.testing.assert_array_equal(first, [r[0] for r in runs])
    np.testing.assert_array_equal(last, [r[-1] for r in runs])
    assert run_starts(d).sum() == len(runs)


@settings(max_examples=200, deadline=None)
@given(offline_datasets(min_n=0))
def test_runs_match_a_python_loop_on_random_datasets(d):
    runs = _runs_by_loop(d)
    first, last = run_bounds(d)
    np.testing.assert_array_equal(first, [r[0] for r in runs])
    np.testing.assert_array_equal(last, [r[-1] for r in runs])


def test_runs_of_trajectories_and_iid_data():
    traj, iid = DATASETS["traj-epi"], DATASETS["iid-disc"]
    np.testing.assert_array_equal(run_bounds(traj)[0], np.arange(0, 48, 4))  # one run per episode
    assert run_starts(iid).all()  # one run per sample


def test_empirical_behaviour_matches_counting():
    rng = np.random.default_rng(0)
    s, a, h = rng.integers(0, 3, 200), rng.integers(0, 2, 200), rng.integers(0, 4, 200)
    got = empirical_behaviour(s, a, h, 3, 2, 4)
    for i in range(200):
        same_state = (s == s[i]) & (h == h[i])
        assert got[i] == np.sum(same_state & (a == a[i])) / np.sum(same_state)
    disc = empirical_behaviour(s, a, h, 3, 2, None)  # the step is ignored when discounted
    assert disc[0] == np.sum((s == s[0]) & (a == a[0])) / np.sum(s == s[0])


def test_import_needs_neither_library():
    code = ("import sys, theory_rl.interop; bad = [m for m in ('minari', 'd3rlpy', 'torch', 'h5py') "
            "if m in sys.modules]; assert not bad, bad")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("fn, extra", [(to_minari, "minari"), (from_minari, "minari"), (to_d3rlpy, "d3rlpy"),
                                       (from_d3rlpy, "d3rlpy")])  # fmt: skip
def test_a_missing_library_names_its_extra(monkeypatch, fn, extra):
    monkeypatch.setitem(sys.modules, extra, None)  # makes `import <extra>` fail
    args = (DATASETS["iid-disc"], "tr/x-v0") if fn is to_minari else (DATASETS["iid-disc"],)
    with pytest.raises(ImportError, match=rf"pip install 'theory_rl\[{extra}\]'"):
        fn(*args)


def test_episodes_refuses_rows_that_are_not_a_trajectory():
    """``OfflineDataset.episodes()`` would otherwise write observations that misstate the data."""
    traj = DATASETS["traj-epi"]
    assert len(traj.episodes()) == 12 and len(DATASETS["iid-disc"].episodes()) == 40
    swapped = traj.subset(np.r_[1, 0, 2:len(traj)])  # episode 0's first two rows out of order
    with pytest.raises(ValueError, match="not a trajectory"):
        swapped.episodes()


def test_as_arrays_is_the_transition_table():
    d = DATASETS["shuffled"]
    arr = d.as_arrays()
    np.testing.assert_array_equal(arr["observations"], d.state)
    np.testing.assert_array_equal(arr["next_observations"], d.next_state)
    assert not arr["terminations"].any()
    np.testing.assert_array_equal(arr["truncations"], np.append(d.episode[1:] != d.episode[:-1], True))

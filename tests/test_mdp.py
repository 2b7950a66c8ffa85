"""TabularMDP and bandits: immutability, and a clear ValueError naming the entry for every kind of bad input."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl.mdp import ContextualBandit, MultiArmedBandit, TabularMDP

from .strategies import mdp_arrays


def _valid(S=3, A=2, seed=0):
    rng = np.random.default_rng(seed)
    P = rng.random((S, A, S))
    return P / P.sum(-1, keepdims=True), rng.random((S, A)), np.full(S, 1.0 / S)


def test_arrays_are_copied_and_read_only():
    P, R, init = _valid()
    mdp = TabularMDP(P, R, init, gamma=0.9)
    P_before = P.copy()
    P[0, 0, :] = 0.0  # mutating the caller's array afterwards must not reach the MDP
    assert np.array_equal(mdp.P, P_before)
    for arr in (mdp.P, mdp.R, mdp.init):
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[(0,) * arr.ndim] = 0.5
    with pytest.raises(AttributeError, match="immutable"):
        mdp.gamma = 0.5
    with pytest.raises(AttributeError, match="immutable"):
        mdp._P = P


def test_construction_never_mutates_caller_arrays():
    P, R, init = _valid()
    copies = [x.copy() for x in (P, R, init)]
    TabularMDP(P, R, init, gamma=0.9).replace(gamma=0.5)
    for x, c in zip((P, R, init), copies, strict=True):
        assert np.array_equal(x, c)


def test_replace_and_stage_views():
    P, R, init = _valid()
    mdp = TabularMDP(P, R, init, gamma=0.9)
    fin = mdp.replace(gamma=None, horizon=4)
    assert fin.is_episodic and fin.stage_P.shape == (4, 3, 2, 3) and fin.stage_R.shape == (4, 3, 2)
    assert np.shares_memory(fin.stage_P, fin.P)  # a broadcast view, not a copy
    assert mdp.vmax == pytest.approx(10.0) and fin.vmax == 4.0
    with pytest.raises(ValueError, match="finite-horizon"):
        _ = mdp.stage_P
    with pytest.raises(ValueError, match="unknown field"):
        mdp.replace(discount=0.5)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda P, R, i: P.__setitem__((1, 0, 0), P[1, 0, 0] + 0.03), r"P\[1, 0\] sums to 1\.03"),
        (lambda P, R, i: P.__setitem__((2, 1, 1), -0.1), r"P\[2, 1, 1\] is -0\.1"),
        (lambda P, R, i: P.__setitem__((0, 1, 2), np.nan), r"P\[0, 1, 2\] is nan"),
        (lambda P, R, i: R.__setitem__((2, 0), np.inf), r"R\[2, 0\] is inf"),
        (lambda P, R, i: R.__setitem__((1, 1), 1.5), r"R\[1, 1\] is 1\.5, expected a value in \[0, 1\]"),
        (lambda P, R, i: R.__setitem__((0, 0), -0.2), r"R\[0, 0\] is -0\.2"),
        (lambda P, R, i: i.__setitem__(0, 0.9), r"init sums to"),
    ],
)
def test_bad_entries_are_named(mutate, message):
    P, R, init = _valid()
    mutate(P, R, init)
    with pytest.raises(ValueError, match=message):
        TabularMDP(P, R, init, gamma=0.9)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"gamma": 1.0}, "gamma is 1.0"),
        ({"gamma": -0.1}, "gamma is -0.1"),
        ({"horizon": 0}, "horizon is 0, expected an integer >= 1"),
        ({"horizon": 2.5}, "horizon is float (2.5), expected an integer"),
        ({}, "give gamma (discounted MDP), horizon (finite-horizon MDP) or both"),
        ({"gamma": 1.5, "horizon": 3}, "gamma is 1.5, expected a real number in [0, 1]"),  # issue 15: both allowed
        ({"gamma": 0.9, "reward_range": (1.0, 0.0)}, "reward_range is (1.0, 0.0), expected r_min < r_max"),
        ({"gamma": 0.9, "reward_range": (0.0, float("inf"))}, "reward_range[1] is inf"),
        ({"gamma": 0.9, "reward_range": 1.0}, "reward_range is 1.0, expected a pair"),
        ({"gamma": 0.9, "reward_range": (0.0, 0.5)}, "R[2, 0] is 0.670624, expected a value in [0, 0.5]"),
        ({"gamma": 0.9, "reward_noise": "poisson"}, "reward_noise"),
        ({"gamma": 0.9, "reward_std": -1.0}, "reward_std"),
        ({"gamma": float("nan")}, "gamma is nan, expected a real number in [0, 1)"),
        ({"gamma": 0.5 + 0j}, "gamma is a complex number"),
        ({"gamma": True}, "gamma is a bool"),
        ({"gamma": "0.9"}, "gamma is str"),
        ({"horizon": True}, "horizon is bool"),
        ({"gamma": 0.9, "reward_std": float("inf")}, "reward_std is inf"),
        ({"gamma": 0.9, "reward_std": 1j}, "reward_std is a complex number"),
        ({"gamma": 0.9, "reward_noise": None}, "reward_noise is None, expected one of"),
    ],
)
def test_bad_parameters(kwargs, message):
    P, R, init = _valid()
    with pytest.raises(ValueError, match=re.escape(message)):
        TabularMDP(P, R, init, **kwargs)


@pytest.mark.parametrize(
    "shapes, message",
    [
        (((3, 2, 4), (3, 2), (3,)), "last axis"),
        (((3, 2, 3), (3, 3), (3,)), "R has shape (3, 3), expected (3, 2)"),
        (((3, 2, 3), (3, 2), (4,)), "init has shape (4,), expected (3,)"),
        (((3, 2), (3, 2), (3,)), "P must have 3 or 4 dimensions"),
        (((2, 3, 2, 3), (3, 2), (3,)), "discounted MDP needs stationary P"),
    ],
)
def test_bad_shapes(shapes, message):
    arrays = [np.full(s, 1.0 / s[-1]) for s in shapes]
    arrays[1] = np.zeros(shapes[1])
    with pytest.raises(ValueError, match=re.escape(message)):
        TabularMDP(*arrays, gamma=0.9)


def test_stage_count_must_match_horizon():
    P = np.full((3, 2, 1, 2), 0.5)
    with pytest.raises(ValueError, match="P has 3 stages, expected horizon = 4"):
        TabularMDP(P, np.zeros((2, 1)), [1.0, 0.0], horizon=4)
    with pytest.raises(ValueError, match="R has 2 stages"):
        TabularMDP(P, np.zeros((2, 2, 1)), [1.0, 0.0], horizon=3)


@settings(max_examples=80, deadline=None)
@given(mdp_arrays(), st.sampled_from(["P", "R", "init"]), st.sampled_from(["nan", "negative", "big"]),
       st.integers(0, 2**32 - 1))
def test_hypothesis_corrupted_entries_are_rejected_and_named(arrays, which, how, seed):
    P, R, init, kwargs = arrays
    arrs = {"P": P.copy(), "R": R.copy(), "init": init.copy()}
    target = arrs[which]
    idx = tuple(int(np.random.default_rng(seed).integers(0, n)) for n in target.shape)
    target[idx] = {"nan": np.nan, "negative": -0.5, "big": 1.5}[how]
    with pytest.raises(ValueError) as err:
        TabularMDP(arrs["P"], arrs["R"], arrs["init"], **kwargs)
    # The message names the offending entry; a too-large probability is caught by its row's sum instead.
    named = idx[:-1] if (how == "big" and which != "R") else idx
    expected = which + ("[" + ", ".join(map(str, named)) + "]" if named else " sums to")
    assert expected in str(err.value)


def test_bandits():
    mab = MultiArmedBandit([0.3, 0.8, 0.8])
    assert mab.best_arm == 1 and mab.gaps.tolist() == pytest.approx([0.5, 0.0, 0.0])
    assert mab.S == 1 and mab.gamma == 0.0
    with pytest.raises(ValueError, match=r"means\[1\] is 1.2"):
        MultiArmedBandit([0.3, 1.2])
    with pytest.raises(ValueError, match="at least one arm"):
        MultiArmedBandit([])
    cb = ContextualBandit([[0.1, 0.4], [0.9, 0.2]], [0.25, 0.75])
    assert cb.best_actions.tolist() == [1, 0]
    assert np.allclose(cb.P[:, :, :], [0.25, 0.75])
    with pytest.raises(ValueError, match="context_dist has shape"):
        ContextualBandit([[0.1, 0.4]], [0.5, 0.5])
    with pytest.raises(ValueError, match="context_dist sums to"):
        ContextualBandit([[0.1, 0.4], [0.2, 0.3]], [0.5, 0.6])


def test_complex_arrays_are_refused_not_truncated():
    P, R, init = _valid()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # never the ComplexWarning of a silent cast
        with pytest.raises(ValueError, match="R is complex"):
            TabularMDP(P, R + 0.5j, init, gamma=0.9)
        with pytest.raises(ValueError, match="P is complex"):
            TabularMDP(P + 0j, R, init, gamma=0.9)
        with pytest.raises(ValueError, match="means is complex"):
            MultiArmedBandit(np.array([0.1, 0.2]) + 1j)
        with pytest.raises(ValueError, match="context_dist is complex"):
            ContextualBandit([[0.1, 0.2]], np.array([1.0 + 0j]))
    for kwargs, message in (({"reward_std": -1.0}, "reward_std is -1.0"), ({"reward_noise": "x"}, "reward_noise")):
        with pytest.raises(ValueError, match=message):
            MultiArmedBandit([0.1, 0.2], **kwargs)
        with pytest.raises(ValueError, match=message):
            ContextualBandit([[0.1, 0.2]], [1.0], **kwargs)

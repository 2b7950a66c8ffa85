"""Both policy forms, their validation, and the policy helpers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import planning as pl
from theory_rl.policies import (
    as_probabilities,
    epsilon_mixture,
    greedy,
    is_deterministic,
    mixture,
    to_actions,
    uniform_policy,
)

from .strategies import tabular_mdps


def test_actions_and_probabilities_are_equivalent_everywhere():
    rng = np.random.default_rng(3)
    P = rng.random((4, 3, 4))
    from theory_rl.mdp import TabularMDP

    mdp = TabularMDP(P / P.sum(-1, keepdims=True), rng.random((4, 3)), np.full(4, 0.25), gamma=0.8)
    actions = np.array([2, 0, 1, 1])
    probs = np.eye(3)[actions]
    for fn in (pl.evaluate, pl.q_values, pl.occupancy):
        np.testing.assert_allclose(fn(mdp, actions), fn(mdp, probs), atol=1e-14)
    fin = mdp.replace(gamma=None, horizon=3)
    staged = np.stack([actions, actions, actions])
    np.testing.assert_allclose(pl.evaluate(fin, actions), pl.evaluate(fin, staged), atol=1e-14)
    np.testing.assert_allclose(pl.evaluate(fin, probs), pl.evaluate(fin, np.eye(3)[staged]), atol=1e-14)


@pytest.mark.parametrize(
    "policy, horizon, message",
    [
        (np.array([0, 1]), None, r"shape \(2,\), expected \(3,\)"),
        (np.array([0, 1, 2]), None, r"policy\[2\] is action 2, expected an action in 0..1"),
        (np.array([0, -1, 0]), None, r"policy\[1\] is action -1"),
        (np.zeros((2, 3), dtype=int), None, r"holds actions with shape \(2, 3\)"),
        (np.zeros((4, 3), dtype=int), 2, r"expected \(3,\) or \(2, 3\)"),
        (np.full((3, 2), 0.4), None, r"policy\[0\] sums to 0.8"),
        (np.array([[1.2, -0.2], [0.5, 0.5], [0.5, 0.5]]), None, r"policy\[0, 0\] is 1.2"),
        (np.array([[np.nan, 1.0], [0.5, 0.5], [0.5, 0.5]]), None, r"policy\[0, 0\] is nan"),
        (np.full((2, 3, 2), 0.5), None, r"probabilities with shape \(2, 3, 2\), expected \(3, 2\)"),
        (np.array([0.5, 1.0, 0.0]), None, "non-integral"),
        (np.array([True, False, True]), None, "dtype bool"),
    ],
)
def test_bad_policies_are_rejected_with_the_entry_named(policy, horizon, message):
    with pytest.raises(ValueError, match=message):
        as_probabilities(policy, 3, 2, horizon)


@settings(max_examples=60, deadline=None)
@given(tabular_mdps(), st.integers(0, 2**32 - 1), st.sampled_from(["sum", "negative", "shape"]))
def test_hypothesis_invalid_policies_raise_in_every_public_function(mdp, seed, how):
    rng = np.random.default_rng(seed)
    probs = rng.random((mdp.S, mdp.A + (how == "shape")))
    probs /= probs.sum(-1, keepdims=True)
    if how == "sum":
        probs[rng.integers(mdp.S)] *= 1.5
    elif how == "negative":
        probs[rng.integers(mdp.S), 0] = -0.25
    for fn in (pl.evaluate, pl.q_values, pl.occupancy, pl.expected_return):
        with pytest.raises(ValueError, match="policy"):
            fn(mdp, probs)


def test_helpers():
    Q = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    assert greedy(Q).tolist() == [1, 0]  # ties go to the lowest index
    u = uniform_policy(2, 3)
    assert np.allclose(u, 1 / 3)
    eps = epsilon_mixture(np.array([2, 0]), 0.3, 2, 3)
    assert np.allclose(eps.sum(-1), 1) and eps[0, 2] == pytest.approx(0.7 + 0.1)
    mix = mixture(np.array([0, 0]), np.array([1, 1]), 0.25, 2, 3, horizon=4)
    assert mix.shape == (4, 2, 3) and mix[3, 1, 1] == pytest.approx(0.25)
    assert is_deterministic(np.eye(3)[[0, 2]]) and not is_deterministic(u)
    assert to_actions(np.eye(3)[[0, 2]]).tolist() == [0, 2]
    with pytest.raises(ValueError, match="stochastic"):
        to_actions(u)
    with pytest.raises(ValueError, match="weight is 1.5"):
        mixture(np.array([0, 0]), np.array([1, 1]), 1.5, 2, 3)


def test_scalar_arguments_use_the_shared_checks():
    from theory_rl.policies import epsilon_mixture, mixture, uniform_policy

    for bad, message in ((float("nan"), "weight is nan"), (1.5, "weight is 1.5"), (0.5j, "weight is a complex")):
        with pytest.raises(ValueError, match=message):
            mixture([0, 1], [1, 0], bad, 2, 2)
    with pytest.raises(ValueError, match="epsilon is nan"):
        epsilon_mixture([0, 1], float("nan"), 2, 2)
    with pytest.raises(ValueError, match="A is 0, expected an integer >= 1"):
        uniform_policy(2, 0)
    with pytest.raises(ValueError, match="S is float"):
        uniform_policy(2.0, 2)

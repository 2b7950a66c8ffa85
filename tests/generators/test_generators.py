"""Generators: valid, seeded, and with the structure they claim, checked against closed forms."""

import numpy as np
import pytest

from theory_rl import generators as gen
from theory_rl import planning as pl
from theory_rl.policies import uniform_policy


@pytest.mark.parametrize("branching", [1, 3, 7])
def test_garnet_support_and_seeding(branching):
    mdp = gen.garnet(7, 3, branching, seed=11)
    support = (mdp.P > 0).sum(axis=-1)
    assert (support <= branching).all() and (support == branching).mean() > 0.9  # a spacing is 0 w.p. 0
    again = gen.garnet(7, 3, branching, seed=11)
    other = gen.garnet(7, 3, branching, seed=12)
    assert np.array_equal(mdp.P, again.P) and np.array_equal(mdp.R, again.R)
    assert not np.array_equal(mdp.P, other.P)
    assert gen.garnet(7, 3, branching, seed=np.random.SeedSequence(5), horizon=4).is_episodic


def test_generator_arguments_are_validated():
    with pytest.raises(ValueError, match="branching is 9, expected at most S = 4"):
        gen.garnet(4, 2, 9, seed=0)
    with pytest.raises(ValueError, match="seed is None"):
        gen.garnet(4, 2, 2, seed=None)
    with pytest.raises(ValueError, match="S is .*, expected an integer >= 1"):
        gen.garnet(0, 2, 1, seed=0)
    with pytest.raises(ValueError, match="p_right"):
        gen.river_swim(5, p_right=1.2)
    with pytest.raises(ValueError, match=r"goal \(9, 9\) is outside"):
        gen.gridworld(3, 3, goal=(9, 9))
    with pytest.raises(ValueError, match="invalid_bets"):
        gen.gamblers_problem(invalid_bets="refund")


def test_river_swim_optimal_policy_swims_right():
    mdp = gen.river_swim(6, gamma=0.95)
    assert pl.solve(mdp).policy.tolist() == [1] * 6
    # Swimming left forever from state 0 earns r_left / (1 - gamma): a closed form for the greedy-myopic policy.
    assert pl.evaluate(mdp, np.zeros(6, dtype=int))[0] == pytest.approx(0.005 / 0.05)


def test_gridworld_deterministic_shortest_path():
    mdp = gen.gridworld(3, 4, slip=0.0, gamma=0.9)
    # Without slip the goal (2, 3) is 5 moves away: V*(start) = gamma^5 / (1 - gamma).
    assert pl.solve(mdp).V[0] == pytest.approx(0.9**5 / 0.1)
    walled = gen.gridworld(3, 3, slip=0.0, walls=((0, 1), (1, 1)), gamma=0.9)
    assert pl.solve(walled).V[0] == pytest.approx(0.9**4 / 0.1)  # the detour is still 4 moves


def test_combination_lock_values():
    H, A = 5, 3
    mdp = gen.combination_lock(H, A, seed=4)
    assert pl.solve(mdp).V[0, 0] == pytest.approx(1.0)
    assert pl.expected_return(mdp, uniform_policy(2, A, H)) == pytest.approx(A**-H)


def _bold_play_success(target: int, p: float) -> np.ndarray:
    """Probability that bold play (stake min(s, target - s)) reaches the target: a linear system."""
    n = target + 1
    M, b = np.eye(n), np.zeros(n)
    b[target] = 1.0
    for s in range(1, target):
        stake = min(s, target - s)
        M[s, s + stake] -= p
        M[s, s - stake] -= 1 - p
    return np.linalg.solve(M, b)


def test_gamblers_problem_optimal_value_is_bold_play():
    # Dubins & Savage: in a sub-fair game (p < 1/2) bold play is optimal. With H = 100 the unfinished games carry
    # probability below 1e-6, so V*_0 matches the infinite-horizon bold-play success probability.
    mdp = gen.gamblers_problem()
    assert (mdp.S, mdp.A, mdp.horizon) == (51, 25, 100)
    V0 = pl.solve(mdp).V[0]
    # At capital 50 the game is already won: the oracle says 1, the MDP pays nothing more (reward is on arrival).
    np.testing.assert_allclose(V0[:50], _bold_play_success(50, 0.45)[:50], atol=1e-6)
    assert V0[50] == 0.0
    lose = gen.gamblers_problem(invalid_bets="lose")
    np.testing.assert_allclose(pl.solve(lose).V[0], V0, atol=1e-12)  # forfeits are never optimal


def test_random_bandits_are_seeded():
    assert np.array_equal(gen.random_bandit(5, seed=2).means, gen.random_bandit(5, seed=2).means)
    cb = gen.random_contextual_bandit(3, 2, seed=2, context_dist=[0.2, 0.3, 0.5])
    assert cb.context_dist.tolist() == [0.2, 0.3, 0.5]

"""The NeoRL-2 / D5RL realism-knobs task (issue 18): delay, exogenous factor, safety cost and the behaviours, each
against a hand computation or exhaustive enumeration."""

import itertools

import numpy as np
import pytest

from theory_rl import planning
from theory_rl.generators.realism import realism_instance


def _state(inst, x, z, buf):
    K, B = len(inst.targets), 3 ** inst.delay
    code = 0
    for a in buf:  # oldest first = most significant digit
        code = code * 3 + a
    return (x * K + z) * B + code


def test_delayed_action_acts_d_steps_later():
    inst = realism_instance(6, delay=2, slip=0.0, targets=(2,))
    P = inst.mdp.P
    s = _state(inst, 3, 0, (1, 1))  # x = 3, buffer (stay, stay)
    s1 = int(np.argmax(P[s, 2]))  # press up: nothing happens yet
    assert s1 == _state(inst, 3, 0, (1, 2))
    s2 = int(np.argmax(P[s1, 1]))  # stay: still nothing
    assert s2 == _state(inst, 3, 0, (2, 1))
    s3 = int(np.argmax(P[s2, 1]))  # now the up of two steps ago acts
    assert s3 == _state(inst, 4, 0, (1, 1))


def test_exogenous_target_ignores_the_agent():
    inst = realism_instance(5, exo_switch=0.2, targets=(1, 3))
    P = inst.mdp.P.reshape(5, 2, 3, 5, 2)  # (x, z, a, x', z')
    z_marg = P.sum(axis=3)  # P(z' | x, z, a)
    assert z_marg == pytest.approx(np.broadcast_to(np.array([[0.8, 0.2], [0.2, 0.8]])[None, :, None, :], z_marg.shape))


def test_rewards_costs_behaviours_and_observation():
    inst = realism_instance(8, delay=1, targets=(2, 5), noise=0.0, deadband=1)
    S = inst.mdp.S
    assert S == 8 * 2 * 3 and inst.n_observed == 16
    xs = inst.observation // 2
    zs = inst.observation % 2
    target = np.array([2, 5])[zs]
    assert inst.mdp.R[:, 0] == pytest.approx(1 - np.abs(xs - target) / 7)
    assert (inst.cost[:, 0] == (xs == 7)).all()
    act = inst.behaviour["scripted"].argmax(1)
    assert ((act == 2) == (target - xs > 1)).all() and ((act == 0) == (xs - target > 1)).all()
    assert inst.behaviour["play"] == pytest.approx(np.full((S, 3), 1 / 3))
    lifted = inst.lift(np.arange(16) % 3)
    assert (lifted == inst.observation % 3).all()


def test_ignoring_the_delay_costs_return_exhaustively():
    """The best observation-only policy (all 3^4 enumerated) is below the Markov optimum, which sees the buffer."""
    inst = realism_instance(4, delay=1, slip=0.0, targets=(1,), gamma=0.8)
    best = max(planning.expected_return(inst.mdp, inst.lift(np.array(p)))
               for p in itertools.product(range(3), repeat=inst.n_observed))
    assert best < planning.optimal_return(inst.mdp) - 1e-6
    inst0 = realism_instance(4, delay=0, slip=0.0, targets=(1,), gamma=0.8)
    best0 = max(planning.expected_return(inst0.mdp, inst0.lift(np.array(p)))
                for p in itertools.product(range(3), repeat=inst0.n_observed))
    assert best0 == pytest.approx(planning.optimal_return(inst0.mdp))  # no delay: observation = state


def test_refusals():
    with pytest.raises(ValueError, match="targets"):
        realism_instance(5, targets=(4,))
    with pytest.raises(ValueError, match="delay"):
        realism_instance(5, delay=9)
    with pytest.raises(ValueError, match="policy_obs"):
        realism_instance(8).lift(np.zeros(3, int))

"""GuDA on the torus gridworld (issue 18): exact symmetry of the dynamics, the progress filter, the recomputed
rewards, the expert fraction and the exact C* of augmented data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory_rl import data, planning
from theory_rl.algorithms import guided_augmentation as ga
from theory_rl.generators.symmetric import torus_distance, torus_gridworld, torus_translate

N, GOAL = 5, (2, 1)
MDP = torus_gridworld(N, goal=GOAL, slip=0.2, gamma=0.9)
G = GOAL[0] * N + GOAL[1]
OPT = planning.solve(MDP)


@settings(max_examples=50, deadline=None)
@given(dr=st.integers(0, N - 1), dc=st.integers(0, N - 1))
def test_translations_are_symmetries_of_the_dynamics_away_from_the_goal(dr, dc):
    S = N * N
    perm = torus_translate(np.arange(S), np.array([dr, dc]), N)
    for s in range(S):
        if s == G or perm[s] == G:
            continue
        # P(g s' | g s, a) = P(s' | s, a) for every a and s'
        assert np.array_equal(MDP.P[perm[s]][:, perm], MDP.P[s])


def test_translation_and_distance_by_hand():
    assert torus_translate(np.array([0, 24]), np.array([1, 1]), 5).tolist() == [6, 0]
    assert torus_distance(np.array([0, 7, 24]), (2, 1), 5).tolist() == [3, 2, 4]  # (0,0); (1,2); (4,4)


def _data(seed, n=300):
    mu = np.full((MDP.S, MDP.A), 1.0 / (MDP.S * MDP.A))
    return data.sample_iid(MDP, mu, n, seed=seed)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), predicate=st.sampled_from(["distance", "value"]))
def test_guided_copies_show_progress_and_have_recomputed_rewards(seed, predicate):
    d = _data(seed)
    out = ga.augment(d, N, GOAL, seed=seed, copies=3, predicate=predicate, values=OPT.V)
    new = out.subset(np.arange(len(d), len(out)))
    assert out.meta["augmentation"]["kept"] == len(new) > 0
    assert np.array_equal(out.state[: len(d)], d.state)  # the data first, unchanged
    if predicate == "distance":
        assert (torus_distance(new.next_state, GOAL, N) < torus_distance(new.state, GOAL, N)).all()
    else:
        assert (OPT.V[new.next_state] > OPT.V[new.state]).all()
    assert np.array_equal(new.reward, MDP.R[new.state, new.action])  # the known reward function
    assert (new.state != G).all()


def test_random_augmentation_keeps_every_copy_not_at_the_goal():
    d = _data(3)
    out = ga.augment(d, N, GOAL, seed=0, mode="random", copies=4)
    proposed = out.meta["augmentation"]["proposed"]
    assert proposed == 4 * len(d)
    # a copy is lost only if it starts at the goal or comes from a goal transition: about (1/24 + 1/25) of them
    lost = proposed - out.meta["augmentation"]["kept"]
    assert 0 < lost < 0.2 * proposed


def test_expert_fraction_and_concentrability_by_hand():
    d = _data(1, n=500)
    frac = ga.expert_fraction(d, OPT.Q)
    optimal = OPT.Q >= OPT.Q.max(1, keepdims=True) - 1e-9
    assert frac == pytest.approx(np.mean(optimal[d.state, d.action]))
    mu = d.counts / len(d)
    occ = planning.occupancy(MDP, OPT.policy)
    ref = np.max(np.where(occ > 0, occ / np.where(mu > 0, mu, 1.0), 0.0)) if (mu[occ > 0] > 0).all() else np.inf
    assert ga.data_concentrability(MDP, OPT.policy, d) == pytest.approx(ref)
    tiny = d.subset(np.arange(3))
    assert ga.data_concentrability(MDP, OPT.policy, tiny) == np.inf


def test_refusals():
    d = _data(0)
    with pytest.raises(ValueError, match="values"):
        ga.augment(d, N, GOAL, seed=0, predicate="value")
    with pytest.raises(ValueError, match="n \\* n"):
        ga.augment(d, 4, (0, 0), seed=0)
    with pytest.raises(ValueError, match="shift"):
        torus_translate(np.array([0]), np.array([0.5, 1.0]), N)

"""Gymnasium's toy-text environments imported as MDPs (issue 15, item 6): published values, a direct value iteration
over ``env.P``, the absorbing state, duplicates, the reward map, bad tables."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from theory_rl import planning
from theory_rl.interop import ImportedMDP, RewardMap, from_toy_text

gym = pytest.importorskip("gymnasium")

#: (id, make kwargs): every toy-text model with a transition table, slippery or not.
ENVS = {
    "lake4": ("FrozenLake-v1", {}),
    "lake4-still": ("FrozenLake-v1", {"is_slippery": False}),
    "lake8": ("FrozenLake-v1", {"map_name": "8x8"}),
    "lake8-still": ("FrozenLake-v1", {"map_name": "8x8", "is_slippery": False}),
    "taxi": ("Taxi-v4", {}),
    "taxi-rainy": ("Taxi-v4", {"is_rainy": True}),
    "cliff": ("CliffWalking-v1", {}),
    "cliff-slippery": ("CliffWalking-v1", {"is_slippery": True}),
}


def make(key):
    """The environment, or a skip where this gymnasium lacks it (the d3rlpy venv pins gymnasium 1.0: no Taxi-v4,
    CliffWalking-v1 or rainy taxi)."""
    name, kwargs = ENVS[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return gym.make(name, **kwargs)
        except (gym.error.Error, TypeError) as err:
            pytest.skip(f"gymnasium {gym.__version__} cannot make {name} {kwargs}: {err}")


def loop_value_iteration(table, gamma, sweeps=3000):
    """The oracle: value iteration written directly over ``env.P`` (termination cuts the future to 0)."""
    S = len(table)
    V = np.zeros(S)
    for _ in range(sweeps):
        V_new = np.array([max(sum(p * (r + (0.0 if term else gamma * V[n])) for p, n, r, term in table[s][a])
                              for a in table[s]) for s in range(S)])  # fmt: skip
        if np.abs(V_new - V).max() < 1e-13:
            return V_new
        V = V_new
    return V


def loop_backward_induction(table, H, gamma=1.0):
    """The oracle of the finite horizon: ``V_h`` over ``env.P`` for ``h = 0..H-1`` (discounted by ``gamma``)."""
    S = len(table)
    V = np.zeros((H + 1, S))
    for h in range(H - 1, -1, -1):
        V[h] = [max(sum(p * (r + (0.0 if term else gamma * V[h + 1, n])) for p, n, r, term in table[s][a])
                    for a in table[s]) for s in range(S)]  # fmt: skip
    return V[:H]


def test_frozenlake_published_value():
    # Published: V(rho) = 0.0688909 for FrozenLake 4x4 slippery at gamma = 0.9 (reward 1 on reaching the goal,
    # holes and goal terminal), computed by value iteration in github.com/carletonz/Research (README, "Q-learning,
    # Stochastic Environment"); the same source gives 0.59049 = 0.9^5 without slipping (6 moves to the goal).
    imp = from_toy_text(make("lake4"), gamma=0.9)
    res = planning.solve(imp.mdp)
    assert abs(planning.expected_return(imp.mdp, res.policy) - 0.0688909) < 5e-8
    assert imp.reward_map.is_identity  # rewards 0/1: no map, the value is the published one directly
    still = from_toy_text(make("lake4-still"), gamma=0.9)
    assert planning.optimal_return(still.mdp) == pytest.approx(0.9**5, abs=1e-12)


# gamma 0.99 where the Python-loop oracle is quick (it needs ~3,000 sweeps); gamma 0.9 everywhere
@pytest.mark.parametrize("key, gamma", [(k, 0.9) for k in ENVS] + [(k, 0.99) for k in ENVS if k[:4] in ("lake", "clif")
                                                                   and "8" not in k])
def test_values_match_value_iteration_over_env_P(key, gamma):
    env = make(key)
    imp = from_toy_text(env, gamma=gamma)
    oracle = loop_value_iteration(env.unwrapped.P, gamma)
    # the exact solve: above 400 states solve() defaults to MPI, whose values are only within its certificate
    res = planning.solve(imp.mdp, method="policy_iteration")
    S_env = len(env.unwrapped.P)
    V = imp.values(res.V)
    np.testing.assert_allclose(V[:S_env], oracle, atol=1e-8 * max(1.0, np.abs(oracle).max()))
    if imp.absorbing is not None:
        assert V[imp.absorbing] == pytest.approx(0.0, abs=1e-9)
    # the start distribution is the environment's, the absorbing state never a start
    np.testing.assert_array_equal(imp.mdp.init[:S_env], env.unwrapped.initial_state_distrib)


@pytest.mark.parametrize("key", ["lake4", "taxi-rainy", "cliff-slippery"])
@pytest.mark.parametrize("gamma", [None, 0.9])
def test_finite_horizon_matches_backward_induction_over_env_P(key, gamma):
    env = make(key)
    imp = from_toy_text(env, horizon=7, gamma=gamma)  # both: the discounted problem truncated at 7 steps
    assert imp.stage_discount is None and imp.mdp.gamma == gamma and imp.mdp.is_episodic  # native form
    res = planning.solve(imp.mdp)
    oracle = loop_backward_induction(env.unwrapped.P, 7, 1.0 if gamma is None else gamma)
    S_env = len(env.unwrapped.P)
    np.testing.assert_allclose(imp.values(res.V)[:, :S_env], oracle, atol=1e-9)


def test_absorbing_state_duplicates_and_terminations():
    env = make("lake4")
    imp = from_toy_text(env, gamma=0.9)
    mdp = imp.mdp
    assert isinstance(imp, ImportedMDP) and imp.absorbing == 16 and mdp.S == 17 and mdp.A == 4
    np.testing.assert_array_equal(mdp.P[16, :, 16], 1.0)  # self-loop, reward 0
    np.testing.assert_array_equal(mdp.R[16], 0.0)
    # state 0, action LEFT: the list holds (1/3, 0), (1/3, 0), (1/3, 4): the duplicate is summed
    assert mdp.P[0, 0, 0] == pytest.approx(2 / 3, abs=1e-15) and mdp.P[0, 0, 4] == pytest.approx(1 / 3, abs=1e-15)
    # state 14, action RIGHT reaches the goal (15, terminal) with 1/3: it goes to the absorbing state, reward 1/3
    assert mdp.P[14, 2, 16] == pytest.approx(1 / 3) and mdp.P[14, 2, 15] == 0.0
    assert mdp.R[14, 2] == pytest.approx(1 / 3)
    assert (mdp.P[:, :, 15] == 0).all()  # the goal itself is never entered: termination replaces it
    assert imp.meta["terminating_transitions"] == 50 and imp.meta["max_episode_steps"] == 100
    # without terminations no absorbing state is added
    table = {0: {0: [(1.0, 1, 0.5, False)]}, 1: {0: [(1.0, 0, 0.0, False)]}}
    plain = from_toy_text(_FakeEnv(table, [1.0, 0.0]), gamma=0.5)
    assert plain.absorbing is None and plain.mdp.S == 2


def test_reward_map_of_taxi_and_cliff():
    taxi = from_toy_text(make("taxi"), gamma=0.9)
    assert taxi.reward_map == RewardMap(-10.0, 20.0)
    assert taxi.mdp.R.min() >= 0.0 and taxi.mdp.R.max() <= 1.0
    # mapped back, a mean reward is the expected reward of the listed transitions
    table = make("taxi").unwrapped.P
    s, a = 17, 4  # a pickup
    expected = sum(p * r for p, _, r, _ in table[s][a])
    assert taxi.reward_map.from_unit(taxi.mdp.R[s, a]) == pytest.approx(expected)
    cliff = from_toy_text(make("cliff"), gamma=0.9)
    assert cliff.reward_map == RewardMap(-100.0, 0.0)  # the absorbing state's 0 is the top of the range
    wide = from_toy_text(make("cliff"), gamma=0.9, reward_range=(-200.0, 10.0))
    V, V_wide = (imp.values(planning.solve(imp.mdp).V) for imp in (cliff, wide))
    np.testing.assert_allclose(V, V_wide, atol=1e-8)  # any containing range gives the same values back
    with pytest.raises(ValueError, match="reward_range"):
        from_toy_text(make("cliff"), gamma=0.9, reward_range=(-50.0, 0.0))


class _FakeEnv:
    """A minimal environment: ``unwrapped`` is itself, with a table ``P`` and a start distribution."""

    def __init__(self, table, init=None):
        self.P = table
        self.initial_state_distrib = None if init is None else np.asarray(init)
        self.unwrapped = self


@pytest.mark.parametrize("table, match", [
    ({0: {0: [(0.5, 0, 0.0, False)]}}, "summing to 0.5"),
    ({0: {0: [(1.0, 3, 0.0, False)]}}, "next state"),
    ({0: {0: [(1.0, 0, float("nan"), False)]}}, "finite reward"),
    ({0: {0: [(-0.5, 0, 0.0, False), (1.5, 0, 0.0, False)]}}, "probability"),
    ({0: {0: [(1.0, 0)]}}, "prob, next_state, reward, terminated"),
    ({1: {0: [(1.0, 0, 0.0, False)]}}, "keys"),
    ({0: {1: [(1.0, 0, 0.0, False)]}}, "actions"),
])  # fmt: skip
def test_bad_tables_are_refused(table, match):
    with pytest.raises(ValueError, match=match):
        from_toy_text(_FakeEnv(table, [1.0]), gamma=0.9)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="env"):
        from_toy_text(object(), gamma=0.9)
    with pytest.raises(ValueError, match="env"):
        from_toy_text("NoSuchEnvironment-v0", gamma=0.9)
    with pytest.raises(ValueError, match="init"):
        from_toy_text(make("lake4"), gamma=0.9, init=np.ones(3) / 3)
    with pytest.raises(ValueError, match="init"):
        from_toy_text(_FakeEnv({0: {0: [(1.0, 0, 0.0, False)]}}), gamma=0.9)
    custom = from_toy_text(make("lake4"), gamma=0.9, init=np.full(16, 1 / 16))
    assert custom.mdp.init[16] == 0.0 and custom.mdp.init[:16].sum() == pytest.approx(1.0)


def test_importing_the_package_does_not_import_gymnasium():
    code = "import sys, theory_rl.interop; assert 'gymnasium' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("key", list(ENVS))
def test_sparse_and_dense_imports_are_the_same_mdp(key):
    env = make(key)
    dense, sparse = (from_toy_text(env, gamma=0.9, sparse=flag) for flag in (False, True))
    assert sparse.mdp.is_sparse and not dense.mdp.is_sparse
    np.testing.assert_array_equal(sparse.mdp.P, dense.mdp.P)
    np.testing.assert_array_equal(sparse.mdp.R, dense.mdp.R)
    assert sparse.reward_map == dense.reward_map and sparse.absorbing == dense.absorbing
    # the automatic choice: Taxi (501 x 6 x 501 entries, 0.2% non-zero) is stored sparse, the lakes dense
    auto = from_toy_text(env, gamma=0.9)
    assert auto.mdp.is_sparse == key.startswith("taxi")

"""stable-baselines3 on theory_rl.envs.TabularEnv: the checkers pass, PPO and DQN run, and (slow) recover pi*."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("gymnasium")
sb3 = pytest.importorskip("stable_baselines3", reason="the 'sb3' extra is not installed (pip install -e '.[sb3]')")
torch = pytest.importorskip("torch")

from stable_baselines3.common.env_checker import check_env  # noqa: E402

from theory_rl import generators, planning  # noqa: E402
from theory_rl.envs import TabularEnv  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    # two cores shared by the whole suite: torch's default thread pool would oversubscribe them
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _mdps():
    return (TabularEnv(generators.garnet(S=4, A=2, branching=2, horizon=3, seed=0)),
            TabularEnv(generators.garnet(S=3, A=2, branching=2, gamma=0.9, seed=1), max_episode_steps=10))  # fmt: skip


def test_sb3_env_checker_passes():
    for env in _mdps():
        check_env(env, warn=True)


@pytest.mark.parametrize("algo", ["PPO", "DQN"])
def test_short_runs_give_valid_actions(algo):
    env = _mdps()[0]
    kwargs = {"n_steps": 64, "batch_size": 32} if algo == "PPO" else {"learning_starts": 32, "buffer_size": 500}
    model = getattr(sb3, algo)("MlpPolicy", env, seed=0, device="cpu", verbose=0, **kwargs).learn(128)
    actions = [int(model.predict(s, deterministic=True)[0]) for s in range(env.mdp.S)]
    assert set(actions) <= set(range(env.mdp.A))


@pytest.mark.slow
def test_ppo_recovers_the_optimal_policy():
    """The issue's check: PPO finds pi* in 5,000 steps on a 4-state garnet whose optimal policy is stationary (the
    observation carries no step). Seeded, so deterministic on one machine."""
    env = _mdps()[0]
    pi_star = planning.solve(env.mdp).policy
    assert (pi_star == pi_star[0]).all()  # stationary: reachable by a policy of the observation alone
    model = sb3.PPO("MlpPolicy", env, seed=0, n_steps=256, batch_size=64, device="cpu", verbose=0).learn(5000)
    learned = np.array([int(model.predict(s, deterministic=True)[0]) for s in range(env.mdp.S)])
    np.testing.assert_array_equal(learned, pi_star[0])

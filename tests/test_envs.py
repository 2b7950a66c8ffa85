"""The Gymnasium wrapper: API conformance, seeding, truncation, and the dynamics of the wrapped MDP."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")

from tests.strategies_sim import build_mdp  # noqa: E402
from theory_rl.envs import TabularEnv  # noqa: E402
from theory_rl.planning import occupancy  # noqa: E402


def test_env_checker_passes():
    from gymnasium.utils.env_checker import check_env

    check_env(TabularEnv(build_mdp(0, S=4, A=3, horizon=5, stage_dependent=True)), skip_render_check=True)
    check_env(TabularEnv(build_mdp(1, S=3, A=2, gamma=0.9), max_episode_steps=20), skip_render_check=True)


def test_seeded_reset_reproduces_episodes_and_truncates_at_horizon():
    env = TabularEnv(build_mdp(2, S=5, A=2, horizon=6))

    def episode(seed):
        obs, info = env.reset(seed=seed)
        out, rng = [obs], np.random.default_rng(0)
        for h in range(6):
            obs, r, term, trunc, info = env.step(int(rng.integers(2)))
            out.append((obs, r))
            assert not term and trunc == (h == 5) and info["step"] == h + 1
        return out

    assert episode(3) == episode(3)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    with pytest.raises(ValueError):
        env.reset(seed=1)
        env.step(5)


def test_env_state_distribution_matches_occupancy():
    mdp = build_mdp(4, S=3, A=2, horizon=3, stage_dependent=True)
    env = TabularEnv(mdp)
    env.reset(seed=0)
    n = 4000
    counts = np.zeros((3, 3, 2))
    for _ in range(n):
        s, _ = env.reset()
        for h in range(3):
            counts[h, s, 1] += 1
            s, *_ = env.step(1)
    d = occupancy(mdp, np.ones(3, dtype=int))
    # 6 sigma per entry, 18 entries: false-failure probability < 1e-7.
    assert np.all(np.abs(counts / n - d) <= 6 * np.sqrt(d * (1 - d) / n) + 1e-12)


def test_discounted_env_without_limit_never_truncates():
    env = TabularEnv(build_mdp(5, S=2, A=2, gamma=0.5))
    env.reset(seed=0)
    assert not any(env.step(0)[3] for _ in range(100))
    with pytest.raises(ValueError):
        TabularEnv("mdp")


def test_theory_rl_imports_without_gymnasium():
    code = (
        "import sys; sys.modules['gymnasium'] = None\n"
        "import theory_rl, theory_rl.data, theory_rl.coverage, theory_rl._kernels\n"
        "assert 'gymnasium' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[1])
    )


def test_discounted_env_with_a_limit_stops_after_truncation_and_refuses_bool_actions():
    # issue 13. before: a discounted env kept stepping after truncation, and step(True) was action 1
    env = TabularEnv(build_mdp(6, S=3, A=2, gamma=0.9), max_episode_steps=4)
    env.reset(seed=0)
    flags = [env.step(0)[3] for _ in range(4)]
    assert flags == [False, False, False, True]
    with pytest.raises(RuntimeError, match="max_episode_steps = 4 steps; call reset"):
        env.step(0)
    env.reset(seed=1)
    assert not env.step(1)[3]  # reset starts a new episode
    for action in (True, np.bool_(False), 1.0, -1, 2, "1"):
        with pytest.raises(ValueError, match="action"):
            env.step(action)
    assert env.step(np.int64(1))[4]["step"] == 2  # numpy integers are actions

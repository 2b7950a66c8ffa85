"""A Gymnasium environment wrapping any :class:`~theory_rl.mdp.TabularMDP`, so users' own agents run on our MDPs.

Gymnasium is imported here only (``import theory_rl`` never needs it); install it with the ``gym`` extra.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from theory_rl._validation import check_instance, check_positive_int
from theory_rl.mdp import TabularMDP
from theory_rl.scales import check_sampleable

__all__ = ["TabularEnv"]


class TabularEnv(gym.Env):
    """A TabularMDP as a ``gymnasium.Env`` with ``Discrete(S)`` observations and ``Discrete(A)`` actions.

    ``reset(seed=...)`` seeds the environment's own Generator (``self.np_random``; no global RNG) and draws
    ``s_0 ~ rho``. ``step(a)`` draws ``r`` from the MDP's reward noise and ``s' ~ P_h(. | s, a)``. Episodes of a
    finite-horizon MDP are truncated after ``H`` steps (``truncated=True``); a discounted MDP runs until
    ``max_episode_steps`` if given, forever otherwise. A step after truncation raises RuntimeError (call reset()),
    and an action that is not an integer in ``0..A-1`` (a bool included) a ValueError. ``terminated`` is always
    False: tabular MDPs have no terminal states (absorbing states are ordinary states). ``info`` holds the step
    ``h`` of the next decision.

    Parameters
    ----------
    mdp : TabularMDP
    max_episode_steps : int, optional
        Truncation length for a discounted MDP (a finite-horizon MDP always uses ``H``).
    """

    metadata = {"render_modes": []}

    def __init__(self, mdp: TabularMDP, max_episode_steps: int | None = None) -> None:
        check_instance(mdp, "mdp", TabularMDP)
        check_sampleable(mdp)  # issue 15: Bernoulli rewards need reward_range [0, 1]
        if mdp.is_episodic:
            steps = None if max_episode_steps is None else check_positive_int(max_episode_steps, "max_episode_steps")
            if steps is not None and steps != mdp.horizon:
                raise ValueError(
                    f"max_episode_steps is {max_episode_steps}; this MDP has horizon {mdp.horizon}"
                )
            max_episode_steps = mdp.horizon
        elif max_episode_steps is not None:
            max_episode_steps = check_positive_int(max_episode_steps, "max_episode_steps")
        self.mdp = mdp
        self.max_episode_steps = max_episode_steps
        self.observation_space = spaces.Discrete(mdp.S)
        self.action_space = spaces.Discrete(mdp.A)
        # Cumulative rows divided by their total end in exactly 1.0 (x / x == 1 in IEEE arithmetic), also along
        # trailing zero-probability entries, so a uniform in [0, 1) never selects a state of probability 0.
        cdf_P = np.cumsum(mdp.P, axis=-1)
        self._cdf_P = cdf_P / cdf_P[..., -1:]
        self._cdf_init = np.cumsum(mdp.init) / np.cumsum(mdp.init)[-1]
        self._state: int | None = None
        self._h = 0

    def _draw(self, cdf: np.ndarray) -> int:
        # Inverse CDF: the first entry above the uniform (a zero-probability entry repeats its predecessor).
        return int(np.searchsorted(cdf, self.np_random.random(), side="right"))

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode: ``s_0 ~ rho``. Returns ``(observation, info)``."""
        super().reset(seed=seed)
        self._h = 0
        self._state = self._draw(self._cdf_init)
        return self._state, {"step": 0}

    def step(self, action):
        """Take ``action``; returns ``(observation, reward, terminated, truncated, info)``."""
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        # A bool is an int to Python and to Discrete.contains: step(True) would silently be action 1.
        if isinstance(action, (bool, np.bool_)) or not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is not in Discrete({self.mdp.A})")
        s, a, h = self._state, int(action), self._h
        if self.max_episode_steps is not None and h >= self.max_episode_steps:  # both kinds, once truncated
            what = "H" if self.mdp.is_episodic else "max_episode_steps"
            raise RuntimeError(f"the episode ended after {what} = {self.max_episode_steps} steps; call reset()")
        mean = float(self.mdp.R_at(h)[s, a])
        noise = self.mdp.reward_noise
        if noise == "bernoulli":
            reward = float(self.np_random.random() < mean)
        elif noise == "gaussian":
            reward = float(self.np_random.normal(mean, self.mdp.reward_std))
        else:
            reward = mean
        cdf = self._cdf_P[h] if self._cdf_P.ndim == 4 else self._cdf_P
        self._state = self._draw(cdf[s, a])
        self._h = h + 1
        truncated = self.max_episode_steps is not None and self._h >= self.max_episode_steps
        return self._state, reward, False, truncated, {"step": self._h}

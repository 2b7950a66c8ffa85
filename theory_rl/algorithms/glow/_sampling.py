"""One-episode rollouts and single i.i.d. draws for the round-by-round loops of GLOW and H2O.

The library samplers (:mod:`theory_rl.data`) attach exact coverage records to each dataset, which costs a
planning call per dataset; these loops draw one episode per round, so they sample directly from the stage arrays.
"""

from __future__ import annotations

import numpy as np

from theory_rl.mdp import TabularMDP


class Sampler:
    """Draws from a finite-horizon ``mdp`` with a Generator it is given (no state of its own)."""

    def __init__(self, mdp: TabularMDP) -> None:
        self.H, self.S, self.A = mdp.horizon, mdp.S, mdp.A
        self.cum_P = np.cumsum(mdp.stage_P, axis=-1)
        self.R = np.asarray(mdp.stage_R)
        self.cum_init = np.cumsum(mdp.init)
        self.noise = mdp.reward_noise
        self.std = mdp.reward_std

    def _reward(self, rng: np.random.Generator, mean: float) -> float:
        if self.noise == "bernoulli":
            return float(rng.random() < mean)
        if self.noise == "gaussian":
            return float(mean + self.std * rng.standard_normal())
        return float(mean)

    def _next(self, rng, h: int, x: int, a: int) -> int:
        return min(int(np.searchsorted(self.cum_P[h, x, a], rng.random(), side="right")), self.S - 1)

    def episode(self, rng: np.random.Generator, actions: np.ndarray):
        """An episode of the deterministic policy ``actions`` ``(H, S)``: states (H+1), actions, rewards (H)."""
        states = [min(int(np.searchsorted(self.cum_init, rng.random(), side="right")), self.S - 1)]
        acts, rewards = [], []
        for h in range(self.H):
            x = states[-1]
            a = int(actions[h, x])
            acts.append(a)
            rewards.append(self._reward(rng, self.R[h, x, a]))
            states.append(self._next(rng, h, x, a))
        return states, acts, rewards

    def iid_layer(self, rng: np.random.Generator, cum_mu: np.ndarray, h: int):
        """One draw ``(x, a) ~ mu_h`` (``cum_mu`` the cumulative of the flattened ``mu_h``), its reward and
        next state."""
        z = min(int(np.searchsorted(cum_mu, rng.random(), side="right")), self.S * self.A - 1)
        x, a = divmod(z, self.A)
        return x, a, self._reward(rng, self.R[h, x, a]), self._next(rng, h, x, a)

"""The simple 2D environment of Sims et al. (2024), arXiv 2402.12527, Section 5.1 (true dynamics).

Facts taken from the paper's text (ICLR 2024 submission, Section 5.1): state ``s = (x, y)``; action ``(dx, dy)``
with ``|dx|, |dy| <= 1``; deterministic dynamics ``s' = s + a``; reward ``R(s, a) = exp(-||s - g||^2 / 2)`` with
goal ``g = (4, 8)``; initial states ``Uniform([-2, 2]^2)``, which play the dataset's role; rollouts of k = 10
steps; returns evaluated over H = 30 steps. Choices the text leaves open, made here: no bounds or clipping of
the state; no termination; discount 0.99 (the official code's default); the reward is a function of the state
before the move.
"""

from __future__ import annotations

import math

import torch

__all__ = ["Simple2DEnv"]


class Simple2DEnv:
    """Batched, differentiable-free 2D point environment with known optimal values.

    Parameters
    ----------
    goal : tuple of float, default (4, 8)
    start_half_width : float, default 2
        Initial states are uniform on ``[-w, w]^2``.
    gamma : float, default 0.99
    horizon : int, default 30
        Evaluation episode length.
    """

    obs_dim = 2
    act_dim = 2

    def __init__(self, goal=(4.0, 8.0), start_half_width: float = 2.0, gamma: float = 0.99, horizon: int = 30):
        if not 0.0 <= gamma < 1.0:
            raise ValueError(f"gamma is {gamma}, expected a discount factor in [0, 1)")
        if start_half_width <= 0 or horizon < 1:
            raise ValueError("start_half_width must be > 0 and horizon >= 1")
        self.goal = torch.tensor(goal, dtype=torch.float32)
        self.start_half_width = float(start_half_width)
        self.gamma = float(gamma)
        self.horizon = int(horizon)

    def reward(self, obs: torch.Tensor) -> torch.Tensor:
        """``exp(-||s - g||^2 / 2)``, shape ``(B,)``."""
        return torch.exp(-0.5 * ((obs - self.goal.to(obs.device)) ** 2).sum(-1))

    def step(self, obs: torch.Tensor, act: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """True dynamics: ``(s + clip(a, -1, 1), R(s))``."""
        return obs + act.clamp(-1.0, 1.0), self.reward(obs)

    def sample_init(self, n: int, *, generator: torch.Generator, device="cpu") -> torch.Tensor:
        """``n`` initial states from ``Uniform([-w, w]^2)``."""
        u = torch.rand(n, 2, generator=generator)
        return ((2.0 * u - 1.0) * self.start_half_width).to(device)

    def is_edge_of_reach(self, obs: torch.Tensor, k: int) -> torch.Tensor:
        """Definition 1 for these dynamics: reachable in k steps but in no fewer.

        From ``[-w, w]^2`` with steps of sup-norm <= 1, the states reachable within t steps are ``[-w-t, w+t]^2``;
        so ``s`` is edge-of-reach iff ``w + k - 1 < ||s||_inf <= w + k``.
        """
        r = obs.abs().max(dim=-1).values
        return (r > self.start_half_width + k - 1) & (r <= self.start_half_width + k)

    def sample_edge_of_reach(self, n: int, k: int, *, generator: torch.Generator, device="cpu") -> torch.Tensor:
        """``n`` states uniform on the edge-of-reach band ``w + k - 1 < ||s||_inf <= w + k`` (rejection sampling)."""
        outer = self.start_half_width + k
        out = torch.empty(0, 2)
        while len(out) < n:  # each round keeps a share (2R - 1) / R^2 > 0 of its draws, R = w + k
            s = (2.0 * torch.rand(4 * n, 2, generator=generator) - 1.0) * outer
            out = torch.cat([out, s[self.is_edge_of_reach(s, k)]])
        return out[:n].to(device)

    def optimal_value(self, obs: torch.Tensor, *, horizon: int | None = None, discounted: bool = True):
        """``V*(s)``: moving each coordinate by ``min(1, |g - s|)`` toward the goal is optimal.

        It minimises every coordinate's distance to the goal at every future step simultaneously, and the
        reward decreases with the distance. Discounted infinite horizon by default (the tail after the goal is
        reached is summed in closed form); ``horizon`` and ``discounted=False`` give the H-step return.
        """
        g = self.goal.to(obs.device)
        s = obs.clone()
        steps = horizon if horizon is not None else int(math.ceil(float((g - s).abs().max()))) + 1
        total = torch.zeros(obs.shape[0], device=obs.device)
        disc = 1.0
        for _ in range(steps):
            total = total + disc * self.reward(s)
            s = s + (g - s).clamp(-1.0, 1.0)
            disc = disc * (self.gamma if discounted else 1.0)
        if horizon is None:  # at the goal from here on: reward 1 per step
            total = total + disc / (1.0 - self.gamma)
        return total

    @torch.no_grad()
    def evaluate(self, policy_fn, n: int, *, generator: torch.Generator, device="cpu") -> float:
        """Mean undiscounted H-step return of ``policy_fn(obs) -> actions`` from ``n`` initial states."""
        s = self.sample_init(n, generator=generator, device=device)
        total = torch.zeros(n, device=device)
        for _ in range(self.horizon):
            s, r = self.step(s, policy_fn(s))
            total += r
        return float(total.mean())

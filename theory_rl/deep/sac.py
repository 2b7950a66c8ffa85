"""SAC with a vectorised critic ensemble, the EDAC diversity term, RAVL and MBPO-style truncated rollouts.

- SAC with automatic temperature (Haarnoja et al. 2018): target entropy ``-|A|``.
- EDAC (An et al. 2021, Eq. 4): N critics, target ``min_j Qbar_j(s', a')``, plus ``eta * ES`` with
  ``ES = 1/(N-1) sum_{i != j} <g_i, g_j>`` (batch mean), ``g_i`` the normalised action-gradient of critic i.
- RAVL (Sims et al. 2024, arXiv 2402.12527, Section 5): EDAC on MBPO rollouts with no dynamics penalty
  (defaults N = 10, eta = 1). Base = SAC with the usual two critics (N = 2, eta = 0).
- Base-OraclePatch (Section 4): the bootstrap at edge-of-reach next states is replaced by the oracle ``V*(s')``.

Truncation is not a terminal: every target bootstraps (there is no done flag in rollouts).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from theory_rl.deep.nets import GaussianPolicy, QEnsemble

__all__ = ["SACConfig", "SAC", "ReplayBuffer", "mbpo_rollouts", "default_device"]


def default_device() -> torch.device:
    """``cuda`` when a GPU is present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass(frozen=True)
class SACConfig:
    """Hyperparameters; defaults are the paper's code (RAVL: ``n_critics=10, eta=1``)."""

    gamma: float = 0.99
    tau: float = 5e-3
    lr: float = 3e-4
    batch_size: int = 256
    hidden: int = 256
    n_layers: int = 3
    n_critics: int = 2
    eta: float = 0.0
    init_log_alpha: float = 0.0

    def __post_init__(self):
        if not 0.0 <= self.gamma < 1.0:
            raise ValueError(f"gamma is {self.gamma}, expected a discount factor in [0, 1)")
        if self.n_critics < 1 or (self.eta > 0 and self.n_critics < 2):
            raise ValueError(f"n_critics is {self.n_critics}: need >= 1, and >= 2 with the EDAC term (eta > 0)")
        if self.eta < 0 or not 0 < self.tau <= 1 or self.lr <= 0 or self.batch_size < 1:
            raise ValueError("need eta >= 0, 0 < tau <= 1, lr > 0 and batch_size >= 1")


class SAC:
    """Soft actor-critic with an N-critic ensemble (N = 2: SAC; N = 10 with eta = 1: EDAC/RAVL)."""

    def __init__(self, obs_dim: int, act_dim: int, config: SACConfig, *, generator: torch.Generator, device=None):
        self.config = config
        self.device = torch.device(device) if device is not None else default_device()
        self.generator = generator
        kw = dict(hidden=config.hidden, n_layers=config.n_layers, generator=generator)
        self.critic = QEnsemble(obs_dim, act_dim, config.n_critics, **kw).to(self.device)
        self.target = copy.deepcopy(self.critic).requires_grad_(False)
        self.actor = GaussianPolicy(obs_dim, act_dim, **kw).to(self.device)
        self.log_alpha = torch.tensor(config.init_log_alpha, device=self.device, requires_grad=True)
        self.target_entropy = -float(act_dim)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=config.lr)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=config.lr)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=config.lr)

    @torch.no_grad()
    def act(self, obs: torch.Tensor, *, deterministic: bool = False) -> torch.Tensor:
        return self.actor(obs, generator=self.generator, deterministic=deterministic)[0]

    @torch.no_grad()
    def q_values(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """All critics, shape ``(N, B)``."""
        return self.critic(obs, act)

    def _diversity(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """EDAC's ES: ``1/(N-1) sum_{i != j} <g_i, g_j>``, ``g_i = grad_a Q_i / ||grad_a Q_i||``, batch mean.

        The ``1/(N-1)`` normalisation (not ``1/(N(N-1))``) is EDAC's and the RAVL code's, so that ``eta`` means
        what it means there.
        """
        n = self.config.n_critics
        a = act.unsqueeze(0).expand(n, -1, -1).clone().requires_grad_(True)
        q = self.critic(obs, a)
        (grads,) = torch.autograd.grad(q.sum(), a, create_graph=True)
        grads = grads / (grads.norm(dim=-1, keepdim=True) + 1e-10)
        sims = torch.einsum("nba,mba->bnm", grads, grads)
        off = sims.sum(dim=(1, 2)) - sims.diagonal(dim1=1, dim2=2).sum(-1)
        return (off / (n - 1)).mean()

    def update(self, obs, act, rew, next_obs, *, oracle_next_values=None, patch_mask=None) -> dict:
        """One gradient step of critic, actor and temperature on a batch.

        ``patch_mask`` (bool, ``(B,)``) and ``oracle_next_values`` (``(B,)``): Base-OraclePatch, targets
        ``r + gamma V*(s')`` at the masked (edge-of-reach) next states.
        """
        cfg = self.config
        alpha = self.log_alpha.exp().detach()
        with torch.no_grad():
            next_act, next_logp = self.actor(next_obs, generator=self.generator)
            next_v = self.target(next_obs, next_act).min(dim=0).values - alpha * next_logp
            if patch_mask is not None:
                next_v = torch.where(patch_mask, oracle_next_values, next_v)
            y = rew + cfg.gamma * next_v
        q = self.critic(obs, act)
        critic_loss = ((q - y) ** 2).mean(dim=1).sum()
        if cfg.eta > 0:
            critic_loss = critic_loss + cfg.eta * self._diversity(obs, act)
        self.critic_opt.zero_grad()
        critic_loss.backward()
        self.critic_opt.step()

        new_act, logp = self.actor(obs, generator=self.generator)
        q_pi = self.critic(obs, new_act).min(dim=0).values
        actor_loss = (alpha * logp - q_pi).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()

        alpha_loss = -(self.log_alpha * (logp.detach() + self.target_entropy)).mean()
        self.alpha_opt.zero_grad()
        alpha_loss.backward()
        self.alpha_opt.step()

        with torch.no_grad():
            for p, tp in zip(self.critic.parameters(), self.target.parameters(), strict=True):
                tp.lerp_(p, cfg.tau)
        return {
            "critic_loss": critic_loss.item(),
            "actor_loss": actor_loss.item(),
            "alpha": alpha.item(),
            "q_mean": q.detach().min(dim=0).values.mean().item(),
        }


class ReplayBuffer:
    """A fixed-capacity FIFO buffer of ``(obs, act, rew, next_obs)`` tensors, sampled with a generator."""

    def __init__(self, obs_dim: int, act_dim: int, capacity: int, device) -> None:
        self.capacity, self.size, self.ptr = int(capacity), 0, 0
        self.data = {
            "obs": torch.zeros(capacity, obs_dim, device=device),
            "act": torch.zeros(capacity, act_dim, device=device),
            "rew": torch.zeros(capacity, device=device),
            "next_obs": torch.zeros(capacity, obs_dim, device=device),
        }

    def add(self, **batch: torch.Tensor) -> None:
        n = len(batch["obs"])
        idx = (self.ptr + torch.arange(n)) % self.capacity
        for key, arr in self.data.items():
            arr[idx.to(arr.device)] = batch[key]
        self.ptr = (self.ptr + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, n: int, *, generator: torch.Generator) -> dict:
        if self.size == 0:
            raise ValueError("cannot sample from an empty buffer")
        idx = torch.randint(0, self.size, (n,), generator=generator)
        return {key: arr[idx.to(arr.device)] for key, arr in self.data.items()}


@torch.no_grad()
def mbpo_rollouts(policy_fn, step_fn, start_obs: torch.Tensor, k: int) -> dict:
    """k-step rollouts from ``start_obs``: ``policy_fn(obs) -> act``, ``step_fn(obs, act) -> (next_obs, rew)``.

    Returns the stacked transitions (``k * B`` rows) and ``step`` (0..k-1). Truncation is not a terminal.
    """
    if k < 1:
        raise ValueError(f"k is {k}, expected a rollout length >= 1")
    out: dict[str, list] = {"obs": [], "act": [], "rew": [], "next_obs": [], "step": []}
    s = start_obs
    for t in range(k):
        a = policy_fn(s)
        s2, r = step_fn(s, a)
        for key, val in (("obs", s), ("act", a), ("rew", r), ("next_obs", s2)):
            out[key].append(val)
        out["step"].append(torch.full((len(s),), t, device=s.device))
        s = s2
    return {key: torch.cat(val) for key, val in out.items()}

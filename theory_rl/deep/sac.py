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

from theory_rl.deep.nets import INITS, GaussianPolicy, QEnsemble, edac_init_

__all__ = ["SACConfig", "SAC", "ReplayBuffer", "mbpo_rollouts", "default_device"]


def default_device() -> torch.device:
    """``cuda`` when a GPU is present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


UPDATE_ORDERS = ("critic_actor_alpha", "alpha_actor_critic")
EDAC_ACTIONS = ("batch", "policy")
EDAC_NORMS = ("n_minus_1", "pairs")


@dataclass(frozen=True)
class SACConfig:
    """Hyperparameters; defaults are the paper's code (RAVL: ``n_critics=10, eta=1``) except where stated.

    The switches below make each difference from the official RAVL code (github anyasims/edge-of-reach,
    ``agent_training/agent.py``, commit 3cd253e2; read for facts) a parameter; the defaults keep this backend's
    behaviour, and the official choice is named in each entry.

    Parameters
    ----------
    lr : float
        Adam step size of every optimiser unless ``actor_lr``, ``critic_lr`` or ``alpha_lr`` is given
        (official: 3e-4 for all three, set by its TrainConfig).
    init_log_alpha : float
        ``log alpha`` at the start (official 0); with ``auto_alpha=False`` alpha stays ``exp(init_log_alpha)``.
    auto_alpha : bool
        Learn alpha toward the target entropy ``-|A|`` (official: True).
    update_order : {"critic_actor_alpha", "alpha_actor_critic"}
        Ours: critic, then actor on the just-updated critic, then alpha on the actor step's ``log pi``. Official:
        alpha on a fresh ``a ~ pi(s)``, then the actor on the critic before this step's update (with the new
        alpha), then the critic (its target's ``a' ~ pi`` from the new actor). The target update is last in both.
    entropy_in_target : bool
        ``y = r + gamma (min_j Qbar_j(s', a') - alpha log pi(a'|s'))`` (True, official and ours) or without the
        entropy term.
    target_critics : int
        0: the target's min is over all N target critics (official and ours); ``m >= 2``: over a random subset
        of m of them, drawn per update (REDQ-style, a weaker pessimism).
    edac_actions : {"batch", "policy"}
        The EDAC term's actions: the batch's (official and ours) or fresh ``a ~ pi(s)`` (detached).
    edac_norm : {"n_minus_1", "pairs"}
        Divide the off-diagonal sum by ``N - 1`` (EDAC's and the official code's) or by ``N (N - 1)``, the
        mean over ordered pairs (then ``eta`` weighs a cosine in [-1, 1]).
    init : {"default", "edac"}
        PyTorch-default-like ``U(+-1/sqrt(fan_in))`` everywhere (ours) or EDAC's (official): hidden biases 0.1,
        critic output layer ``U(+-3e-3)``, actor output heads ``U(+-1e-3)``; see
        :func:`~theory_rl.deep.nets.edac_init_`.
    """

    gamma: float = 0.99
    tau: float = 5e-3
    lr: float = 3e-4
    batch_size: int = 256
    hidden: int = 256
    n_layers: int = 3
    n_critics: int = 2
    eta: float = 0.0
    init_log_alpha: float = 0.0
    actor_lr: float | None = None
    critic_lr: float | None = None
    alpha_lr: float | None = None
    auto_alpha: bool = True
    update_order: str = "critic_actor_alpha"
    entropy_in_target: bool = True
    target_critics: int = 0
    edac_actions: str = "batch"
    edac_norm: str = "n_minus_1"
    init: str = "default"

    def __post_init__(self):
        if not 0.0 <= self.gamma < 1.0:
            raise ValueError(f"gamma is {self.gamma}, expected a discount factor in [0, 1)")
        if self.n_critics < 1 or (self.eta > 0 and self.n_critics < 2):
            raise ValueError(f"n_critics is {self.n_critics}: need >= 1, and >= 2 with the EDAC term (eta > 0)")
        if self.eta < 0 or not 0 < self.tau <= 1 or self.lr <= 0 or self.batch_size < 1:
            raise ValueError("need eta >= 0, 0 < tau <= 1, lr > 0 and batch_size >= 1")
        for name in ("actor_lr", "critic_lr", "alpha_lr"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, float | int) and value > 0):
                raise ValueError(f"SACConfig.{name} is {value!r}, expected None or a step size > 0")
        for name, options in (
            ("update_order", UPDATE_ORDERS),
            ("edac_actions", EDAC_ACTIONS),
            ("edac_norm", EDAC_NORMS),
            ("init", INITS),
        ):
            if getattr(self, name) not in options:
                raise ValueError(f"SACConfig.{name} is {getattr(self, name)!r}, expected one of {options}")
        m = self.target_critics
        if isinstance(m, bool) or not isinstance(m, int) or not (m == 0 or 2 <= m <= self.n_critics):
            raise ValueError(
                f"SACConfig.target_critics is {m!r}, expected 0 (all) or an int in [2, n_critics={self.n_critics}]"
            )
        for name in ("auto_alpha", "entropy_in_target"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"SACConfig.{name} is {getattr(self, name)!r}, expected a bool")


class SAC:
    """Soft actor-critic with an N-critic ensemble (N = 2: SAC; N = 10 with eta = 1: EDAC/RAVL)."""

    def __init__(self, obs_dim: int, act_dim: int, config: SACConfig, *, generator: torch.Generator, device=None):
        self.config = config
        self.device = torch.device(device) if device is not None else default_device()
        self.generator = generator
        kw = dict(hidden=config.hidden, n_layers=config.n_layers, generator=generator)
        critic = QEnsemble(obs_dim, act_dim, config.n_critics, **kw)
        actor = GaussianPolicy(obs_dim, act_dim, **kw)
        if config.init == "edac":
            edac_init_(critic.mlp, 3e-3, generator=generator)
            edac_init_(actor.mlp, 1e-3, generator=generator)
        self.critic = critic.to(self.device)
        self.target = copy.deepcopy(self.critic).requires_grad_(False)
        self.actor = actor.to(self.device)
        self.log_alpha = torch.tensor(config.init_log_alpha, device=self.device, requires_grad=True)
        self.target_entropy = -float(act_dim)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=config.critic_lr or config.lr)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=config.actor_lr or config.lr)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=config.alpha_lr or config.lr)

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
        what it means there; ``edac_norm="pairs"`` divides by ``N (N - 1)`` instead.
        """
        n = self.config.n_critics
        a = act.unsqueeze(0).expand(n, -1, -1).clone().requires_grad_(True)
        q = self.critic(obs, a)
        (grads,) = torch.autograd.grad(q.sum(), a, create_graph=True)
        grads = grads / (grads.norm(dim=-1, keepdim=True) + 1e-10)
        sims = torch.einsum("nba,mba->bnm", grads, grads)
        off = sims.sum(dim=(1, 2)) - sims.diagonal(dim1=1, dim2=2).sum(-1)
        denom = (n - 1) if self.config.edac_norm == "n_minus_1" else n * (n - 1)
        return (off / denom).mean()

    def critic_target(self, rew, next_obs, alpha, *, oracle_next_values=None, patch_mask=None) -> torch.Tensor:
        """``y = r + gamma (min_j Qbar_j(s', a') - alpha log pi(a'|s'))``, ``a' ~ pi(s')``, with the switches."""
        cfg = self.config
        with torch.no_grad():
            next_act, next_logp = self.actor(next_obs, generator=self.generator)
            q_next = self.target(next_obs, next_act)
            if cfg.target_critics:
                pick = torch.randperm(cfg.n_critics, generator=self.generator)[: cfg.target_critics]
                q_next = q_next[pick.to(q_next.device)]
            next_v = q_next.min(dim=0).values
            if cfg.entropy_in_target:
                next_v = next_v - alpha * next_logp
            if patch_mask is not None:
                next_v = torch.where(patch_mask, oracle_next_values, next_v)
            return rew + cfg.gamma * next_v

    def _critic_step(self, obs, act, y) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        q = self.critic(obs, act)
        loss = ((q - y) ** 2).mean(dim=1).sum()
        if cfg.eta > 0:
            if cfg.edac_actions == "policy":
                act = self.act(obs)
            loss = loss + cfg.eta * self._diversity(obs, act)
        self.critic_opt.zero_grad()
        loss.backward()
        self.critic_opt.step()
        return loss, q.detach()

    def _actor_step(self, obs, alpha) -> tuple[torch.Tensor, torch.Tensor]:
        new_act, logp = self.actor(obs, generator=self.generator)
        loss = (alpha * logp - self.critic(obs, new_act).min(dim=0).values).mean()
        self.actor_opt.zero_grad()
        loss.backward()
        self.actor_opt.step()
        return loss, logp.detach()

    def _alpha_step(self, logp: torch.Tensor) -> torch.Tensor:
        if not self.config.auto_alpha:
            return self.log_alpha.exp().detach()
        loss = -(self.log_alpha * (logp + self.target_entropy)).mean()
        self.alpha_opt.zero_grad()
        loss.backward()
        self.alpha_opt.step()
        return self.log_alpha.exp().detach()

    def update(self, obs, act, rew, next_obs, *, oracle_next_values=None, patch_mask=None) -> dict:
        """One gradient step of critic, actor and temperature on a batch, in ``config.update_order``.

        ``patch_mask`` (bool, ``(B,)``) and ``oracle_next_values`` (``(B,)``): Base-OraclePatch, targets
        ``r + gamma V*(s')`` at the masked (edge-of-reach) next states.
        """
        cfg = self.config
        patch = dict(oracle_next_values=oracle_next_values, patch_mask=patch_mask)
        alpha = self.log_alpha.exp().detach()
        if cfg.update_order == "critic_actor_alpha":
            critic_loss, q = self._critic_step(obs, act, self.critic_target(rew, next_obs, alpha, **patch))
            actor_loss, logp = self._actor_step(obs, alpha)
            self._alpha_step(logp)
        else:  # the official order: alpha on a fresh sample, actor on the old critic, then the critic
            with torch.no_grad():
                logp = self.actor(obs, generator=self.generator)[1]
            alpha = self._alpha_step(logp)
            actor_loss, _ = self._actor_step(obs, alpha)
            critic_loss, q = self._critic_step(obs, act, self.critic_target(rew, next_obs, alpha, **patch))
        with torch.no_grad():
            for p, tp in zip(self.critic.parameters(), self.target.parameters(), strict=True):
                tp.lerp_(p, cfg.tau)
        return {
            "critic_loss": critic_loss.item(),
            "actor_loss": actor_loss.item(),
            "alpha": alpha.item(),
            "q_mean": q.min(dim=0).values.mean().item(),
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

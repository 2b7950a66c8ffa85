"""Vectorised MLP ensembles: Q-ensembles, a tanh-Gaussian policy and a Gaussian dynamics ensemble.

Every parameter is initialised from an explicit ``torch.Generator`` (PyTorch's default initialisation, uniform in
``+-1/sqrt(fan_in)``, but without the global RNG), on CPU, then moved to the requested device.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = [
    "EnsembleLinear",
    "EnsembleMLP",
    "QEnsemble",
    "GaussianPolicy",
    "GaussianDynamicsEnsemble",
    "edac_init_",
]

INITS = ("default", "edac")


class EnsembleLinear(nn.Module):
    """``n`` independent linear layers applied in one batched matmul: ``(n, B, fan_in) -> (n, B, fan_out)``."""

    def __init__(self, n: int, fan_in: int, fan_out: int, *, generator: torch.Generator) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(fan_in)
        w = torch.empty(n, fan_in, fan_out).uniform_(-bound, bound, generator=generator)
        b = torch.empty(n, 1, fan_out).uniform_(-bound, bound, generator=generator)
        self.weight = nn.Parameter(w)
        self.bias = nn.Parameter(b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleMLP(nn.Module):
    """``n`` MLPs with ``n_layers`` hidden layers of width ``hidden``; input ``(B, d)`` or ``(n, B, d)``."""

    def __init__(
        self,
        n: int,
        in_dim: int,
        out_dim: int,
        *,
        hidden: int,
        n_layers: int,
        generator: torch.Generator,
        activation: type[nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        if n < 1 or in_dim < 1 or out_dim < 1 or hidden < 1 or n_layers < 1:
            raise ValueError(
                f"EnsembleMLP sizes must be >= 1, got n={n}, in_dim={in_dim}, out_dim={out_dim}, "
                f"hidden={hidden}, n_layers={n_layers}"
            )
        self.n = n
        dims = [in_dim] + [hidden] * n_layers
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            layers += [EnsembleLinear(n, a, b, generator=generator), activation()]
        layers.append(EnsembleLinear(n, dims[-1], out_dim, generator=generator))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.unsqueeze(0).expand(self.n, -1, -1)
        return self.net(x)


class QEnsemble(nn.Module):
    """``N`` critics ``Q_i(s, a)`` evaluated together: ``forward(obs, act) -> (N, B)``.

    ``act`` may be ``(B, A)`` (shared) or ``(N, B, A)`` (one action batch per member, as the EDAC gradient needs).
    """

    def __init__(self, obs_dim: int, act_dim: int, n: int, *, hidden: int, n_layers: int, generator) -> None:
        super().__init__()
        self.n = n
        self.mlp = EnsembleMLP(n, obs_dim + act_dim, 1, hidden=hidden, n_layers=n_layers, generator=generator)

    def forward(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        if act.dim() == 3:
            obs = obs.unsqueeze(0).expand(self.n, -1, -1)
        return self.mlp(torch.cat([obs, act], dim=-1)).squeeze(-1)


class GaussianPolicy(nn.Module):
    """Tanh-squashed Gaussian policy with actions in ``[-1, 1]^A`` (SAC, Haarnoja et al. 2018)."""

    LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0

    def __init__(self, obs_dim: int, act_dim: int, *, hidden: int, n_layers: int, generator) -> None:
        super().__init__()
        self.act_dim = act_dim
        self.mlp = EnsembleMLP(1, obs_dim, 2 * act_dim, hidden=hidden, n_layers=n_layers, generator=generator)

    def forward(self, obs: torch.Tensor, *, generator: torch.Generator | None, deterministic: bool = False):
        """Return ``(action, log_prob)``; ``generator`` draws the noise (CPU generator, noise moved to device)."""
        mean, log_std = self.mlp(obs)[0].chunk(2, dim=-1)
        log_std = log_std.clamp(self.LOG_STD_MIN, self.LOG_STD_MAX)
        if deterministic:
            u = mean
        else:
            noise = torch.randn(mean.shape, generator=generator).to(mean.device)
            u = mean + log_std.exp() * noise
        log_prob = (-0.5 * ((u - mean) / log_std.exp()) ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        # tanh change of variables, numerically stable form of log(1 - tanh(u)^2)
        log_prob = log_prob - (2.0 * (math.log(2.0) - u - nn.functional.softplus(-2.0 * u))).sum(-1)
        return torch.tanh(u), log_prob


@torch.no_grad()
def edac_init_(mlp: EnsembleMLP, out_bound: float, *, generator: torch.Generator) -> None:
    """EDAC's initialisation (An et al. 2021; the RAVL code's ``VectorizedCritic`` and ``Actor``), in place.

    Hidden-layer biases set to 0.1; the output layer's weights and biases redrawn uniform in ``+-out_bound``
    (``3e-3`` for the critics, ``1e-3`` for the actor's mean and log-std heads), so the initial Q-values are
    about 0 and the initial policy about ``N(0, 1)`` before the tanh. Hidden weights keep the default draw.
    """
    linears = [m for m in mlp.net if isinstance(m, EnsembleLinear)]
    for layer in linears[:-1]:
        layer.bias.fill_(0.1)
    last = linears[-1]
    last.weight.uniform_(-out_bound, out_bound, generator=generator)
    last.bias.uniform_(-out_bound, out_bound, generator=generator)


class GaussianDynamicsEnsemble(nn.Module):
    """Ensemble of Gaussian models of ``(s' - s, r)`` given ``(s, a)`` (MBPO, Janner et al. 2019).

    Defaults follow the paper's code: 7 members, 4 hidden layers of 200 SiLU units. Targets are standardised
    by statistics of the training data. Sampling picks a uniformly random member per transition (no elite
    selection: all members are used).
    """

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        *,
        n: int = 7,
        hidden: int = 200,
        n_layers: int = 4,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        self.obs_dim, self.act_dim, self.n = obs_dim, act_dim, n
        out = obs_dim + 1
        self.mlp = EnsembleMLP(
            n, obs_dim + act_dim, 2 * out, hidden=hidden, n_layers=n_layers, generator=generator, activation=nn.SiLU
        )
        self.register_buffer("in_mu", torch.zeros(obs_dim + act_dim))
        self.register_buffer("in_sd", torch.ones(obs_dim + act_dim))
        self.register_buffer("out_mu", torch.zeros(out))
        self.register_buffer("out_sd", torch.ones(out))

    def _forward(self, obs: torch.Tensor, act: torch.Tensor):
        x = (torch.cat([obs, act], dim=-1) - self.in_mu) / self.in_sd
        mean, logvar = self.mlp(x).chunk(2, dim=-1)
        return mean, logvar.clamp(-10.0, 4.0)

    def fit(self, obs, act, next_obs, rew, *, n_steps: int, batch_size: int = 256, lr: float = 1e-3, generator):
        """Gaussian negative log-likelihood, each member on its own bootstrap batches; returns the last loss."""
        x = torch.cat([obs, act], dim=-1)
        y = torch.cat([next_obs - obs, rew.unsqueeze(-1)], dim=-1)
        self.in_mu.copy_(x.mean(0))
        self.in_sd.copy_(x.std(0).clamp_min(1e-6))
        self.out_mu.copy_(y.mean(0))
        self.out_sd.copy_(y.std(0).clamp_min(1e-6))
        y = (y - self.out_mu) / self.out_sd
        opt = torch.optim.Adam(self.parameters(), lr=lr)
        loss = torch.tensor(float("nan"))
        for _ in range(n_steps):
            idx = torch.randint(0, len(obs), (self.n, batch_size), generator=generator).to(obs.device)
            mean, logvar = self._forward(obs[idx], act[idx])
            loss = (((mean - y[idx]) ** 2) * torch.exp(-logvar) + logvar).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss.item()

    @torch.no_grad()
    def sample(self, obs: torch.Tensor, act: torch.Tensor, *, generator: torch.Generator):
        """Draw ``(next_obs, reward, disagreement)``; disagreement is MOPO's max-over-members std norm."""
        mean, logvar = self._forward(obs, act)  # (n, B, out)
        std = (0.5 * logvar).exp()
        member = torch.randint(0, self.n, (obs.shape[0],), generator=generator).to(obs.device)
        noise = torch.randn(obs.shape[0], self.obs_dim + 1, generator=generator).to(obs.device)
        rows = torch.arange(obs.shape[0], device=obs.device)
        y = (mean[member, rows] + std[member, rows] * noise) * self.out_sd + self.out_mu
        disagreement = (std * self.out_sd).norm(dim=-1).max(dim=0).values
        return obs + y[:, : self.obs_dim], y[:, -1], disagreement

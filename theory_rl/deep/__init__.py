"""Thin PyTorch backend for the edge-of-reach experiments (optional extra ``deep``).

Sims, Lu, Foerster, Teh (2024), "The Edge-of-Reach Problem in Offline Model-Based Reinforcement Learning",
arXiv 2402.12527: small MLPs, vectorised Q-ensembles with the EDAC diversity term, SAC with automatic temperature,
a Gaussian dynamics ensemble, MBPO-style truncated rollouts, RAVL, and the paper's simple 2D environment.

Importing this package needs PyTorch (``pip install theory_rl[deep]``, which pins ``torch==2.13.0``); importing
:mod:`theory_rl` itself never imports torch. Every random draw goes through an explicit ``torch.Generator``;
runs on CPU are bit-for-bit reproducible for a fixed seed, and a GPU is used when one is present.
"""

try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "theory_rl.deep needs PyTorch, which is not installed: pip install theory_rl[deep]  (torch==2.13.0)"
    ) from exc

from theory_rl.deep.env2d import Simple2DEnv
from theory_rl.deep.nets import (
    EnsembleLinear,
    EnsembleMLP,
    GaussianDynamicsEnsemble,
    GaussianPolicy,
    QEnsemble,
    edac_init_,
)
from theory_rl.deep.sac import SAC, ReplayBuffer, SACConfig, default_device, mbpo_rollouts
from theory_rl.deep.train import TrainConfig, train_2d

__all__ = [
    "EnsembleLinear",
    "EnsembleMLP",
    "GaussianDynamicsEnsemble",
    "GaussianPolicy",
    "QEnsemble",
    "ReplayBuffer",
    "SAC",
    "SACConfig",
    "Simple2DEnv",
    "TrainConfig",
    "default_device",
    "edac_init_",
    "mbpo_rollouts",
    "train_2d",
]

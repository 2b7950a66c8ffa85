"""Fixed-seed instances and policies for the simulation tests (hypothesis strategies: tests/strategies.py)."""

from __future__ import annotations

import numpy as np

from theory_rl.mdp import TabularMDP


def random_distributions(rng: np.random.Generator, shape: tuple[int, ...], sparsity: float = 0.3) -> np.ndarray:
    """Random rows on the simplex along the last axis, with some exact zeros (never an all-zero row)."""
    x = rng.exponential(size=shape)
    x[rng.random(shape) < sparsity] = 0.0
    flat = x.reshape(-1, shape[-1])
    empty = flat.sum(axis=1) == 0
    flat[empty, rng.integers(0, shape[-1], size=int(empty.sum()))] = 1.0
    return flat.reshape(shape) / flat.reshape(shape).sum(axis=-1, keepdims=True)


def build_mdp(
    seed: int,
    S: int,
    A: int,
    *,
    horizon: int | None = None,
    gamma: float | None = None,
    stage_dependent: bool = False,
    noise: str = "bernoulli",
) -> TabularMDP:
    rng = np.random.default_rng(seed)
    stages = (horizon,) if (stage_dependent and horizon is not None) else ()
    P = random_distributions(rng, stages + (S, A, S))
    R = rng.random(stages + (S, A))
    init = random_distributions(rng, (S,), sparsity=0.5)
    return TabularMDP(P, R, init, gamma=gamma, horizon=horizon, reward_noise=noise)


def random_policy(mdp: TabularMDP, seed: int, *, deterministic: bool, stage_dependent: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lead = (mdp.horizon,) if (stage_dependent and mdp.is_episodic) else ()
    if deterministic:
        return rng.integers(0, mdp.A, size=lead + (mdp.S,))
    return random_distributions(rng, lead + (mdp.S, mdp.A), sparsity=0.2)

"""Small hypothesis strategies for the simulation tests (until tests/strategies.py lands on main)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from theory_rl.mdp import TabularMDP


def random_distributions(
    rng: np.random.Generator, shape: tuple[int, ...], sparsity: float = 0.3
) -> np.ndarray:
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


@st.composite
def small_mdps(draw, *, max_S: int = 4, max_A: int = 3, max_H: int = 4, kinds=("finite", "discounted")):
    """A small random MDP: finite horizon (stationary or stage-dependent) or discounted."""
    kind = draw(st.sampled_from(kinds))
    S = draw(st.integers(1, max_S))
    A = draw(st.integers(1, max_A))
    seed = draw(st.integers(0, 2**31 - 1))
    if kind == "finite":
        H = draw(st.integers(1, max_H))
        return build_mdp(seed, S, A, horizon=H, stage_dependent=draw(st.booleans()))
    gamma = draw(st.sampled_from([0.0, 0.5, 0.8, 0.9]))
    return build_mdp(seed, S, A, gamma=gamma)


def random_policy(
    mdp: TabularMDP, seed: int, *, deterministic: bool, stage_dependent: bool = False
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lead = (mdp.horizon,) if (stage_dependent and mdp.is_episodic) else ()
    if deterministic:
        return rng.integers(0, mdp.A, size=lead + (mdp.S,))
    return random_distributions(rng, lead + (mdp.S, mdp.A), sparsity=0.2)

"""Hypothesis strategies for valid (and deliberately invalid) tabular MDPs and policies."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from theory_rl.mdp import TabularMDP


def _simplex_rows(rng: np.random.Generator, shape: tuple[int, ...], sparsity: float) -> np.ndarray:
    """Random rows on the simplex; some entries zeroed to exercise sparse supports."""
    x = rng.exponential(size=shape)
    x[rng.random(shape) < sparsity] = 0.0
    x[..., 0] += (x.sum(axis=-1) == 0)  # never an all-zero row
    return x / x.sum(axis=-1, keepdims=True)


@st.composite
def mdp_arrays(draw, *, max_S: int = 6, max_A: int = 4, max_H: int = 5, episodic: bool | None = None,
               stage_dependent: bool | None = None):
    """Draw (P, R, init, kwargs) for a valid MDP of random size, discounted or finite-horizon."""
    S = draw(st.integers(1, max_S))
    A = draw(st.integers(1, max_A))
    seed = draw(st.integers(0, 2**32 - 1))
    sparsity = draw(st.sampled_from([0.0, 0.5, 0.8]))
    episodic = draw(st.booleans()) if episodic is None else episodic
    if episodic:
        H = draw(st.integers(1, max_H))
        staged = draw(st.booleans()) if stage_dependent is None else stage_dependent
        lead = (H,) if staged else ()
        kwargs = {"horizon": H}
    else:
        lead = ()
        kwargs = {"gamma": draw(st.sampled_from([0.0, 0.5, 0.9, 0.99]))}
    return (*seeded_arrays(S, A, seed, sparsity, lead), kwargs)


def seeded_arrays(S: int, A: int, seed: int, sparsity: float, lead: tuple = ()):
    """``(P, R, init)`` of the MDP that :func:`mdp_arrays` draws for these values (to pin a found case with
    hypothesis' ``@example``)."""
    rng = np.random.default_rng(seed)
    P = _simplex_rows(rng, lead + (S, A, S), sparsity)
    R = rng.random(lead + (S, A))
    R[rng.random(R.shape) < 0.2] = 0.0  # exact 0 and 1 rewards are legal and worth hitting
    R[rng.random(R.shape) < 0.1] = 1.0
    init = _simplex_rows(rng, (S,), sparsity)
    return P, R, init


@st.composite
def tabular_mdps(draw, **kwargs) -> TabularMDP:
    """A valid TabularMDP of random size; keywords as in :func:`mdp_arrays`."""
    P, R, init, kw = draw(mdp_arrays(**kwargs))
    return TabularMDP(P, R, init, **kw)


@st.composite
def mdps_with_policy(draw, *, deterministic: bool | None = None, **kwargs):
    """A valid MDP together with a policy in either accepted form."""
    mdp = draw(tabular_mdps(**kwargs))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    lead = (mdp.horizon,) if mdp.is_episodic and draw(st.booleans()) else ()
    deterministic = draw(st.booleans()) if deterministic is None else deterministic
    if deterministic:
        policy = rng.integers(0, mdp.A, size=lead + (mdp.S,))
    else:
        policy = _simplex_rows(rng, lead + (mdp.S, mdp.A), 0.3)
    return mdp, policy


# -- issue 15 [scale], item 4 (scale-linear): factored linear MDPs with simplex features ---------------------------
def _sparse_simplex(rng: np.random.Generator, shape: tuple[int, ...], zero_frac: float) -> np.ndarray:
    """Rows on the simplex with some exact zeros (each row keeps at least one positive entry)."""
    x = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    x[rng.random(x.shape) < zero_frac] = 0.0
    x[x.sum(axis=-1) == 0, 0] = 1.0
    return x / x.sum(axis=-1, keepdims=True)


@st.composite
def factored_linear_models(draw, *, max_S: int = 6, max_A: int = 3, max_d: int = 4, max_H: int = 4):
    """A FactoredLinearMDP with simplex features: stationary or per-step phi and mu, some exact zeros."""
    from theory_rl.linear import FactoredLinearMDP

    S, A = draw(st.integers(1, max_S)), draw(st.integers(1, max_A))
    d, H = draw(st.integers(1, max_d)), draw(st.integers(1, max_H))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    zero = draw(st.sampled_from([0.0, 0.3, 0.6]))
    phi = _sparse_simplex(rng, (S, A, d) if draw(st.booleans()) else (H, S, A, d), zero)
    mu = _sparse_simplex(rng, (d, S) if draw(st.booleans()) else (H, d, S), zero)
    return FactoredLinearMDP(phi, mu, rng.random((H, d)), _sparse_simplex(rng, (S,), zero))

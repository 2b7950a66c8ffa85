"""Offline samplers that are not rollouts: i.i.d. tuples, the generative model, given pairs.

Data models
-----------
- **i.i.d.** (Rashidinejad et al. 2021, Sec. 2): tuples ``(s, a) ~ mu``, ``r ~ R(s, a)``, ``s' ~ P(. | s, a)``.
  For a finite-horizon MDP, ``mu`` is one distribution per step and ``n`` tuples are drawn at each step.
- **Generative model** (Li et al. 2024, Sec. 4): ``N`` samples of every ``(s, a[, h])``, drawn directly as
  multinomial transition counts, so only a :class:`CountDataset` is produced.
- **Given pairs** (:func:`sample_transitions`): next states and rewards for caller-chosen ``(h, s, a)``.

Episodes of a policy are in :mod:`theory_rl.data.rollouts`. Seeds: see :mod:`theory_rl.data`.
"""

from __future__ import annotations

import numpy as np

from theory_rl import _kernels
from theory_rl._random import SeedLike, kernel_seed, seed_record, seed_sequence, spawn
from theory_rl._validation import Instance, Integer, as_index_array, check_memory, validate_params
from theory_rl.coverage import as_distribution
from theory_rl.data.behaviour import LazyCoverage
from theory_rl.data.counts import CountDataset, trusted_count_dataset
from theory_rl.data.files import Manifest
from theory_rl.data.noise import sample_rewards
from theory_rl.data.samples import OfflineDataset, trusted_offline_dataset
from theory_rl.data.tables import model_tables
from theory_rl.mdp import TabularMDP

__all__ = [
    "sample_iid",
    "sample_iid_batch",
    "sample_iid_counts",
    "sample_generative",
    "sample_transitions",
]


def _iid_outputs(shape):
    return (
        np.empty(shape, np.int32),
        np.empty(shape, np.int32),
        np.empty(shape, np.float64),
        np.empty(shape, np.int32),
        np.empty(shape, np.int32),
        np.empty(shape, np.float64),
    )


def _iid_dataset(mdp, arrays, meta) -> OfflineDataset:
    s, a, r, s2, h, b = arrays
    episode = np.arange(s.shape[0], dtype=np.int64)
    return trusted_offline_dataset(s, a, r, s2, h, episode, b, mdp.S, mdp.A, mdp.gamma, mdp.horizon, meta)


@validate_params(mdp=Instance(TabularMDP), n=Integer(0))
def sample_iid(mdp: TabularMDP, mu, n: int, seed: SeedLike) -> OfflineDataset:
    """i.i.d. data ``(s, a) ~ mu``, ``r ~ R(s, a)``, ``s' ~ P(. | s, a)`` (Rashidinejad et al. 2021, Sec. 2).

    Parameters
    ----------
    mdp : TabularMDP
    mu : array_like
        ``(S, A)`` for a discounted MDP; ``(H, S, A)`` (or ``(S, A)`` for every step) for a finite horizon.
    n : int
        Samples (per step for a finite horizon), ``n >= 0``.
    seed : int, SeedSequence or Generator

    Returns
    -------
    OfflineDataset
        ``n`` (or ``n * H``) samples; ``behaviour_prob`` holds ``mu_h(s, a)``; ``meta["coverage"]["C_star"]`` is
        the exact concentrability of an optimal policy w.r.t. ``mu`` (computed lazily, on first read or save).
    """
    return sample_iid_batch(mdp, mu, n, seed, n_trials=None)


@validate_params(mdp=Instance(TabularMDP), n=Integer(0), n_trials=Integer(1, optional=True))
def sample_iid_batch(
    mdp: TabularMDP, mu, n: int, seed: SeedLike, n_trials: int | None
) -> list[OfflineDataset]:
    """``n_trials`` independent :func:`sample_iid` datasets in one parallel kernel call (trial ``i`` from the
    ``i``-th spawned child of ``seed``, see :mod:`theory_rl.data`). ``n_trials=None`` means one trial from
    ``seed`` itself and returns the dataset, not a list."""
    mu = as_distribution(mdp, mu)
    flat = np.ascontiguousarray(mu.reshape(-1, mdp.S * mdp.A))
    mu_prob, mu_alias = _kernels.build_alias(flat)
    t = model_tables(mdp)
    ss = seed_sequence(seed)
    stages = flat.shape[0]
    check_memory(stages * n * (1 if n_trials is None else n_trials), "n", itemsize=36)
    coverage = LazyCoverage(mdp, mu=mu)
    meta = {"generator": "sample_iid", "mdp": repr(mdp), "n": n}
    model = (mu_prob, mu_alias, flat, t.P_prob, t.P_alias, mdp.S, mdp.A, t.R, t.noise, t.std)
    if n_trials is None:
        out = _iid_outputs((stages * n,))
        _kernels.iid_trial(kernel_seed(ss), *model, *out)
        return _iid_dataset(mdp, out, Manifest({**meta, "seed": seed_record(ss)}, {"coverage": coverage}))
    children = spawn(ss, n_trials)
    seeds = np.array([kernel_seed(c) for c in children], dtype=np.uint64)
    out = _iid_outputs((n_trials, stages * n))
    _kernels.iid_batch(seeds, model, *out)
    return [  # one thunk for all trials: the record is computed once
        _iid_dataset(mdp, tuple(x[i] for x in out), Manifest({**meta, "seed": seed_record(c)}, {"coverage": coverage}))
        for i, c in enumerate(children)
    ]


@validate_params(mdp=Instance(TabularMDP))
def sample_transitions(
    mdp: TabularMDP, states, actions, seed: SeedLike, *, steps=None
) -> tuple[np.ndarray, np.ndarray]:
    """Next states and rewards for given pairs (and steps, for a stage-dependent MDP): ``(next_states, rewards)``.

    ``states``, ``actions`` (and ``steps``) are 1-D integer arrays of one length; the kernel runs from
    ``kernel_seed(seed_sequence(seed))``.
    """
    states = as_index_array(states, "states", mdp.S)
    actions = as_index_array(actions, "actions", mdp.A)
    if states.shape != actions.shape:
        raise ValueError(f"states has shape {states.shape} but actions has shape {actions.shape}")
    if steps is None:
        steps = np.zeros_like(states)
    else:
        steps = as_index_array(steps, "steps", mdp.horizon if mdp.is_episodic else 1)
        if steps.shape != states.shape:
            raise ValueError(f"steps has shape {steps.shape}, expected {states.shape}")
    t = model_tables(mdp)
    nxt = np.empty(states.shape[0], np.int32)
    rew = np.empty(states.shape[0], np.float64)
    _kernels.sample_transitions(
        kernel_seed(seed_sequence(seed)), t.P_prob, t.P_alias, mdp.S, mdp.A, steps, states, actions, t.R, t.noise,
        t.std, nxt, rew,
    )  # fmt: skip
    return nxt, rew


# ---------------------------------------------------------------------- counts drawn directly
def _multinomial_rows(rng: np.random.Generator, N: np.ndarray, P: np.ndarray) -> np.ndarray:
    P = P / P.sum(axis=-1, keepdims=True)  # exact sums for numpy's check
    return rng.multinomial(N, P)


def _reward_sums(mdp: TabularMDP, N: np.ndarray, R: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return sample_rewards(rng, R, mdp.reward_noise, mdp.reward_std, n=N)


@validate_params(mdp=Instance(TabularMDP), n_per_pair=Integer(0))
def sample_generative(mdp: TabularMDP, n_per_pair: int, seed: SeedLike) -> CountDataset:
    """Generative-model data: ``N`` samples of every ``(s, a)`` (every ``(h, s, a)`` for a finite horizon).

    Li et al. (2024), Sec. 4 (the gambler's experiment uses ``N`` samples per ``(s, a, h)``). The transition
    counts are drawn directly as ``Multinomial(N, P(. | s, a))`` and the reward sums by :func:`sample_rewards`
    (``Binomial(N, R)`` for Bernoulli rewards, ``Normal(N R, sqrt(N) std)`` Gaussian, ``N R`` deterministic):
    the same law as ``N`` single samples, at a cost independent of ``N``.
    """
    ss = seed_sequence(seed)
    rng = np.random.default_rng(ss)
    P = mdp.stage_P if mdp.is_episodic else mdp.P
    R = mdp.stage_R if mdp.is_episodic else mdp.R
    N = np.full(R.shape, n_per_pair, dtype=np.int64)
    C = _multinomial_rows(rng, N, P)
    meta = {"generator": "sample_generative", "mdp": repr(mdp), "n_per_pair": n_per_pair, "seed": seed_record(ss)}
    return trusted_count_dataset(N, C, _reward_sums(mdp, N, R, rng), mdp.S, mdp.A, mdp.gamma, mdp.horizon, meta)


@validate_params(mdp=Instance(TabularMDP), n=Integer(0))
def sample_iid_counts(mdp: TabularMDP, mu, n: int, seed: SeedLike) -> CountDataset:
    """The counts of :func:`sample_iid` drawn directly: ``N ~ Multinomial(n, mu_h)``, then transition counts and
    reward sums given ``N`` as in :func:`sample_generative`. Same law as ``sample_iid(...).to_counts()`` (not
    the same samples), at a cost independent of ``n``."""
    mu = as_distribution(mdp, mu)
    ss = seed_sequence(seed)
    rng = np.random.default_rng(ss)
    flat = mu.reshape(-1, mdp.S * mdp.A)
    N = _multinomial_rows(rng, np.full(flat.shape[0], n), flat).reshape(mu.shape)
    P = mdp.stage_P if mdp.is_episodic else mdp.P
    R = mdp.stage_R if mdp.is_episodic else mdp.R
    C = _multinomial_rows(rng, N, P)
    meta = Manifest(
        {"generator": "sample_iid_counts", "mdp": repr(mdp), "n": n, "seed": seed_record(ss)},
        {"coverage": LazyCoverage(mdp, mu=mu)},
    )
    return trusted_count_dataset(N, C, _reward_sums(mdp, N, R, rng), mdp.S, mdp.A, mdp.gamma, mdp.horizon, meta)

"""Offline samplers that are not rollouts: i.i.d. tuples, the generative model, given pairs.

Data models
-----------
- **i.i.d.** (Rashidinejad et al. 2021, Sec. 2): tuples ``(s, a) ~ mu``, ``r ~ R(s, a)``, ``s' ~ P(. | s, a)``.
  For a finite-horizon MDP, ``mu`` is one distribution per step and ``n`` tuples are drawn at each step.
- **Generative model** (Li et al. 2024, Sec. 4): ``N`` samples of every ``(s, a[, h])`` (or given per-pair
  counts ``n_h(s, a)``: the designed offline data of FTPedel's experiments, Wagenmaker & Pacchiano 2023), drawn
  directly as multinomial transition counts, so only a :class:`CountDataset` is produced.
- **Episodes of a policy, counted** (:func:`sample_policy_counts`): the counts of
  :func:`theory_rl.data.sample_rollouts` drawn directly (PEDEL / FTPedel's data collection, Wagenmaker & Jamieson
  2022), at a cost independent of the number of episodes.
- **Given pairs** (:func:`sample_transitions`): next states and rewards for caller-chosen ``(h, s, a)``.

Episodes of a policy are in :mod:`theory_rl.data.rollouts`. Seeds: see :mod:`theory_rl.data`.
"""

from __future__ import annotations

import numpy as np

from theory_rl import _kernels
from theory_rl._random import SeedLike, kernel_seed, seed_record, seed_sequence, spawn
from theory_rl._validation import (
    Instance,
    Integer,
    InvalidParameterError,
    as_float_array,
    as_index_array,
    check_int,
    check_shape,
    check_table,
    index_str,
    validate_params,
)
from theory_rl.coverage import as_distribution
from theory_rl.data.behaviour import LazyCoverage
from theory_rl.data.counts import CountDataset, trusted_count_dataset
from theory_rl.data.files import Manifest
from theory_rl.data.noise import sample_rewards
from theory_rl.data.samples import OfflineDataset, trusted_offline_dataset
from theory_rl.data.tables import MODELS, flatten, mixture_weights, model_tables, policy_tables, support_table
from theory_rl.feasibility import check_feasible_pairs, check_feasible_policy
from theory_rl.mdp import TabularMDP
from theory_rl.scales import check_sampleable, dataset_gamma, scale_meta

__all__ = [
    "sample_iid",
    "sample_iid_batch",
    "sample_iid_counts",
    "sample_iid_counts_batch",
    "sample_generative",
    "sample_policy_counts",
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
    return trusted_offline_dataset(s, a, r, s2, h, episode, b, mdp.S, mdp.A, dataset_gamma(mdp), mdp.horizon, meta)


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
    mu_table = support_table(flat)
    t = model_tables(mdp)
    ss = seed_sequence(seed)
    stages = flat.shape[0]
    if n_trials is None:
        check_table("the sampled tuples", (stages, n), ("H", "n"), itemsize=36)
    else:
        check_table("the sampled tuples", (n_trials, stages, n), ("n_trials", "H", "n"), itemsize=36)
    coverage = LazyCoverage(mdp, mu=mu)
    meta = {"generator": "sample_iid", "mdp": repr(mdp), "n": n, **scale_meta(mdp)}
    model = (mu_table, flat, t.P, mdp.S, mdp.A, t.R, t.noise, t.std)
    if n_trials is None:
        out = _iid_outputs((stages * n,))
        _kernels.iid_trial(kernel_seed(ss), *model, *out)
        return _iid_dataset(mdp, out, Manifest({**meta, "seed": seed_record(ss)}, {"coverage": coverage}))
    children = spawn(ss, n_trials)
    seeds = np.array([kernel_seed(c) for c in children], dtype=np.uint64)
    out = _iid_outputs((n_trials, stages * n))
    _kernels.iid_batch(seeds, flatten(model), *out)
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
    if mdp.feasible is not None:  # issue 15: an infeasible pair is refused
        check_feasible_pairs(mdp, states, actions, "states, actions")
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
        kernel_seed(seed_sequence(seed)), t.P, mdp.S, mdp.A, steps, states, actions, t.R, t.noise,
        t.std, nxt, rew,
    )  # fmt: skip
    return nxt, rew


# ---------------------------------------------------------------------- counts drawn directly
def _multinomial_rows(rng: np.random.Generator, N: np.ndarray, P: np.ndarray) -> np.ndarray:
    P = P / P.sum(axis=-1, keepdims=True)  # exact sums for numpy's check
    return rng.multinomial(N, P)


def _reward_sums(mdp, N: np.ndarray, R: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    check_sampleable(mdp)
    return sample_rewards(rng, R, mdp.reward_noise, mdp.reward_std, n=N)


def _stage_model(mdp) -> tuple[np.ndarray, np.ndarray]:
    """``P`` and ``R`` in the shape of the counts: per step for a finite horizon (a :class:`LinearMDP` is one)."""
    if getattr(mdp, "horizon", None) is not None:
        return (mdp.stage_P, mdp.stage_R) if isinstance(mdp, TabularMDP) else (mdp.P, mdp.R)
    return mdp.P, mdp.R


def _per_pair_counts(n_per_pair, shape: tuple) -> np.ndarray:
    """``n_per_pair`` (an int, or integer-valued counts of ``shape``, ints or floats) as an int64 array."""
    if np.ndim(n_per_pair) == 0 and not isinstance(n_per_pair, (float, np.floating)):
        return np.full(shape, check_int(n_per_pair, "n_per_pair", low=0, high=2**62), dtype=np.int64)
    n = as_float_array(n_per_pair, "n_per_pair")
    check_shape(n, "n_per_pair", shape)
    bad = (n < 0) | (np.round(n) != n) | (n >= 2.0**62)
    if bad.any():
        j = tuple(np.argwhere(bad)[0])
        raise ValueError(f"n_per_pair{index_str(j)} is {n[j]:.6g}, expected an integer count in [0, 2**62)")
    return n.astype(np.int64)


@validate_params(mdp=Instance(MODELS))
def sample_generative(mdp, n_per_pair, seed: SeedLike) -> CountDataset:
    """Generative-model data: ``N`` samples of every ``(s, a)`` (every ``(h, s, a)`` for a finite horizon), or
    ``n_per_pair[h, s, a]`` samples of each triple.

    Li et al. (2024), Sec. 4 (the gambler's experiment uses ``N`` samples per ``(s, a, h)``); with per-pair counts,
    the designed offline data of any fixed covariance of FTPedel's experiments (Wagenmaker & Pacchiano 2023). The
    transition counts are drawn directly as ``Multinomial(N, P(. | s, a))`` and the reward sums by
    :func:`sample_rewards` (``Binomial(N, R)`` for Bernoulli rewards, ``Normal(N R, sqrt(N) std)`` Gaussian,
    ``N R`` deterministic): the same law as ``N`` single samples, at a cost independent of ``N``.

    Parameters
    ----------
    mdp : TabularMDP or LinearMDP
    n_per_pair : int or array_like
        Samples of every pair, or per pair: integer counts (ints or integer-valued floats) of the counts' shape,
        ``(S, A)`` or ``(H, S, A)``, each in ``[0, 2**62)``. With infeasible actions (``mdp.feasible``), an
        int samples every feasible pair (infeasible ones get 0); per-pair counts there are refused.
    seed : int, SeedSequence or Generator

    Returns
    -------
    CountDataset
        ``counts`` equal to ``n_per_pair`` (int64).
    """
    P, R = _stage_model(mdp)
    N = _per_pair_counts(n_per_pair, R.shape)
    if getattr(mdp, "feasible", None) is not None:  # issue 15: every feasible pair only
        if np.ndim(n_per_pair) == 0:
            N[..., ~mdp.feasible] = 0
        check_feasible_policy(mdp, N, "n_per_pair")
    ss = seed_sequence(seed)
    rng = np.random.default_rng(ss)
    C = _multinomial_rows(rng, N, P)
    size = int(n_per_pair) if np.ndim(n_per_pair) == 0 else "per pair"
    meta = {"generator": "sample_generative", "mdp": repr(mdp), "n_per_pair": size, "n": int(N.sum()),
            "seed": seed_record(ss), **scale_meta(mdp)}  # fmt: skip
    return trusted_count_dataset(N, C, _reward_sums(mdp, N, R, rng), mdp.S, mdp.A, dataset_gamma(mdp),
                                 getattr(mdp, "horizon", None), meta)  # fmt: skip


def _action_stack(policies, H: int, S: int, A: int) -> np.ndarray | None:
    """``m`` deterministic per-step policies as one ``(m, H, S)`` int array of actions in ``0..A-1`` (one check
    for all, naming the first bad entry), or None when ``policies`` is not such a stack."""
    if isinstance(policies, np.ndarray):
        arr = policies
    elif all(isinstance(p, np.ndarray) and p.shape == (H, S) and p.dtype.kind in "iu" for p in policies):
        arr = np.stack(policies) if len(policies) else None
    else:
        return None
    if arr is None or arr.dtype.kind not in "iu" or arr.ndim != 3 or arr.shape[1:] != (H, S):
        return None
    if arr.size and (arr.min() < 0 or arr.max() >= A):
        as_index_array(arr, "policy", A, ndim=3)  # raises, naming the first bad entry
    return arr


@validate_params(mdp=Instance(MODELS), n_episodes=Integer(0, 2**62))
def sample_policy_counts(mdp, policy, n_episodes: int, seed: SeedLike, *, weights=None) -> CountDataset:
    """The counts of ``n_episodes`` episodes of ``policy`` (or of a mixture of policies), drawn directly.

    Episodes are independent, so the number of episodes of each mixture component is multinomial, and the
    step-``h`` visits follow ``n_h(s, .) ~ Multinomial(n_h(s), pi_h(. | s))``,
    ``C_h(s, a, .) ~ Multinomial(n_h(s, a), P_h(. | s, a))``, ``n_{h+1}(s') = sum_{s, a} C_h(s, a, s')``: the law
    of ``CountsBuilder.add_episode(*sample_rollouts(...))`` (the data collection of PEDEL / FTPedel, Wagenmaker &
    Jamieson 2022, Alg. 2), not the same samples, at a cost independent of ``n_episodes``.

    Parameters
    ----------
    mdp : TabularMDP or LinearMDP
        A finite-horizon model.
    policy : array_like
        Actions ``(S,)`` / ``(H, S)`` or probabilities ``(S, A)`` / ``(H, S, A)``; with ``weights``, a sequence of
        ``m`` such policies.
    n_episodes : int
        ``>= 0``.
    seed : int, SeedSequence or Generator
        The draws run from ``default_rng(seed_sequence(seed))``, or from a Generator itself, whose stream
        continues (as :func:`theory_rl._random.as_generator`: a round-by-round learner draws each round's counts
        from its one stream, as :meth:`RolloutSampler.episode` does).
    weights : array_like, shape (m,), optional
        Mixture weights: each episode follows policy ``k`` with probability ``weights[k]`` (as in
        :func:`theory_rl.data.sample_rollouts`).

    Returns
    -------
    CountDataset
        Finite-horizon counts, ``n_episodes * H`` transitions.
    """
    H = getattr(mdp, "horizon", None)
    if H is None:
        raise ValueError("mdp is discounted; sample_policy_counts needs a finite-horizon model")
    S, A = mdp.S, mdp.A
    if isinstance(seed, np.random.Generator):  # round by round (FTPedel's collections): the stream continues
        rng, record = seed, "a Generator's stream"
    else:
        ss = seed_sequence(seed)
        rng, record = np.random.default_rng(ss), seed_record(ss)
    if weights is None:
        policies, per = [policy], [n_episodes]
    else:
        policies, per = policy, rng.multinomial(n_episodes, mixture_weights(policy, weights))
    P, R = _stage_model(mdp)
    P = P / P.sum(axis=-1, keepdims=True)  # exact sums for numpy's check
    N = np.zeros((H, S, A), np.int64)
    C = np.zeros((H, S, A, S), np.int64)
    states = np.arange(S)
    stack = _action_stack(policies, H, S, A) if weights is not None else None
    if stack is not None and getattr(mdp, "feasible", None) is not None:  # issue 15: no infeasible action
        check_feasible_pairs(mdp, np.broadcast_to(states, stack.shape), stack, "policy")
    init = mdp.init / mdp.init.sum()
    for k, n_k in enumerate(per):
        if stack is not None:  # m deterministic policies (H, S), checked at once
            pt = None
        else:  # the samplers' one reading of a policy (actions of a deterministic one, no probabilities built)
            pt = policy_tables(mdp, policies[k], "policy" if weights is None else f"policy[{k}]", probabilities=False)
        if n_k == 0:
            continue
        ns = rng.multinomial(n_k, init)
        for h in range(H):
            if pt is None or pt.deterministic:  # one row per state: the action the policy takes
                a = stack[k, h] if pt is None else pt.actions[h if len(pt.actions) > 1 else 0]
                N[h, states, a] += ns
                nxt = rng.multinomial(ns, P[h, states, a])
                C[h, states, a] += nxt
                ns = nxt.sum(axis=0)
            else:
                pi = pt.probs[h if len(pt.probs) > 1 else 0]
                n_sa = rng.multinomial(ns, pi / pi.sum(axis=1, keepdims=True))
                N[h] += n_sa
                nxt = rng.multinomial(n_sa, P[h])
                C[h] += nxt
                ns = nxt.sum(axis=(0, 1))
    meta = {"generator": "sample_policy_counts", "mdp": repr(mdp), "n_episodes": n_episodes, "seed": record,
            **scale_meta(mdp)}  # fmt: skip
    return trusted_count_dataset(N, C, _reward_sums(mdp, N, R, rng), S, A, None, H, meta)


@validate_params(mdp=Instance(TabularMDP), n=Integer(0, 2**62))
def sample_iid_counts(mdp: TabularMDP, mu, n: int, seed: SeedLike) -> CountDataset:
    """The counts of :func:`sample_iid` drawn directly: ``N ~ Multinomial(n, mu_h)``, then transition counts and
    reward sums given ``N`` as in :func:`sample_generative`. Same law as ``sample_iid(...).to_counts()`` (not
    the same samples), at a cost independent of ``n``."""
    return sample_iid_counts_batch(mdp, mu, n, [seed])[0]


@validate_params(mdp=Instance(TabularMDP), n=Integer(0, 2**62))
def sample_iid_counts_batch(mdp: TabularMDP, mu, n: int, seeds) -> list[CountDataset]:
    """:func:`sample_iid_counts` once per seed of ``seeds`` (a sequence of ints, SeedSequences or Generators),
    with ``mu`` checked and the model prepared once: dataset ``i`` is exactly ``sample_iid_counts(mdp, mu, n,
    seeds[i])`` (issue 16: many datasets of one instance through one call)."""
    if isinstance(seeds, (str, bytes, dict)) or not hasattr(seeds, "__len__"):
        raise InvalidParameterError(f"seeds is {type(seeds).__name__}, expected a sequence of seeds (one per dataset)")
    sequences = []
    for i, seed in enumerate(seeds):  # each refused naming its index, before any work (a Generator draws once)
        try:
            sequences.append(seed_sequence(seed))
        except (TypeError, ValueError) as err:
            raise InvalidParameterError(f"seeds[{i}]: {err}") from None
    mu = as_distribution(mdp, mu)
    flat = mu.reshape(-1, mdp.S * mdp.A)
    flat = flat / flat.sum(axis=-1, keepdims=True)  # exact sums for numpy's check (as _multinomial_rows)
    P, R = _stage_model(mdp)
    P = P / P.sum(axis=-1, keepdims=True)
    coverage = LazyCoverage(mdp, mu=mu)  # one thunk for all datasets: the record is computed once
    out = []
    for ss in sequences:
        rng = np.random.default_rng(ss)
        N = rng.multinomial(np.full(flat.shape[0], n), flat).reshape(mu.shape)
        C = rng.multinomial(N, P)
        meta = Manifest({"generator": "sample_iid_counts", "mdp": repr(mdp), "n": n, "seed": seed_record(ss),
                         **scale_meta(mdp)},
                        {"coverage": coverage})  # fmt: skip
        out.append(trusted_count_dataset(N, C, _reward_sums(mdp, N, R, rng), mdp.S, mdp.A, dataset_gamma(mdp),
                                         mdp.horizon, meta))  # fmt: skip
    return out

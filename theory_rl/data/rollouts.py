"""Episodes of a policy: offline trajectory datasets and the ONE public rollout sampler.

- :func:`sample_trajectories` / :func:`sample_trajectories_batch`: episodes of a behaviour policy as an
  :class:`OfflineDataset` (one transition per row), with the lazy coverage record in their manifest.
- :class:`RolloutSampler` / :func:`sample_rollouts`: the rollout sampler of the online and hybrid learners (GLOW,
  LSVI-UCB, FTPedel, edge-of-reach's sampled FQI): plain arrays ``states (n, T+1)``, ``actions (n, T)``,
  ``rewards (n, T)``, no dataset and no coverage record; one episode per call from a Generator for round-by-round
  loops (:meth:`RolloutSampler.episode`), or ``n`` at once (:meth:`RolloutSampler.sample`).

Every form runs the same numba kernel (:func:`theory_rl._kernels.trajectories_trial`: alias tables, splitmix64,
episodes stepped in lanes): an episode starts at ``s_0 ~ rho`` (or a given ``init``) and runs ``H`` steps
(finite horizon) or ``n_steps`` (discounted). Policies: actions ``(S,)`` / ``(H, S)`` or probabilities
``(S, A)`` / ``(H, S, A)``; with ``weights``, a mixture of ``m`` policies drawn once per episode (the mixture of
Markov policies of FTPedel's designs, Wagenmaker & Jamieson 2023, not the per-step mixture).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from theory_rl import _kernels
from theory_rl._random import SeedLike, kernel_seed, seed_record, seed_sequence, spawn
from theory_rl._validation import (
    Instance,
    Integer,
    as_float_array,
    check_distributions,
    check_instance,
    check_int,
    check_shape,
    check_table,
    validate_params,
)
from theory_rl.data.behaviour import LazyCoverage
from theory_rl.data.files import Manifest
from theory_rl.data.samples import OfflineDataset, trusted_offline_dataset
from theory_rl.data.tables import (
    MODELS,
    flatten,
    kernel_actions,
    kernel_args,
    mixture_weights,
    model_tables,
    policy_tables,
    support_table,
)
from theory_rl.mdp import TabularMDP
from theory_rl.scales import dataset_gamma, scale_meta

__all__ = ["sample_trajectories", "sample_trajectories_batch", "Rollouts", "RolloutSampler", "sample_rollouts"]


def episode_length(mdp, n_steps) -> int:
    """``H`` for a finite-horizon model (``n_steps`` None or ``H``); ``n_steps >= 1`` for a discounted one."""
    H = getattr(mdp, "horizon", None)
    if n_steps is not None:
        n_steps = check_int(n_steps, "n_steps", low=1)
    if H is not None:
        if n_steps is not None and n_steps != H:
            raise ValueError(f"n_steps is {n_steps}; a finite-horizon MDP runs exactly H = {H} steps")
        return H
    if n_steps is None:
        raise ValueError("a discounted MDP needs n_steps, the length of each sampled trajectory")
    check_table("one episode", (n_steps + 1,), ("n_steps + 1",), itemsize=24)  # states, actions, rewards
    return n_steps


# ---------------------------------------------------------------------- offline trajectory datasets
def transition_outputs(shape):
    """The seven fresh output arrays of the dataset-layout kernel (internal; benchmarks/simulate.py times it)."""
    return (
        np.empty(shape, np.int32),  # state
        np.empty(shape, np.int32),  # next state
        np.empty(shape, np.int32),  # action
        np.empty(shape, np.float64),  # reward
        np.empty(shape, np.float64),  # behaviour probability
        np.empty(shape, np.int32),  # step
        np.empty(shape, np.int64),  # episode
    )


def _trajectory_dataset(mdp, arrays, meta) -> OfflineDataset:
    s, s2, a, r, b, h, e = (x.reshape(-1) for x in arrays)  # C-contiguous: views, no copies
    return trusted_offline_dataset(s, a, r, s2, h, e, b, mdp.S, mdp.A, dataset_gamma(mdp), mdp.horizon, meta)


def sample_trajectories(
    mdp: TabularMDP, policy, n_episodes: int, seed: SeedLike, *, n_steps: int | None = None
) -> OfflineDataset:
    """Episodes of ``policy`` from ``s_0 ~ rho``: ``H`` steps (finite horizon) or ``n_steps`` (discounted).

    Parameters
    ----------
    mdp : TabularMDP
    policy : array_like
        Behaviour policy in any form (stationary or stage-dependent, deterministic or stochastic).
    n_episodes : int
        ``>= 0``.
    seed : int, SeedSequence or Generator
    n_steps : int, optional
        Episode length ``T`` for a discounted MDP (required there). The ``T`` steps of an episode are samples
        of equal weight, so the data follow the per-step average ``(1/T) sum_{t<T} d_t`` of the step
        distributions ``d_t(s, a) = Pr(s_t = s, a_t = a)``, not the discounted occupancy ``d^pi`` (which
        weights step ``t`` by ``(1 - gamma) gamma^t``); the two differ unless the chain mixes fast.

    Returns
    -------
    OfflineDataset
        ``n_episodes * T`` transitions, episode-major; ``meta["coverage"]["C_star"]`` (computed lazily, on first
        read or save) is the exact concentrability of an optimal policy (its occupancy ``d^{pi*}``) w.r.t. the
        distribution of the sampled data: the per-step occupancy ``d_h`` of the behaviour policy (finite
        horizon) or the per-step average ``(1/T) sum_{t<T} d_t`` (discounted).
    """
    return sample_trajectories_batch(mdp, policy, n_episodes, seed, None, n_steps=n_steps)


@validate_params(mdp=Instance(TabularMDP), n_episodes=Integer(0), n_trials=Integer(1, optional=True))
def sample_trajectories_batch(
    mdp: TabularMDP,
    policy,
    n_episodes: int,
    seed: SeedLike,
    n_trials: int | None,
    *,
    n_steps: int | None = None,
) -> list[OfflineDataset]:
    """``n_trials`` independent :func:`sample_trajectories` datasets in one parallel kernel call; trial ``i``
    equals ``sample_trajectories(..., seed=SeedSequence(seed).spawn(n_trials)[i])``. ``n_trials=None`` means
    one trial from ``seed`` itself and returns the dataset, not a list."""
    T = episode_length(mdp, n_steps)
    if n_trials is None:
        check_table("the sampled transitions", (n_episodes, T), ("n_episodes", "n_steps"), itemsize=36)
    else:
        check_table("the sampled transitions", (n_trials, n_episodes, T), ("n_trials", "n_episodes", "n_steps"),
                    itemsize=36)  # fmt: skip
    pt = policy_tables(mdp, policy)
    ss = seed_sequence(seed)
    coverage = LazyCoverage(mdp, policy=np.array(policy, copy=True), n_steps=T)
    meta = {"generator": "sample_trajectories", "mdp": repr(mdp), "n_episodes": n_episodes, "n_steps": T,
            **scale_meta(mdp)}  # fmt: skip
    args = kernel_args(mdp, model_tables(mdp), pt)
    if n_trials is None:
        out = transition_outputs((n_episodes, T))
        _kernels.transitions_trial(kernel_seed(ss), *args, *out)
        return _trajectory_dataset(mdp, out, Manifest({**meta, "seed": seed_record(ss)}, {"coverage": coverage}))
    children = spawn(ss, n_trials)
    seeds = np.array([kernel_seed(c) for c in children], dtype=np.uint64)
    out = transition_outputs((n_trials, n_episodes, T))
    _kernels.transitions_batch(seeds, flatten(args), *out)
    return [
        _trajectory_dataset(mdp, tuple(x[i] for x in out), Manifest({**meta, "seed": seed_record(c)},
                                                                    {"coverage": coverage}))
        for i, c in enumerate(children)
    ]  # fmt: skip


# ---------------------------------------------------------------------- the rollout sampler
class Rollouts(NamedTuple):
    """Episodes as arrays: ``states`` ``(n, T+1)``, ``actions`` ``(n, T)`` (int64), ``rewards`` ``(n, T)``; one
    episode (:meth:`RolloutSampler.episode`) drops the leading axis."""

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray


class RolloutSampler:
    """The rollout sampler of a model, prepared once (alias tables cached per model) for many calls.

    Parameters
    ----------
    mdp : TabularMDP or LinearMDP
        Finite horizon (episodes of ``H`` steps) or discounted (``n_steps`` required).
    n_steps : int, optional
        Episode length of a discounted model (must be None or ``H`` for a finite horizon).
    init : array_like, shape (S,), optional
        Start-state distribution replacing the model's ``rho`` (e.g. uniform on a set of start states, the
        rollouts of edge-of-reach's sampled FQI, Sims et al. 2024).

    Notes
    -----
    Seeds. :meth:`sample` runs from ``kernel_seed(seed_sequence(seed))``, the seed rule of
    :func:`sample_trajectories`: with the same seed and policy, its ``states``, ``actions`` and ``rewards``
    equal that dataset's columns. :meth:`episode` takes a Generator and runs from one raw 64-bit output of
    its bit generator (``rng.bit_generator.random_raw()``), so a round-by-round loop costs one draw per episode and the
    episodes of successive calls are independent.
    """

    def __init__(self, mdp, *, n_steps: int | None = None, init=None) -> None:
        check_instance(mdp, "mdp", MODELS)
        self.mdp = mdp
        self.T = episode_length(mdp, n_steps)
        t = model_tables(mdp)
        init_table = t.init
        if init is not None:
            init = as_float_array(init, "init", ndim=1)
            check_shape(init, "init", (mdp.S,))
            check_distributions(init, "init")
            init_table = support_table(init.reshape(1, -1))
        self._model = (init_table, t.P, mdp.S, mdp.A)
        self._reward = (t.R, t.noise, t.std)

    def _run(self, seed, policy, n: int, name: str = "policy"):
        pt = policy_tables(self.mdp, policy, name, probabilities=False)
        T = self.T
        states = np.empty((n, T + 1), np.int64)
        actions = np.empty((n, T), np.int64)
        rewards = np.empty((n, T), np.float64)
        _kernels.trajectories_trial(
            seed, *self._model, pt.table, kernel_actions(pt), pt.deterministic, pt.probs, *self._reward, states,
            actions, rewards, None,
        )  # fmt: skip
        return states, actions, rewards

    def episode(self, policy, rng: np.random.Generator) -> Rollouts:
        """One episode of ``policy``: ``states`` ``(T+1,)``, ``actions`` ``(T,)``, ``rewards`` ``(T,)``.

        ``rng`` (a Generator) advances by one raw 64-bit output of its bit generator, the episode's kernel seed.
        """
        check_instance(rng, "rng", np.random.Generator)
        seed = np.uint64(rng.bit_generator.random_raw())
        states, actions, rewards = self._run(seed, policy, 1)
        return Rollouts(states[0], actions[0], rewards[0])

    def sample(self, policy, n_episodes: int, seed: SeedLike, *, weights=None) -> Rollouts:
        """``n_episodes`` episodes of ``policy`` (or of a mixture of policies, see :func:`sample_rollouts`)."""
        n = check_int(n_episodes, "n_episodes", low=0)
        check_table("the rollouts", (n, self.T + 1), ("n_episodes", "n_steps + 1"), itemsize=24)
        ss = seed_sequence(seed)
        if weights is None:
            return Rollouts(*self._run(kernel_seed(ss), policy, n))
        p = mixture_weights(policy, weights)
        m = p.shape[0]
        which = np.random.default_rng(ss).choice(m, size=n, p=p)
        out = Rollouts(np.empty((n, self.T + 1), np.int64), np.empty((n, self.T), np.int64), np.empty((n, self.T)))
        for k, child in enumerate(spawn(ss, m)):
            idx = np.flatnonzero(which == k)
            if idx.size:
                part = self._run(kernel_seed(child), policy[k], idx.size, name=f"policy[{k}]")
                for full, x in zip(out, part, strict=True):
                    full[idx] = x
        return out


def sample_rollouts(
    mdp, policy, n_episodes: int, seed: SeedLike, *, n_steps: int | None = None, init=None, weights=None
) -> Rollouts:
    """``n_episodes`` episodes of ``policy`` on ``mdp``, as arrays: the ONE public rollout sampler.

    Parameters
    ----------
    mdp : TabularMDP or LinearMDP
    policy : array_like
        Actions ``(S,)`` / ``(H, S)`` or probabilities ``(S, A)`` / ``(H, S, A)``; with ``weights``, a sequence
        of ``m`` such policies.
    n_episodes : int
        ``>= 0``.
    seed : int, SeedSequence or Generator
    n_steps : int, optional
        Episode length ``T`` of a discounted model (required there).
    init : array_like, shape (S,), optional
        Start-state distribution replacing the model's.
    weights : array_like, shape (m,), optional
        Mixture weights: each episode follows policy ``k`` with probability ``weights[k]`` (drawn with
        ``default_rng(seed_sequence(seed))``; the episodes of policy ``k`` run from ``spawn(ss, m)[k]``).

    Returns
    -------
    Rollouts
        ``states`` ``(n, T+1)``, ``actions`` ``(n, T)`` (int64) and ``rewards`` ``(n, T)``. Without ``weights``,
        equal to the columns of ``sample_trajectories(mdp, policy, n, seed)`` (same seed, same episodes).

    See Also
    --------
    RolloutSampler : the same sampler prepared once, with one episode per call for round-by-round learners.
    """
    return RolloutSampler(mdp, n_steps=n_steps, init=init).sample(policy, n_episodes, seed, weights=weights)

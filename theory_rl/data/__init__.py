"""Data: the ONE counts record, the ONE sample-level dataset, every sampler, I/O and behaviour design.

Modules (one job each)
----------------------
- :mod:`~theory_rl.data.counts`: :class:`CountDataset` (counts, transition counts, reward sums; ``(S, A[, S])``
  or ``(H, S, A[, S])``) and its :class:`EmpiricalModel`;
- :mod:`~theory_rl.data.builder`: :class:`CountsBuilder`, the same record built transition by transition;
- :mod:`~theory_rl.data.samples`: :class:`OfflineDataset` (struct of arrays), :func:`concatenate`;
- :mod:`~theory_rl.data.sampling`: i.i.d. data, generative-model counts (any model, per-pair counts), the counts
  of a policy's episodes drawn directly (:func:`sample_policy_counts`), transitions of given pairs;
- :mod:`~theory_rl.data.rollouts`: trajectory datasets and the ONE rollout sampler (:func:`sample_rollouts`,
  :class:`RolloutSampler`);
- :mod:`~theory_rl.data.noise`: the ONE reward-noise function :func:`sample_rewards`;
- :mod:`~theory_rl.data.io` and :mod:`~theory_rl.data.files`: :func:`load`, atomic saves;
- :mod:`~theory_rl.data.behaviour`: :func:`controlled_coverage` and the lazy coverage record of the manifests;
- :mod:`~theory_rl.data.tables`: the kernels' alias tables of a model and a policy;
- :mod:`~theory_rl.data.corruption`: :func:`corrupt`, RIQL's data corruption (Yang et al. 2023), tabular.

Seeds (DESIGN.md, :mod:`theory_rl._random`). Every sampler takes ``seed`` (int, SeedSequence or Generator). A
one-trial call runs its kernel from ``kernel_seed(seed_sequence(seed))``; a batched call of ``n_trials`` gives
trial ``i`` the child ``spawn(seed_sequence(seed), n_trials)[i]`` (a SeedSequence passed in is never mutated).
Hence ``sample_trajectories_batch(..., seed=7, n_trials=4)[i]`` equals
``sample_trajectories(..., seed=np.random.SeedSequence(7).spawn(4)[i])`` for any number of numba threads.
A Generator seed is turned into a SeedSequence by drawing one 63-bit integer from it.

Manifests. A sampled dataset's ``meta`` records its generator, seed and sizes; ``meta["coverage"]["C_star"]``
(the exact concentrability of an optimal policy w.r.t. the data distribution) needs a planning call and is
computed lazily, when first read or when the dataset is saved.
"""

from __future__ import annotations

from theory_rl._random import trial_seeds
from theory_rl.data.behaviour import ControlledCoverage, controlled_coverage
from theory_rl.data.builder import CountsBuilder
from theory_rl.data.corruption import Corrupted, corrupt
from theory_rl.data.counts import CountDataset, EmpiricalModel
from theory_rl.data.io import load
from theory_rl.data.noise import sample_rewards
from theory_rl.data.rollouts import (
    Rollouts,
    RolloutSampler,
    sample_rollouts,
    sample_trajectories,
    sample_trajectories_batch,
)
from theory_rl.data.samples import OfflineDataset, concatenate
from theory_rl.data.sampling import (
    sample_generative,
    sample_iid,
    sample_iid_batch,
    sample_iid_counts,
    sample_iid_counts_batch,
    sample_policy_counts,
    sample_transitions,
)

__all__ = [
    "trial_seeds",
    "OfflineDataset",
    "CountDataset",
    "EmpiricalModel",
    "CountsBuilder",
    "sample_iid",
    "sample_iid_batch",
    "sample_iid_counts",
    "sample_iid_counts_batch",
    "sample_trajectories",
    "sample_trajectories_batch",
    "sample_generative",
    "sample_policy_counts",
    "sample_transitions",
    "sample_rollouts",
    "RolloutSampler",
    "Rollouts",
    "sample_rewards",
    "concatenate",
    "load",
    "ControlledCoverage",
    "controlled_coverage",
    "corrupt",
    "Corrupted",
]

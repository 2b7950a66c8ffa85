"""Explicit randomness, the ONE seed module: every public function takes ``seed`` and turns it into a Generator
or a SeedSequence here.

A ``seed`` is an int ``>= 0``, a :class:`numpy.random.SeedSequence` or a :class:`numpy.random.Generator` (used as
is). ``None`` is refused on purpose: results must be reproducible, so the caller picks the seed.

Kernel seeds. A numba kernel takes one uint64 per trial: ``kernel_seed(ss) = ss.generate_state(1, uint64)[0]``.
A batched call of ``n`` trials gives trial ``i`` the child ``spawn(ss, n)[i]``, which equals
``SeedSequence.spawn(n)[i]`` of a fresh copy of ``ss`` (the caller's SeedSequence is never mutated). So a batched
run equals the same trials run one at a time, for any number of threads or workers.
"""

from __future__ import annotations

import numpy as np

from theory_rl._validation import check_int, check_table

__all__ = [
    "SeedLike",
    "as_generator",
    "seed_sequence",
    "spawn",
    "kernel_seed",
    "trial_seeds",
    "seed_record",
]

SeedLike = int | np.random.SeedSequence | np.random.Generator


def _check_seed(seed) -> None:
    if seed is None:
        raise ValueError("seed is None; pass an int, a numpy SeedSequence or a numpy Generator")
    if isinstance(seed, (np.random.Generator, np.random.SeedSequence)):
        return
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int, SeedSequence or Generator, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed is {seed}, expected a non-negative int")


def as_generator(seed: SeedLike) -> np.random.Generator:
    """A Generator from an int, a SeedSequence or a Generator (returned as is, so its stream continues)."""
    _check_seed(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """A SeedSequence from an int, a SeedSequence (returned as is) or a Generator (one 63-bit draw from it)."""
    _check_seed(seed)
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    return np.random.SeedSequence(int(seed))


def spawn(ss: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """Exactly ``SeedSequence.spawn(n)`` of a fresh copy of ``ss``, without mutating ``ss``."""
    return [
        np.random.SeedSequence(ss.entropy, spawn_key=ss.spawn_key + (i,), pool_size=ss.pool_size)
        for i in range(n)
    ]


def kernel_seed(ss: np.random.SeedSequence) -> np.uint64:
    """The uint64 seed a numba kernel runs from: ``ss.generate_state(1, uint64)[0]``."""
    return ss.generate_state(1, np.uint64)[0]


def trial_seeds(seed: SeedLike, n_trials: int) -> np.ndarray:
    """One uint64 kernel seed per trial: ``kernel_seed(spawn(seed_sequence(seed), n_trials)[i])``."""
    n_trials = check_int(n_trials, "n_trials", low=1)
    check_table("the trial seeds", (n_trials,), ("n_trials",))
    return np.array([kernel_seed(c) for c in spawn(seed_sequence(seed), n_trials)], dtype=np.uint64)


def seed_record(ss: np.random.SeedSequence) -> dict:
    """A JSON-serialisable record of ``ss`` (entropy and spawn key) for a dataset's or a run's provenance."""
    return {"entropy": str(ss.entropy), "spawn_key": [int(k) for k in ss.spawn_key]}

"""Explicit randomness: every public function takes ``seed`` and turns it into a Generator here."""

from __future__ import annotations

import numpy as np

SeedLike = int | np.random.SeedSequence | np.random.Generator


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return a Generator from an int, a SeedSequence or a Generator (used as is).

    ``None`` is refused on purpose: results must be reproducible, so the caller picks the seed.
    """
    if seed is None:
        raise ValueError("seed is None; pass an int, a numpy SeedSequence or a numpy Generator")
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        raise ValueError(f"seed must be an int, SeedSequence or Generator, got {type(seed).__name__}")
    if isinstance(seed, (int, np.integer)) and seed < 0:
        raise ValueError(f"seed is {seed}, expected a non-negative int")
    return np.random.default_rng(seed)

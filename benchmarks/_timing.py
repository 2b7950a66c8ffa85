"""Timing shared by the benchmarks: the median of repeated runs after one warm-up."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def median_time(fn: Callable[[], object], repeats: int, clock: Callable[[], float] = time.perf_counter) -> float:
    """Median time of ``fn()`` over ``repeats`` runs, after one warm-up run (imports, JIT, BLAS threads).

    ``clock`` is wall time by default; ``time.process_time`` measures CPU time instead, which on a shared machine
    is what the call needs from one core rather than the load."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return float(np.median(times))

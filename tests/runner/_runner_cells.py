"""Top-level (picklable) cell functions for the runner tests, and a script entry point for the kill -9 test.

``python -m tests.runner._runner_cells DB WORKERS`` runs :data:`SLOW_GRID` with :func:`logged_cell`; each cell sleeps
a little and appends a line ``seed`` to the file named by the ``RUNNER_TEST_LOG`` environment variable
when it finishes.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from theory_rl.runner import grid, run_sweep

SLOW_GRID = grid(x=[0, 1, 2, 3, 4, 5], scale=[1.0, 2.0])
SLOW_SEEDS = 2
EXPERIMENT = "kill_test"


def noisy_cell(config: dict, seed: int) -> dict:
    """Deterministic given the seed: a few draws from a generator seeded with it."""
    rng = np.random.default_rng(seed)
    draws = rng.normal(config["x"], config.get("scale", 1.0), size=5)
    return {"mean": float(draws.mean()), "first": draws[0], "n": np.int64(draws.size), "seed_echo": seed}


def flaky_cell(config: dict, seed: int) -> dict:
    """Like noisy_cell, but raises for x == 3 unless the file named in RUNNER_TEST_HEAL exists."""
    if config["x"] == 3 and not os.path.exists(os.environ.get("RUNNER_TEST_HEAL", "/nonexistent")):
        raise RuntimeError(f"cell x={config['x']} is broken")
    return noisy_cell(config, seed)


def bad_return_cell(config: dict, seed: int) -> dict:
    """Returns a list instead of a dict when x == 1."""
    return [1, 2] if config["x"] == 1 else {"x": config["x"]}


def exploding_cell(config: dict, seed: int) -> dict:
    """Always raises: proves that a resumed sweep does not call the function for finished cells."""
    raise AssertionError(f"finished cell recomputed: {config}, {seed}")


def crashing_cell(config: dict, seed: int) -> dict:
    """Kills its own worker process (as a segfault would) when x == 2."""
    if config["x"] == 2:
        os._exit(3)
    return {"x": config["x"]}


def logged_cell(config: dict, seed: int) -> dict:
    """Sleep briefly (``RUNNER_TEST_SLEEP`` seconds, default 0.15), then log the seed; noisy_cell's metrics."""
    time.sleep(float(os.environ.get("RUNNER_TEST_SLEEP", "0.15")))
    metrics = noisy_cell(config, seed)
    with open(os.environ["RUNNER_TEST_LOG"], "a", encoding="utf-8") as fh:
        fh.write(f"{seed}\n")
    return metrics


if __name__ == "__main__":
    summary = run_sweep(
        logged_cell,
        SLOW_GRID,
        experiment=EXPERIMENT,
        db_path=sys.argv[1],
        n_seeds=SLOW_SEEDS,
        root_seed=7,
        workers=int(sys.argv[2]),
        progress=False,
    )
    sys.exit(0 if summary.ok else 1)

"""Sampling from a sparse MDP at a million states (issue 15, item 3), against the same sampler at S = 50.

    python -m benchmarks.sparse_sampling [--quick] [--episodes N]

Instances: sparse Garnet MDPs (A = 10, branching 5, gamma 0.99, seed 0) with S = 1,000,000 and S = 50, the latter
also in dense form. Each figure is ``data.sample_trajectories`` end to end (policy and model tables cached after the
warm-up, the output arrays allocated per call) with a deterministic policy, ``n_steps`` = 20 steps per episode, one
thread (run with ``NUMBA_NUM_THREADS=1``): transitions per CPU second, median of the repeats. At a million states
each step reads an unpredictable row of the support tables (a cache miss), which is the cost this benchmark exposes;
issue 15's target is 50M transitions/s end to end at S = 1,000,000. The dense and sparse forms at S = 50 give the
same samples (the same support tables), so their ratio is the cost of nothing but the storage.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks._timing import median_time
from theory_rl import data
from theory_rl.generators import garnet

A, BRANCHING, GAMMA, STEPS = 10, 5, 0.99, 20


def rate(mdp, n_episodes: int, repeats: int) -> float:
    """Transitions per CPU second of ``sample_trajectories`` on ``mdp`` (deterministic policy: action s mod A)."""
    policy = np.arange(mdp.S) % mdp.A
    seconds = median_time(lambda: data.sample_trajectories(mdp, policy, n_episodes, 0, n_steps=STEPS), repeats,
                          clock=time.process_time)  # CPU time: on a shared machine wall time measures the load
    return n_episodes * STEPS / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="S = 10,000 instead of a million (smoke test)")
    parser.add_argument("--episodes", type=int, default=200_000, help="episodes per call (default 200,000)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    big = 10_000 if args.quick else 1_000_000
    n = 2_000 if args.quick else args.episodes
    rows = [
        (f"sparse S={big:,}", garnet(big, A, BRANCHING, gamma=GAMMA, seed=0, sparse=True)),
        ("sparse S=50", garnet(50, A, BRANCHING, gamma=GAMMA, seed=0, sparse=True)),
        ("dense S=50", garnet(50, A, BRANCHING, gamma=GAMMA, seed=0, sparse=False)),
    ]
    rates = {name: rate(mdp, n, args.repeats) for name, mdp in rows}
    base = rates["sparse S=50"]
    print(f"sample_trajectories, deterministic policy, {n:,} episodes x {STEPS} steps, CPU time, median of "
          f"{args.repeats}")
    for name, r in rates.items():
        print(f"{name:>22}: {r / 1e6:7.1f}M transitions/s   ({r / base:.2f}x sparse S=50)")
    print(f"issue 15 target at S = 1,000,000: 50M/s; measured {rates[rows[0][0]] / 1e6:.1f}M/s")


if __name__ == "__main__":
    main()

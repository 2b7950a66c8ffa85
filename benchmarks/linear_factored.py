"""LSVI-UCB on factored linear MDPs: time and memory against S (issue 15, item 4).

    nice -n 15 env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1 \\
        python -m benchmarks.linear_factored [--quick] [--S 1000000] [--episodes 1000] [--out results]

Instance: ``generators.linear.random_factored_linear_mdp(S, A, d=10, H=20, seed=0)``, stationary simplex features
(Jin et al. 2020, Example 2.2). Learner: ``algorithms.linear_samples.lsvi_ucb_samples`` (Jin et al. 2020,
Algorithm 1 on samples, lazy Q; episodes from the latent sampler), seed 1, paper constants (c = 1, p = 0.05).

Printed, all measured in this run, one thread:
1. per-episode CPU time of LSVI-UCB at S = 10^4 .. S_max for the first ``--scaling-episodes`` episodes (the cost
   should not grow with S), and the same for the count-based ``algorithms.linear.lsvi_ucb`` on the dense form at
   small S (its cost grows like S^2: the baseline), with the ratio at the largest S both can run;
2. the full run at S = 10^4 and at ``--S`` for ``--episodes`` episodes: wall and CPU time (the machine may be
   shared: CPU time is the load-independent figure) and their ratio, the learner's peak allocation (tracemalloc,
   numpy buffers; the model and the sampler's alias tables are built before the peak is reset) against the bytes
   of phi + mu, and the process's peak resident memory.
A summary JSON goes to ``--out`` (``linear_factored.json``).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import tracemalloc
from pathlib import Path

from theory_rl.algorithms.linear import lsvi_ucb
from theory_rl.algorithms.linear_samples import lsvi_ucb_samples
from theory_rl.generators.linear import random_factored_linear_mdp
from theory_rl.linear import LatentSampler


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _cpu_timed(fn):
    """``(out, wall seconds, CPU seconds of this process)``: on a shared machine the CPU time is the figure that
    does not depend on the other users' load."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def scaling(sizes, dense_sizes, A, d, H, K):
    rows = []
    for S in dense_sizes:  # the count-based learner on the dense form (materialised (H, S, A, S))
        L = random_factored_linear_mdp(S, A, d, H, seed=0).to_linear()
        lsvi_ucb(L, 2, seed=1, track_values=False)  # warm-up
        t_dense = _cpu_timed(lambda L=L: lsvi_ucb(L, K, seed=1, track_values=False))[2]
        t_samp = _cpu_timed(lambda L=L: lsvi_ucb_samples(L, K, seed=1))[2]
        rows.append({"S": S, "form": "dense", "count_based_s_per_episode": t_dense / K,
                     "sample_level_s_per_episode": t_samp / K})
    for S in sizes:
        F = random_factored_linear_mdp(S, A, d, H, seed=0)
        LatentSampler(F)  # tables built once per model (not part of the per-episode cost)
        lsvi_ucb_samples(F, 2, seed=1)  # warm-up (JIT)
        t = _cpu_timed(lambda F=F: lsvi_ucb_samples(F, K, seed=1))[2]
        rows.append({"S": S, "form": "factored", "sample_level_s_per_episode": t / K})
    return rows


def full_run(S, A, d, H, K):
    F, t_gen = _timed(lambda: random_factored_linear_mdp(S, A, d, H, seed=0))
    sampler, t_tables = _timed(lambda: LatentSampler(F))
    lsvi_ucb_samples(F, 2, seed=1)  # warm-up (JIT)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    res, t, cpu = _cpu_timed(lambda: lsvi_ucb_samples(F, K, seed=1))
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return {
        "S": S, "A": A, "d": d, "H": H, "episodes": K, "seconds": t, "cpu_seconds": cpu, "s_per_episode": t / K,
        "generate_seconds": t_gen, "alias_tables_seconds": t_tables,
        "process_rss_note": "peak RSS of the whole process, set while the generator builds phi (temporaries)",
        "phi_mu_bytes": int(F.phi.nbytes + F.mu.nbytes), "alias_table_bytes": sampler.nbytes,
        "learner_peak_bytes": int(peak), "peak_rss_mb": _peak_rss_mb(),
        "mean_return_first_tenth": float(res.returns[:max(K // 10, 1)].mean()),
        "mean_return_last_tenth": float(res.returns[-max(K // 10, 1):].mean()),
    }


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    p.add_argument("--S", type=int, default=1_000_000)
    p.add_argument("--A", type=int, default=4)
    p.add_argument("--d", type=int, default=10)
    p.add_argument("--H", type=int, default=20)
    p.add_argument("--episodes", type=int, default=1000)
    p.add_argument("--scaling-episodes", type=int, default=100)
    p.add_argument("--out", default="results")
    a = p.parse_args(argv)
    if a.quick:
        a.S, a.episodes, a.scaling_episodes = 20_000, 50, 20
        sizes, dense = [2_000, 20_000], [50]
    else:
        sizes = [s for s in (10_000, 100_000, 1_000_000) if s <= a.S]
        dense = [100, 200, 400]
    rows = scaling(sizes, dense, a.A, a.d, a.H, a.scaling_episodes)
    print(f"per-episode CPU time, first {a.scaling_episodes} episodes, A = {a.A}, d = {a.d}, H = {a.H}, one thread")
    print(f"{'S':>10} {'form':>9} {'count-based (ms)':>17} {'sample-level (ms)':>18} {'ratio':>7}")
    for r in rows:
        cb = r.get("count_based_s_per_episode")
        sl = r["sample_level_s_per_episode"]
        print(f"{r['S']:>10} {r['form']:>9} {'' if cb is None else f'{1e3 * cb:17.2f}':>17} {1e3 * sl:18.2f} "
              f"{'' if cb is None else f'{cb / sl:7.1f}':>7}")
    small = full_run(min(10_000, a.S), a.A, a.d, a.H, a.episodes)  # the same run at small S (cost scaling)
    full = full_run(a.S, a.A, a.d, a.H, a.episodes)
    for r in (small, full):
        print(f"\nfull run: S = {r['S']:,}, {r['episodes']} episodes: {r['seconds']:.1f} s wall, "
              f"{r['cpu_seconds']:.1f} s CPU ({1e3 * r['cpu_seconds'] / r['episodes']:.1f} ms CPU/episode); "
              f"generation {r['generate_seconds']:.1f} s, alias tables {r['alias_tables_seconds']:.2f} s")
    print(f"CPU time ratio S = {full['S']:,} / S = {small['S']:,}: {full['cpu_seconds'] / small['cpu_seconds']:.2f}")
    print(f"memory: phi + mu {full['phi_mu_bytes'] / 1e6:.1f} MB, alias tables {full['alias_table_bytes'] / 1e6:.1f} "
          f"MB, learner peak allocation {full['learner_peak_bytes'] / 1e6:.2f} MB "
          f"({full['learner_peak_bytes'] / full['phi_mu_bytes']:.4f} x phi + mu), process peak RSS "
          f"{full['peak_rss_mb']:.0f} MB")
    print(f"mean return, first / last tenth of the episodes: {full['mean_return_first_tenth']:.2f} / "
          f"{full['mean_return_last_tenth']:.2f}")
    summary = {"scaling": rows, "full_small_S": small, "full": full, "quick": a.quick}
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "linear_factored.json").write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()

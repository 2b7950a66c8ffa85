"""Benchmark of the experiment engine: parallel speedup and per-cell overhead, as ratios measured in one run.

Run from the repository root::

    python -m benchmarks.runner [--cells 40] [--cell-seconds 0.05] [--repeats 3] [--trivial 2000]

1. Throughput on CPU-bound cells (a pure-Python loop calibrated to ``--cell-seconds``): two worker processes
   against one worker (the in-process default, ``--workers 1``) and against a pool of one process. Wall times
   include starting the pool; runs are interleaved and the best of ``--repeats`` is kept, since the machine
   may be shared. Target: at least 1.8x.
2. Overhead of the store and scheduler per cell, on cells that do nothing: ``run_sweep`` (seeding, resume
   check, one SQLite commit per cell, result bookkeeping) against a plain loop calling the same function, in
   process and on a two-process pool (pool start-up excluded by differencing two sweep sizes). Target: under
   5 ms per cell.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from theory_rl.runner import grid, run_sweep


def cpu_cell(config: dict, seed: int) -> dict:
    """CPU-bound pure-Python loop of ``config['n']`` steps (no BLAS, no GIL release)."""
    acc = seed % 1000
    for i in range(config["n"]):
        acc = (acc * 1103515245 + 12345 + i) % 2147483648
    return {"acc": acc}


def trivial_cell(config: dict, seed: int) -> dict:
    """Does nothing: what remains is the runner's own cost."""
    return {"i": config["i"]}


def _timed_sweep(tmp: Path, name: str, fn, configs, force_pool: bool = False, **kw) -> float:
    """Wall time of one sweep into a fresh store; ``force_pool`` runs it on a one-process pool."""
    start = time.perf_counter()
    if force_pool:
        from theory_rl.runner.executors import run_processes

        for _ in run_processes(fn, [(c, 0) for c in configs], 1):
            pass
        return time.perf_counter() - start
    summary = run_sweep(fn, configs, experiment="bench", db_path=tmp / f"{name}.sqlite", progress=False, **kw)
    elapsed = time.perf_counter() - start
    if not summary.ok:
        raise RuntimeError(summary.report())
    return elapsed


def _bare_cells(n_cells: int, n: int, ready, go, out) -> None:
    ready.put(None)
    go.wait()  # all processes start their loops together, after their (excluded) start-up
    start = time.perf_counter()
    for i in range(n_cells):
        cpu_cell({"i": i, "n": n}, 0)
    out.put(time.perf_counter() - start)


def bare_processes(n_cells: int, n: int, workers: int) -> float:
    """Time for ``workers`` plain spawned processes to run the same cells: no runner, start-up excluded.

    The ratio of one bare process to two is what the machine itself allows (shared or throttled cores make it
    less than 2); the runner's speedup is read against it.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    shares = [n_cells // workers + (w < n_cells % workers) for w in range(workers)]
    procs = [ctx.Process(target=_bare_cells, args=(share, n, ready, go, out)) for share in shares]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get()
    go.set()
    elapsed = max(out.get() for _ in procs)
    for proc in procs:
        proc.join()
    return elapsed


def calibrate(seconds: float) -> int:
    """Loop length that makes one cpu_cell take about ``seconds``."""
    n = 100_000
    while True:
        start = time.perf_counter()
        cpu_cell({"n": n}, 0)
        took = time.perf_counter() - start
        if took > 0.05:
            return max(1, int(n * seconds / took))
        n *= 4


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.runner", description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=40, help="CPU-bound cells per sweep (default 40)")
    parser.add_argument("--cell-seconds", type=float, default=0.05, help="seconds per CPU-bound cell")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repetitions (best is kept)")
    parser.add_argument("--trivial", type=int, default=2000, help="trivial cells for the overhead test")
    args = parser.parse_args(argv)

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"CPU cores visible: {os.cpu_count()}; load average {load} (other processes compete for the cores)")
    n = calibrate(args.cell_seconds)
    cpu_configs = grid(i=list(range(args.cells)), n=[n])
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        # 1. throughput: interleaved repetitions, best of each (the machine may be shared)
        times: dict[str, list[float]] = {"inline": [], "pool1": [], "pool2": [], "bare1": [], "bare2": []}
        for rep in range(args.repeats):
            times["bare1"].append(bare_processes(args.cells, n, 1))
            times["bare2"].append(bare_processes(args.cells, n, 2))
            times["inline"].append(_timed_sweep(tmp, f"inline{rep}", cpu_cell, cpu_configs, workers=1))
            times["pool1"].append(
                _timed_sweep(tmp, f"pool1_{rep}", cpu_cell, cpu_configs, workers=1, force_pool=True)
            )
            times["pool2"].append(_timed_sweep(tmp, f"pool2_{rep}", cpu_cell, cpu_configs, workers=2))
        t_inline, t_pool1, t_two = (min(times[k]) for k in ("inline", "pool1", "pool2"))
        print(
            f"\n{args.cells} CPU-bound cells of {t_inline / args.cells * 1e3:.0f} ms (measured in process), "
            "best of "
            f"{args.repeats} interleaved runs, pool start-up included; load average before: {load}"
        )
        print(f"  --workers 1 (in process): {t_inline:6.2f} s  {args.cells / t_inline:6.1f} cells/s")
        print(f"  pool of 1 process       : {t_pool1:6.2f} s  {args.cells / t_pool1:6.1f} cells/s")
        print(f"  --workers 2             : {t_two:6.2f} s  {args.cells / t_two:6.1f} cells/s")
        print(f"  speedup of 2 workers over 1 in process: {t_inline / t_two:.2f}x  (target >= 1.8x)")
        print(f"  speedup of 2 workers over a pool of 1 : {t_pool1 / t_two:.2f}x  (target >= 1.8x)")
        ceiling = min(times["bare1"]) / min(times["bare2"])
        print(f"  the machine's own ceiling: 2 bare processes vs 1, no runner: {ceiling:.2f}x")
        print(f"  runner's share of that ceiling: {t_pool1 / t_two / ceiling:.0%}")

        # 2. overhead per cell
        m = args.trivial
        configs = grid(i=list(range(m)))
        start = time.perf_counter()
        for c in configs:
            trivial_cell(c, 0)
        t_loop = time.perf_counter() - start
        t_sweep = _timed_sweep(tmp, "overhead", trivial_cell, configs, workers=1)
        inline_ms = (t_sweep - t_loop) / m * 1e3
        small = max(10, m // 10)
        t_pool_small = _timed_sweep(tmp, "pool_small", trivial_cell, configs[:small], workers=2)
        t_pool_big = _timed_sweep(tmp, "pool_big", trivial_cell, configs, workers=2)
        pool_ms = (t_pool_big - t_pool_small) / (m - small) * 1e3
        print(f"\n{m} trivial cells: plain loop {t_loop * 1e3:.1f} ms, run_sweep in process {t_sweep:.2f} s")
        print(f"  store + scheduler overhead, in process      : {inline_ms:.3f} ms/cell  (target < 5 ms)")
        print(
            f"  store + scheduler overhead, 2-process pool  : {pool_ms:.3f} ms/cell  "
            f"(pool start-up {t_pool_small - small * pool_ms / 1e3:.2f} s, excluded)"
        )


if __name__ == "__main__":
    main()

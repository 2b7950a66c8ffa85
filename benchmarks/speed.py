"""Issue 16's speed targets, each printed as a ratio against its baseline measured in the same run.

    nice -n 15 python -m benchmarks.speed [--quick] [--only NAME ...] [--repeats R] [--old-commit 7355c1b]

Run it with one thread (``OMP_NUM_THREADS=1``; the benchmark also sets numba's threads to 1). Parts:

- ``lcb_rates``: ``python -m experiments.lcb_rates`` (default scale, one worker) of this tree against the same
  command on the commit before issue 16 (``git archive`` of ``--old-commit`` into a temporary folder, no worktree),
  run alternately ``--repeats`` times; and the ``--quick`` run warm (target: at most half the old wall time, and
  ``--quick`` under 5 s).
- ``construction``: ``TabularMDP(P, R, init, gamma)`` at S = 500, A = 10 (and with ``copy=False``) against
  QuantEcon's ``DiscreteDP(R, Q, beta)`` on the same arrays (target 3x), beside the numpy checks the one-pass check
  replaced, the floors (a copy of P; one read of P, which any check of every entry needs and DiscreteDP skips) and
  the trusted path of the library's own empirical models.
- ``evaluation``: ``evaluate`` / ``expected_return`` of a deterministic policy on a 5-state MDP against a bare
  numpy solve ``np.linalg.solve(I - gamma P[s, pi(s)], R[s, pi(s)])`` (target 3x).
- ``kernel``: the trajectory kernel (deterministic policy) against a branch-free reference loop written here, doing
  the same work on the same tables (target 1.15x); the stochastic-policy kernel against the deterministic one
  (target 1.3x).
- ``first_call``: CPU time of the first ``sample_trajectories`` in a fresh process (numba compiles, or loads from its
  on-disk cache), cold and warm cache, for HEAD and ``--first-call-old``.

Timings are medians of repeated runs (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from benchmarks._timing import median_time

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------- lcb_rates, this tree against the old commit
def _run_lcb_rates(tree: Path, quick: bool) -> tuple[float, float]:
    """Wall time and CPU time (user + system, of the child) of one run of the experiment from ``tree``."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "experiments.lcb_rates", "--workers", "1", "--out", out, "--no-progress"]
        env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd + (["--quick"] if quick else []), cwd=tree, env=env, check=True, capture_output=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_lcb_rates(repeats: int, old_commit: str, quick_only: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", old_commit], check=True, capture_output=True)
        archive_path = Path(tmp) / "old.tar"
        archive_path.write_bytes(archive.stdout)
        with tarfile.open(archive_path) as tar:
            tar.extractall(old, filter="data")
        for tree in (old, ROOT):  # warm-up: numba caches, imports in the page cache
            _run_lcb_rates(tree, quick=True)
        quick = {name: np.median([_run_lcb_rates(tree, True) for _ in range(3)], axis=0)
                 for name, tree in (("old", old), ("new", ROOT))}  # fmt: skip
        print(f"lcb_rates --quick (warm, median of 3): old {quick['old'][0]:.2f} s, new {quick['new'][0]:.2f} s "
              f"wall (target < 5 s); CPU old {quick['old'][1]:.2f} s, new {quick['new'][1]:.2f} s")
        if quick_only:
            return
        runs = {"old": [], "new": []}
        for _ in range(repeats):  # alternate, so that a change in the machine's load hits both
            runs["old"].append(_run_lcb_rates(old, False))
            runs["new"].append(_run_lcb_rates(ROOT, False))
        for i, what in enumerate(("wall", "CPU")):
            t_old, t_new = (float(np.median([r[i] for r in runs[k]])) for k in ("old", "new"))
            print(f"lcb_rates default, {what} time (median of {repeats}): old {old_commit} {t_old:.1f} s "
                  f"{[round(r[i], 1) for r in runs['old']]}, new {t_new:.1f} s {[round(r[i], 1) for r in runs['new']]};"
                  f" ratio new/old {t_new / t_old:.2f} (target <= 0.5)")


# ---------------------------------------------------------------------- construction and evaluation
def bench_construction(repeats: int) -> None:
    from theory_rl._validation import as_float_array, check_distributions, check_range, readonly
    from theory_rl.mdp import TabularMDP, trusted_mdp

    rng = np.random.default_rng(0)
    S, A = 500, 10
    P = rng.random((S, A, S))
    P /= P.sum(axis=-1, keepdims=True)
    R, init = rng.random((S, A)), np.full(S, 1.0 / S)

    def numpy_checks():  # the constructor's dense path before the one-pass check (commit 1ae1fd9), for the record
        p = as_float_array(P, "P", ndim=(3, 4))
        r, i = as_float_array(R, "R", ndim=(2, 3)), as_float_array(init, "init", ndim=1)
        check_distributions(p, "P")
        check_range(r, "R", 0.0, 1.0)
        check_distributions(i, "init")
        return readonly(p), readonly(r), readonly(i)

    runs = {
        "ours": lambda: TabularMDP(P, R, init, gamma=0.9),
        "view": lambda: TabularMDP(P, R, init, gamma=0.9, copy=False),
        "numpy": numpy_checks,
        "trusted": lambda: trusted_mdp(P.copy(), R.copy(), init.copy(), gamma=0.9),
        "copy": lambda: (P.copy(), R.copy(), init.copy()),
        "read": lambda: P.sum(),  # one read of P: the floor of any check of every entry
    }
    try:
        from quantecon.markov import DiscreteDP
    except ImportError:
        print("construction: quantecon is not installed (dev extra); "
              + ", ".join(f"{k} {median_time(f, repeats) * 1e3:.2f} ms" for k, f in runs.items()))
        return
    runs["qe"] = lambda: DiscreteDP(R, P, 0.9)  # checks R's shape and finiteness; reads no entry of P
    t = {k: median_time(f, repeats) for k, f in runs.items()}
    qe = t["qe"]
    print(f"construction S={S}, A={A}: DiscreteDP {qe * 1e3:.3f} ms; TabularMDP {t['ours'] * 1e3:.2f} ms = "
          f"{t['ours'] / qe:.1f}x (target 3x), copy=False {t['view'] * 1e3:.2f} ms = {t['view'] / qe:.1f}x; "
          f"the numpy checks it replaced {t['numpy'] * 1e3:.2f} ms = {t['numpy'] / qe:.1f}x; floors: the copy "
          f"{t['copy'] * 1e3:.2f} ms = {t['copy'] / qe:.1f}x, one read of P (np.sum) {t['read'] * 1e3:.2f} ms = "
          f"{t['read'] / qe:.1f}x; trusted path (the library's own models) without its copy "
          f"{(t['trusted'] - t['copy']) * 1e3:.3f} ms = {(t['trusted'] - t['copy']) / qe:.1f}x")


def bench_evaluation(repeats: int) -> None:
    from theory_rl import planning
    from theory_rl.generators import concentrability as instances

    mdp, _ = instances.undercovered_mdp(5, 2.0, 0.1, gamma=0.9, seed=0)
    pi = np.array([1, 0, 1, 1, 0])
    P, R, g, rows = np.array(mdp.P), np.array(mdp.R), mdp.gamma, np.arange(mdp.S)
    n = 2000

    def bare():
        for _ in range(n):
            np.linalg.solve(np.eye(5) - g * P[rows, pi], R[rows, pi])

    def ours():
        for _ in range(n):
            planning.evaluate(mdp, pi)

    def ours_return():
        for _ in range(n):
            planning.expected_return(mdp, pi)

    t_bare, t_ours, t_ret = (median_time(f, repeats) / n for f in (bare, ours, ours_return))
    print(f"evaluate (5 states): numpy solve {t_bare * 1e6:.1f} us, evaluate {t_ours * 1e6:.1f} us = "
          f"{t_ours / t_bare:.2f}x (target 3x); expected_return (cached per MDP and policy) {t_ret * 1e6:.2f} us = "
          f"{t_ret / t_bare:.2f}x")


# ---------------------------------------------------------------------- the trajectory kernel
@numba.njit(cache=True, inline="always")
def _u01(state):
    state += np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, np.float64(np.int64((z ^ (z >> np.uint64(31))) >> np.uint64(11))) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True)
def reference_loop(seed, indptr, prob, own, other, actions, probs, R, T, states_out, actions_out, rewards_out,
                   bprob_out):
    """The same work as the library's deterministic-policy kernel, written plainly and branch-free: splitmix64,
    the alias draw over the same support table with a select by masks, a Bernoulli reward, four outputs (the
    behaviour probability read from ``probs``, as the kernel reads it); eight
    episodes stepped together, as the kernel does (a fair baseline: one episode at a time is ~1.3x slower)."""
    state = np.uint64(seed)
    A = R.shape[1]
    n = states_out.shape[0]
    cur = np.empty(8, np.int64)
    for e0 in range(0, n, 8):
        L = min(8, n - e0)
        for j in range(L):
            state, u = _u01(state)
            cur[j] = np.int64(u * R.shape[0])
            states_out[e0 + j, 0] = cur[j]
        for h in range(T):
            for j in range(L):
                s = cur[j]
                a = np.int64(actions[s])
                row = s * A + a
                state, u = _u01(state)
                start = indptr[row]
                t = u * (indptr[row + 1] - start)
                k = np.int64(t)
                mine, alt = np.int64(own[start + k]), np.int64(other[start + k])
                s2 = alt ^ ((mine ^ alt) & -np.int64(t - k < prob[start + k]))
                state, u = _u01(state)
                actions_out[e0 + j, h] = a
                rewards_out[e0 + j, h] = np.float64(u < R[s, a])
                bprob_out[e0 + j, h] = probs[s, a]
                states_out[e0 + j, h + 1] = s2
                cur[j] = s2


def bench_kernel(repeats: int, quick: bool) -> None:
    from theory_rl import _kernels
    from theory_rl.data.tables import kernel_args, model_tables, policy_tables
    from theory_rl.generators import garnet
    from theory_rl.planning import solve

    numba.set_num_threads(1)
    S, A, H = 50, 5, 20
    n = 20_000 if quick else 200_000
    mdp = garnet(S, A, S, seed=0, horizon=H)
    pi_det = np.ascontiguousarray(solve(mdp).policy[0])
    pi_sto = np.full((S, A), 1.0 / A)
    tables = model_tables(mdp)

    def outputs():
        return (np.empty((n, H + 1), np.int32), np.empty((n, H), np.int32), np.empty((n, H)), np.empty((n, H)))

    out_det, out_sto, out_ref = outputs(), outputs(), outputs()
    args_det = kernel_args(mdp, tables, policy_tables(mdp, pi_det))
    args_sto = kernel_args(mdp, tables, policy_tables(mdp, pi_sto))
    R = np.ascontiguousarray(mdp.R_at(0))
    probs_det = np.ascontiguousarray(policy_tables(mdp, pi_det).probs[0])
    runs = {
        "det": lambda: _kernels.trajectories_trial(np.uint64(1), *args_det, *out_det),
        "sto": lambda: _kernels.trajectories_trial(np.uint64(1), *args_sto, *out_sto),
        "ref": lambda: reference_loop(1, *tables.P, pi_det, probs_det, R, H, *out_ref),
    }
    times = {k: [] for k in runs}
    for fn in runs.values():
        fn()  # compile / load from the cache, touch the outputs
    for _ in range(repeats):  # interleaved, so that a change of the machine's load hits the three alike
        for k, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    t = {k: np.array(v) for k, v in times.items()}
    steps = n * H
    med = {k: float(np.median(v)) / steps * 1e9 for k, v in t.items()}
    print(f"kernel (S={S}, A={A}, H={H}, {n} episodes, one thread, median of {repeats} interleaved runs): "
          f"deterministic {med['det']:.2f} ns/step, reference loop {med['ref']:.2f} ns/step: ratio "
          f"{np.median(t['det'] / t['ref']):.2f} (target 1.15); stochastic {med['sto']:.2f} ns/step: ratio to "
          f"deterministic {np.median(t['sto'] / t['det']):.2f} (target 1.3)")


# ---------------------------------------------------------------------- the first numba call in a fresh process
_FIRST_CALL = """
import json, time
c0 = time.process_time()
import numpy as np
from theory_rl.data import sample_trajectories
from theory_rl.generators import garnet
c1 = time.process_time()
mdp = garnet(10, 3, 4, seed=0, horizon=5)
sample_trajectories(mdp, np.zeros(10, dtype=np.int64), 100, seed=1)
c2 = time.process_time()
sample_trajectories(mdp, np.full((10, 3), 1 / 3), 100, seed=1)
c3 = time.process_time()
print(json.dumps({"import": c1 - c0, "deterministic": c2 - c1, "stochastic": c3 - c2}))
"""


def bench_first_call(old_commit: str) -> None:
    """CPU seconds of the first ``sample_trajectories`` (a deterministic policy) and then of a stochastic one, in a
    fresh process, from a fresh copy (``git archive``) of HEAD and of ``old_commit``: with numba's on-disk cache
    empty (cold: compilation) and then filled by that run (warm: loading)."""
    import json

    with tempfile.TemporaryDirectory() as tmp:
        for label, commit in (("old", old_commit), ("new", "HEAD")):
            tree = Path(tmp) / label
            tree.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True)
            (Path(tmp) / f"{label}.tar").write_bytes(archive.stdout)
            with tarfile.open(Path(tmp) / f"{label}.tar") as tar:
                tar.extractall(tree, filter="data")
            env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
            env.pop("NUMBA_CACHE_DIR", None)
            runs = [json.loads(subprocess.run([sys.executable, "-c", _FIRST_CALL], cwd=tree, env=env, check=True,
                                              capture_output=True, text=True).stdout) for _ in range(2)]  # fmt: skip
            print(f"first call, {label} ({commit}), CPU s: cold cache: deterministic {runs[0]['deterministic']:.2f}, "
                  f"then stochastic {runs[0]['stochastic']:.2f}; warm cache: {runs[1]['deterministic']:.2f}, "
                  f"{runs[1]['stochastic']:.2f} (imports {runs[1]['import']:.2f})")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; lcb_rates --quick only")
    parser.add_argument("--only", nargs="*", default=None,
                        choices=["lcb_rates", "construction", "evaluation", "kernel", "first_call"])  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3, help="runs of lcb_rates per commit (other parts: x10)")
    parser.add_argument("--old-commit", default="7355c1b", help="the commit before issue 16")
    parser.add_argument("--first-call-old", default="1ae1fd9", help="first_call's baseline (before its change)")
    args = parser.parse_args(argv)
    parts = args.only or ["construction", "evaluation", "kernel", "first_call", "lcb_rates"]
    if "construction" in parts:
        bench_construction(10 * args.repeats)
    if "evaluation" in parts:
        bench_evaluation(3 * args.repeats)
    if "kernel" in parts:
        bench_kernel(3 * args.repeats, args.quick)
    if "first_call" in parts:
        bench_first_call(args.first_call_old)
    if "lcb_rates" in parts:
        bench_lcb_rates(args.repeats, args.old_commit, args.quick)


if __name__ == "__main__":
    main()

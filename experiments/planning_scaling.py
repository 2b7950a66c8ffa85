"""Planning scaling: solver time, peak memory and certificate against the number of states, theory_rl and
QuantEcon side by side.

Each cell draws a Garnet MDP (S states, A actions, ``branching`` successors per pair, discount gamma) from the
cell's seed, solves it with one solver, and records the CPU time of the solve (``seconds``: run it with one BLAS /
numba thread; on a shared machine wall time measures the load more than the solver; ``wall_seconds`` too), the
peak memory of the solve (tracemalloc, which numpy and scipy allocate through; it is on during the timed solve, at
a cost of a few allocations per iteration), the transition storage, the iterations and the certificate (residual,
error bound, converged).
Solvers: theory_rl's value and policy iteration on dense storage (S up to 1,600), QuantEcon's policy iteration on
the same dense arrays, theory_rl's modified policy iteration on sparse storage (S = 100 to 10^7) and QuantEcon's
modified policy iteration on the same CSR matrix in its state-action-pair form (S up to 10^6), both to the same
``TOL`` certificate. Cells of 10^6 states and more run one seed. The summary fits the log-log slope of the mean
solve time against S per solver, with a 95% bootstrap interval over the seeds
(:func:`experiments._cli.bootstrap_slope`), and reports the worst error bound, the QuantEcon / theory_rl time ratio
of MPI at each S both ran, and theory_rl's peak memory over its transition storage at its largest S.

Run ``python -m experiments.planning_scaling --quick`` for a few-second version; the default takes minutes
(one core).
"""

from __future__ import annotations

import sys
import time
import tracemalloc

from experiments._cli import bootstrap_slope, loglog_slope, mean_by, parse_args, run_experiment
from theory_rl.runner import grid

NAME = "planning_scaling"
DENSE_SOLVERS = ("value_iteration", "policy_iteration", "quantecon_policy_iteration")
SPARSE_SOLVERS = ("modified_policy_iteration", "quantecon_mpi")
SOLVERS = DENSE_SOLVERS + SPARSE_SOLVERS
PAPER_S = (25, 50, 100, 200, 400, 800, 1600)
QUICK_S = (10, 20, 40, 80)
SPARSE_S = {"modified_policy_iteration": (100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000),
            "quantecon_mpi": (100, 1_000, 10_000, 100_000, 1_000_000)}
QUICK_SPARSE_S = (100, 1_000)
ONE_SEED_FROM = 1_000_000  # cells this large run once
A, BRANCHING, GAMMA, TOL = 4, 5, 0.9, 1e-8


def configs(quick: bool) -> list[dict]:
    """The sweep's grid: dense solvers on the small S, sparse MPI (theory_rl and QuantEcon) on S up to 10^7."""
    base = dict(A=[A], branching=[BRANCHING], gamma=[GAMMA])
    out = grid(S=list(QUICK_S if quick else PAPER_S), solver=list(DENSE_SOLVERS), **base)
    for solver in SPARSE_SOLVERS:
        sizes = QUICK_SPARSE_S if quick else SPARSE_S[solver]
        for cfg in grid(S=list(sizes), solver=[solver], **base):
            out.append({**cfg, "_seeds": 1} if cfg["S"] >= ONE_SEED_FROM else cfg)
    return out


def _prepare(name: str, mdp):
    """A zero-argument call that solves ``mdp`` with solver ``name``; QuantEcon's DiscreteDP is built here, outside
    the timed call (as theory_rl's MDP is)."""
    from theory_rl.planning import policy_iteration, value_iteration
    from theory_rl.solvers import modified_policy_iteration

    if name == "value_iteration":
        return lambda: value_iteration(mdp, tol=TOL)
    if name == "policy_iteration":
        return lambda: policy_iteration(mdp)
    if name == "modified_policy_iteration":
        return lambda: modified_policy_iteration(mdp, tol=TOL)
    import numpy as np
    from quantecon.markov import DiscreteDP

    if mdp.is_sparse:
        S, A = mdp.S, mdp.A
        ddp = DiscreteDP(np.asarray(mdp.R).reshape(-1), mdp.transitions, mdp.gamma, np.repeat(np.arange(S), A),
                         np.tile(np.arange(A), S))
    else:
        ddp = DiscreteDP(np.asarray(mdp.R), np.asarray(mdp.P), mdp.gamma)
    method = "modified_policy_iteration" if name == "quantecon_mpi" else "policy_iteration"

    def run():
        res = ddp.solve(method, epsilon=TOL) if method == "modified_policy_iteration" else ddp.solve(method)
        # QuantEcon's MPI stops on the same span rule (|v - V*| < epsilon / 2); its PI is exact (0 here)
        bound = TOL / 2 if method == "modified_policy_iteration" else 0.0
        return {"iterations": int(res.num_iter), "residual": float("nan"), "error_bound": bound, "converged": True}

    return run


def cell(config: dict, seed: int) -> dict:
    """Draw a Garnet MDP from ``seed`` (sparse storage for the sparse solvers), solve it with
    ``config['solver']``, return time, peak memory, storage and certificate."""
    from theory_rl.generators import garnet

    sparse = config["solver"] in SPARSE_SOLVERS
    mdp = garnet(config["S"], config["A"], config["branching"], gamma=config["gamma"], seed=seed, sparse=sparse)
    _prepare(config["solver"], garnet(3, 2, 2, gamma=config["gamma"], seed=0, sparse=sparse))()  # warm up (numba)
    solve = _prepare(config["solver"], mdp)
    T = mdp.transitions if sparse else None
    storage = T.data.nbytes + T.indices.nbytes + T.indptr.nbytes if sparse else 8 * mdp.S * mdp.A * mdp.S
    tracemalloc.start()
    start, cpu = time.perf_counter(), time.process_time()
    result = solve()
    seconds, wall = time.process_time() - cpu, time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    cert = result if isinstance(result, dict) else {
        "iterations": int(result.iterations), "residual": float(result.residual),
        "error_bound": float(result.error_bound), "converged": bool(result.converged)}
    return {"seconds": seconds, "wall_seconds": wall, "peak_bytes": float(peak), "storage_bytes": float(storage),
            **cert}


def summarize(records: list[dict]) -> dict:
    """Log-log slope of mean time against S per solver, worst error bound, iterations at the largest S, the
    QuantEcon / theory_rl MPI time ratio per S, and theory_rl MPI's peak memory over its storage at its largest S."""
    fitted: dict = {}
    seconds = mean_by(records, ("solver", "S"), "seconds")
    bounds = mean_by(records, ("solver", "S"), "error_bound")
    iterations = mean_by(records, ("solver", "S"), "iterations")
    peaks = mean_by(records, ("solver", "S"), "peak_bytes")
    storage = mean_by(records, ("solver", "S"), "storage_bytes")
    for solver in SOLVERS:
        S = sorted(s for (name, s) in seconds if name == solver)
        if len(S) < 2:
            continue
        fitted[f"{solver}.time_slope"] = loglog_slope(S, [seconds[solver, s] for s in S])
        ci = bootstrap_slope(S, _per_seed(records, solver, S))
        fitted[f"{solver}.time_slope_ci95"] = list(ci) if ci else None
        fitted[f"{solver}.max_error_bound"] = max(bounds[solver, s] for s in S)
        fitted[f"{solver}.iterations_at_S={S[-1]}"] = iterations[solver, S[-1]]
        fitted[f"{solver}.seconds_at_S={S[-1]}"] = seconds[solver, S[-1]]
    both = sorted(s for (name, s) in seconds if name == "quantecon_mpi" and ("modified_policy_iteration", s) in seconds)
    for s in both:
        fitted[f"mpi_time_ratio_quantecon_over_theory_rl.S={s}"] = (
            seconds["quantecon_mpi", s] / seconds["modified_policy_iteration", s])
    ours = sorted(s for (name, s) in seconds if name == "modified_policy_iteration")
    if ours:
        fitted[f"modified_policy_iteration.peak_over_storage_at_S={ours[-1]}"] = (
            peaks["modified_policy_iteration", ours[-1]] / storage["modified_policy_iteration", ours[-1]])
    fitted["all_converged"] = all(r["metrics"]["converged"] for r in records)
    return fitted


def _per_seed(records: list[dict], solver: str, S: list[int]) -> list[list[float]]:
    """Solve times of ``solver``, shape ``(len(S), seeds)``, over the seed indices every S has (a resumed or
    partial sweep may lack some)."""
    times: dict = {}
    for rec in records:
        if rec["config"]["solver"] == solver:
            times.setdefault(rec["config"]["S"], {})[rec["seed_index"]] = float(rec["metrics"]["seconds"])
    seeds = sorted(set.intersection(*(set(times[s]) for s in S)))
    return [[times[s][i] for i in seeds] for s in S]


def plot(records: list[dict], fitted: dict) -> dict:
    """Three panels against S (log-log): mean solve time, peak memory of the solve (with theory_rl's sparse
    transition storage dashed), and the error bound."""
    from theory_rl.plotting import new_figure

    seconds = mean_by(records, ("solver", "S"), "seconds")
    bounds = mean_by(records, ("solver", "S"), "error_bound")
    peaks = mean_by(records, ("solver", "S"), "peak_bytes")
    storage = mean_by(records, ("solver", "S"), "storage_bytes")
    fig, (ax_t, ax_m, ax_b) = new_figure(1, 3)
    for solver in SOLVERS:
        S = sorted(s for (name, s) in seconds if name == solver)
        if not S:
            continue
        style = {"marker": "o", "linestyle": "--" if solver.startswith("quantecon") else "-"}
        slope = fitted.get(f"{solver}.time_slope")
        label = solver.replace("_", " ") + (f" (slope {slope:.2f})" if slope is not None else "")
        ax_t.loglog(S, [seconds[solver, s] for s in S], label=label, **style)
        ax_m.loglog(S, [max(peaks[solver, s], 1.0) for s in S], label=solver.replace("_", " "), **style)
        # an exact certificate of 0 would vanish from a log axis: draw it at the float64 floor instead
        ax_b.loglog(S, [max(bounds[solver, s], 1e-17) for s in S], label=solver.replace("_", " "), **style)
    S = sorted(s for (name, s) in storage if name == "modified_policy_iteration")
    if S:
        ax_m.loglog(S, [storage["modified_policy_iteration", s] for s in S], color="0.5", linestyle=":",
                    label="sparse transition storage")
    ax_t.set(xlabel="states S", ylabel="solve time (CPU s)", title="Time")
    ax_m.set(xlabel="states S", ylabel="peak traced memory of the solve (bytes)", title="Memory")
    ax_b.axhline(TOL, color="0.5", linestyle=":", linewidth=1)
    ax_b.set(
        xlabel="states S", ylabel="error bound on V (sup norm)", title=f"Certificate (tol {TOL:g} dotted)"
    )
    ax_t.legend(fontsize="x-small")
    ax_m.legend(fontsize="x-small")
    return {NAME: fig}


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=5, quick_trials=2)
    return run_experiment(args, cell, configs(args.quick), summarize=summarize, plot=plot)


if __name__ == "__main__":
    sys.exit(main())

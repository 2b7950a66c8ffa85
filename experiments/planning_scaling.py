"""Planning scaling: solver time and certificate of value and policy iteration against the number of states.

Each cell draws a Garnet MDP (S states, A actions, ``branching`` successors per pair, discount gamma) from the
cell's seed, solves it with one solver, and records the wall time, the iterations and the certificate
(residual, error bound, converged). The summary fits the log-log slope of the mean solve time against S per
solver, with a 95% bootstrap interval over the seeds (:func:`experiments._cli.bootstrap_slope`), and reports the
worst error bound.

Run ``python -m experiments.planning_scaling --quick`` for a few-second version.
"""

from __future__ import annotations

import sys
import time

from experiments._cli import bootstrap_slope, loglog_slope, mean_by, parse_args, run_experiment
from theory_rl.runner import grid

NAME = "planning_scaling"
SOLVERS = ("value_iteration", "policy_iteration")
PAPER_S = (25, 50, 100, 200, 400, 800, 1600)
QUICK_S = (10, 20, 40, 80)
A, BRANCHING, GAMMA, TOL = 4, 5, 0.9, 1e-8


def configs(quick: bool) -> list[dict]:
    """The sweep's grid: every S times every solver."""
    return grid(
        S=list(QUICK_S if quick else PAPER_S),
        solver=list(SOLVERS),
        A=[A],
        branching=[BRANCHING],
        gamma=[GAMMA],
    )


def cell(config: dict, seed: int) -> dict:
    """Draw a Garnet MDP from ``seed``, solve it with ``config['solver']``, return time and certificate."""
    from theory_rl.generators import garnet
    from theory_rl.planning import policy_iteration, value_iteration

    solvers = {"value_iteration": lambda m: value_iteration(m, tol=TOL), "policy_iteration": policy_iteration}
    solve = solvers[config["solver"]]
    mdp = garnet(config["S"], config["A"], config["branching"], gamma=config["gamma"], seed=seed)
    solve(garnet(3, 2, 2, gamma=config["gamma"], seed=0))  # warm up (numba compilation, caches) before timing
    start = time.perf_counter()
    result = solve(mdp)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "iterations": int(result.iterations),
        "residual": float(result.residual),
        "error_bound": float(result.error_bound),
        "converged": bool(result.converged),
    }


def summarize(records: list[dict]) -> dict:
    """Log-log slope of mean time against S, worst error bound and mean iterations at the largest S."""
    fitted: dict = {}
    seconds = mean_by(records, ("solver", "S"), "seconds")
    bounds = mean_by(records, ("solver", "S"), "error_bound")
    iterations = mean_by(records, ("solver", "S"), "iterations")
    for solver in SOLVERS:
        S = sorted(s for (name, s) in seconds if name == solver)
        fitted[f"{solver}.time_slope"] = loglog_slope(S, [seconds[solver, s] for s in S])
        ci = bootstrap_slope(S, _per_seed(records, solver, S))
        fitted[f"{solver}.time_slope_ci95"] = list(ci) if ci else None
        fitted[f"{solver}.max_error_bound"] = max(bounds[solver, s] for s in S)
        fitted[f"{solver}.iterations_at_S={S[-1]}"] = iterations[solver, S[-1]]
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
    """Two panels: mean solve time against S (log-log) and error bound against S."""
    from theory_rl.plotting import new_figure

    seconds = mean_by(records, ("solver", "S"), "seconds")
    bounds = mean_by(records, ("solver", "S"), "error_bound")
    fig, (ax_t, ax_b) = new_figure(1, 2)
    for solver in SOLVERS:
        S = sorted(s for (name, s) in seconds if name == solver)
        label = f"{solver.replace('_', ' ')} (slope {fitted[f'{solver}.time_slope']:.2f})"
        ax_t.loglog(S, [seconds[solver, s] for s in S], marker="o", label=label)
        # an exact certificate of 0 would vanish from a log axis: draw it at the float64 floor instead
        ax_b.loglog(S, [max(bounds[solver, s], 1e-17) for s in S], marker="o", label=solver.replace("_", " "))
    ax_t.set(xlabel="states S", ylabel="solve time (s)", title="Time")
    ax_b.axhline(TOL, color="0.5", linestyle=":", linewidth=1)
    ax_b.set(
        xlabel="states S", ylabel="error bound on V (sup norm)", title=f"Certificate (tol {TOL:g} dotted)"
    )
    ax_t.legend()
    return {NAME: fig}


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=5, quick_trials=2)
    return run_experiment(args, cell, configs(args.quick), summarize=summarize, plot=plot)


if __name__ == "__main__":
    sys.exit(main())

"""LCB rates: Rashidinejad et al. (2021) Fig. 2 regenerated from data, and the sub-optimality rates against N.

Three settings, each with the LCB rule and its two baselines (the empirical best action / plain value iteration on
the empirical model, "greedy"; and the most-played action, "most_played"):

- mab: two Bernoulli arms (:func:`theory_rl.generators.concentrability.two_arm_bandit`), the expected
  sub-optimality computed EXACTLY (:mod:`theory_rl.algorithms.two_arm_exact`), so the exponential regime of
  most-played is resolved.
- cb: contextual bandits, Monte Carlo over datasets: expert data with rare contexts at C* = 1
  (:func:`~theory_rl.generators.concentrability.rare_context_bandit`), Thm 5's under-sampled optimal action for C* > 1
  (:func:`~theory_rl.generators.concentrability.fano_contextual_bandit`).
- mdp: discounted MDPs (gamma = 0.9), Monte Carlo: the Fig. 6 rare-state MDP at C* = 1
  (:func:`~theory_rl.generators.concentrability.rare_state_mdp`), an MDP whose optimal action is under-sampled by
  exactly C* otherwise (:func:`~theory_rl.generators.concentrability.undercovered_mdp`);
  LCB is VI-LCB without splitting.

A rate is minimax: at each N the sub-optimality is the WORST over a fixed grid of instances (gaps, or the rare
probability zeta at C* = 1), since a fixed instance decays exponentially and hides the rate. Penalty constants:
the paper's 2000 (and Vmax in VI-LCB) make LCB identical to most-played below ~1e4 samples per pair, so this
experiment uses Hoeffding's 1/2 in every setting (``constant = 0.5``) and, in the MDP, ``penalty_scale = 1 - gamma``
(the penalty is on the reward scale); both are recorded in the summary.

    python -m experiments.lcb_rates [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import math
from collections import defaultdict
from functools import partial

import numpy as np

from experiments._cli import BOOTSTRAP, bootstrap_slope, exit_process, loglog_slope, parse_args, run_experiment

NAME = "lcb_rates"
ALGORITHMS = ("lcb", "greedy", "most_played")
SETTINGS = ("mab", "cb", "mdp")
CONSTANT = 0.5  # Hoeffding's constant in every LCB penalty of this experiment (see the module docstring)
GAMMA = 0.9
S_CB, S_MDP = 5, 5

PAPER = {
    "mab": {"N": [50, 100, 200, 400, 800, 1600], "N_fig": 400, "rate_c": [1.5, 2.0, 4.0],
            "fig_c": [1.1, 1.25, 1.5, 1.75, 2.0, 3.0, 4.0, 6.0], "gaps": 8},
    "cb": {"N": [200, 400, 800, 1600, 3200, 6400], "N_fig": 1600, "rate_c": [1.0, 2.0, 4.0],
           "fig_c": [1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0], "gaps": 8, "batch": 40},
    "mdp": {"N": [200, 400, 800, 1600, 3200, 6400], "N_fig": 1600, "rate_c": [1.0, 2.0],
            "fig_c": [1.0, 1.5, 2.0, 3.0, 4.0, 6.0], "gaps": 8, "batch": 20},
}
QUICK = {
    "mab": {"N": [50, 100, 200, 400], "N_fig": 200, "rate_c": [1.5, 2.0], "fig_c": [1.25, 1.5, 2.0, 4.0], "gaps": 5},
    "cb": {"N": [200, 400, 800, 1600], "N_fig": 800, "rate_c": [1.0, 2.0], "fig_c": [1.0, 2.0, 4.0], "gaps": 5,
           "batch": 10},
    "mdp": {"N": [200, 400, 800, 1600], "N_fig": 800, "rate_c": [1.0, 2.0], "fig_c": [1.0, 2.0, 4.0], "gaps": 4,
            "batch": 5},
}


def _gap_grid(count: int) -> list[float]:
    return [float(g) for g in np.geomspace(0.01, 0.45, count)]


def _zeta_grid(count: int, S_rare: int) -> list[float]:
    # Fixed (not N-dependent) rare-state probabilities; the worst one tracks 1/N across the N range.
    return [float(z) for z in np.geomspace(1e-4, 1.0 / (S_rare + 1), count + 2)]


def configs(quick: bool) -> list[dict]:
    """Every (setting, C*, N, instance) cell: the rate sweeps and the Fig. 2 sweep at N_fig, without repeats."""
    plan = QUICK if quick else PAPER
    out: dict[str, dict] = {}

    def add(config):
        out[repr(sorted(config.items()))] = config

    mab = plan["mab"]
    for N in sorted(set(mab["N"]) | {mab["N_fig"]}):
        for gap in _gap_grid(mab["gaps"]):
            add({"setting": "mab", "N": N, "param": gap, "_seeds": 1})  # exact: one seed
    for setting in ("cb", "mdp"):
        p = plan[setting]
        cells = [(c, N) for c in p["rate_c"] for N in p["N"]] + [(c, p["N_fig"]) for c in p["fig_c"]]
        S_rare = (S_CB - 1) if setting == "cb" else (S_MDP - 1)
        for c, N in cells:
            grid = _zeta_grid(p["gaps"], S_rare) if c == 1.0 else _gap_grid(p["gaps"])
            for param in grid:
                add({"setting": setting, "c_star": c, "N": N, "param": param, "batch": p["batch"]})
    return list(out.values())


# ---------------------------------------------------------------------- cells
def _mab_cell(config: dict) -> dict:
    from theory_rl.algorithms.two_arm_exact import exact_suboptimality

    c_grid = sorted(set(PAPER["mab"]["fig_c"]) | set(PAPER["mab"]["rate_c"]))
    mus = np.array([[1.0 - 1.0 / c, 1.0 / c] for c in c_grid])
    means = (0.5, 0.5 + config["param"])
    metrics = {}
    for alg in ALGORITHMS:
        values = exact_suboptimality(means, mus, config["N"], algorithm=alg)
        metrics.update({f"{alg}@{c:g}": float(v) for c, v in zip(c_grid, values, strict=True)})
    return metrics


def _instance(config: dict, seed: int):
    from theory_rl.generators import concentrability as inst

    c, param = config["c_star"], config["param"]
    if config["setting"] == "cb":
        return inst.rare_context_bandit(S_CB, param) if c == 1.0 else inst.fano_contextual_bandit(S_CB, c, param)
    if c == 1.0:
        return inst.rare_state_mdp(S_MDP + 1, param, gamma=GAMMA)
    return inst.undercovered_mdp(S_MDP, c, param, gamma=GAMMA, seed=seed)


def _policies(setting: str, data) -> dict:
    from theory_rl.algorithms import lcb

    if setting == "cb":
        return {
            "lcb": lcb.lcb_contextual(data, constant=CONSTANT).policy,
            "greedy": lcb.empirical_best(data).policy,
            "most_played": lcb.most_played(data).policy,
        }
    return {
        "lcb": lcb.vi_lcb(data, split=False, constant=CONSTANT, penalty_scale=1.0 - GAMMA).policy,
        "greedy": lcb.empirical_vi(data).policy,
        "most_played": lcb.most_played(data).policy,
    }


def _monte_carlo_cell(config: dict, seed: int) -> dict:
    """``batch`` datasets of N i.i.d. samples; mean and mean square of each rule's exact sub-optimality."""
    from theory_rl import planning
    from theory_rl.data import sample_iid_counts_batch

    instance_seed, *data_seeds = np.random.SeedSequence(seed).spawn(config["batch"] + 1)
    problem, mu = _instance(config, instance_seed)
    J_star = planning.expected_return(problem, planning.solve(problem).policy)
    losses = defaultdict(list)
    # The batch's datasets in one call (mu checked once); each policy's return is cached per instance.
    for data in sample_iid_counts_batch(problem, mu, config["N"], data_seeds):
        for alg, policy in _policies(config["setting"], data).items():
            losses[alg].append(J_star - planning.expected_return(problem, policy))
    metrics = {}
    for alg, values in losses.items():
        values = np.maximum(np.asarray(values), 0.0)  # J* - J(pi) >= 0; clear round-off below zero
        metrics[alg] = float(values.mean())
        metrics[f"{alg}_sq"] = float((values**2).mean())
    return metrics


def cell(config: dict, seed: int) -> dict:
    """One cell: exact (mab) or a batch of datasets (cb, mdp)."""
    return _mab_cell(config) if config["setting"] == "mab" else _monte_carlo_cell(config, seed)


# ---------------------------------------------------------------------- analysis
def curves(records: list[dict]) -> dict:
    """``{(setting, c_star, N, alg): (worst mean over instances, its standard error)}``."""
    sums: dict = defaultdict(lambda: [0.0, 0.0, 0])
    for rec in records:
        cfg, m = rec["config"], rec["metrics"]
        if cfg["setting"] == "mab":
            for key, value in m.items():
                alg, c = key.split("@")
                sums[("mab", float(c), cfg["N"], alg, cfg["param"])] = [value, 0.0, 1]
            continue
        for alg in ALGORITHMS:
            acc = sums[(cfg["setting"], cfg["c_star"], cfg["N"], alg, cfg["param"])]
            acc[0] += m[alg] * cfg["batch"]
            acc[1] += m[f"{alg}_sq"] * cfg["batch"]
            acc[2] += cfg["batch"]
    worst: dict = {}
    for (setting, c, N, alg, _), (s1, s2, n) in sums.items():
        mean = s1 / n
        se = math.sqrt(max(s2 / n - mean**2, 0.0) / n) if setting != "mab" else 0.0
        key = (setting, c, N, alg)
        if key not in worst or mean > worst[key][0]:
            worst[key] = (mean, se)
    return worst


def _seed_means(records: list[dict], setting: str, c: float, Ns: list[int], alg: str) -> np.ndarray:
    """Mean sub-optimality of each Monte Carlo cell, shape ``(instances, len(Ns), seeds)`` (seed index last)."""
    cells = {}
    for rec in records:
        cfg = rec["config"]
        if cfg["setting"] == setting and cfg["c_star"] == c and cfg["N"] in Ns:
            cells[(cfg["param"], cfg["N"], rec["seed_index"])] = rec["metrics"][alg]
    params = sorted({k[0] for k in cells})
    seeds = sorted({k[2] for k in cells})
    return np.array([[[cells[(p, N, s)] for s in seeds] for N in Ns] for p in params])


def format_slope(record: dict) -> str:
    """``-0.52 [-0.58, -0.47]`` (slope and its bootstrap interval), ``-0.65 (exact)`` or ``n/a``."""
    if record["slope"] is None:
        return "n/a (zero sub-optimality)"
    if record.get("ci_low") is None:
        return f"{record['slope']:.2f}" + (" (exact)" if record["setting"] == "mab" else "")
    return f"{record['slope']:.2f} [{record['ci_low']:.2f}, {record['ci_high']:.2f}]"


def summarize(records: list[dict], plan: dict) -> dict:
    """Fitted log-log slopes of the worst-case sub-optimality against N, per setting, C* and algorithm, with
    bootstrap confidence intervals over seeds (``ci_low``, ``ci_high``; None for the exact MAB setting)."""
    worst = curves(records)
    slopes, exponential = [], []
    for setting in SETTINGS:
        Ns = plan[setting]["N"]
        for c in plan[setting]["rate_c"]:
            for alg in ALGORITHMS:
                y = [worst[(setting, c, N, alg)][0] for N in Ns]
                slope = loglog_slope(Ns, y) if min(y) > 0 else None
                ci = None
                if setting != "mab" and slope is not None:
                    ci = bootstrap_slope(Ns, _seed_means(records, setting, c, Ns, alg), worst_over_first_axis=True)
                slopes.append({"setting": setting, "algorithm": alg, "c_star": c, "n_min": Ns[0], "n_max": Ns[-1],
                               "slope": slope, "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None})
                if setting == "mab" and min(y) > 0:
                    rate = float(np.polyfit(Ns, np.log(y), 1)[0])  # log y ~ -rate * N: exponential decay
                    exponential.append(
                        {"setting": setting, "algorithm": alg, "c_star": c, "log_slope_per_sample": rate}
                    )
    fitted: dict = {}
    for rec in slopes:
        fitted[f"slope {rec['setting']} C*={rec['c_star']:g} {rec['algorithm']}"] = format_slope(rec)
    fitted["slopes"] = slopes
    fitted["bootstrap"] = {**BOOTSTRAP, "over": "seed indices, resampled with replacement; per resample the cell "
                           "means, the worst instance at each N and the slope are recomputed"}
    fitted["exponential_fits"] = exponential
    fitted["constants"] = {"lcb_constant": CONSTANT, "mdp_penalty_scale": 1.0 - GAMMA, "gamma": GAMMA,
                           "S_cb": S_CB, "S_mdp": S_MDP, "worst_case_over": "instance grid (gaps, or zeta at C*=1)"}
    return fitted


def plot(records: list[dict], fitted: dict, plan: dict) -> dict:
    """Fig. 2 (sub-optimality against C* at fixed N, with the theorems' shapes) and the rate plots."""
    from experiments._lcb_figures import figure2, rate_figure

    worst = curves(records)
    return {"lcb_rates_fig2": figure2(worst, plan), "lcb_rates_vs_N": rate_figure(worst, plan, fitted["slopes"])}


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=5, quick_trials=2)
    plan = QUICK if args.quick else PAPER
    return run_experiment(
        args, cell, configs(args.quick), summarize=partial(summarize, plan=plan), plot=partial(plot, plan=plan)
    )


if __name__ == "__main__":
    exit_process(main())

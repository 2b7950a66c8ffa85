"""Gambler's problem: VI-LCB against plain value iteration, after Li, Shi, Chen, Chi & Wei (2024), Sec. 4, Fig. 2.

The gambler's problem (:func:`theory_rl.generators.gamblers_problem`: capital 0..50, p_head = 0.45, H = 100,
uniform initial distribution) with N samples per (s, a, h) from the generative model; the reward function is
known, as in the paper. VI-LCB is the Bernstein variant of Li et al. (their Alg. 2) with c_b = 0.05 and the value
range 1 in place of H in its penalty (the return is in [0, 1]; with H = 100 the penalty exceeds every value at
these N, and the paper's exact experimental penalty could not be checked here); plain VI is value iteration on the
empirical model. The gap V*(rho) - V^pi_hat(rho) is computed exactly. The paper reports a
log-log slope of -0.502 for VI-LCB over N = floor(e^4), ..., floor(e^10) (10 trials); figures: the per-state gap
at N = 50 and the gap against N.

    python -m experiments.gambler_vi_lcb [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict

import numpy as np

from experiments._cli import BOOTSTRAP, bootstrap_slope, loglog_slope, parse_args, run_experiment

NAME = "gambler_vi_lcb"
C_B = 0.05
VALUE_BOUND = 1.0  # the gambler's whole return is in [0, 1]; the penalty's default range H = 100 would swamp it
PER_STATE_N = 50
PAPER_N = sorted({math.floor(math.exp(x)) for x in np.arange(4.0, 10.01, 0.5)} | {PER_STATE_N})
QUICK_N = [PER_STATE_N, 54, 148, 403]


def configs(quick: bool) -> list[dict]:
    """One configuration per sample size N (samples per (s, a, h))."""
    return [{"N": N} for N in (QUICK_N if quick else PAPER_N)]


def cell(config: dict, seed: int) -> dict:
    """Draw N samples per (s, a, h), run VI-LCB and plain VI, return their exact gaps (per state at N = 50)."""
    from theory_rl import planning
    from theory_rl.algorithms import lcb
    from theory_rl.data import sample_generative
    from theory_rl.generators import gamblers_problem

    mdp = gamblers_problem()
    V_star = planning.solve(mdp).V[0]
    data = sample_generative(mdp, config["N"], seed)
    metrics = {}
    for name, result in (
        ("vi_lcb", lcb.bernstein_vi_lcb(data, c_b=C_B, known_rewards=mdp.R, value_bound=VALUE_BOUND)),
        ("vi", lcb.empirical_vi(data, known_rewards=mdp.R)),
    ):
        gap = V_star - planning.evaluate(mdp, result.policy)[0]
        metrics[f"gap_{name}"] = float(mdp.init @ gap)
        if config["N"] == PER_STATE_N:
            metrics[f"state_gap_{name}"] = [float(g) for g in gap]
    return metrics


def _means(records: list[dict]) -> dict:
    acc = defaultdict(list)
    for rec in records:
        for key, value in rec["metrics"].items():
            acc[(rec["config"]["N"], key)].append(np.asarray(value, dtype=float))
    return {k: np.mean(v, axis=0) for k, v in acc.items()}


def summarize(records: list[dict], Ns: list[int]) -> dict:
    """Mean gaps against N and their log-log slopes (the paper: -0.502 for VI-LCB)."""
    means = _means(records)
    rate_N = [N for N in Ns if N != PER_STATE_N] or Ns
    fitted: dict = {}
    for name in ("vi_lcb", "vi"):
        y = [float(means[(N, f"gap_{name}")]) for N in rate_N]
        fitted[f"slope_{name}"] = loglog_slope(rate_N, y) if min(y) > 0 else "n/a (zero gap)"
        per_seed = defaultdict(dict)
        for rec in records:
            if rec["config"]["N"] in rate_N:
                per_seed[rec["config"]["N"]][rec["seed_index"]] = float(rec["metrics"][f"gap_{name}"])
        seeds = sorted(set.intersection(*(set(per_seed[N]) for N in rate_N)))
        ci = bootstrap_slope(rate_N, [[per_seed[N][s] for s in seeds] for N in rate_N]) if min(y) > 0 else None
        fitted[f"slope_{name} 95% CI"] = f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "n/a"
    fitted["N"] = list(rate_N)
    fitted["gap_vi_lcb"] = [float(means[(N, "gap_vi_lcb")]) for N in rate_N]
    fitted["gap_vi"] = [float(means[(N, "gap_vi")]) for N in rate_N]
    fitted["paper_slope_vi_lcb"] = -0.502
    fitted["bootstrap"] = {**BOOTSTRAP, "over": "seed indices, resampled with replacement"}
    return fitted


def plot(records: list[dict], fitted: dict, Ns: list[int]) -> dict:
    """Per-state gaps at N = 50, and the gap against N on log-log axes."""
    from theory_rl.plotting import new_figure

    means = _means(records)
    fig, (left, right) = new_figure(1, 2, width=11.0, height=4.0)
    for name, label, color in (("vi_lcb", "VI-LCB (Bernstein, c_b = 0.05)", "C0"), ("vi", "plain VI", "C1")):
        if (PER_STATE_N, f"state_gap_{name}") in means:
            left.plot(means[(PER_STATE_N, f"state_gap_{name}")], "o-", ms=3, color=color, label=label)
        slope = fitted[f"slope_{name}"]
        text = f"{slope:.3f}" if isinstance(slope, float) else slope
        right.plot(fitted["N"], fitted[f"gap_{name}"], "o-", color=color, label=f"{label}: slope {text}")
    left.set_xlabel("capital s")
    left.set_ylabel("V*(s) - V^pi_hat(s)")
    left.set_title(f"per-state gap, N = {PER_STATE_N} per (s, a, h)")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("N (samples per (s, a, h))")
    right.set_ylabel("V*(rho) - V^pi_hat(rho)")
    right.set_title("gap against N (paper: slope -0.502 for VI-LCB)")
    for ax in (left, right):
        ax.legend(fontsize=8)
    return {"gambler_vi_lcb": fig}


def main(argv=None) -> int:
    from functools import partial

    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=10, quick_trials=2)
    Ns = QUICK_N if args.quick else PAPER_N
    return run_experiment(args, cell, configs(args.quick), summarize=partial(summarize, Ns=Ns),
                          plot=partial(plot, Ns=Ns))


if __name__ == "__main__":
    sys.exit(main())

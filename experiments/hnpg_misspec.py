"""Sub-optimality against a Bellman-completeness misspecification: NPG vs HAC vs Hy-Q, after Zhou et al. (2023).

The family :func:`theory_rl.generators.completeness.misspecified_linear_mdp` (8 states, 3 actions, d = 3 features,
H = 4; ``P_kappa = (1 - kappa) P_lin + kappa P_rand``, feature concentration 0.05): at ``kappa = 0`` a linear MDP,
complete for the linear class of its features; the summary reports the measured completeness error at each kappa.
Every critic uses that linear class: on-policy NPG (Monte-Carlo regression only), HAC with ``lambda`` in
{0.1, 1, 10} (the actor is HAC's tabular softmax, Alg. 1), Hy-Q (linear FQI on offline + online data), and offline
FQI alone (Hy-Q's first round). Offline data: 200 episodes of the 0.5-greedy optimal policy; 10 on-policy episodes
per iteration, ``T = 100`` iterations, ``eta = 1`` (Theorem 1's step size barely moves the policy in 100
iterations; see experiments.hnpg_comblock). Metric: ``V* - J(pi)`` averaged over the last 10 iterates. The claim:
Hy-Q's error grows with the misspecification while HAC tracks the better of Hy-Q and on-policy NPG.

    python -m experiments.hnpg_misspec [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict

import numpy as np

from experiments._cli import parse_args, run_experiment

NAME = "hnpg_misspec"
KAPPAS = [0.0, 0.125, 0.25, 0.5, 0.75, 1.0]
LAMS = [0.1, 1.0, 10.0]
METHODS = ("npg", "hac_0.1", "hac_1", "hac_10", "hy_q", "fqi_offline")


def configs(quick: bool) -> list[dict]:
    if quick:
        return [{"kappa": k, "T": 30} for k in (0.0, 1.0)]
    return [{"kappa": k, "T": 100} for k in KAPPAS]


def cell(config: dict, seed: int) -> dict:
    """One instance (its kernels from the seed), one offline dataset, every learner; sub-optimality of the tail."""
    from theory_rl import data, planning, policies
    from theory_rl.algorithms import hybrid_pg as hp
    from theory_rl.generators.completeness import misspecified_linear_mdp

    inst_seed, data_seed, run_seed = np.random.SeedSequence(seed).spawn(3)
    inst = misspecified_linear_mdp(config["kappa"], seed=inst_seed, concentration=0.05)
    mdp, phi, T = inst.mdp, inst.phi, config["T"]
    v_star = planning.optimal_return(mdp)
    beh = policies.epsilon_mixture(planning.solve(mdp).policy, 0.5, mdp.S, mdp.A, mdp.horizon)
    off = data.sample_policy_counts(mdp, beh, 200, seed=data_seed)
    tail = max(1, min(10, T // 3))
    out = {"completeness_error": inst.completeness_error}
    out["npg"] = v_star - hp.hac(mdp, None, T, seed=run_seed, eta=1.0, features=phi).values[-tail:].mean()
    for lam in LAMS:
        res = hp.hac(mdp, off, T, seed=run_seed, eta=1.0, lam=lam, features=phi)
        out[f"hac_{lam:g}"] = v_star - res.values[-tail:].mean()
    hyq = hp.hy_q(mdp, off, T, seed=run_seed, features=phi)
    out["hy_q"] = v_star - hyq.values[-tail:].mean()
    out["fqi_offline"] = v_star - hyq.values[0]
    return {k: float(v) for k, v in out.items()}


def summarize(records: list[dict]) -> dict:
    """Mean sub-optimality with 95% CI half-widths per method and kappa."""
    acc: dict = defaultdict(lambda: defaultdict(list))
    for rec in records:
        for k, v in rec["metrics"].items():
            acc[rec["config"]["kappa"]][k].append(v)
    fitted: dict = {"table": []}
    for kappa, m in sorted(acc.items()):
        row = {"kappa": kappa, "completeness_error": float(np.mean(m["completeness_error"]))}
        for name in METHODS:
            a = np.asarray(m[name])
            row[name] = float(a.mean())
            row[f"ci_{name}"] = float(1.96 * a.std(ddof=1) / math.sqrt(a.size)) if a.size > 1 else float("nan")
            fitted[f"kappa={kappa:g}: {name}"] = row[name]
        fitted["table"].append(row)
    first, last = fitted["table"][0], fitted["table"][-1]
    for name in METHODS:
        fitted[f"{name}: increase from kappa={first['kappa']:g} to {last['kappa']:g}"] = last[name] - first[name]
    return fitted


def plot(records: list[dict], fitted: dict) -> dict:
    from theory_rl.plotting import new_figure

    rows = fitted["table"]
    x = [r["kappa"] for r in rows]
    fig, ax = new_figure(1, 1, width=6.5, height=4.2)
    for name in METHODS:
        y = np.asarray([r[name] for r in rows])
        ci = np.asarray([r[f"ci_{name}"] for r in rows])
        ax.plot(x, y, marker="o", label=name, ls=":" if name == "fqi_offline" else "-")
        if np.all(np.isfinite(ci)):
            ax.fill_between(x, y - ci, y + ci, alpha=0.1)
    ax.set_xlabel("kappa (misspecification)")
    ax.set_ylabel("V* - J(pi), last iterates")
    errs = ", ".join(f"{r['completeness_error']:.2f}" for r in rows)
    ax.set_title(f"linear class; completeness error {errs}", fontsize=8)
    ax.legend(fontsize=8)
    return {NAME: fig}


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=10, quick_trials=2)
    return run_experiment(args, cell, configs(args.quick), summarize=summarize, plot=plot)


if __name__ == "__main__":
    sys.exit(main())

"""Sub-optimality against a Bellman-completeness misspecification: NPG vs HAC/HNPG vs Hy-Q, after Zhou et al. (2023).

The family :func:`theory_rl.generators.completeness.misspecified_linear_mdp` (8 states, 3 actions, d = 3 features,
H = 4; ``P_kappa = (1 - kappa) P_lin + kappa P_rand``, feature concentration 0.05): at ``kappa = 0`` a linear MDP,
complete for the linear class of its features; the summary reports the measured completeness error at each kappa.
Tabular-softmax actor (HAC, Alg. 1), every critic in that linear class: on-policy NPG (Monte-Carlo regression
only), HAC with ``lambda`` in {0.1, 1, 10}, Hy-Q (linear FQI on offline + online data), offline FQI alone (Hy-Q's
first round). Log-linear actor ``pi ∝ exp(theta_h . phi)`` (HNPG, Alg. 3, the compatible-feature NPG step):
``npg_ll`` (on-policy, linear critic), ``hnpg_ll`` (``lambda = 1``, linear critic; equal to ``hac_1`` up to the
policy at unvisited states, because a critic in the actor's span makes the compatible fit exact), ``hnpg_ll_tab``
(``lambda = 1``, tabular critic: realisable, so only the actor is misspecified), and ``ll_exact``: 300 exact NPG
steps of the log-linear class with exact ``Q^pi`` and ``d^pi`` (what the actor class reaches with a perfect critic;
a stationary point, not a certified optimum). Offline data: 200 episodes of the 0.5-greedy optimal policy; 10
on-policy episodes per iteration, ``T = 100`` iterations, ``eta = 1`` (Theorem 1's step size barely moves the policy
in 100 iterations; see experiments.hnpg_comblock). Metric: ``V* - J(pi)`` averaged over the last 10 iterates; the
summary adds paired (same seed) differences with 95% CIs. The claim: Hy-Q's error grows with the
misspecification while HNPG tracks the better of Hy-Q and on-policy NPG.

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
METHODS = ("npg", "hac_0.1", "hac_1", "hac_10", "hy_q", "fqi_offline", "npg_ll", "hnpg_ll", "hnpg_ll_tab",
           "ll_exact")
PAIRS = (("hnpg_ll", "hy_q"), ("hnpg_ll", "npg_ll"), ("hnpg_ll_tab", "hy_q"), ("hnpg_ll_tab", "ll_exact"))


def loglinear_exact(mdp, phi, iters: int, eta: float) -> float:
    """Exact log-linear NPG: ``iters`` steps with exact ``Q^pi`` and on-policy weights ``d^pi``; the final return."""
    from theory_rl import planning
    from theory_rl.algorithms import hybrid_pg as hp

    theta = np.zeros((mdp.horizon, phi.shape[2]))
    for _ in range(iters):
        pi = hp.loglinear_policy(theta, phi)
        d = planning.occupancy(mdp, pi)
        theta = theta + eta * hp.hnpg_direction(pi, planning.q_values(mdp, pi), phi, None, d)
    return planning.expected_return(mdp, hp.loglinear_policy(theta, phi))


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
    res = hp.hnpg(mdp, None, T, features=phi, critic_features=phi, seed=run_seed, eta=1.0)
    out["npg_ll"] = v_star - res.values[-tail:].mean()
    res = hp.hnpg(mdp, off, T, features=phi, critic_features=phi, seed=run_seed, eta=1.0)
    out["hnpg_ll"] = v_star - res.values[-tail:].mean()
    res = hp.hnpg(mdp, off, T, features=phi, seed=run_seed, eta=1.0)
    out["hnpg_ll_tab"] = v_star - res.values[-tail:].mean()
    out["ll_exact"] = v_star - loglinear_exact(mdp, phi, 3 * T, 1.0)
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
    for rec in records:
        for a, b in PAIRS:
            acc[rec["config"]["kappa"]][f"{a} - {b}"].append(rec["metrics"][a] - rec["metrics"][b])
    for row in fitted["table"]:
        for a, b in PAIRS:
            diff = np.asarray(acc[row["kappa"]][f"{a} - {b}"])
            ci = 1.96 * diff.std(ddof=1) / math.sqrt(diff.size) if diff.size > 1 else float("nan")
            row[f"{a} - {b}"], row[f"ci_{a} - {b}"] = float(diff.mean()), float(ci)
            fitted[f"kappa={row['kappa']:g}: {a} - {b} (paired)"] = f"{diff.mean():+.4f} +- {ci:.4f}"
    first, last = fitted["table"][0], fitted["table"][-1]
    for name in METHODS:
        fitted[f"{name}: increase from kappa={first['kappa']:g} to {last['kappa']:g}"] = last[name] - first[name]
    return fitted


def plot(records: list[dict], fitted: dict) -> dict:
    from theory_rl.plotting import new_figure

    rows = fitted["table"]
    x = [r["kappa"] for r in rows]
    fig, axes = new_figure(1, 2, width=11.0, height=4.2)
    panels = (("tabular-softmax actor (HAC)", ("npg", "hac_0.1", "hac_1", "hac_10", "hy_q", "fqi_offline")),
              ("log-linear actor (HNPG, Alg. 3)", ("npg_ll", "hnpg_ll", "hnpg_ll_tab", "ll_exact", "hy_q")))
    errs = ", ".join(f"{r['completeness_error']:.2f}" for r in rows)
    for ax, (title, names) in zip(np.ravel(axes), panels, strict=True):
        for name in names:
            y = np.asarray([r[name] for r in rows])
            ci = np.asarray([r[f"ci_{name}"] for r in rows])
            ax.plot(x, y, marker="o", label=name, ls=":" if name in ("fqi_offline", "ll_exact") else "-")
            if np.all(np.isfinite(ci)):
                ax.fill_between(x, y - ci, y + ci, alpha=0.1)
        ax.set_xlabel("kappa (misspecification)")
        ax.set_ylabel("V* - J(pi), last iterates")
        ax.set_title(f"{title}; completeness error {errs}", fontsize=8)
        ax.legend(fontsize=8)
    return {NAME: fig}


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=10, quick_trials=2)
    return run_experiment(args, cell, configs(args.quick), summarize=summarize, plot=plot)


if __name__ == "__main__":
    sys.exit(main())

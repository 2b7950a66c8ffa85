"""Episodes to success on the combination lock with a distractor: NPG vs HNPG (HAC) vs Hy-Q, after Zhou et al. 2023.

The lock (:func:`theory_rl.generators.combination_lock` with ``anti_reward = 0.05``, the mean of the paper's "0.1
with probability 0.5" for falling off the chain), ``A = 4`` actions, horizon ``H``. Offline data: 200 episodes of
epsilon-greedy ``pi*`` with ``epsilon = 1/H`` (the paper's behaviour). Methods
(:mod:`theory_rl.algorithms.hybrid_pg`): on-policy softmax NPG with Monte-Carlo Q, HAC / HNPG (``lambda = 1``, the
code's plain sum of the two losses), and Hy-Q with the tabular class; ``m = 10`` on-policy episodes per iteration,
at most ``T`` iterations. Two step sizes: Theorem 1's ``eta = sqrt(log A / T) / H`` ("theory") and ``eta = 1``.
Metric: the online episodes before the iterate's exact return first reaches 0.9 (censored at ``m T``). The claim:
NPG needs about ``A^H`` episodes (the distractor even pulls it toward failing), HNPG polynomially many in ``H``.

    python -m experiments.hnpg_comblock [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict

import numpy as np

from experiments._cli import loglog_slope, parse_args, run_experiment

NAME = "hnpg_comblock"
A = 4
M = 10
N_OFF = 200
ANTI = 0.05
HS = [2, 3, 4, 5, 6, 8, 10, 15]
QUICK_HS = [2, 3, 4]
METHODS = ("npg", "hnpg", "hy_q")


def configs(quick: bool) -> list[dict]:
    """Horizon x step size; the iteration budget T is part of the configuration."""
    if quick:
        return [{"H": H, "eta": "1", "T": 60} for H in QUICK_HS]
    return [{"H": H, "eta": eta, "T": 300} for eta in ("theory", "1") for H in HS]


def cell(config: dict, seed: int) -> dict:
    """One lock (its code from the seed), one offline dataset, the three learners."""
    from theory_rl import data, planning, policies
    from theory_rl.algorithms import hybrid_pg as hp
    from theory_rl.generators import combination_lock

    lock_seed, data_seed, run_seed = np.random.SeedSequence(seed).spawn(3)
    H, T = config["H"], config["T"]
    mdp = combination_lock(H, A, seed=lock_seed, anti_reward=ANTI)
    beh = policies.epsilon_mixture(planning.solve(mdp).policy, 1.0 / H, mdp.S, mdp.A, H)
    off = data.sample_policy_counts(mdp, beh, N_OFF, seed=data_seed)
    eta = None if config["eta"] == "theory" else float(config["eta"])
    runs = {
        "npg": hp.hac(mdp, None, T, seed=run_seed, m=M, eta=eta),
        "hnpg": hp.hac(mdp, off, T, seed=run_seed, m=M, eta=eta),
        "hy_q": hp.hy_q(mdp, off, min(T, 20), seed=run_seed, m=M),  # it converges within a few rounds
    }
    out = {}
    for name, res in runs.items():
        out[f"episodes_{name}"] = float(res.episodes_to_success)  # -1: never within the budget
        out[f"final_{name}"] = float(res.values[-1])
    out["budget"] = float(M * T)
    return out


def summarize(records: list[dict]) -> dict:
    """Median episodes to success (inf where more than half failed), success rates, HNPG's log-log slope in H."""
    acc: dict = defaultdict(lambda: defaultdict(list))
    for rec in records:
        key = (rec["config"]["eta"], rec["config"]["H"])
        for k, v in rec["metrics"].items():
            acc[key][k].append(float(v))
    fitted: dict = {"table": []}
    for (eta, H), m in sorted(acc.items()):
        row = {"eta": eta, "H": H, "budget": m["budget"][0]}
        for name in METHODS:
            eps = np.asarray(m[f"episodes_{name}"])
            eps = np.where(eps < 0, np.inf, eps)
            med = float(np.median(eps))
            row[f"median_{name}"] = med if math.isfinite(med) else None  # None: more than half censored
            row[f"success_{name}"] = float(np.mean(np.isfinite(eps)))
            row[f"final_{name}"] = float(np.mean(m[f"final_{name}"]))
        fitted["table"].append(row)
        for name in METHODS:
            med = row[f"median_{name}"]
            fitted[f"eta={eta} H={H}: {name} episodes (median)"] = "> budget" if med is None else med
    for eta in sorted({r["eta"] for r in fitted["table"]}):
        rows = [r for r in fitted["table"] if r["eta"] == eta and r["median_hnpg"]]  # solved, > 0 episodes
        if len(rows) >= 2:
            fitted[f"eta={eta}: hnpg log-log slope in H"] = loglog_slope([r["H"] for r in rows],
                                                                         [r["median_hnpg"] for r in rows])
        solved = [r["H"] for r in fitted["table"] if r["eta"] == eta and r["median_npg"] is not None]
        fitted[f"eta={eta}: largest H NPG solves (median)"] = max(solved) if solved else 0
    return fitted


def plot(records: list[dict], fitted: dict) -> dict:
    """Median episodes to success against H (log scale), censored runs drawn at the budget."""
    from theory_rl.plotting import new_figure

    etas = sorted({r["eta"] for r in fitted["table"]})
    fig, axes = new_figure(1, len(etas), width=5.5 * len(etas), height=4.0)
    axes = np.atleast_1d(axes).ravel()
    for ax, eta in zip(axes, etas, strict=True):
        rows = [r for r in fitted["table"] if r["eta"] == eta]
        Hs = [r["H"] for r in rows]
        budget = rows[0]["budget"]
        for name, color in zip(METHODS, ("tab:orange", "tab:red", "tab:blue"), strict=True):
            y = [(budget if r[f"median_{name}"] is None else r[f"median_{name}"]) + 1 for r in rows]  # +1: log axis
            ax.plot(Hs, y, "o-", color=color, label=name)
        ax.plot(Hs, [min(A**H, 10 * budget) for H in Hs], "k:", label="A^H")
        ax.axhline(budget + 1, color="gray", lw=0.8, ls="--", label="budget (censored)")
        ax.set_yscale("log")
        ax.set_xlabel("horizon H")
        ax.set_ylabel("online episodes to J >= 0.9 (+1)")
        ax.set_title(f"eta = {'sqrt(log A / T) / H' if eta == 'theory' else eta}")
        ax.legend(fontsize=8)
    return {NAME: fig}


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=5, quick_trials=2)
    return run_experiment(args, cell, configs(args.quick), summarize=summarize, plot=plot)


if __name__ == "__main__":
    sys.exit(main())

"""Uni-O4's offline improvement, exactly: one-step (BPPO) vs multi-step vs OPE-gated multi-step against coverage.

Lei et al. (ICLR 2024, arXiv 2311.03351) take repeated PPO-clip steps on dataset states and replace the reference
policy only when an off-policy evaluation (OPE) improves; BPPO keeps the behaviour as the reference (one step).
Tabular analogue (digest WP-C, C2), every reported return exact in the TRUE MDP:

- instance: a Garnet MDP (S = 10, A = 5, branching 3, gamma = 0.9), Bernoulli rewards; behaviour = a mixture of
  three random deterministic policies (the multi-behaviour setting that motivates the paper's BC ensemble) with
  weight ``1 - w`` and the uniform policy with weight ``w``; generative data, ``n`` samples per state split by the
  behaviour (unbiased rounding). Coverage knobs: ``w`` (support of the behaviour: at ``w = 0`` about two of five
  actions per state are in the data) and ``n`` (samples per state);
- offline: the count MLE ``pi_hat_b``, the empirical model ``P_hat`` (unseen pairs: uniform next state, reward
  0), the behaviour critic ``Q_hat^{pi_b}`` fitted once (as in the code), the clip 0.25 [V: code], 10 steps;
  :func:`~theory_rl.algorithms.o2o.multi_step_improvement` with ``one_step``, ``multi_step`` (no gate) and
  ``multi_step_gate`` (Uni-O4: OPE = exact evaluation in ``P_hat``, the learned-dynamics OPE of the paper);
- metrics: the true return ``J`` of each variant's policy, its gap to one-step, the OPE's overestimation
  ``J_hat - J`` and the number of accepted steps.

    python -m experiments.uni_o4 [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import sys

import numpy as np

from experiments._cli import parse_args, run_experiment
from experiments._o2o_common import group, mean_ci

NAME = "uni_o4"
VARIANTS = ("one_step", "multi_step", "multi_step_gate")
S, A, GAMMA, N_BEHAVIOURS, N_STEPS, EPS = 10, 5, 0.9, 3, 10, 0.25
PAPER = {"w": [0.0, 0.2, 1.0], "n": [10, 50, 250]}
QUICK = {"w": [0.0, 1.0], "n": [50]}


def configs(quick: bool) -> list[dict]:
    """Uniform weight x samples per state."""
    plan = QUICK if quick else PAPER
    return [{"w": w, "n": n} for w in plan["w"] for n in plan["n"]]


def cell(config: dict, seed: int) -> dict:
    """One instance and dataset; the true return of every variant."""
    from theory_rl import data, generators, planning
    from theory_rl.algorithms.o2o import behaviour_policy, multi_step_improvement

    rng = np.random.default_rng(seed)
    mdp = generators.garnet(S, A, 3, gamma=GAMMA, seed=int(rng.integers(2**62)))
    dets = np.eye(A)[rng.integers(A, size=(N_BEHAVIOURS, S))].mean(axis=0)  # mixture of deterministic policies
    pi_beh = (1 - config["w"]) * dets + config["w"] / A
    n_per_pair = np.floor(config["n"] * pi_beh + rng.random((S, A))).astype(np.int64)  # unbiased rounding
    D = data.sample_generative(mdp, n_per_pair, int(rng.integers(2**62)))
    pi_b = behaviour_policy(D)
    model = D.empirical_mdp(mdp.init)
    out = {"J_star": planning.optimal_return(mdp), "J_behaviour": planning.expected_return(mdp, pi_b),
           "support": float((pi_b > 0).sum(axis=1).mean())}
    for v in VARIANTS:
        res = multi_step_improvement(model, pi_b, variant=v, n_steps=N_STEPS, eps=EPS)
        J = planning.expected_return(mdp, res.policy)
        out[v] = J
        out[f"{v}_ope_error"] = float(res.estimated_returns[-1]) - J
        out[f"{v}_accepted"] = float(res.accepted.sum())
    for v in VARIANTS[1:]:
        out[f"{v}_minus_one_step"] = out[v] - out["one_step"]
    out["gate_minus_ungated"] = out["multi_step_gate"] - out["multi_step"]
    return out


def summarize(records: list[dict]) -> dict:
    """Mean and 95% CI (normal, over seeds) of each variant's return and of the gaps, per (w, n)."""
    out: dict = {}
    table = []
    metrics = ("J_behaviour", *VARIANTS, "multi_step_minus_one_step", "multi_step_gate_minus_one_step",
               "gate_minus_ungated", "multi_step_ope_error", "multi_step_gate_ope_error", "multi_step_gate_accepted",
               "support")  # fmt: skip
    for metric in metrics:
        for (w, n), vals in group(records, ("w", "n"), metric).items():
            m, h = mean_ci(vals)
            if metric.endswith("_minus_one_step") or metric == "gate_minus_ungated":
                out[f"{metric} w={w} n={n}"] = f"{m:+.4f} +- {h:.4f}"
            table.append({"metric": metric, "w": w, "n": n, "mean": m, "ci95": h, "n_seeds": len(vals)})
    out["panel"] = table
    out["constants"] = {"S": S, "A": A, "gamma": GAMMA, "n_behaviours": N_BEHAVIOURS, "n_steps": N_STEPS, "eps": EPS}
    return out


def plot(records: list[dict], fitted: dict) -> dict:
    """Gap to one-step against samples per state, one panel per uniform weight."""
    from theory_rl.plotting import new_figure

    ws = sorted({r["config"]["w"] for r in records})
    fig, axes = new_figure(1, len(ws), width=4.0 * len(ws), height=3.6)
    axes = np.atleast_1d(axes)
    for ax, w in zip(axes, ws, strict=True):
        for i, name in enumerate(("multi_step_minus_one_step", "multi_step_gate_minus_one_step")):
            g = {k[1]: mean_ci(v) for k, v in group(records, ("w", "n"), name).items() if k[0] == w}
            x = np.array(sorted(g), dtype=float)
            ax.errorbar(x, [g[k][0] for k in sorted(g)], yerr=[g[k][1] for k in sorted(g)], marker="os"[i],
                        capsize=3, label=name.replace("_minus_one_step", ""))  # fmt: skip
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set(xscale="log", xlabel="samples per state n", ylabel="J - J(one-step)", title=f"Uni-O4, uniform w={w}")
        ax.legend(fontsize="small")
    return {NAME: fig}


def main(argv=None) -> int:
    """Command line entry point; returns the exit status."""
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=40, quick_trials=5)
    return run_experiment(args, cell, configs(args.quick), summarize=summarize, plot=plot)


if __name__ == "__main__":
    sys.exit(main())

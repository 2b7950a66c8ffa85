"""FamO2O's state-adaptive balance, exactly: state-adaptive vs the best single balance vs FamO2O's greedy rule.

Wang et al. (NeurIPS 2023, arXiv 2310.17966) train a policy family ``pi(a | s, beta)`` over the AWR balance
``beta`` and a balance model ``beta(s)`` that maximises the critic. Tabular analogue (digest WP-C, C3), all
returns exact:

- instance: a Garnet MDP (S = 10, A = 4, branching 3, gamma = 0.9) with Gaussian rewards (std ``sigma``);
  behaviour ``0.3 pi* + 0.7 uniform``; generative data with ``n_rich`` samples per state at even states and
  ``n_poor`` at odd states (split by the behaviour): ``n_poor / n_rich`` is the coverage-heterogeneity knob;
- family: :func:`~theory_rl.algorithms.o2o.awr_family` on the count-MLE behaviour with the in-sample advantage
  ``A_hat = Q_hat^{pi_b} - V_hat^{pi_b}`` (policy evaluation of the behaviour in the empirical model: IQL's
  in-sample critic with expectile 1/2), on FamO2O's IQL grid ``beta in {1, ..., 5}`` [V: code] and on a wide grid
  ``{0, 0.5, 1, 2, 5, 10, 20, 50}`` (the tabular advantages are not on D4RL's reward scale);
- methods: ``fixed_best`` (the best single beta by TRUE return: an oracle of the fixed class), ``adaptive``
  (:func:`~theory_rl.algorithms.o2o.state_adaptive_balance`, exact planning over the balance choice: an oracle
  too), and FamO2O's greedy rule :func:`~theory_rl.algorithms.o2o.greedy_balance` on three critics:
  ``greedy_insample`` (the same non-pessimistic critic: always the largest beta), ``greedy_empirical`` (Q* of the
  empirical model, non-pessimistic) and ``greedy_lcb`` (the in-sample critic minus Hoeffding's width
  ``vmax sqrt(log(2 S A / delta) / (2 N))``, delta = 0.1).

    python -m experiments.famo2o_balance [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import sys

import numpy as np

from experiments._cli import parse_args, run_experiment
from experiments._o2o_common import group, mean_ci

NAME = "famo2o_balance"
GRIDS = {"paper": (1.0, 2.0, 3.0, 4.0, 5.0), "wide": (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)}
METHODS = ("fixed_best", "adaptive", "greedy_insample", "greedy_empirical", "greedy_lcb")
S, A, GAMMA, N_RICH, SIGMA, DELTA = 10, 4, 0.9, 400, 1.0, 0.1
PAPER = {"n_poor": [400, 100, 40, 10, 4]}
QUICK = {"n_poor": [400, 4]}


def configs(quick: bool) -> list[dict]:
    """Grid x heterogeneity."""
    plan = QUICK if quick else PAPER
    return [{"grid": g, "n_poor": n} for g in GRIDS for n in plan["n_poor"]]


def cell(config: dict, seed: int) -> dict:
    """One instance and dataset; the exact return of every method."""
    from theory_rl import data, generators, planning
    from theory_rl.algorithms import lcb
    from theory_rl.algorithms.o2o import (
        awr_family,
        balance_policy,
        behaviour_policy,
        fixed_balance_returns,
        greedy_balance,
        state_adaptive_balance,
    )
    from theory_rl.penalties import hoeffding

    rng = np.random.default_rng(seed)
    mdp = generators.garnet(S, A, 3, gamma=GAMMA, seed=int(rng.integers(2**62)))
    mdp = mdp.replace(reward_noise="gaussian", reward_std=SIGMA)
    pi_beh = 0.3 * np.eye(A)[planning.solve(mdp).policy] + 0.7 / A
    per_state = np.where(np.arange(S) % 2 == 0, N_RICH, config["n_poor"])
    n_per_pair = np.floor(per_state[:, None] * pi_beh + rng.random((S, A))).astype(np.int64)  # unbiased rounding
    D = data.sample_generative(mdp, n_per_pair, int(rng.integers(2**62)))
    pi_b = behaviour_policy(D)
    model = D.empirical_model()
    # in-sample critic: Q^{pi_b} of the empirical model (a linear solve; Gaussian r_hat may leave [0, 1])
    P_pi = np.einsum("sa,sat->st", pi_b, model.P)
    V_b = np.linalg.solve(np.eye(S) - GAMMA * P_pi, (pi_b * model.R).sum(axis=1))
    Q_b = model.R + GAMMA * model.P @ V_b
    fam = awr_family(pi_b, Q_b - V_b[:, None], GRIDS[config["grid"]])
    fixed = fixed_balance_returns(mdp, fam)
    adaptive = state_adaptive_balance(mdp, fam)
    width = hoeffding(np.asarray(D.counts), np.log(2 * S * A / DELTA) / 2, value_range=1 / (1 - GAMMA))
    critics = {"greedy_insample": Q_b, "greedy_empirical": lcb.empirical_vi(D).Q, "greedy_lcb": Q_b - width}
    out = {"J_star": planning.optimal_return(mdp), "J_behaviour": planning.expected_return(mdp, pi_b),
           "fixed_best": float(fixed.max()), "best_beta": float(GRIDS[config["grid"]][int(fixed.argmax())]),
           "adaptive": adaptive.J, "distinct_betas": float(np.unique(adaptive.policy).size)}
    for name, Q in critics.items():
        k = greedy_balance(fam, Q)
        out[name] = planning.expected_return(mdp, balance_policy(mdp, fam, k))
        out[f"{name}_mean_beta"] = float(np.mean(np.asarray(GRIDS[config["grid"]])[k]))
    out["adaptive_minus_fixed"] = out["adaptive"] - out["fixed_best"]
    for name in critics:
        out[f"{name}_minus_fixed"] = out[name] - out["fixed_best"]
    return out


def summarize(records: list[dict]) -> dict:
    """Mean and 95% CI of each method's return and of its gap to the best single balance."""
    out: dict = {}
    viol = sum(r["metrics"]["adaptive_minus_fixed"] < -1e-9 for r in records)
    out["runs where adaptive < best fixed (must be 0)"] = float(viol)
    table = []
    for metric in ("adaptive_minus_fixed", "greedy_insample_minus_fixed", "greedy_empirical_minus_fixed",
                   "greedy_lcb_minus_fixed"):
        for (grid, n_poor), vals in group(records, ("grid", "n_poor"), metric).items():
            m, h = mean_ci(vals)
            out[f"{metric} {grid} n_poor={n_poor}"] = f"{m:+.3f} +- {h:.3f}"
            table.append({"metric": metric, "grid": grid, "n_poor": n_poor, "mean": m, "ci95": h, "n": len(vals)})
    out["gaps"] = table
    out["constants"] = {"S": S, "A": A, "gamma": GAMMA, "n_rich": N_RICH, "sigma": SIGMA, "delta": DELTA,
                        "grids": {k: list(v) for k, v in GRIDS.items()}}
    return out


def plot(records: list[dict], fitted: dict) -> dict:
    """Return minus the best single balance against n_poor / n_rich, per grid."""
    from theory_rl.plotting import new_figure

    fig, axes = new_figure(1, 2, width=11.0, height=4.0)
    for ax, grid in zip(axes, GRIDS, strict=True):
        for i, name in enumerate(("adaptive", "greedy_insample", "greedy_empirical", "greedy_lcb")):
            g = {k[1]: mean_ci(v) for k, v in group(records, ("grid", "n_poor"), f"{name}_minus_fixed").items()
                 if k[0] == grid}
            x = np.array(sorted(g), dtype=float)
            m = np.array([g[k][0] for k in sorted(g)])
            h = np.array([g[k][1] for k in sorted(g)])
            ax.errorbar(x / N_RICH, m, yerr=h, marker="os^v"[i], capsize=3, label=name)
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set(xscale="log", xlabel="n_poor / n_rich (coverage heterogeneity ->)",
               ylabel="J - J(best single beta)", title=f"FamO2O balance, {grid} grid")
        ax.legend(fontsize="small")
    return {NAME: fig}


def main(argv=None) -> int:
    """Command line entry point; returns the exit status."""
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=50, quick_trials=5)
    return run_experiment(args, cell, configs(args.quick), summarize=summarize, plot=plot)


if __name__ == "__main__":
    sys.exit(main())

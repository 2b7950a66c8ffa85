"""Offline-to-online fine-tuning on one harness: dip, regret and steps to threshold against the offline fraction,
the warm-up length, the target-update rate and the method.

Digest WP-C (WSRL, Zhou et al. ICLR 2025; RLPD-style retention; conservative fine-tuning), tabular analogue, all
returns exact (:func:`theory_rl.algorithms.o2o.finetune`):

- instance: a 5x5 slippery gridworld (slip 0.1, gamma 0.9, goal reward 1 per step, start at a corner);
- offline data: 10 episodes of 20 steps of the behaviour ``0.4 pi* + 0.6 uniform``; offline phase VI-LCB
  (Rashidinejad et al. 2021, Alg. 3 without splitting, the paper's constants);
- online phase: 2000 steps in episodes of 20, tabular Q-learning on the buffer's expected update, UTD 4,
  Polyak rate 5e-3 (WSRL's defaults [V: code]), epsilon-greedy 0.1, step size 0.5;
- methods: ``no_retain`` (offline fraction 0, no warm-up), ``retain`` (offline fraction 0.5, RLPD-style),
  ``wsrl`` (fraction 0, warm-up 200 steps of the frozen offline policy), ``pessimistic`` (the conservative
  learner kept online, fraction 0.5), ``optimistic`` (VI-LCB then optimistic Q-learning: the pessimism-to-optimism
  switch), ``scratch`` (no offline phase, optimistic Q-learning), ``exact_fqi`` (fraction 0, ``tau = lr = 1``:
  every update an exact fitted-Q step), ``ro2o`` (RO2O's uncertainty half: the bootstrap-ensemble LCB, 10 members,
  mean - 4 std, offline and re-planned online on all the data) and ``ro2o_switch`` (the same offline, then greedy
  Q-learning);
- sweeps (from ``no_retain``): offline fraction, warm-up length, Polyak rate ``tau``.

Each knob set is one cell configuration (a method that is also a sweep point is run once). Metrics: the dip
``max(0, J(pi_off) - min_t J(pi_t))`` over all rounds and over the first 10 rounds (200 steps), cumulative regret
of the behaviour, steps until ``J(pi_t) >= 0.9 J*`` first and for good (``inf`` when never), the final ``J``, and
the peak TD error on the offline distribution relative to its value after the offline phase.

    python -m experiments.o2o_finetuning [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import math
import sys

import numpy as np

from experiments._cli import parse_args, run_experiment
from experiments._o2o_common import group, mean_ci

NAME = "o2o_finetuning"
METHODS = {
    "no_retain": {},
    "retain": {"offline_fraction": 0.5},
    "wsrl": {"warmup_steps": 200},
    "pessimistic": {"online": "pessimistic", "offline_fraction": 0.5},
    "optimistic": {"online": "optimistic", "bonus_scale": 0.1},
    "scratch": {"offline": "none", "online": "optimistic", "bonus_scale": 0.1},
    "exact_fqi": {"tau": 1.0, "lr": 1.0},
    "ro2o": {"offline": "ensemble_lcb", "online": "ensemble_lcb"},
    "ro2o_switch": {"offline": "ensemble_lcb"},
}
PAPER = {"online_steps": 2000, "fractions": [0.0, 0.1, 0.25, 0.5, 0.75, 1.0], "warmups": [0, 100, 200, 500, 1000],
         "taus": [0.005, 0.05, 0.5, 1.0]}
QUICK = {"online_steps": 400, "fractions": [0.0, 0.5], "warmups": [0, 200], "taus": [0.005, 1.0]}
EARLY_ROUNDS = 10


KNOBS = ("offline", "online", "offline_fraction", "warmup_steps", "tau", "lr", "bonus_scale")
BASE = {"offline": "vi_lcb", "online": "q_learning", "offline_fraction": 0.0, "warmup_steps": 0, "tau": 5e-3,
        "lr": 0.5, "bonus_scale": 1.0}
SWEEPS = {"fraction": "offline_fraction", "warmup": "warmup_steps", "tau": "tau"}


def _knobs(**changes) -> dict:
    return {**BASE, **changes}


def configs(quick: bool) -> list[dict]:
    """Every knob set once: the methods and the three one-knob sweeps from ``no_retain`` (shared cells)."""
    plan = QUICK if quick else PAPER
    sets = [_knobs(**kw) for kw in METHODS.values()]
    sets += [_knobs(offline_fraction=f) for f in plan["fractions"]]
    sets += [_knobs(warmup_steps=w) for w in plan["warmups"]]
    sets += [_knobs(tau=t) for t in plan["taus"]]
    out: list[dict] = []
    for k in sets:
        if k not in out:
            out.append(k)
    return [{**k, "T": plan["online_steps"]} for k in out]


def _instance():
    from theory_rl import generators, planning

    mdp = generators.gridworld(5, 5, slip=0.1, gamma=0.9)
    behaviour = 0.4 * np.eye(mdp.A)[planning.solve(mdp).policy] + 0.6 / mdp.A
    return mdp, behaviour


def cell(config: dict, seed: int) -> dict:
    """Offline data, offline phase, warm-up and online phase; exact metrics."""
    from theory_rl import data
    from theory_rl.algorithms.o2o import finetune, initial_dip

    mdp, behaviour = _instance()
    data_seed, run_seed = np.random.SeedSequence(seed).spawn(2)
    builder = data.CountsBuilder(mdp.S, mdp.A, gamma=mdp.gamma)
    builder.add_rollouts(data.sample_rollouts(mdp, behaviour, 10, data_seed, n_steps=20))
    kwargs = {k: config[k] for k in KNOBS}
    res = finetune(mdp, builder.to_counts(), seed=run_seed, online_steps=config["T"], n_steps=20, **kwargs)
    td0 = max(float(res.td_offline[0]), 1e-12)
    below = np.flatnonzero(res.J_eval < 0.9 * res.J_star)
    settle = 0.0 if below.size == 0 else (float(res.steps[below[-1] + 1]) if below[-1] + 1 < res.steps.size
                                          else float("inf"))
    return {
        "J_offline": res.J_offline, "J_star": res.J_star, "dip": res.dip,
        "dip_early": initial_dip(res.J_offline, res.J_eval[1:], window=EARLY_ROUNDS),
        "regret": float(res.regret[-1]), "threshold_step": res.threshold_step, "settle_step": settle,
        "J_final": float(res.J_eval[-1]), "td_peak_ratio": float(res.td_offline.max() / td0),
        "J_eval": [float(x) for x in res.J_eval], "steps": [float(x) for x in res.steps],
    }


def _labels(config: dict) -> list[str]:
    """Every label a knob set carries: the methods it is, and the sweep points it is."""
    knobs = {k: config[k] for k in KNOBS}
    out = [m for m, kw in METHODS.items() if _knobs(**kw) == knobs]
    for name in SWEEPS.values():
        if all(knobs[k] == BASE[k] for k in KNOBS if k != name):
            out.append(f"{name}={knobs[name]:g}")
    return out


def _by_label(records: list[dict], metric: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for rec in records:
        for label in _labels(rec["config"]):
            out.setdefault(label, []).append(float(rec["metrics"][metric]))
    return out


def summarize(records: list[dict]) -> dict:
    """Per method and sweep point: dip, early dip, regret, final J (mean +- 95% CI), steps to 0.9 J* (first time,
    and for good: medians, and the number of runs that never got there)."""
    out: dict = {}
    rows = []
    metrics = {m: _by_label(records, m) for m in ("dip", "dip_early", "regret", "J_final", "threshold_step",
                                                  "settle_step", "td_peak_ratio")}
    for key in metrics["dip"]:
        row = {"key": key, "n": len(metrics["dip"][key])}
        for m in ("dip", "dip_early", "regret", "J_final", "td_peak_ratio"):
            row[m], row[f"{m}_ci95"] = mean_ci(metrics[m][key])
        for m in ("threshold_step", "settle_step"):
            x = np.array(metrics[m][key])
            row[f"{m}_median"], row[f"{m}_never"] = float(np.median(x)), int(np.isinf(x).sum())
        rows.append(row)
        out[f"{key}: dip / early dip / regret"] = (f"{row['dip']:.2f}+-{row['dip_ci95']:.2f} / "
                                                   f"{row['dip_early']:.2f}+-{row['dip_early_ci95']:.2f} / "
                                                   f"{row['regret']:.0f}+-{row['regret_ci95']:.0f}")
        out[f"{key}: steps to 0.9 J* first / for good (median; never)"] = (
            f"{row['threshold_step_median']:g} / {row['settle_step_median']:g}; {row['settle_step_never']}")
    out["table"] = rows
    J_off = [r["metrics"]["J_offline"] for r in records]
    out["J_offline mean"] = float(np.mean(J_off))
    out["J_star"] = float(records[0]["metrics"]["J_star"]) if records else math.nan
    return out


def plot(records: list[dict], fitted: dict) -> dict:
    """J of the evaluation policy against steps per method; dip and regret against each knob."""
    from theory_rl.plotting import new_figure

    fig, axes = new_figure(2, 2, width=11.0, height=8.0)
    ax = axes[0][0]
    for i, m in enumerate(METHODS):
        runs = [r["metrics"] for r in records if m in _labels(r["config"])]
        if not runs:
            continue
        J = np.array([r["J_eval"] for r in runs])
        ax.plot(runs[0]["steps"], J.mean(axis=0), color=f"C{i}", label=m)
    ax.axhline(fitted["J_star"], color="k", lw=0.8, ls=":", label="J*")
    ax.axhline(fitted["J_offline mean"], color="gray", lw=0.8, ls="--", label="J(pi_off)")
    ax.set(xlabel="environment steps (warm-up included)", ylabel="J(greedy policy), mean over seeds",
           title="Fine-tuning curves")
    ax.legend(fontsize="x-small")
    for ax, (sweep, name) in zip((axes[0][1], axes[1][0], axes[1][1]), SWEEPS.items(), strict=True):
        sub = [r for r in records if any(lab.startswith(f"{name}=") for lab in _labels(r["config"]))]
        for metric, color in (("dip", "C0"), ("dip_early", "C1")):
            g = {k[0]: mean_ci(v) for k, v in group(sub, (name,), metric).items()}
            x = sorted(g)
            ax.errorbar(x, [g[k][0] for k in x], yerr=[g[k][1] for k in x], color=color, marker="o", capsize=3,
                        label=metric)
        ax.set(xlabel=name, ylabel="dip", title=f"Dip and regret vs {name}")
        twin = ax.twinx()
        g = {k[0]: mean_ci(v) for k, v in group(sub, (name,), "regret").items()}
        x = sorted(g)
        twin.errorbar(x, [g[k][0] for k in x], yerr=[g[k][1] for k in x], color="C2", marker="s", capsize=3)
        twin.set_ylabel("cumulative regret (green)")
        if sweep == "tau":
            ax.set_xscale("log")
        ax.legend(fontsize="x-small", loc="upper left")
    return {NAME: fig}


def main(argv=None) -> int:
    """Command line entry point; returns the exit status."""
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=16, quick_trials=2)
    return run_experiment(args, cell, configs(args.quick), summarize=summarize, plot=plot)


if __name__ == "__main__":
    sys.exit(main())

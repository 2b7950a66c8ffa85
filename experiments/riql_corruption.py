"""RIQL under data corruption, tabular: return against the corruption rate per method (Yang et al. 2023, Fig. 1/Tab. 1).

Instance: a garnet MDP (S = 10, A = 4, branching 3, gamma = 0.9, instance seed 0). Behaviour ("medium" data):
``pi_b = 0.2 pi* + 0.5 pi_sub + 0.3 uniform`` with ``pi_sub`` a fixed random deterministic policy; N = 2000 i.i.d.
transitions from its normalised discounted occupancy. A fraction ``rate`` of them is corrupted by
:func:`theory_rl.data.corrupt` (RIQL's attack.py protocol, tabular analogue; adversarial attacks use the clean
``Q*``). Methods: behaviour cloning (most played action), empirical VI (certainty equivalence, the max operator),
VI-LCB (Rashidinejad et al. 2021, no split, paper constants), tabular IQL (tau 0.7, beta 3) and RIQL (K = 5
bootstrap Huber critics, kappa 1, alpha 0.25). Score: ``(J(pi) - J(uniform)) / (J* - J(uniform))`` in the clean
MDP, exactly; mean and 95% normal-approximation CI over the seeds.

    python -m experiments.riql_corruption [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import sys
from functools import partial

import numpy as np

from experiments._cli import parse_args, run_experiment

NAME = "riql_corruption"
METHODS = ("bc", "vi", "vi_lcb", "iql", "riql")
TARGETS = ("reward", "dynamics", "action", "state")
MODES = ("random", "adversarial")
RATES = (0.0, 0.1, 0.2, 0.3, 0.5)
QUICK_RATES = (0.0, 0.3)
N_SAMPLES = 2000
UNIFORM_SHARE = 0.3  # every pair covered (about 15-50 samples each); 0.05 gives rare actions (docs: both)


def configs(quick: bool) -> list[dict]:
    if quick:
        return [{"target": t, "mode": "random", "rate": r} for t in ("reward", "dynamics") for r in QUICK_RATES]
    return [{"target": t, "mode": m, "rate": r} for t in TARGETS for m in MODES for r in RATES]


def instance():
    """The garnet MDP, its optimal values and the medium behaviour policy (fixed, seed 0)."""
    from theory_rl import generators, planning

    mdp = generators.garnet(S=10, A=4, branching=3, gamma=0.9, seed=0)
    opt = planning.solve(mdp)
    sub = np.random.default_rng(0).integers(mdp.A, size=mdp.S)
    pi_b = UNIFORM_SHARE / mdp.A * np.ones((mdp.S, mdp.A))
    pi_b[np.arange(mdp.S), opt.policy] += 0.2
    pi_b[np.arange(mdp.S), sub] += 0.8 - UNIFORM_SHARE
    return mdp, opt, pi_b


def cell(config: dict, seed: int) -> dict:
    """Sample clean data, corrupt it, run every method, return the exact normalised scores."""
    from theory_rl import data, planning
    from theory_rl.algorithms import lcb, robust_offline

    mdp, opt, pi_b = instance()
    rng = np.random.default_rng(seed)
    clean = data.sample_iid(mdp, planning.occupancy(mdp, pi_b), N_SAMPLES, rng)
    bad = data.corrupt(clean, config["target"], seed=rng, mode=config["mode"], rate=config["rate"], Q=opt.Q).data
    J_star = float(mdp.init @ opt.V)
    J_unif = planning.expected_return(mdp, np.full((mdp.S, mdp.A), 1.0 / mdp.A))
    policies = {
        "bc": lcb.most_played(bad).policy,
        "vi": lcb.empirical_vi(bad).policy,
        "vi_lcb": lcb.vi_lcb(bad, split=False).policy,
        "iql": robust_offline.iql(bad, tol=1e-8).policy,
        "riql": robust_offline.riql(bad, seed=rng, tol=1e-8).policy,
    }
    out = {f"score_{k}": (planning.expected_return(mdp, pi) - J_unif) / (J_star - J_unif)
           for k, pi in policies.items()}
    out["score_behaviour"] = (planning.expected_return(mdp, pi_b) - J_unif) / (J_star - J_unif)
    return out


def _stats(records: list[dict]) -> dict:
    acc: dict = {}
    for rec in records:
        c = rec["config"]
        for k, v in rec["metrics"].items():
            acc.setdefault((c["target"], c["mode"], c["rate"], k.removeprefix("score_")), []).append(float(v))
    out = {}
    for key, vals in acc.items():
        v = np.asarray(vals)
        half = 1.96 * v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else float("nan")
        out[key] = (float(v.mean()), float(half), int(v.size))
    return out


def summarize(records: list[dict], rates) -> dict:
    """Mean score and 95% CI half-width per (target, mode, rate, method); the drop from clean at rate 0.3."""
    stats = _stats(records)
    fitted: dict = {"behaviour_score": next(m for (*_, k), (m, _, _) in stats.items() if k == "behaviour")}
    table = []
    for (t, mode, r, k), (m, h, n) in sorted(stats.items()):
        if k != "behaviour":
            table.append({"target": t, "mode": mode, "rate": r, "method": k, "mean": m, "ci95": h, "n": n})
    fitted["scores"] = table
    probe = 0.3 if 0.3 in rates else max(rates)
    for (t, mode, r, k), (m, h, _) in sorted(stats.items()):
        if r == probe and k in METHODS:
            fitted[f"{t}/{mode} rate {probe} {k}"] = f"{m:.3f} +- {h:.3f}"
    for k in METHODS:  # mean over targets and modes at the probe rate: the one-line ranking
        vals = [m for (t, mode, r, kk), (m, _, _) in stats.items() if r == probe and kk == k]
        fitted[f"mean score at rate {probe} {k}"] = float(np.mean(vals))
    return fitted


def plot(records: list[dict], fitted: dict) -> dict:
    from theory_rl.plotting import new_figure

    stats = _stats(records)
    panels = sorted({(t, m) for (t, m, _, _) in stats})
    fig, axes = new_figure(2, 4, width=16.0, height=7.0) if len(panels) > 2 else new_figure(1, 2, width=9, height=3.6)
    for ax, (t, mode) in zip(np.ravel(axes), panels, strict=False):
        for i, k in enumerate(METHODS):
            pts = sorted((r, m, h) for (tt, mm, r, kk), (m, h, _) in stats.items() if (tt, mm, kk) == (t, mode, k))
            r, m, h = (np.array(x) for x in zip(*pts, strict=True))
            ax.plot(r, m, "o-", color=f"C{i}", label=k, ms=3)
            ax.fill_between(r, m - np.nan_to_num(h), m + np.nan_to_num(h), color=f"C{i}", alpha=0.15)
        ax.axhline(fitted["behaviour_score"], color="gray", ls=":", lw=1, label="behaviour")
        ax.set_title(f"{t}, {mode}")
        ax.set_xlabel("corruption rate c")
        ax.set_ylabel("normalised return (clean MDP)")
    np.ravel(axes)[0].legend(fontsize=7)
    for ax in np.ravel(axes)[len(panels):]:
        ax.set_visible(False)
    return {"riql_corruption": fig}


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=6, quick_trials=2)
    rates = QUICK_RATES if args.quick else RATES
    return run_experiment(args, cell, configs(args.quick), summarize=partial(summarize, rates=rates), plot=plot)


if __name__ == "__main__":
    sys.exit(main())

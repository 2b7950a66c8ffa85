"""GuDA on a torus gridworld: random vs guided augmentation, read off the exact C* and the expert fraction, for
behaviour cloning against LCB (Corrado et al. 2024; issue-18 digest B3).

Instance: :func:`theory_rl.generators.symmetric.torus_gridworld` (7 x 7, goal (3, 3), slip 0.1, gamma 0.9, uniform
initial distribution). Data: 20 episodes of 10 steps of a noisy expert (``0.7 pi* + 0.3 uniform``) from the corner
(0, 0): a narrow band of states, so ``C* = inf`` for ``pi*`` from the uniform start. Augmentation: 20 random
non-zero translations per transition (:func:`theory_rl.algorithms.guided_augmentation.augment`): all kept (RDA),
or kept when the torus distance to the goal decreases (GuDA, user predicate) or when ``V*`` increases (GuDA,
oracle predicate). Learners: behaviour cloning (most played action), VI-LCB (Rashidinejad et al. 2021, no split,
``penalty_scale = 0.001``, a Hoeffding width of about ``0.05 Vmax sqrt(log(2SA/delta) / n)``: with the paper's
constant 2000 the penalty exceeds every value at this N and VI-LCB is BC) and empirical VI. C* is that of the
optimal policy best covered by the data (per state, the most frequent optimal action: ties are common on the
torus). Score ``(J - J_unif) / (J* - J_unif)``, exact; mean and 95% CI over the seeds.

    python -m experiments.guda_augmentation [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import sys

import numpy as np

from experiments._cli import parse_args, run_experiment

NAME = "guda_augmentation"
CONDITIONS = ("none", "rda", "guda_distance", "guda_value")
LEARNERS = ("bc", "vi_lcb", "vi")
N_GRID, GOAL, START = 7, (3, 3), (0, 0)
EPISODES, STEPS, COPIES, LCB_SCALE = 20, 10, 20, 0.001


def configs(quick: bool) -> list[dict]:
    return [{"condition": c} for c in CONDITIONS]


def cell(config: dict, seed: int) -> dict:
    from theory_rl import data, planning
    from theory_rl.algorithms import guided_augmentation as ga
    from theory_rl.algorithms import lcb
    from theory_rl.generators.symmetric import torus_gridworld

    mdp = torus_gridworld(N_GRID, goal=GOAL, slip=0.1, gamma=0.9)
    opt = planning.solve(mdp)
    rng = np.random.default_rng(seed)
    behaviour = 0.7 * np.eye(mdp.A)[opt.policy] + 0.3 / mdp.A
    init = np.zeros(mdp.S)
    init[START[0] * N_GRID + START[1]] = 1.0
    roll = data.sample_rollouts(mdp, behaviour, EPISODES, rng, n_steps=STEPS, init=init)
    n = roll.actions.size
    d = data.OfflineDataset(
        state=roll.states[:, :-1].ravel(), action=roll.actions.ravel(), reward=roll.rewards.ravel(),
        next_state=roll.states[:, 1:].ravel(), step=np.zeros(n, np.int64),
        episode=np.repeat(np.arange(EPISODES), STEPS),
        behaviour_prob=behaviour[roll.states[:, :-1], roll.actions].ravel(),
        S=mdp.S, A=mdp.A, gamma=mdp.gamma)
    cond = config["condition"]
    if cond != "none":
        mode = "random" if cond == "rda" else "guided"
        pred = "value" if cond == "guda_value" else "distance"
        d = ga.augment(d, N_GRID, GOAL, seed=rng, mode=mode, copies=COPIES, predicate=pred, values=opt.V)
    J_star = float(mdp.init @ opt.V)
    J_unif = planning.expected_return(mdp, np.full((mdp.S, mdp.A), 1.0 / mdp.A))
    # C* of the optimal policy best covered by the data: among optimal actions (ties are common on the torus)
    # the most frequent one in the data, per state
    optimal = opt.Q >= opt.Q.max(axis=1, keepdims=True) - 1e-9
    pi_cov = np.argmax(np.where(optimal, d.counts + 1e-3, -1.0), axis=1)
    c_star = ga.data_concentrability(mdp, pi_cov, d)
    out = {"C_star": c_star if np.isfinite(c_star) else None, "C_star_finite": float(np.isfinite(c_star)),
           "expert_fraction": ga.expert_fraction(d, opt.Q), "n": float(len(d))}
    for name, res in (("bc", lcb.most_played(d)), ("vi_lcb", lcb.vi_lcb(d, split=False, penalty_scale=LCB_SCALE)),
                      ("vi", lcb.empirical_vi(d))):
        out[f"score_{name}"] = (planning.expected_return(mdp, res.policy) - J_unif) / (J_star - J_unif)
    return out


def _stats(records, cond, key):
    v = np.array([r["metrics"][key] for r in records if r["config"]["condition"] == cond
                  and r["metrics"][key] is not None], dtype=float)
    if v.size == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(1.96 * v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")


def summarize(records: list[dict]) -> dict:
    f: dict = {}
    table = {}
    for c in CONDITIONS:
        row = {}
        for key in ("C_star", "C_star_finite", "expert_fraction", "n") + tuple(f"score_{k}" for k in LEARNERS):
            row[key] = _stats(records, c, key)
        table[c] = row
        f[f"{c}: finite C* share"] = row["C_star_finite"][0]
        f[f"{c}: median C* (finite)"] = (float(np.median([r["metrics"]["C_star"] for r in records
                                                           if r["config"]["condition"] == c
                                                           and r["metrics"]["C_star"] is not None]))
                                         if row["C_star_finite"][0] > 0 else "inf")
        f[f"{c}: expert fraction"] = f"{row['expert_fraction'][0]:.3f} +- {row['expert_fraction'][1]:.3f}"
        for k in LEARNERS:
            m, h = row[f"score_{k}"]
            f[f"{c}: {k}"] = f"{m:.3f} +- {h:.3f}"
    f["table"] = {c: {k: list(v) for k, v in row.items()} for c, row in table.items()}
    return f


def plot(records: list[dict], fitted: dict) -> dict:
    from theory_rl.plotting import new_figure

    fig, (left, right) = new_figure(1, 2, width=10.0, height=3.8)
    x = np.arange(len(CONDITIONS))
    for i, k in enumerate(LEARNERS):
        m = [fitted["table"][c][f"score_{k}"][0] for c in CONDITIONS]
        h = [fitted["table"][c][f"score_{k}"][1] for c in CONDITIONS]
        left.bar(x + (i - 1) * 0.27, m, 0.27, yerr=np.nan_to_num(h), label=k)
    left.set_xticks(x, CONDITIONS)
    left.set_ylabel("normalised return")
    left.legend(fontsize=7)
    left.set_title("learners by augmentation")
    ef = [fitted["table"][c]["expert_fraction"][0] for c in CONDITIONS]
    right.bar(x, ef, 0.5, color="C3")
    right.set_xticks(x, CONDITIONS)
    right.set_ylabel("expert fraction of the data")
    for xi, c in zip(x, CONDITIONS, strict=True):
        right.text(xi, 0.02, f"C* {fitted[f'{c}: median C* (finite)']}" if isinstance(
            fitted[f"{c}: median C* (finite)"], str) else f"C* {fitted[f'{c}: median C* (finite)']:.0f}",
            ha="center", fontsize=7, color="white")
    right.set_title("expert fraction (bars) and median C*")
    return {"guda_augmentation": fig}


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=20, quick_trials=2)
    return run_experiment(args, cell, configs(args.quick), summarize=summarize, plot=plot)


if __name__ == "__main__":
    sys.exit(main())

"""NeoRL-2's question on a tabular "realism knobs" task: how often does an offline method beat the behaviour policy?

Tasks (:func:`theory_rl.generators.realism.realism_instance`, 8 levels, targets (2, 5), slip 0.1, gamma 0.9): data
source (D5RL: scripted conservative controller / play / mixed) x delay (0; 2 with the buffer in the state; 2
ignored by the learner) x exogenous switch probability (0, 0.05): 18 tasks. Data: N = 1000 i.i.d. pairs from the
behaviour's normalised discounted occupancy (mixed: 500 from each). Methods: behaviour cloning (most played),
empirical VI, VI-LCB (Rashidinejad et al. 2021, no split, ``penalty_scale = 0.001``: with the paper's constant the
penalty swamps every value at this N and VI-LCB is behaviour cloning) and Bernstein VI-LCB (Li et al. 2024, their
constants: at this N every pessimistic Q is clipped to 0 and the policy is the tie-break, action 0). Safety budget
0.6 on the discounted cost (the scripted controller spends 0.21 without delay and 0.51 with delay 2, uniform play
1.25). NeoRL-2's metric (their ``successful_tasks.csv``): the number of tasks where the method's mean return
beats the behaviour's by a margin of 0 / 3 / 5 / 10 points of the normalised score
``100 (J - J_play) / (J* - J_play)`` (``J_play``: the uniform policy). Also: the share of runs that lose to the
behaviour, and the share over the safety budget. Returns are exact; CIs are 95% normal approximations.

The budget 0.6 never binds on these 18 tasks (the occupancy LP of :func:`theory_rl.algorithms.constrained_mdp.
constrained_optimum` returns ``J*`` on each: the optimum spends 0.15 without delay and 0.37 with it), so they
measure return only. Six **constrained tasks** make the global safety constraint bind: targets (2, 6), a set point
one level below the overflow, delay 0, the three sources x exo (0, 0.05), and a budget halfway between the least
achievable discounted cost and the unconstrained optimum's (``least + 0.5 (c(pi*) - least)``, both from the LP).
There every method is scored against the exact constrained optimum ``J*_c`` of the LP,
``100 (J - J_play) / (J*_c - J_play)``, and a task counts as beaten at a margin only if the method's mean score
beats the behaviour's by it **and none of its runs exceeds the budget**. A fifth method, ``cmdp_plugin``, solves
the same LP on the empirical model (unseen pairs uniform, the cost known; the least-cost policy of the model when
the budget is infeasible there).

    python -m experiments.realism_benchmark [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import os
import sys

# One BLAS thread, set before numpy loads (run as a script): a cell's matrices have at most 144 states, where
# OpenBLAS's extra threads only spin (a cell costs 0.03-0.1 s of CPU alone, 1-2 s of wall time with them on the
# loaded 2-core machine). Worker processes are pinned by the runner already.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from experiments._cli import parse_args, run_experiment  # noqa: E402

NAME = "realism_benchmark"
METHODS = ("bc", "vi", "vi_lcb", "bernstein_vi_lcb", "cmdp_plugin")
MARGINS = (0.0, 3.0, 5.0, 10.0)
N_DATA, LCB_SCALE, BUDGET = 1000, 0.001, 0.6
#: (delay, does the learner see the action buffer?)
DELAYS = ((0, True), (2, True), (2, False))
#: The constrained tasks: targets one level below the overflow, the budget this far from the least cost to c(pi*).
CONSTRAINED_TARGETS, BIND = (2, 6), 0.5


def configs(quick: bool) -> list[dict]:
    if quick:
        return [{"source": s, "delay": 2, "markov": m, "exo": 0.05} for s in ("scripted", "play")
                for m in (True, False)] + [{"source": "scripted", "delay": 0, "markov": True, "exo": 0.05,
                                            "constrained": True}]
    return [{"source": s, "delay": d, "markov": m, "exo": p}
            for s in ("scripted", "play", "mixed") for d, m in DELAYS for p in (0.0, 0.05)] + [
        {"source": s, "delay": 0, "markov": True, "exo": p, "constrained": True}
        for s in ("scripted", "play", "mixed") for p in (0.0, 0.05)]


def _dataset(inst, source: str, rng):
    from theory_rl import data, planning

    mdp = inst.mdp
    parts = [("scripted", N_DATA // 2), ("play", N_DATA - N_DATA // 2)] if source == "mixed" else [(source, N_DATA)]
    sets = [data.sample_iid(mdp, planning.occupancy(mdp, inst.behaviour[src]), n, rng) for src, n in parts]
    return sets[0] if len(sets) == 1 else data.concatenate(sets)


def _observed(inst, d):
    from theory_rl import data

    return data.OfflineDataset(state=inst.observation[d.state].astype(np.int64), action=d.action, reward=d.reward,
                               next_state=inst.observation[d.next_state].astype(np.int64), step=d.step,
                               episode=d.episode, behaviour_prob=d.behaviour_prob, S=inst.n_observed, A=d.A,
                               gamma=d.gamma)


def cell(config: dict, seed: int) -> dict:
    from theory_rl import planning
    from theory_rl.algorithms import lcb
    from theory_rl.algorithms.constrained_mdp import constrained_optimum
    from theory_rl.generators.realism import realism_instance

    constrained = bool(config.get("constrained", False))
    targets = CONSTRAINED_TARGETS if constrained else (2, 5)
    inst = realism_instance(delay=config["delay"], exo_switch=config["exo"], budget=BUDGET, targets=targets)
    mdp = inst.mdp
    rng = np.random.default_rng(seed)
    d = _dataset(inst, config["source"], rng)
    learn = d if config["markov"] else _observed(inst, d)
    budget = inst.budget
    if constrained:  # halfway between the least cost and the unconstrained optimum's cost
        lp = constrained_optimum(mdp, inst.cost, 1e9).constants
        budget = lp["least_cost"] + BIND * (lp["cost"] - lp["least_cost"])
    lp = constrained_optimum(mdp, inst.cost, budget).constants
    J_star = lp["value"]  # the exact (constrained) optimum; = planning.optimal_return(mdp) where slack
    J_play = planning.expected_return(mdp, inst.behaviour["play"])
    if config["source"] == "mixed":
        b_score = np.mean([planning.expected_return(mdp, inst.behaviour[s]) for s in ("scripted", "play")])
    else:
        b_score = planning.expected_return(mdp, inst.behaviour[config["source"]])

    def score(J):
        return 100.0 * (J - J_play) / (J_star - J_play)

    out = {"behaviour": score(b_score), "budget": budget, "binding": float(lp["binding"]),
           "gap_to_unconstrained": planning.optimal_return(mdp) - J_star}
    if config["markov"]:
        init, cost_l = mdp.init, inst.cost
    else:  # the learner's model lives on observations; the cost depends on the level only
        init = np.bincount(inst.observation, weights=mdp.init, minlength=inst.n_observed)
        cost_l = np.zeros((inst.n_observed, mdp.A))
        cost_l[inst.observation] = inst.cost
    plugin = constrained_optimum(learn.empirical_mdp(init), cost_l, budget, on_infeasible="least_cost")
    results = {"bc": lcb.most_played(learn), "vi": lcb.empirical_vi(learn),
               "vi_lcb": lcb.vi_lcb(learn, split=False, penalty_scale=LCB_SCALE),
               "bernstein_vi_lcb": lcb.bernstein_vi_lcb(learn), "cmdp_plugin": plugin}
    def cost(pi) -> float:  # the discounted safety cost: the exact linear solve with the cost as reward
        pi_m = np.eye(mdp.A)[pi] if np.ndim(pi) == 1 else pi
        P_pi = np.einsum("sa,sat->st", pi_m, mdp.P)
        return float(mdp.init @ np.linalg.solve(np.eye(mdp.S) - mdp.gamma * P_pi, (pi_m * inst.cost).sum(1)))

    out["unsafe_behaviour"] = float(cost(inst.behaviour["scripted" if config["source"] == "mixed"
                                                        else config["source"]]) > budget + 1e-9)
    for k, res in results.items():
        pi = res.policy if config["markov"] else inst.lift(res.policy)
        out[k] = score(planning.expected_return(mdp, pi))
        out[f"unsafe_{k}"] = float(cost(pi) > budget + 1e-9)
    return out


def _task(c: dict) -> str:
    knob = "d0" if c["delay"] == 0 else ("d2+buffer" if c["markov"] else "d2 ignored")
    return f"{'safe ' if c.get('constrained') else ''}{c['source']}/{knob}/exo{c['exo']:g}"


def _ci(v) -> list:
    v = np.asarray(v, dtype=float)
    return [float(v.mean()), float(1.96 * v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")]


def _summarize_group(by_task: dict, constrained: bool) -> dict:
    """Win counts, losses to the behaviour and budget violations over one group of tasks (constrained or not)."""
    f: dict = {"tasks": len(by_task)}
    table = []
    wins = {k: [0] * len(MARGINS) for k in METHODS}
    for task, runs in sorted(by_task.items()):
        b = float(np.mean([r["behaviour"] for r in runs]))
        row = {"task": task, "behaviour": b, "budget": float(np.mean([r.get("budget", BUDGET) for r in runs])),
               "budget binds": bool(np.mean([r.get("binding", 0.0) for r in runs]) > 0.5)}
        for k in METHODS:
            m, h = _ci([r[k] for r in runs])
            row[k] = [m, h]
            safe = not constrained or all(r[f"unsafe_{k}"] == 0.0 for r in runs)
            row[f"unsafe runs {k}"] = float(np.mean([r[f"unsafe_{k}"] for r in runs]))
            for i, margin in enumerate(MARGINS):
                wins[k][i] += int(safe and (m - b > margin if margin == 0 else m - b >= margin))
        table.append(row)
    f["table"] = table
    runs = [r for rs in by_task.values() for r in rs]
    for k in METHODS:
        f[f"tasks beaten by +0/+3/+5/+10: {k}"] = "/".join(str(w) for w in wins[k])
        f[f"runs below behaviour: {k}"] = float(np.mean([r[k] < r["behaviour"] for r in runs]))
        f[f"runs over the safety budget: {k}"] = float(np.mean([r[f"unsafe_{k}"] for r in runs]))
    f["runs over the safety budget: behaviour (scripted for mixed)"] = float(np.mean([r["unsafe_behaviour"]
                                                                                    for r in runs]))
    f["tasks where the budget binds (LP)"] = int(sum(row["budget binds"] for row in table))
    f["return lost to the constraint (J* - J*_c)"] = _ci([r.get("gap_to_unconstrained", 0.0) for r in runs])
    return f


def summarize(records: list[dict]) -> dict:
    """The 18 return tasks (budget 0.6, slack) as before, and the constrained tasks scored against the LP optimum:
    there a task is beaten only by a method none of whose runs exceeds the budget."""
    groups: dict = {False: {}, True: {}}
    for rec in records:
        c = rec["config"]
        groups[bool(c.get("constrained", False))].setdefault(_task(c), []).append(rec["metrics"])
    f = _summarize_group(groups[False], constrained=False) if groups[False] else {"tasks": 0}
    if groups[True]:
        for k, v in _summarize_group(groups[True], constrained=True).items():
            f[f"constrained: {k}"] = v
    f["neorl2 paper (7 tasks, +0/+3/+5/+10)"] = "BC 3/2/2/0, CQL 4/4/3/2, TD3BC 6/4/2/1, MOPO 2/2/1/1"
    return f


def plot(records: list[dict], fitted: dict) -> dict:
    from theory_rl.plotting import new_figure

    fig, (left, mid, right) = new_figure(1, 3, width=18.0, height=4.5)
    x = np.arange(len(MARGINS))
    width = 0.8 / len(METHODS)
    for ax, prefix, title in ((left, "", "return tasks (budget slack)"),
                              (mid, "constrained: ", "constrained tasks (vs the LP optimum; unsafe = lost)")):
        if f"{prefix}tasks beaten by +0/+3/+5/+10: {METHODS[0]}" not in fitted:
            ax.set_visible(False)
            continue
        for i, k in enumerate(METHODS):
            w = [int(t) for t in fitted[f"{prefix}tasks beaten by +0/+3/+5/+10: {k}"].split("/")]
            ax.bar(x + (i - (len(METHODS) - 1) / 2) * width, w, width, label=k)
        ax.set_xticks(x, [f"+{m:g}" for m in MARGINS])
        ax.set_xlabel("margin over the behaviour (normalised points)")
        ax.set_ylabel(f"tasks beaten (of {fitted[prefix + 'tasks']})")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    rows = fitted.get("table", []) + fitted.get("constrained: table", [])
    y = np.arange(len(rows))
    for i, k in enumerate(METHODS):
        right.errorbar([r[k][0] - r["behaviour"] for r in rows], y + (i - (len(METHODS) - 1) / 2) * 0.15,
                       xerr=np.nan_to_num([r[k][1] for r in rows]), fmt="o", ms=3, label=k)
    right.axvline(0, color="gray", lw=1)
    right.set_yticks(y, [r["task"] for r in rows], fontsize=6)
    right.set_xlabel("score - behaviour score")
    return {"realism_benchmark": fig}


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=5, quick_trials=2)
    return run_experiment(args, cell, configs(args.quick), summarize=summarize, plot=plot)


if __name__ == "__main__":
    sys.exit(main())

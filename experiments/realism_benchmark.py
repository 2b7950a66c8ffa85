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

    python -m experiments.realism_benchmark [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import sys

import numpy as np

from experiments._cli import parse_args, run_experiment

NAME = "realism_benchmark"
METHODS = ("bc", "vi", "vi_lcb", "bernstein_vi_lcb")
MARGINS = (0.0, 3.0, 5.0, 10.0)
N_DATA, LCB_SCALE, BUDGET = 1000, 0.001, 0.6
#: (delay, does the learner see the action buffer?)
DELAYS = ((0, True), (2, True), (2, False))


def configs(quick: bool) -> list[dict]:
    if quick:
        return [{"source": s, "delay": 2, "markov": m, "exo": 0.05}
                for s in ("scripted", "play") for m in (True, False)]
    return [{"source": s, "delay": d, "markov": m, "exo": p}
            for s in ("scripted", "play", "mixed") for d, m in DELAYS for p in (0.0, 0.05)]


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
    from theory_rl.generators.realism import realism_instance

    inst = realism_instance(delay=config["delay"], exo_switch=config["exo"], budget=BUDGET)
    mdp = inst.mdp
    rng = np.random.default_rng(seed)
    d = _dataset(inst, config["source"], rng)
    learn = d if config["markov"] else _observed(inst, d)
    J_star = planning.optimal_return(mdp)
    J_play = planning.expected_return(mdp, inst.behaviour["play"])
    if config["source"] == "mixed":
        b_score = np.mean([planning.expected_return(mdp, inst.behaviour[s]) for s in ("scripted", "play")])
    else:
        b_score = planning.expected_return(mdp, inst.behaviour[config["source"]])

    def score(J):
        return 100.0 * (J - J_play) / (J_star - J_play)

    out = {"behaviour": score(b_score)}
    results = {"bc": lcb.most_played(learn), "vi": lcb.empirical_vi(learn),
               "vi_lcb": lcb.vi_lcb(learn, split=False, penalty_scale=LCB_SCALE),
               "bernstein_vi_lcb": lcb.bernstein_vi_lcb(learn)}
    def cost(pi) -> float:  # the discounted safety cost: the exact linear solve with the cost as reward
        pi_m = np.eye(mdp.A)[pi] if np.ndim(pi) == 1 else pi
        P_pi = np.einsum("sa,sat->st", pi_m, mdp.P)
        return float(mdp.init @ np.linalg.solve(np.eye(mdp.S) - mdp.gamma * P_pi, (pi_m * inst.cost).sum(1)))

    out["unsafe_behaviour"] = float(cost(inst.behaviour["scripted" if config["source"] == "mixed"
                                                        else config["source"]]) > inst.budget)
    for k, res in results.items():
        pi = res.policy if config["markov"] else inst.lift(res.policy)
        out[k] = score(planning.expected_return(mdp, pi))
        out[f"unsafe_{k}"] = float(cost(pi) > inst.budget)
    return out


def _task(c: dict) -> str:
    knob = "d0" if c["delay"] == 0 else ("d2+buffer" if c["markov"] else "d2 ignored")
    return f"{c['source']}/{knob}/exo{c['exo']:g}"


def summarize(records: list[dict]) -> dict:
    by_task: dict = {}
    for rec in records:
        by_task.setdefault(_task(rec["config"]), []).append(rec["metrics"])
    f: dict = {"tasks": len(by_task)}
    table = []
    wins = {k: [0] * len(MARGINS) for k in METHODS}
    for task, runs in sorted(by_task.items()):
        b = float(np.mean([r["behaviour"] for r in runs]))
        row = {"task": task, "behaviour": b}
        for k in METHODS:
            v = np.array([r[k] for r in runs])
            m, h = float(v.mean()), float(1.96 * v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")
            row[k] = [m, h]
            for i, margin in enumerate(MARGINS):
                wins[k][i] += int(m - b > margin if margin == 0 else m - b >= margin)
        table.append(row)
    f["table"] = table
    for k in METHODS:
        f[f"tasks beaten by +0/+3/+5/+10: {k}"] = "/".join(str(w) for w in wins[k])
        runs = [r for rs in by_task.values() for r in rs]
        f[f"runs below behaviour: {k}"] = float(np.mean([r[k] < r["behaviour"] for r in runs]))
        f[f"runs over the safety budget: {k}"] = float(np.mean([r[f"unsafe_{k}"] for r in runs]))
    runs = [r for rs in by_task.values() for r in rs]
    f["runs over the safety budget: behaviour (scripted for mixed)"] = float(np.mean([r["unsafe_behaviour"]
                                                                                    for r in runs]))
    f["neorl2 paper (7 tasks, +0/+3/+5/+10)"] = "BC 3/2/2/0, CQL 4/4/3/2, TD3BC 6/4/2/1, MOPO 2/2/1/1"
    return f


def plot(records: list[dict], fitted: dict) -> dict:
    from theory_rl.plotting import new_figure

    fig, (left, right) = new_figure(1, 2, width=13.0, height=4.5)
    x = np.arange(len(MARGINS))
    for i, k in enumerate(METHODS):
        w = [int(t) for t in fitted[f"tasks beaten by +0/+3/+5/+10: {k}"].split("/")]
        left.bar(x + (i - 1.5) * 0.2, w, 0.2, label=k)
    left.set_xticks(x, [f"+{m:g}" for m in MARGINS])
    left.set_xlabel("margin over the behaviour (normalised points)")
    left.set_ylabel(f"tasks beaten (of {fitted['tasks']})")
    left.legend(fontsize=7)
    rows = fitted["table"]
    y = np.arange(len(rows))
    for i, k in enumerate(METHODS):
        right.errorbar([r[k][0] - r["behaviour"] for r in rows], y + (i - 1.5) * 0.15,
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

"""The UI-S1 and RED analogues, exactly: SOP against the true online success, and RL recall vs SFT extension.

Two small ANALOGUES of off-field papers (digest WP-C; not their LLM settings):

- ``ui_s1`` (Lu et al. 2025, arXiv 2509.11543): a random deterministic MDP (S = 20, A = 4) with an absorbing goal
  and an absorbing trap (15% of the actions fall into it: unrecoverable mistakes); the expert is the shortest-path
  policy from a start at distance >= 4; a population of 40 softmax policies (random logits, scale U(0.5, 3), plus
  U(0, 4) on the expert's action). For each: the true online success within ``3 L`` steps
  (:func:`~theory_rl.algorithms.o2o.online_success`), the step accuracy, and SOP's success with patch budgets 0,
  1, 2 and its progress (:func:`~theory_rl.algorithms.o2o.semi_online_performance`); per instance, the Spearman
  rank correlation of each proxy with the truth and ``max(SOP_0 - J)`` (must be <= 0);
- ``red`` (Guan et al. 2025, arXiv 2508.16677): a softmax contextual bandit, 20 prompts x 10 responses, one
  correct response per prompt; on about half the prompts ("hard") the student's logit of the correct response is
  12 below its maximum (mass ~1e-5); the teacher puts 0.98 on the correct response. 300 exact expected-gradient
  steps (lr 1) of :func:`~theory_rl.algorithms.o2o.recall_extend` in each mode (``mixed``: SFT weight 0.1;
  ``switch``: imitate while pass@1 < 0.3 -- both [U] parameters); pass@1, pass@8, entropy and the mass outside
  the initial support (probability < 1e-3).

    python -m experiments.o2o_analogues [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import sys

import numpy as np

from experiments._cli import parse_args, run_experiment
from experiments._o2o_common import group, mean_ci

NAME = "o2o_analogues"
PROXIES = ("step_accuracy", "sop0", "sop1", "sop2", "progress0")
MODES = ("rl", "sft", "mixed", "switch")
S, A, TRAP_FRAC, N_POLICIES = 20, 4, 0.15, 40
X, K_ARMS, HARD_GAP, N_STEPS = 20, 10, 12.0, 300


def configs(quick: bool) -> list[dict]:
    """One UI-S1 cell and one RED cell per mode."""
    return [{"analogue": "ui_s1", "mode": "-"}] + [{"analogue": "red", "mode": m} for m in MODES]


def _shortest_path(nxt, goal):
    dist = np.full(nxt.shape[0], np.inf)
    dist[goal] = 0.0
    for _ in range(nxt.shape[0]):  # Bellman-Ford on unit costs
        dist = np.minimum(dist, 1 + dist[nxt].min(axis=1))
        dist[goal] = 0.0
    return dist, np.argmin(dist[nxt], axis=1)


def _ui_s1(rng) -> dict:
    from scipy.stats import spearmanr

    from theory_rl.algorithms.o2o import expert_path, online_success, semi_online_performance

    while True:
        nxt = rng.integers(S, size=(S, A))
        nxt[rng.random((S, A)) < TRAP_FRAC] = 1  # state 1: the trap
        nxt[0], nxt[1] = 0, 1  # state 0: the goal; both absorbing
        dist, expert = _shortest_path(nxt, 0)
        starts = [s for s in range(2, S) if 4 <= dist[s] < np.inf]
        if starts:
            break
    start, L = starts[0], int(dist[starts[0]])
    path = expert_path(nxt, expert, start, L)
    values: dict[str, list] = {k: [] for k in (*PROXIES, "J")}
    for _ in range(N_POLICIES):
        logits = rng.normal(size=(S, A)) * rng.uniform(0.5, 3.0)
        logits[np.arange(S), expert] += rng.uniform(0.0, 4.0)
        pi = np.exp(logits - logits.max(axis=1, keepdims=True))
        pi /= pi.sum(axis=1, keepdims=True)
        values["J"].append(online_success(nxt, pi, start, 0, 3 * L))
        sop = [semi_online_performance(nxt, pi, path, budget=b) for b in (0, 1, 2)]
        values["step_accuracy"].append(sop[0]["step_accuracy"])
        values["progress0"].append(sop[0]["progress"])
        for b in (0, 1, 2):
            values[f"sop{b}"].append(sop[b]["success"])
    J = np.array(values["J"])
    out = {f"spearman_{k}": float(spearmanr(values[k], J).statistic) for k in PROXIES}
    out["max_sop0_minus_J"] = float(np.max(np.array(values["sop0"]) - J))
    out["mean_J_minus_sop0"] = float(np.mean(J - np.array(values["sop0"])))
    out["expert_length"] = float(L)
    return out


def _red(rng, mode) -> dict:
    from theory_rl.algorithms.o2o import recall_extend

    r = np.zeros((X, K_ARMS))
    correct = rng.integers(K_ARMS, size=X)
    r[np.arange(X), correct] = 1.0
    logits = rng.normal(size=(X, K_ARMS))
    hard = rng.random(X) < 0.5
    logits[np.flatnonzero(hard), correct[hard]] = logits[hard].max(axis=1) - HARD_GAP
    q = np.full((X, K_ARMS), 0.02 / (K_ARMS - 1))
    q[np.arange(X), correct] = 0.98
    out = recall_extend(logits, r, q, np.full(X, 1 / X), mode=mode, lr=1.0, n_steps=N_STEPS, sft_weight=0.1,
                        accuracy_threshold=0.3, k=8)  # fmt: skip
    return {"pass1_start": float(out.pass1[0]), "pass1": float(out.pass1[-1]), "pass8_start": float(out.passk[0]),
            "pass8": float(out.passk[-1]), "entropy_start": float(out.entropy[0]), "entropy": float(out.entropy[-1]),
            "outside_support": float(out.outside_support[-1])}  # fmt: skip


def cell(config: dict, seed: int) -> dict:
    """One random instance of the analogue (the RED modes share the instance of a seed)."""
    rng = np.random.default_rng(seed)
    return _ui_s1(rng) if config["analogue"] == "ui_s1" else _red(rng, config["mode"])


def summarize(records: list[dict]) -> dict:
    """Means with normal 95% CIs over seeds; the UI-S1 proxies' Spearman correlations also paired against step
    accuracy."""
    out: dict = {}
    ui = [r for r in records if r["config"]["analogue"] == "ui_s1"]
    if ui:
        base = np.array([r["metrics"]["spearman_step_accuracy"] for r in ui])
        for k in PROXIES:
            vals = np.array([r["metrics"][f"spearman_{k}"] for r in ui])
            m, h = mean_ci(vals)
            out[f"ui_s1 spearman({k}, J)"] = f"{m:.3f} +- {h:.3f}"
            if k != "step_accuracy":
                m, h = mean_ci(vals - base)
                out[f"ui_s1 spearman({k}) - spearman(step_accuracy)"] = f"{m:+.3f} +- {h:.3f}"
        out["ui_s1 max(SOP_0 - J) (must be <= 0)"] = float(max(r["metrics"]["max_sop0_minus_J"] for r in ui))
        m, h = mean_ci([r["metrics"]["mean_J_minus_sop0"] for r in ui])
        out["ui_s1 mean(J - SOP_0)"] = f"{m:.3f} +- {h:.3f}"
    table = []
    for metric in ("pass1", "pass8", "entropy", "outside_support", "pass1_start", "pass8_start", "entropy_start"):
        for (analogue, mode), vals in group(records, ("analogue", "mode"), metric).items():
            m, h = mean_ci(vals)
            if not metric.endswith("_start"):
                out[f"red {mode} {metric}"] = f"{m:.3f} +- {h:.3f}"
            table.append({"metric": metric, "mode": mode, "mean": m, "ci95": h, "n": len(vals)})
    out["red"] = table
    return out


def plot(records: list[dict], fitted: dict) -> dict:
    """UI-S1: Spearman correlation of each proxy with J; RED: pass@1 and outside-support mass per mode."""
    from theory_rl.plotting import new_figure

    fig, (ax1, ax2) = new_figure(1, 2, width=10.0, height=3.8)
    ui = [r for r in records if r["config"]["analogue"] == "ui_s1"]
    stats = [mean_ci([r["metrics"][f"spearman_{k}"] for r in ui]) for k in PROXIES]
    ax1.bar(range(len(PROXIES)), [s[0] for s in stats], yerr=[s[1] for s in stats], capsize=3)
    ax1.set(xticks=range(len(PROXIES)), xticklabels=PROXIES, ylabel="Spearman with online success",
            title="UI-S1 analogue: proxies vs truth")  # fmt: skip
    for i, metric in enumerate(("pass1", "outside_support")):
        g = {k[1]: mean_ci(v) for k, v in group(records, ("analogue", "mode"), metric).items()}
        x = np.arange(len(MODES)) + 0.2 * (2 * i - 1)
        ax2.bar(x, [g[m][0] for m in MODES], width=0.4, yerr=[g[m][1] for m in MODES], capsize=3, label=metric)
    ax2.set(xticks=range(len(MODES)), xticklabels=MODES, title="RED analogue: recall vs extend")
    ax2.legend(fontsize="small")
    return {NAME: fig}


def main(argv=None) -> int:
    """Command line entry point; returns the exit status."""
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=100, quick_trials=5)
    return run_experiment(args, cell, configs(args.quick), summarize=summarize, plot=plot)


if __name__ == "__main__":
    sys.exit(main())

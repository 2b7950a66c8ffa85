"""Uncertainty penalties against the exact model error, after Lu, Ball, Parker-Holder, Osborne & Roberts (2022).

Instance "garnet": a garnet MDP (S = 15, A = 3, branching 4, gamma = 0.9, instance seed 0); data N = 300 i.i.d.
pairs from a behaviour distribution with C* = 5 (:func:`theory_rl.data.controlled_coverage`), so coverage is
uneven. Instance "corridor": the edge-of-reach gridworld of ``experiments.edge_of_reach`` (15 x 15, slip 0.2);
data: every action 5 times at each state of the shortest path, which are also the rollout starts (void scale 3);
its grid runs the ensemble-std, MOPO and true-TV penalties only (225 states: each run costs ~10x). Model: an
ensemble of M = 7 count models (:func:`theory_rl.algorithms.edge_of_reach.count_model`, MOPO's 7 members), member
i drawing ``max(N(s, a), 1)`` next states of each pair (an unseen pair gets one draw), and ``P_bar`` their mean.
Heuristics: :mod:`theory_rl.algorithms.model_uncertainty`; truth: TV and KL of ``P_bar`` per pair.

1. Rank correlation (weighted Spearman) of each heuristic with the true TV / KL, (i) on the data distribution and
   (ii) on the rollout distribution of the policy that penalised model-based optimisation produced
   (``truncated_fqi`` in support mode on ``P_bar`` from the data's states, ``h``-step rollouts).
2. A full grid over penalty type x rollout horizon h x penalty weight lambda in place of Lu et al.'s Bayesian
   optimisation; the true return of each configuration, exactly, as the score ``(J - J_unif) / (J* - J_unif)``
   (``J_unif``: the uniform policy); where MOPO's defaults (h = 5, lambda = 1) sit. The violated mass is the
   rollout-distribution mass where MOPO's admissibility ``lambda u >= gamma |(P_bar - P) V^pi|`` fails.
   "true_tv" is the oracle penalty (the true TV per pair) for reference.

Mean and 95% normal-approximation CI over the seeds (one data set and ensemble per seed).

    python -m experiments.model_penalties [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import os
import sys
from functools import partial

# One BLAS thread, set before numpy loads (run as a script): the cells multiply small matrices (at most 225
# states), where OpenBLAS's extra threads only spin; on the loaded 2-core machine a corridor cell cost 14 s of CPU
# with them and 3.8 s without (same numbers out). Worker processes are pinned by the runner already.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from experiments._cli import parse_args, run_experiment  # noqa: E402

NAME = "model_penalties"
HEUR = ("max_aleatoric", "pairwise", "ensemble_std", "ensemble_var", "mopo", "loo_kl", "ll_var")
PENALTIES = ("max_aleatoric", "pairwise", "ensemble_std", "ll_var", "mopo", "true_tv")
HORIZONS = (1, 5, 10, 20, 50)
LAMBDAS = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0)
QUICK_HORIZONS, QUICK_LAMBDAS = (1, 5), (0.0, 1.0)
DEFAULT = (5, 1.0)  # MOPO's usual rollout horizon and penalty weight
N_DATA, M = 300, 7


INSTANCES = ("garnet", "corridor")
#: Penalties of the grid on the corridor (225 states: each run costs ~10x a garnet run).
CORRIDOR_PENALTIES = ("ensemble_std", "mopo", "true_tv")
CORRIDOR_PER_PAIR, CORRIDOR_VOID = 5, 3.0


def configs(quick: bool) -> list[dict]:
    return [{"grid": "quick" if quick else "full", "instance": i} for i in INSTANCES]


def _setup(config: dict, rng):
    """The MDP, the per-pair sample counts of the models, the data weights and the rollout starts."""
    from theory_rl import data, generators
    from theory_rl.algorithms import edge_of_reach as eor

    if config.get("instance", "garnet") == "garnet":
        mdp = generators.garnet(S=15, A=3, branching=4, gamma=0.9, seed=0)
        d = data.sample_iid(mdp, data.controlled_coverage(mdp, 5.0).mu, N_DATA, rng)
        return mdp, np.maximum(d.counts, 1), d.counts, d.state, PENALTIES, {}
    # the edge-of-reach corridor (experiments.edge_of_reach): data = every action, 5 times, on the shortest path
    mdp = eor.stay_gridworld(15, 15, goal=(7, 12), start=(7, 2), slip=0.2, gamma=0.9)
    path = eor.shortest_path_states((7, 2), (7, 12), 15)
    N = np.zeros((mdp.S, mdp.A), dtype=np.int64)
    N[path] = CORRIDOR_PER_PAIR
    return mdp, np.maximum(N, 1), N, path, CORRIDOR_PENALTIES, {"void_scale": CORRIDOR_VOID}


def cell(config: dict, seed: int) -> dict:
    from theory_rl import planning
    from theory_rl.algorithms import edge_of_reach as eor
    from theory_rl.algorithms import model_uncertainty as mu

    horizons, lambdas = (QUICK_HORIZONS, QUICK_LAMBDAS) if config["grid"] == "quick" else (HORIZONS, LAMBDAS)
    rng = np.random.default_rng(seed)
    mdp, n_model, N, start_states, penalty_types, fqi_kw = _setup(config, rng)
    models = eor.count_model(mdp, n_model, seed=rng, n_members=M)
    P_bar = models.mean(axis=0)
    heur = mu.uncertainty_heuristics(models)
    err = mu.model_errors(mdp.P, P_bar)
    out: dict = {}
    weights = N / N.sum()
    for k in HEUR:
        out[f"data/{k}/tv"] = mu.weighted_spearman(heur[k], err["tv"], weights)
        out[f"data/{k}/kl"] = mu.weighted_spearman(heur[k], err["kl"], weights)
    out["data/heuristic_pairs"] = float(np.nanmean([mu.weighted_spearman(heur[a], heur[b], weights)
                                                    for i, a in enumerate(HEUR) for b in HEUR[i + 1:]]))
    penalties = {**{k: heur[k] for k in PENALTIES if k in heur}, "true_tv": err["tv"]}
    starts = np.unique(start_states)
    V_star = planning.solve(mdp).V
    J_star = float(mdp.init @ V_star)
    J_unif = planning.expected_return(mdp, np.full((mdp.S, mdp.A), 1.0 / mdp.A))
    for p in penalty_types:
        for h in horizons:
            for lam in lambdas:
                res = eor.truncated_fqi(mdp, starts, h, model=P_bar, reward_penalty=penalties[p], penalty_scale=lam,
                                        seed=rng, on_max_iter="warn", **fqi_kw)
                tag = f"{p}/h{h}/l{lam:g}"
                out[f"J/{tag}"] = (res.true_return - J_unif) / (J_star - J_unif)
                dist = mu.rollout_distribution(P_bar, res.policy, start_states, h)
                for k in HEUR:
                    out[f"roll/{k}/tv/{tag}"] = mu.weighted_spearman(heur[k], err["tv"], dist)
                V_pi = planning.evaluate(mdp, res.policy)
                need = mu.model_errors(mdp.P, P_bar, V_pi, gamma=mdp.gamma)["value"]
                out[f"violation/{tag}"] = float(dist[lam * penalties[p] < need - 1e-12].sum())
    return {k: (float(v) if np.isfinite(v) else None) for k, v in out.items()}


def _agg(records: list[dict]) -> dict:
    acc: dict = {}
    for rec in records:
        for k, v in rec["metrics"].items():
            if v is not None:
                acc.setdefault(k, []).append(v)
    res = {}
    for k, v in acc.items():
        v = np.asarray(v)
        half = 1.96 * v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else float("nan")
        res[k] = (float(v.mean()), float(half))
    return res


def _grid(quick: bool):
    return (QUICK_HORIZONS, QUICK_LAMBDAS) if quick else (HORIZONS, LAMBDAS)


def _penalties(instance: str) -> tuple:
    return PENALTIES if instance == "garnet" else CORRIDOR_PENALTIES


def _summarize_one(records: list[dict], quick: bool, instance: str) -> dict:
    horizons, lambdas = _grid(quick)
    a = _agg(records)
    f: dict = {}
    numeric: dict = {}
    first = _penalties(instance)[-2]  # the MOPO penalty's runs give the rollout distributions averaged below
    for k in HEUR:
        m, h = a[f"data/{k}/tv"]
        f[f"spearman data {k} vs TV"] = f"{m:.3f} +- {h:.3f}"
        m2, h2 = a[f"data/{k}/kl"]
        f[f"spearman data {k} vs KL"] = f"{m2:.3f} +- {h2:.3f}"
        keys = [f"roll/{k}/tv/{first}/h{hh}/l{lam:g}" for hh in horizons for lam in lambdas]
        per_seed = [np.nanmean([rec["metrics"][q] if rec["metrics"].get(q) is not None else np.nan for q in keys])
                    for rec in records]
        v = np.asarray(per_seed)
        half = 1.96 * v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else float("nan")
        f[f"spearman rollouts {k} vs TV"] = f"{v.mean():.3f} +- {half:.3f}"
        numeric[f"data {k}"] = m
        numeric[f"rollouts {k}"] = float(v.mean())
    f["spearman means"] = numeric
    m, h = a["data/heuristic_pairs"]
    f["spearman between heuristics (data)"] = f"{m:.3f} +- {h:.3f}"
    grid = []
    for p in _penalties(instance):
        best, best_val = None, -np.inf
        for hh in horizons:
            for lam in lambdas:
                tag = f"{p}/h{hh}/l{lam:g}"
                mJ, hJ = a[f"J/{tag}"]
                grid.append({"penalty": p, "h": hh, "lambda": lam, "score": mJ, "ci95": hJ,
                             "violation": a[f"violation/{tag}"][0]})
                if mJ > best_val:
                    best, best_val = (hh, lam), mJ
        f[f"best (h, lambda) {p}"] = f"h={best[0]}, lambda={best[1]:g}: score {best_val:.3f}"
        dtag = f"{p}/h{DEFAULT[0]}/l{DEFAULT[1]:g}"
        if f"J/{dtag}" in a:
            mJ, hJ = a[f"J/{dtag}"]
            viol = a["violation/" + dtag][0]
            f[f"default (h=5, lambda=1) {p}"] = f"score {mJ:.3f} +- {hJ:.3f}; violated mass {viol:.2f}"
    f["grid"] = grid
    return f


def summarize(records: list[dict], quick: bool) -> dict:
    """Per instance: rank correlations (data, rollouts), the grid of scores, best vs MOPO's default."""
    out: dict = {}
    for inst in INSTANCES:
        recs = [r for r in records if r["config"].get("instance", "garnet") == inst]
        if recs:
            for k, v in _summarize_one(recs, quick, inst).items():
                out[f"{inst}: {k}"] = v
    return out


def plot(records: list[dict], fitted: dict, quick: bool) -> dict:
    from theory_rl.plotting import new_figure

    horizons, lambdas = _grid(quick)
    ncol = 1 + len(PENALTIES)
    fig, axes = new_figure(len(INSTANCES), ncol, width=4.0 * ncol, height=3.8 * len(INSTANCES))
    for row, inst in zip(np.atleast_2d(axes), INSTANCES, strict=True):
        means = fitted[f"{inst}: spearman means"]
        ax = row[0]
        x = np.arange(len(HEUR))
        ax.bar(x - 0.2, [means[f"data {k}"] for k in HEUR], 0.4, label="data distribution")
        ax.bar(x + 0.2, [means[f"rollouts {k}"] for k in HEUR], 0.4, label="policy rollouts")
        ax.set_xticks(x, HEUR, rotation=45, ha="right", fontsize=7)
        ax.set_ylabel(f"{inst}: Spearman with true TV")
        ax.legend(fontsize=7)
        rows = {(g["penalty"], g["h"], g["lambda"]): g["score"] for g in fitted[f"{inst}: grid"]}
        pens = _penalties(inst)
        for ax, p in zip(row[1:], PENALTIES, strict=True):
            if p not in pens:
                ax.set_visible(False)
                continue
            Z = np.array([[rows[(p, hh, lam)] for lam in lambdas] for hh in horizons])
            im = ax.imshow(Z, origin="lower", aspect="auto", vmin=0, vmax=1, cmap="viridis")
            ax.set_xticks(range(len(lambdas)), [f"{lam:g}" for lam in lambdas], fontsize=7)
            ax.set_yticks(range(len(horizons)), [str(hh) for hh in horizons], fontsize=7)
            if DEFAULT[0] in horizons and DEFAULT[1] in lambdas:
                ax.plot(lambdas.index(DEFAULT[1]), horizons.index(DEFAULT[0]), "r*", ms=10)
            ax.set_title(f"{inst}: {p}", fontsize=9)
            ax.set_xlabel("lambda")
            ax.set_ylabel("rollout horizon h")
        fig.colorbar(im, ax=row[-1])
    return {"model_penalties": fig}


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=6, quick_trials=2)
    return run_experiment(args, cell, configs(args.quick), summarize=partial(summarize, quick=args.quick),
                          plot=partial(plot, quick=args.quick))


if __name__ == "__main__":
    sys.exit(main())

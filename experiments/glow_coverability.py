"""GLOW / HyGLOW on finite classes: regret against T, N(eps) against coverability, Block MDPs, hybrid comparison.

Amortila, Foster, Jiang, Sekhari, Xie (ICLR 2024, arXiv 2401.09681) run no experiments; this regenerates the
SHAPES of their bounds on the controlled-coverability family (:mod:`theory_rl.generators.coverability`: ``k`` states,
``A`` actions, ``C_cov = A (1 + (k - 1) p)``) with decoy classes (``Q*`` plus one optimistic decoy per
last-layer pair ``a >= 1``, bonus ``2 gap``, :func:`theory_rl.algorithms.glow.decoy_classes`) and the mixture
ratios of Assumption 2.2'. Cells:

- ``regret``: GLOW's exact regret after T rounds, with the theory constants (``beta_scale = 1``) and with
  ``beta_scale = 1e-4`` (default gamma re-balanced, see :func:`~theory_rl.algorithms.glow.glow`). A rate is
  minimax: at each T the regret is the worst (over a grid of gaps) of the mean over seeds; Thm 3.1 gives
  slope 1/2. Also per run: whether Q* stayed in F_t at every round, the potential against ``5 C_cov log(1+T)``.
- ``neps``: ``N(eps)``, the first round at which ``Unif(pi_1..pi_t)`` is eps-optimal (worst over gaps), against
  ``C_cov``; two sweeps: ``A`` at ``k = 2, p = 1`` (the number of decoys grows with ``C_cov``) and ``p`` at
  ``k = A = 3`` (fixed class). Thm 3.1: ``N ~ C_cov L / eps^2``; slopes of N and of N / L are reported.
- ``block``: the Block MDP (``|X| = 3 m`` observations of 3 latent states) at fixed T: regret against ``|X|``.
- ``hybrid``: nu = (1 - lam) d^{pi*} + lam Uniform; HyGLOW (H2O + MABO.CR), Hy-Q (H2O + FQI), H2O + MLE, GLOW
  (online only) and MABO.CR (offline only, T samples per layer): sub-optimality of the output against C_star.
  HyGLOW and MABO.CR run with the theory gamma and with ``gamma_scale = 100`` (= GLOW's ``beta_scale = 1e-4``).

- ``cov_alone`` / ``class_alone`` (issue 22): each factor of Thm 3.1's ``C_cov log(|F||W|)`` varied alone, on
  :func:`~theory_rl.generators.coverability.coverability_family` with ``n`` decoys laid out on ``s`` states
  (``k = 6``, ``A = 7``, ``p = 0.05``, gap 0.5, so every decoy's target is reached with probability
  ``q = p + (1 - p)/k`` by its own policy). ``cov_alone``: ``s`` sweeps the coverability of the class's policies
  ``C_cov(Pi) = max(s, (n + 1) q + (k - 1)(1 - p)/k)`` at fixed ``n = 6`` (so ``|F|``, ``|W|``, the decoys and
  their reach are fixed); ``class_alone``: ``n`` sweeps ``|F| = n + 1`` at fixed ``s = 6`` (``C_cov(Pi) = 6`` and
  the all-policy ``C_cov`` fixed). N(eps) per run (eps = 0.05, T = 4000, beta_scale = 1e-4, default gamma from
  the exact ``C_cov(Pi)``); log-log slopes of N against ``C_cov(Pi)`` and against ``L = log(6|F||W|TH/delta)``
  with 95% bootstrap intervals over runs. For a finite class ``C_cov(Pi) <= |Pi| <= |F|``, so with the class
  fixed ``C_cov(Pi)`` can only move within ``[1, |F|]``.
- ``incomplete``: :func:`~theory_rl.generators.coverability.incomplete_fqi_instance`, a realizable class that is not
  Bellman complete: Hy-Q (and offline FQI) settle on a sub-optimality-0.5 policy; HyGLOW, GLOW and (with enough
  coverage) MABO.CR do not. On the decoy classes above, which are complete, Hy-Q is sound.

    python -m experiments.glow_coverability [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import sys

import numpy as np

from experiments._cli import (
    BOOTSTRAP,
    bootstrap_loglog_slope,
    bootstrap_slope,
    loglog_slope,
    parse_args,
    run_experiment,
)
from theory_rl.runner import grid

NAME = "glow_coverability"
SCALED = 1e-4  # GLOW's beta_scale in the scaled runs
GAMMA_SCALED = 100.0  # HyGLOW's gamma_scale matching it (1 / sqrt(SCALED))
EPS = 0.05
HYBRID_ALGS = ("hyglow", "hyglow_scaled", "hyq", "h2o_mle", "glow_scaled", "mabo_cr", "mabo_cr_scaled")
INCOMPLETE_ALGS = ("hyglow", "hyglow_scaled", "hyq", "glow", "mabo_cr", "mabo_cr_scaled", "fqi")

PAPER = {
    "T": [1000, 2000, 4000, 8000, 16000], "gaps": [0.0125, 0.025, 0.05, 0.1, 0.2, 0.4],
    "A_sweep": [2, 3, 4, 6], "p_sweep": [0.0, 1 / 3, 2 / 3, 1.0], "n_gaps": [0.075, 0.1, 0.2, 0.4],
    "T_max": 12000, "m": [1, 2, 4, 8, 16], "block_T": 4000, "block_gaps": [0.1, 0.2, 0.4],
    "lam": [0.0, 0.5, 0.9, 1.0], "hybrid_T": 1000, "incomplete_T": 1000,
    "alone": {"k": 6, "A": 7, "p": 0.05, "n": 6, "s": 6, "s_sweep": [2, 3, 4, 6], "n_sweep": [6, 8, 10, 12],
              "T": 4000, "reps": [0, 1]},
}
QUICK = {
    "T": [250, 500], "gaps": [0.1, 0.4], "A_sweep": [2, 3], "p_sweep": [0.0, 1.0], "n_gaps": [0.1, 0.4],
    "T_max": 1200, "m": [1, 4], "block_T": 500, "block_gaps": [0.4], "lam": [0.0, 1.0], "hybrid_T": 200,
    "incomplete_T": 200,
    "alone": {"k": 4, "A": 5, "p": 0.05, "n": 4, "s": 4, "s_sweep": [2, 4], "n_sweep": [4, 8], "T": 1500,
              "reps": [0]},
}
ALONE_GAP = 0.5  # the decoys' gap (bonus 2 gap = 1): the largest the family allows, so N(eps) stays short


def configs(quick: bool) -> list[dict]:
    """The four sweeps."""
    plan = QUICK if quick else PAPER
    out = grid(kind=["regret"], beta_scale=[1.0, SCALED], T=plan["T"], gap=plan["gaps"])
    out += grid(kind=["neps"], sweep=["A"], k=[2], A=plan["A_sweep"], p=[1.0], gap=plan["n_gaps"],
                T=[plan["T_max"]])
    out += grid(kind=["neps"], sweep=["p"], k=[3], A=[3], p=plan["p_sweep"], gap=plan["n_gaps"], T=[plan["T_max"]])
    out += grid(kind=["block"], m=plan["m"], gap=plan["block_gaps"], T=[plan["block_T"]])
    out += grid(kind=["hybrid"], lam=plan["lam"], alg=list(HYBRID_ALGS), T=[plan["hybrid_T"]], gap=[0.2])
    out += grid(kind=["incomplete"], alg=list(INCOMPLETE_ALGS), T=[plan["incomplete_T"]])
    a = plan["alone"]
    fixed = {"k": [a["k"]], "A": [a["A"]], "p": [a["p"]], "T": [a["T"]], "rep": a["reps"]}
    out += grid(kind=["cov_alone"], n=[a["n"]], s=a["s_sweep"], **fixed)
    out += grid(kind=["class_alone"], n=a["n_sweep"], s=[a["s"]], **fixed)
    return out


# ---------------------------------------------------------------------- cells
def _glow_metrics(res) -> dict:
    return {"regret": float(res.regret[-1]), "q_star_kept": float(res.q_star_in.all()),
            "final_set": float(res.set_size[-1]), "L": res.constants["L"],
            "potential_ratio": float(np.max(res.potential.max(axis=1) / res.potential_bound)),
            "clipping_loss": float(res.clipping_loss.sum()), "c_cov": res.constants["c_cov"]}


def _hybrid_cell(config: dict, seed) -> dict:
    from theory_rl.algorithms.glow import decoy_classes, glow, h2o, offline_only
    from theory_rl.coverage import concentrability
    from theory_rl.generators.coverability import coverability_family
    from theory_rl.planning import occupancy, solve

    inst = coverability_family(3, 3, 0.5, gap=config["gap"])
    classes = decoy_classes(inst.mdp, inst.targets, 2 * config["gap"])
    pi_star = solve(inst.mdp).policy
    lam, T, alg = config["lam"], config["T"], config["alg"]
    d_star = occupancy(inst.mdp, pi_star)
    nu = (1 - lam) * d_star + lam * np.full(d_star.shape, 1.0 / (inst.mdp.S * inst.mdp.A))
    scale = GAMMA_SCALED if alg.endswith("_scaled") else 1.0
    if alg.startswith("hyglow") or alg in ("hyq", "h2o_mle"):
        plugin = {"hyq": "fqi", "h2o_mle": "mle"}.get(alg, "mabo_cr")
        risk = h2o(inst.mdp, classes, nu, T, seed=seed, plugin=plugin, gamma_scale=scale).risk
    elif alg == "glow_scaled":
        risk = float(glow(inst.mdp, classes, T, seed=seed, beta_scale=SCALED, diagnostics=False)
                     .average_suboptimality[-1])
    else:
        risk = offline_only(inst.mdp, classes, nu, T, seed=seed, gamma_scale=scale).risk
    return {"risk": float(risk), "c_star": float(concentrability(inst.mdp, pi_star, nu))}


def _incomplete_cell(config: dict, seed) -> dict:
    from theory_rl.algorithms.glow import finite_classes, glow, greedy_actions, h2o, hybrid_ratio_class, offline_only
    from theory_rl.generators.coverability import incomplete_fqi_instance

    inst = incomplete_fqi_instance()
    classes = finite_classes(inst.F, hybrid_ratio_class(inst.mdp, greedy_actions(inst.F), inst.nu))
    alg, T = config["alg"], config["T"]
    scale = GAMMA_SCALED if alg.endswith("_scaled") else 1.0
    if alg.startswith("hyglow") or alg == "hyq":
        risk = h2o(inst.mdp, classes, inst.nu, T, seed=seed, plugin="fqi" if alg == "hyq" else "mabo_cr",
                   gamma_scale=scale).risk
    elif alg == "glow":
        risk = float(glow(inst.mdp, classes, T, seed=seed, diagnostics=False).average_suboptimality[-1])
    else:
        risk = offline_only(inst.mdp, classes, inst.nu, T, seed=seed, plugin="fqi" if alg == "fqi" else "mabo_cr",
                            gamma_scale=scale).risk
    return {"risk": float(risk)}


def _alone_cell(config: dict, seed) -> dict:
    """N(eps) on the decoy layout (n decoys on s states): one factor of Thm 3.1 moves, the other stays."""
    from theory_rl.algorithms.glow import decoy_classes, glow
    from theory_rl.generators.coverability import coverability_family

    inst = coverability_family(config["k"], config["A"], config["p"], gap=ALONE_GAP, n_decoys=config["n"],
                               decoy_states=config["s"])
    classes = decoy_classes(inst.mdp, inst.targets, 2 * ALONE_GAP)
    res = glow(inst.mdp, classes, config["T"], seed=seed, beta_scale=SCALED, diagnostics=False)
    hit = np.flatnonzero(res.average_suboptimality <= EPS)
    return {"N": float(hit[0] + 1) if hit.size else float(config["T"] + 1), "censored": float(hit.size == 0),
            "c_cov_class": float(res.constants["c_cov"]), "c_cov_closed_form": float(inst.c_cov_class),
            "c_cov_all": float(inst.c_cov), "L": float(res.constants["L"]), "n_f": float(len(classes.F))}


def cell(config: dict, seed: int) -> dict:
    """One run of one configuration."""
    from theory_rl.algorithms.glow import decoy_classes, glow
    from theory_rl.generators.coverability import block_mdp, coverability_family

    kind = config["kind"]
    if kind == "hybrid":
        return _hybrid_cell(config, seed)
    if kind == "incomplete":
        return _incomplete_cell(config, seed)
    if kind in ("cov_alone", "class_alone"):
        return _alone_cell(config, seed)
    if kind == "regret":
        inst = coverability_family(3, 3, 0.5, gap=config["gap"])
    elif kind == "neps":
        inst = coverability_family(config["k"], config["A"], config["p"], gap=config["gap"])
    else:
        inst = block_mdp(3, 3, 0.5, config["m"], gap=config["gap"])
    classes = decoy_classes(inst.mdp, inst.targets, 2 * config["gap"])
    beta_scale = config.get("beta_scale", SCALED)
    res = glow(inst.mdp, classes, config["T"], seed=seed, beta_scale=beta_scale, c_cov=inst.c_cov)
    metrics = _glow_metrics(res)
    if kind == "neps":
        hit = np.flatnonzero(res.average_suboptimality <= EPS)
        metrics["N"] = float(hit[0] + 1) if hit.size else float(config["T"] + 1)
        metrics["censored"] = float(hit.size == 0)
    return metrics


# ---------------------------------------------------------------------- analysis
def _mean(records, match: dict, metric: str) -> dict:
    """Mean of ``metric`` over seeds, keyed by the config minus ``seed``, for configs matching ``match``."""
    groups: dict = {}
    for rec in records:
        cfg = rec["config"]
        if all(cfg.get(k) == v for k, v in match.items()):
            key = tuple(sorted((k, v) for k, v in cfg.items() if not k.startswith("_")))
            groups.setdefault(key, []).append(rec["metrics"][metric])
    return {k: float(np.mean(v)) for k, v in groups.items()}


def _worst(records, match: dict, metric: str, by: str) -> dict:
    """Worst over gaps of the mean over seeds, keyed by ``by``."""
    out: dict = {}
    for key, value in _mean(records, match, metric).items():
        b = dict(key)[by]
        out[b] = max(out.get(b, -np.inf), value)
    return dict(sorted(out.items()))


def _seed_array(records, match: dict, metric: str, by: str) -> tuple[list, np.ndarray] | None:
    """``(by values, array (instances, len(by values), seeds))`` of ``metric`` per seed index, for the bootstrap of
    a worst-case slope; None when the grid is not complete (a seed missing in some cell)."""
    cells: dict = {}
    for rec in records:
        cfg = rec["config"]
        if all(cfg.get(k) == v for k, v in match.items()):
            rest = tuple(sorted((k, v) for k, v in cfg.items() if not k.startswith("_") and k != by))
            cells[(rest, cfg[by], rec["seed_index"])] = float(rec["metrics"][metric])
    instances = sorted({k[0] for k in cells}, key=repr)
    xs = sorted({k[1] for k in cells})
    seeds = sorted({k[2] for k in cells})
    try:
        return xs, np.array([[[cells[(i, x, s)] for s in seeds] for x in xs] for i in instances])
    except KeyError:
        return None


def _slope_ci(records, match: dict, metric: str, by: str, scale: float = 1.0) -> str:
    """``"[low, high]"``: bootstrap interval over seeds of the worst-case log-log slope (:func:`bootstrap_slope`)."""
    got = _seed_array(records, match, metric, by)
    ci = bootstrap_slope([scale * x for x in got[0]], got[1], worst_over_first_axis=True) if got else None
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "n/a"


def curves(records: list[dict]) -> dict:
    """Every curve the summary and the figures use."""
    c = {}
    for s in (1.0, SCALED):
        c[("regret", s)] = _worst(records, {"kind": "regret", "beta_scale": s}, "regret", "T")
    for sweep in ("A", "p"):
        n = _worst(records, {"kind": "neps", "sweep": sweep}, "N", "A" if sweep == "A" else "p")
        L = _worst(records, {"kind": "neps", "sweep": sweep}, "L", "A" if sweep == "A" else "p")
        cc = _worst(records, {"kind": "neps", "sweep": sweep}, "c_cov", "A" if sweep == "A" else "p")
        c[("neps", sweep)] = [(cc[x], n[x], L[x]) for x in n]
    c["block"] = _worst(records, {"kind": "block"}, "regret", "m")
    c["hybrid"] = {alg: _worst(records, {"kind": "hybrid", "alg": alg}, "risk", "lam") for alg in HYBRID_ALGS}
    c["c_star"] = _worst(records, {"kind": "hybrid"}, "c_star", "lam")
    c["incomplete"] = {alg: _frac(records, {"kind": "incomplete", "alg": alg}, "risk") for alg in INCOMPLETE_ALGS}
    return c


def _frac(records, match, metric, agg=np.mean) -> float:
    vals = [r["metrics"][metric] for r in records if all(r["config"].get(k) == v for k, v in match.items())]
    return float(agg(vals)) if vals else float("nan")


def summarize(records: list[dict]) -> dict:
    """Slopes (regret vs T, N vs C_cov, regret vs |X|), Q*-kept fractions, potential ratios, hybrid risks."""
    c = curves(records)
    out: dict = {}
    for s, label in ((1.0, "theory"), (SCALED, "scaled")):
        reg = c[("regret", s)]
        out[f"regret_slope ({label})"] = loglog_slope(list(reg), list(reg.values()))
        out[f"regret_slope ({label}) 95% CI"] = _slope_ci(records, {"kind": "regret", "beta_scale": s}, "regret", "T")
        out[f"q_star_kept ({label})"] = _frac(records, {"kind": "regret", "beta_scale": s}, "q_star_kept")
        out[f"max potential/bound ({label})"] = _frac(records, {"kind": "regret", "beta_scale": s},
                                                      "potential_ratio", np.max)
        out[f"regret_curve_{label}"] = {str(k): v for k, v in reg.items()}
    for sweep in ("A", "p"):
        pts = c[("neps", sweep)]
        cc, n, L = (np.array(x) for x in zip(*pts, strict=True))
        out[f"N(eps) slope vs C_cov ({sweep}-sweep)"] = loglog_slope(cc, n)
        out[f"N(eps)/L slope vs C_cov ({sweep}-sweep)"] = loglog_slope(cc, n / L)
        out[f"N(eps) censored runs ({sweep}-sweep)"] = _frac(records, {"kind": "neps", "sweep": sweep}, "censored",
                                                              np.sum)
        out[f"neps_curve_{sweep}"] = [{"c_cov": float(a), "N": float(b), "L": float(d)} for a, b, d in pts]
    blk = c["block"]
    out["block regret slope vs |X|"] = loglog_slope([3 * m for m in blk], list(blk.values()))
    out["block regret slope vs |X| 95% CI"] = _slope_ci(records, {"kind": "block"}, "regret", "m", scale=3.0)
    out["block regret max/min over |X|"] = max(blk.values()) / min(blk.values())
    out["block_curve"] = {str(3 * m): v for m, v in blk.items()}
    for lam, cs in c["c_star"].items():
        for alg in HYBRID_ALGS:
            out[f"risk lam={lam:g} (C*={cs:.2g}) {alg}"] = c["hybrid"][alg][lam]
    out["constants"] = {"eps": EPS, "beta_scale_scaled": SCALED, "gamma_scale_scaled": GAMMA_SCALED,
                        "regret_instance": "coverability_family(3, 3, 0.5), C_cov = 6", "decoy_bonus": "2 gap",
                        "worst_case_over": "gap grid, of the mean over seeds"}
    out["bootstrap"] = {**BOOTSTRAP, "over": "seed indices, resampled with replacement; the worst instance and "
                        "the slope are recomputed per resample (regret and block slopes)"}
    for alg, risk in c["incomplete"].items():
        out[f"incomplete class: risk {alg}"] = risk
    out.update(alone_summary(records))
    return out


def _alone_runs(records, kind: str, by: str) -> dict:
    """Per value of ``by``: the runs' metrics (every seed and rep) of the ``kind`` sweep."""
    runs: dict = {}
    for rec in records:
        if rec["config"].get("kind") == kind:
            runs.setdefault(rec["config"][by], []).append(rec["metrics"])
    return dict(sorted(runs.items()))


def alone_summary(records: list[dict]) -> dict:
    """The two one-factor sweeps: slopes of N(eps) against C_cov(Pi) and against L, with bootstrap intervals."""
    out: dict = {}
    for kind, by, xname, label in (("cov_alone", "s", "c_cov_class", "C_cov(Pi)"),
                                   ("class_alone", "n", "L", "L = log(6|F||W|TH/delta)")):
        runs = _alone_runs(records, kind, by)
        if not runs:
            continue
        x = [float(np.mean([m[xname] for m in ms])) for ms in runs.values()]
        samples = [[m["N"] for m in ms] for ms in runs.values()]
        fit = bootstrap_loglog_slope(x, samples, seed=0)
        tag = "C_cov alone" if kind == "cov_alone" else "class size alone"
        out[f"N(eps) slope vs {label} ({tag})"] = fit["slope"]
        out[f"N(eps) slope CI ({tag})"] = [fit["ci_low"], fit["ci_high"]]
        out[f"N(eps) censored runs ({tag})"] = float(sum(m["censored"] for ms in runs.values() for m in ms))
        out[f"alone_fit_{kind}"] = {"x": label, **fit}
        if kind == "class_alone":  # the cost per decoy: N against |F| and against |F| L
            for name, xs in (("|F|", [ms[0]["n_f"] for ms in runs.values()]),
                             ("|F| L", [ms[0]["n_f"] * xi for ms, xi in zip(runs.values(), x, strict=True)])):
                extra = bootstrap_loglog_slope(xs, samples, seed=0)
                out[f"N(eps) slope vs {name} ({tag})"] = extra["slope"]
                out[f"N(eps) slope vs {name} CI ({tag})"] = [extra["ci_low"], extra["ci_high"]]
        out[f"alone_curve_{kind}"] = [
            {by: k, "c_cov_class": float(np.mean([m["c_cov_class"] for m in ms])),
             "c_cov_all": float(np.mean([m["c_cov_all"] for m in ms])), "n_f": float(ms[0]["n_f"]),
             "L": float(np.mean([m["L"] for m in ms])), "N_mean": float(np.mean([m["N"] for m in ms])),
             "N_runs": [m["N"] for m in ms]} for k, ms in runs.items()]
    return out


def plot(records: list[dict], fitted: dict) -> dict:
    """Four panels: regret vs T, N(eps) vs C_cov, regret vs |X| (Block MDP), hybrid risk vs C_star."""
    from theory_rl.plotting import new_figure

    c = curves(records)
    fig, ((ax_r, ax_n), (ax_b, ax_h)) = new_figure(2, 2, width=11.0, height=8.0)
    for s, label, marker in ((1.0, "theory constants", "o"), (SCALED, rf"$\beta\times${SCALED:g}", "s")):
        reg = c[("regret", s)]
        T = np.array(list(reg), dtype=float)
        ax_r.loglog(T, list(reg.values()), marker=marker, label=f"GLOW, {label}")
    ref = c[("regret", SCALED)]
    T = np.array(list(ref), dtype=float)
    ax_r.loglog(T, ref[T[-1]] * np.sqrt(T / T[-1]), "k:", label=r"slope 1/2")
    ax_r.set(xlabel="rounds T", ylabel="regret (worst over gaps)", title="Regret vs T (Thm 3.1)")
    ax_r.legend(fontsize="small")
    for sweep, marker in (("A", "o"), ("p", "s")):
        cc, n, _ = zip(*c[("neps", sweep)], strict=True)
        lab = "A sweep (k=2, p=1)" if sweep == "A" else "p sweep (k=A=3)"
        ax_n.loglog(cc, n, marker=marker, label=lab)
    cc, n, _ = zip(*c[("neps", "A")], strict=True)
    ax_n.loglog(cc, n[0] * np.array(cc) / cc[0], "k:", label="slope 1")
    ax_n.set(xlabel=r"$C_{cov}$", ylabel=rf"$N(\varepsilon)$, $\varepsilon$={EPS}", title="N(eps) vs coverability")
    ax_n.legend(fontsize="small")
    blk = c["block"]
    ax_b.semilogx([3 * m for m in blk], list(blk.values()), marker="o", base=2)
    ax_b.set(xlabel="|X| (observations)", ylabel="regret", title=r"Block MDP: $C_{cov}$ fixed, |X| grows",
             ylim=(0, 1.3 * max(blk.values())))
    lams = sorted(c["c_star"])
    cs = [c["c_star"][lam] for lam in lams]
    styles = {"hyglow": "-", "hyq": "-", "h2o_mle": "-", "glow": ":", "mabo": "--"}  # hybrid / online / offline
    for i, alg in enumerate(HYBRID_ALGS):
        ls = next(v for k, v in styles.items() if alg.startswith(k))
        ax_h.plot(cs, [c["hybrid"][alg][lam] for lam in lams], marker="os^vDPX"[i], linestyle=ls, label=alg)
    ax_h.set(xscale="log", xlabel=r"$C_\star$ of the offline data", ylabel="sub-optimality of the output",
             title="Hybrid: HyGLOW vs Hy-Q vs GLOW vs MABO.CR")
    ax_h.legend(fontsize="x-small")
    fig2, ax = new_figure(1, 1, width=6.5, height=4.0)
    algs = list(c["incomplete"])
    ax.bar(range(len(algs)), [c["incomplete"][a] for a in algs], color=[f"C{i}" for i in range(len(algs))])
    ax.set_xticks(range(len(algs)), algs, rotation=30, fontsize="small")
    ax.set(ylabel="sub-optimality of the output", title="Realizable, not complete: FQI / Hy-Q fail")
    figs = {NAME: fig, f"{NAME}_incomplete": fig2}
    if "alone_curve_cov_alone" in fitted and "alone_curve_class_alone" in fitted:
        fig3, axes = new_figure(1, 2, width=10.0, height=4.0)
        for ax, kind, xkey, xlabel, tag in (
                (axes[0], "cov_alone", "c_cov_class", r"$C_{cov}(\Pi)$ (|F| fixed)", "C_cov alone"),
                (axes[1], "class_alone", "L", r"$L = \log(6|F||W|TH/\delta)$ ($C_{cov}(\Pi)$ fixed)",
                 "class size alone")):
            pts = fitted[f"alone_curve_{kind}"]
            for p_ in pts:
                ax.scatter([p_[xkey]] * len(p_["N_runs"]), p_["N_runs"], s=8, color="0.6")
            ax.loglog([p_[xkey] for p_ in pts], [p_["N_mean"] for p_ in pts], "o-", color="C0", label="mean")
            fit = fitted[f"alone_fit_{kind}"]
            text = "n/a" if fit["slope"] is None else f"{fit['slope']:.2f}"
            if fit["ci_low"] is not None:
                text += f" [{fit['ci_low']:.2f}, {fit['ci_high']:.2f}]"
            ax.set(xlabel=xlabel, ylabel=rf"$N(\varepsilon)$, $\varepsilon$={EPS}", title=f"{tag}: slope {text}")
            ax.legend(fontsize="small")
        figs[f"{NAME}_factors"] = fig3
    return figs


def main(argv=None) -> int:
    """Command line entry point; returns the exit status."""
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=2, quick_trials=1)
    return run_experiment(args, cell, configs(args.quick), summarize=summarize, plot=plot)


if __name__ == "__main__":
    sys.exit(main())

"""FTPedel on the d = 2 hybrid family: online episodes against offline data, success frequency, verifiability.

Instance: :func:`theory_rl.linear.hybrid_family` (p = 0.1, pi* = the safe path, gap 0.26); offline data put on the
rare direction e1 at both steps (``Lambda_off,h = N_off e1 e1^T``). Cells:

- ``ftpedel``: FTPedel with N_off offline transitions (N_off = 0 is PEDEL); online episodes per step, success
  (the returned policy is eps-optimal).
- ``pevi``: PEVI on the same offline data only (no online episodes); success.
- ``beta sweep``: FTPedel with ``beta_l`` scaled by 1, 0.1, ..., 1e-6 at N_off = 0 and 1e6, to show how far the
  default constants are from the point where the success frequency drops below 1 - delta.
- ``separation``: offline data covering only pi* (``N_off e2 e2^T``): PEVI (unverifiable) against FTPedel
  (verifiable) on the same data.

The summary adds the predicted minimal T_on (sum over h of ``min{T : C^h_o2o <= 1}``, computed exactly with cvxpy
and bisection, :mod:`theory_rl.o2o`) for each N_off. Wagenmaker & Pacchiano (2023) run no experiments: this
regenerates their bound's shape, not a figure of theirs.

Run ``python -m experiments.ftpedel_hybrid --quick`` for a version of a few seconds.
"""

from __future__ import annotations

import math
import sys
from functools import partial

from experiments._cli import mean_by, parse_args, run_experiment
from theory_rl.runner import grid

NAME = "ftpedel_hybrid"
P, R_SAFE, EPS, DELTA = 0.1, 0.3, 0.1, 0.1
PAPER_NOFF = (0, 10**2, 10**3, 10**4, 10**5, 10**6, 10**7, 10**8)
QUICK_NOFF = (0, 10**4, 10**8)
# The predicted T_on's bisection: a 1% bracket below 1e12 by default; --quick brackets within 10% below 1e8 (T_on is
# ~1e4 per step here), 10 cvxpy solves per step instead of 14 (issue 16).
RTOL, T_MAX, QUICK_RTOL, QUICK_T_MAX = 0.01, 1e12, 0.1, 1e8
SEPARATION_NOFF = 10**6
BETA_SCALES = (1.0, 0.1, 0.01, 0.001, 1e-4, 1e-5, 1e-6)


def configs(quick: bool) -> list[dict]:
    """FTPedel and PEVI at every N_off (offline on e1), and the two separation cells (offline on pi* only)."""
    noff = list(QUICK_NOFF if quick else PAPER_NOFF)
    common = {"p": [P], "r_safe": [R_SAFE], "eps": [EPS], "delta": [DELTA]}
    return (grid(kind=["ftpedel", "pevi"], n_off=noff, cover=["e1"], beta_scale=[1.0], **common)
            + grid(kind=["ftpedel", "pevi"], n_off=[SEPARATION_NOFF], cover=["pi_star"], beta_scale=[1.0], **common)
            + grid(kind=["ftpedel"], n_off=[0, SEPARATION_NOFF], cover=["e1"], beta_scale=list(BETA_SCALES[1:]),
                   **common))


def instance(config: dict):
    from theory_rl.generators.linear import hybrid_family

    return hybrid_family(config["p"], r_safe=config["r_safe"])


def offline_counts(config: dict):
    """Visit counts (H, S, A) of the offline data: e1 = (s0, explore), (u, 0); pi_star = (s0, safe), (c, 0)."""
    import numpy as np

    n_sa = np.zeros((2, 3, 2))
    if config["cover"] == "e1":
        n_sa[0, 0, 0] = n_sa[1, 1, 0] = config["n_off"]
    else:
        n_sa[0, 0, 1] = n_sa[1, 2, 0] = config["n_off"]
    return n_sa


def cell(config: dict, seed: int) -> dict:
    """Draw the offline data from ``seed``, run FTPedel or PEVI, return online episodes and success."""
    import numpy as np

    from theory_rl.algorithms.ftpedel import distinct_policies, ftpedel
    from theory_rl.algorithms.linear import pevi
    from theory_rl.data import sample_generative
    from theory_rl.planning import expected_return

    lin = instance(config)
    tab = lin.to_tabular()
    v_star = max(expected_return(tab, p) for p in distinct_policies(lin))
    data_seed, run_seed = np.random.SeedSequence(seed).spawn(2)
    offline = sample_generative(lin, offline_counts(config), data_seed)
    if config["kind"] == "ftpedel":
        res = ftpedel(lin, config["eps"], config["delta"], seed=run_seed, offline=offline,
                      beta_scale=config["beta_scale"])
        policy, per_step = res.policy, [int(x) for x in res.episodes_per_step]
    else:
        policy, per_step = pevi(lin.phi, offline, xi=config["delta"]).policy, [0, 0]
    subopt = v_star - expected_return(tab, policy)
    return {"episodes": sum(per_step), "episodes_h0": per_step[0], "episodes_h1": per_step[1],
            "subopt": float(subopt), "success": float(subopt <= config["eps"])}


def predicted_t_on(config: dict, rtol: float = RTOL, T_max: float = T_MAX) -> tuple[float, float]:
    """``min{T : C^h_o2o(D_off, eps, T) <= 1}`` for h = 0, 1 (exact, cvxpy + bisection to ``rtol``)."""

    from theory_rl.coverage.o2o import minimal_online_episodes
    from theory_rl.linear import feature_covariance

    lin = instance(config)
    cov = feature_covariance(offline_counts(config), lin.stage_phi)
    return tuple(minimal_online_episodes(lin, cov, config["eps"], h=h, delta=config["delta"], rtol=rtol,
                                         T_max=T_max) for h in range(lin.H))


def _means(records: list[dict], metric: str) -> dict:
    """Means over seeds keyed (kind, cover, n_off) at the default beta, and (n_off, beta_scale) for FTPedel."""
    by = mean_by(records, ("kind", "cover", "n_off", "beta_scale"), metric)
    main = {(k, c, n): v for (k, c, n, b), v in by.items() if b == 1.0}
    sweep = {(n, b): v for (k, c, n, b), v in by.items() if k == "ftpedel" and c == "e1" and n in (0, SEPARATION_NOFF)}
    return main, sweep


def summarize(records: list[dict], rtol: float = RTOL, T_max: float = T_MAX) -> dict:
    """Measured online episodes and predicted T_on per N_off (bisection to ``rtol`` below ``T_max``), success
    frequencies, the separation."""
    fitted: dict = {}
    eps_on, eps_sweep = _means(records, "episodes")
    success, succ_sweep = _means(records, "success")
    noffs = sorted(n for (k, c, n) in eps_on if k == "ftpedel" and c == "e1")
    base = {"p": P, "r_safe": R_SAFE, "eps": EPS, "delta": DELTA}
    for n in noffs:
        t0, t1 = predicted_t_on({**base, "n_off": n, "cover": "e1"}, rtol, T_max)
        fitted[f"N_off={n:.0e}.episodes"] = eps_on["ftpedel", "e1", n]
        fitted[f"N_off={n:.0e}.predicted_T_on"] = t0 + t1
        fitted[f"N_off={n:.0e}.measured/predicted"] = eps_on["ftpedel", "e1", n] / (t0 + t1)
    fitted["pedel_episodes(N_off=0)"] = eps_on["ftpedel", "e1", noffs[0]]
    fitted["episode_ratio(max N_off / 0)"] = eps_on["ftpedel", "e1", noffs[-1]] / eps_on["ftpedel", "e1", noffs[0]]
    fitted["ftpedel_min_success"] = min(success["ftpedel", "e1", n] for n in noffs)
    fitted["pevi_max_success(e1 data)"] = max(success["pevi", "e1", n] for n in noffs)
    fitted["1-delta"] = 1 - DELTA
    for (n, b), v in sorted(succ_sweep.items()):
        if (n, b) in eps_sweep and b != 1.0:
            fitted[f"beta_scale={b:g},N_off={n:.0e}.success"] = v
            fitted[f"beta_scale={b:g},N_off={n:.0e}.episodes"] = eps_sweep[n, b]
    t0, t1 = predicted_t_on({**base, "n_off": SEPARATION_NOFF, "cover": "pi_star"}, rtol, T_max)
    fitted["separation.pevi_success"] = success["pevi", "pi_star", SEPARATION_NOFF]
    fitted["separation.ftpedel_success"] = success["ftpedel", "pi_star", SEPARATION_NOFF]
    fitted["separation.ftpedel_episodes"] = eps_on["ftpedel", "pi_star", SEPARATION_NOFF]
    fitted["separation.predicted_T_on"] = t0 + t1
    fitted["separation.C_o2o(T=0)"] = "inf" if math.isinf(_c_at_zero(base)) else _c_at_zero(base)
    return fitted


def _c_at_zero(base: dict) -> float:
    import numpy as np

    from theory_rl.coverage.o2o import o2o_coefficient
    from theory_rl.linear import feature_covariance

    config = {**base, "n_off": SEPARATION_NOFF, "cover": "pi_star"}
    lin = instance(config)
    cov = feature_covariance(offline_counts(config), lin.stage_phi)
    return float(np.max(o2o_coefficient(lin, cov, EPS, 0.0, delta=DELTA)))


def plot(records: list[dict], fitted: dict) -> dict:
    """Four panels: online episodes vs N_off (with predicted T_on), success frequency vs N_off and vs the scale of
    beta_l, the separation."""
    from theory_rl.plotting import new_figure

    eps_on, _ = _means(records, "episodes")
    success, succ_sweep = _means(records, "success")
    noffs = sorted(n for (k, c, n) in eps_on if k == "ftpedel" and c == "e1")
    pos = [n for n in noffs if n > 0]
    fig, ((ax_e, ax_s), (ax_b, ax_v)) = new_figure(2, 2)
    for n, marker in ((0, "o"), (SEPARATION_NOFF, "s")):
        bs = sorted(b for (m, b) in succ_sweep if m == n)
        ax_b.semilogx(bs, [succ_sweep[n, b] for b in bs], marker=marker, label=f"$N_{{off}}$={n:.0e}")
    ax_b.axhline(1 - DELTA, color="0.5", linestyle=":", label=r"$1-\delta$")
    ax_b.set(xlabel=r"scale of $\beta_\ell$ (1 = PEDEL's 36 $H^4\log$)", ylabel="success frequency",
             title="Success vs the constant", ylim=(-0.05, 1.05))
    ax_b.legend(fontsize="small")
    ax_e.loglog(pos, [eps_on["ftpedel", "e1", n] for n in pos], marker="o", label="FTPedel (measured)")
    ax_e.loglog(pos, [fitted[f"N_off={n:.0e}.predicted_T_on"] for n in pos], marker="s", linestyle="--",
                label=r"predicted min $T_{on}$ ($C_{o2o}\leq 1$)")
    ax_e.axhline(eps_on["ftpedel", "e1", 0], color="C2", linestyle=":", label="PEDEL ($N_{off}=0$)")
    ax_e.axhline(fitted[f"N_off={0:.0e}.predicted_T_on"], color="C2", linestyle="-.", linewidth=1,
                 label="predicted $T_{on}$ at $N_{off}=0$")
    ax_e.set(xlabel=r"offline transitions $N_{off}$ (on $e_1$)", ylabel="online episodes",
             title="Online episodes vs offline data")
    ax_e.legend(fontsize="small")
    ax_s.semilogx(pos, [success["ftpedel", "e1", n] for n in pos], marker="o", label="FTPedel")
    ax_s.semilogx(pos, [success["pevi", "e1", n] for n in pos], marker="x", label="PEVI (offline only)")
    ax_s.axhline(1 - DELTA, color="0.5", linestyle=":", label=r"$1-\delta$")
    ax_s.set(xlabel=r"$N_{off}$", ylabel=rf"frequency of $\varepsilon$-optimal ($\varepsilon$={EPS})",
             title="Success", ylim=(-0.05, 1.05))
    ax_s.legend(fontsize="small")
    labels = ["PEVI\n(offline on $\\pi^*$)", "FTPedel\n(offline on $\\pi^*$)", "PEDEL\n(no offline)"]
    vals = [0.0, eps_on["ftpedel", "pi_star", SEPARATION_NOFF], eps_on["ftpedel", "e1", 0]]
    succ = [success["pevi", "pi_star", SEPARATION_NOFF], success["ftpedel", "pi_star", SEPARATION_NOFF],
            success["ftpedel", "e1", 0]]
    bars = ax_v.bar(range(3), vals, color=["C1", "C0", "C2"])
    for b, s in zip(bars, succ, strict=True):
        ax_v.annotate(f"success {s:.2f}", (b.get_x() + b.get_width() / 2, b.get_height()), ha="center",
                      va="bottom", fontsize="small")
    ax_v.set_xticks(range(3), labels, fontsize="small")
    ax_v.set(ylabel="online episodes", title="Unverifiable vs verifiable")
    return {NAME: fig}


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=20, quick_trials=2)
    fit = partial(summarize, rtol=QUICK_RTOL, T_max=QUICK_T_MAX) if args.quick else summarize
    return run_experiment(args, cell, configs(args.quick), summarize=fit, plot=plot)


if __name__ == "__main__":
    sys.exit(main())

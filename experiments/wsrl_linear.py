"""WSRL's stability oracle: is expected linear TD on the switch-time buffer stable? Offline data, warm-up data,
a narrow first online buffer and their mixtures, with random features and with one-hot (tabular) features.

Zhou et al. (ICLR 2025, arXiv 2412.07762) attribute the collapse of fine-tuning without retained offline data to
the mismatch between the buffer and the target, and fix it with a warm-up of the frozen offline policy. Exact
analogue (digest WP-C, C1; :mod:`theory_rl.algorithms.o2o.linear_td`): at the switch the target policy is the
offline policy ``pi_off`` (VI-LCB, paper constants, on 10 episodes of ``0.4 pi* + 0.6 uniform`` on a 5x5
gridworld); the expected TD matrix ``A = Phi^T D (Phi - gamma P_pi Phi)`` is computed for the buffers

- ``offline``: the offline counts (off-policy for ``pi_off``);
- ``warmup_exact``: the discounted occupancy of ``pi_off`` (the on-policy theorem's distribution);
- ``warmup_sampled``: the counts of 250 warm-up steps of ``pi_off`` (episodes of 25 steps: the undiscounted
  per-step average, not the discounted occupancy);
- ``online_narrow``: one episode (25 steps) of the epsilon-greedy (0.3) behaviour around ``pi_off``;
- ``mix_0.5``: half offline, half ``warmup_exact``;

with ``d = 6`` features uniform on [0, 1] (non-negative like tile or RBF activations; a new draw per seed;
centred Gaussian features are almost never unstable here) and with one-hot features (the negative control). Reported:
the fraction of runs with an unstable ``A`` (an eigenvalue with a negative real part), and the smallest relative
margin ``min eig(sym A, G)`` against the on-policy bound ``1 - sqrt(gamma)``.

Second panel (``finetune``): the fine-tuning itself with linear features
(:func:`theory_rl.algorithms.o2o.finetune` with ``features``), on the 5x5 gridworld at gamma 0.9 with 10 offline
episodes of 20 steps of ``0.4 pi* + 0.6 uniform`` and VI-LCB offline (``penalty_scale`` 0.05: with the paper's
constant the unseen pairs' ``Q`` reach -1.5e3 and no smooth feature map can project it); methods ``no_retain``
(offline fraction 0), ``retain`` (0.5) and ``wsrl`` (fraction 0, warm-up 200 steps of the frozen offline
policy); features ``rbf`` (action one-hot times 9 Gaussian bumps of width 1 cell on a 3x3 lattice, d = 36: the
offline ``Q`` is projected, so parameters are shared between pairs) against ``onehot`` (the tabular control);
2000 online steps (400 with --quick), UTD 4, Polyak 5e-3, step 0.5, epsilon 0.1. Metrics: the dip from the start of
the online phase ``max(0, J_eval[0] - min_t J_eval[t])`` (all rounds and the first 10), the TD error on the
offline distribution (peak and final over the value after the offline phase), final ``J`` and regret.

    python -m experiments.wsrl_linear [--quick] [--seed S] [--trials T] [--workers W] [--out DIR]
"""

from __future__ import annotations

import sys

import numpy as np

from experiments._cli import parse_args, run_experiment
from experiments._o2o_common import group, mean_ci

NAME = "wsrl_linear"
BUFFERS = ("offline", "warmup_exact", "warmup_sampled", "online_narrow", "mix_0.5")
D_FEATURES, N_STEPS, WARMUP_EPISODES, EPSILON = 6, 25, 10, 0.3


FT_METHODS = {"no_retain": {}, "retain": {"offline_fraction": 0.5}, "wsrl": {"warmup_steps": 200}}
FT_FEATURES = ("rbf", "onehot")
FT_EARLY = 10


def configs(quick: bool) -> list[dict]:
    """gamma x feature kind (stability panel); method x features (fine-tuning panel)."""
    out = [{"gamma": g, "features": f} for g in ((0.99,) if quick else (0.9, 0.99)) for f in ("random", "tabular")]
    return out + [{"panel": "finetune", "method": m, "features": f, "T": 400 if quick else 2000}
                  for m in FT_METHODS for f in FT_FEATURES]


def rbf_features(mdp, rows: int = 5, cols: int = 5, centres: int = 3, width: float = 1.0) -> np.ndarray:
    """``phi(s, a) = e_a (x) exp(-|cell(s) - c_k|^2 / (2 width^2))``, ``c_k`` on a ``centres x centres`` lattice."""
    cells = np.array([(s // cols, s % cols) for s in range(mdp.S)], float)
    lattice = np.array([(i, j) for i in np.linspace(0, rows - 1, centres) for j in np.linspace(0, cols - 1, centres)])
    bumps = np.exp(-((cells[:, None, :] - lattice[None]) ** 2).sum(-1) / (2 * width**2))
    return np.einsum("sk,ab->sabk", bumps, np.eye(mdp.A)).reshape(mdp.S, mdp.A, -1)


def finetune_cell(config: dict, seed: int) -> dict:
    """One dataset, one fine-tuning run with linear (RBF) or one-hot features; exact metrics."""
    from theory_rl import data, generators, planning
    from theory_rl.algorithms.o2o import finetune, initial_dip

    mdp = generators.gridworld(5, 5, slip=0.1, gamma=0.9)
    behaviour = 0.4 * np.eye(mdp.A)[planning.solve(mdp).policy] + 0.6 / mdp.A
    data_seed, run_seed = np.random.SeedSequence(seed).spawn(2)
    builder = data.CountsBuilder(mdp.S, mdp.A, gamma=mdp.gamma)
    builder.add_rollouts(data.sample_rollouts(mdp, behaviour, 10, data_seed, n_steps=20))
    phi = rbf_features(mdp) if config["features"] == "rbf" else np.eye(mdp.S * mdp.A).reshape(mdp.S, mdp.A, -1)
    res = finetune(mdp, builder.to_counts(), seed=run_seed, offline_kwargs={"penalty_scale": 0.05},
                   online_steps=config["T"], n_steps=20, features=phi, **FT_METHODS[config["method"]])
    td0 = max(float(res.td_offline[0]), 1e-12)
    J0 = float(res.J_eval[0])
    return {"J_offline": res.J_offline, "J_start": J0, "dip": initial_dip(J0, res.J_eval[1:]),
            "dip_early": initial_dip(J0, res.J_eval[1:], window=FT_EARLY), "J_final": float(res.J_eval[-1]),
            "regret": float(res.regret[-1]), "td_peak_ratio": float(res.td_offline.max() / td0),
            "td_final_ratio": float(res.td_offline[-1] / td0), "td_rises": float(res.td_offline.max() > td0 * 1.01),
            "td_offline": [float(x) for x in res.td_offline], "J_eval": [float(x) for x in res.J_eval]}


FT_METRICS = ("J_offline", "J_start", "dip", "dip_early", "J_final", "regret", "td_peak_ratio", "td_final_ratio",
              "td_rises")


def cell(config: dict, seed: int) -> dict:
    """One dataset, one feature draw; the stability of every buffer (or one fine-tuning run)."""
    if config.get("panel") == "finetune":
        return finetune_cell(config, seed)
    from theory_rl import data, generators, planning
    from theory_rl.algorithms import lcb
    from theory_rl.algorithms.o2o import expected_td, td_stability

    gamma = config["gamma"]
    mdp = generators.gridworld(5, 5, slip=0.1, gamma=gamma)
    S, A = mdp.S, mdp.A
    rng = np.random.default_rng(seed)
    behaviour = 0.4 * np.eye(A)[planning.solve(mdp).policy] + 0.6 / A

    def counts(policy, n_episodes):
        b = data.CountsBuilder(S, A, gamma=gamma)
        b.add_rollouts(data.sample_rollouts(mdp, policy, n_episodes, int(rng.integers(2**62)), n_steps=N_STEPS))
        N = np.asarray(b.counts, float)
        return N / N.sum(), b.to_counts()

    mu_off, D = counts(behaviour, 10)
    pi_off = lcb.vi_lcb(D, split=False).policy
    occ = planning.occupancy(mdp, pi_off)
    explore = (1 - EPSILON) * np.eye(A)[pi_off] + EPSILON / A
    buffers = {"offline": mu_off, "warmup_exact": occ, "warmup_sampled": counts(pi_off, WARMUP_EPISODES)[0],
               "online_narrow": counts(explore, 1)[0], "mix_0.5": 0.5 * mu_off + 0.5 * occ}
    if config["features"] == "random":
        phi = rng.random((S, A, D_FEATURES))  # non-negative, like tile or RBF activations
    else:
        phi = np.eye(S * A).reshape(S, A, S * A)
    flat = phi.reshape(S * A, -1)
    out = {"bound": 1 - np.sqrt(gamma)}
    for name, mu in buffers.items():
        Amat, _ = expected_td(mdp, phi, pi_off, mu)
        stab = td_stability(Amat)
        out[f"{name}_unstable"] = float(stab["min_real_eig"] < 0)
        out[f"{name}_min_real_eig"] = stab["min_real_eig"]
        # the relative margin on the span of the features over the buffer's support (range of G): off it Phi w = 0
        G = flat.T @ (mu.reshape(-1, 1) * flat)
        vals, vecs = np.linalg.eigh(G)
        U = vecs[:, vals > 1e-12 * vals.max()]
        out[f"{name}_relative_margin"] = td_stability(U.T @ Amat @ U, U.T @ G @ U)["relative_margin"]
    return out


def summarize(records: list[dict]) -> dict:
    """Unstable fractions (mean, 95% CI) and worst relative margins per buffer, gamma and feature kind."""
    out: dict = {}
    table = []
    for name in BUFFERS:
        for (gamma, feats), vals in group(records, ("gamma", "features"), f"{name}_unstable").items():
            m, h = mean_ci(vals)
            margins = group([r for r in records if r["config"].get("gamma") == gamma and
                             r["config"]["features"] == feats], ("gamma",), f"{name}_relative_margin")
            worst = min(margins[(gamma,)]) if margins else float("nan")
            out[f"{name} gamma={gamma} {feats}: unstable fraction"] = f"{m:.2f} +- {h:.2f} (n={len(vals)})"
            out[f"{name} gamma={gamma} {feats}: worst relative margin"] = worst
            table.append({"buffer": name, "gamma": gamma, "features": feats, "unstable": m, "ci95": h,
                          "worst_margin": worst, "bound": 1 - gamma**0.5})
    out["table"] = table
    ft = []
    for method in FT_METHODS:
        for feats in FT_FEATURES:
            row = {"method": method, "features": feats}
            for metric in FT_METRICS:
                vals = group([r for r in records if r["config"].get("panel") == "finetune"],
                             ("method", "features"), metric).get((method, feats), [])
                row[metric], row[metric + "_ci95"] = mean_ci(vals) if vals else (float("nan"), float("nan"))
                row["n"] = len(vals)
            ft.append(row)
            out[f"finetune {method} {feats}"] = ", ".join(
                f"{m} {row[m]:.3g} +- {row[m + '_ci95']:.2g}" for m in FT_METRICS) + f" (n={row['n']})"
    out["finetune_table"] = ft
    return out


def plot(records: list[dict], fitted: dict) -> dict:
    """Unstable fraction per buffer (bars), and the relative margins against the on-policy bound."""
    from theory_rl.plotting import new_figure

    rows = [r for r in fitted["table"] if r["features"] == "random"]
    gammas = sorted({r["gamma"] for r in rows})
    fig, (ax, ax2) = new_figure(1, 2, width=11.0, height=4.0)
    width = 0.8 / len(gammas)
    for j, g in enumerate(gammas):
        sub = [r for r in rows if r["gamma"] == g]
        ax.bar(np.arange(len(sub)) + j * width, [r["unstable"] for r in sub], width, yerr=[r["ci95"] for r in sub],
               label=f"gamma={g}", capsize=3)
        ax.set_xticks(np.arange(len(sub)) + width / 2, [r["buffer"] for r in sub], rotation=20, fontsize="small")
    ax.set(ylabel="fraction of runs with unstable A", title="Random features (d=6)")
    ax.legend(fontsize="small")
    for j, g in enumerate(gammas):
        for i, name in enumerate(BUFFERS):
            vals = [r["metrics"].get(f"{name}_relative_margin") for r in records
                    if r["config"].get("gamma") == g and r["config"]["features"] == "random"]
            vals = [v for v in vals if v is not None]
            ax2.scatter(np.full(len(vals), i + j * 0.3), vals, s=8, color=f"C{j}", alpha=0.6,
                        label=f"gamma={g}" if i == 0 else None)
        ax2.axhline(1 - g**0.5, color=f"C{j}", ls=":", lw=1)
    ax2.set_xticks(range(len(BUFFERS)), BUFFERS, rotation=20, fontsize="small")
    ax2.set(ylabel="min eig(sym A, G)", title="Relative margin vs the on-policy bound 1 - sqrt(gamma) (dotted)",
            yscale="symlog")
    ax2.legend(fontsize="small")
    figs = {NAME: fig}
    ft = [r for r in records if r["config"].get("panel") == "finetune"]
    if ft:
        fig2, axes = new_figure(1, 2, width=11.0, height=4.0)
        for i, (method, feats) in enumerate((m, f) for m in FT_METHODS for f in FT_FEATURES):
            runs = [r["metrics"] for r in ft if r["config"]["method"] == method and r["config"]["features"] == feats]
            if not runs:
                continue
            style = {"color": f"C{list(FT_METHODS).index(method)}", "ls": "-" if feats == "rbf" else ":",
                     "label": f"{method}, {feats}"}
            axes[0].plot(np.mean([r["J_eval"] for r in runs], axis=0), **style)
            axes[1].plot(np.mean([np.array(r["td_offline"]) / max(r["td_offline"][0], 1e-12) for r in runs],
                                 axis=0), **style)
        axes[0].set(xlabel="online round (20 steps)", ylabel="J of the greedy policy (mean over seeds)")
        axes[1].set(xlabel="online round (20 steps)", ylabel="TD error on D / its value at the switch",
                    yscale="log")
        axes[0].legend(fontsize="small")
        figs[NAME + "_finetune"] = fig2
    return figs


def main(argv=None) -> int:
    """Command line entry point; returns the exit status."""
    # --quick: 12 trials (30 before issue 16): the smoke checks hold with a wide margin (online_narrow unstable 0.42)
    args = parse_args(NAME, __doc__.splitlines()[0], argv, trials=60, quick_trials=12)
    return run_experiment(args, cell, configs(args.quick), summarize=summarize, plot=plot)


if __name__ == "__main__":
    sys.exit(main())

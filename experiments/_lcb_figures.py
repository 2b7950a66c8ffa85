"""Figures of experiments.lcb_rates: the paper's Fig. 2 from data, and the rates against N."""

from __future__ import annotations

import numpy as np

from theory_rl import bounds
from theory_rl.plotting import new_figure

COLORS = {"lcb": "C0", "greedy": "C1", "most_played": "C2"}
LABELS = {"lcb": "LCB", "greedy": "greedy (empirical best)", "most_played": "most-played (BC)"}
TITLES = {"mab": "multi-armed bandit (exact)", "cb": "contextual bandit", "mdp": "MDP (VI-LCB)"}
#: Upper bound of LCB and minimax lower bound per setting (theory_rl.bounds names).
THEOREMS = {
    "mab": ("rashidinejad2021_thm1", ("rashidinejad2021_thm2_large", "rashidinejad2021_thm2_small")),
    "cb": ("rashidinejad2021_thm4", ("rashidinejad2021_thm5",)),
    "mdp": ("rashidinejad2021_thm6_general", ("rashidinejad2021_thm7",)),
}
FLOOR = 1e-7  # lower edge of the log axes; exponentially small values (most-played, exact MAB) fall below it


def _bound_shape(name: str, c_grid: np.ndarray, N: int, setting: str) -> np.ndarray:
    """The theorem's expression on ``c_grid`` (NaN outside its regime); constants as in the theorem (none)."""
    bound = bounds.get(name)
    names = {str(symbol) for symbol in bound.symbols}
    values = {"N": N, "S": 5, "gamma": 0.9, "A": 2, "L": 1.0}
    out = np.full(c_grid.shape, np.nan)
    for i, c in enumerate(c_grid):
        kwargs = {k: v for k, v in {**values, "C": c}.items() if k in names}
        if bound.in_regime(**kwargs):
            out[i] = float(bound.evaluate(**kwargs))
    return out


def _bottom(setting: str, worst: dict) -> float:
    """Lower y-limit: FLOOR for the exact MAB panel (exponentially small values), else a bit below the data."""
    if setting == "mab":
        return FLOOR
    values = [mean for (s, *_), (mean, _) in worst.items() if s == setting and mean > 0]
    return max(FLOOR, min(values) / 3) if values else FLOOR


def figure2(worst: dict, plan: dict):
    """Sub-optimality against C* at fixed N: mean over datasets (band: +-2 standard errors) and the bound shapes.

    The theorems hold up to universal constants, so each bound's shape is scaled by one constant to meet LCB's
    measured value at the largest C* of the panel; the ratio between the curves is the theorem's.
    """
    fig, axes = new_figure(1, 3, width=13.5, height=4.0)
    for ax, setting in zip(axes, ("mab", "cb", "mdp"), strict=True):
        N, cs = plan[setting]["N_fig"], np.array(plan[setting]["fig_c"], dtype=float)
        for alg in ("lcb", "greedy", "most_played"):
            mean = np.array([worst[(setting, c, N, alg)][0] for c in cs])
            se = np.array([worst[(setting, c, N, alg)][1] for c in cs])
            ax.plot(cs, np.maximum(mean, FLOOR), "o-", color=COLORS[alg], label=LABELS[alg], ms=4)
            ax.fill_between(cs, np.maximum(mean - 2 * se, FLOOR), np.maximum(mean + 2 * se, FLOOR),
                            color=COLORS[alg], alpha=0.2, lw=0)
        anchor = worst[(setting, cs[-1], N, "lcb")][0]
        fine = np.linspace(cs[0], cs[-1], 200)
        upper, lowers = THEOREMS[setting]
        shape = _bound_shape(upper, fine, N, setting)
        scale = anchor / shape[-1] if np.isfinite(shape[-1]) and shape[-1] > 0 else 1.0
        ax.plot(fine, shape * scale, "k--", lw=1.2, label=f"upper bound shape ({bounds.get(upper).number})")
        for name in lowers:
            low = _bound_shape(name, fine, N, setting)
            if np.isfinite(low).any():
                last = low[np.isfinite(low)][-1]
                ax.plot(fine, np.maximum(low * (anchor / last if last > 0 else 1.0), FLOOR), "k:", lw=1.2,
                        label=f"lower bound shape ({bounds.get(name).number})")
        ax.set_yscale("log")
        ax.set_ylim(bottom=_bottom(setting, worst))
        ax.set_xlabel("C* (single-policy concentrability)")
        ax.set_title(f"{TITLES[setting]}, N = {N}")
    axes[0].set_ylabel("worst-case E[J(pi*) - J(pi_hat)]")
    entries: dict = {}
    for ax in axes:  # one legend for the figure: each label once
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    fig.legend(entries.values(), entries.keys(), loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    return fig


def _slope_text(record: dict | None) -> str:
    if record is None or record["slope"] is None:
        return "n/a"
    if record.get("ci_low") is None:
        return f"{record['slope']:+.2f}"
    return f"{record['slope']:+.2f} [{record['ci_low']:+.2f}, {record['ci_high']:+.2f}]"


def rate_figure(worst: dict, plan: dict, slopes: list[dict]):
    """Log-log worst-case sub-optimality against N, one line per (C*, algorithm), fitted slopes (with their
    bootstrap intervals) in the legend.

    Rules whose curves coincide exactly (at C* = 1 every rule picks the only action the expert data show) are drawn
    as one line with one label saying so. Values below the axis floor :data:`FLOOR` are drawn ON it with open
    markers, and the floor is a labelled dotted line, so a clipped value is never read as a measured one.
    """
    fig, axes = new_figure(1, 3, width=13.5, height=4.6)
    fitted = {(r["setting"], r["c_star"], r["algorithm"]): r for r in slopes}
    styles = ["-", "--", ":"]
    for ax, setting in zip(axes, ("mab", "cb", "mdp"), strict=True):
        Ns = np.array(plan[setting]["N"], dtype=float)
        clipped_any = False
        for j, c in enumerate(plan[setting]["rate_c"]):
            lines: list[tuple[list[str], np.ndarray]] = []  # rules with identical curves share one line
            for alg in ("lcb", "greedy", "most_played"):
                y = np.array([worst[(setting, c, int(N), alg)][0] for N in Ns])
                for algs, y_other in lines:
                    if np.array_equal(y, y_other):
                        algs.append(alg)
                        break
                else:
                    lines.append(([alg], y))
            for algs, y in lines:
                names = " = ".join(LABELS[a].split(" ")[0] for a in algs)
                label = f"{names}, C*={c:g}: slope {_slope_text(fitted.get((setting, c, algs[0])))}"
                if len(algs) > 1:
                    label += " (identical)"
                low = y < FLOOR
                clipped_any |= bool(low.any())
                ax.plot(Ns, np.maximum(y, FLOOR), styles[j % 3], color=COLORS[algs[0]], lw=1.2, label=label)
                ax.plot(Ns[~low], y[~low], "o", ms=3, color=COLORS[algs[0]])
                ax.plot(Ns[low], np.full(low.sum(), FLOOR), "o", ms=4, mfc="none", color=COLORS[algs[0]])
        ax.set_xscale("log")
        ax.set_yscale("log")
        bottom = _bottom(setting, worst)
        if clipped_any:  # room below the floor so its line and the open markers on it show
            bottom = min(bottom, FLOOR / 4)
            ax.axhline(FLOOR, color="0.4", ls=":", lw=0.8)
            ax.annotate(f"floor {FLOOR:g}: open markers are below it", (Ns[-1], FLOOR * 1.3), ha="right",
                        va="bottom", fontsize=6.5, color="0.3")
        ax.set_ylim(bottom=bottom)
        # explicit ticks at the measured N, no minor labels: the default log labels overlapped
        ax.set_xticks(Ns, [f"{int(N)}" for N in Ns], rotation=45, fontsize=7)
        ax.minorticks_off()
        ax.set_xlabel("N (samples)")
        ax.set_title(TITLES[setting])
        ax.legend(fontsize=6, loc="lower left", bbox_to_anchor=(0.0, 0.08) if clipped_any else None)
    axes[0].set_ylabel("worst-case E[J(pi*) - J(pi_hat)]")
    return fig

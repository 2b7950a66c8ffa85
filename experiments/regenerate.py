"""Regenerate every committed paper figure, its summary JSON and the README's tables, at paper scale.

    python -m experiments.regenerate [--workers W] [--no-progress] [--only NAME ...] [--deep]

Runs each experiment's default (paper-scale) command with ``--figures paper_figures``, so the figures in
``paper_figures/`` and the summaries beside them (``paper_figures/NAME_summary.json``) come from one run, then
rewrites the README's slope table from ``paper_figures/lcb_rates_summary.json`` (between the
``<!-- lcb-slopes:begin -->`` and ``<!-- lcb-slopes:end -->`` markers). Results databases go to ``results/`` as
usual, so an interrupted regeneration resumes. ``--deep`` adds the PyTorch 2D panels of the edge-of-reach
experiment (about 25 minutes with ``--workers 2``; needs the ``deep`` extra). A plain experiment command
(``python -m experiments.NAME``) never touches ``paper_figures/`` or the README.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPER_FIGURES = ROOT / "paper_figures"
README = ROOT / "README.md"
#: The experiments whose figures are committed, in the order they run.
EXPERIMENTS = (
    "lcb_rates", "gambler_vi_lcb", "ftpedel_hybrid", "glow_coverability", "edge_of_reach", "planning_scaling",
    "h2o_sim_gap", "hnpg_comblock", "hnpg_misspec",  # issue 17 [hybrid]
    "riql_corruption", "model_penalties", "guda_augmentation", "realism_benchmark", "oppo_preferences",  # issue 18
)
BEGIN, END = "<!-- lcb-slopes:begin -->", "<!-- lcb-slopes:end -->"

_SETTING_NAMES = {"mab": "multi-armed (exact)", "cb": "contextual bandit", "mdp": "MDP (VI-LCB)"}
_THEORY = {
    ("mab", 1.5): "LCB polynomial, most-played exp(-N KL)",
    ("mab", 2.0): "sqrt(C*/N)",
    ("cb", 1.0): "S/N",
    ("cb", 2.0): "sqrt(S(C*-1)/N)",
    ("mdp", 1.0): "S/N (Thms 6-7)",
    ("mdp", 2.0): "sqrt(S C*/N) (Thms 6-7)",
}


def _num(value: float, digits: int = 2) -> str:
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.00"


def _cell(record: dict) -> str:
    if record["slope"] is None:
        return "n/a"
    if record.get("ci_low") is None:
        return f"{_num(record['slope'], 1)} (exponential)" if record["slope"] < -2 else _num(record["slope"])
    return f"{_num(record['slope'])} [{_num(record['ci_low'])}, {_num(record['ci_high'])}]"


def readme_table(summary: dict) -> str:
    """The README's slope table (markdown) from a ``lcb_rates`` summary: slope [95% bootstrap CI over seeds]."""
    by_key = {(r["setting"], r["c_star"], r["algorithm"]): r for r in summary["slopes"]}
    lines = ["| setting | C* | LCB | greedy | most-played | theory |", "|---|---|---|---|---|---|"]
    for setting, c_star in _THEORY:
        if (setting, c_star, "lcb") not in by_key:
            continue
        cells = [_cell(by_key[(setting, c_star, alg)]) for alg in ("lcb", "greedy", "most_played")]
        row = [_SETTING_NAMES[setting], f"{c_star:g}", *cells, _THEORY[(setting, c_star)]]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def readme_section(text: str) -> str:
    """The table between the markers of ``text`` (the README), without the markers."""
    match = re.search(re.escape(BEGIN) + r"\n(.*?)\n" + re.escape(END), text, flags=re.S)
    if match is None:
        raise ValueError(f"README has no {BEGIN} ... {END} section")
    return match.group(1)


def update_readme(summary_path: Path = PAPER_FIGURES / "lcb_rates_summary.json", readme: Path = README) -> bool:
    """Rewrite the README's slope table from ``summary_path``; True when the README changed."""
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    if summary.get("quick"):
        raise ValueError(f"{summary_path} is a --quick run; the README quotes the paper-scale one")
    text = readme.read_text(encoding="utf-8")
    old = readme_section(text)
    new = readme_table(summary)
    if old == new:
        return False
    readme.write_text(text.replace(f"{BEGIN}\n{old}\n{END}", f"{BEGIN}\n{new}\n{END}"), encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m experiments.regenerate", description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1, help="worker processes per experiment (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--only", nargs="+", choices=EXPERIMENTS, default=None, help="only these experiments")
    parser.add_argument("--deep", action="store_true", help="also the edge-of-reach PyTorch panels (slow)")
    args = parser.parse_args(argv)
    names = args.only or EXPERIMENTS
    os.chdir(ROOT)  # relative paths (results/, paper_figures/) in the committed summaries, from any cwd
    print(f"regenerating {', '.join(names)} at paper scale into {PAPER_FIGURES}/", flush=True)
    common = ["--figures", PAPER_FIGURES.name, "--workers", str(args.workers)]
    common += ["--no-progress"] if args.no_progress else []
    for name in names:
        extra = ["--deep"] if name == "edge_of_reach" and args.deep else []
        status = importlib.import_module(f"experiments.{name}").main(common + extra)
        if status != 0:
            print(f"regenerate: {name} exited with status {status}; stopping", file=sys.stderr)
            return status
    if "lcb_rates" in names:
        changed = update_readme()
        print(f"README slope table {'rewritten' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Smoke test of ``python -m experiments.wsrl_linear --quick`` (issue 19): runs, and the oracle's pattern holds."""

import json

from experiments import wsrl_linear


def test_quick_run_writes_summary_and_figures(tmp_path):
    assert wsrl_linear.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "wsrl_linear_summary.json").read_text())
    rows = {(r["buffer"], r["features"]): r for r in summary["table"]}
    # on-policy (the warm-up's exact occupancy): never unstable, margin >= 1 - sqrt(gamma), both feature kinds
    for feats in ("random", "tabular"):
        r = rows[("warmup_exact", feats)]
        assert r["unstable"] == 0.0 and r["worst_margin"] >= r["bound"] - 1e-9
    # one-hot features: never unstable, whatever the buffer (the tabular negative control)
    assert all(rows[(b, "tabular")]["unstable"] == 0.0 for b in wsrl_linear.BUFFERS)
    # off-policy buffers with shared features do break it (fixed seeds: deterministic)
    assert rows[("offline", "random")]["unstable"] > 0 or rows[("online_narrow", "random")]["unstable"] > 0
    assert (tmp_path / "wsrl_linear.png").exists()

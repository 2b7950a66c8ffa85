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


def test_quick_finetune_panel(tmp_path):
    # the fine-tuning panel (linear RBF vs one-hot features; retain / no retention / warm-up): its table is whole,
    # and retaining half offline data never lets the TD error on D rise (the buffer keeps fitting D), while without
    # retention it does rise for both feature kinds (fixed seeds: deterministic)
    assert wsrl_linear.main(["--quick", "--out", str(tmp_path), "--no-progress", "--trials", "4"]) == 0
    summary = json.loads((tmp_path / "wsrl_linear_summary.json").read_text())
    rows = {(r["method"], r["features"]): r for r in summary["finetune_table"]}
    assert set(rows) == {(m, f) for m in wsrl_linear.FT_METHODS for f in wsrl_linear.FT_FEATURES}
    assert all(r["n"] == 4 for r in rows.values())
    for feats in wsrl_linear.FT_FEATURES:
        assert rows[("retain", feats)]["td_rises"] == 0.0
        assert rows[("no_retain", feats)]["td_peak_ratio"] > 1.0
    assert (tmp_path / "wsrl_linear_finetune.png").exists()

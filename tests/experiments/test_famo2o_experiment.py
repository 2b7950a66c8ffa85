"""Smoke test of ``python -m experiments.famo2o_balance --quick`` (issue 19): runs, writes summary and figure."""

import json

from experiments import famo2o_balance


def test_quick_run_writes_summary_and_figures(tmp_path):
    assert famo2o_balance.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "famo2o_balance_summary.json").read_text())
    # exact planning over the balance choice dominates every single balance, on every run
    assert summary["runs where adaptive < best fixed (must be 0)"] == 0.0
    gaps = {(g["metric"], g["grid"], g["n_poor"]): g["mean"] for g in summary["gaps"]}
    # the state-adaptive gain grows with coverage heterogeneity (n_poor 4 vs 400), on both grids
    for grid in ("paper", "wide"):
        assert gaps[("adaptive_minus_fixed", grid, 4)] > gaps[("adaptive_minus_fixed", grid, 400)]
    # the greedy rule on the non-pessimistic in-sample critic is never above the best single balance
    assert gaps[("greedy_insample_minus_fixed", "wide", 4)] < 0
    assert (tmp_path / "famo2o_balance.png").exists()

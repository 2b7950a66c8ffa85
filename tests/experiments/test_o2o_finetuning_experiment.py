"""Smoke test of ``python -m experiments.o2o_finetuning --quick`` (issue 19): runs, writes summary and figure."""

import json
import math

from experiments import o2o_finetuning


def test_quick_run_writes_summary_and_figures(tmp_path):
    assert o2o_finetuning.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "o2o_finetuning_summary.json").read_text())
    rows = {r["key"]: r for r in summary["table"]}
    assert set(o2o_finetuning.METHODS) <= set(rows)
    # from scratch there is no offline policy to fall below, so no dip; every dip is within [0, J*]
    assert rows["scratch"]["dip"] < 1e-6  # J(pi_off) = 0 up to the linear solve's round-off
    assert all(0.0 <= r["dip"] <= summary["J_star"] + 1e-9 for r in rows.values())
    # exact FQI steps (tau = lr = 1) dip less than the lagged target (tau = 5e-3) of no_retain
    assert rows["exact_fqi"]["dip"] < rows["no_retain"]["dip"]
    assert all(math.isfinite(r["regret"]) and r["regret"] >= 0 for r in rows.values())
    assert (tmp_path / "o2o_finetuning.png").exists()

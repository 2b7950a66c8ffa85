"""Smoke test of ``python -m experiments.o2o_analogues --quick`` (issue 19): runs, writes summary and figure; the
exact facts hold on every cell (SOP with no patch never exceeds the online success; RL never moves mass outside
the initial support, SFT does)."""

import json

from experiments import o2o_analogues


def test_quick_run(tmp_path):
    assert o2o_analogues.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "o2o_analogues_summary.json").read_text())
    assert summary["ui_s1 max(SOP_0 - J) (must be <= 0)"] <= 1e-12
    red = {(r["metric"], r["mode"]): r["mean"] for r in summary["red"]}
    assert red[("outside_support", "rl")] < 1e-3 < 0.1 < red[("outside_support", "sft")]
    assert red[("pass1", "sft")] > red[("pass1", "rl")] > red[("pass1_start", "rl")]
    assert (tmp_path / "o2o_analogues.png").exists()

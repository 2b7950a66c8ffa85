"""Smoke test of ``python -m experiments.uni_o4 --quick`` (issue 19): runs, writes summary and figure, and the
panel's exact invariants hold on every cell."""

import json

from experiments import uni_o4


def test_quick_run(tmp_path):
    assert uni_o4.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "uni_o4_summary.json").read_text())
    rows = {(r["metric"], r["w"], r["n"]): r for r in summary["panel"]}
    assert {w for _, w, _ in rows} == {0.0, 1.0} and all(r["n_seeds"] == 5 for r in rows.values())
    assert (tmp_path / "uni_o4.png").exists()


def test_cell_invariants():
    """One cell: every variant improves on the behaviour in the ESTIMATED model by construction; the gate accepts
    at most n_steps steps; the support is the behaviour's (<= A arms per state)."""
    out = uni_o4.cell({"w": 0.0, "n": 50}, seed=3)
    assert 0 <= out["multi_step_gate_accepted"] <= uni_o4.N_STEPS
    assert 1.0 <= out["support"] <= uni_o4.A
    assert out["one_step"] <= out["J_star"] + 1e-9 and out["multi_step_gate"] <= out["J_star"] + 1e-9
    assert out["multi_step_minus_one_step"] == out["multi_step"] - out["one_step"]

"""Smoke test of ``python -m experiments.h2o_sim_gap --quick``: runs, writes its summary and figure, and its key
numbers are the exact ones of these seeds (the returns are exact evaluations; only the real data are random)."""

import json

from experiments import h2o_sim_gap


def test_quick_run_writes_summary_and_figures(tmp_path):
    assert h2o_sim_gap.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "h2o_sim_gap_summary.json").read_text())
    curves = {c["label"]: c for c in summary["curves"]}
    bridge, glob = curves["bridge n_real=300"], curves["global n_real=300"]
    opt = bridge["J_optimum"][0]
    # Sim-only collapses once the simulator hides the trap (gap 0.2); exact-ratio H2O keeps the real optimum.
    assert bridge["J_sim_only"][0] == opt and bridge["J_sim_only"][-1] < 0.6 * opt
    assert bridge["J_h2o_exact"] == [opt] * 3
    assert summary["bridge n_real=300: h2o_exact >= max(off, sim) at"] == "3/3 gaps"
    # The global gap with lam = 1 (a random simulator): sim-only and naive mixing lose everything.
    assert glob["J_sim_only"][-1] < 0.1 * opt and glob["J_naive"][-1] < 0.1 * opt
    assert (tmp_path / "h2o_sim_gap.png").exists() and (tmp_path / "h2o_sim_gap.pdf").exists()
    # Resumable: a second run finds every cell done.
    assert h2o_sim_gap.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0

"""Smoke test of ``python -m experiments.edge_of_reach --quick``: runs, writes its summary and figures."""

import json

import pytest

from experiments import edge_of_reach


def test_quick_run_writes_summary_and_figures(tmp_path):
    assert edge_of_reach.main(["--quick", "--trials", "1", "--out", str(tmp_path), "--no-progress"]) == 0
    fitted = json.loads((tmp_path / "edge_of_reach_summary.json").read_text())
    q_star = fitted["Q*(start)"]
    assert q_star == pytest.approx(0.9**10 / 0.1)
    assert fitted["support.base.Q(start)"] > 2 * q_star and fitted["support.base.true_return"] < 0.01
    for v in ("oracle_patch", "ravl", "long"):
        assert fitted[f"support.{v}.true_return"] == pytest.approx(q_star)
    assert fitted["ravl.penalty_within_max"] == 0.0
    assert fitted["k_edge_empty"] == fitted["base.smallest_k_optimal"] == 11  # reach diameter 10
    assert fitted["linear.divergent_gammas"] == "0.55,0.9"
    for name in ("eor_reach_map", "eor_q_and_returns", "eor_penalty_hist", "eor_sweeps", "eor_model_interpolation"):
        assert (tmp_path / f"{name}.png").exists() and (tmp_path / f"{name}.pdf").exists()

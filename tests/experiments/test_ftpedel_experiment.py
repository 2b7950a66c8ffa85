"""Smoke test of ``python -m experiments.ftpedel_hybrid --quick``: runs, writes its summary and figures."""

import json

from experiments import ftpedel_hybrid


def test_quick_run_writes_summary_and_figures(tmp_path):
    assert ftpedel_hybrid.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "ftpedel_hybrid_summary.json").read_text())
    fitted = summary  # the fitted quantities stand at the top level beside the run metadata
    assert fitted["ftpedel_min_success"] >= fitted["1-delta"]
    assert fitted["episode_ratio(max N_off / 0)"] <= 1.0
    assert fitted["separation.pevi_success"] == 1.0 and fitted["separation.C_o2o(T=0)"] == "inf"
    assert (tmp_path / "ftpedel_hybrid.png").exists() and (tmp_path / "ftpedel_hybrid.pdf").exists()

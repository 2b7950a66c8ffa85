"""Smoke test of ``python -m experiments.hnpg_misspec --quick``: runs, writes its summary and figure; at kappa = 0
(a linear MDP, complete class) Hy-Q is exact, and the completeness error grows with kappa."""

import json

from experiments import hnpg_misspec


def test_quick_run_writes_summary_and_figures(tmp_path):
    assert hnpg_misspec.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "hnpg_misspec_summary.json").read_text())
    rows = {r["kappa"]: r for r in summary["table"]}
    assert rows[0.0]["completeness_error"] < 1e-9 < 0.05 < rows[1.0]["completeness_error"]
    assert abs(rows[0.0]["hy_q"]) < 1e-9 and rows[1.0]["hy_q"] > 0.01
    # The log-linear actor (HNPG, Alg. 3) is run and compared pairwise; sub-optimalities are >= 0 (exact returns).
    for r in rows.values():
        assert all(r[m] >= -1e-9 for m in hnpg_misspec.METHODS)
        assert "hnpg_ll - hy_q" in r and "ci_hnpg_ll_tab - ll_exact" in r
    assert (tmp_path / "hnpg_misspec.png").exists() and (tmp_path / "hnpg_misspec.pdf").exists()

"""Smoke test of ``python -m experiments.hnpg_comblock --quick``: runs, writes its summary and figure; HNPG solves
every lock of the quick grid, NPG fails at H = 4 (fixed seeds: a deterministic outcome)."""

import json

from experiments import hnpg_comblock


def test_quick_run_writes_summary_and_figures(tmp_path):
    assert hnpg_comblock.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "hnpg_comblock_summary.json").read_text())
    rows = {r["H"]: r for r in summary["table"]}
    assert all(rows[H]["success_hnpg"] == 1.0 for H in (2, 3, 4))
    assert rows[4]["median_npg"] is None and rows[4]["median_hnpg"] is not None
    assert all(rows[H]["median_hy_q"] == 0 for H in (2, 3, 4))
    assert (tmp_path / "hnpg_comblock.png").exists() and (tmp_path / "hnpg_comblock.pdf").exists()

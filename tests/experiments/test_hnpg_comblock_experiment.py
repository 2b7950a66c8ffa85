"""Smoke test of ``python -m experiments.hnpg_comblock --quick``: runs, writes its summary and figure; HNPG solves
every lock of the quick grid, and at H = 4 NPG needs more episodes than HNPG or fails (fixed seeds: a deterministic
outcome). NPG needs about A^H = 256 episodes at H = 4, under the quick budget of 600, so whether it succeeds within
it depends on the seed: with the support-row samplers of issue 16 it did (median 265 episodes against HNPG's 95),
with the former sample stream it did not; over seeds 0-3 it succeeded in 7 of 8 runs against 5 of 8 before."""

import json

from experiments import hnpg_comblock


def test_quick_run_writes_summary_and_figures(tmp_path):
    assert hnpg_comblock.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "hnpg_comblock_summary.json").read_text())
    rows = {r["H"]: r for r in summary["table"]}
    assert all(rows[H]["success_hnpg"] == 1.0 for H in (2, 3, 4))
    assert rows[4]["median_hnpg"] is not None
    assert rows[4]["median_npg"] is None or rows[4]["median_npg"] > rows[4]["median_hnpg"]
    assert all(rows[H]["median_hy_q"] == 0 for H in (2, 3, 4))
    assert (tmp_path / "hnpg_comblock.png").exists() and (tmp_path / "hnpg_comblock.pdf").exists()

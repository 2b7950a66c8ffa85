"""Smoke test of ``python -m experiments.oppo_preferences --quick``: runs, writes its summary and figure."""

import json

from experiments import oppo_preferences


def test_quick_run_writes_summary_and_figures(tmp_path):
    assert oppo_preferences.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    rows = {r["m"]: r for r in json.loads((tmp_path / "oppo_preferences_summary.json").read_text())["rows"]}
    # mostly poor data: imitating all of it loses to both preference methods (measured -0.74 vs 0.32 / 0.91)
    assert rows[400]["bc"][0] < min(rows[400]["oppo_lite"][0], rows[400]["bt_two_step"][0])
    assert (tmp_path / "oppo_preferences.png").exists()

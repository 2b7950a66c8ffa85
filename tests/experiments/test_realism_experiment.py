"""Smoke test of ``python -m experiments.realism_benchmark --quick``: runs, writes its summary and figure."""

import json

from experiments import realism_benchmark


def test_quick_run_writes_summary_and_figures(tmp_path):
    assert realism_benchmark.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    f = json.loads((tmp_path / "realism_benchmark_summary.json").read_text())
    assert f["tasks"] == 4
    for k in realism_benchmark.METHODS:
        wins = [int(w) for w in f[f"tasks beaten by +0/+3/+5/+10: {k}"].split("/")]
        assert wins == sorted(wins, reverse=True) and wins[0] <= 4  # a larger margin is never beaten more often
    assert (tmp_path / "realism_benchmark.png").exists()

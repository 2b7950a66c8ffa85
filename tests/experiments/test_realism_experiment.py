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
    # the budget 0.6 is slack on the return tasks (the LP optimum is J*); the constrained task's budget binds and
    # costs return, and there a task counts only when no run is over the budget
    assert f["tasks where the budget binds (LP)"] == 0 and abs(f["return lost to the constraint (J* - J*_c)"][0]) < 1e-9
    assert f["constrained: tasks"] == 1 and f["constrained: tasks where the budget binds (LP)"] == 1
    assert f["constrained: return lost to the constraint (J* - J*_c)"][0] > 0
    for k in realism_benchmark.METHODS:
        if f[f"constrained: runs over the safety budget: {k}"] > 0:
            assert f[f"constrained: tasks beaten by +0/+3/+5/+10: {k}"] == "0/0/0/0"
    assert (tmp_path / "realism_benchmark.png").exists()

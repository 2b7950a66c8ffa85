"""Smoke test of ``python -m experiments.model_penalties --quick``: runs, writes its summary and figure."""

import json

from experiments import model_penalties


def test_quick_run_writes_summary_and_figures(tmp_path):
    assert model_penalties.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    fitted = json.loads((tmp_path / "model_penalties_summary.json").read_text())
    for inst in model_penalties.INSTANCES:
        means = fitted[f"{inst}: spearman means"]
        # the heuristics agree with each other far more than with the true error (measured 0.69 / 0.79 vs <= 0.34)
        mean_pairs = float(fitted[f"{inst}: spearman between heuristics (data)"].split()[0])
        assert mean_pairs > max(means[f"data {k}"] for k in model_penalties.HEUR)
    # on the garnet the oracle penalty (true TV) is never worse than a heuristic at MOPO's defaults
    grid = {(g["penalty"], g["h"], g["lambda"]): g["score"] for g in fitted["garnet: grid"]}
    assert grid[("true_tv", 5, 1.0)] >= max(grid[(p, 5, 1.0)] for p in model_penalties.PENALTIES) - 1e-9
    assert (tmp_path / "model_penalties.png").exists() and (tmp_path / "model_penalties.pdf").exists()

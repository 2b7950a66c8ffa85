"""Smoke test of ``python -m experiments.guda_augmentation --quick``: runs, writes its summary and figure, and shows
the digest's contrast: random augmentation dilutes the expert fraction, guided augmentation much less."""

import json

from experiments import guda_augmentation


def test_quick_run_writes_summary_and_figures(tmp_path):
    assert guda_augmentation.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    t = json.loads((tmp_path / "guda_augmentation_summary.json").read_text())["table"]
    # measured (seed 0, 2 trials): expert fraction 0.81 none, 0.33 RDA, 0.68 GuDA; C* finite on 0/2, 1/2, 2/2
    assert t["rda"]["expert_fraction"][0] < t["guda_distance"]["expert_fraction"][0] - 0.2
    assert t["guda_distance"]["C_star_finite"][0] >= t["none"]["C_star_finite"][0]
    assert t["guda_distance"]["score_bc"][0] > t["rda"]["score_bc"][0]
    assert (tmp_path / "guda_augmentation.png").exists()

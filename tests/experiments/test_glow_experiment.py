"""Smoke test of ``python -m experiments.glow_coverability --quick``: runs, writes its summary and figures."""

import json

from experiments import glow_coverability


def test_quick_run_writes_summary_and_figures(tmp_path):
    assert glow_coverability.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "glow_coverability_summary.json").read_text())
    # With the theory constants Q* is never removed and nothing is refuted: regret is linear in T.
    assert summary["q_star_kept (theory)"] == 1.0
    assert summary["regret_slope (theory)"] > 0.95
    # The potential lemma holds on every run.
    assert summary["max potential/bound (theory)"] <= 1.0 and summary["max potential/bound (scaled)"] <= 1.0
    # The scaled radius refutes decoys: sub-linear worst-case regret.
    assert summary["regret_slope (scaled)"] < 0.95
    # Offline MABO.CR on pi*-only data cannot refute the decoys; the hybrid algorithms can.
    assert summary["risk lam=0 (C*=1) mabo_cr"] > summary["risk lam=0 (C*=1) hyglow_scaled"]
    # The realizable, non-complete class: Hy-Q and FQI fail, HyGLOW does not.
    assert summary["incomplete class: risk hyq"] == 0.5 and summary["incomplete class: risk fqi"] == 0.5
    assert summary["incomplete class: risk hyglow"] < 0.1
    assert (tmp_path / "glow_coverability_incomplete.png").exists()
    # Issue 22: each factor of Thm 3.1 alone; the curves show the knob moved only its factor.
    cov, cls = summary["alone_curve_cov_alone"], summary["alone_curve_class_alone"]
    assert len({p["n_f"] for p in cov}) == 1 and len({p["c_cov_class"] for p in cov}) == len(cov)
    assert len({p["c_cov_class"] for p in cls}) == 1 and len({p["n_f"] for p in cls}) == len(cls)
    assert isinstance(summary["N(eps) slope vs C_cov(Pi) (C_cov alone)"], float)
    assert isinstance(summary["N(eps) slope vs L = log(6|F||W|TH/delta) (class size alone)"], float)
    assert (tmp_path / "glow_coverability_factors.png").exists()
    assert (tmp_path / "glow_coverability.png").exists() and (tmp_path / "glow_coverability.pdf").exists()

"""experiments.lcb_rates and experiments.gambler_vi_lcb: summaries, exact rates, and (slow) the paper-scale slopes."""

import json

import numpy as np
import pytest

from experiments import gambler_vi_lcb, lcb_rates


def _slopes(summary):
    return {(r["setting"], r["algorithm"], r["c_star"]): r["slope"] for r in summary["slopes"]}


def test_lcb_rates_quick_summary_and_exact_mab_rates(tmp_path):
    assert lcb_rates.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "lcb_rates_summary.json").read_text())
    for record in summary["slopes"]:
        assert set(record) == {"setting", "algorithm", "c_star", "n_min", "n_max", "slope", "ci_low", "ci_high"}
        if record["setting"] != "mab" and record["slope"] is not None:  # Monte Carlo: a bootstrap interval
            assert record["ci_low"] <= record["ci_high"]
    slopes = _slopes(summary)
    # The MAB panel is computed exactly, so these hold without any sampling error: at C* = 1.5 most-played decays
    # exponentially (a log-log slope far below -1) while LCB stays polynomial; at C* = 2 LCB is near -1/2.
    assert slopes[("mab", "most_played", 1.5)] < -5
    assert -1.0 < slopes[("mab", "lcb", 1.5)] < -0.3
    assert -0.7 < slopes[("mab", "lcb", 2.0)] < -0.35
    for name in ("lcb_rates_fig2", "lcb_rates_vs_N"):
        assert (tmp_path / f"{name}.png").stat().st_size > 0 and (tmp_path / f"{name}.pdf").stat().st_size > 0


def test_gambler_quick_summary(tmp_path):
    assert gambler_vi_lcb.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "gambler_vi_lcb_summary.json").read_text())
    assert {"N", "gap_vi_lcb", "gap_vi", "slope_vi_lcb", "slope_vi", "slope_vi_lcb_ci", "variants"} <= set(summary)
    assert len(summary["N"]) == len(summary["gap_vi_lcb"]) == len(summary["gap_vi"])
    # Pessimism pays on the gambler's problem: VI-LCB's gap is below plain VI's at every N (seeded; the gaps differ
    # by an order of magnitude, far beyond the trial-to-trial spread).
    assert all(a < b for a, b in zip(summary["gap_vi_lcb"], summary["gap_vi"], strict=True))
    # every variant is reported: 2 x 2 (range, form) + VI on the baseline data, 3 (range 1, range H, VI) on the
    # three other datasets, times 3 tie rules; the rho gap with 3 averages and the max gap with the mean
    keys = {(v["algorithm"], v["value_range"], v["form"], v["actions"], v["sampling"], v["ties"])
            for v in summary["variants"]}
    assert len(keys) == (5 + 3 * 3) * 3 and len(summary["variants"]) == len(keys) * 4
    for v in summary["variants"]:
        assert v["slope"] is None or (v["ci_low"] is None) == (v["ci_high"] is None)


def test_gambler_tie_rules_and_stakes():
    rng = np.random.default_rng(0)
    Q = np.zeros((1, 2, 4))
    Q[0, 1] = [0.5, 0.2, 0.5, 0.5 - 1e-13]  # three ties within the 1e-12 tolerance at state 1
    allowed = np.ones((2, 4), dtype=bool)
    assert gambler_vi_lcb.select(Q, allowed, "lowest", rng).tolist() == [[0, 0]]
    assert gambler_vi_lcb.select(Q, allowed, "highest", rng).tolist() == [[3, 3]]
    picks = {int(gambler_vi_lcb.select(Q, allowed, "random", rng)[0, 1]) for _ in range(200)}
    assert picks == {0, 2, 3}  # each tied stake with probability 1/3: a miss in 200 draws has probability < 1e-34
    allowed[1, 3] = False
    assert gambler_vi_lcb.select(Q, allowed, "highest", rng).tolist() == [[3, 2]]
    mask = gambler_vi_lcb.valid_stakes()
    assert mask.shape == (51, 25) and mask[0].all() and mask[50].all()
    assert mask[10].tolist() == [True] * 10 + [False] * 15 and mask[45].sum() == 5 and mask[25].all()


def test_gambler_ties_decide_the_paper_range_variant():
    """With H = 100 in the penalty, every Q is clipped to 0 at N = 54 (the penalty exceeds every value), so the
    policy is the tie rule alone: the lowest stake (bet 1 everywhere) loses 0.3577 of V*(rho), the highest stake
    is bold play, optimal for p_head < 1/2, and loses exactly 0 -- whatever the data."""
    m = gambler_vi_lcb.cell({"N": 54}, 3)
    assert m["gap|vi_lcb_rH_sum|clip|per_sah|highest"] == 0.0
    assert m["gap|vi_lcb_rH_sum|valid|per_sah|highest"] == 0.0
    assert m["gap|vi_lcb_rH_sum|clip|per_sah|lowest"] == pytest.approx(0.35772115222682077, rel=1e-12)
    assert m["gap_vi_lcb"] == m["gap|vi_lcb_r1_sum|clip|per_sah|lowest"] > 0


def test_gambler_per_sa_sampling_reuses_one_dataset_at_every_step():
    from theory_rl.generators import gamblers_problem

    d = gambler_vi_lcb.dataset(gamblers_problem(), 7, "per_sa", 1)
    assert d.counts.shape == (100, 51, 25) and (d.counts == 7).all()
    assert (d.transition_counts == d.transition_counts[0]).all() and not (d.transition_counts[0] == 7).all()


@pytest.mark.slow
def test_lcb_rates_paper_scale_slopes(tmp_path):
    # Fixed seed 0; the Monte Carlo slopes carry a standard error of about 0.03-0.05 (200 datasets per
    # configuration), so these windows (several standard errors wide) fail by chance far below 1e-3.
    assert lcb_rates.main(["--out", str(tmp_path), "--no-progress"]) == 0
    slopes = _slopes(json.loads((tmp_path / "lcb_rates_summary.json").read_text()))
    for setting in ("cb", "mdp"):
        assert -1.25 < slopes[(setting, "lcb", 1.0)] < -0.8  # expert data: the 1/N rate
        assert -0.75 < slopes[(setting, "lcb", 2.0)] < -0.35  # C* >= 2: the 1/sqrt(N) rate
        assert abs(slopes[(setting, "most_played", 2.0)]) < 0.1  # imitation does not converge when C* >= 2
    assert slopes[("mab", "most_played", 1.5)] < -10


@pytest.mark.slow
def test_gambler_paper_scale_slope(tmp_path):
    assert gambler_vi_lcb.main(["--trials", "10", "--out", str(tmp_path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "gambler_vi_lcb_summary.json").read_text())
    assert -0.8 < summary["slope_vi_lcb"] < -0.3  # the paper reports -0.502

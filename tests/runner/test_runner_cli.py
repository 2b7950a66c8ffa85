"""Tests of the common experiment command line (experiments/_cli.py) and the planning_scaling example."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from experiments import _cli, planning_scaling
from tests.runner import _runner_cells as cells_mod
from theory_rl.runner import ResultStore, grid

REPO = Path(__file__).resolve().parents[2]


def test_help_lists_the_common_flags():
    out = subprocess.run(
        [sys.executable, "-m", "experiments.planning_scaling", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for flag in ("--quick", "--seed", "--trials", "--workers", "--scheduler", "--out"):
        assert flag in out
    assert out.startswith("usage: python -m experiments.planning_scaling")


def test_parse_args_resolves_trials_and_rejects_bad_values(capsys):
    assert _cli.parse_args("x", "d", [], trials=7, quick_trials=2).trials == 7
    assert _cli.parse_args("x", "d", ["--quick"], trials=7, quick_trials=2).trials == 2
    assert _cli.parse_args("x", "d", ["--quick", "--trials", "4"]).trials == 4
    for bad in (["--workers", "0"], ["--seed", "-1"], ["--trials", "two"]):
        with pytest.raises(SystemExit) as exc:
            _cli.parse_args("x", "d", bad)
        assert exc.value.code == 2
    assert "expected a positive integer" in capsys.readouterr().err


def test_planning_scaling_quick_end_to_end_and_resume(tmp_path, capsys):
    argv = ["--quick", "--out", str(tmp_path), "--no-progress"]
    assert planning_scaling.main(argv) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    summary = json.loads((tmp_path / "planning_scaling_summary.json").read_text())
    fitted = {k: v for k, v in summary.items() if k not in _cli._METADATA}
    assert summary["experiment"] == "planning_scaling" and summary["cells"] == 32 and summary["quick"]
    assert fitted["all_converged"] is True
    assert fitted["value_iteration.max_error_bound"] <= planning_scaling.TOL
    assert fitted["policy_iteration.iterations_at_S=80"] < fitted["value_iteration.iterations_at_S=80"]
    # issue 15: sparse MPI beside QuantEcon's on the same CSR matrix, to the same certificate
    assert fitted["modified_policy_iteration.max_error_bound"] < planning_scaling.TOL / 2
    assert fitted["mpi_time_ratio_quantecon_over_theory_rl.S=1000"] > 0
    for name in ("planning_scaling.png", "planning_scaling.pdf", "planning_scaling.sqlite"):
        assert (tmp_path / name).stat().st_size > 0
    # the table comes last: a header, a rule, one row per fitted scalar (lists such as the slope intervals stay in
    # the JSON only)
    scalars = [k for k, v in fitted.items() if not isinstance(v, (list, dict))]
    assert printed[-len(scalars) - 2].startswith("quantity") and printed[-1].startswith("all_converged")
    # resume: nothing recomputed, identical summary
    assert planning_scaling.main(argv) == 0
    assert "32 already done, 0 succeeded" in capsys.readouterr().out
    assert json.loads((tmp_path / "planning_scaling_summary.json").read_text()) == summary


def _toy(tmp_path, argv, cell=cells_mod.noisy_cell):
    args = _cli.parse_args("toy", "toy experiment", [*argv, "--no-progress"])
    return _cli.run_experiment(
        args,
        cell,
        grid(x=[1, 2, 3, 4]),
        summarize=lambda recs: {"mean_x": _cli.mean_by(recs, (), "mean")[()]},
        plot=None,
    )


def test_failed_cell_gives_exit_1_and_no_summary(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RUNNER_TEST_HEAL", str(tmp_path / "no-such-file"))
    assert _toy(tmp_path, ["--out", str(tmp_path), "--trials", "2"], cell=cells_mod.flaky_cell) == 1
    captured = capsys.readouterr()
    assert "FAILED config={'x': 3}" in captured.out and "cell(s) failed" in captured.err
    assert not (tmp_path / "toy_summary.json").exists()
    with ResultStore(tmp_path / "toy.sqlite", "toy") as store:
        assert len(store.records("failed")) == 2 and len(store.records("ok")) == 6


def test_foreign_results_file_gives_exit_2_and_stays_untouched(tmp_path, capsys):
    db = tmp_path / "toy.sqlite"
    db.write_bytes(b"not a database")
    assert _toy(tmp_path, ["--out", str(tmp_path)]) == 2
    assert "not an SQLite database" in capsys.readouterr().err
    assert db.read_bytes() == b"not a database"


def test_default_directories_keep_quick_figures_out_of_paper_figures(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert planning_scaling.main(["--quick", "--no-progress", "--trials", "1"]) == 0
    assert (tmp_path / "results" / "planning_scaling_summary.json").exists()
    assert (tmp_path / "results" / "planning_scaling.png").exists()
    assert not (tmp_path / "paper_figures").exists()
    # a paper-scale run does not touch the committed figures either, unless asked (issue 20: a clean clone stays clean)
    assert _cli._output_dirs(_cli.parse_args("n", "d", [])) == (Path("results"), Path("results"))
    assert _cli._output_dirs(_cli.parse_args("n", "d", ["--figures", "paper_figures"])) == (
        Path("results"), Path("paper_figures"))


def test_fitting_helpers():
    assert _cli.loglog_slope([1, 2, 4, 8], [3, 12, 48, 192]) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="positive"):
        _cli.loglog_slope([1, 2], [0, 1])
    recs = [
        {"config": {"a": a}, "config_key": "k", "seed_index": i, "metrics": {"m": a + i}}
        for a in (1, 2)
        for i in (0, 1)
    ]
    assert _cli.mean_by(recs, ("a",), "m") == {(1,): 1.5, (2,): 2.5}
    with pytest.raises(ValueError, match="no metric 'z'"):
        _cli.mean_by(recs, ("a",), "z")
    assert _cli.format_table({"slope": 1.23456, "ok": True}).splitlines()[2:] == [
        "slope     1.235",
        "ok        True",
    ]


# ---------------------------------------------------------------------- issue 22: slopes with bootstrap intervals
def test_bootstrap_loglog_slope_recovers_a_power_law_and_drops_zero_points():
    import numpy as np

    from experiments._cli import bootstrap_loglog_slope

    rng = np.random.default_rng(3)
    x = [10, 30, 100, 300, 1000]
    samples = [x_ ** -0.5 * np.exp(rng.normal(0.0, 0.2, 20)) for x_ in x]
    for average in ("mean", "median", "geometric"):
        fit = bootstrap_loglog_slope(x, samples, average=average, n_resamples=500, seed=1)
        # the slope's standard error here is about 0.02, so a 0.1 window fails by chance far below 1e-6
        assert abs(fit["slope"] + 0.5) < 0.1 and fit["ci_low"] < fit["slope"] < fit["ci_high"]
        assert fit["ci_high"] - fit["ci_low"] < 0.2 and fit["dropped_x"] == []
    exact = bootstrap_loglog_slope([1, 2, 4], [[1.0, 1.0], [0.5, 0.5], [0.25, 0.25]], n_resamples=50)
    assert exact["slope"] == pytest.approx(-1.0) and exact["ci_low"] == pytest.approx(-1.0)
    zero = bootstrap_loglog_slope([1, 2, 4], [[0.0, 0.0], [0.5, 0.5], [0.25, 0.25]], n_resamples=50)
    assert zero["dropped_x"] == [1] and zero["x_fit"] == [2, 4] and zero["slope"] == pytest.approx(-1.0)
    single = bootstrap_loglog_slope([1, 2], [[1.0], [0.5]])
    assert single["slope"] == pytest.approx(-1.0) and single["ci_low"] is None  # one trial: no interval
    assert bootstrap_loglog_slope([1, 2], [[0.0], [0.5]])["slope"] is None
    with pytest.raises(ValueError, match="average"):
        bootstrap_loglog_slope(x, samples, average="mode")


# issue 16: the experiments' exit after gc.freeze()
def test_exit_process_exits_with_the_code_after_flushing_and_freezing(tmp_path):
    script = ("import gc, sys\n"
              "from experiments._cli import exit_process\n"
              "print('written', end='')\n"
              "open(sys.argv[1], 'w').write(str(gc.get_freeze_count() == 0))\n"
              "import atexit; atexit.register(lambda: open(sys.argv[1], 'a').write(str(gc.get_freeze_count() > 0)))\n"
              "exit_process(3)\n")  # fmt: skip
    flag = tmp_path / "flag"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", script, str(flag)], cwd=root, capture_output=True, text=True,
                         env={"PYTHONPATH": str(root), "PATH": ""}, timeout=120)  # fmt: skip
    assert out.returncode == 3 and out.stdout == "written"
    assert flag.read_text() == "TrueTrue"  # nothing frozen before, everything alive frozen at exit

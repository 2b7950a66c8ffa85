"""Issue 13 [hardening]: the runner under faults. Kill -9 of the driver leaves no orphan, two drivers on one store
never compute a cell twice, a read-only folder and a corrupt store give exit 2 with a message, and a resumed run
with nothing to compute keeps up-to-date figures. Small synthetic sweeps: each test takes seconds."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from experiments import _cli
from tests.runner import _runner_cells as cells_mod
from tests.runner.test_runner import _process_group
from theory_rl.runner import ResultStore, StoreError, StoreLockedError, grid, run_sweep
from theory_rl.runner import store as store_mod

REPO = Path(__file__).resolve().parents[2]
LINUX = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc (Linux)")


def _driver(db, workers, env):
    cmd = [sys.executable, "-m", "tests.runner._runner_cells", str(db), str(workers)]
    return subprocess.Popen(cmd, cwd=REPO, env=env, start_new_session=True)


@LINUX
def test_kill_9_of_the_driver_leaves_no_orphan(tmp_path):
    # before: the two workers and multiprocessing's resource tracker stayed alive, idle, forever (7 of 7 kills)
    env = {**os.environ, "RUNNER_TEST_LOG": str(tmp_path / "cells.log"), "RUNNER_TEST_SLEEP": "60"}
    proc = _driver(tmp_path / "orphan.sqlite", 2, env)
    try:
        deadline = time.monotonic() + 60
        while len(_process_group(proc.pid)) < 3:  # the driver and two workers, busy in 60-second cells
            assert time.monotonic() < deadline and proc.poll() is None, "the workers never started"
            time.sleep(0.05)
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGKILL)  # the driver only: no handler runs, no one stops the pool
        proc.wait()
        deadline = time.monotonic() + 15
        while _process_group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _process_group(proc.pid) == [], "processes outlived the killed driver"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def test_a_second_driver_on_the_same_store_exits_2_and_no_cell_runs_twice(tmp_path, capsys):
    # before: two drivers 3 s apart both ran, 206 cells computed twice
    log = tmp_path / "cells.log"
    env = {**os.environ, "RUNNER_TEST_LOG": str(log), "RUNNER_TEST_SLEEP": "0.2"}
    db = tmp_path / f"{cells_mod.EXPERIMENT}.sqlite"
    first = _driver(db, 1, env)
    try:
        deadline = time.monotonic() + 60
        while not log.exists() or not log.read_text().split():
            assert time.monotonic() < deadline and first.poll() is None, "the first driver never started a cell"
            time.sleep(0.02)
        with pytest.raises(StoreLockedError, match="in use by another run"):
            run_sweep(cells_mod.logged_cell, cells_mod.SLOW_GRID, experiment=cells_mod.EXPERIMENT, db_path=db,
                      n_seeds=cells_mod.SLOW_SEEDS, root_seed=7, progress=False)
        args = _cli.parse_args(cells_mod.EXPERIMENT, "d", ["--out", str(tmp_path), "--trials", "2", "--seed", "7",
                                                           "--no-progress"])
        assert _cli.run_experiment(args, cells_mod.logged_cell, cells_mod.SLOW_GRID, summarize=lambda r: {}) == 2
        assert "in use by another run" in capsys.readouterr().err
        assert first.wait(timeout=120) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)
    seeds = log.read_text().split()
    assert len(seeds) == len(set(seeds)) == len(cells_mod.SLOW_GRID) * cells_mod.SLOW_SEEDS
    # the lock dies with its holder: a later run takes it and finds everything done
    again = run_sweep(cells_mod.exploding_cell, cells_mod.SLOW_GRID, experiment=cells_mod.EXPERIMENT, db_path=db,
                      n_seeds=cells_mod.SLOW_SEEDS, root_seed=7, progress=False)
    assert again.ok and again.succeeded == 0


def test_store_creation_never_overwrites_a_store_that_appeared_meanwhile(tmp_path, monkeypatch):
    # before: exists() then os.replace: a store created by another driver in between was overwritten
    path = tmp_path / "race.sqlite"
    path.write_bytes(b"the other driver's store")
    monkeypatch.setattr(Path, "exists", lambda self: False)  # the check passed just before the other one wrote
    with pytest.raises(StoreError, match="appeared while a new store was being created"):
        store_mod._create(path, "unit")
    assert path.read_bytes() == b"the other driver's store"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.sqlite"]


def _toy(out, *, plot=None, cell=cells_mod.noisy_cell):
    args = _cli.parse_args("toy", "toy experiment", ["--out", str(out), "--trials", "2", "--no-progress"])
    return _cli.run_experiment(args, cell, grid(x=[1, 2, 3]),
                               summarize=lambda recs: {"mean_x": _cli.mean_by(recs, (), "mean")[()]}, plot=plot)


def _plot(records, fitted):
    from theory_rl.plotting import new_figure

    fig, ax = new_figure()
    ax.plot([r["config"]["x"] for r in records], [r["metrics"]["mean"] for r in records], "o")
    return {"toy": fig}


@contextlib.contextmanager
def _immutable(*paths):
    """``chattr +i``: read-only even for root (which ignores permission bits); skip where it is unavailable."""
    done = []
    try:
        for p in paths:
            if subprocess.run(["chattr", "+i", str(p)], capture_output=True).returncode != 0:
                pytest.skip("chattr +i is unavailable here (needs root with CAP_LINUX_IMMUTABLE)")
            done.append(p)
        yield
    finally:
        for p in reversed(done):
            subprocess.run(["chattr", "-i", str(p)], check=True)


@pytest.mark.skipif(shutil.which("chattr") is None, reason="needs chattr")
def test_read_only_out_gives_exit_2_and_a_complete_store_there_still_works(tmp_path, capsys):
    # before: a traceback and exit 1; and a complete store in a read-only folder failed to open
    locked = tmp_path / "locked"
    locked.mkdir()
    with _immutable(locked):
        assert _toy(locked / "sub") == 2
        assert "cannot write results to" in capsys.readouterr().err
        assert _toy(locked) == 2
        assert "cannot write results to" in capsys.readouterr().err
    done = tmp_path / "done"
    assert _toy(done, plot=_plot) == 0
    files = sorted(done.iterdir())
    capsys.readouterr()
    with _immutable(done, *files):
        assert _toy(done, plot=_plot, cell=cells_mod.exploding_cell) == 0
        out = capsys.readouterr().out
        assert "6 already done, 0 succeeded" in out and "up to date, not redrawn" in out and "mean_x" in out
    (done / "toy_summary.json").unlink()
    with _immutable(done, *[f for f in files if f.exists()]):
        assert _toy(done, plot=_plot, cell=cells_mod.exploding_cell) == 2  # the summary cannot be written
        captured = capsys.readouterr()
        assert "mean_x" in captured.out and "cannot write the summary and figures" in captured.err
    # a read-only store that lacks cells: exit 2, saying so
    partial = tmp_path / "partial"
    partial.mkdir()
    run_sweep(cells_mod.noisy_cell, grid(x=[1]), experiment="toy", db_path=partial / "toy.sqlite", n_seeds=2,
              progress=False)
    with _immutable(partial, partial / "toy.sqlite"):
        assert _toy(partial) == 2
        assert "is read-only and 4 of the sweep's 6 cells are not in it" in capsys.readouterr().err


def test_corrupt_json_in_a_valid_store_gives_exit_2_and_stays_untouched(tmp_path, capsys):
    # before: a json.JSONDecodeError traceback
    assert _toy(tmp_path) == 0
    db = tmp_path / "toy.sqlite"
    with contextlib.closing(sqlite3.connect(db)) as con, con:
        con.execute("UPDATE cells SET metrics = '{not json' WHERE rowid = (SELECT min(rowid) FROM cells)")
    before = db.read_bytes()
    capsys.readouterr()
    assert _toy(tmp_path) == 2
    assert "holds a corrupt cell" in capsys.readouterr().err
    assert db.read_bytes() == before
    with ResultStore(db, "toy") as store, pytest.raises(StoreError, match="JSON cannot be read"):
        store.records()


def test_resumed_run_with_nothing_to_compute_keeps_up_to_date_figures(tmp_path, capsys):
    # before: every figure was redrawn on each resumed run (about 60 s for lcb_rates)
    assert _toy(tmp_path, plot=_plot) == 0
    png = tmp_path / "toy.png"
    stamp = png.stat().st_mtime_ns
    summary = (tmp_path / "toy_summary.json").read_text()
    capsys.readouterr()
    assert _toy(tmp_path, plot=_plot, cell=cells_mod.exploding_cell) == 0
    assert "up to date, not redrawn" in capsys.readouterr().out
    assert png.stat().st_mtime_ns == stamp and (tmp_path / "toy_summary.json").read_text() == summary
    png.unlink()  # a missing figure: redrawn, and the run says so
    assert _toy(tmp_path, plot=_plot, cell=cells_mod.exploding_cell) == 0
    assert "drawing the figures from the stored results" in capsys.readouterr().out
    assert png.exists()
    assert json.loads((tmp_path / "toy_summary.json").read_text())["mean_x"] == json.loads(summary)["mean_x"]

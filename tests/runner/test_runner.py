"""Tests of theory_rl.runner: seeding, the SQLite store, executors, failures, resume after kill -9."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.runner import _runner_cells as cells_mod
from theory_rl.runner import (
    ResultStore,
    StoreError,
    cell_seed,
    config_key,
    grid,
    make_cells,
    run_sweep,
)

REPO = Path(__file__).resolve().parents[2]
GRID = grid(x=[0, 1, 2, 3], scale=[0.5, 2.0])


def _metrics_by_cell(records):
    return {(r["config_key"], r["seed_index"], r["seed"]): r["metrics"] for r in records}


def _sweep(tmp_path, fn=cells_mod.noisy_cell, name="t.sqlite", **kw):
    kw.setdefault("n_seeds", 3)
    kw.setdefault("root_seed", 11)
    return run_sweep(fn, GRID, experiment="unit", db_path=tmp_path / name, progress=False, **kw)


# -- grid and seeds ------------------------------------------------------------------------------------------
def test_grid_is_the_cartesian_product_in_order():
    assert grid(a=[1, 2], b=["u", "v"]) == [
        {"a": 1, "b": "u"},
        {"a": 1, "b": "v"},
        {"a": 2, "b": "u"},
        {"a": 2, "b": "v"},
    ]
    with pytest.raises(ValueError, match="axis 'b' is empty"):
        grid(a=[1], b=[])
    with pytest.raises(ValueError, match="axis 'a' must be a sequence"):
        grid(a="abc")


def test_config_key_is_canonical_and_rejects_non_json():
    assert config_key({"b": 1, "a": np.float64(0.5)}) == config_key({"a": 0.5, "b": np.int64(1)}) == '{"a":0.5,"b":1}'
    with pytest.raises(ValueError, match=r"config\['f'\].*not JSON"):
        config_key({"f": object()})
    with pytest.raises(ValueError, match=r"config\['g'\] is nan"):
        config_key({"g": float("nan")})


def test_cell_seed_is_a_fixed_function_of_root_key_and_index():
    # golden value: the derivation must not change silently (stored results depend on it)
    assert cell_seed(0, '{"x":1}', 0) == 2131631124282800680
    seeds = {cell_seed(r, k, i) for r in (0, 1) for k in ('{"x":1}', '{"x":2}') for i in (0, 1)}
    assert len(seeds) == 8 and all(0 <= s < 2**63 for s in seeds)
    # the same in a fresh interpreter (no dependence on Python's per-process hash randomisation)
    code = "from theory_rl.runner import cell_seed; print(cell_seed(3, 'k', 5))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "123"},
    )
    assert int(out.stdout) == cell_seed(3, "k", 5)
    with pytest.raises(ValueError, match="root_seed"):
        cell_seed(-1, "k", 0)


def test_make_cells_refuses_duplicates_and_bad_counts():
    assert len(make_cells(GRID, 3, 0)) == 24
    with pytest.raises(ValueError, match=r"configs\[2\] duplicates configs\[0\]"):
        make_cells([{"a": 1}, {"a": 2}, {"a": 1}], 1, 0)
    with pytest.raises(ValueError, match="n_seeds"):
        make_cells(GRID, 0, 0)
    with pytest.raises(ValueError, match=r"configs\[0\]\['_seeds'\]"):
        make_cells([{"a": 1, "_seeds": 0}], 3, 0)


def test_a_config_can_override_its_seed_count():
    cells = make_cells([{"exact": True, "_seeds": 1}, {"exact": False}], 4, 0)
    assert [c.seed_index for c in cells] == [0, 0, 1, 2, 3]


# -- sweeps, resume, failures --------------------------------------------------------------------------------
def test_sweep_stores_every_cell_with_its_seed_and_code_version(tmp_path):
    summary = _sweep(tmp_path)
    assert summary.ok and summary.total == 24 and summary.succeeded == 24 and summary.skipped == 0
    assert len(summary.records) == 24
    expected = {c.seed for c in make_cells(GRID, 3, 11)}
    assert {r["metrics"]["seed_echo"] for r in summary.records} == expected
    rec = summary.records[0]
    assert rec["metrics"]["n"] == 5 and isinstance(rec["metrics"]["first"], float)
    assert rec["code_version"].startswith("0.") and rec["experiment"] == "unit"
    # metrics are a function of the cell alone: recomputing one matches the store exactly
    assert cells_mod.noisy_cell(rec["config"], rec["seed"]) | {"n": 5} == rec["metrics"]


def test_resume_recomputes_nothing_and_a_new_root_seed_adds_new_cells(tmp_path):
    first = _sweep(tmp_path)
    again = _sweep(tmp_path, fn=cells_mod.exploding_cell)  # would fail if any cell ran
    assert again.ok and again.skipped == 24 and again.succeeded == 0
    assert _metrics_by_cell(again.records) == _metrics_by_cell(first.records)
    other = _sweep(tmp_path, root_seed=12)
    assert other.skipped == 0 and other.succeeded == 24
    assert not set(_metrics_by_cell(other.records)) & set(_metrics_by_cell(first.records))


def test_failing_cell_is_recorded_others_complete_and_retry_heals(tmp_path, monkeypatch):
    heal = tmp_path / "healed"
    monkeypatch.setenv("RUNNER_TEST_HEAL", str(heal))
    summary = _sweep(tmp_path, fn=cells_mod.flaky_cell)
    assert not summary.ok and summary.failed == 6 and summary.succeeded == 18
    assert "RuntimeError: cell x=3 is broken" in summary.failures[0]["error"]
    assert "FAILED config={'x': 3" in summary.report()
    with ResultStore(tmp_path / "t.sqlite") as store:
        failed = store.records("failed")
    assert len(failed) == 6 and all("Traceback" in r["error"] and r["metrics"] is None for r in failed)
    heal.touch()
    retry = _sweep(tmp_path, fn=cells_mod.flaky_cell)
    assert retry.ok and retry.skipped == 18 and retry.succeeded == 6
    with ResultStore(tmp_path / "t.sqlite") as store:
        assert len(store.records()) == 24 and not store.records("failed")


def test_non_dict_return_is_a_failure(tmp_path):
    summary = run_sweep(
        cells_mod.bad_return_cell,
        grid(x=[0, 1]),
        experiment="unit",
        db_path=tmp_path / "b.sqlite",
        progress=False,
    )
    assert summary.failed == 1 and "must return a dict" in summary.failures[0]["error"]


def test_keyboard_interrupt_keeps_finished_cells(tmp_path):
    calls = []

    def cell(config, seed):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(config["x"])
        return {"x": config["x"]}

    with pytest.raises(KeyboardInterrupt):
        run_sweep(cell, grid(x=range(6)), experiment="unit", db_path=tmp_path / "k.sqlite", progress=False)
    with ResultStore(tmp_path / "k.sqlite", "unit") as store:
        assert sorted(r["config"]["x"] for r in store.records()) == [0, 1, 2]


@pytest.mark.parametrize("workers", [2])
def test_process_pool_matches_inline(tmp_path, workers):
    inline = _sweep(tmp_path, name="inline.sqlite", workers=1)
    pooled = _sweep(tmp_path, name="pool.sqlite", workers=workers)
    assert pooled.ok and _metrics_by_cell(pooled.records) == _metrics_by_cell(inline.records)


def test_process_pool_survives_a_dying_worker_and_refuses_unpicklable_functions(tmp_path):
    summary = run_sweep(
        cells_mod.crashing_cell,
        grid(x=range(8)),
        experiment="unit",
        db_path=tmp_path / "c.sqlite",
        workers=2,
        progress=False,
    )
    failed_x = {f["config"]["x"] for f in summary.failures}
    assert 2 in failed_x and "worker process died" in summary.failures[0]["error"]
    assert summary.succeeded == 8 - len(failed_x) and summary.succeeded >= 1
    with pytest.raises(ValueError, match="cannot be sent to worker processes"):
        run_sweep(
            lambda c, s: {},
            grid(x=[0, 1]),
            experiment="unit",
            db_path=tmp_path / "l.sqlite",
            workers=2,
            progress=False,
        )


def test_dask_local_cluster_matches_inline(tmp_path):
    distributed = pytest.importorskip("dask.distributed", reason="dask[distributed] (the 'dist' extra) not installed")
    inline = _sweep(tmp_path, name="inline.sqlite", workers=1)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cl:
        flaky = _sweep(tmp_path, name="dask_flaky.sqlite", fn=cells_mod.flaky_cell, scheduler=cl.scheduler_address)
        with distributed.Client(cl) as client:
            on_dask = _sweep(tmp_path, name="dask.sqlite", scheduler=client)
    assert on_dask.ok and _metrics_by_cell(on_dask.records) == _metrics_by_cell(inline.records)
    assert flaky.failed == 6 and flaky.succeeded == 18 and "is broken" in flaky.failures[0]["error"]


def _process_group(pgid: int) -> list[int]:
    """PIDs of the live (not zombie) processes in a process group, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc (Linux)")
def test_sigterm_to_the_driver_stops_its_workers(tmp_path):
    env = {**os.environ, "RUNNER_TEST_LOG": str(tmp_path / "cells.log"), "RUNNER_TEST_SLEEP": "60"}
    cmd = [sys.executable, "-m", "tests.runner._runner_cells", str(tmp_path / "term.sqlite"), "2"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(_process_group(proc.pid)) < 3:  # the driver and two workers, busy in 60-second cells
            assert time.monotonic() < deadline and proc.poll() is None, "the workers never started"
            time.sleep(0.05)
        time.sleep(0.5)  # the group may count multiprocessing's resource tracker: let both workers start
        proc.send_signal(signal.SIGTERM)  # to the driver only, as `kill PID` or a batch system's limit would
        assert proc.wait(timeout=30) == 143
        deadline = time.monotonic() + 10
        while _process_group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _process_group(proc.pid) == [], "orphaned workers outlived the driver"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def test_kill_9_then_resume_equals_an_uninterrupted_run(tmp_path):
    db, log = tmp_path / "killed.sqlite", tmp_path / "cells.log"
    env = {**os.environ, "RUNNER_TEST_LOG": str(log)}
    cmd = [sys.executable, "-m", "tests.runner._runner_cells", str(db), "2"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, start_new_session=True)
    total = len(cells_mod.SLOW_GRID) * cells_mod.SLOW_SEEDS
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not log.exists() or len(log.read_text().split()) < 6):
        assert proc.poll() is None, "the sweep ended before it could be killed"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, as a lost machine would
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with sqlite3.connect(db) as con:
        done_before = {int(s) for (s,) in con.execute("SELECT seed FROM cells WHERE status = 'ok'")}
    assert 0 < len(done_before) < total, "the kill should land in the middle of the sweep"
    runs_before = len(log.read_text().split())

    assert subprocess.run(cmd, cwd=REPO, env=env, timeout=120).returncode == 0
    rerun = [int(s) for s in log.read_text().split()[runs_before:]]
    assert not done_before & set(rerun), "a cell finished before the kill was recomputed"
    assert len(rerun) == len(set(rerun)) == total - len(done_before)

    reference = run_sweep(
        cells_mod.noisy_cell,
        cells_mod.SLOW_GRID,
        experiment=cells_mod.EXPERIMENT,
        db_path=tmp_path / "reference.sqlite",
        n_seeds=cells_mod.SLOW_SEEDS,
        root_seed=7,
        progress=False,
    )
    with ResultStore(db, cells_mod.EXPERIMENT) as store:
        resumed = store.records()
    assert len(resumed) == total and all(r["status"] == "ok" for r in resumed)
    assert _metrics_by_cell(resumed) == _metrics_by_cell(reference.records)


# -- the store -----------------------------------------------------------------------------------------------
def _foreign_sqlite(path):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (t TEXT)")
    con.execute("INSERT INTO notes VALUES ('precious')")
    con.commit()
    con.close()


def _other_experiment(path):
    ResultStore(path, "another").close()


def _old_schema(path):
    ResultStore(path, "unit").close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = '0' WHERE name = 'schema_version'")
    con.commit()
    con.close()


def _corrupt(path):
    _foreign_sqlite(path)
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # keep the header, wreck the schema page
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("experiment notes, not a database\n"), "not an SQLite database"),
        (lambda p: p.write_bytes(b""), "not an SQLite database"),
        (_foreign_sqlite, "not a theory_rl results store"),
        (_other_experiment, "experiment 'another', not 'unit'"),
        (_old_schema, "schema version '0'"),
        (_corrupt, "corrupt|cannot be read"),
    ],
    ids=["text", "empty", "foreign-sqlite", "other-experiment", "old-schema", "corrupt"],
)
def test_unusable_file_is_refused_and_left_byte_identical(tmp_path, make, message):
    path = tmp_path / "results.sqlite"
    make(path)
    before = path.read_bytes()
    with pytest.raises(StoreError, match=message):
        _sweep(tmp_path, name=path.name)
    with pytest.raises(ValueError, match=message):  # StoreError is a ValueError
        ResultStore(path, "unit")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.sqlite"]


def test_store_created_atomically_in_wal_mode(tmp_path):
    path = tmp_path / "sub" / "new.sqlite"
    with ResultStore(path, "unit") as store:
        assert store._con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not [p for p in path.parent.iterdir() if p.suffix == ".tmp"]
    with ResultStore(path) as store:  # experiment=None reads any store
        assert store.experiment == "unit"
    with pytest.raises(FileNotFoundError):
        ResultStore(tmp_path / "missing.sqlite")


def test_a_late_failure_never_overwrites_a_finished_cell(tmp_path):
    # A concurrent sweep (or a late worker) whose copy of an already finished cell crashed must not erase the
    # stored result; a failure is still replaced by a later success, and a success by a newer success.
    cell = dict(config_key='{"x":1}', seed_index=0, seed=7, wall_time=1.0)
    with ResultStore(tmp_path / "s.sqlite", "unit") as store:
        store.record(**cell, status="ok", metrics={"v": 1}, error=None)
        store.record(**cell, status="failed", metrics=None, error="OOM")
        (row,) = store.records()
        assert row["status"] == "ok" and row["metrics"] == {"v": 1} and row["error"] is None
        assert store.finished() == {('{"x":1}', 7)}
        store.record(**cell, status="ok", metrics={"v": 2}, error=None)
        assert [r["metrics"] for r in store.records()] == [{"v": 2}]
        other = dict(cell, config_key='{"x":2}')
        store.record(**other, status="failed", metrics=None, error="boom")
        store.record(**other, status="ok", metrics={"v": 3}, error=None)
        assert len(store.records()) == 2 and not store.records("failed")


def test_records_csv_and_dataframe(tmp_path):
    _sweep(tmp_path, n_seeds=1)
    with ResultStore(tmp_path / "t.sqlite", "unit") as store:
        flat = store.flat_records()
        assert {"x", "scale", "mean", "first", "n", "seed_echo", "status", "wall_time"} <= set(flat[0])
        csv_path = store.to_csv(tmp_path / "t.csv")
        lines = csv_path.read_text().splitlines()
        assert len(lines) == 1 + len(GRID) and "mean" in lines[0].split(",")
        try:
            import pandas  # noqa: F401
        except ImportError:
            with pytest.raises(ImportError, match="needs pandas"):
                store.to_dataframe()
        else:
            df = store.to_dataframe()
            assert df.shape[0] == len(GRID) and df["mean"].tolist() == [r["mean"] for r in flat]


def test_import_is_light():
    code = (
        "import sys, theory_rl, theory_rl.runner, theory_rl.plotting; "
        "print(sorted(m for m in ('matplotlib', 'dask', 'distributed', 'torch', 'tqdm', 'pandas') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.replace("'", '"')) == []

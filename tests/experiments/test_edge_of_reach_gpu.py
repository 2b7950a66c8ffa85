"""The GPU scale launcher of the edge-of-reach study: its cells' configurations and a seconds-long dry run."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch", reason="the deep backend needs PyTorch: pip install theory_rl[deep]")

from experiments import edge_of_reach_gpu as gpu  # noqa: E402


def test_cells_scale_only_the_rollout_volume_and_the_switches_they_name():
    method, hi = gpu._configs("ravl edac-init 100x", tiny=False)
    _, lo = gpu._configs("ravl edac-init 1x", tiny=False)
    _, default = gpu._configs("ravl default-init 100x", tiny=False)
    assert method == "ravl" and (hi.rollouts_per_epoch, hi.buffer_size) == (50_000, 2_500_000)
    assert (lo.rollouts_per_epoch, lo.buffer_size) == (500, 100_000)
    assert hi.sac.init == lo.sac.init == "edac" and default.sac.init == "default"
    assert hi.updates_per_epoch == lo.updates_per_epoch == 100 and hi.n_epochs == gpu.MAX_EPOCHS
    assert hi.sac == lo.sac  # the grid's networks and step sizes in both
    _, official = gpu._configs("ravl all official 100x", tiny=False)
    assert (official.real_fraction, official.rollout_start, official.sac.update_order) == (
        0.05, "dataset", "alpha_actor_critic")


def test_child_run_writes_a_finished_record_and_the_table_reads_it(tmp_path):
    path = tmp_path / "run.json"
    spec = dict(cell="ravl edac-init 1x", seed=0, device="cpu", tiny=True, deadline=0.0, path=str(path))
    assert gpu.child(spec) == 0  # the deadline has passed: one epoch, then the final diagnostics
    run = json.loads(path.read_text())
    assert run["done"] and run["epochs"] == 1 and run["updates"] == gpu.TINY_TRAIN["updates_per_epoch"]
    assert run["rollouts"] == 5 and len(run["rollout_reward"]) == 1
    rows = gpu.rows([run])
    assert rows[0]["cell"] == "ravl edac-init 1x" and rows[0]["epochs"] == [1] and rows[0]["finished"] == 1
    assert gpu.table(rows).splitlines()[2].startswith("| ravl edac-init 1x | 1 | 5.0e+00 |")

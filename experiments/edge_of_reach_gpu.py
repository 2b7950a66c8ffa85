"""RAVL at the official rollout volume on one GPU: a wall-clock-budgeted launcher (Sims et al. 2024, arXiv 2402.12527).

The controlled CPU study (``python -m experiments.edge_of_reach --grid``) left one hypothesis untested: that the
paper's RAVL finds the goal of the 2D task through the official rollout volume (50,000 rollouts per epoch,
``1.5e8`` over 3,000 epochs, against the grid's 500 per epoch, ``3e4`` in all) from an initial policy that
explores like EDAC's. This script tests it as far as one lent GPU's few minutes allow: it starts one process per
(cell, seed), all on the same device, each running :func:`theory_rl.deep.train_2d` at the grid's scale
(``GRID_SAC``, 100 updates per epoch) but with the rollout volume of the cell, until a common wall-clock deadline
(``--budget-s``); every run then reports its own number of epochs. Cells (``CELLS``):

- ``ravl edac-init 100x``: RAVL (N = 10, eta = 1), EDAC's initialisation, 50,000 rollouts per epoch (100x the
  grid's) into a FIFO buffer of 5 epochs (2.5e6 transitions; official: 5 epochs);
- ``ravl default-init 100x``: the same with the default initialisation;
- ``ravl edac-init 1x``: EDAC's initialisation at the grid's volume (500 rollouts, buffer 1e5) for the same
  time, which separates the volume from the longer training;
- ``ravl all official 100x``, ``oracle_patch 100x``, ``base 100x``: one seed each (all official switches; the
  two controls of the paper's Figure 2).

It is not a common-CLI experiment: the number of epochs is set by the device's speed, not by the command, so two
runs are comparable epoch by epoch (the per-epoch curves are kept), not by their final rows. Progress is written
atomically to ``OUT/progress.json`` every few seconds, so a killed run still leaves its curves; the end writes
``OUT/results.json`` (per run: epochs, updates, rollouts, final return, best return, whether it leaves the start
square, buffer and per-epoch rollout reward, penalties) and prints a Markdown table of the cells.

``python -m experiments.edge_of_reach_gpu --tiny --device cpu --budget-s 20 --out /tmp/x`` is a seconds-long dry
run (tiny networks and volumes, the same code paths).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from experiments.edge_of_reach import GRID_SAC, GRID_SCALE, OFFICIAL, OFFICIAL_TRAIN

#: the official rollout volume: 50,000 rollouts per epoch, a FIFO buffer of 5 epochs (here of k = 10 steps)
HI = dict(rollouts_per_epoch=50_000, buffer_size=2_500_000)
#: the CPU grid's volume
LO = dict(rollouts_per_epoch=GRID_SCALE["rollouts_per_epoch"], buffer_size=100_000)
EDAC = dict(init="edac")
#: (name, method, seeds, SACConfig overrides, TrainConfig overrides), in launch order
CELLS = (
    ("ravl edac-init 100x", "ravl", (0, 1, 2), EDAC, HI),
    ("ravl default-init 100x", "ravl", (0, 1, 2), {}, HI),
    ("ravl edac-init 1x", "ravl", (0, 1, 2), EDAC, LO),
    ("ravl all official 100x", "ravl", (0,), OFFICIAL, {**OFFICIAL_TRAIN, **HI}),
    ("oracle_patch 100x", "oracle_patch", (0,), {}, HI),
    ("base 100x", "base", (0,), {}, HI),
)
MAX_EPOCHS = 3000  # the official number of epochs: a cap the budget is not expected to reach
TINY_SAC = dict(hidden=16, batch_size=32)
TINY_TRAIN = dict(updates_per_epoch=5, eval_episodes=4)


def _write_json(path: Path, obj) -> None:
    """Atomic: a reader (or a kill) never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj), encoding="utf-8")
    os.replace(tmp, path)


def _configs(name: str, tiny: bool):
    from theory_rl.deep import SACConfig, TrainConfig

    _, method, _, sac, train = next(c for c in CELLS if c[0] == name)
    train = dict(train)
    if tiny:  # volumes / 100, tiny networks: a dry run of the same code paths
        train.update(TINY_TRAIN, rollouts_per_epoch=max(5, train["rollouts_per_epoch"] // 100),
                     buffer_size=max(500, train["buffer_size"] // 100))
    sac_cfg = SACConfig(**{**GRID_SAC, **(TINY_SAC if tiny else {}), **sac})
    return method, TrainConfig(**{**GRID_SCALE, "n_epochs": MAX_EPOCHS, **train}, sac=sac_cfg)


def child(spec: dict) -> int:
    """One (cell, seed) run until ``spec['deadline']`` (epoch seconds); progress and result to ``spec['path']``."""
    import torch

    from theory_rl.deep import train_2d

    torch.set_num_threads(1)
    method, cfg = _configs(spec["cell"], spec["tiny"])
    path, t0, last = Path(spec["path"]), time.time(), [0.0]
    head = {"cell": spec["cell"], "seed": spec["seed"], "method": method,
            "rollouts_per_epoch": cfg.rollouts_per_epoch, "updates_per_epoch": cfg.updates_per_epoch}

    def progress(epoch: int, curves: dict) -> bool:
        now = time.time()
        if now - last[0] > 5.0:
            last[0] = now
            _write_json(path, {**head, "done": False, "epochs": epoch + 1, "seconds": now - t0, **curves})
        return now > spec["deadline"]

    out = train_2d(method, seed=spec["seed"], config=cfg, device=spec["device"], callback=progress)
    edge, within = np.asarray(out["penalty_edge"]), np.asarray(out["penalty_other"])
    epochs = len(out["returns"])
    _write_json(path, {
        **head,
        "done": True,
        "epochs": epochs,
        "updates": epochs * cfg.updates_per_epoch,
        "rollouts": epochs * cfg.rollouts_per_epoch,
        "seconds": time.time() - t0,
        "device": out["device"],
        **{key: out[key] for key in ("returns", "rollout_reward", "q_mean", "alpha", "trajectories")},
        "final_return": out["final_return"],
        "best_return": max(out["returns"]),
        "optimal_return": out["optimal_return"],
        "final_q": out["final_q"],
        "leaves_start": bool(out["leaves_start"]),
        "final_distance": out["final_distance"],
        "buffer_reward_mean": out["buffer_reward_mean"],
        "penalty_edge_mean": float(edge.mean()),
        "penalty_within_mean": float(within.mean()),
    })
    return 0


def rows(runs: list[dict]) -> list[dict]:
    """One row per cell: epochs, final and best return, leave-start count, rollout and buffer reward."""
    out = []
    for name, *_ in CELLS:
        rs = [r for r in runs if r.get("cell") == name and r.get("returns")]
        if not rs:
            continue
        rr = [np.asarray(r["rollout_reward"]) for r in rs]
        out.append({
            "cell": name,
            "seeds": len(rs),
            "finished": sum(bool(r.get("done")) for r in rs),
            "epochs": [r["epochs"] for r in rs],
            "rollouts": [r["epochs"] * r["rollouts_per_epoch"] for r in rs],
            "final_returns": [r["returns"][-1] for r in rs],
            "best_returns": [max(r["returns"]) for r in rs],
            "leaves_start": sum(bool(r.get("leaves_start")) for r in rs),
            "rollout_reward_max": [float(x.max()) for x in rr],
            "rollout_reward_last": [float(x[-1]) for x in rr],
            "buffer_reward_mean": [r.get("buffer_reward_mean") for r in rs],
            "final_q": [r["q_mean"][-1] for r in rs],
        })
    return out


def table(rs: list[dict]) -> str:
    """The rows as Markdown (the one in docs/papers/edge_of_reach.md)."""

    def f(xs, fmt):
        return ", ".join("-" if x is None else format(x, fmt) for x in xs)

    lines = ["| cell | epochs | rollouts | final return | best return | leaves start | rollout reward, max / last "
             "| buffer reward | final Q |", "|" + "---|" * 9]
    for r in rs:
        lines.append(
            f"| {r['cell']} | {f(r['epochs'], 'd')} | {f(r['rollouts'], '.1e')} | {f(r['final_returns'], '.2f')} "
            f"| {f(r['best_returns'], '.2f')} | {r['leaves_start']}/{r['seeds']} "
            f"| {f(r['rollout_reward_max'], '.1e')} / {f(r['rollout_reward_last'], '.1e')} "
            f"| {f(r['buffer_reward_mean'], '.1e')} | {f(r['final_q'], '.2f')} |"
        )
    return "\n".join(lines)


def _collect(work: Path) -> list[dict]:
    runs = []
    for p in sorted(work.glob("*.json")):
        try:
            runs.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            pass
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--budget-s", type=float, default=420.0, help="training stops this long after the start")
    parser.add_argument("--grace-s", type=float, default=60.0, help="then runs still going are killed")
    parser.add_argument("--tiny", action="store_true", help="a seconds-long dry run of the same code paths")
    parser.add_argument("--work", type=Path, default=None, help="per-run files (default OUT/runs)")
    parser.add_argument("--only", nargs="+", default=None, help="these cells only (names as in CELLS)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return child(json.loads(args.child))
    t0 = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.work or args.out / "runs"
    work.mkdir(parents=True, exist_ok=True)
    deadline = t0 + args.budget_s
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    procs = []
    for name, _, seeds, _, _ in CELLS:
        if args.only and name not in args.only:
            continue
        for seed in seeds:
            tag = f"{name.replace(' ', '_')}_s{seed}"
            spec = dict(cell=name, seed=seed, device=args.device, tiny=args.tiny, deadline=deadline,
                        path=str(work / f"{tag}.json"))
            err = open(work / f"{tag}.err", "w", encoding="utf-8")  # noqa: SIM115 - closed below
            cmd = [sys.executable, "-m", "experiments.edge_of_reach_gpu", "--out", str(args.out), "--child",
                   json.dumps(spec)]
            procs.append((tag, subprocess.Popen(cmd, env=env, stdout=err, stderr=subprocess.STDOUT), err))
    print(f"[{time.time() - t0:5.0f}s] started {len(procs)} runs on {args.device}, budget {args.budget_s:.0f}s",
          flush=True)
    polls = 0
    while any(p.poll() is None for _, p, _ in procs) and time.time() < deadline + args.grace_s:
        time.sleep(min(10.0, args.budget_s / 10))
        runs = _collect(work)
        _write_json(args.out / "progress.json", {"elapsed_s": time.time() - t0, "runs": runs})
        polls += 1
        if polls % 3 == 1:  # epochs / last return / last rollout reward of each run
            brief = " | ".join(f"{r['epochs']}/{r['returns'][-1]:.1f}/{r['rollout_reward'][-1]:.0e}" for r in runs)
            print(f"[{time.time() - t0:5.0f}s] {brief}", flush=True)
    status = 0
    for tag, p, err in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
            print(f"killed at the grace limit: {tag}", flush=True)
        err.close()
        if p.returncode:
            status = 1
            tail = (work / f"{tag}.err").read_text(encoding="utf-8")[-2000:]
            print(f"run {tag} exited {p.returncode}:\n{tail}", flush=True)
    runs = _collect(work)
    rs = rows(runs)
    _write_json(args.out / "results.json", {"elapsed_s": time.time() - t0, "device": args.device,
                                            "budget_s": args.budget_s, "tiny": args.tiny, "rows": rs, "runs": runs})
    print(table(rs), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())

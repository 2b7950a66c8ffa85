"""Experiment engine: seeded sweeps, a crash-safe SQLite result store, local-process and Dask execution.

It knows nothing of RL. A sweep is a grid of configurations times seeds; each cell is a pure function
``fn(config, seed) -> dict`` of metrics, stored as soon as it finishes, so an interrupted sweep resumes with
the same call without losing or recomputing a finished cell.

>>> from theory_rl.runner import grid, run_sweep
>>> def cell(config, seed):
...     return {"square": config["x"] ** 2}
>>> summary = run_sweep(cell, grid(x=[1, 2, 3]), experiment="demo", db_path="demo.sqlite")  # doctest: +SKIP
"""

from .cells import Cell, cell_seed, config_key, grid, make_cells
from .executors import execute_cell
from .store import SCHEMA_VERSION, ResultStore, StoreError, StoreLockedError, code_version
from .sweep import SweepSummary, run_sweep

__all__ = [
    "Cell",
    "ResultStore",
    "SCHEMA_VERSION",
    "StoreError",
    "StoreLockedError",
    "SweepSummary",
    "cell_seed",
    "code_version",
    "config_key",
    "execute_cell",
    "grid",
    "make_cells",
    "run_sweep",
]

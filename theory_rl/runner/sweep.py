"""Run a sweep: skip cells already in the store, run the rest on an executor, store each as it finishes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from theory_rl._validation import Boolean, Integer, String, validate_params
from theory_rl._validation import Callable as CallableSpec

from .cells import Cell, make_cells
from .executors import MAX_WORKERS, run_dask, run_inline, run_processes
from .store import ResultStore, StoreError, code_version

__all__ = ["SweepSummary", "run_sweep"]


@dataclass
class SweepSummary:
    """What a call to :func:`run_sweep` did.

    Attributes
    ----------
    experiment : str
        Experiment name.
    total : int
        Cells in the sweep.
    skipped : int
        Cells already finished in the store before this call (not recomputed).
    succeeded : int
        Cells run successfully by this call.
    failures : list of dict
        One per cell that raised in this call: ``config``, ``seed_index``, ``seed`` and ``error`` (traceback).
    wall_time : float
        Seconds this call took.
    records : list of dict
        The stored records of this sweep's cells (see :meth:`ResultStore.records`), successful ones only.
    """

    experiment: str
    total: int
    skipped: int
    succeeded: int
    failures: list[dict[str, Any]] = field(default_factory=list)
    wall_time: float = 0.0
    records: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def failed(self) -> int:
        """Number of cells that failed in this call."""
        return len(self.failures)

    @property
    def ok(self) -> bool:
        """True when every cell of the sweep has finished successfully."""
        return not self.failures and self.skipped + self.succeeded == self.total

    def report(self) -> str:
        """A few lines for the terminal: counts, then the last line of each failure's traceback."""
        lines = [
            f"{self.experiment}: {self.total} cells, {self.skipped} already done, "
            f"{self.succeeded} succeeded, {self.failed} failed ({self.wall_time:.1f} s)"
        ]
        for f in self.failures:
            last = f["error"].strip().splitlines()[-1] if f["error"] else "?"
            lines.append(f"  FAILED config={f['config']} seed_index={f['seed_index']}: {last}")
        if self.failures:
            lines.append("  failed cells are retried when the same command is run again")
        return "\n".join(lines)


@validate_params(fn=CallableSpec(), experiment=String(), db_path=String(path=True), n_seeds=Integer(1),
                 root_seed=Integer(0), workers=Integer(1, MAX_WORKERS), progress=Boolean())
def run_sweep(
    fn: Callable[[dict, int], dict],
    configs: Sequence[dict[str, Any]],
    *,
    experiment: str,
    db_path: str | os.PathLike,
    n_seeds: int = 1,
    root_seed: int = 0,
    workers: int = 1,
    scheduler: Any = None,
    progress: bool = True,
) -> SweepSummary:
    """Run every (configuration, seed index) cell not yet finished in the store, storing each as it finishes.

    Parameters
    ----------
    fn : callable
        Pure cell function ``fn(config, seed) -> dict`` of JSON-serialisable metrics. ``seed`` is an int in
        ``[0, 2**63)`` derived from ``root_seed``, the canonical config key and the seed index (see
        :func:`~theory_rl.runner.cell_seed`); build generators with ``np.random.default_rng(seed)``. With
        ``workers > 1`` or a scheduler it must be a picklable top-level function.
    configs : sequence of dict
        The configurations (see :func:`~theory_rl.runner.grid`).
    experiment : str
        Name stored in the database; a database of another experiment is refused.
    db_path : str or Path
        SQLite results file; created when missing, resumed when present.
    n_seeds : int, default 1
        Seeds per configuration.
    root_seed : int, default 0
        Root of all cell seeds.
    workers : int, default 1
        1 runs the cells in this process; ``N > 1`` runs them on N spawned local processes.
    scheduler : str or dask.distributed.Client, optional
        Run on this Dask cluster instead (``workers`` is then ignored).
    progress : bool, default True
        Show a tqdm progress bar (cells done, ETA, failures).

    Returns
    -------
    SweepSummary
        Counts, failures with tracebacks, and the successful records of this sweep's cells.

    Notes
    -----
    Finished cells are never recomputed; failed cells are retried by the next call. A KeyboardInterrupt stops
    the sweep after the results received so far are stored, and is re-raised. The call holds the store's
    exclusive lock: a second call on the same store, from any process, raises
    :class:`~theory_rl.runner.StoreLockedError` at once instead of computing the same cells again. A complete
    store in a read-only folder is read (nothing to compute); one with missing cells is a StoreError.
    """
    start = time.perf_counter()
    cells = make_cells(configs, n_seeds, root_seed)
    wanted = {(c.key, c.seed) for c in cells}
    with ResultStore(db_path, experiment) as store:
        store.lock()  # one driver per store: a second one raises StoreLockedError here, before reading anything
        done = store.finished()
        todo: list[Cell] = [c for c in cells if (c.key, c.seed) not in done]
        if todo and not store.writable:
            raise StoreError(f"{store.path} is read-only and {len(todo)} of the sweep's {len(cells)} cells are not "
                             "in it; copy it to a writable folder to compute them")
        summary = SweepSummary(experiment, total=len(cells), skipped=len(cells) - len(todo), succeeded=0)
        tasks = [(c.config, c.seed) for c in todo]
        if not tasks:
            outcomes = iter(())
        elif scheduler is not None:
            outcomes = run_dask(fn, tasks, scheduler)
        elif workers == 1 or len(tasks) == 1:
            outcomes = run_inline(fn, tasks)
        else:
            outcomes = run_processes(fn, tasks, min(workers, len(tasks)))
        bar = _progress_bar(progress, summary)
        version = code_version()
        try:
            for i, outcome in outcomes:
                cell = todo[i]
                store.record(
                    config_key=cell.key,
                    seed_index=cell.seed_index,
                    seed=cell.seed,
                    status=outcome["status"],
                    metrics=outcome["metrics"],
                    error=outcome["error"],
                    wall_time=outcome["wall_time"],
                    version=version,
                )
                if outcome["status"] == "ok":
                    summary.succeeded += 1
                else:
                    summary.failures.append(
                        {
                            "config": cell.config,
                            "seed_index": cell.seed_index,
                            "seed": cell.seed,
                            "error": outcome["error"],
                        }
                    )
                if bar is not None:
                    bar.update(1)
                    if summary.failures:
                        bar.set_postfix(failed=summary.failed, refresh=False)
        finally:
            if hasattr(outcomes, "close"):
                outcomes.close()  # shut a pool or Dask client down, also on KeyboardInterrupt
            if bar is not None:
                bar.close()
        summary.records = [r for r in store.records("ok") if (r["config_key"], r["seed"]) in wanted]
    summary.wall_time = time.perf_counter() - start
    return summary


def _progress_bar(enabled: bool, summary: SweepSummary):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(
        total=summary.total,
        initial=summary.skipped,
        desc=summary.experiment,
        unit="cell",
        dynamic_ncols=True,
    )

"""The command line shared by every experiment, and the driver that runs one.

Every experiment module is run as::

    python -m experiments.NAME [--quick] [--seed S] [--trials T] [--workers W] [--scheduler ADDR] [--out DIR]

and calls :func:`parse_args` then :func:`run_experiment`. The driver runs the sweep (resuming any earlier
interrupted run of the same command), writes ``OUT/NAME.sqlite`` and ``OUT/NAME_summary.json``, saves the
figures as PNG + PDF, and prints a short table of the fitted quantities last. Exit status: 0 when every cell
finished, 1 when some cell failed, 2 when the results file or the scheduler cannot be used, 130 when
interrupted.

Faults: a second run on the same ``--out`` while one is running exits 2 at once ("in use by another run"; it does
not wait); a read-only ``--out`` exits 2 with a message, except that a complete run there is read and summarised
without writing; a corrupt results file exits 2, untouched. A resumed run with nothing to compute keeps a summary and
figures that are up to date (same summary, every figure present) and says so; otherwise it says it redraws them.
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import sqlite3
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from theory_rl.runner import StoreError, code_version, run_sweep

__all__ = ["parse_args", "run_experiment", "mean_by", "loglog_slope", "format_table"]

DEFAULT_OUT = Path("results")
#: Summary JSON entries written by the driver itself; an experiment's own entries must use other names.
_METADATA = frozenset({"experiment", "quick", "seed", "trials", "cells", "code_version", "database", "figures"})
DEFAULT_FIGURES = Path("paper_figures")


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def build_parser(name: str, description: str, *, trials: int, quick_trials: int) -> argparse.ArgumentParser:
    """The argparse parser with the common flags (see :func:`parse_args`)."""
    parser = argparse.ArgumentParser(
        prog=f"python -m experiments.{name}",
        description=description,
        epilog=(
            "Re-running the same command resumes an interrupted run: finished cells are kept, failed ones "
            "retried. Exit status 0: all cells finished; 1: some failed; 2: unusable results file; "
            "130: interrupted."
        ),
    )
    parser.add_argument("--quick", action="store_true", help="small version for CI and smoke tests")
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="root seed of the sweep (default 0)")
    parser.add_argument(
        "--trials",
        type=_positive_int,
        default=None,
        help=f"seeds per configuration (default {trials}, or {quick_trials} with --quick)",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="local worker processes; 1 (default) runs the cells in this process",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDR",
        default=None,
        help="address of a Dask scheduler (tcp://host:8786) to run the cells on; needs the 'dist' extra",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=(
            f"directory for the results database, the summary JSON and the figures (default: results and "
            f"figures in {DEFAULT_OUT}/ and {DEFAULT_FIGURES}/; --quick figures go to {DEFAULT_OUT}/ so "
            "they never replace the paper-scale ones)"
        ),
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def parse_args(
    name: str,
    description: str,
    argv: Sequence[str] | None = None,
    *,
    trials: int = 10,
    quick_trials: int = 2,
) -> argparse.Namespace:
    """Parse the common command line of an experiment.

    Parameters
    ----------
    name : str
        Experiment name (module name under ``experiments``).
    description : str
        One paragraph for ``--help``.
    argv : sequence of str, optional
        Arguments; ``sys.argv[1:]`` when None.
    trials, quick_trials : int
        Default seeds per configuration at paper scale and with ``--quick``.

    Returns
    -------
    argparse.Namespace
        ``quick``, ``seed``, ``trials`` (resolved to an int), ``workers``, ``scheduler``, ``out``,
        ``no_progress``, plus ``name``.
    """
    args = build_parser(name, description, trials=trials, quick_trials=quick_trials).parse_args(argv)
    if args.trials is None:
        args.trials = quick_trials if args.quick else trials
    args.name = name
    return args


def _output_dirs(args: argparse.Namespace) -> tuple[Path, Path]:
    if args.out is not None:
        return args.out, args.out
    return DEFAULT_OUT, DEFAULT_OUT if args.quick else DEFAULT_FIGURES


def format_table(values: dict[str, Any]) -> str:
    """Two aligned columns, ``quantity`` and ``value``; floats to 4 significant digits."""
    rows = [(k, f"{v:.4g}" if isinstance(v, float) else str(v)) for k, v in values.items()]
    width = max([len("quantity")] + [len(k) for k, _ in rows])
    lines = [f"{'quantity':<{width}}  value", f"{'-' * width}  -----"]
    lines += [f"{k:<{width}}  {v}" for k, v in rows]
    return "\n".join(lines)


def run_experiment(
    args: argparse.Namespace,
    cell: Callable[[dict, int], dict],
    configs: Sequence[dict[str, Any]],
    *,
    summarize: Callable[[list[dict]], dict[str, Any]],
    plot: Callable[[list[dict], dict[str, Any]], dict[str, Any]] | None = None,
) -> int:
    """Run an experiment's sweep and write its results, summary and figures.

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`parse_args`.
    cell : callable
        Picklable top-level cell function ``cell(config, seed) -> dict`` of metrics.
    configs : sequence of dict
        The grid (already the quick one when ``args.quick``).
    summarize : callable
        ``summarize(records) -> dict`` of fitted quantities, from the successful records of this sweep (see
        :meth:`theory_rl.runner.ResultStore.records`). Every entry goes to the top level of the summary JSON
        beside the run's metadata; numbers and strings also go to the printed table, lists and dicts (e.g. a list
        of slope records) do not.
    plot : callable, optional
        ``plot(records, fitted) -> {name: Figure}``; called inside
        :func:`theory_rl.plotting.figure_style`, each figure saved as PNG + PDF.

    Returns
    -------
    int
        Exit status: 0 all cells finished, 1 some failed, 2 unusable results file, 130 interrupted.
    """
    out_dir, fig_dir = _output_dirs(args)
    db_path = out_dir / f"{args.name}.sqlite"
    try:
        sweep = run_sweep(
            cell,
            configs,
            experiment=args.name,
            db_path=db_path,
            n_seeds=args.trials,
            root_seed=args.seed,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=not args.no_progress,
        )
    except StoreError as exc:  # not a store, another experiment, corrupt, read-only with cells to compute, locked
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except sqlite3.OperationalError as exc:
        print(f"error: cannot use the results file {db_path}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if _is_write_error(exc):
            print(f"error: cannot write results to {out_dir}: {exc}", file=sys.stderr)
            return 2
        if args.scheduler is None:
            raise
        print(f"error: cannot use the Dask scheduler at {args.scheduler}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: finished cells are saved in {db_path}; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    except SystemExit as exc:  # SIGTERM while worker processes ran (the runner stopped them)
        if exc.code == 143:
            print(
                f"\nterminated: finished cells are saved in {db_path}; run the same command again to resume",
                file=sys.stderr,
            )
        raise
    print(sweep.report())
    if sweep.failures:
        print(f"no summary written: {sweep.failed} cell(s) failed (tracebacks in {db_path})", file=sys.stderr)
        return 1
    fitted = summarize(sweep.records)
    clash = sorted(set(fitted) & _METADATA)
    if clash:
        raise ValueError(f"summarize returned reserved summary entries {clash}; rename them")
    scalars = {k: v for k, v in fitted.items() if not isinstance(v, (list, dict))}
    summary = {
        "experiment": args.name,
        "quick": args.quick,
        "seed": args.seed,
        "trials": args.trials,
        "cells": sweep.total,
        "code_version": code_version(),
        "database": str(db_path),
        "figures": [],
        **fitted,
    }
    summary_path = out_dir / f"{args.name}_summary.json"
    if sweep.succeeded == 0:
        if _up_to_date(summary_path, summary):
            print(f"nothing to compute; {summary_path} and its figures are up to date, not redrawn "
                  "(delete them to redraw)")
            print(format_table(scalars))
            return 0
        print("nothing to compute; writing the summary and drawing the figures from the stored results")
    try:
        figures: list[str] = []
        if plot is not None:
            from theory_rl.plotting import figure_style, save_figure

            with figure_style():
                for fig_name, fig in plot(sweep.records, fitted).items():
                    figures += [str(p) for p in save_figure(fig, fig_name, fig_dir)]
        summary["figures"] = figures
        summary_path.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    except OSError as exc:
        if not _is_write_error(exc):
            raise
        print(format_table(scalars))
        print(f"error: cannot write the summary and figures to {out_dir} or {fig_dir}: {exc}", file=sys.stderr)
        return 2
    print(f"results: {db_path}, {summary_path}; figures: {', '.join(figures) or 'none'}")
    print(format_table(scalars))
    return 0


def _is_write_error(exc: OSError) -> bool:
    """A folder or file that cannot be written (permissions, a read-only mount, an immutable folder)."""
    return isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)


def _up_to_date(summary_path: Path, summary: dict) -> bool:
    """Whether ``summary_path`` holds this summary (all but the code version and the figure list, which the
    stored results do not determine) and every figure it lists exists: then nothing needs redrawing."""
    try:
        old = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(old, dict) or not isinstance(old.get("figures"), list):
        return False
    ignore = ("code_version", "figures")
    new = json.loads(json.dumps({k: v for k, v in summary.items() if k not in ignore}))
    if {k: v for k, v in old.items() if k not in ignore} != new:
        return False
    return all(isinstance(f, str) and Path(f).is_file() for f in old["figures"])


def mean_by(records: list[dict], by: Sequence[str], metric: str) -> dict[tuple, float]:
    """Mean of ``metric`` over seeds, grouped by the config entries ``by``.

    Returns
    -------
    dict
        ``{tuple of config values: mean}``, sorted by key.
    """
    groups: dict[tuple, list[float]] = defaultdict(list)
    for rec in records:
        if metric not in rec["metrics"]:
            raise ValueError(f"record {rec['config_key']} seed {rec['seed_index']} has no metric {metric!r}")
        groups[tuple(rec["config"][k] for k in by)].append(float(rec["metrics"][metric]))
    return {k: math.fsum(v) / len(v) for k, v in sorted(groups.items())}


def loglog_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of ``log y`` against ``log x`` (the exponent of a power law ``y ~ x**slope``)."""
    import numpy as np

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"need at least two (x, y) pairs of equal length, got {x.size} and {y.size}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("log-log slope needs positive x and y")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])

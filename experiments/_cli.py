"""The command line shared by every experiment, and the driver that runs one.

Every experiment module is run as::

    python -m experiments.NAME [--quick] [--seed S] [--trials T] [--workers W] [--scheduler ADDR] [--out DIR]
                               [--figures DIR] [--no-progress]

and calls :func:`parse_args` then :func:`run_experiment`. The driver prints its plan at once, runs the sweep
(resuming any earlier interrupted run of the same command), writes ``OUT/NAME.sqlite`` and
``OUT/NAME_summary.json``, saves the figures as PNG + PDF to ``OUT`` (``results/`` by default), and prints a short
table of the fitted quantities last. The committed figures in ``paper_figures/`` are replaced only when asked
(``--figures paper_figures``, as ``python -m experiments.regenerate`` does): then the summary JSON is also
written beside them, so the committed figures and the committed numbers always come from one run. Exit status:
0 when every cell finished, 1 when some cell failed, 2 when the results file or the scheduler cannot be used,
130 when interrupted.

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

__all__ = [
    "parse_args", "run_experiment", "mean_by", "loglog_slope", "bootstrap_slope", "bootstrap_loglog_slope",
    "format_table", "exit_process",
]

#: Bootstrap of fitted slopes over seeds (scipy.stats.bootstrap, percentile intervals), with its own fixed seed.
BOOTSTRAP = {"confidence": 0.95, "n_resamples": 2000, "method": "percentile", "seed": 0}

DEFAULT_OUT = Path("results")
#: Summary JSON entries written by the driver itself; an experiment's own entries must use other names.
_METADATA = frozenset({"experiment", "quick", "seed", "trials", "cells", "code_version", "database", "figures"})
#: Where the committed paper-scale figures (and their summaries) live; written only with ``--figures``.
PAPER_FIGURES = Path("paper_figures")


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
        help=f"directory for the results database, the summary JSON and the figures (default: {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--figures",
        type=Path,
        default=None,
        metavar="DIR",
        help=(
            f"directory for the figures (default: the --out directory); --figures {PAPER_FIGURES} replaces the "
            "committed figures and writes the summary JSON beside them"
        ),
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (for logs): only the plan line at the start and the report at the end",
    )
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
    out = args.out if args.out is not None else DEFAULT_OUT
    figures = getattr(args, "figures", None)
    return out, figures if figures is not None else out


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
    where = "in this process" if args.scheduler is None and args.workers == 1 else (
        f"on {args.scheduler}" if args.scheduler is not None else f"on {args.workers} worker processes")
    n_cells = sum(int(c.get("_seeds", args.trials)) for c in configs)  # "_seeds": exact cells run once
    print(f"{args.name}: {len(configs)} configurations, {args.trials} seeds: {n_cells} cells {where}"
          f"{' (quick)' if args.quick else ''}; results to {out_dir}/, figures to {fig_dir}/", flush=True)
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

            print(f"saving figures to {fig_dir}/ ...", flush=True)
            with figure_style():
                for fig_name, fig in plot(sweep.records, fitted).items():
                    figures += [str(p) for p in save_figure(fig, fig_name, fig_dir, draft=args.quick)]
        summary["figures"] = figures
        text = json.dumps(summary, indent=2, sort_keys=False) + "\n"
        summary_path.write_text(text, encoding="utf-8")
        if fig_dir != out_dir:  # the committed figures' summary, beside them (see the module docstring)
            fig_dir.mkdir(parents=True, exist_ok=True)
            (fig_dir / f"{args.name}_summary.json").write_text(text, encoding="utf-8")
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


def bootstrap_loglog_slope(
    x: Sequence[float],
    samples: Sequence[Sequence[float]],
    *,
    average: str = "mean",
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Log-log slope of the per-x average of ``samples`` against ``x``, with a bootstrap confidence interval.

    ``samples[i]`` holds the independent trials at ``x[i]``; the interval resamples the trials of every ``x``
    independently (``scipy.stats.bootstrap``, percentile method, ``n_resamples`` draws seeded by ``seed``).
    ``average`` is ``"mean"`` (the log of the mean), ``"median"`` or ``"geometric"`` (the mean of the logs).
    Points whose average is not positive cannot enter a log-log fit: they are left out and named in
    ``dropped_x``; with fewer than two points left the slope is None. A resample in which a kept point's average is
    not positive gives no slope; the interval is then None when more than 1% of resamples failed.

    Returns
    -------
    dict
        ``slope``, ``ci_low``, ``ci_high``, ``x_fit`` (the x values fitted), ``dropped_x``, ``average``.
    """
    import warnings

    import numpy as np
    from scipy import stats

    if average not in ("mean", "median", "geometric"):
        raise ValueError(f"average is {average!r}, expected 'mean', 'median' or 'geometric'")
    arrays = [np.asarray(s, dtype=float) for s in samples]
    if len(arrays) != len(x) or any(a.ndim != 1 or a.size == 0 for a in arrays):
        raise ValueError("samples must hold one non-empty 1-d sequence of trials per x")

    def centre(a):
        if average == "mean":
            return float(np.mean(a))
        if average == "median":
            return float(np.median(a))
        return float(np.exp(np.mean(np.log(a)))) if np.all(a > 0) else 0.0

    keep = [i for i, a in enumerate(arrays) if centre(a) > 0]
    out: dict[str, Any] = {"average": average, "x_fit": [x[i] for i in keep],
                           "dropped_x": [x[i] for i in range(len(x)) if i not in keep],
                           "slope": None, "ci_low": None, "ci_high": None}
    if len(keep) < 2:
        return out
    xs = np.log(np.asarray([x[i] for i in keep], dtype=float))

    def statistic(*resampled):
        ys = np.array([centre(a) for a in resampled])
        return float(np.polyfit(xs, np.log(ys), 1)[0]) if np.all(ys > 0) else np.nan

    out["slope"] = statistic(*(arrays[i] for i in keep))
    if all(arrays[i].size > 1 for i in keep):
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.DegenerateDataWarning)  # a constant resample is not an error here
            res = stats.bootstrap(tuple(arrays[i] for i in keep), statistic, paired=False, vectorized=False,
                                  n_resamples=n_resamples, confidence_level=confidence, method="percentile",
                                  rng=np.random.default_rng(seed))
        dist = res.bootstrap_distribution
        if np.mean(np.isnan(dist)) <= 0.01:
            low, high = np.nanquantile(dist, [(1 - confidence) / 2, (1 + confidence) / 2])
            out["ci_low"], out["ci_high"] = float(low), float(high)
    return out
def bootstrap_slope(x: Sequence[float], values, *, worst_over_first_axis: bool = False) -> tuple[float, float] | None:
    """Bootstrap confidence interval of a log-log slope, resampling SEEDS with replacement.

    Parameters
    ----------
    x : sequence of float
        The abscissa (N, T, ...), positive.
    values : array_like
        Per-seed measurements, shape ``(len(x), n_seeds)``, or ``(k, len(x), n_seeds)`` with
        ``worst_over_first_axis`` (k instances; the curve is the worst instance at each x).
    worst_over_first_axis : bool, default False
        Take the maximum over the first axis after averaging over the resampled seeds (a minimax rate).

    Returns
    -------
    (low, high) or None
        The :data:`BOOTSTRAP` interval (``scipy.stats.bootstrap``, percentile): each resample draws seed indices
        with replacement, averages over them, (takes the worst instance,) and refits the slope of ``log y``
        against ``log x``. None with fewer than two seeds or when a resample's curve has a zero (no log).
    """
    import numpy as np
    from scipy.stats import bootstrap

    values = np.asarray(values, dtype=float)
    logx = np.log(np.asarray(x, dtype=float))
    n_seeds = values.shape[-1]
    if n_seeds < 2:
        return None
    centred = logx - logx.mean()

    def statistic(idx, axis=-1):
        idx = np.asarray(idx, dtype=int)  # (..., n_seeds) resampled seed indices, vectorised over resamples
        curve = values[..., idx].mean(axis=-1)  # ([k,] len(x), ...)
        if worst_over_first_axis:
            curve = curve.max(axis=0)
        curve = np.moveaxis(curve, 0, -1)  # (..., len(x))
        with np.errstate(divide="ignore", invalid="ignore"):
            logy = np.log(curve)
        return ((logy - logy.mean(axis=-1, keepdims=True)) * centred).sum(axis=-1) / (centred**2).sum()

    result = bootstrap((np.arange(n_seeds),), statistic, vectorized=True, n_resamples=BOOTSTRAP["n_resamples"],
                       confidence_level=BOOTSTRAP["confidence"], method=BOOTSTRAP["method"],
                       rng=np.random.default_rng(BOOTSTRAP["seed"]))
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    return (low, high) if np.isfinite(low) and np.isfinite(high) else None


def exit_process(code: int):
    """``sys.exit(code)`` for an experiment run as ``python -m``, after ``gc.freeze()`` (issue 16).

    The interpreter's final garbage collections then skip every object alive at this point (the state of scipy,
    sympy, matplotlib and numba): they took about 0.8 s of CPU at the exit of ``lcb_rates --quick``, a sixth of the
    run. Only for the end of a process: the run has closed its store and its files by now, and nothing in
    theory_rl defines ``__del__``; the memory goes back to the system when the process ends. Never call it in a
    process that goes on (a test calling ``main``): frozen objects are not collected again.
    """
    import gc

    gc.freeze()
    sys.exit(code)

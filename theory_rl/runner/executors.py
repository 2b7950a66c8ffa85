"""Where cells run: in the driver process, in a pool of local processes, or on a Dask cluster.

Every executor runs :func:`execute_cell` on each task and yields ``(index, outcome)`` pairs in completion
order. :func:`execute_cell` never raises for a failing cell function: it returns the traceback as the outcome,
so one bad cell cannot stop a sweep. Only the driver writes results; executors just compute.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from theory_rl._validation import InvalidParameterError, check_callable, check_int

from .cells import plain_json

__all__ = ["execute_cell", "run_inline", "run_processes", "run_dask", "THREAD_ENV_VARS", "MAX_WORKERS"]

THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMBA_NUM_THREADS",
)

Task = tuple[dict, int]  # (config, seed)
Outcome = dict[str, Any]  # status, metrics, error, wall_time

#: Most worker processes a sweep may spawn (each is a Python interpreter with numpy): a larger count is a mistake.
MAX_WORKERS = 1024


def _check_cell_args(fn, config, seed, where: str = "") -> None:
    """The checks of one cell's arguments; ``where`` prefixes the names (``"tasks[3] "``) inside a task list."""
    check_callable(fn, "fn")
    if not isinstance(config, dict):
        raise InvalidParameterError(f"{where}config is a {type(config).__name__} ({config!r}), expected a dict")
    check_int(seed, f"{where}seed", low=0)


def _check_tasks(tasks) -> list:
    """``tasks`` as a list of ``(config, seed)`` pairs (dict, non-negative int), else an error naming ``tasks``."""
    if isinstance(tasks, (str, bytes, dict)):
        raise InvalidParameterError(f"tasks is a {type(tasks).__name__}, expected a sequence of (config, seed) pairs")
    try:
        tasks = list(tasks)
    except TypeError:
        raise InvalidParameterError(
            f"tasks is a {type(tasks).__name__}, expected a sequence of (config, seed) pairs"
        ) from None
    for i, task in enumerate(tasks):
        try:
            config, seed = task
        except (TypeError, ValueError):
            raise InvalidParameterError(f"tasks[{i}] is {task!r}, expected a (config, seed) pair") from None
        if not isinstance(config, dict):
            raise InvalidParameterError(f"tasks[{i}] holds a {type(config).__name__} config, expected a dict")
        check_int(seed, f"tasks[{i}] seed", low=0)
    return tasks


def execute_cell(fn: Callable[[dict, int], dict], config: dict, seed: int) -> Outcome:
    """Run one cell and capture its outcome; never raises for an exception inside ``fn``.

    Parameters
    ----------
    fn : callable
        The cell function ``fn(config, seed) -> dict`` of metrics.
    config : dict
        The cell's configuration (a copy is passed, so ``fn`` cannot alter the driver's).
    seed : int
        The cell's seed.

    Returns
    -------
    dict
        ``status`` ('ok' or 'failed'), ``metrics`` (dict of plain JSON values, or None), ``error`` (traceback
        text, or None) and ``wall_time`` (seconds).
    """
    _check_cell_args(fn, config, seed)
    start = time.perf_counter()
    try:
        metrics = fn(dict(config), seed)
        if not isinstance(metrics, dict):
            raise TypeError(f"cell function must return a dict of metrics, got {type(metrics).__name__}")
        metrics = plain_json(metrics, "metrics", finite=False)
        outcome = {"status": "ok", "metrics": metrics, "error": None}
    except Exception:  # noqa: BLE001 - a failing cell is data, recorded with its traceback
        outcome = {"status": "failed", "metrics": None, "error": traceback.format_exc()}
    outcome["wall_time"] = time.perf_counter() - start
    return outcome


# -- in the driver process -----------------------------------------------------------------------------------
def run_inline(fn: Callable, tasks: Sequence[Task]) -> Iterator[tuple[int, Outcome]]:
    """Run the tasks one after another in this process, with one BLAS thread while they run, as in a worker
    (issue 16: cells are small problems, where a second BLAS thread only waits, and on shared cores it made
    solves 3-10x slower); the previous limits come back when the run ends."""
    from threadpoolctl import threadpool_limits  # noqa: PLC0415 (only runs need it)

    check_callable(fn, "fn")
    tasks = _check_tasks(tasks)
    with threadpool_limits(limits=1, user_api="blas"):
        for i, (config, seed) in enumerate(tasks):
            yield i, execute_cell(fn, config, seed)


# -- local processes -----------------------------------------------------------------------------------------
def _pin_threads() -> None:
    """Dask worker setup: one BLAS/OpenMP/numba thread per worker process (as far as still possible)."""
    for var in THREAD_ENV_VARS:
        os.environ[var] = "1"
    if "numba" in sys.modules:  # only where numba is already loaded: importing it costs a second
        with contextlib.suppress(Exception):
            sys.modules["numba"].set_num_threads(1)


#: Seconds between a worker's checks that its driver is still alive.
PARENT_CHECK_INTERVAL = 0.5


def _exit_with_driver(driver_pid: int) -> None:
    """Worker thread: end this process at once when the driver is gone (kill -9 leaves no one to stop the pool;
    the worker is then re-parented, so its parent pid changes). Idle workers would otherwise wait forever, and
    with them multiprocessing's resource tracker, whose pipe they hold open."""
    while True:
        time.sleep(PARENT_CHECK_INTERVAL)
        if os.getppid() != driver_pid:
            os._exit(1)


def _init_process_worker(driver_pid: int | None = None) -> None:
    """Pool initializer: pin threads, leave Ctrl-C to the driver, which stops the pool, and die with the driver."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _pin_threads()
    if driver_pid is not None:
        threading.Thread(target=_exit_with_driver, args=(driver_pid,), name="parent-death-check",
                         daemon=True).start()


@contextlib.contextmanager
def _pinned_environment() -> Iterator[None]:
    """Set the thread variables to 1 in this process's environment, which spawned workers inherit."""
    saved = {var: os.environ.get(var) for var in THREAD_ENV_VARS}
    os.environ.update(dict.fromkeys(THREAD_ENV_VARS, "1"))
    try:
        yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def _check_picklable(fn: Callable) -> None:
    try:
        pickle.dumps(fn)
    except Exception as exc:  # noqa: BLE001 - pickling raises many types
        raise ValueError(
            f"cell function {getattr(fn, '__qualname__', fn)!r} cannot be sent to worker processes ({exc}); "
            "use a top-level function of an importable module, or workers=1"
        ) from exc


def _died(exc: BaseException) -> Outcome:
    return {
        "status": "failed",
        "metrics": None,
        "error": "worker process died while this cell was in flight (this cell or another one running at the "
        f"same time crashed it: segfault, os._exit, out of memory): {exc!r}",
        "wall_time": 0.0,
    }


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """While a pool runs, turn SIGTERM into ``SystemExit(143)`` so that the pool is stopped on the way out.

    Python's default action on SIGTERM (``kill PID``, a batch system's time limit) ends the driver at once and
    leaves the spawned workers running as orphans until their cells end, with nobody to record the results.
    Handlers can be set only from the main thread; elsewhere this does nothing.
    """
    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield
        return

    def _exit(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _new_pool(workers: int) -> ProcessPoolExecutor:
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_process_worker,
                               initargs=(os.getpid(),))


def _stop_pool(pool: ProcessPoolExecutor, *, kill: bool) -> None:
    if kill:  # interrupted or abandoned: do not wait for the running cells
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def run_processes(fn: Callable, tasks: Sequence[Task], workers: int) -> Iterator[tuple[int, Outcome]]:
    """Run the tasks on ``workers`` spawned local processes, each pinned to one BLAS/numba thread.

    Workers are started with the 'spawn' method, with the thread variables set in their environment before
    they import numpy. At most ``4 * workers`` tasks are in flight, so an interrupted sweep cancels quickly.
    If a worker process dies, the cells then in flight are reported as failed and a fresh pool runs the rest.
    SIGTERM to the driver stops the workers too (it raises ``SystemExit(143)`` in the driver); after a kill -9 of
    the driver, each worker notices within ``PARENT_CHECK_INTERVAL`` seconds and exits.
    ``fn`` must be a picklable top-level function.
    """
    check_callable(fn, "fn")
    tasks = _check_tasks(tasks)
    workers = check_int(workers, "workers", low=1, high=MAX_WORKERS)
    _check_picklable(fn)
    window = 4 * workers
    with _sigterm_as_exit(), _pinned_environment():
        pool = _new_pool(workers)
        finished = False
        try:
            pending: dict = {}
            next_task = 0
            while next_task < len(tasks) or pending:
                while next_task < len(tasks) and len(pending) < window:
                    config, seed = tasks[next_task]
                    pending[pool.submit(execute_cell, fn, config, seed)] = next_task
                    next_task += 1
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                broken = False
                for fut in done:
                    try:
                        outcome = fut.result()
                    except BrokenProcessPool as exc:
                        outcome, broken = _died(exc), True
                    yield pending.pop(fut), outcome
                if broken:  # every other in-flight cell is lost with the pool
                    for index in list(pending.values()):
                        yield index, _died(BrokenProcessPool("pool broken"))
                    pending.clear()
                    _stop_pool(pool, kill=True)
                    pool = _new_pool(workers)
            finished = True
        finally:
            _stop_pool(pool, kill=not finished)


# -- Dask ----------------------------------------------------------------------------------------------------
def run_dask(fn: Callable, tasks: Sequence[Task], scheduler: Any) -> Iterator[tuple[int, Outcome]]:
    """Run the tasks on an existing Dask distributed cluster.

    Parameters
    ----------
    fn : callable
        Cell function; shipped to the workers with cloudpickle.
    tasks : sequence of (config, seed)
        The cells to run.
    scheduler : str or dask.distributed.Client
        Scheduler address (``'tcp://host:8786'``) or a connected client.

    Notes
    -----
    Workers are asked to use one numba thread; their BLAS threads are whatever the cluster was started with
    (start workers with ``OMP_NUM_THREADS=1`` etc. and ``--nthreads 1`` for CPU-bound cells).
    """
    check_callable(fn, "fn")
    tasks = _check_tasks(tasks)
    try:
        from dask.distributed import Client, as_completed
    except ImportError as exc:
        raise ImportError("--scheduler needs dask.distributed: pip install 'theory_rl[dist]'") from exc
    own_client = not isinstance(scheduler, Client)
    client = Client(scheduler, set_as_default=False) if own_client else scheduler
    futures = []
    try:
        client.run(_pin_threads)
        futures = client.map(
            functools.partial(execute_cell, fn),
            [config for config, _ in tasks],
            [seed for _, seed in tasks],
            pure=False,
        )
        index = {fut.key: i for i, fut in enumerate(futures)}
        for fut, outcome in as_completed(futures, loop=client.loop, with_results=True, raise_errors=False):
            if isinstance(outcome, BaseException):  # e.g. KilledWorker: the task itself could not run
                text = "".join(traceback.format_exception(outcome))
                outcome = {"status": "failed", "metrics": None, "error": text, "wall_time": 0.0}
            yield index[fut.key], outcome
    finally:
        if futures:
            client.cancel(futures)
        if own_client:
            client.close()

"""Crash-safe SQLite store of sweep results: one row per finished cell, committed as each cell finishes.

The file is created atomically (built under a temporary name, then renamed), uses WAL journaling, and holds a
``meta`` table with the format name, the schema version and the experiment name. Opening a file that is not
such a store, belongs to another experiment, has another schema version or is corrupt raises
:class:`StoreError` after reading it through an immutable read-only connection, so the file is left
byte-identical.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import sqlite3
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

from theory_rl._validation import check_str

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX (Windows): no run lock
    fcntl = None

__all__ = ["ResultStore", "StoreError", "StoreLockedError", "code_version", "SCHEMA_VERSION"]

#: Version of the results-file schema; a file of another version is refused with a StoreError.
SCHEMA_VERSION = 1
_FORMAT = "theory_rl.runner"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_STATUSES = ("ok", "failed")
_COLUMNS = (
    "experiment",
    "config_key",
    "seed_index",
    "seed",
    "status",
    "metrics",
    "error",
    "code_version",
    "wall_time",
    "finished_at",
)
_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE cells (
    experiment   TEXT NOT NULL,
    config_key   TEXT NOT NULL,
    seed_index   INTEGER NOT NULL,
    seed         INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    metrics      TEXT,
    error        TEXT,
    code_version TEXT NOT NULL,
    wall_time    REAL NOT NULL,
    finished_at  REAL NOT NULL,
    PRIMARY KEY (config_key, seed)
);
"""


_UPSERT = (
    f"INSERT INTO cells ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (config_key, seed) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS)
    + " WHERE cells.status <> 'ok' OR excluded.status = 'ok'"
)


class StoreError(ValueError):
    """A results file cannot be used: not a store, another experiment, another schema, or corrupt."""


class StoreLockedError(StoreError):
    """Another process is running a sweep on this store (it holds the store's lock)."""


def _writable(path: Path) -> bool:
    """Whether new results can be written: the file and its folder (SQLite's WAL and lock files live there).

    ``os.access`` says yes to root even on a read-only mount or an immutable folder, so a probe file is created."""
    if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        return False
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``theory_rl.__version__`` plus ``+g<commit>`` when the package lives in a git checkout.

    Returns
    -------
    str
        For example ``'0.1.0+g6e157c2'``; just the version when git is unavailable.
    """
    from theory_rl import __version__

    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=2,
            check=True,
        )
        commit = out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+g{commit}" if commit else __version__


def _readonly_uri(path: Path) -> str:
    return f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro&immutable=1"


def _validate_existing(path: Path, experiment: str | None) -> str:
    """Check that ``path`` is a store of ``experiment`` without writing to it; return its experiment."""
    if not path.is_file():
        raise StoreError(f"{path} exists but is not a regular file; refusing to use it as a results store")
    with open(path, "rb") as fh:
        header = fh.read(len(_SQLITE_MAGIC))
    if header != _SQLITE_MAGIC:
        raise StoreError(f"{path} is not an SQLite database (bad header); refusing to use or overwrite it")
    try:
        con = sqlite3.connect(_readonly_uri(path), uri=True)
        try:
            check = con.execute("PRAGMA quick_check").fetchall()
            if check != [("ok",)]:
                raise StoreError(
                    f"{path} is a corrupt SQLite database ({check[0][0]}); it was left untouched"
                )
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"meta", "cells"} <= tables:
                raise StoreError(
                    f"{path} is an SQLite database but not a theory_rl results store "
                    f"(tables: {sorted(tables)}); refusing to use or overwrite it"
                )
            meta = dict(con.execute("SELECT name, value FROM meta").fetchall())
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{path} cannot be read as an SQLite database ({exc}); it was left untouched"
        ) from exc
    if meta.get("format") != _FORMAT:
        raise StoreError(f"{path} is not a theory_rl results store (format {meta.get('format')!r})")
    if meta.get("schema_version") != str(SCHEMA_VERSION):
        raise StoreError(
            f"{path} has results schema version {meta.get('schema_version')!r}, this code reads version "
            f"{SCHEMA_VERSION}; use another output directory or migrate the file"
        )
    stored = meta.get("experiment")
    if experiment is not None and stored != experiment:
        raise StoreError(
            f"{path} holds results of experiment {stored!r}, not {experiment!r}; "
            "refusing to mix them (use another output directory)"
        )
    return stored


def _create(path: Path, experiment: str) -> None:
    """Build an empty store under a temporary name in the same directory, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it the usual permissions
    try:
        con = sqlite3.connect(tmp)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)
            con.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("format", _FORMAT),
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("experiment", experiment),
                    ("created_at", time.strftime("%Y-%m-%dT%H:%M:%S%z")),
                    ("created_by", code_version()),
                ],
            )
            con.commit()
        finally:
            con.close()  # the last connection checkpoints the WAL into the main file
        # os.link fails if path exists: no window between a check and the rename in which another driver's new
        # store could be overwritten. Where hard links are unsupported, fall back to check-then-rename.
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise StoreError(f"{path} appeared while a new store was being created; not overwriting it") from None
        except OSError:
            if path.exists():
                raise StoreError(f"{path} appeared while a new store was being created; not overwriting it") from None
            os.replace(tmp, path)
    finally:
        for leftover in (tmp, tmp + "-wal", tmp + "-shm"):
            if os.path.exists(leftover):
                os.unlink(leftover)


class ResultStore:
    """SQLite results of one experiment.

    Parameters
    ----------
    path : str or Path
        The database file. Created (atomically) when missing and ``experiment`` is given.
    experiment : str or None
        Name of the experiment. An existing file of another experiment is refused. ``None`` opens any existing
        store (for reading results) and cannot create one.

    Raises
    ------
    StoreError
        If the file exists but is not a store of ``experiment`` with schema version :data:`SCHEMA_VERSION`,
        or is corrupt. The file is then left byte-identical.
    """

    def __init__(self, path: str | os.PathLike, experiment: str | None = None):
        self.path = Path(check_str(path, "path", path=True))
        if experiment is not None and (not isinstance(experiment, str) or not experiment.strip()):
            raise ValueError(f"experiment must be a non-empty string, got {experiment!r}")
        if self.path.exists():
            self.experiment = _validate_existing(self.path, experiment)
        elif experiment is None:
            raise FileNotFoundError(f"no results store at {self.path} (pass experiment= to create one)")
        else:
            _create(self.path, experiment)
            self.experiment = experiment
        self._lock_fd = None
        #: False when the store's folder or file cannot be written (a finished run copied to read-only storage):
        #: it is then read through an immutable connection, and :meth:`record` refuses.
        self.writable = _writable(self.path)
        if self.writable:
            self._con = sqlite3.connect(self.path, timeout=30)
            self._con.execute("PRAGMA journal_mode=WAL")
            # In WAL mode, NORMAL survives a killed process (kill -9); only an OS crash may lose the last commits.
            self._con.execute("PRAGMA synchronous=NORMAL")
        else:
            self._con = sqlite3.connect(_readonly_uri(self.path), uri=True)

    # -- lifecycle -------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection and release the run lock (idempotent)."""
        self.unlock()
        if self._con is not None:
            self._con.close()
            self._con = None

    def lock(self) -> None:
        """Take the store's exclusive run lock (``flock`` on the file, released by :meth:`unlock`, :meth:`close`
        or the process's death, kill -9 included; POSIX only), or raise :class:`StoreLockedError` at once when another
        process holds it: two drivers on one store would compute the same cells twice."""
        if self._lock_fd is not None or fcntl is None:
            return
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreLockedError(
                f"{self.path} is in use by another run of this experiment (it holds the store's lock); wait for it "
                "to finish, or use another output directory"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        self._lock_fd = fd

    def unlock(self) -> None:
        """Release the run lock taken by :meth:`lock` (idempotent)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultStore({str(self.path)!r}, experiment={self.experiment!r})"

    # -- writing ---------------------------------------------------------------------------------------------
    def record(
        self,
        *,
        config_key: str,
        seed_index: int,
        seed: int,
        status: str,
        metrics: dict[str, Any] | None,
        error: str | None,
        wall_time: float,
        version: str | None = None,
    ) -> None:
        """Store one finished cell and commit at once (a failed row is replaced when the cell is retried).

        A ``'failed'`` record for a cell that is already stored as ``'ok'`` is ignored: a finished cell is
        never lost to a late or concurrent failure of the same cell. An ``'ok'`` record replaces any row.

        Parameters
        ----------
        config_key : str
            Canonical config key.
        seed_index, seed : int
            Seed index and derived seed of the cell.
        status : {'ok', 'failed'}
            Outcome.
        metrics : dict or None
            JSON-serialisable metrics of a successful cell.
        error : str or None
            Traceback of a failed cell.
        wall_time : float
            Seconds the cell function ran.
        version : str, optional
            Code version; defaults to :func:`code_version`.
        """
        if status not in _STATUSES:
            raise ValueError(f"status must be one of {_STATUSES}, got {status!r}")
        if not self.writable:
            raise StoreError(f"{self.path} is read-only (its folder or the file cannot be written); cannot store "
                             "new results there")
        row = (
            self.experiment,
            config_key,
            int(seed_index),
            int(seed),
            status,
            None if metrics is None else json.dumps(metrics, sort_keys=True),
            error,
            version or code_version(),
            float(wall_time),
            time.time(),
        )
        with self._con:  # one transaction per cell, committed on exit
            # Upsert on the primary key, but a 'failed' row never overwrites an 'ok' one: a concurrent or
            # late copy of a cell that crashed must not erase a finished result (INSERT OR REPLACE did).
            self._con.execute(_UPSERT, row)

    # -- reading ---------------------------------------------------------------------------------------------
    def finished(self) -> set[tuple[str, int]]:
        """``(config_key, seed)`` of every successfully finished cell."""
        return set(self._con.execute("SELECT config_key, seed FROM cells WHERE status = 'ok'").fetchall())

    def records(self, status: str | None = None) -> list[dict[str, Any]]:
        """All stored cells as dicts, ordered by config key and seed index.

        Parameters
        ----------
        status : {'ok', 'failed'}, optional
            Keep only cells with this status.

        Returns
        -------
        list of dict
            Keys: experiment, config (dict), config_key, seed_index, seed, status, metrics (dict or None),
            error, code_version, wall_time, finished_at.
        """
        if status is not None and status not in _STATUSES:
            raise ValueError(f"status must be one of {_STATUSES} or None, got {status!r}")
        query = f"SELECT {', '.join(_COLUMNS)} FROM cells"
        args: tuple = ()
        if status is not None:
            query += " WHERE status = ?"
            args = (status,)
        out = []
        for row in self._con.execute(query + " ORDER BY config_key, seed_index, seed", args):
            rec = dict(zip(_COLUMNS, row, strict=True))
            try:
                rec["config"] = json.loads(rec["config_key"])
                rec["metrics"] = None if rec["metrics"] is None else json.loads(rec["metrics"])
            except (ValueError, TypeError, RecursionError) as exc:  # JSONDecodeError is a ValueError
                raise StoreError(
                    f"{self.path} holds a corrupt cell (config_key {str(rec['config_key'])[:80]!r}, seed "
                    f"{rec['seed']}): its JSON cannot be read ({exc}); the file was left untouched"
                ) from None
            if not isinstance(rec["config"], dict) or not (rec["metrics"] is None or isinstance(rec["metrics"], dict)):
                raise StoreError(f"{self.path} holds a corrupt cell (config_key {str(rec['config_key'])[:80]!r}, "
                                 f"seed {rec['seed']}): config and metrics must be JSON objects")
            out.append(rec)
        return out

    def flat_records(self, status: str | None = None) -> list[dict[str, Any]]:
        """Records with config entries and metrics as top-level columns (metrics prefixed on a name clash)."""
        flat = []
        for rec in self.records(status):
            row = {k: rec[k] for k in ("experiment", "config_key", "seed_index", "seed", "status")}
            row.update(rec["config"])
            for name, value in (rec["metrics"] or {}).items():
                row[f"metric_{name}" if name in row else name] = value
            row.update({k: rec[k] for k in ("wall_time", "code_version", "finished_at", "error")})
            flat.append(row)
        return flat

    def to_dataframe(self, status: str | None = None):
        """Flat records as a :class:`pandas.DataFrame` (requires pandas).

        Raises
        ------
        ImportError
            If pandas is not installed; use :meth:`records` or :meth:`to_csv` instead.
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("to_dataframe needs pandas; use records() or to_csv() without it") from exc
        return pd.DataFrame(self.flat_records(status))

    def to_csv(self, path: str | os.PathLike, status: str | None = None) -> Path:
        """Write the flat records to CSV (one column per config entry and metric); return the path."""
        rows = self.flat_records(status)
        columns: dict[str, None] = {}
        for row in rows:
            columns.update(dict.fromkeys(row))
        path = Path(path)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(columns))
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in row.items()}
                )
        return path

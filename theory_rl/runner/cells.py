"""Grids of configurations, canonical config keys and per-cell seeds.

A sweep is a list of configurations times ``n_seeds`` seed indices. Each pair is a *cell*. The seed of a cell
depends only on the root seed, the cell's canonical config key and its seed index, so it is the same whatever
order the cells run in, however many workers run them and wherever they run.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from theory_rl._validation import InvalidParameterError, check_str, check_table

__all__ = ["Cell", "grid", "config_key", "cell_seed", "make_cells"]

_SEED_BITS = 63  # fits a signed SQLite INTEGER and np.random.default_rng


def grid(**axes: Any) -> list[dict[str, Any]]:
    """Cartesian product of named axes, as a list of configuration dicts.

    Parameters
    ----------
    **axes
        Each keyword names an axis; its value is a non-empty sequence of values for that axis.

    Returns
    -------
    list of dict
        One dict per combination, in row-major order of the keywords as given.

    Examples
    --------
    >>> grid(S=[10, 20], solver=["vi"])
    [{'S': 10, 'solver': 'vi'}, {'S': 20, 'solver': 'vi'}]
    """
    names = list(axes)
    values = []
    for name in names:
        vals = axes[name]
        if isinstance(vals, (str, bytes)) or not hasattr(vals, "__iter__"):
            raise ValueError(f"grid axis {name!r} must be a sequence of values, got {vals!r}")
        vals = list(vals)
        if not vals:
            raise ValueError(f"grid axis {name!r} is empty")
        values.append(vals)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def plain_json(value: Any, where: str, *, finite: bool = True) -> Any:
    """``value`` as plain JSON types (numpy scalars and arrays become Python numbers and lists).

    Parameters
    ----------
    value : object
        None, bool, str, a real or integer number, or lists, tuples, dicts (string keys) and arrays of them.
    where : str
        How to name the value in an error message, e.g. ``"config['S']"``.
    finite : bool, default True
        Refuse NaN and infinities (they have no canonical JSON form).

    Raises
    ------
    ValueError
        Naming the offending entry.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.generic, np.ndarray)):
        return plain_json(value.tolist(), where, finite=finite)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if finite and not math.isfinite(value):
            raise ValueError(f"{where} is {value}, which has no canonical JSON form")
        return value
    if isinstance(value, (list, tuple)):
        return [plain_json(v, f"{where}[{i}]", finite=finite) for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"{where} has a non-string key {k!r}")
            out[k] = plain_json(v, f"{where}[{k!r}]", finite=finite)
        return out
    raise ValueError(f"{where} = {value!r} is not JSON-serialisable (type {type(value).__name__})")


def config_key(config: dict[str, Any]) -> str:
    """Canonical JSON of a configuration: sorted keys, no whitespace.

    Parameters
    ----------
    config : dict
        String keys; values built from None, bool, int, finite float, str, lists and dicts.

    Returns
    -------
    str
        The same string for equal configurations in any process, e.g. ``'{"S":10,"solver":"vi"}'``.

    Raises
    ------
    ValueError
        If ``config`` is not a dict or holds a value without a canonical JSON form; the message names it.
    """
    if not isinstance(config, dict):
        raise InvalidParameterError(f"config is a {type(config).__name__} ({config!r}), expected a dict")
    plain = plain_json(config, "config")
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def cell_seed(root_seed: int, key: str, seed_index: int) -> int:
    """Seed of one cell, derived from the root seed through :class:`numpy.random.SeedSequence`.

    The spawn key is the SHA-256 digest of ``key`` as eight 32-bit words followed by ``seed_index``; it never
    uses Python's ``hash()``, so the result is the same in every process and on every machine.

    Parameters
    ----------
    root_seed : int
        Non-negative root seed of the sweep.
    key : str
        Canonical config key (see :func:`config_key`).
    seed_index : int
        Index of the seed, ``0 <= seed_index``.

    Returns
    -------
    int
        A seed in ``[0, 2**63)``; pass it to :func:`numpy.random.default_rng`.
    """
    if isinstance(root_seed, bool) or not isinstance(root_seed, numbers.Integral) or root_seed < 0:
        raise ValueError(f"root_seed must be a non-negative int, got {root_seed!r}")
    if isinstance(seed_index, bool) or not isinstance(seed_index, numbers.Integral) or seed_index < 0:
        raise ValueError(f"seed_index must be a non-negative int, got {seed_index!r}")
    digest = hashlib.sha256(check_str(key, "key").encode("utf-8")).digest()
    words = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 32, 4))
    seq = np.random.SeedSequence(int(root_seed), spawn_key=(*words, int(seed_index)))
    return int(seq.generate_state(1, dtype=np.uint64)[0]) >> (64 - _SEED_BITS)


@dataclass(frozen=True)
class Cell:
    """One unit of work: a configuration and a seed index, with its derived seed.

    Attributes
    ----------
    config : dict
        The configuration passed to the cell function.
    key : str
        Canonical JSON of ``config``.
    seed_index : int
        Index of the seed within the sweep, ``0 .. n_seeds - 1``.
    seed : int
        The seed passed to the cell function (see :func:`cell_seed`).
    """

    config: dict
    key: str
    seed_index: int
    seed: int


def make_cells(configs: list[dict[str, Any]], n_seeds: int, root_seed: int) -> list[Cell]:
    """All cells of a sweep: every configuration times the seed indices ``0`` to ``n_seeds - 1``.

    Parameters
    ----------
    configs : list of dict
        Configurations; duplicates (equal canonical keys) are refused. An optional entry ``_seeds`` (positive
        int) overrides ``n_seeds`` for its configuration: deterministic cells (an exact computation) use
        ``_seeds=1`` so that more trials do not repeat them.
    n_seeds : int
        Number of seeds per configuration, at least 1.
    root_seed : int
        Root seed of the sweep.

    Returns
    -------
    list of Cell
        Ordered by configuration, then seed index.
    """
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, numbers.Integral) or n_seeds < 1:
        raise ValueError(f"n_seeds must be a positive int, got {n_seeds!r}")
    if isinstance(configs, (str, bytes, dict)):
        raise InvalidParameterError(f"configs is a {type(configs).__name__}, expected a list of dicts")
    try:
        configs = list(configs)
    except TypeError:
        raise InvalidParameterError(f"configs is a {type(configs).__name__}, expected a list of dicts") from None
    if not configs:
        raise ValueError("a sweep needs at least one configuration, got none")
    seen: dict[str, int] = {}
    cells = []
    for i, config in enumerate(configs):
        try:
            key = config_key(config)
        except ValueError as err:
            raise type(err)(f"configs[{i}]: {err}") from None
        if key in seen:
            raise ValueError(f"configs[{i}] duplicates configs[{seen[key]}]: {key}")
        seen[key] = i
        count = config.get("_seeds", n_seeds)
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1:
            raise ValueError(f"configs[{i}]['_seeds'] must be a positive int, got {count!r}")
        # A cell is a small Python object (~256 bytes with its dict): an absurd count is refused at once.
        check_table("the cells", (i + 1, count), ("configs", "n_seeds"), itemsize=256)
        for s in range(count):
            cells.append(Cell(config=dict(config), key=key, seed_index=s, seed=cell_seed(root_seed, key, s)))
    return cells

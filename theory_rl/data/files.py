"""Dataset files: an ``.npz`` of plain arrays and a JSON manifest, written atomically, read back validated.

Format ``theory_rl.dataset/1``: ``path.npz`` (written and read with ``allow_pickle=False``) and ``path.json``
(``format``, ``kind`` = ``"counts"`` or ``"samples"``, ``S``, ``A``, ``gamma``, ``horizon``, ``n``, ``meta``).
Each file is written to a temporary name in the same folder and moved into place with :func:`os.replace`, so a
crash never leaves a half-written dataset under the final name. This module knows nothing of the dataset classes
(:mod:`theory_rl.data.io` builds them from what ``read_files`` returns).

Internal plumbing: ``Manifest``, ``copy_meta``, ``stem``, ``resolve_meta``, ``write_files``
and ``read_files`` serve the dataset classes, the samplers and :func:`theory_rl.data.load`; they are not in
``__all__`` (users read a ``Manifest`` as a dataset's ``meta`` dict, and save / load through the datasets) and
trust their callers, which validate at the public boundary. Their names carry no underscore so that the other
:mod:`theory_rl.data` modules import them without a private import.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from theory_rl._validation import check_instance

__all__ = ["FORMAT", "KINDS"]

#: The manifest's format tag.
FORMAT = "theory_rl.dataset/1"
#: The dataset kinds a manifest may name.
KINDS = ("counts", "samples")


class Manifest(dict):
    """A dataset's ``meta`` dict whose lazy entries are computed on first read, then kept.

    ``meta["coverage"]`` of a sampled dataset needs a planning call; it is registered here as a thunk and paid
    only by a caller that reads it (``meta["coverage"]``, ``meta.get("coverage")``, ``"coverage" in meta`` is
    True at once) or saves the dataset. ``keys()``, ``items()`` and ``dict(meta)`` show the computed entries only;
    pickling computes every entry and gives a plain dict.
    """

    def __init__(self, data=(), lazy=None) -> None:
        super().__init__(data)
        self._lazy = dict(lazy or {})

    def __missing__(self, key):
        thunk = self._lazy.get(key)
        if thunk is None:
            raise KeyError(key)
        value = thunk()
        self[key] = value
        del self._lazy[key]
        return value

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, key) or key in self._lazy

    def resolved(self) -> dict:
        """A plain dict with every lazy entry computed."""
        for key in list(self._lazy):
            self[key]  # noqa: B018 (computes and stores the entry)
        return dict(self)

    def copy(self) -> Manifest:
        return Manifest(dict(self), self._lazy)

    def __reduce__(self):
        return (dict, (self.resolved(),))


def copy_meta(meta) -> dict:
    """A shallow copy of ``meta`` that keeps its lazy entries lazy."""
    return meta.copy() if isinstance(meta, Manifest) else dict(meta)


def stem(path) -> str:
    """``path`` without a trailing ``.npz`` or ``.json``."""
    path = os.fspath(path)
    for ext in (".npz", ".json"):
        if path.endswith(ext):
            return path[: -len(ext)]
    return path


def resolve_meta(meta):
    """A plain JSON-ready copy of ``meta``: lazy entries (e.g. ``meta["coverage"]``) computed, nested dicts and
    lists copied."""
    if isinstance(meta, dict):
        resolved = meta.resolved() if isinstance(meta, Manifest) else meta
        return {k: resolve_meta(v) for k, v in resolved.items()}
    if isinstance(meta, (list, tuple)):
        return [resolve_meta(v) for v in meta]
    return meta


def _atomic(final: str, write) -> None:
    folder = os.path.dirname(os.path.abspath(final))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.splitext(final)[1])
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, final)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_files(path, kind: str, arrays: dict, header: dict) -> None:
    """Write ``arrays`` to ``path.npz`` and ``{format, kind, **header}`` to ``path.json``, each atomically."""
    if kind not in KINDS:
        raise ValueError(f"kind is {kind!r}, expected one of {KINDS}")
    check_instance(arrays, "arrays", dict)
    s = stem(path)
    manifest = {"format": FORMAT, "kind": kind, **header, "meta": resolve_meta(header.get("meta", {}))}
    text = json.dumps(manifest, indent=2, sort_keys=True)
    _atomic(s + ".npz", lambda fh: np.savez(fh, **arrays))
    _atomic(s + ".json", lambda fh: fh.write(text.encode()))


def read_files(path) -> tuple[str, dict, dict]:
    """``(kind, arrays, common)`` from ``path.npz`` and ``path.json``; ``common`` holds ``S``, ``A``, ``gamma``,
    ``horizon`` and ``meta``. A manifest of another format or kind, or a missing entry, is a ValueError."""
    s = stem(path)
    with open(s + ".json") as fh:
        manifest = json.load(fh)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{s}.json is not a theory_rl dataset manifest (format {FORMAT!r})")
    kind = manifest.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{s}.json has kind {kind!r}, expected one of {KINDS}")
    missing = [k for k in ("S", "A", "gamma", "horizon", "meta") if k not in manifest]
    if missing:
        raise ValueError(f"{s}.json lacks the entries {missing}")
    with np.load(s + ".npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    common = {k: manifest[k] for k in ("S", "A", "gamma", "horizon", "meta")}
    return kind, arrays, common

"""Dataset files: an ``.npz`` of plain arrays and a JSON manifest, written atomically, read back validated.

Format ``theory_rl.dataset/1``: ``path.npz`` (written and read with ``allow_pickle=False``) and ``path.json``
(``format``, ``kind`` = ``"counts"`` or ``"samples"``, ``S``, ``A``, ``gamma``, ``horizon``, ``n``, ``meta``).
Both files are written to temporary names in the same folder and moved into place with :func:`os.replace` (the
manifest last; both carry the same random ``save_id``), so a crash never leaves a half-written dataset, or a pair
from two different saves, that loads; and reading refuses a corrupt or inconsistent file with one ValueError naming
the file and the problem. This module knows nothing of the dataset classes
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
import uuid
import zipfile
import zlib

import numpy as np

from theory_rl._validation import check_instance, check_memory

__all__ = ["FORMAT", "KINDS"]

#: The manifest's format tag.
FORMAT = "theory_rl.dataset/1"
#: The dataset kinds a manifest may name.
KINDS = ("counts", "samples")
#: The name of the ``.npz`` entry that ties it to its manifest (the same random id in both files).
SAVE_ID = "save_id"


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


def _temporary(final: str, write) -> str:
    """A fresh temporary file beside ``final``, filled by ``write(fh)`` and flushed to disk; its name."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(final)), prefix=".tmp-",
                               suffix=os.path.splitext(final)[1])
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        os.remove(tmp)
        raise
    return tmp


def write_files(path, kind: str, arrays: dict, header: dict) -> None:
    """Write ``arrays`` to ``path.npz`` and ``{format, kind, **header}`` to ``path.json``: both or neither.

    The manifest is made JSON first (a value JSON cannot hold is a ValueError before anything is written); both
    files are written to temporaries, then renamed into place, the manifest last. Both files carry the same random
    ``save_id`` (an entry of the manifest, a 0-d string array of the ``.npz``), so a crash between the two renames
    leaves a pair that ``read_files`` refuses (naming the mismatch), never one that loads the wrong arrays.
    """
    if kind not in KINDS:
        raise ValueError(f"kind is {kind!r}, expected one of {KINDS}")
    check_instance(arrays, "arrays", dict)
    s = stem(path)
    save_id = uuid.uuid4().hex
    manifest = {"format": FORMAT, "kind": kind, **header, "meta": resolve_meta(header.get("meta", {})),
                "save_id": save_id}
    try:
        text = json.dumps(manifest, indent=2, sort_keys=True)
    except (TypeError, ValueError, RecursionError) as err:
        raise ValueError(f"meta cannot be saved as JSON ({err}); nothing was written to {s}.npz / {s}.json") from None
    tmp_npz = _temporary(s + ".npz", lambda fh: np.savez(fh, **arrays, **{SAVE_ID: np.array(save_id)}))
    try:
        tmp_json = _temporary(s + ".json", lambda fh: fh.write(text.encode()))
    except BaseException:
        os.remove(tmp_npz)
        raise
    try:
        os.replace(tmp_npz, s + ".npz")
        os.replace(tmp_json, s + ".json")
    except BaseException:
        for tmp in (tmp_npz, tmp_json):
            if os.path.exists(tmp):
                os.remove(tmp)
        raise


#: The largest manifest read (bytes): a manifest is a few kB of provenance, so a bigger file is not one.
MAX_MANIFEST_BYTES = 64 * 2**20


def _bad(path: str, problem: str) -> ValueError:
    return ValueError(f"{path}: {problem}")


def _read_manifest(path: str) -> dict:
    with open(path, "rb") as fh:
        raw = fh.read(MAX_MANIFEST_BYTES + 1)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise _bad(path, f"is over {MAX_MANIFEST_BYTES} bytes, not a dataset manifest")
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise _bad(path, f"is not valid JSON: {type(err).__name__}: {str(err)[:200]}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _bad(path, f"is not a theory_rl dataset manifest (format {FORMAT!r})")
    kind = manifest.get("kind")
    if kind not in KINDS:
        raise _bad(path, f"has kind {kind!r}, expected one of {KINDS}")
    missing = [k for k in ("S", "A", "gamma", "horizon", "meta") if k not in manifest]
    if missing:
        raise _bad(path, f"lacks the entries {missing}")
    return manifest


def _read_arrays(path: str, save_id) -> dict:
    """The arrays of ``path`` (an uncompressed or compressed .npz of plain arrays), every header checked first: no
    pickle, no object dtype, a declared size that the member really holds (a lying header would allocate)."""
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    raise _bad(path, f"holds {info.filename!r}, not a .npy array")
                with zf.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                        np.lib.format.read_array_header_2_0
                    shape, _, dtype = read(member)
                    if dtype.hasobject:
                        raise _bad(path, f"array {info.filename[:-4]!r} has dtype {dtype} (pickled objects): refused")
                    n = 1
                    for v in shape:
                        n *= int(v)
                    if n * dtype.itemsize > info.file_size:
                        raise _bad(path, f"array {info.filename[:-4]!r} declares shape {shape} of {dtype} but holds "
                                         f"{info.file_size} bytes")
                    check_memory(n, f"{path}: array {info.filename[:-4]!r}", itemsize=dtype.itemsize)  # a zip bomb
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except ValueError as err:
        if str(err).startswith(path):
            raise
        raise _bad(path, f"is not a valid .npz of plain arrays: {str(err)[:200]}") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, TypeError, AttributeError, RecursionError,
            NotImplementedError, zlib.error) as err:
        raise _bad(path, f"is not a valid .npz of plain arrays: {type(err).__name__}: {str(err)[:200]}") from None
    found = arrays.pop(SAVE_ID, None)
    found = str(found) if found is not None and found.shape == () and found.dtype.kind == "U" else found
    if save_id is not None and found != save_id:
        raise _bad(path, f"is not the array file of its manifest (save_id {found!r} against {save_id!r}): the pair "
                         "is from two different saves (a save interrupted between its two renames?)")
    return arrays


def read_files(path) -> tuple[str, dict, dict]:
    """``(kind, arrays, common)`` from ``path.npz`` and ``path.json``; ``common`` holds ``S``, ``A``, ``gamma``,
    ``horizon`` and ``meta``. Anything wrong in either file (not JSON, another format or kind, a missing entry, not
    a zip, a truncated or lying array, pickled objects, a pair from different saves) is one ValueError that names
    the file and the problem; a missing file is a FileNotFoundError."""
    s = stem(path)
    manifest = _read_manifest(s + ".json")
    arrays = _read_arrays(s + ".npz", manifest.get("save_id"))
    common = {k: manifest[k] for k in ("S", "A", "gamma", "horizon", "meta")}
    common["n"] = manifest.get("n")
    return manifest["kind"], arrays, common

"""Dataset I/O: :func:`load` reads back what :meth:`CountDataset.save` and :meth:`OfflineDataset.save` wrote.

The files (an ``.npz`` of plain arrays and a JSON manifest, written atomically) are described in
:mod:`theory_rl.data.files`; the arrays are validated by the dataset's constructor, so a corrupted or hand-edited
file is a ValueError naming the bad entry, never a dataset that breaks an algorithm later.
"""

from __future__ import annotations

from theory_rl._validation import String, validate_params
from theory_rl.data.counts import CountDataset
from theory_rl.data.files import read_files, stem
from theory_rl.data.samples import OfflineDataset

__all__ = ["load"]


@validate_params(path=String(path=True))
def load(path) -> OfflineDataset | CountDataset:
    """Read a dataset written by ``save``: ``path.npz`` (loaded with ``allow_pickle=False``) and ``path.json``
    (``path`` may end in ``.npz``, ``.json`` or neither)."""
    kind, arrays, common = read_files(path)
    where = stem(path) + ".json / .npz"
    n = common.pop("n")
    cls = CountDataset if kind == "counts" else OfflineDataset
    try:
        d = cls(**arrays, **common)
    except TypeError as err:  # missing or unknown arrays in the .npz
        raise ValueError(f"{where}: the arrays {sorted(arrays)} do not make a {cls.__name__}: {err}") from None
    except ValueError as err:  # the constructor's check, naming the entry; the file is named here
        raise ValueError(f"{where}: {err}") from None
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n != d.n):
        raise ValueError(f"{where}: the manifest says n = {n!r}, but the arrays hold {d.n} transitions")
    return d

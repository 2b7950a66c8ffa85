"""Dataset I/O: :func:`load` reads back what :meth:`CountDataset.save` and :meth:`OfflineDataset.save` wrote.

The files (an ``.npz`` of plain arrays and a JSON manifest, written atomically) are described in
:mod:`theory_rl.data.files`; the arrays are validated by the dataset's constructor, so a corrupted or hand-edited
file is a ValueError naming the bad entry, never a dataset that breaks an algorithm later.
"""

from __future__ import annotations

from theory_rl._validation import String, validate_params
from theory_rl.data.counts import CountDataset
from theory_rl.data.files import read_files
from theory_rl.data.samples import OfflineDataset

__all__ = ["load"]


@validate_params(path=String(path=True))
def load(path) -> OfflineDataset | CountDataset:
    """Read a dataset written by ``save``: ``path.npz`` (loaded with ``allow_pickle=False``) and ``path.json``
    (``path`` may end in ``.npz``, ``.json`` or neither)."""
    kind, arrays, common = read_files(path)
    cls = CountDataset if kind == "counts" else OfflineDataset
    try:
        return cls(**arrays, **common)
    except TypeError as err:  # missing or unknown arrays in the .npz
        raise ValueError(f"{path}: the arrays {sorted(arrays)} do not make a {cls.__name__}: {err}") from None

"""The optional libraries of :mod:`theory_rl.interop`, imported only when an exporter or importer runs.

``import theory_rl.interop`` needs none of them; each function imports its library on call, through
``require``, which names the extra that installs it when the import fails.
"""

from __future__ import annotations

import importlib

__all__: list[str] = []

#: The extra of theory_rl that installs each optional library (pyproject.toml, [project.optional-dependencies]).
EXTRAS = {"minari": "minari", "d3rlpy": "d3rlpy", "gymnasium": "gym", "h5py": "minari"}


def require(module: str, caller: str):
    """``importlib.import_module(module)``, or an ImportError that names the extra installing it."""
    top = module.partition(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as err:
        extra = EXTRAS.get(top, top)
        raise ImportError(
            f"{caller} needs the optional package {top!r}, which is not installed: "
            f"pip install 'theory_rl[{extra}]'"
        ) from err

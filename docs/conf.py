"""Sphinx configuration of the theory_rl documentation site.

Build (from the repository root)::

    python -m sphinx -W --keep-going -n -b html docs docs/_build/html

The notebooks in ``notebooks/`` are copied into ``docs/notebooks/`` (generated, not committed) and executed at
build time by myst-nb, with its execution cache in ``docs/_build/.jupyter_cache`` (a notebook re-runs only when
its code changes). Setting ``THEORY_RL_DOCS_EXECUTED=DIR`` takes already executed copies from ``DIR`` instead
and turns execution off (the test suite executes every notebook once and builds the site from those).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the library of this checkout, not an installed copy
sys.path.insert(0, str(DOCS / "_ext"))

import theory_rl  # noqa: E402

project = "theory_rl"
author = "the theory_rl developers"
copyright = "2026, the theory_rl developers"
release = version = theory_rl.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
    "theory_rl_docs",  # docs/_ext: the `bound` and `figure-gallery` directives
]

exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]
templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# -- API reference ----------------------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autosummary_ignore_module_all = False  # a module's public names are its __all__
autodoc_typehints = "none"  # the numpydoc "Parameters" sections give the types
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# Names that docstrings mention as types but that have no page here (no intersphinx: the build must work
# offline). Everything else that a docstring cross-references must resolve, or the nitpicky build fails.
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|scipy|sympy|matplotlib|torch|dask|pandas|argparse|sqlite3|concurrent|collections|typing"
               r"|os)\..*"),
    # torch.nn.Module's docstrings, inherited by theory_rl.deep's networks, say "Module" unqualified
    (r"py:class", r"Module"),
    # the private ground modules (_random, _validation, _kernels) have no page by design; docstrings name them
    (r"py:.*", r"theory_rl\._.*"),
    (r"py:.*", r"(int|float|str|bool|dict|list|tuple|object|None|callable|Path|pathlib\.Path)"),
]

# -- notebooks --------------------------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
nb_execution_mode = "cache"
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_merge_streams = True


def _copy_notebooks() -> None:
    """Mirror notebooks/*.ipynb into docs/notebooks/ (executed copies when THEORY_RL_DOCS_EXECUTED is set)."""
    global nb_execution_mode
    executed = os.environ.get("THEORY_RL_DOCS_EXECUTED")
    source = Path(executed) if executed else ROOT / "notebooks"
    if executed:
        nb_execution_mode = "off"
    target = DOCS / "notebooks"
    target.mkdir(exist_ok=True)
    wanted = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    for stale in target.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    for name in sorted(wanted):
        src, dst = source / name, target / name
        if not src.exists():
            raise FileNotFoundError(f"THEORY_RL_DOCS_EXECUTED={executed} has no executed copy of {name}")
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)


_copy_notebooks()

# -- math -------------------------------------------------------------------------------------------------------
# MathJax from its CDN by default. THEORY_RL_DOCS_MATHJAX=PATH uses a local MathJax 2 (Debian's libjs-mathjax:
# /usr/share/javascript/mathjax/MathJax.js), for offline builds and the headless-browser check.
_local_mathjax = os.environ.get("THEORY_RL_DOCS_MATHJAX")
if _local_mathjax:
    mathjax_path = Path(_local_mathjax).resolve().as_uri() + "?config=TeX-AMS_CHTML"
    mathjax3_config = None
    myst_update_mathjax = False  # its MathJax 3 settings would replace MathJax 2's global object
    mathjax2_config = {"tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                                   "processEscapes": True}}

# -- HTML -------------------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "theory_rl"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path: list[str] = []

"""The documentation site builds with warnings as errors and nitpicky cross-references, and renders in a browser.

The site is built ONCE per session from the notebooks that tests/experiments/test_notebooks.py executed (the
``executed_notebooks`` fixture), so nothing runs twice. A failure here lists every warning of the build: most
are a docstring that references a name which has no page (not in its module's ``__all__``: write it as a
literal, ``name``) or a name that does not exist, or broken reST markup (a list without a blank line before it, an
unclosed ``literal``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCS = ROOT / "docs"
LOCAL_MATHJAX = Path("/usr/share/javascript/mathjax/MathJax.js")  # Debian's libjs-mathjax (MathJax 2)

pytest.importorskip("sphinx", reason="the dev (or docs) extra installs sphinx")
pytest.importorskip("myst_nb", reason="the dev (or docs) extra installs myst-nb")
pytest.importorskip("numpydoc", reason="the dev (or docs) extra installs numpydoc")
pytest.importorskip("pydata_sphinx_theme", reason="the dev (or docs) extra installs pydata-sphinx-theme")


@pytest.fixture(scope="session")
def built_site(executed_notebooks, tmp_path_factory):
    """``(returncode, warnings text, html folder)`` of ``sphinx -W --keep-going -n -b html``."""
    tmp = tmp_path_factory.mktemp("docs")
    notebooks = tmp / "notebooks"
    notebooks.mkdir()
    for name, (executed, _error) in executed_notebooks.items():
        # a notebook that failed (its own test reports why) is rendered without outputs, so the docs still build
        shutil.copyfile(executed if executed is not None else ROOT / "notebooks" / name, notebooks / name)
    env = {**os.environ, "THEORY_RL_DOCS_EXECUTED": str(notebooks), "PYTHONPATH": str(ROOT)}
    if LOCAL_MATHJAX.is_file():
        env["THEORY_RL_DOCS_MATHJAX"] = str(LOCAL_MATHJAX)
    html = tmp / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html",
               "-d", str(tmp / "doctrees"), str(DOCS), str(html)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    return result.returncode, result.stderr, html


def test_docs_build_without_warnings(built_site):
    returncode, warnings, html = built_site
    lines = [line for line in warnings.splitlines() if "WARNING" in line or "ERROR" in line]
    message = "\n".join(
        [f"the documentation build failed (exit {returncode}) with {len(lines)} warning(s):", *lines, "",
         "Fix the docstring named in each line. 'reference target not found: NAME': NAME has no page (not in its "
         "module's __all__, or misspelt): qualify it (:func:`~theory_rl.pkg.mod.name`) or write it as a literal "
         "(``name``). 'Unexpected indentation' / 'ends without a blank line': add a blank line before a list. "
         "Reproduce with: python -m sphinx -W --keep-going -n -b html docs docs/_build/html",
         "" if lines else warnings[-3000:]]
    )
    assert returncode == 0, message
    assert (html / "index.html").is_file()
    assert (html / "api" / "generated" / "theory_rl.planning.html").is_file(), "the API reference is missing"
    for name in ("lcb", "ftpedel", "glow", "edge_of_reach"):
        assert (html / "papers" / f"{name}.html").is_file(), f"paper page {name} missing"
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        page = html / "notebooks" / f"{path.stem}.html"
        assert page.is_file(), f"notebook {path.name} not rendered"


def test_rendered_notebooks_show_figures(built_site, executed_notebooks):
    returncode, _warnings, html = built_site
    if returncode != 0:
        pytest.skip("the build failed (test_docs_build_without_warnings says why)")
    for name, (executed, _error) in executed_notebooks.items():
        if executed is None:
            continue  # its own test fails
        page = (html / "notebooks" / f"{Path(name).stem}.html").read_text(encoding="utf-8")
        assert "<img" in page and "_images/" in page, f"the rendered {name} shows no figure"


def test_browser_renders_math_and_figures(built_site):
    """Headless chromium renders the index and one API page: math typeset by MathJax, figures present."""
    returncode, _warnings, html = built_site
    if returncode != 0:
        pytest.skip("the build failed (test_docs_build_without_warnings says why)")
    sys.path.insert(0, str(DOCS))
    try:
        import browser_check
    finally:
        sys.path.remove(str(DOCS))
    if browser_check.find_chromium() is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); the browser check needs it")
    if not LOCAL_MATHJAX.is_file():
        pytest.skip(f"no local MathJax at {LOCAL_MATHJAX} (Debian: apt-get install libjs-mathjax); offline, the "
                    "CDN's MathJax cannot load, so the math cannot be checked")
    problems = [p for page in browser_check.PAGES for p in browser_check.check_page(browser_check.find_chromium(),
                                                                                   html / page)]
    assert not problems, "\n".join(problems)

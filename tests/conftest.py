"""Session fixtures shared by test folders."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory):
    """Every notebook in notebooks/, executed ONCE per test session, as plain Jupyter runs it: with notebooks/
    as the working directory (so nothing may rely on the repository root being the cwd).

    Returns ``{name: (executed notebook path or None, error text or None)}``; the executed copies are what
    tests/test_docs.py builds the site from, so the notebooks are not executed a second time.
    """
    nbformat = pytest.importorskip("nbformat", reason="the dev extra installs nbformat")
    nbclient = pytest.importorskip("nbclient", reason="the dev extra installs nbclient")
    out_dir = tmp_path_factory.mktemp("executed_notebooks")
    results = {}
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        try:
            client.execute()
        except Exception as exc:  # CellExecutionError carries the failing cell's traceback
            results[path.name] = (None, f"{type(exc).__name__}: {exc}")
            continue
        target = out_dir / path.name
        nbformat.write(nb, target)
        results[path.name] = (target, None)
    return results

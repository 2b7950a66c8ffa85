"""Session fixtures shared by test folders."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


class _ExecutedNotebooks(Mapping):
    """``{name: (executed notebook path or None, error text or None)}``, each notebook executed on its first
    look-up and kept: a notebook's test pays for its own notebook only (issue 16: one test used to pay for all
    seven), and the docs build, which reads them all, re-uses what the notebook tests executed."""

    def __init__(self, out_dir: Path, nbformat, nbclient) -> None:
        self._out, self._nbformat, self._nbclient = out_dir, nbformat, nbclient
        self._paths = {p.name: p for p in NOTEBOOKS}
        self._done: dict = {}

    def __getitem__(self, name: str):
        if name not in self._done:
            self._done[name] = self._execute(self._paths[name])
        return self._done[name]

    def __iter__(self):
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def _execute(self, path: Path):
        nb = self._nbformat.read(path, as_version=4)
        client = self._nbclient.NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        try:
            client.execute()
        except Exception as exc:  # CellExecutionError carries the failing cell's traceback
            return None, f"{type(exc).__name__}: {exc}"
        target = self._out / path.name
        self._nbformat.write(nb, target)
        return target, None


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory):
    """Every notebook in notebooks/, executed ONCE per test session, as plain Jupyter runs it: with notebooks/
    as the working directory (so nothing may rely on the repository root being the cwd).

    Returns a mapping ``{name: (executed notebook path or None, error text or None)}`` that executes a notebook
    on its first look-up; the executed copies are what tests/test_docs.py builds the site from, so the notebooks
    are not executed a second time.
    """
    nbformat = pytest.importorskip("nbformat", reason="the dev extra installs nbformat")
    nbclient = pytest.importorskip("nbclient", reason="the dev extra installs nbclient")
    return _ExecutedNotebooks(tmp_path_factory.mktemp("executed_notebooks"), nbformat, nbclient)

"""Execute every notebook in notebooks/: each states a theorem, computes both sides and must run clean."""

from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="the dev extra installs nbformat")
    nbclient = pytest.importorskip("nbclient", reason="the dev extra installs nbclient")
    nb = nbformat.read(path, as_version=4)
    # Run from the repository root so `import experiments` works as it does for `python -m experiments.NAME`.
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent.parent)}}
    )
    client.execute()  # raises CellExecutionError, with the failing cell's traceback, on any error

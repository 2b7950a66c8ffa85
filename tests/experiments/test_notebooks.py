"""Execute every notebook in notebooks/ (from notebooks/ as the working directory, as `jupyter nbconvert --execute`
does there): each states a theorem, computes both sides, must run clean and show every figure inline."""

import re

import pytest

from tests.conftest import NOTEBOOKS

# A code cell that makes a figure must show it: an image/png output in that cell.
_MAKES_FIGURE = re.compile(r"plt\.subplots\(|new_figure\(|plt\.figure\(|Image\(")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, executed_notebooks):
    nbformat = pytest.importorskip("nbformat")
    executed, error = executed_notebooks[path.name]
    assert error is None, f"{path.name} failed when run from notebooks/:\n{error}"
    nb = nbformat.read(executed, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert "from experiments" not in cell.source and "import experiments" not in cell.source, (
            f"{path.name}, cell {index}: imports experiments/, which a user of the installed library does not have"
        )
        if _MAKES_FIGURE.search(cell.source):
            images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
            assert images, f"{path.name}, cell {index} makes a figure but shows none (display(fig) or plt.show())"

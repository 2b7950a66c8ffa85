"""One figure style for every experiment and notebook, and PNG + PDF export.

Imported by experiments and notebooks only; matplotlib is imported inside the functions, so importing
theory_rl never imports matplotlib. Figures are built with :class:`matplotlib.figure.Figure` directly (no
pyplot, no GUI backend), so they work headless and in worker processes.

>>> from theory_rl.plotting import figure_style, new_figure, save_figure
>>> with figure_style():                                           # doctest: +SKIP
...     fig, ax = new_figure()
...     ax.loglog(S, seconds, marker="o", label="value iteration")
...     save_figure(fig, "planning_scaling", "paper_figures")
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from theory_rl._validation import Boolean, Integer, Real, String, check_instance, validate_params

__all__ = ["STYLE", "DRAFT", "figure_style", "new_figure", "save_figure"]

#: rcParams of the house style: single-column paper figures, readable when printed (plus the palette below).
STYLE: dict[str, object] = {
    "figure.figsize": (4.0, 3.0),
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.5,
    "lines.markersize": 4,
    "legend.frameon": False,
    "pdf.fonttype": 42,  # TrueType in PDFs, as journals ask
}

# Okabe-Ito colour-blind-safe palette.
_PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def _style() -> dict[str, object]:
    from cycler import cycler

    style = dict(STYLE)
    style["axes.prop_cycle"] = cycler(color=_PALETTE)
    return style


@contextlib.contextmanager
def figure_style() -> Iterator[None]:
    """Context in which figures are created, drawn and saved in the house style (a matplotlib rc_context)."""
    import matplotlib

    with matplotlib.rc_context(_style()):
        yield


#: Largest figure side in inches: matplotlib refuses images of 2^16 pixels or more, 327 inches at the style's dpi.
MAX_INCHES = 300.0


_INCHES = Real(0.0, MAX_INCHES, closed="right", optional=True)


@validate_params(nrows=Integer(1, 100), ncols=Integer(1, 100), width=_INCHES, height=_INCHES)
def new_figure(nrows: int = 1, ncols: int = 1, *, width: float | None = None, height: float | None = None):
    """A styled figure and its axes, without pyplot.

    Parameters
    ----------
    nrows, ncols : int, default 1
        Grid of axes, at most 100 by 100.
    width, height : float, optional
        Size in inches, in ``(0, MAX_INCHES]``; defaults to the style's single-panel size times ``ncols`` and ``nrows``.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : Axes or ndarray of Axes
        A single Axes when ``nrows == ncols == 1``.

    Notes
    -----
    Call inside :func:`figure_style` so that fonts and lines take the house style.
    """
    from matplotlib.figure import Figure

    w0, h0 = STYLE["figure.figsize"]
    fig = Figure(figsize=(width or w0 * ncols, height or h0 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=True)
    return fig, axes


#: What ``save_figure(..., draft=True)`` changes (issue 16): a 100-dpi PNG and Type 3 fonts in the PDF, which skip
#: most of the rasterising and the TrueType subsetting (about a third of the saving time of a three-panel figure).
DRAFT = {"savefig.dpi": 100, "pdf.fonttype": 3}


@validate_params(name=String(), out_dir=String(path=True), draft=Boolean())
def save_figure(fig, name: str, out_dir: str | os.PathLike, *, draft: bool = False) -> list[Path]:
    """Save ``fig`` as ``out_dir/name.png`` and ``out_dir/name.pdf`` in the house style.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    name : str
        File stem, without directory or suffix.
    out_dir : str or Path
        Directory, created when missing.
    draft : bool, default False
        True: the cheaper :data:`DRAFT` settings (the experiments' ``--quick`` runs); the same drawing otherwise.

    Returns
    -------
    list of Path
        The PNG and PDF paths. Both are written without timestamps, so an unchanged figure gives an
        unchanged file.
    """
    from matplotlib.figure import Figure  # inside: importing theory_rl never imports matplotlib

    check_instance(fig, "fig", Figure)
    if not name or os.sep in name or (os.altsep and os.altsep in name) or name.startswith("."):
        raise ValueError(f"figure name must be a plain file stem, got {name!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    with figure_style(), contextlib.ExitStack() as stack:
        if draft:
            import matplotlib

            stack.enter_context(matplotlib.rc_context(DRAFT))
        fig.savefig(paths[0], metadata={"Software": None})
        # The PNG save ran the (costly) constrained layout; freeze it so the PDF does not compute it again.
        engine = fig.get_layout_engine()
        fig.set_layout_engine("none")
        fig.savefig(paths[1], metadata={"CreationDate": None, "Producer": None, "Creator": None})
        fig.set_layout_engine(engine)
    return paths

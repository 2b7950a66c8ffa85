"""Sphinx directives of the theory_rl site.

``bound``
    Renders a theorem of :mod:`theory_rl.bounds` (``.. bound:: rashidinejad2021_thm4``): the LaTeX of
    :meth:`theory_rl.bounds.Bound.latex` as display math, then its regime, constants and assumptions, so a page
    shows the theorem exactly as the library encodes it.
``figure-gallery``
    Every ``paper_figures/*.png`` as a figure with its file name, so a newly committed figure appears at once.
"""

from __future__ import annotations

from pathlib import Path

from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList

ROOT = Path(__file__).resolve().parents[2]


class _Generated(Directive):
    def emit(self, lines: list[str]):
        from docutils import nodes

        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=f"<{self.name}>"), self.content_offset, container)
        return container.children


class BoundDirective(_Generated):
    required_arguments = 1
    option_spec = {"no-details": directives.flag}

    def run(self):
        from theory_rl import bounds

        bound = bounds.get(self.arguments[0])
        lines = [".. math::", "", f"   {bound.latex()}", ""]
        if "no-details" not in self.options:
            status = "checked against the paper" if bound.verified else "**form not verified against the paper**"
            lines += [
                f"*{bound.number}* (``{bound.name}``; {status}). Regime: {bound.regime_text}. "
                f"Constants: {bound.constants}.",
                "",
                f"Assumptions: {bound.assumptions}",
                "",
            ]
        return self.emit(lines)


class FigureGallery(_Generated):
    option_spec = {"pattern": directives.unchanged}

    def run(self):
        env = self.state.document.settings.env
        srcdir = Path(env.srcdir)
        here = (srcdir / env.docname).parent
        pattern = self.options.get("pattern", "*.png")
        lines: list[str] = []
        for png in sorted((ROOT / "paper_figures").glob(pattern)):
            rel = Path(*([".."] * len(here.relative_to(srcdir).parts)), "..", "paper_figures", png.name)
            env.note_dependency(str(png))
            lines += [f".. figure:: {rel.as_posix()}", "   :width: 100%", f"   :alt: {png.stem}", "",
                      f"   ``paper_figures/{png.name}`` (PDF beside it)", ""]
        return self.emit(lines)


def _lookup(dotted: str):
    """The Python object named ``dotted`` (a module path, then attributes), or None."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _resolve_by_suffix(app, env, node, contnode):
    """Resolve an unqualified Python cross-reference (``:class:`CountDataset```) by a unique suffix match.

    Docstrings name objects of sibling modules without their module (the module a reader is in makes them
    clear). Sphinx resolves such a name only in the current module; here it also resolves when exactly ONE
    documented object ends with ``.name``. Ambiguous or unknown names stay unresolved, so the nitpicky build
    still reports them.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    if not target or target.startswith("theory_rl."):
        return None
    domain = env.get_domain("py")
    suffix = "." + target
    matches = sorted({name for name, *_ in domain.get_objects() if name.endswith(suffix)}, key=len)
    if len(matches) > 1:  # one object re-exported by its package (data.CountDataset = data.counts.CountDataset)
        objects = {id(_lookup(name)) for name in matches}
        if len(objects) != 1 or id(None) in objects:
            return None
    if not matches:
        return None
    node = node.deepcopy()
    node["reftarget"] = matches[0]
    node["refspecific"] = False
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], matches[0], node, contnode)


def setup(app):
    app.connect("missing-reference", _resolve_by_suffix)
    app.add_directive("bound", BoundDirective)
    app.add_directive("figure-gallery", FigureGallery)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

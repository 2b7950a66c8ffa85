"""Sphinx directives of the theory_rl site.

``bound``
    Renders a theorem of :mod:`theory_rl.bounds` (``.. bound:: rashidinejad2021_thm4``): the LaTeX of
    :meth:`theory_rl.bounds.Bound.latex` as display math, then its regime, constants and assumptions, so a page
    shows the theorem exactly as the library encodes it.
``figure-gallery``
    Every ``paper_figures/*.png`` as a figure with its file name, so a newly committed figure appears at once.
``lcb-slope-table``
    The README's slope table, built from the committed ``paper_figures/lcb_rates_summary.json`` by
    ``experiments.regenerate.readme_table`` (MyST pages only: the table is parsed as Markdown), so the site
    quotes the same numbers as the README.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives

ROOT = Path(__file__).resolve().parents[2]


class BoundDirective(Directive):
    """Nodes built directly (not rst text), so the directive works the same in MyST and rst pages."""

    required_arguments = 1
    option_spec = {"no-details": directives.flag}

    def run(self):
        from theory_rl import bounds

        bound = bounds.get(self.arguments[0])
        latex = bound.latex()
        # latex() starts with "\text{Theorem 1 (MAB, LCB, upper)}: \; "; the paragraph below says that, and the
        # formula alone fits the page's column.
        head, sep, formula = latex.partition(r": \; ")
        latex = formula if sep and head.startswith(r"\text{") else latex
        out: list[nodes.Node] = [nodes.math_block(latex, latex, nowrap=False, number=None)]
        if "no-details" not in self.options:
            status = "checked against the paper" if bound.verified else "form not verified against the paper"
            kind = f"{bound.setting.upper()}, {bound.algorithm}, {bound.kind} bound"
            out.append(nodes.paragraph("", "", nodes.emphasis(text=f"{bound.number} ({kind})"), nodes.Text(" ("),
                                       nodes.literal(text=bound.name),
                                       nodes.Text(f"; {status}). Regime: {bound.regime_text}. "
                                                  f"Constants: {bound.constants}.")))
            out.append(nodes.paragraph(text=f"Assumptions: {bound.assumptions}"))
        return out


class FigureGallery(Directive):
    option_spec = {"pattern": directives.unchanged}

    def run(self):
        env = self.state.document.settings.env
        srcdir = Path(env.srcdir)
        depth = len(Path(env.docname).parts) - 1  # folders between the page and the source root
        pattern = self.options.get("pattern", "*.png")
        out: list[nodes.Node] = []
        for png in sorted((ROOT / "paper_figures").glob(pattern)):
            rel = Path(*([".."] * depth), Path("..") if srcdir.parent == ROOT else Path(), "paper_figures", png.name)
            env.note_dependency(str(png))
            figure = nodes.figure("", nodes.image(uri=rel.as_posix(), alt=png.stem, width="100%"),
                                  nodes.caption("", "", nodes.literal(text=f"paper_figures/{png.name}"),
                                                nodes.Text(" (PDF beside it)")))
            out.append(figure)
        return out


class SlopeTable(Directive):
    def run(self):
        import json

        from docutils.statemachine import StringList

        from experiments.regenerate import PAPER_FIGURES, readme_table

        path = PAPER_FIGURES / "lcb_rates_summary.json"
        if not path.is_file():
            raise self.error(f"{path} is missing: run `python -m experiments.regenerate --only lcb_rates`")
        self.state.document.settings.env.note_dependency(str(path))
        table = readme_table(json.loads(path.read_text(encoding="utf-8")))
        container = nodes.container()
        self.state.nested_parse(StringList(table.splitlines(), source=str(path)), self.content_offset, container)
        return container.children


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
    app.add_directive("lcb-slope-table", SlopeTable)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

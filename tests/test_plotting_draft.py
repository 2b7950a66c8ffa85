"""save_figure(draft=True) (issue 16): the experiments' --quick figures are cheaper drafts; the default is unchanged."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from theory_rl.plotting import DRAFT, STYLE, figure_style, new_figure, save_figure  # noqa: E402


def _png_width(path) -> int:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big")  # IHDR width


def test_draft_lowers_the_dpi_and_uses_type3_fonts_only_when_asked(tmp_path):
    with figure_style():
        fig, ax = new_figure(width=2.0, height=1.5)
        ax.plot([0, 1], [1, 0], label="x")
        ax.set_title("t")
        final = save_figure(fig, "final", tmp_path / "final")
        draft = save_figure(fig, "draft", tmp_path / "draft", draft=True)
    assert _png_width(final[0]) == round(2.0 * STYLE["savefig.dpi"])
    assert _png_width(draft[0]) == round(2.0 * DRAFT["savefig.dpi"]) < _png_width(final[0])
    final_pdf, draft_pdf = final[1].read_bytes(), draft[1].read_bytes()
    # pdf.fonttype 42 embeds TrueType outlines (a Type0 font over a CIDFontType2); 3 draws Type 3 glyph procedures
    assert b"/Subtype /CIDFontType2" in final_pdf and b"/Subtype /Type3" not in final_pdf
    assert b"/Subtype /Type3" in draft_pdf and b"/Subtype /CIDFontType2" not in draft_pdf

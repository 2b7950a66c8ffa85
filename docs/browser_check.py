"""Check the built site in a real headless browser (Debian's chromium): math typeset by MathJax, figures present.

    python docs/browser_check.py docs/_build/html [--screenshot DIR]

Build the site first with a local MathJax so the check works offline::

    THEORY_RL_DOCS_MATHJAX=/usr/share/javascript/mathjax/MathJax.js \\
        python -m sphinx -W --keep-going -n -b html docs docs/_build/html

It renders ``index.html`` and one API page (``api/generated/theory_rl.bounds.html``) with ``chromium --headless
--dump-dom`` and checks, on the DOM after the page's scripts ran, that every math element of the page was typeset
(MathJax's output is there and no MathJax error is), and that every figure's image exists and is a PNG. Exit
status 0 when every check passes, 1 otherwise (the failures printed), 2 when chromium is missing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

PAGES = ("index.html", "api/generated/theory_rl.bounds.html")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=30000"]


def find_chromium() -> str | None:
    """The path of a chromium executable, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def rendered_dom(chromium: str, page: Path, timeout: float = 120.0) -> str:
    """The page's DOM after its scripts ran (MathJax typesets asynchronously; the virtual time budget waits)."""
    result = subprocess.run([chromium, *_FLAGS, "--dump-dom", page.resolve().as_uri()], capture_output=True,
                            text=True, timeout=timeout, check=True)
    return result.stdout


def screenshot(chromium: str, page: Path, target: Path, size: str = "1400,1600", timeout: float = 120.0) -> Path:
    """A PNG screenshot of ``page`` at ``size`` (width,height in pixels)."""
    subprocess.run([chromium, *_FLAGS, f"--window-size={size}", f"--screenshot={target.resolve()}",
                    page.resolve().as_uri()], capture_output=True, timeout=timeout, check=True)
    return target


def check_page(chromium: str, page: Path) -> list[str]:
    """Problems found on one rendered page (empty when it passes)."""
    problems: list[str] = []
    source = page.read_text(encoding="utf-8")
    dom = rendered_dom(chromium, page)
    n_math = len(re.findall(r'class="math notranslate nohighlight"', source))
    if n_math == 0:
        problems.append(f"{page.name}: no math in the page's source (expected some)")
    typeset = len(re.findall(r'class="mjx-chtml MathJax_CHTML"|<mjx-container', dom))
    if typeset < n_math:
        problems.append(f"{page.name}: {typeset} of {n_math} math elements typeset by MathJax (is the local MathJax "
                        "reachable? build with THEORY_RL_DOCS_MATHJAX=/usr/share/javascript/mathjax/MathJax.js)")
    if re.search(r'class="merror"|class="mjx-merror"|Math Processing Error', dom):
        problems.append(f"{page.name}: MathJax reported an error in a formula")
    images = re.findall(r'<img[^>]*\ssrc="([^"]+)"', dom)
    figures = [src for src in images if "paper_figures" in src or "_images/" in src]
    if page.name == "index.html" and not figures:
        problems.append(f"{page.name}: no figure")
    if page.name == "index.html" and not re.search(r'<div class="math notranslate nohighlight"', source):
        problems.append(f"{page.name}: no display math (the theorem rendered by the bound directive)")
    for src in figures:
        url = urlparse(src)
        path = Path(unquote(url.path)) if url.scheme == "file" else (page.parent / unquote(url.path))
        if not path.is_file() or path.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
            problems.append(f"{page.name}: figure {src} missing or not a PNG")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="the built site (sphinx's output folder)")
    parser.add_argument("--screenshot", type=Path, default=None, metavar="DIR",
                        help="also save PNG screenshots of the index and the LCB paper page in DIR")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("chromium not found (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    problems: list[str] = []
    missing = [name for name in PAGES if not (args.html / name).is_file()]
    if missing:
        print(f"not built: {', '.join(missing)} under {args.html}", file=sys.stderr)
        return 1
    for name in PAGES:
        problems += check_page(chromium, args.html / name)
    if args.screenshot is not None:
        args.screenshot.mkdir(parents=True, exist_ok=True)
        for name in ("index.html", "papers/lcb.html"):
            shot = screenshot(chromium, args.html / name, args.screenshot / (name.replace("/", "_") + ".png"))
            print(f"screenshot: {shot}")
    for problem in problems:
        print(problem, file=sys.stderr)
    print("browser check:", "FAILED" if problems else f"passed ({', '.join(PAGES)})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

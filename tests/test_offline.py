"""The built book reads offline: a grep-style check of its HTML and CSS, no browser needed.

* No page loads a script, stylesheet, font, image or frame from ``http(s)://`` (links that
  a reader clicks, ``<a href>`` to Binder, Colab or the repository, are fine).
* No inline script names a CDN; no CSS imports or ``url()``s a remote file.
* MathJax and its fonts are in the book, and every page with math loads the local copy.
* Chapter pages (notebooks) have Binder and Colab launch buttons and an ``.ipynb`` download
  that exists; the execution-status page lists every notebook as executed.

The checker functions are tested on synthetic pages first (they must flag what they claim to).
"""

from __future__ import annotations

import html.parser
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

_REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
_CSS_REMOTE = re.compile(
    r"""(@import\s+(url\()?\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//)""", re.I
)
_CDN_IN_SCRIPT = re.compile(r"https?://[^\s\"']*(unpkg|jsdelivr|cdnjs|googleapis|gstatic)", re.I)
_FETCHING_RELS = {
    "stylesheet",
    "preload",
    "modulepreload",
    "prefetch",
    "icon",
    "shortcut",
    "apple-touch-icon",
    "manifest",
    "font",
}
_SRC_TAGS = {"script", "img", "iframe", "source", "video", "audio", "embed", "input", "track"}


class _Resources(html.parser.HTMLParser):
    """Collects what a page would fetch: (tag, attribute value) pairs and inline code."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fetched: list[tuple[str, str]] = []
        self.links: list[tuple[str, str]] = []
        self.inline_scripts: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in _SRC_TAGS and a.get("src"):
            self.fetched.append((tag, a["src"]))
        if tag == "object" and a.get("data"):
            self.fetched.append((tag, a["data"]))
        if tag == "link" and a.get("href"):
            rels = set(a.get("rel", "").lower().split())
            if rels & _FETCHING_RELS:
                self.fetched.append((f"link rel={a.get('rel')}", a["href"]))
        if tag == "a" and a.get("href"):
            self.links.append((tag, a["href"]))
        if a.get("style"):
            self.styles.append(a["style"])
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.inline_scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)


def remote_resources(page_html: str) -> list[str]:
    """What in ``page_html`` would be fetched from the network (empty when offline-safe)."""
    parser = _Resources()
    parser.feed(page_html)
    found = [f"<{tag}> {url}" for tag, url in parser.fetched if _REMOTE.match(url)]
    found += [f"inline script names {m.group(0)}" for s in parser.inline_scripts
              for m in _CDN_IN_SCRIPT.finditer(s)]  # fmt: skip
    found += [
        f"style loads {m.group(0)}..." for s in parser.styles for m in _CSS_REMOTE.finditer(s)
    ]
    return found


def remote_css(css: str) -> list[str]:
    """``@import`` or ``url()`` of a remote file in a stylesheet."""
    return [m.group(0) for m in _CSS_REMOTE.finditer(css)]


def _pages(root: Path) -> list[Path]:
    skip = {"_static", "_sources", "_images", "mathjax", "reports"}
    return sorted(p for p in root.rglob("*.html") if not set(p.relative_to(root).parts) & skip)


def _notebook_chapters() -> list[str]:
    """Docnames of the _toc.yml pages that are notebooks (a jupytext header with a kernel)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    out = []
    for name in files:
        text = (ROOT / f"{name}.md").read_text()
        header = text.split("---", 2)[1] if text.startswith("---") else ""
        if "kernelspec" in header:
            out.append(name)
    return out


# --- the checkers flag what they claim to ----------------------------------------------------

BAD_PAGE = """<html><head>
<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>
<script src="//unpkg.com/thebe@0.8.2/lib/index.js"></script>
<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Lato">
<link rel="preload" as="font" href="http://example.org/font.woff2">
<script>const THEBE_JS_URL = "https://unpkg.com/thebe@0.8.2/lib/index.js"</script>
<style>@import url("https://fonts.googleapis.com/css2?family=Inter");</style>
</head><body><img src="https://example.org/figure.png">
<div style="background: url('https://example.org/bg.png')"></div>
<a href="https://mybinder.org/v2/gh/x/y/main">Binder</a></body></html>"""

GOOD_PAGE = """<html><head>
<script src="../_static/doctools.js"></script>
<script defer src="../_static/../mathjax/tex-chtml.js"></script>
<link rel="stylesheet" href="../_static/book.css">
<link rel="canonical" href="https://example.org/book/page.html">
<script>window.MathJax = {"options": {"processHtmlClass": "math"}}</script>
</head><body><img src="data:image/png;base64,iVBORw0KGgo=">
<a href="https://mybinder.org/v2/gh/x/y/main">Binder</a>
<a href="https://colab.research.google.com/github/x/y/blob/main/a.ipynb">Colab</a></body></html>"""


def test_checker_flags_every_remote_resource():
    found = remote_resources(BAD_PAGE)
    text = "\n".join(found)
    for needle in (
        "cdn.jsdelivr.net",
        "//unpkg.com/thebe",
        "fonts.googleapis.com/css?family=Lato",
        "example.org/font.woff2",
        "inline script names https://unpkg",
        "@import",
        "example.org/figure.png",
        "url('https://",
    ):
        assert needle in text, f"{needle!r} not flagged in:\n{text}"
    assert "mybinder" not in text  # a link the reader clicks is not a resource


def test_checker_passes_a_local_page():
    assert remote_resources(GOOD_PAGE) == []


def test_css_checker():
    assert remote_css('@import url("https://fonts.googleapis.com/css?family=Inter");')
    assert remote_css("src: url(//example.org/a.woff2) format('woff2');")
    assert not remote_css("src: url(../webfonts/fa-solid-900.woff2) format('woff2');")
    assert not remote_css(
        "background: url(\"data:image/svg+xml;charset=utf-8,%3Csvg xmlns='http://www.w3.org/2000/svg'\");"
    )


def test_notebook_chapters_are_found():
    chapters = _notebook_chapters()
    assert "book/overfitting" in chapters
    assert "book/preface" not in chapters


# --- the built book --------------------------------------------------------------------------


@pytest.mark.book
def test_no_page_loads_anything_from_the_network(book_html: Path):
    pages = _pages(book_html)
    assert len(pages) >= 16, f"only {len(pages)} pages in {book_html}"
    problems = {}
    for page in pages:
        found = remote_resources(page.read_text(encoding="utf-8"))
        if found:
            problems[str(page.relative_to(book_html))] = found
    assert not problems, f"pages that need the network: {problems}"


@pytest.mark.book
def test_no_stylesheet_loads_anything_from_the_network(book_html: Path):
    problems = {}
    for css in book_html.rglob("*.css"):
        found = remote_css(css.read_text(encoding="utf-8", errors="replace"))
        if found:
            problems[str(css.relative_to(book_html))] = found
    assert not problems, f"stylesheets that need the network: {problems}"


@pytest.mark.book
def test_mathjax_and_its_fonts_are_in_the_book(book_html: Path):
    mathjax = book_html / "mathjax"
    assert (mathjax / "tex-chtml.js").is_file(), "MathJax is not in the book: run `make install`"
    fonts = list((mathjax / "output/chtml/fonts/woff-v2").glob("*.woff"))
    assert len(fonts) > 10, "MathJax's CHTML fonts are missing"
    with_math = 0
    for page in _pages(book_html):
        text = page.read_text(encoding="utf-8")
        if 'class="math notranslate' not in text:
            continue
        with_math += 1
        srcs = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', text)
        assert srcs, f"{page.name} has math but no MathJax script"
        target = (page.parent / unquote(srcs[0].split("?")[0])).resolve()
        assert target == (mathjax / "tex-chtml.js").resolve(), f"{page}: MathJax from {srcs[0]}"
    assert with_math >= 2, "expected math on several pages (preface, chapters, glossary)"


@pytest.mark.book
def test_theme_fonts_and_icons_are_local(book_html: Path):
    fa = book_html / "_static/scripts/fontawesome.js"
    assert fa.is_file(), "the theme's icons (fontawesome.js) are not in _static"
    index = (book_html / "book/preface.html").read_text(encoding="utf-8")
    assert "_static/scripts/fontawesome.js" in index


@pytest.mark.book
@pytest.mark.parametrize("docname", _notebook_chapters())
def test_chapter_has_launch_buttons_and_ipynb_download(book_html: Path, docname: str):
    page = book_html / f"{docname}.html"
    text = page.read_text(encoding="utf-8")
    assert "mybinder.org/v2/gh/" in text and f"{docname}.md" in text, "no Binder button"
    assert "colab.research.google.com/github/" in text, "no Colab button"
    parser = _Resources()
    parser.feed(text)
    downloads = [h for _, h in parser.links if h.endswith(".ipynb") and "_sources" in h]
    assert downloads, "no .ipynb download button"
    target = (page.parent / unquote(downloads[0].split("#")[0])).resolve()
    assert target.is_file(), f"the .ipynb download {downloads[0]} does not exist"
    assert '"cells"' in target.read_text(encoding="utf-8"), f"{target} is not a notebook"


@pytest.mark.book
def test_execution_status_page_lists_every_notebook(book_html: Path):
    page = book_html / "book/reference/execution.html"
    assert page.is_file(), "no execution-status page"
    text = page.read_text(encoding="utf-8")
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in text else ""
    rows = re.findall(r"<tr.*?</tr>", body, flags=re.S)
    listed = {name: row for name in _notebook_chapters() for row in rows if f">{name}<" in row}
    missing = sorted(set(_notebook_chapters()) - set(listed))
    assert not missing, f"not in the execution table: {missing}"
    failed = [name for name, row in listed.items() if "❌" in row]
    assert not failed, f"notebooks that failed to execute: {failed}"

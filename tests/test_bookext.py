"""_ext/bookext.py: the Sphinx glue of the book (offline assets, bibliography math, API page).

The whole extension runs in every book build (and so in tests/test_browser.py and
tests/test_offline.py); these are the unit tests of its pieces.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import pytest
from docutils import nodes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
bookext = importlib.import_module("bookext")


class _Asset(str):
    """Stands for Sphinx's _JavaScript / _CascadingStyleSheet (a str with attributes)."""

    def __new__(cls, filename: str | None, body: str = ""):
        obj = super().__new__(cls, filename or "")
        obj.filename = filename
        obj.attributes = {"body": body} if body else {}
        return obj


@pytest.fixture
def warnings(monkeypatch) -> list[str]:
    seen: list[str] = []

    class Logger:
        def warning(self, msg, *args, **kwargs):
            seen.append(msg % args)

    monkeypatch.setattr(bookext, "logger", Logger())
    return seen


def test_offline_assets_pass(warnings):
    context = {
        "script_files": [_Asset("_static/doctools.js"), _Asset("../mathjax/tex-chtml.js")],
        "css_files": [_Asset("_static/book.css")],
    }
    bookext._check_offline_assets(None, "book/lk/l2", "page.html", context, None)
    assert warnings == []


@pytest.mark.parametrize(
    "asset",
    [
        _Asset("https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager/dist/embed-amd.js"),
        _Asset("//unpkg.com/thebe@0.8.2/lib/index.js"),
        _Asset(None, body='const THEBE_JS_URL = "https://unpkg.com/thebe@0.8.2/lib/index.js"'),
    ],
)
def test_remote_scripts_are_reported(warnings, asset):
    context = {"script_files": [asset], "css_files": []}
    bookext._check_offline_assets(None, "book/lk/l2", "page.html", context, None)
    assert len(warnings) == 1 and "book/lk/l2" in warnings[0] and "script" in warnings[0]


def test_remote_stylesheets_are_reported(warnings):
    context = {"script_files": [], "css_files": [_Asset("https://fonts.googleapis.com/css")]}
    bookext._check_offline_assets(None, "index", "page.html", context, None)
    assert len(warnings) == 1 and "stylesheet" in warnings[0]


def _citation(*texts: str) -> nodes.citation:
    para = nodes.paragraph()
    para.extend(nodes.Text(t) for t in texts)
    cit = nodes.citation()
    cit += para
    return cit


def test_dollar_math_in_a_title_becomes_math():
    cit = _citation("Efficient projections onto the ", "$\\ell _1$", "-ball. In ICML.")
    assert bookext.dollar_math(cit)
    maths = list(cit.findall(nodes.math))
    assert [m.astext() for m in maths] == ["\\ell _1"]
    assert cit.astext() == "Efficient projections onto the \\ell _1-ball. In ICML."


def test_two_formulas_and_plain_text():
    cit = _citation("From $a$ to $b^2$ and back")
    assert bookext.dollar_math(cit)
    assert [m.astext() for m in cit.findall(nodes.math)] == ["a", "b^2"]
    plain = _citation("Rank, trace-norm and max-norm. 2005.")
    assert not bookext.dollar_math(plain)
    assert not list(plain.findall(nodes.math))


def test_docstring_headings_become_rubrics():
    lines = ["Summary.", "", "Conventions", "-----------", "* one", "", "  Inner", "  ====="]
    bookext._headings_to_rubrics(None, "module", "m", None, None, lines)
    assert lines[2] == ".. rubric:: Conventions" and lines[3] == ""
    assert lines[6] == "  .. rubric:: Inner"
    short = ["Title", "--"]  # an underline shorter than 3 characters is not a heading
    bookext._headings_to_rubrics(None, "module", "m", None, None, short)
    assert short == ["Title", "--"]


def test_chapters_are_read_from_the_module_docstring():
    mod = types.ModuleType("m")
    mod.__doc__ = (
        "Penalties.\n\nIntroduced in *L2* (``book/lk/l2.md``) and *L1* (``book/lk/l1.md``).\n\n"
        "Later (``book/lk/family.md``) is not the introduction."
    )
    assert bookext._chapters_of(mod) == ["/book/lk/l2", "/book/lk/l1"]
    mod.__doc__ = "No chapter here."
    assert bookext._chapters_of(mod) == []


def test_every_documented_module_exists():
    """A module named on the API page that cannot be imported would fail the build."""
    page = (ROOT / "book/reference/api.md").read_text()
    body = page.split("```{weightreg-api}", 1)[1].split("```", 1)[0]
    names = [line.split()[0] for line in body.splitlines() if line.strip()]
    assert "weightreg.data" in names
    for name in names:
        importlib.import_module(name)


def test_every_public_module_is_on_the_api_page():
    """A new module of weightreg gets its line on book/reference/api.md (one line)."""
    page = (ROOT / "book/reference/api.md").read_text()
    body = page.split("```{weightreg-api}", 1)[1].split("```", 1)[0]
    listed = {line.split()[0] for line in body.splitlines() if line.strip()}
    package = ROOT / "src" / "weightreg"
    modules = {
        "weightreg." + ".".join(p.relative_to(package).with_suffix("").parts)
        for p in package.rglob("*.py")
        if not any(part.startswith("_") for part in p.relative_to(package).parts)
    }
    missing = sorted(modules - listed)
    assert not missing, f"add to the weightreg-api block of book/reference/api.md: {missing}"

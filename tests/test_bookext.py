"""_ext/bookext.py: the Sphinx glue of the book (offline assets, bibliography math, API page).

The whole extension runs in every book build (and so in tests/test_browser.py and
tests/test_offline.py); these are the unit tests of its pieces.
"""

from __future__ import annotations

import importlib
import importlib.util
import sqlite3
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


# --- pages that read the book's sources (the instructor page) ------------------------------


def _tiny_book(root: Path) -> None:
    (root / "book").mkdir()
    (root / "tools").mkdir()
    (root / "_toc.yml").write_text("root: book/index\n")
    for name in ("index", "chapter", "instructors"):
        (root / "book" / f"{name}.md").write_text(f"# {name}\n")
    (root / "tools" / "homework.py").write_text("KINDS = ()\n")


def _outdated(root: Path, env: types.SimpleNamespace, changed=()) -> list[str]:
    app = types.SimpleNamespace(
        srcdir=str(root), config=types.SimpleNamespace(bookext_source_readers=["book/instructors"])
    )
    return bookext._source_readers_outdated(app, env, set(), set(changed), set())


def test_the_instructor_page_is_read_again_when_a_source_or_a_tool_changes(tmp_path):
    _tiny_book(tmp_path)
    env = types.SimpleNamespace(found_docs={"book/index", "book/chapter", "book/instructors"})
    assert _outdated(tmp_path, env) == ["book/instructors"]  # no digest yet: read it
    assert _outdated(tmp_path, env) == []  # nothing changed: the cached page stands
    (tmp_path / "book" / "instructors.md").write_text("# edited\n")
    assert _outdated(tmp_path, env) == []  # its own source: Sphinx sees that change itself
    (tmp_path / "book" / "chapter.md").write_text("# chapter\n\nA new exercise.\n")
    assert _outdated(tmp_path, env, changed={"book/chapter"}) == ["book/instructors"]
    assert _outdated(tmp_path, env) == []
    (tmp_path / "tools" / "homework.py").write_text("KINDS = ('code',)\n")
    assert _outdated(tmp_path, env) == ["book/instructors"]
    (tmp_path / "_toc.yml").write_text("root: book/index\nparts: []\n")
    assert _outdated(tmp_path, env) == ["book/instructors"]
    env.found_docs.discard("book/instructors")
    assert _outdated(tmp_path, env) == []  # not in this book


def test_the_instructor_page_is_configured_as_a_source_reader():
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    readers = config["sphinx"]["config"]["bookext_source_readers"]
    assert readers == ["book/reference/instructors", "book/preface"]
    assert "tools" in (ROOT / "book/reference/instructors.md").read_text()
    assert "{book-time}" in (ROOT / "book/preface.md").read_text()


_CHAPTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter

**Time**: {{chapter-time}}`{reading}`

:::{{exercise}} One [derivation]
:label: ex-one

Derive it. *Time: 20 min.*
:::

:::{{exercise}} Two [code]
:label: ex-two

Write it. *Time: 15 min.*
:::
"""


def _timed_book(root: Path, readings: dict[str, int]) -> None:
    (root / "book").mkdir()
    chapters = "".join(f"      - file: book/{name}\n" for name in readings)
    (root / "_toc.yml").write_text(
        f"format: jb-book\nroot: book/index\nparts:\n  - chapters:\n{chapters}"
    )
    (root / "book" / "index.md").write_text("# Index\n\nA chapter takes {book-time}`range`.\n")
    for name, reading in readings.items():
        (root / "book" / f"{name}.md").write_text(_CHAPTER.format(reading=reading))


def test_chapter_time_adds_the_pages_exercise_minutes(tmp_path):
    _timed_book(tmp_path, {"a": 30})
    text = bookext.chapter_time_text(tmp_path, "book/a", "30")
    assert text == "about 30 minutes, plus 35 for the exercises"
    with pytest.raises(ValueError, match="whole minutes"):
        bookext.chapter_time_text(tmp_path, "book/a", "half an hour")


def test_book_time_is_the_range_of_chapter_totals(tmp_path):
    _timed_book(tmp_path, {"a": 30, "b": 50})
    assert bookext.book_time_text(tmp_path) == "65 to 85 minutes, exercises included"


def test_the_instructor_table_shows_reading_and_total(tmp_path):
    _timed_book(tmp_path, {"a": 30})
    homework = bookext._homework(tmp_path)
    chapters = homework.book_chapters(tmp_path)
    assert chapters[0].reading == 30 and chapters[0].total == 65
    table = homework.exercise_table(chapters)
    assert "| *reading the chapter* | | 30 |" in table and "**65**" in table


def test_a_stale_source_reader_loses_its_cached_execution(tmp_path):
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    _tiny_book(tmp_path)
    page, other = tmp_path / "book" / "instructors.md", tmp_path / "book" / "chapter.md"
    cache = get_cache(str(tmp_path / "cache"))
    for path, code in ((page, "1"), (other, "2")):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code, execution_count=1)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        cache.cache_notebook_bundle(CacheBundleIn(nb, str(path)))
    assert len(cache.list_cache_records()) == 2
    env = types.SimpleNamespace(
        found_docs={"book/index", "book/chapter", "book/instructors"},
        mystnb_config=types.SimpleNamespace(execution_cache_path=str(tmp_path / "cache")),
    )
    assert _outdated(tmp_path, env) == ["book/instructors"]
    assert [Path(r.uri) for r in cache.list_cache_records()] == [other]


# --- tools/jb.py: jupyter-book with pages read in parallel ----------------------------------


def test_pages_start_slowest_first_one_per_batch(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    jb = importlib.import_module("jb")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.md").write_text("```{code-cell} ipython3\n1\n```\n" * 3)
    (tmp_path / "book" / "b.md").write_text("# text only\n")
    (tmp_path / "book" / "c.md").write_text(":::{code-cell} ipython3\n1\n:::\n")
    docs = ["book/a", "book/b", "book/c", "book/d"]
    assert jb.slowest_first(docs, {}, tmp_path) == [["book/a"], ["book/c"], ["book/b"], ["book/d"]]
    known = {"book/c": 40.0, "book/b": 0.5}
    assert jb.slowest_first(docs, known, tmp_path)[:2] == [["book/c"], ["book/a"]]
    assert jb.page_times(tmp_path / "no-cache") == {}


def test_bench_reads_each_pages_time_from_the_build_log(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_book", ROOT / "bench" / "book.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    (tmp_path / "_toc.yml").write_text("root: book/a\n")
    log = (
        f"\x1b[01mreading sources...\x1b[39;49;00m\n{tmp_path}/book/a.md: Executing notebook\n"
        f"{tmp_path}/book/a.md: Executed notebook in 12.50 seconds [mystnb]\n"
        f"{tmp_path}/book/lk/b.md: Executed notebook in 30.25 seconds [mystnb]\n"
        f"{tmp_path}/book/lk/b.md: Using cached notebook: ID=3 [mystnb]\n"
    )
    times = bench.executed_times(log)
    assert times == {"book/a": 12.5, "book/lk/b": 30.25}
    text = bench.report(times, wall=25.0, jobs=2)
    lines = text.splitlines()
    assert lines[1].split() == ["book/lk/b", "30.2", ">", "25", "s"]  # the slowest first
    assert lines[2].split() == ["book/a", "12.5"]
    assert "wall / sum of page times: 0.58 (target <= 0.6: met)" in text
    assert "slowest page: 30.2 s (target <= 25 s: NOT met)" in text


def test_bibliography_labels_are_author_year_like_the_text():
    from pybtex.database import parse_file
    from pybtex.plugin import find_plugin

    bookext._register_citation_style()
    entries = parse_file(str(ROOT / "references.bib")).entries
    assert bookext.author_year_label(entries["hanson1988comparing"]) == "Hanson and Pratt 1988"
    assert bookext.author_year_label(entries["zhang2023dive"]) == "Zhang et al. 2023"
    style = find_plugin("pybtex.style.formatting", "wr_authoryear")()
    labels = [e.label for e in style.format_entries(entries.values())]
    assert "Loshchilov and Hutter 2019" in labels
    assert len(set(labels)) == len(labels)


def test_the_cache_database_exists_before_the_parallel_read(tmp_path, monkeypatch):
    """``prepare_cache`` creates the jupyter-cache's tables once, so that the workers, which
    would each create them on an empty cache and race (``table settings already exists``),
    find the database there and create nothing."""
    sys.path.insert(0, str(ROOT / "tools"))
    jb = importlib.import_module("jb")
    from jupyter_cache import get_cache
    from jupyter_cache.cache import db

    path = jb.prepare_cache(tmp_path)
    assert path == jb.cache_path(tmp_path) and (path / db.DB_NAME).is_file()
    assert jb.prepare_cache(tmp_path) == path  # a second build reuses it
    tables = sqlite3.connect(path / db.DB_NAME).execute(
        "select name from sqlite_master where type = 'table'"
    )
    assert set(db.OrmBase.metadata.tables) <= {name for (name,) in tables}

    def race(*args, **kwargs):
        raise AssertionError("a worker created the tables again")

    monkeypatch.setattr(db.OrmBase.metadata, "create_all", race)
    assert get_cache(path).list_cache_records() == []  # what a worker does: no create_all

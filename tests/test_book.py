"""The built book: every page exists, and executing a page again gives the same numbers.

Runs after `make test` has built the book from scratch into $BOOK_HTML (see conftest.py).
The second execution of every page is the student edition's (``student_edition`` in
conftest.py: each page executed from scratch again, in a fresh kernel, by nbclient rather than
by the build): every glued value (the numbers quoted in the prose) must equal, character for
character, the value from the build. That checks two things at once: the pages are
deterministic, and the student edition's stubs change none of the book's numbers (nothing may
depend on a solution or on an instructor-only cell, see CONTRIBUTING.md).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import homework  # tools/homework.py (conftest.py puts tools/ on the path)
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
GLUE_MIME = "application/papermill.record/"


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [ch["file"] for ch in part.get("chapters", [])]
    return files


def notebook_pages() -> list[str]:
    return [f for f in toc_files() if "{code-cell}" in (ROOT / f"{f}.md").read_text()]


def glued(nb: nbformat.NotebookNode) -> dict[str, str]:
    """name -> text/plain of every glue() call in an executed notebook."""
    out = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            meta = o.get("metadata", {}).get("scrapbook")
            if meta:
                out[meta["name"]] = o["data"].get(GLUE_MIME + "text/plain")
    return out


def built_glue(book_html: Path, page: str) -> dict[str, str]:
    """name -> text/plain of every value the build glued on ``page`` (MyST-NB writes them all
    to ``jupyter_execute/<page>.glue.json``, whether the page was executed or cached)."""
    path = book_html.parent / "jupyter_execute" / f"{page}.glue.json"
    if not path.is_file():
        return {}
    return {k: o["data"].get("text/plain") for k, o in json.loads(path.read_text()).items()}


def test_every_toc_page_is_built(book_html):
    for f in toc_files():
        assert (book_html / f"{f}.html").exists(), f"{f} is in _toc.yml but was not built"


def test_every_book_source_is_in_the_toc():
    listed = set(toc_files())
    for md in (ROOT / "book").rglob("*.md"):
        rel = str(md.relative_to(ROOT))[: -len(".md")]
        if md.name.startswith("_"):
            # a fragment that pages include (the notation table): it must be included somewhere
            included = [
                p
                for p in (ROOT / "book").rglob("*.md")
                if "{include} " in p.read_text() and md.name in p.read_text()
            ]
            assert included, f"{rel}.md is a fragment (leading _) that no page includes"
            continue
        assert rel in listed, f"{rel}.md is not in _toc.yml: it is never built or executed"


def chapter_pages() -> list[str]:
    """Teaching chapters: notebooks outside the reference part."""
    return [f for f in notebook_pages() if not f.startswith("book/reference/")]


def test_chapters_have_overview_summary_and_exercises():
    assert len(chapter_pages()) >= 10
    for f in chapter_pages():
        text = (ROOT / f"{f}.md").read_text()
        if "This chapter is being written." in text:
            continue
        for heading in ("## Overview", "## Summary", "## Exercises"):
            assert heading in text, f"{f}.md has no '{heading}' section"
        assert "glue(" in text, f"{f}.md glues no number from code"
        assert re.search(r"tags: \[.*remove-cell.*\]", text), f"{f}.md asserts no claim"


def test_glued_finds_every_glue_call():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("glue('a', 1); glue('b', 'x')")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={GLUE_MIME + "text/plain": text},
            metadata={"scrapbook": {"name": name, "mime_prefix": GLUE_MIME}},
        )
        for name, text in (("a", "1"), ("b", "'x'"))
    ]
    nb.cells = [cell, nbformat.v4.new_code_cell("print(1)")]
    assert glued(nb) == {"a": "1", "b": "'x'"}


def instructor_only_keys(page: str) -> list[re.Pattern[str]]:
    """Patterns of the keys glued by the instructor-only cells of ``page``."""
    nb = homework.read_page(ROOT / f"{page}.md")
    keys: list[re.Pattern[str]] = []
    for cell in nb.cells:
        if cell.cell_type == "code" and homework.INSTRUCTOR_ONLY in cell.metadata.get("tags", []):
            found = homework.glued_keys(cell.source)
            assert found is not None, f"{page}: cannot read the glued keys of {cell.source[:80]!r}"
            keys += found
    return keys


def test_student_edition_glues_every_number_its_text_shows(student_edition):
    """Leaving the instructor-only cells out (numbers that only solutions quote) loses no number
    that the student edition's text shows."""
    for page in notebook_pages():
        nb = homework.read_page(ROOT / f"{page}.md")
        text = [
            homework.strip_solution_blocks(c.source) for c in nb.cells if c.cell_type == "markdown"
        ]
        shown = homework.glue_references("\n".join(text))
        executed = nbformat.read(student_edition / "source" / f"{page}.ipynb", as_version=4)
        missing = sorted(shown - set(glued(executed)))
        assert not missing, f"{page}: the student edition shows {missing} but does not glue them"


@pytest.mark.parametrize("page", notebook_pages())
def test_second_execution_gives_identical_glued_numbers(page, book_html, student_edition):
    before = built_glue(book_html, page)
    after = glued(nbformat.read(student_edition / "source" / f"{page}.ipynb", as_version=4))
    assert before or "glue(" not in (ROOT / f"{page}.md").read_text(), f"{page}: no glued value"
    missing, extra = sorted(before.keys() - after.keys()), sorted(after.keys() - before.keys())
    # numbers that only a solution quotes come from instructor-only cells, which the student
    # edition leaves out (CONTRIBUTING.md, "Exercises")
    dropped = instructor_only_keys(page)
    missing = [k for k in missing if not any(p.fullmatch(k) for p in dropped)]
    assert not missing and not extra, (
        f"{page}: the second execution (student edition) glued other names: missing {missing}, "
        f"extra {extra}. Does a glue() depend on an instructor-only or solution cell?"
    )
    differ = {
        k: (before[k], after[k]) for k in before.keys() & after.keys() if before[k] != after[k]
    }
    assert not differ, (
        f"{page}: glued values changed between two executions (build, then student edition): "
        f"{json.dumps(differ)[:2000]}. Unseeded randomness, or a number that depends on a "
        "check cell, a solution or an instructor-only cell."
    )

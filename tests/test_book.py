"""The built book: every page exists, and executing a chapter again gives the same numbers.

Runs after `make test` has built the book from scratch into $BOOK_HTML (see conftest.py).
Each chapter is executed once more here, in a fresh kernel; every glued value (the numbers
quoted in the prose) must equal, character for character, the value from the build.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml
from nbclient import NotebookClient

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


def code_sources(nb: nbformat.NotebookNode) -> list[str]:
    return [c.source.strip() for c in nb.cells if c.cell_type == "code"]


def build_cache_notebooks(book_html: Path) -> list[nbformat.NotebookNode]:
    cache = book_html.parent / ".jupyter_cache" / "executed"
    return [nbformat.read(p, as_version=4) for p in sorted(cache.glob("*/base.ipynb"))]


def test_every_toc_page_is_built(book_html):
    for f in toc_files():
        assert (book_html / f"{f}.html").exists(), f"{f} is in _toc.yml but was not built"


def test_every_book_source_is_in_the_toc():
    listed = set(toc_files())
    for md in (ROOT / "book").rglob("*.md"):
        rel = str(md.relative_to(ROOT))[: -len(".md")]
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


@pytest.mark.parametrize("page", notebook_pages())
def test_reexecution_gives_identical_glued_numbers(page, book_html):
    source = jupytext.read(ROOT / f"{page}.md")
    built = [
        nb for nb in build_cache_notebooks(book_html) if code_sources(nb) == code_sources(source)
    ]
    assert built, f"no executed notebook of {page} in the build's cache"
    before = glued(built[0])
    client = NotebookClient(
        source,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str((ROOT / page).parent)}},
    )
    env = {"WEIGHTREG_STATIC_WIDGETS": "1", "PYTHONHASHSEED": "0"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        client.execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    after = glued(source)
    assert after.keys() == before.keys()
    differ = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not differ, (
        f"{page}: glued values changed between two executions: {json.dumps(differ)[:2000]}"
    )

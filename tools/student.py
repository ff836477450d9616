"""Write the student edition of the book: ``make student``.

    .venv/bin/python tools/student.py [--out _build/student] [--jobs 1] [--no-cache] [--no-html]

From the same sources as the instructor book (see ``CONTRIBUTING.md``, "Exercises"):

* ``<out>/notebooks/<chapter>.ipynb``: one notebook per chapter to hand out, with every
  solution cell replaced by its stub (``raise NotImplementedError("<message>")``), every
  ``{solution}`` block removed from the text, and no outputs;
* ``<out>/html``: the student HTML book (same pages, the same stubs, sphinx-exercise's
  ``hide_solutions`` on, so no solution appears).

Each student page is executed from scratch once (nbclient, ``WEIGHTREG_STATIC_WIDGETS=1``, in
the chapter's folder), and the run fails unless the only errors are the stubs'
``NotImplementedError`` in the cells tagged ``check`` (which get the tag ``raises-exception``).
The executed pages (``<out>/source``) are what the HTML book shows, so the build does not
execute them again. Results are cached in ``<out>/cache``, keyed on the page and on every file
that can change its outputs (``src/``, the requirements, the non-Markdown files of ``book/``).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import homework  # noqa: E402  (tools/homework.py: build tooling, not the weightreg package)

KERNEL_ENV = {
    # what _ext/bookext.py sets for the instructor build
    "WEIGHTREG_STATIC_WIDGETS": "1",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYTHONHASHSEED": "0",
}
# Top-level entries of the book root that the student source tree does not link to.
_NOT_LINKED = {"book", "_build", "_config.yml", "node_modules"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class StudentEditionError(RuntimeError):
    """The student edition could not be written; the message says which page and why."""


# --------------------------------------------------------------------------- the sources


def _is_notebook(nb: Any) -> bool:
    return "kernelspec" in nb.metadata


def write_sources(root: Path, source: Path, notebooks: Path) -> dict[str, Path]:
    """Write the student pages under ``source`` and the handouts under ``notebooks``.

    ``source`` mirrors the book root: links to its top-level files and folders (config
    excepted), a copy of ``book/`` with every page of the toc replaced by its student version
    (notebook pages as un-executed ``.ipynb``, plain Markdown pages as ``.md``; fragments that
    pages include, ``_*.md``, as they are). Returns the
    notebook pages to execute, ``{docname: path}`` in toc order.
    """
    shutil.rmtree(source, ignore_errors=True)
    shutil.rmtree(notebooks, ignore_errors=True)
    source.mkdir(parents=True)
    notebooks.mkdir(parents=True)
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name in _NOT_LINKED:
            continue
        (source / entry.name).symlink_to(entry.resolve())
    docnames = homework.toc_docnames(root)
    pages = {homework.page_path(root, d).resolve() for d in docnames}
    # Everything in book/ but the pages (figures, data files, and the Markdown fragments that
    # pages include, named with a leading "_" such as the notation table) is copied as it is.
    for path in sorted((root / "book").rglob("*")):
        fragment = path.suffix == ".md" and path.name.startswith("_")
        is_page = path.resolve() in pages or path.suffix in (".md", ".ipynb")
        if path.is_file() and (fragment or not is_page):
            target = source / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    chapters = set(homework.chapter_docnames(root))
    to_run: dict[str, Path] = {}
    stems: dict[str, str] = {}
    for docname in docnames:
        path = homework.page_path(root, docname)
        nb = homework.read_page(path)
        target = source / docname
        target.parent.mkdir(parents=True, exist_ok=True)
        if not _is_notebook(nb):
            text = homework.strip_solution_blocks(path.read_text(), where=str(path))
            target.with_suffix(".md").write_text(text)
            continue
        student = homework.student_notebook(nb, where=docname)
        nbformat.validate(student)
        nbformat.write(html_page(student), target.with_suffix(".ipynb"))
        to_run[docname] = target.with_suffix(".ipynb")
        if docname in chapters:
            stem = Path(docname).name
            if stem in stems:
                raise StudentEditionError(
                    f"two chapters would both be handed out as {stem}.ipynb: "
                    f"{stems[stem]} and {docname}; rename one"
                )
            stems[stem] = docname
            nbformat.write(student, notebooks / f"{stem}.ipynb")
    return to_run


CHECK_OUTPUT_LEXER = "text"
"""Pygments lexer of a check cell's error output in the student HTML book: the stub's message
and what to do are prose, not a Python traceback to colour (MyST-NB's cell-level
``error_lexer``; ``_static/book.css`` makes the same output wrap instead of scroll)."""


def html_page(student: Any) -> Any:
    """A copy of a student notebook for the HTML book: its check cells' errors as plain text.

    The handouts stay as :func:`homework.student_notebook` writes them.
    """
    page = copy.deepcopy(student)
    for cell in page.cells:
        if cell.cell_type == "code" and homework.CHECK_TAG in cell.metadata.get("tags", []):
            cell.metadata.setdefault("mystnb", {})["error_lexer"] = CHECK_OUTPUT_LEXER
    return page


# --------------------------------------------------------------------------- execution


def inputs_digest(root: Path) -> str:
    """Hash of the files (other than the pages) that can change what a page outputs."""
    digest = hashlib.sha256(sys.version.encode())
    files = sorted(
        [
            *(root / "src").rglob("*.py"),
            *root.glob("requirements*.txt"),
            *(p for p in (root / "book").rglob("*") if p.is_file() and p.suffix != ".md"),
        ]
    )
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _strip_for_key(nb: Any) -> str:
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return json.dumps(nb, sort_keys=True)


def student_errors(nb: Any) -> tuple[list[str], list[str]]:
    """Check an executed student notebook: ``(problems, allowed errors)``.

    Every check cell must end in ``NotImplementedError`` (the stub); any other cell may raise
    only if its source already tagged it ``raises-exception``. Returns the problems found and a
    description of the errors that are allowed.
    """
    problems, allowed = [], []
    for n, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        errors = [o for o in cell.outputs if o.output_type == "error"]
        names = [o.ename for o in errors]
        if homework.CHECK_TAG in tags:
            if names != ["NotImplementedError"]:
                got = ", ".join(names) or "no error"
                problems.append(
                    f"cell {n} (check): expected the stub's NotImplementedError, got {got}"
                )
            else:
                allowed.append(f"cell {n}: NotImplementedError (stub)")
        elif errors:
            if homework.RAISES_TAG in tags:
                allowed.append(f"cell {n}: {', '.join(names)} (raises-exception in the source)")
            else:
                problems.append(f"cell {n}: {', '.join(names)}")
    return problems, allowed


def execute_page(
    path: Path, *, cache: Path | None, digest: str, timeout: int = 300
) -> tuple[float, bool]:
    """Execute the student page ``path`` in place, from scratch (or take it from ``cache``).

    Runs in the page's folder with :data:`KERNEL_ENV`; raises :class:`StudentEditionError`
    unless :func:`student_errors` finds nothing wrong. Returns (seconds, cache hit).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    key = hashlib.sha256((digest + _strip_for_key(nb)).encode()).hexdigest()[:32]
    cached = cache / f"{key}.ipynb" if cache is not None else None
    if cached is not None and cached.is_file():
        shutil.copy2(cached, path)
        return 0.0, True
    start = time.perf_counter()
    client = NotebookClient(
        nb,
        timeout=timeout,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        # The kernel's own log (not the cells' output) would only add noise.
        client.execute(env={**os.environ, **KERNEL_ENV}, stderr=subprocess.DEVNULL)
    except CellExecutionError as exc:
        raise StudentEditionError(
            f"{path}: a cell raised in the student edition, and only check cells may. If the "
            "cell uses a function the student writes, use weightreg's own implementation "
            "instead; if the chapter fails in the instructor book too, fix it there.\n"
            + _ANSI.sub("", str(exc))
        ) from None
    problems, _ = student_errors(nb)
    if problems:
        raise StudentEditionError(f"{path}:\n  " + "\n  ".join(problems))
    nbformat.write(nb, path)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, cached)
    return time.perf_counter() - start, False


def execute_all(
    pages: dict[str, Path], *, root: Path, cache: Path | None, jobs: int = 1
) -> dict[str, tuple[float, bool]]:
    """Execute every page (``jobs`` at a time); ``{docname: (seconds, cache hit)}``.

    Every page is executed even when one fails; the failures are reported together.
    """
    digest = inputs_digest(root)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {
            d: pool.submit(execute_page, p, cache=cache, digest=digest) for d, p in pages.items()
        }
        results, failures = {}, []
        for docname, future in futures.items():
            try:
                results[docname] = future.result()
            except StudentEditionError as exc:
                failures.append(str(exc))
    if failures:
        raise StudentEditionError(f"{len(failures)} page(s) failed:\n\n" + "\n\n".join(failures))
    return results


# --------------------------------------------------------------------------- the HTML book


def student_config(root: Path) -> dict[str, Any]:
    """The book's ``_config.yml`` for the student edition: solutions hidden, no execution."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    config["title"] = f"{config.get('title', '')} (student edition)".strip()
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx["hide_solutions"] = True
    # Launch buttons would open the page's path in the repository, which has no student copy.
    theme = sphinx.get("html_theme_options") or {}
    for launch in (config.get("launch_buttons"), theme.get("launch_buttons")):
        for key in ("binderhub_url", "colab_url", "jupyterhub_url", "deepnote_url"):
            (launch or {}).pop(key, None)
    return config


def build_html(
    root: Path,
    source: Path,
    out: Path,
    *,
    strict: bool = True,
    downloads: dict[str, Path] | None = None,
    log: TextIO | None = None,
) -> float:
    """Build the student HTML book from ``source`` into ``out/html``; returns seconds.

    Nitpicky (``-n``) as the instructor book; ``strict`` turns warnings into errors (``-W``).
    ``downloads`` maps docnames to the notebooks that the page's download button should
    offer (the clean handouts, instead of the executed page with its tracebacks).
    """
    (source / "_config.yml").write_text(yaml.safe_dump(student_config(root), sort_keys=False))
    build = out / "build"
    shutil.rmtree(build, ignore_errors=True)
    start = time.perf_counter()
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb), "build", str(source), "--path-output", str(build), "-n", "--keep-going"]
    proc = subprocess.run([*cmd, "-W"] if strict else cmd, capture_output=True, text=True)
    log = _ANSI.sub("", proc.stdout + proc.stderr).splitlines()
    warnings = [line for line in log if "WARNING" in line or "ERROR" in line]
    if proc.returncode != 0:
        raise StudentEditionError(
            "the student HTML build failed:\n" + "\n".join(warnings or log[-40:])
        )
    if warnings:
        print("\n".join(warnings), file=log or sys.stdout)
    html = out / "html"
    shutil.rmtree(html, ignore_errors=True)
    (build / "_build" / "html").rename(html)
    shutil.rmtree(build)
    for docname, notebook in (downloads or {}).items():
        target = html / "_sources" / f"{docname}.ipynb"
        if target.is_file():
            shutil.copyfile(notebook, target)
    return time.perf_counter() - start


# --------------------------------------------------------------------------- main


def summary(root: Path) -> str:
    """One line per chapter: exercises per kind and minutes."""
    lines = []
    totals: Counter[str] = Counter()
    for ch in homework.book_chapters(root):
        kinds = Counter(e.kind or "?" for e in ch.exercises)
        totals.update(kinds)
        per_kind = ", ".join(f"{kinds[k]} {k}" for k in (*homework.KINDS, "?") if kinds[k])
        state = " (being written)" if ch.stub else ""
        lines.append(
            f"  {ch.docname}{state}: {len(ch.exercises)} exercises"
            f"{' (' + per_kind + ')' if per_kind else ''}, {ch.minutes} min"
        )
    per_kind = ", ".join(f"{totals[k]} {k}" for k in (*homework.KINDS, "?") if totals[k])
    lines.append(f"  total: {sum(totals.values())} exercises ({per_kind or 'none'})")
    return "\n".join(lines)


def make_student(
    root: Path,
    out: Path,
    *,
    jobs: int = 1,
    use_cache: bool = True,
    html: bool = True,
    strict: bool = True,
    log: TextIO | None = None,
) -> dict[str, tuple[float, bool]]:
    """Write the student edition of the book at ``root`` into ``out`` (see the module doc).

    Progress goes to ``log`` (default: standard output). Returns what :func:`execute_all`
    returns: ``{docname: (seconds, cache hit)}``.
    """
    log = log or sys.stdout
    start = time.perf_counter()
    source, notebooks = out / "source", out / "notebooks"
    pages = write_sources(root, source, notebooks)
    print(f"wrote {len(list(notebooks.glob('*.ipynb')))} notebooks to {notebooks}", file=log)
    cache = out / "cache" if use_cache else None
    results = execute_all(pages, root=root, cache=cache, jobs=jobs)
    for docname, (seconds, hit) in results.items():
        print(f"  executed {docname}: {'cached' if hit else f'{seconds:.1f} s'}", file=log)
    if html:
        downloads = {
            d: notebooks / f"{Path(d).name}.ipynb" for d in homework.chapter_docnames(root)
        }
        seconds = build_html(root, source, out, strict=strict, downloads=downloads, log=log)
        print(
            f"built the student HTML book in {seconds:.1f} s: {out / 'html' / 'index.html'}",
            file=log,
        )
    print(summary(root), file=log)
    print(f"student edition written in {time.perf_counter() - start:.1f} s", file=log)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the book's root folder")
    parser.add_argument("--out", type=Path, help="output folder (default <root>/_build/student)")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="pages executed at once")
    parser.add_argument("--no-cache", action="store_true", help="execute every page again")
    parser.add_argument("--no-html", action="store_true", help="skip the HTML book")
    parser.add_argument(
        "--allow-warnings", action="store_true", help="build the HTML book without -W"
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    out = (args.out or root / "_build" / "student").resolve()
    try:
        make_student(
            root,
            out,
            jobs=args.jobs,
            use_cache=not args.no_cache,
            html=not args.no_html,
            strict=not args.allow_warnings,
        )
    except (StudentEditionError, homework.HomeworkError) as exc:
        print(f"make student: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

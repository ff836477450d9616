"""``jupyter-book`` with pages read (and so executed) in parallel: ``make book``, ``make test``.

    .venv/bin/python tools/jb.py [-j N] build . [jupyter-book build options]

Jupyter Book 1's command line has no ``-j``: this runs the same command with Sphinx reading
``N`` pages at a time (default: the number of CPUs). MyST-NB executes a notebook while Sphinx
reads it, so ``N`` notebooks execute at once, each in its own kernel. Everything else is
``jupyter-book build``: the configuration, ``-W -n --keep-going``, the jupyter-cache (a page
whose code has not changed is not executed again).

Sphinx would split the pages into ``N`` fixed batches in reading order, leaving one core idle
while the other finishes the heavier batch. Here every page is a batch of its own, and the
batches start slowest first (by the execution times recorded in the build's jupyter-cache and
in ``_build/page-times.json`` by earlier builds, or for a page never timed by its number of
code cells), so a core that finishes takes the next page. The jupyter-cache's database is
created before the workers start (:func:`prepare_cache`), so that two of them never race to
create it.

Two extensions that Jupyter Book loads without saying whether they are parallel safe (Sphinx
would then read serially) are declared safe (see :data:`_PARALLEL_SAFE`), and sphinx-proof's
domain gets the (empty) merge that parallel reading needs. After a build, :func:`page_times`
lists what each page took (``bench/book.py``).
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_CODE_CELL = re.compile(r"^[`:]{3,}\s*\{code-cell\}", re.MULTILINE)


def cache_path(output: Path | str) -> Path:
    """The jupyter-cache of a build whose ``--path-output`` is ``output``."""
    return Path(output) / "_build" / ".jupyter_cache"


def page_times(cache: Path | str, root: Path | str = ROOT) -> dict[str, float]:
    """``{docname: seconds}``: how long each notebook of ``root`` took in the cache's records.

    The time is the one MyST-NB's execution stored with the page's executed notebook (the
    latest record of a page counts). Pages without a record are left out.
    """
    cache = Path(cache)
    if not (cache / "global.db").is_file():
        return {}
    from jupyter_cache import get_cache

    root = Path(root).resolve()
    times: dict[str, tuple[float, float]] = {}
    for record in get_cache(str(cache)).list_cache_records():
        seconds = (record.data or {}).get("execution_seconds")
        try:
            docname = str(Path(record.uri).resolve().relative_to(root).with_suffix(""))
        except ValueError:
            continue
        created = record.created.timestamp()
        if seconds is not None and (docname not in times or times[docname][0] < created):
            times[docname] = (created, float(seconds))
    return {d: s for d, (_, s) in times.items()}


def expected_seconds(root: Path, docname: str, known: dict[str, float]) -> float:
    """How long ``docname`` should take: its recorded time, else its number of code cells."""
    if docname in known:
        return known[docname]
    source = root / f"{docname}.md"
    return float(len(_CODE_CELL.findall(source.read_text()))) if source.is_file() else 0.0


def slowest_first(docnames: list[str], known: dict[str, float], root: Path) -> list[list[str]]:
    """One batch per page, the slowest first (what Sphinx's ``make_chunks`` returns)."""
    order = sorted(docnames, key=lambda d: -expected_seconds(root, d, known))
    return [[d] for d in order]


TIMES = ROOT / "_build" / "page-times.json"
"""The page times of the latest builds, kept across ``make test``'s fresh builds (which start
with an empty cache) to start the slowest pages first."""


def prepare_cache(output: Path | str) -> Path:
    """Create the build's jupyter-cache database (if it is not there yet) and return its folder.

    Every worker that executes a notebook opens the cache, and jupyter-cache creates the
    database's tables when its file does not exist yet (``create_db``: "exists?", then
    ``create_all``). On an empty cache (every ``make test``) two workers starting at once can
    both find no file and both create the tables; the second fails the build with
    ``sqlite3.OperationalError: table settings already exists`` (it happened once in a
    fresh-clone ``make test``). Created here, once, in the main process before the parallel
    read, the file exists when the workers start.
    """
    from jupyter_cache.cache.db import create_db

    path = cache_path(output)
    path.mkdir(parents=True, exist_ok=True)
    create_db(path).dispose()
    return path


def _remembered_times() -> dict[str, float]:
    try:
        return {str(k): float(v) for k, v in json.loads(TIMES.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _remember_times(times: dict[str, float]) -> None:
    if times:
        TIMES.parent.mkdir(parents=True, exist_ok=True)
        TIMES.write_text(json.dumps(times, indent=1, sort_keys=True) + "\n")


def _output_of(args: list[str]) -> Path:
    for i, arg in enumerate(args):
        if arg == "--path-output" and i + 1 < len(args):
            return Path(args[i + 1]).resolve()
        if arg.startswith("--path-output="):
            return Path(arg.split("=", 1)[1]).resolve()
    source = next((a for a in args[1:] if not a.startswith("-")), ".")
    return Path(source).resolve()


# Extensions that Jupyter Book loads and that do not say whether they are parallel safe (Sphinx
# would then read serially). Both are: sphinx-multitoc-numbering only renumbers sections once
# every page is read, in the main process (TocTreeCollector.assign_section_numbers);
# sphinx-jupyterbook-latex only acts in LaTeX builds and keeps no data in the environment.
_PARALLEL_SAFE = ("sphinx_multitoc_numbering", "sphinx_jupyterbook_latex")


def _declare_parallel_safe(module: Any) -> None:
    setup = module.setup

    def declared(app: Any) -> dict[str, Any]:
        return {**(setup(app) or {}), "parallel_read_safe": True, "parallel_write_safe": True}

    module.setup = declared


def main(argv: list[str]) -> int:
    jobs = os.cpu_count() or 1
    if argv[:1] == ["-j"] and len(argv) > 1:
        jobs, argv = int(argv[1]), argv[2:]
    elif argv[:1] and argv[0].startswith("-j") and argv[0][2:].isdigit():
        jobs, argv = int(argv[0][2:]), argv[1:]
    import jupyter_book.sphinx
    import sphinx.builders
    from jupyter_book.cli.main import main as cli

    output = _output_of(argv)
    known = {**_remembered_times(), **page_times(cache_path(output))}
    if argv[:1] == ["build"]:
        prepare_cache(output)
    for name in _PARALLEL_SAFE:
        _declare_parallel_safe(importlib.import_module(name))
    # sphinx-proof keeps its proofs in env.proof_list (merged by its own env-merge-info
    # handler); its domain holds no data of its own, but lacks the merge Sphinx requires.
    from sphinx_proof.domain import ProofDomain

    ProofDomain.merge_domaindata = lambda self, docnames, otherdata: None
    sphinx.builders.make_chunks = lambda docnames, nproc, maxbatch=10: slowest_first(
        list(docnames), known, ROOT
    )
    jupyter_book.sphinx.build_sphinx = functools.partial(
        jupyter_book.sphinx.build_sphinx, jobs=max(1, jobs)
    )
    try:
        return cli.main(args=argv, prog_name="jupyter-book")  # exits with the build's status
    finally:
        _remember_times({**known, **page_times(cache_path(output))})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

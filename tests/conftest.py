"""Shared fixtures. Book tests read the HTML that `make test` builds into $BOOK_HTML.

Dtypes: no default dtype is forced on the tests (the chapters run in torch's float32 default).
A test that needs float64 says so, with ``dtype=torch.float64`` on its tensors or with the
fixture ``float64_default`` (a whole module: ``pytestmark =
pytest.mark.usefixtures("float64_default")``). A test of what the float32 chapters use takes
the fixture ``dtype``: it runs once in float32 and once in float64, with that dtype as the
default, and gets it as its argument.

The book executes twice per test run: once in the strict build (``make test``, pages in
parallel) and once as the student edition (``student_edition``, started in a background
thread as soon as the tests are collected, so its kernels run while the unit tests do).
``tests/test_book.py`` compares every glued value of the two executions; the student tests
check the second one.
"""

from __future__ import annotations

import importlib.util
import io
import os
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
# The build tooling (tools/homework.py, tools/student.py, tools/jb.py) is not part of the
# weightreg package; its tests import it from tools/.
sys.path.insert(0, str(ROOT / "tools"))

DTYPES = (torch.float32, torch.float64)


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    """A test that changes the default dtype does not change it for the next test."""
    old = torch.get_default_dtype()
    yield
    torch.set_default_dtype(old)


@pytest.fixture(params=DTYPES, ids=lambda d: str(d).removeprefix("torch."))
def dtype(request) -> torch.dtype:
    """float32 (the chapters' dtype) and float64, each set as the default dtype for the test."""
    torch.set_default_dtype(request.param)
    return request.param


@pytest.fixture
def float64_default() -> torch.dtype:
    """float64 as the default dtype, for a test whose point is exactness."""
    torch.set_default_dtype(torch.float64)
    return torch.float64


def _needs_student_edition(item: pytest.Item) -> bool:
    return bool(_STUDENT_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that wait for the student edition run last, so that the other tests run while
    it executes in the background."""
    items.sort(key=_needs_student_edition)  # stable: the order is kept within each group


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread, as in the book (seed_everything): fastest for these small tensors."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def book_html() -> Path:
    """The built book (``make test`` sets BOOK_HTML); tests that need it skip without it."""
    path = Path(os.environ.get("BOOK_HTML", ROOT / "_build/test/_build/html"))
    if not (path / "index.html").exists():
        pytest.skip(f"no built book at {path}: run `make test`")
    return path


# --------------------------------------------------------------------------- the student edition


def load_tool(name: str):
    """``tools/<name>.py`` as a module named ``<name>_tool``, loaded once (build tooling)."""
    key = f"{name}_tool"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, ROOT / "tools" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def load_student_tool():
    """``tools/student.py`` as a module (``make student``)."""
    return load_tool("student")


_STUDENT_FIXTURES = {"student_edition", "student_html", "_student_pages", "_student_html"}
_EDITION: dict[str, Future] = {}


def _write_student_edition(out: Path, log: io.StringIO) -> tuple[Path, Exception | None]:
    """Execute every student page from scratch (both cores), then build the HTML book."""
    import homework

    student = load_student_tool()
    try:
        student.make_student(
            ROOT, out, jobs=os.cpu_count() or 1, use_cache=False, html=False, log=log
        )
    except (student.StudentEditionError, homework.HomeworkError) as exc:
        return out, exc
    return out, None


def _build_student_html(out: Path, log: io.StringIO) -> tuple[Path, Exception | None]:
    import homework

    student = load_student_tool()
    downloads = {
        d: out / "notebooks" / f"{Path(d).name}.ipynb" for d in homework.chapter_docnames(ROOT)
    }
    try:
        student.build_html(ROOT, out / "source", out, downloads=downloads, log=log)
    except student.StudentEditionError as exc:
        return out / "html", exc
    return out / "html", None


def _start_student_edition() -> None:
    if _EDITION:
        return
    # The stub writer (tools/exercise_stubs.py) imports nbgrader, whose first import warns
    # (html5lib's sanitizer is deprecated). Imported in the background thread, that warning
    # lands in whatever test is inside warnings.catch_warnings (process-wide) at that moment
    # (test_bad_input failed so once); imported here, in the main thread, before any test.
    import exercise_stubs  # noqa: F401

    # A private folder: several test runs in one checkout must not share their output.
    out = Path(tempfile.mkdtemp(prefix="wr-student-"))
    log = io.StringIO()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="student-edition")
    _EDITION["pages"] = pages = pool.submit(_write_student_edition, out, log)

    def html() -> tuple[Path, Exception | None]:
        folder, error = pages.result()
        return (folder / "html", error) if error else _build_student_html(folder, log)

    _EDITION["html"] = pool.submit(html)
    pool.shutdown(wait=False)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the student edition in the background if a selected test needs it."""
    if any(map(_needs_student_edition, session.items)):
        _start_student_edition()


@pytest.fixture(scope="session")
def _student_pages() -> tuple[Path, Exception | None]:
    """(folder, error): the student pages of this book, executed from scratch (or why not)."""
    _start_student_edition()
    return _EDITION["pages"].result()


@pytest.fixture(scope="session")
def _student_html(_student_pages) -> tuple[Path, Exception | None]:
    """(folder, error): the student HTML book, built (-W -n) from the executed pages."""
    return _EDITION["html"].result()


@pytest.fixture(scope="session")
def student_edition(_student_pages) -> Path:
    """The student pages of this book, executed from scratch into a temporary folder."""
    out, error = _student_pages
    if error is not None:
        pytest.skip("no student edition: see test_student_edition_is_written")
    return out


@pytest.fixture(scope="session")
def student_html(_student_html) -> Path:
    """The student HTML book, built (-W -n) from the executed pages."""
    html_dir, error = _student_html
    if error is not None:
        pytest.skip("no student HTML book: see test_student_edition_is_written")
    return html_dir

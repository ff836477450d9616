"""Write an nbgrader course from the chapters: ``make grading``.

    .venv/bin/python tools/grading.py --out _build/grading [--chapters l2 hard ...]
                                      [--exercises-only]

From the same single source as the book and the student edition (``CONTRIBUTING.md``,
"Exercises"), ``<out>`` becomes an nbgrader course directory:

* ``nbgrader_config.py``: the course id, ``CourseDirectory.root``, the solution delimiters
  (``BEGIN SOLUTION``/``END SOLUTION``, contained in the book's ``# BEGIN SOLUTION`` markers)
  and the stubs that replace them;
* ``source/<chapter>/<chapter>.ipynb`` per chapter: the chapter's notebook where

  - every solution cell (tag ``solution``) is an nbgrader solution cell (its
    ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` regions become the stub in the release);
  - every check cell (tag ``check``) becomes an autograded test cell that runs the visible
    self-check with ``quiet=True`` and asserts its verdict (printing its message), followed
    by a test cell whose content is all hidden (``### BEGIN HIDDEN TESTS``): the student's
    function against the library's reference on random inputs that the self-check never
    uses (:data:`HIDDEN`);
  - every derivation and experiment exercise is followed by a manually graded markdown
    answer cell;
  - ``{solution}`` blocks and instructor-only cells are removed, and the library answers of
    the chapter's own exercises are not imported by name (as in the student edition);
  - every other cell is read-only (``editable``/``deletable`` false; not graded).

Points (:func:`points`): a code exercise gets :data:`VISIBLE_POINTS` for its self-check and
:data:`HIDDEN_POINTS` for the hidden cases (all of it on the self-check when the check has no
hidden cases yet); a derivation or an experiment gets :data:`WRITTEN_POINTS`, graded by hand.

Then, in ``<out>``::

    nbgrader generate_assignment <chapter> --force   # release/<chapter>/: no solutions
    nbgrader autograde <chapter> --force             # grades submitted/<student>/<chapter>/

``--exercises-only`` keeps of each chapter only its first code cell (the imports and the
setup), the markdown cells that hold exercises, and the exercise cells: a short notebook that
autogrades in seconds (the tests use it); the default is the whole chapter.
"""

from __future__ import annotations

import argparse
import ast
import copy
import shutil
import sys
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import homework  # noqa: E402  (tools/homework.py: build tooling, not the weightreg package)
from hidden_cases import _HIDDEN_COMPARE, HIDDEN  # noqa: E402

COURSE_ID = "weightreg"
VISIBLE_POINTS = 3
"""Points of a code exercise's visible self-check."""
HIDDEN_POINTS = 2
"""Points of a code exercise's hidden cases (added to the visible ones when there are none)."""
WRITTEN_POINTS = 5
"""Points of a derivation or an experiment exercise (graded by hand)."""
CODE_STUB = (  # nbgrader's course-wide stub: only for a solution cell without a "# STUDENT:" line
    'raise NotImplementedError("Replace this line with your code: '
    'the # STUDENT: line at the top of this cell says what to implement.")'
)
TEXT_STUB = "Write your answer here."
SCHEMA = 3


def points(kind: str | None, *, hidden: bool = False) -> int:
    """The points of an exercise of ``kind``; for code, of its visible or hidden test cell."""
    if kind == "code":
        return HIDDEN_POINTS if hidden else VISIBLE_POINTS
    return WRITTEN_POINTS


# --------------------------------------------------------------------------- the notebook


def _nbgrader(
    grade_id: str, *, solution: bool, grade: bool, locked: bool, pts: int | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA,
        "solution": solution,
        "task": False,
    }
    if pts is not None:
        meta["points"] = pts
    return meta


def _read_only(cell: Any) -> Any:
    cell.metadata["editable"] = False
    cell.metadata["deletable"] = False
    return cell


def _check_calls(source: str) -> list[tuple[str, str]]:
    """``(check name, argument text)`` of every ``check.<name>(...)`` call of a check cell."""
    calls = []
    for node in ast.walk(ast.parse(source)):
        f = node.func if isinstance(node, ast.Call) else None
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "check":
            args = [ast.unparse(a) for a in node.args]  # type: ignore[union-attr]
            args += [ast.unparse(k) for k in node.keywords]  # type: ignore[union-attr]
            calls.append((f.attr, ", ".join(args)))
    return calls


def _split_exercises(text: str) -> list[tuple[str, homework.Exercise | None]]:
    """A markdown text cut after each exercise block: ``[(text, exercise ending it or None)]``."""
    lines = text.split("\n")
    cuts = []
    for block in homework._blocks(lines):
        if block.name == "exercise":
            ex = homework.parse_exercises("\n".join(lines[block.start : block.end + 1]))[0]
            cuts.append((block.end, ex))
    pieces, start = [], 0
    for end, ex in cuts:
        pieces.append(("\n".join(lines[start : end + 1]), ex))
        start = end + 1
    rest = "\n".join(lines[start:])
    if rest.strip():
        pieces.append((rest, None))
    return [(t.strip("\n"), ex) for t, ex in pieces if t.strip()]


def grading_notebook(
    nb: Any, *, where: str = "notebook", exercises_only: bool = False
) -> tuple[Any, list[dict[str, Any]]]:
    """The nbgrader source notebook of a chapter's notebook, and its graded items.

    Each item is ``{"label", "kind", "cell", "points"}`` (one per graded cell). ``nb`` itself
    is not changed. Raises :class:`homework.HomeworkError` as the student edition does.
    """
    homework.student_notebook(nb, where=where)  # validates the conventions
    items = graded_cells(homework.notebook_chapter(nb, where))
    grades = {item["cell"]: item["points"] for item in items}
    nb = copy.deepcopy(nb)
    nb.metadata.pop("jupytext", None)
    nb.cells = [
        c
        for c in nb.cells
        if not (c.cell_type == "code" and homework.INSTRUCTOR_ONLY in homework._tags(c))
    ]
    homework.hide_answers(nb, where=where)
    cells: list[Any] = []
    label = ""
    first_code = True
    n_solution = 0
    for n, cell in enumerate(nb.cells, start=1):
        tags = homework._tags(cell) if cell.cell_type == "code" else []
        if cell.cell_type == "markdown":
            text = homework.strip_solution_blocks(cell.source, where=f"{where}, cell {n}")
            for piece, ex in _split_exercises(text):
                if exercises_only and ex is None:
                    continue
                cells.append(_read_only(nbformat.v4.new_markdown_cell(piece)))
                if ex is None:
                    continue
                label = ex.label
                if f"{label}-answer" in grades:
                    answer = nbformat.v4.new_markdown_cell(TEXT_STUB)
                    gid = f"{label}-answer"
                    answer.metadata["nbgrader"] = _nbgrader(
                        gid, solution=True, grade=True, locked=False, pts=grades[gid]
                    )
                    cells.append(answer)
        elif homework.SOLUTION_TAG in tags:
            n_solution += 1
            gid = f"{label or 'exercise'}-solution-{n_solution}"
            new = nbformat.v4.new_code_cell(cell.source)
            new.metadata["nbgrader"] = _nbgrader(gid, solution=True, grade=False, locked=False)
            cells.append(new)
        elif homework.CHECK_TAG in tags:
            if f"{label}-visible" not in grades:
                raise homework.HomeworkError(
                    f"{where}, cell {n}: a check cell that follows no code exercise"
                )
            cells += _test_cells(cell.source, label, grades)
        elif cell.cell_type == "code":
            if exercises_only and not first_code:
                continue
            first_code = False
            cells.append(_read_only(nbformat.v4.new_code_cell(cell.source)))
        else:  # raw cells
            if not exercises_only:
                cells.append(_read_only(copy.deepcopy(cell)))
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    nb.cells = cells
    nbformat.validate(nb)
    return nb, items


def _test_cells(source: str, label: str, grades: dict[str, int]) -> list[Any]:
    """The test cells of the check cell ``source`` of exercise ``label``: the visible
    self-check, and the hidden cases if :func:`graded_cells` gave the exercise a hidden cell
    (``grades``: ``{grade id: points}``)."""
    calls = _check_calls(source)
    lines = ["# Autograded: the self-check of this exercise (run your function's cell first)."]
    hidden = []
    for name, args in calls:
        lines += [
            f"_verdict = check.{name}({args}, quiet=True)",
            "print(_verdict.message)",
            'assert _verdict, "the self-check did not pass: see the message above"',
        ]
        if name in HIDDEN:
            fn = args.split(",")[0].strip()
            hidden.append(HIDDEN[name].format(fn=fn))
    visible = nbformat.v4.new_code_cell("\n".join(lines))
    gid = f"{label}-visible"
    visible.metadata["nbgrader"] = _nbgrader(
        gid, solution=False, grade=True, locked=True, pts=grades[gid]
    )
    out = [visible]
    gid = f"{label}-hidden"
    if gid in grades:
        body = "\n".join(
            [
                "# Hidden tests: your function on cases you do not see (graded).",
                "### BEGIN HIDDEN TESTS",
                _HIDDEN_COMPARE + "\n".join(hidden).rstrip("\n"),
                "### END HIDDEN TESTS",
            ]
        )
        cell = nbformat.v4.new_code_cell(body)
        cell.metadata["nbgrader"] = _nbgrader(
            gid, solution=False, grade=True, locked=True, pts=grades[gid]
        )
        out.append(cell)
    return out


# --------------------------------------------------------------------------- the course

_CONFIG = """\
# Written by tools/grading.py (make grading) from the book's chapters: edit those, not this.
import sys

sys.path.insert(0, {root!r})
from exercise_stubs import ExerciseStubs  # noqa: E402  (nbgrader's ClearSolutions, per-cell stub)
from nbgrader.preprocessors import (  # noqa: E402
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ComputeChecksums,
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
    SaveCells,
)

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course!r}
c.CourseDirectory.root = {root!r}
# nbgrader's own list (nbgrader 0.9.6, GenerateAssignment.preprocessors) with ClearSolutions
# replaced by ExerciseStubs: each code stub says what its exercise's "# STUDENT:" line says.
c.GenerateAssignment.preprocessors = [
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
    ExerciseStubs,
    ClearOutput,
    CheckCellMetadata,
    ComputeChecksums,
    SaveCells,
    ClearHiddenTests,
    ClearMarkScheme,
    ComputeChecksums,
    CheckCellMetadata,
]
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearSolutions.code_stub = {{"python": {stub!r}}}
c.ClearSolutions.text_stub = {text!r}
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"
"""


def chapter_map(root: Path) -> dict[str, str]:
    """``{chapter stem: docname}`` of every chapter (the stem is the assignment's name)."""
    return {Path(d).name: d for d in homework.chapter_docnames(root)}


def write_course(
    root: Path, out: Path, chapters: list[str] | None = None, *, exercises_only: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """Write the nbgrader course into ``out``; ``{chapter: graded items}`` (see the module doc).

    ``chapters`` are stems (``l2``) or docnames (``book/lk/l2``); default: every chapter with
    exercises.
    """
    out = out.resolve()
    names = chapter_map(root)
    wanted = chapters or list(names)
    result: dict[str, list[dict[str, Any]]] = {}
    for name in wanted:
        stem = Path(name).name
        if stem not in names:
            raise homework.HomeworkError(f"no chapter {name!r}; chapters: {', '.join(names)}")
        nb = homework.read_page(homework.page_path(root, names[stem]))
        graded, items = grading_notebook(nb, where=names[stem], exercises_only=exercises_only)
        if not items:
            continue
        target = out / "source" / stem / f"{stem}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(graded, target)
        result[stem] = items
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "tools" / "exercise_stubs.py", out / "exercise_stubs.py")
    (out / "nbgrader_config.py").write_text(
        _CONFIG.format(course=COURSE_ID, root=str(out), stub=CODE_STUB, text=TEXT_STUB)
    )
    return result


def graded_cells(chapter: homework.Chapter) -> list[dict[str, Any]]:
    """The graded cells of a chapter's course notebook, ``{"label", "kind", "cell",
    "points"}`` each, in order: the one decision of which cells are graded and with how many
    points, which :func:`grading_notebook` builds. Read from the chapter's exercises and
    checks alone (``homework.read_chapter``), so it also works on the student edition's pages,
    which have no solutions (the instructors' page runs there too)."""
    items: list[dict[str, Any]] = []

    def cell(ex: homework.Exercise, part: str, pts: int) -> None:
        items.append(
            {"label": ex.label, "kind": ex.kind, "cell": f"{ex.label}-{part}", "points": pts}
        )

    for ex in chapter.exercises:
        if ex.kind != "code":
            cell(ex, "answer", points(ex.kind))
            continue
        hidden = any(c in HIDDEN for c in chapter.exercise_checks.get(ex.label, ()))
        cell(ex, "visible", points(ex.kind) + (0 if hidden else points(ex.kind, hidden=True)))
        if hidden:
            cell(ex, "hidden", points(ex.kind, hidden=True))
    return items


def exercise_points(chapters: list[homework.Chapter]) -> dict[str, tuple[int, str]]:
    """``{exercise label: (points, how they are earned)}`` of every exercise of ``chapters``
    (:func:`graded_cells`): a code exercise ``(5, "3 + 2")`` (self-check + hidden cases), a
    derivation or an experiment ``(5, "by hand")``. The instructors' page puts them next to
    the time estimates."""
    out: dict[str, tuple[int, str]] = {}
    for chapter in chapters:
        per: dict[str, dict[str, int]] = {}
        for item in graded_cells(chapter):
            per.setdefault(item["label"], {})[item["cell"].rsplit("-", 1)[1]] = item["points"]
        for label, parts in per.items():
            if "answer" in parts:
                out[label] = (parts["answer"], "by hand")
            else:
                visible, hidden = parts["visible"], parts.get("hidden", 0)
                out[label] = (visible + hidden, f"{visible} + {hidden}")
    return out


def points_table(items: dict[str, list[dict[str, Any]]]) -> str:
    """One line per exercise: its label, kind and points, with the autograded split for code."""
    lines = []
    for chapter, graded in items.items():
        per: dict[str, list[dict[str, Any]]] = {}
        for item in graded:
            per.setdefault(item["label"], []).append(item)
        for label, cells in per.items():
            total = sum(c["points"] for c in cells)
            kind = cells[0]["kind"]
            split = {c["cell"].rsplit("-", 1)[1]: c["points"] for c in cells}
            detail = (
                f" ({split.get('visible', 0)} self-check + {split.get('hidden', 0)} hidden)"
                if kind == "code"
                else " (graded by hand)"
            )
            lines.append(f"  {chapter}: {label} [{kind}] {total} points{detail}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the book's root folder")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "grading")
    parser.add_argument("--chapters", nargs="*", help="chapter names (default: all)")
    parser.add_argument(
        "--exercises-only", action="store_true", help="keep only the setup and the exercises"
    )
    args = parser.parse_args(argv)
    try:
        items = write_course(
            args.root.resolve(), args.out, args.chapters, exercises_only=args.exercises_only
        )
    except homework.HomeworkError as exc:
        print(f"make grading: {exc}", file=sys.stderr)
        return 1
    print(f"wrote the nbgrader course for {len(items)} chapters to {args.out}")
    print(points_table(items))
    print(f"then: cd {args.out} && nbgrader generate_assignment <chapter> --force")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``make grading`` end to end: the real nbgrader on three chapters (``tools/grading.py``).

The course is written with ``--exercises-only`` (each chapter's setup cell, its exercise text
and its exercise cells), so that autograding nine submissions takes seconds per notebook
instead of executing three whole chapters nine times.  For each chapter:
``nbgrader generate_assignment`` (no line of a reference solution in the release), three
simulated submissions made from the release (the reference solution; a typical mistake that
the self-check catches and the hidden cases, which test values only, do not; the untouched
stub), ``nbgrader autograde``, and the exact scores read from the gradebook.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import homework  # tools/homework.py (conftest.py puts tools/ on the path)
import nbformat
import pytest
from conftest import load_tool
from leaks import all_text, lines, solution_lines

ROOT = Path(__file__).resolve().parents[1]


def _grading_tool():
    return load_tool("grading")


# chapter -> (the code exercise's label, a typical mistake: the solution cell's new source)
MISTAKES = {
    "l2": (
        "ex-l2-lk-grad",
        # NaN at w == 0 for k < 1: the self-check has zeros, the hidden cases do not
        "def my_lk_grad(w, k, alpha):\n"
        "    return alpha * k * torch.sign(w) * w.abs() ** (k - 1) / w.numel()\n",
    ),
    "hard": (
        "ex-hard-code",
        # a point inside is moved too (always rescaled); the hidden points are all outside
        "def my_project_l2_ball(w, radius):\n    return w * (radius / w.norm())\n",
    ),
    "noise": (
        "ex-noise-shift",
        # hands back the input itself at a shift of 0 (the hidden cases never shift by 0)
        "def my_shift(images, dx, dy):\n"
        "    if dx == 0 and dy == 0:\n"
        "        return images\n"
        "    h, w = images.shape[-2:]\n"
        "    out = images.new_zeros(images.shape)\n"
        "    kept = images[:, max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)]\n"
        "    out[:, max(dy, 0) : h - max(-dy, 0), max(dx, 0) : w - max(-dx, 0)] = kept\n"
        "    return out\n",
    ),
}
# student -> the expected score of (visible, hidden) test cells of the code exercise
EXPECTED = {"reference": (3.0, 2.0), "mistake": (0.0, 2.0), "stub": (0.0, 0.0)}


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and "ERROR" not in proc.stderr, proc.stderr[-4000:]
    return proc


def _solution_lines(source: str) -> list[str]:
    lines, inside = [], False
    for line in source.split("\n"):
        if line.strip() == "# BEGIN SOLUTION":
            inside = True
        elif line.strip() == "# END SOLUTION":
            inside = False
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


def _submit(release: Path, target: Path, solutions: dict[str, str], answer: str = "") -> None:
    """Write ``release`` to ``target`` with the solution cells' sources from ``solutions``
    and, if ``answer``, that text in every written-answer cell."""
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution") and meta["grade_id"] in solutions:
            cell.source = solutions[meta["grade_id"]]
        if cell.cell_type == "markdown" and meta.get("solution") and answer:
            cell.source = answer
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


def test_nbgrader_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    grading = _grading_tool()
    course = tmp_path / "course"
    items = grading.write_course(ROOT, course, list(MISTAKES), exercises_only=True)
    assert set(items) == set(MISTAKES)
    config = (course / "nbgrader_config.py").read_text()
    assert "BEGIN SOLUTION" in config and "NotImplementedError" in config
    _nbgrader(course, "generate_assignment", "*", "--force")  # every chapter
    submitted = course / "submitted"
    written: dict[str, list[str]] = {}
    for chapter, (label, mistake) in MISTAKES.items():
        source = nbformat.read(course / "source" / chapter / f"{chapter}.ipynb", as_version=4)
        graded = {
            c.metadata["nbgrader"]["grade_id"]: c for c in source.cells if "nbgrader" in c.metadata
        }
        assert graded[f"{label}-visible"].metadata["nbgrader"]["points"] == 3
        assert graded[f"{label}-hidden"].metadata["nbgrader"]["points"] == 2
        written[chapter] = [g for g in graded if g.endswith("-answer")]
        assert written[chapter], f"{chapter}: no manually graded answer cell"
        assert all(graded[g].metadata["nbgrader"]["points"] == 5 for g in written[chapter])
        for c in source.cells:
            if "nbgrader" not in c.metadata:
                assert c.metadata["editable"] is False and c.metadata["deletable"] is False
        solutions = {
            g: c.source
            for g, c in graded.items()
            if c.metadata["nbgrader"]["solution"] and c.cell_type == "code"
        }
        (solution_id,) = solutions

        release = course / "release" / chapter / f"{chapter}.ipynb"
        text = release.read_text()
        leaked = [line for line in _solution_lines(solutions[solution_id]) if line in text]
        assert not leaked, f"{chapter}: the release shows solution lines {leaked}"
        assert "BEGIN HIDDEN TESTS" not in text and "_hidden_compare" not in text
        # the stub repeats the exercise's own "# STUDENT:" message (tools/exercise_stubs.py)
        message = solutions[solution_id].split("\n", 1)[0].removeprefix("# STUDENT:").strip()
        assert f'raise NotImplementedError("{message}")' in all_text(nbformat.read(release, 4))

        name = release.name
        _submit(release, submitted / "reference" / chapter / name, solutions, "My answer.")
        _submit(release, submitted / "mistake" / chapter / name, {solution_id: mistake})
        _submit(release, submitted / "stub" / chapter / name, {})
    _nbgrader(course, "autograde", "*", "--force")  # every chapter, every student

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", grading.COURSE_ID) as gb:
        for chapter, (label, _) in MISTAKES.items():
            for student, (visible, hidden) in EXPECTED.items():
                got = tuple(
                    gb.find_grade(f"{label}-{part}", chapter, chapter, student).score
                    for part in ("visible", "hidden")
                )
                assert got == (visible, hidden), f"{chapter}, {student}: {got}"
                submission = gb.find_submission(chapter, student)
                assert submission.code_score == visible + hidden, (chapter, student)
                # written answers: to grade by hand when written, 0 when left as the stub
                assert submission.needs_manual_grade == (student == "reference")
                for answer in written[chapter]:
                    grade = gb.find_grade(answer, chapter, chapter, student)
                    assert grade.max_score == 5
                    if student != "reference":
                        assert grade.score == 0, (chapter, student, answer)


# --------------------------------------------------------------------------- every chapter

DOCNAMES = homework.chapter_docnames(ROOT)


@pytest.fixture(scope="module")
def full_course(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The course of every whole chapter, released by the real ``generate_assignment``."""
    course = tmp_path_factory.mktemp("full") / "course"
    items = _grading_tool().write_course(ROOT, course)
    _nbgrader(course, "generate_assignment", "*", "--force")
    return course, items


def _release(course: Path, docname: str):
    stem = Path(docname).name
    return nbformat.read(course / "release" / stem / f"{stem}.ipynb", as_version=4)


def test_every_chapter_is_released(full_course) -> None:
    course, items = full_course
    assert sorted(items) == sorted(Path(d).name for d in DOCNAMES)
    for docname in DOCNAMES:
        assert _release(course, docname).cells, docname


@pytest.mark.parametrize("docname", DOCNAMES)
def test_release_shows_no_solution(full_course, docname: str) -> None:
    """The whole-chapter release shows no line of the chapter's solutions (``tests/leaks.py``:
    the student edition's rule), no hidden test, no output."""
    course, _ = full_course
    release = _release(course, docname)
    secrets = solution_lines(homework.read_page(homework.page_path(ROOT, docname)))
    assert secrets, f"{docname}: found no solution text to look for"
    text = all_text(release)
    assert sorted(secrets & lines(text)) == [], f"{docname}: the release shows solution lines"
    for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "_hidden_compare", "{solution}"):
        assert marker not in text, f"{docname}: the release contains {marker!r}"
    assert all(not c.get("outputs") for c in release.cells if c.cell_type == "code")


@pytest.mark.parametrize("docname", DOCNAMES)
def test_release_stubs_are_the_student_editions(full_course, docname: str) -> None:
    """One stub writer: the exercise cells of nbgrader's release are, character for
    character, the stubs of the student edition (``tools/exercise_stubs.py``)."""
    course, _ = full_course
    release = _release(course, docname)
    student = homework.student_notebook(homework.read_page(homework.page_path(ROOT, docname)))
    expected = [
        c.source
        for c in student.cells
        if c.cell_type == "code" and homework.SOLUTION_TAG in c.metadata.get("tags", [])
    ]
    released = [
        c.source
        for c in release.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    ]
    assert expected and released == expected
    assert all("raise NotImplementedError(" in s and "# STUDENT:" in s for s in released)


def test_every_code_exercise_has_a_self_check_and_hidden_cases(full_course) -> None:
    """Each code exercise: a visible self-check cell (3 points) and a hidden cell (2 points);
    each derivation and experiment: an answer cell graded by hand (5 points)."""
    course, items = full_course
    grading = _grading_tool()
    missing = []
    for docname in DOCNAMES:
        chapter = homework.read_chapter(ROOT, docname)
        graded = {i["cell"]: i for i in items[Path(docname).name]}
        for ex in chapter.exercises:
            if ex.kind == "code":
                if f"{ex.label}-hidden" not in graded:
                    missing.append(ex.label)
                    continue
                assert graded[f"{ex.label}-visible"]["points"] == grading.VISIBLE_POINTS
                assert graded[f"{ex.label}-hidden"]["points"] == grading.HIDDEN_POINTS
            else:
                assert graded[f"{ex.label}-answer"]["points"] == grading.WRITTEN_POINTS
    assert missing == [], f"code exercises without hidden cases (tools/hidden_cases.py): {missing}"


def test_the_release_uses_nbgraders_preprocessors_with_one_replaced(tmp_path: Path) -> None:
    """The course config runs nbgrader's own ``GenerateAssignment`` preprocessors, in nbgrader's
    order, with only ``ClearSolutions`` replaced by its subclass ``ExerciseStubs``."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.preprocessors import ClearSolutions
    from traitlets.config.loader import PyFileConfigLoader

    _grading_tool().write_course(ROOT, tmp_path, ["l2"], exercises_only=True)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    ours = list(config.GenerateAssignment.preprocessors)
    default = GenerateAssignment.class_traits()["preprocessors"].default()
    assert [p.__name__ for p in ours] == [
        "ExerciseStubs" if p is ClearSolutions else p.__name__ for p in default
    ]
    stubs = next(p for p in ours if p.__name__ == "ExerciseStubs")
    assert issubclass(stubs, ClearSolutions)


def test_a_whole_chapter_autogrades_to_full_marks(tmp_path: Path, monkeypatch) -> None:
    """The test cells also work after a whole chapter has run in the kernel (its names, its
    dtype, its imports): the reference solutions of ``l2_eigen`` (the quickest chapter to
    execute) get every autograded point. (Every chapter was checked this way by hand once:
    the closing note of issue 14.)"""
    grading = _grading_tool()
    course = tmp_path / "course"
    items = grading.write_course(ROOT, course, ["l2_eigen"])
    _nbgrader(course, "generate_assignment", "l2_eigen", "--force")
    source = nbformat.read(course / "source" / "l2_eigen" / "l2_eigen.ipynb", as_version=4)
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    }
    release = course / "release" / "l2_eigen" / "l2_eigen.ipynb"
    _submit(release, course / "submitted" / "reference" / "l2_eigen" / "l2_eigen.ipynb", solutions)
    _nbgrader(course, "autograde", "l2_eigen", "--force")
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    from nbgrader.api import Gradebook

    code = [i for i in items["l2_eigen"] if i["kind"] == "code"]
    assert code
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", grading.COURSE_ID) as gb:
        for item in code:
            grade = gb.find_grade(item["cell"], "l2_eigen", "l2_eigen", "reference")
            assert grade.score == item["points"], (item["cell"], grade.score)
        submission = gb.find_submission("l2_eigen", "reference")
        assert submission.code_score == sum(i["points"] for i in code)


def test_the_points_listed_are_the_points_graded(full_course) -> None:
    """The graded cells of every course notebook (nbgrader's metadata, as written) are
    exactly ``graded_cells`` of its chapter, and ``exercise_points`` (the instructors' table)
    adds them up per exercise."""
    course, items = full_course
    grading = _grading_tool()
    chapters = homework.book_chapters(ROOT)
    graded: dict[str, int] = {}
    for chapter in chapters:
        stem = Path(chapter.docname).name
        source = nbformat.read(course / "source" / stem / f"{stem}.ipynb", as_version=4)
        written = [
            (c.metadata["nbgrader"]["grade_id"], c.metadata["nbgrader"]["points"])
            for c in source.cells
            if c.metadata.get("nbgrader", {}).get("grade")
        ]
        expected = grading.graded_cells(chapter)
        assert written == [(i["cell"], i["points"]) for i in expected], chapter.docname
        assert items[stem] == expected
        for item in expected:
            graded[item["label"]] = graded.get(item["label"], 0) + item["points"]
    listed = grading.exercise_points(chapters)
    assert {label: pts for label, (pts, _) in listed.items()} == graded

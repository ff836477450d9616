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

import nbformat
import pytest
from conftest import load_tool

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
        assert "Replace this line with your code" in text

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

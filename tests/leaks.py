"""What counts as a leak of a reference solution: shared by the student-edition and the
nbgrader tests (``tests/test_student.py``, ``tests/test_grading.py``).

A *solution line* is a line of a chapter's reference solutions (the ``# BEGIN SOLUTION``
regions, the instructor-only cells, the ``{solution}`` blocks) that occurs nowhere else in
the chapter (``return out`` is in solutions and in the chapter's own code) and says something
(at least 8 characters, 3 word characters, not a comment). A handout leaks when it contains
one as a whole line.
"""

from __future__ import annotations

import re

import homework  # tools/homework.py (conftest.py puts tools/ on the path)


def solution_lines(nb, public: frozenset[str] = frozenset()) -> set[str]:
    """Lines of the reference solutions that occur nowhere else in the chapter, nor in
    ``public`` (lines that the book shows outside its solutions anyway)."""
    inside, outside = split_lines(nb)
    distinctive = inside - outside - public
    return {
        line
        for line in distinctive
        if len(re.findall(r"\w", line)) >= 3 and not line.startswith("#") and len(line) >= 8
    }


def split_lines(nb) -> tuple[set[str], set[str]]:
    """(lines inside the solutions, lines outside them) of one page, stripped."""
    inside, outside = set(), set()
    for cell in nb.cells:
        lines = cell.source.split("\n")
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and homework.INSTRUCTOR_ONLY in tags:
            inside.update(line.strip() for line in lines)  # e.g. numbers quoted in a solution
        elif cell.cell_type == "code" and homework.SOLUTION_TAG in tags:
            region = False
            for line in lines:
                marker = line.strip()
                if marker in (homework.BEGIN, homework.END):
                    region = marker == homework.BEGIN
                    continue
                (inside if region else outside).add(marker)
        elif cell.cell_type == "markdown":
            kept = set(homework.strip_solution_blocks(cell.source).split("\n"))
            for line in lines:
                (outside if line in kept else inside).add(line.strip())
        else:
            outside.update(line.strip() for line in lines)
    return inside, outside


def lines(text: str) -> set[str]:
    """The stripped lines of ``text``: solution lines are looked for as whole lines."""
    return {line.strip() for line in text.split("\n")}


def all_text(nb) -> str:
    return "\n".join(cell.source for cell in nb.cells)

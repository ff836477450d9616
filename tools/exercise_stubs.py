"""The stubs of the code exercises, written by nbgrader: one tool for both student notebooks.

A reference solution cell (``CONTRIBUTING.md``, "Exercises") starts with
``# STUDENT: <what to implement>`` and marks its answer with ``# BEGIN SOLUTION`` ...
``# END SOLUTION``. The region is replaced by nbgrader's own ``ClearSolutions`` preprocessor
(the one ``nbgrader generate_assignment`` runs), through :class:`ExerciseStubs`, which differs
from it in one thing: the stub of a code cell is ``raise NotImplementedError("<message>")``
with the message of that cell's ``# STUDENT:`` line (nbgrader's ``code_stub`` is one line for
the whole course). So the notebooks of ``make student`` (:func:`stub_source`, used by
``tools/homework.py``) and the release of ``make grading`` (``nbgrader_config.py`` registers
:class:`ExerciseStubs` in place of ``ClearSolutions``) show the same stub, written by the same
code; ``tests/test_grading.py`` compares them cell by cell.

Build tooling: copied next to the course's ``nbgrader_config.py`` by ``tools/grading.py``.
"""

from __future__ import annotations

from typing import Any

import nbformat
from nbgrader.preprocessors import ClearSolutions

STUDENT = "# STUDENT:"
BEGIN_DELIMITER = "BEGIN SOLUTION"
END_DELIMITER = "END SOLUTION"


def _string_literal(message: str) -> str:
    if '"' not in message and "\\" not in message:
        return f'"{message}"'
    return repr(message)


def stub_line(message: str) -> str:
    """The line that replaces a solution region: ``raise NotImplementedError("<message>")``."""
    return f"raise NotImplementedError({_string_literal(message)})"


def student_message(source: str) -> str | None:
    """The message of a solution cell's first line ``# STUDENT: <message>``, or None."""
    first = source.split("\n", 1)[0]
    if not first.startswith(STUDENT):
        return None
    return first[len(STUDENT) :].strip() or None


class ExerciseStubs(ClearSolutions):
    """nbgrader's ``ClearSolutions`` whose code stub, in a cell that starts with
    ``# STUDENT: <message>``, is ``raise NotImplementedError("<message>")``; other cells get
    the course's ``code_stub`` as in nbgrader."""

    def preprocess_cell(
        self, cell: Any, resources: dict[str, Any], cell_index: int
    ) -> tuple[Any, dict[str, Any]]:
        message = student_message(cell.source) if cell.cell_type == "code" else None
        if message is None:
            return super().preprocess_cell(cell, resources, cell_index)
        course_stub = self.code_stub
        self.code_stub = {**course_stub, resources["language"]: stub_line(message)}
        try:
            return super().preprocess_cell(cell, resources, cell_index)
        finally:
            self.code_stub = course_stub


def stub_source(source: str) -> str:
    """``source`` of a solution cell with each solution region replaced by its stub, as
    :class:`ExerciseStubs` writes it in the release (the caller validates the markers)."""
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "stub"}
    clear = ExerciseStubs(
        begin_solution_delimeter=BEGIN_DELIMITER, end_solution_delimeter=END_DELIMITER
    )
    cell, _ = clear.preprocess_cell(cell, {"language": "python"}, 0)
    return cell.source

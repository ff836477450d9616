"""Homework: the exercises of each chapter, and the student edition made from the same source.

Build tooling, not part of the ``weightreg`` package that the chapters import (so editing it
re-executes no chapter): used by ``tools/student.py`` (``make student``), by the instructor
page (``book/reference/instructors.md``, which puts ``tools/`` on its path to build its tables
from the chapters' sources) and by the tests. One source per chapter gives both editions,
following the conventions of ``CONTRIBUTING.md``:

* an exercise is a sphinx-exercise block ``:::{exercise} Title [kind]`` with a ``:label:``;
  ``kind`` is one of :data:`KINDS`, and its text states a time estimate ``*Time: 15 min.*``;
* a markdown solution is a ``{solution}`` block (colon or backtick fence of any length >= 3);
  the student edition removes it;
* the reference solution of a code exercise is a code cell tagged ``solution``: its first line
  is ``# STUDENT: <message>``, and the lines between ``# BEGIN SOLUTION`` and
  ``# END SOLUTION`` become ``raise NotImplementedError("<message>")`` at the same indentation
  in the student edition;
* the next code cell, tagged ``check``, calls a self-check ``check.<name>(...)`` from
  :mod:`weightreg.check`; the student edition adds the tag ``raises-exception`` to it, since
  with the stub in place the check raises ``NotImplementedError``;
* a code cell tagged ``instructor-only``, or a directive with ``:class: instructor-only``
  (e.g. a ``{literalinclude}`` of the helper a code exercise asks for), is left out of the
  student edition; a code cell that computes only numbers quoted in ``{solution}`` blocks
  belongs to the solution and is tagged so (``[remove-cell, instructor-only]``;
  :func:`solution_only_cells` finds the ones that are not);
* the student edition does not import by name the library functions that answer the
  chapter's own exercises (:data:`ANSWERS`): :func:`hide_answers` writes them in full
  (``weightreg.penalties.prox_l1(z, t)``) in the chapter's cells.

Everything here reads text; nothing is executed.
"""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import io
import pkgutil
import re
import sys
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BEGIN",
    "CHECK_TAG",
    "END",
    "KINDS",
    "READING",
    "RAISES_TAG",
    "SOLUTION_TAG",
    "STUB_MARKER",
    "STUDENT",
    "Chapter",
    "Exercise",
    "HomeworkError",
    "INSTRUCTOR_ONLY",
    "ANSWERS",
    "answer_imports",
    "available_checks",
    "book_chapters",
    "chapter_docnames",
    "check_calls",
    "checks_markdown",
    "exercise_table",
    "find_root",
    "glue_references",
    "glued_keys",
    "notebook_chapter",
    "solution_only_cells",
    "hidden_answers",
    "hide_answers",
    "page_path",
    "parse_exercises",
    "Solution",
    "parse_solutions",
    "plain_title",
    "read_chapter",
    "read_page",
    "strip_solution_blocks",
    "time_range",
    "student_notebook",
    "stub_solution",
    "toc_docnames",
]

KINDS = ("derivation", "code", "experiment")
"""The three kinds of exercise, written at the end of an exercise's title: ``[code]``."""

SOLUTION_TAG = "solution"
"""Tag of a code cell that holds a reference solution."""
CHECK_TAG = "check"
"""Tag of the code cell that calls the self-check of the solution cell before it."""
RAISES_TAG = "raises-exception"
"""Tag added to check cells in the student edition: their ``NotImplementedError`` is expected."""
STUDENT = "# STUDENT:"
"""First line of a solution cell: ``# STUDENT: <what to implement>``."""
BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
INSTRUCTOR_ONLY = "instructor-only"
"""Tag of a code cell, or class of a directive, that the student edition removes."""
STUB_MARKER = "This chapter is being written."
"""Text of a chapter that has no content yet (exempt from the exercise rules)."""

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
_DIRECTIVE = re.compile(r"^\s*\{(?P<name>[\w:.-]+)\}\s*(?P<arg>.*?)\s*$")
# Directives whose body is not markdown: do not look for blocks inside them.
_LITERAL_DIRECTIVES = {"code-block", "code", "sourcecode", "code-cell", "math", "raw", "eval-rst"}
_KIND = re.compile(r"\s*\[(?P<kind>[a-z]+)\]\s*$")
_TIME = re.compile(r"Time:\s*(?P<minutes>\d+)\s*min", re.IGNORECASE)
READING = re.compile(r"\{chapter-time\}`(?P<minutes>\d+)`")
"""A chapter's reading time, the one source of every time estimate of the book: the
overview's ``**Time**: {chapter-time}`45```, which the book's Sphinx extension renders with
the exercise minutes of the page added."""
_CHECK_CALL = re.compile(r"\bcheck\.(?P<name>[A-Za-z_]\w*)\s*\(")
_GATED = {"solution-start", "solution-end", "exercise-start", "exercise-end"}


class HomeworkError(ValueError):
    """A chapter breaks the homework conventions; the message says where and how."""


# --------------------------------------------------------------------------- code cells


def _exercise_stubs() -> Any:
    """``tools/exercise_stubs.py``: nbgrader's stub writer (imported on first use: it imports
    nbgrader, which the instructor page's tables do not need)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    return importlib.import_module("exercise_stubs")


def stub_solution(source: str, *, where: str = "a solution cell") -> str:
    """Return the student version of a solution cell's ``source``.

    The first line must be ``# STUDENT: <message>``; each region from a ``# BEGIN SOLUTION``
    line to the next ``# END SOLUTION`` line (both included) becomes one line
    ``raise NotImplementedError("<message>")`` indented like the ``BEGIN`` line. Everything
    else (the ``STUDENT`` line, the signature, the docstring) is kept. The markers are checked
    here; the replacement is nbgrader's (``tools/exercise_stubs.py``: the same code writes the
    stubs of the nbgrader release). ``where`` names the cell in error messages. Raises
    :class:`HomeworkError` when a marker is missing, unbalanced, misindented or misspelt, when
    another line contains a marker's words, or when the stubbed code is not valid Python.
    """
    lines = source.split("\n")
    if not lines[0].startswith(STUDENT):
        raise HomeworkError(f"{where}: the first line must be '{STUDENT} <what to implement>'")
    if not lines[0][len(STUDENT) :].strip():
        raise HomeworkError(f"{where}: the '{STUDENT}' line has no message")
    indent: str | None = None
    n_regions = 0
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker == BEGIN:
            if indent is not None:
                raise HomeworkError(f"{where}, line {number}: '{BEGIN}' inside another one")
            indent = line[: len(line) - len(line.lstrip())]
        elif marker == END:
            if indent is None:
                raise HomeworkError(f"{where}, line {number}: '{END}' without '{BEGIN}'")
            if line[: len(line) - len(line.lstrip())] != indent:
                raise HomeworkError(
                    f"{where}, line {number}: '{END}' is not indented like its '{BEGIN}'"
                )
            indent = None
            n_regions += 1
        elif marker.startswith("#") and marker.lstrip("# ").startswith(("BEGIN SOL", "END SOL")):
            raise HomeworkError(f"{where}, line {number}: misspelt marker {marker!r}")
        elif "BEGIN SOLUTION" in line or "END SOLUTION" in line:
            raise HomeworkError(
                f"{where}, line {number}: only a marker line may contain 'BEGIN SOLUTION' or "
                "'END SOLUTION' (nbgrader would take this line for one)"
            )
    if indent is not None:
        raise HomeworkError(f"{where}: '{BEGIN}' without '{END}'")
    if n_regions == 0:
        raise HomeworkError(f"{where}: no '{BEGIN}' ... '{END}' region")
    stub = _exercise_stubs().stub_source(source)
    try:
        compile(stub, where, "exec")
    except SyntaxError as exc:
        raise HomeworkError(f"{where}: the student stub is not valid Python ({exc})") from exc
    return stub


def check_calls(source: str) -> list[str]:
    """Names of the self-checks that ``source`` calls as ``check.<name>(...)``, in order."""
    return [m["name"] for m in _CHECK_CALL.finditer(source)]


# --------------------------------------------------------------------------- answers


ANSWERS: dict[str, tuple[str, ...]] = {
    "prox_l1": ("weightreg.penalties.prox_l1",),
    "lk_grad": ("weightreg.penalties.lk_grad", "weightreg.penalties.lk_grad_per_weight"),
    "flow_decay": ("weightreg.dynamics.flow_solution",),
    "project_l2_ball": (
        "weightreg.constraints.project_l2_ball",
        "weightreg.constraints.ball_projection",
    ),
    "sgdw_step": ("weightreg.optim.sgd_update_", "weightreg.optim.sgd_kernel_"),
    "adamw_step": ("weightreg.optim.adam_update_", "weightreg.optim.adam_kernel_"),
    "dropout_penalty": ("weightreg.dropout.dropout_penalty",),
    "ridge_loo": ("weightreg.selection.ridge_loo_residuals",),
    "decay_free_run": ("weightreg.normalization.exponential_lr_schedule",),
    "ema_weights": ("weightreg.timescale.ema_weights",),
}
"""For a self-check (``check.<name>``), the library functions that answer its exercise (by
their full names). A student notebook does not import them by name: :func:`student_notebook`
removes them from the chapter's ``from ... import`` lines and writes every use in the
chapter's cells with the full name (``weightreg.penalties.prox_l1(z, t)``), so that the
student's namespace holds no ``prox_l1`` to wrap. A function the exercise text tells the
student to use (``prox_lhalf``, ``gd_filter``) is not an answer."""


def hidden_answers(nb: Any) -> dict[str, str]:
    """``{name: module}`` of the library answers (:data:`ANSWERS`) of the notebook's checks."""
    hidden: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and CHECK_TAG in _tags(cell):
            for check in check_calls(cell.source):
                for full in ANSWERS.get(check, ()):
                    module, _, name = full.rpartition(".")
                    hidden[name] = module
    return hidden


def _parse(source: str, where: str) -> ast.Module | None:
    """The AST of a code cell, or None for a cell that is not plain Python (IPython magics)."""
    try:
        return ast.parse(source)
    except SyntaxError:
        if any(line.lstrip().startswith(("%", "!")) for line in source.split("\n")):
            return None
        raise HomeworkError(f"{where}: the cell is not valid Python") from None


def answer_imports(nb: Any) -> list[str]:
    """The imports of a notebook that bind an answer of one of its own exercises by name.

    ``from weightreg.penalties import prox_l1`` in a notebook that calls ``check.prox_l1``,
    one string per import found (``"cell 3: weightreg.penalties.prox_l1"``); a star import
    of an answer's module counts too. Empty for every student notebook.
    """
    hidden = hidden_answers(nb)
    modules = set(hidden.values())
    found = []
    for n, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        tree = _parse(cell.source, f"cell {n}")
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.ImportFrom) and node.module in modules:
                for alias in node.names:
                    if alias.name == "*" or hidden.get(alias.name) == node.module:
                        found.append(f"cell {n}: {node.module}.{alias.name}")
    return found


def _format_import(module: str, names: list[str], width: int = 99) -> str:
    one = f"from {module} import {', '.join(names)}"
    if len(one) <= width:
        return one
    return f"from {module} import (\n" + "".join(f"    {name},\n" for name in names) + ")"


def hide_answers(nb: Any, *, where: str = "notebook") -> Any:
    """The notebook with its exercises' library answers used by their full names (in place).

    Every ``from <module> import <answer>`` (:func:`hidden_answers`) loses the answer, and an
    ``import <module>`` takes its place; every other occurrence of the bare name in code
    (a call, a reference; not an attribute, a string or a comment) becomes
    ``<module>.<answer>``. Raises :class:`HomeworkError` when the notebook binds an answer's
    name otherwise (an assignment, a ``def``, ``import ... as``) or imports it from elsewhere.
    """
    hidden = hidden_answers(nb)
    if not hidden:
        return nb
    used: set[str] = set()  # modules of the answers written in full
    original: dict[int, set[str]] = {}  # cell number -> its lines before the rewriting
    for n, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        here = f"{where}, cell {n}"
        tree = _parse(cell.source, here)
        if tree is None:
            if any(re.search(rf"\b{re.escape(name)}\b", cell.source) for name in hidden):
                raise HomeworkError(f"{here}: uses an answer's name in a cell with magics")
            continue
        # 1. the imports: lines to replace, {first line: (last line, new text)}
        imports: dict[int, tuple[int, str]] = {}
        skip: set[int] = set()  # lines of the import statements: no renaming there
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom | ast.Import):
                skip.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
            if isinstance(node, ast.ImportFrom):
                kept, dropped = [], []
                for alias in node.names:
                    if alias.name not in hidden:
                        kept.append(alias)
                    elif hidden[alias.name] != node.module or alias.asname:
                        raise HomeworkError(
                            f"{here}: imports {alias.name} otherwise than from "
                            f"{hidden[alias.name]} under its own name"
                        )
                    else:
                        dropped.append(alias.name)
                if not dropped:
                    continue
                if node.col_offset:
                    raise HomeworkError(f"{here}: an answer is imported inside a block")
                text = [f"import {node.module}"]
                if kept:
                    names = [a.name + (f" as {a.asname}" if a.asname else "") for a in kept]
                    text.insert(0, _format_import(node.module, names))
                imports[node.lineno] = (node.end_lineno or node.lineno, "\n".join(text))
                original[n] = set(cell.source.split("\n"))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if (alias.asname or alias.name.split(".")[0]) in hidden:
                        raise HomeworkError(f"{here}: binds {alias.asname}, an answer's name")
            elif isinstance(node, ast.Name | ast.FunctionDef | ast.ClassDef):
                name = node.id if isinstance(node, ast.Name) else node.name
                stores = not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load)
                if name in hidden and stores:
                    raise HomeworkError(f"{here}: binds the name {name}, an exercise's answer")
        # 2. the uses: NAME tokens not after a dot, outside the import statements
        lines = cell.source.split("\n")
        edits: dict[int, list[tuple[int, str]]] = {}
        previous = None
        tokens = tokenize.generate_tokens(io.StringIO(cell.source).readline)
        for tok in tokens:
            if tok.type == tokenize.NAME and tok.string in hidden and tok.start[0] not in skip:
                if not (previous and previous.type == tokenize.OP and previous.string == "."):
                    row, col = tok.start
                    edits.setdefault(row, []).append((col, f"{hidden[tok.string]}."))
            if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
                previous = tok
        for row, inserts in edits.items():
            line = lines[row - 1]
            for col, prefix in sorted(inserts, reverse=True):
                line = line[:col] + prefix + line[col:]
                used.add(prefix[:-1])
            lines[row - 1] = line
        for first in sorted(imports, reverse=True):
            last, text = imports[first]
            lines[first - 1 : last] = text.split("\n")
        cell.source = "\n".join(lines)
        tree = _parse(cell.source, here)
        left = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in hidden}
        if left:  # e.g. inside an f-string, which is one token
            raise HomeworkError(f"{here}: could not write {', '.join(sorted(left))} in full")
    unused = {f"import {m}" for m in set(hidden.values()) - used}
    for n, before in original.items():  # no added "import <module>" that nothing uses
        cell, added = nb.cells[n - 1], unused - before
        cell.source = "\n".join(x for x in cell.source.split("\n") if x not in added)
    return nb


# --------------------------------------------------------------------------- glued numbers

_GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`(?:[^`]*::)?(?P<key>[^`:]+)")
_GLUE_DIRECTIVE = re.compile(r"^\s*(?:`{3,}|:{3,})\{glue(?::\w+)?\}\s+(?P<key>\S+)", re.MULTILINE)


def glue_references(text: str) -> set[str]:
    """The keys that the MyST ``text`` shows with ``{glue:...}`` roles and directives."""
    return {m["key"].strip() for r in (_GLUE_ROLE, _GLUE_DIRECTIVE) for m in r.finditer(text)}


def _key_pattern(node: ast.expr) -> re.Pattern[str] | None:
    def text(node: ast.expr, top: bool) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return re.escape(node.value)
        if isinstance(node, ast.JoinedStr):  # f"fam_{name}_alpha": any text for each {...}
            return "".join(text(v, False) or ".+" for v in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # "x_" + name
            left, right = text(node.left, False), text(node.right, False)
            return None if top and left == right == ".+" else f"{left}{right}"
        return None if top else ".+"

    pattern = text(node, True)
    return None if pattern is None else re.compile(pattern)


def glued_keys(source: str) -> list[re.Pattern[str]] | None:
    """Patterns of the keys that a code cell's ``glue(key, ...)`` calls store.

    A literal key gives itself, an f-string a pattern (``f"x_{k}"`` matches ``x_`` and any
    text); a key held in a variable is looked for among the string keys of the cell's dict
    literals (``for name, value in {"a": ...}.items(): glue(name, value)``). ``None`` when the
    cell glues something this cannot follow; ``[]`` when it glues nothing.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    keys: list[re.Pattern[str]] = []
    by_variable = False
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        if (func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)) != "glue":
            continue
        pattern = _key_pattern(node.args[0])
        if pattern is not None:
            keys.append(pattern)
        elif isinstance(node.args[0], ast.Name):
            by_variable = True
        else:
            return None
    if by_variable:
        dict_keys = [
            _key_pattern(k)
            for d in ast.walk(tree)
            if isinstance(d, ast.Dict)
            for k in d.keys
            if k is not None
        ]
        if not dict_keys or None in dict_keys:
            return None
        keys += dict_keys  # type: ignore[arg-type]
    return keys


def solution_only_cells(nb: Any) -> list[int]:
    """Code cells (numbered from 1) that glue a number which only ``{solution}`` blocks quote.

    A cell of the source notebook (not tagged ``solution`` or ``instructor-only``) with a
    glued key (:func:`glued_keys`) that the page shows only inside solution or
    instructor-only blocks: computing it belongs to the solution, and the student edition
    must not keep it (move it to a cell tagged ``[remove-cell, instructor-only]``).
    """
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    everywhere = glue_references("\n".join(markdown))
    student = glue_references("\n".join(strip_solution_blocks(m) for m in markdown))
    found = []
    for n, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or {SOLUTION_TAG, INSTRUCTOR_ONLY} & set(_tags(cell)):
            continue
        for key in glued_keys(cell.source) or []:
            quoted = any(key.fullmatch(r) for r in everywhere)
            if quoted and not any(key.fullmatch(r) for r in student):
                found.append(n)
                break
    return found


# --------------------------------------------------------------------------- markdown


@dataclass(frozen=True)
class _Block:
    name: str
    argument: str
    start: int  # index of the opening fence line
    end: int  # index of the closing fence line (len(lines) when unclosed)
    body: list[str]
    n_lines: int  # length of the whole text

    @property
    def closed(self) -> bool:
        return self.end < self.n_lines


def _closing(lines: list[str], start: int, char: str, count: int) -> int:
    for i in range(start, len(lines)):
        m = _FENCE.match(lines[i])
        if m and m["fence"][0] == char and len(m["fence"]) >= count and not m["info"].strip():
            return i
    return len(lines)


def _blocks(lines: list[str]) -> Iterator[_Block]:
    """Every directive block of a MyST text, nested ones included, outside literal code."""
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        info = m["info"].strip() if m else ""
        if not m or not info:
            i += 1
            continue
        fence = m["fence"]
        end = _closing(lines, i + 1, fence[0], len(fence))
        d = _DIRECTIVE.match(info)
        if d is None:  # a literal code block: skip it whole
            i = end + 1
            continue
        yield _Block(d["name"], d["arg"], i, end, lines[i + 1 : end], len(lines))
        i = end + 1 if d["name"] in _LITERAL_DIRECTIVES else i + 1


def strip_solution_blocks(text: str, *, where: str = "a markdown cell") -> str:
    """Remove from the MyST ``text`` what the student edition must not show.

    That is every ``{solution}`` block and every directive with the class
    :data:`INSTRUCTOR_ONLY` (e.g. a ``{literalinclude}`` of a helper that a code exercise
    asks students to write), fence and content. Blank lines left behind are collapsed.
    Raises :class:`HomeworkError` for an unclosed block (a code cell cannot sit inside one)
    and for sphinx-exercise's gated directives (``solution-start``/``solution-end``), which
    the student edition does not support.
    """
    lines = text.split("\n")
    drop: set[int] = set()
    for block in _blocks(lines):
        if block.name in _GATED:
            raise HomeworkError(
                f"{where}, line {block.start + 1}: gated '{{{block.name}}}' blocks are not "
                "supported; write a {solution} block after the exercise instead"
            )
        classes = _options(block.body).get("class", "").split()
        if block.name != "solution" and INSTRUCTOR_ONLY not in classes:
            continue
        if not block.closed:
            raise HomeworkError(
                f"{where}, line {block.start + 1}: the {{{block.name}}} block is not closed "
                "(a code cell cannot be inside a block)"
            )
        drop.update(range(block.start, block.end + 1))
    if not drop:
        return text
    kept = [line for i, line in enumerate(lines) if i not in drop]
    out: list[str] = []
    for line in kept:
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line)
    return "\n".join(out).strip("\n")


@dataclass(frozen=True)
class Exercise:
    """One ``{exercise}`` block: its label, title, kind (:data:`KINDS`) and minutes."""

    docname: str
    label: str
    title: str
    kind: str | None
    minutes: int | None


def _options(body: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    if body and body[0].strip() == "---":  # YAML option block
        for line in body[1:]:
            if line.strip() == "---":
                break
            key, _, value = line.partition(":")
            options[key.strip()] = value.strip()
        return options
    for line in body:
        m = re.match(r"^\s*:(?P<key>[\w-]+):\s*(?P<value>.*)$", line)
        if not m:
            break
        options[m["key"]] = m["value"].strip()
    return options


def parse_exercises(text: str, docname: str = "") -> list[Exercise]:
    """The ``{exercise}`` blocks of the MyST ``text``, in order.

    The kind is read from a trailing ``[kind]`` in the title (``None`` when absent or not one
    of :data:`KINDS`); the time from ``Time: <n> min`` in the body (``None`` when absent).
    """
    out = []
    for block in _blocks(text.split("\n")):
        if block.name in ("exercise-start", "exercise-end"):
            raise HomeworkError(
                f"{docname}, {{{block.name}}}: gated exercises are not supported; "
                "use an {exercise} block"
            )
        if block.name != "exercise":
            continue
        title, kind = block.argument, None
        m = _KIND.search(title)
        if m:
            title = title[: m.start()].strip()
            kind = m["kind"] if m["kind"] in KINDS else None
        t = _TIME.search("\n".join(block.body))
        label = _options(block.body).get("label", "")
        out.append(Exercise(docname, label, title, kind, int(t["minutes"]) if t else None))
    return out


@dataclass(frozen=True)
class Solution:
    """One ``{solution}`` block: the label of its exercise and its ``:class:`` option."""

    docname: str
    target: str
    classes: tuple[str, ...]


def parse_solutions(text: str, docname: str = "") -> list[Solution]:
    """The ``{solution}`` blocks of the MyST ``text``, in order."""
    return [
        Solution(docname, b.argument, tuple(_options(b.body).get("class", "").split()))
        for b in _blocks(text.split("\n"))
        if b.name == "solution"
    ]


# --------------------------------------------------------------------------- notebooks


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def student_notebook(nb: Any, *, where: str = "notebook") -> Any:
    """The student edition of a notebook (``nbformat`` v4); ``nb`` itself is not changed.

    Solution cells get their stubs (:func:`stub_solution`), check cells the tag
    :data:`RAISES_TAG`, code cells tagged :data:`INSTRUCTOR_ONLY` are dropped, markdown cells
    lose their ``{solution}`` and instructor-only blocks (:func:`strip_solution_blocks`; cells
    left empty are dropped), outputs and execution counts are cleared, cell ids are made
    deterministic and the ``jupytext`` metadata is dropped; the library functions that answer
    the notebook's own exercises are no longer imported by name (:func:`hide_answers`).
    Raises :class:`HomeworkError`
    when a solution cell is not followed by a check cell or a check cell calls no
    ``check.<name>(...)``.
    """
    nb = copy.deepcopy(nb)
    nb.metadata.pop("jupytext", None)
    # (number of the cell in the notebook, cell): numbered by position, not found by content
    # (two identical cells are two cells)
    code_cells = [(n, c) for n, c in enumerate(nb.cells, start=1) if c.cell_type == "code"]
    for k, (n, cell) in enumerate(code_cells):
        tags = _tags(cell)
        if SOLUTION_TAG in tags:
            following = code_cells[k + 1][1] if k + 1 < len(code_cells) else None
            if following is None or CHECK_TAG not in _tags(following):
                raise HomeworkError(
                    f"{where}, cell {n}: a solution cell must be followed by a code cell "
                    f"tagged '{CHECK_TAG}' that calls its self-check"
                )
        if CHECK_TAG in tags and not check_calls(cell.source):
            raise HomeworkError(f"{where}, cell {n}: a check cell must call check.<name>(...)")
    cells = []
    for n, cell in enumerate(nb.cells, start=1):
        here = f"{where}, cell {n}"
        if cell.cell_type == "code":
            tags = _tags(cell)
            if INSTRUCTOR_ONLY in tags:
                continue
            if SOLUTION_TAG in tags:
                cell.source = stub_solution(cell.source, where=here)
            if CHECK_TAG in tags and RAISES_TAG not in tags:
                cell.metadata["tags"] = [*tags, RAISES_TAG]
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown":
            cell.source = strip_solution_blocks(cell.source, where=here)
            if not cell.source.strip():
                continue
        cells.append(cell)
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    nb.cells = cells
    return hide_answers(nb, where=where)


def read_page(path: Path) -> Any:
    """Read a book page (MyST ``.md`` or ``.ipynb``) as an ``nbformat`` v4 notebook."""
    import jupytext

    return jupytext.read(path)


# --------------------------------------------------------------------------- the book


def find_root(start: Path | str = ".") -> Path:
    """The book's root: the nearest folder at or above ``start`` that holds ``_toc.yml``."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        if (folder / "_toc.yml").is_file():
            return folder
    raise FileNotFoundError(f"no _toc.yml in {start} or above it")


def toc_docnames(root: Path) -> list[str]:
    """Every page of ``root/_toc.yml`` in reading order (docnames without suffix)."""
    import yaml

    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text())
    names: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    names.append(str(Path(node[key]).with_suffix("")))
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    return names


def chapter_docnames(root: Path) -> list[str]:
    """The chapters: every page of the toc but its root page and the pages in ``book/reference``."""
    names = toc_docnames(root)
    return [n for n in names[1:] if not n.startswith("book/reference/")]


def page_path(root: Path, docname: str) -> Path:
    """The source file of ``docname`` under ``root`` (``.md`` or ``.ipynb``)."""
    for suffix in (".md", ".ipynb"):
        path = Path(root) / f"{docname}{suffix}"
        if path.is_file():
            return path
    raise FileNotFoundError(f"no {docname}.md or {docname}.ipynb under {root}")


@dataclass(frozen=True)
class Chapter:
    """What the homework machinery knows about one chapter."""

    docname: str
    title: str
    stub: bool
    exercises: tuple[Exercise, ...]
    solutions: tuple[Solution, ...]
    solution_cells: int
    checks: tuple[str, ...] = field(default=())
    """Self-checks called by the chapter's check cells, in order."""
    exercise_checks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """``{label: checks}``: the self-checks of each code exercise (the check cells between its
    text and the next exercise's)."""
    reading: int | None = None
    """Reading time in minutes, from the overview's ``{chapter-time}`NN``` (:data:`READING`)."""

    @property
    def minutes(self) -> int:
        """Total time estimate of the exercises (exercises without one count 0)."""
        return sum(e.minutes or 0 for e in self.exercises)

    @property
    def total(self) -> int:
        """Reading time plus exercise time, in minutes (no reading time counts 0)."""
        return (self.reading or 0) + self.minutes


def read_chapter(root: Path, docname: str) -> Chapter:
    """Parse one chapter's source (``.md`` or ``.ipynb``) into a :class:`Chapter`."""
    return notebook_chapter(read_page(page_path(root, docname)), docname)


def notebook_chapter(nb: Any, docname: str) -> Chapter:
    """The :class:`Chapter` of a chapter's notebook ``nb`` (read, not changed)."""
    title, exercises, solutions, checks = docname, [], [], []
    exercise_checks: dict[str, tuple[str, ...]] = {}
    stub = False
    reading = None
    n_solutions = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            if title == docname:
                m = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
                title = m.group(1).strip() if m else title
            stub = stub or STUB_MARKER in cell.source
            times = READING.findall(cell.source)
            if times and reading is None:
                reading = int(times[0])
            exercises += parse_exercises(cell.source, docname)
            solutions += parse_solutions(cell.source, docname)
        elif cell.cell_type == "code":
            n_solutions += SOLUTION_TAG in _tags(cell)
            if CHECK_TAG in _tags(cell):
                checks += check_calls(cell.source)
                if exercises:
                    label = exercises[-1].label
                    exercise_checks[label] = (
                        *exercise_checks.get(label, ()),
                        *check_calls(cell.source),
                    )
    return Chapter(
        docname,
        title,
        stub,
        tuple(exercises),
        tuple(solutions),
        n_solutions,
        tuple(checks),
        exercise_checks,
        reading,
    )


def time_range(chapters: list[Chapter]) -> tuple[int, int]:
    """Shortest and longest total time (reading plus exercises) of the written chapters."""
    totals = [ch.total for ch in chapters if not ch.stub and ch.reading]
    if not totals:
        raise HomeworkError("no written chapter states its reading time ({chapter-time}`NN`)")
    return min(totals), max(totals)


def book_chapters(root: Path) -> list[Chapter]:
    """Every chapter of the book at ``root``, parsed, in reading order."""
    return [read_chapter(root, name) for name in chapter_docnames(root)]


def available_checks() -> dict[str, Callable[..., Any]]:
    """Every self-check: the names in the ``__all__`` of each module of :mod:`weightreg.check`.

    Raises :class:`HomeworkError` when two modules export the same name (one would shadow
    the other in ``weightreg.check``).
    """
    package = importlib.import_module("weightreg.check")
    found: dict[str, Callable[..., Any]] = {}
    owner: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"weightreg.check.{info.name}")
        for name in getattr(module, "__all__", []):
            if name in found:
                raise HomeworkError(
                    f"check.{name} is exported by both {owner[name]} and {info.name}"
                )
            found[name], owner[name] = getattr(module, name), info.name
    return found


# --------------------------------------------------------------------------- tables


_GREEK = {
    name: chr(code)
    for name, code in (
        ("alpha", 0x3B1),
        ("beta", 0x3B2),
        ("gamma", 0x3B3),
        ("delta", 0x3B4),
        ("epsilon", 0x3F5),
        ("varepsilon", 0x3B5),
        ("eta", 0x3B7),
        ("theta", 0x3B8),
        ("kappa", 0x3BA),
        ("lambda", 0x3BB),
        ("mu", 0x3BC),
        ("nu", 0x3BD),
        ("xi", 0x3BE),
        ("pi", 0x3C0),
        ("rho", 0x3C1),
        ("sigma", 0x3C3),
        ("tau", 0x3C4),
        ("phi", 0x3C6),
        ("Omega", 0x3A9),
        ("infty", 0x221E),
        ("ell", 0x2113),
    )
}


def plain_title(title: str) -> str:
    """An exercise title without TeX, for places that cannot typeset it (a link's text).

    ``$\\epsilon$`` becomes ``ϵ``, ``$L_{0.5}$`` becomes ``L0.5``: Greek letters and a few
    symbols by name, other commands and braces dropped.
    """

    def plain(match: re.Match[str]) -> str:
        tex = re.sub(r"\\([A-Za-z]+)", lambda m: _GREEK.get(m.group(1), ""), match.group(1))
        return re.sub(r"[{}_^\\]", "", tex).strip()

    return re.sub(r"\$([^$]+)\$", plain, title)


def exercise_table(
    chapters: list[Chapter], points: dict[str, tuple[int, str]] | None = None
) -> str:
    """A MyST table of every exercise: chapter, exercise (a reference), kind, minutes, and
    with ``points`` (``{label: (points, how earned)}``, from ``tools/grading.py``'s
    ``exercise_points``) the points of the nbgrader course.

    A first row per chapter gives its reading time and a last row its total (reading plus
    exercises, and the chapter's points); chapters still being written are listed as such.
    """
    head = "| Chapter | Exercise | Kind | Time (min) |"
    rule = "|---|---|---|---|"
    if points is not None:
        head, rule = head + " Points |", rule + "---|"
    extra = " |" if points is not None else ""
    rows = [head, rule]
    for ch in chapters:
        link = f"{{doc}}`/{ch.docname}`"
        if ch.stub:
            rows.append(f"| {link} | *being written* | | |{extra}")
            continue
        if not ch.exercises:
            rows.append(f"| {link} | *no exercises* | | |{extra}")
            continue
        reading = "?" if ch.reading is None else str(ch.reading)
        rows.append(f"| {link} | *reading the chapter* | | {reading} |{extra}")
        link = ""
        total_points = 0
        for ex in ch.exercises:
            title = plain_title(ex.title)
            ref = f"{{ref}}`{title} <{ex.label}>`" if ex.label else title
            time = "?" if ex.minutes is None else str(ex.minutes)
            row = f"| {link} | {ref} | {ex.kind or '?'} | {time} |"
            if points is not None:
                got, how = points.get(ex.label, (0, "not graded"))
                total_points += got
                row += f" {got} ({how}) |"
            rows.append(row)
            link = ""
        total = f"| | **total** | | **{ch.total}** |"
        rows.append(total + (f" **{total_points}** |" if points is not None else ""))
    return "\n".join(rows)


def checks_markdown(chapters: list[Chapter], checks: dict[str, Callable[..., Any]]) -> str:
    """A MyST definition list: each self-check, where the book calls it, and its docstring."""
    used: dict[str, list[str]] = {}
    for ch in chapters:
        for name in ch.checks:
            used.setdefault(name, []).append(ch.docname)
    if not checks:
        return "*No self-checks yet.*"
    items = []
    for name, fn in checks.items():
        where = ", ".join(f"{{doc}}`/{d}`" for d in dict.fromkeys(used.get(name, [])))
        doc = inspect.getdoc(fn) or "(no docstring)"
        doc = re.sub(r":[\w:]+:`~?([^`]+)`", r"`\1`", doc)  # reST roles -> code
        body = "\n".join(f"  {line}" if line else "" for line in doc.split("\n"))
        items.append(f"`check.{name}` (used in {where or 'no chapter yet'})\n:{body[1:]}\n")
    return "\n".join(items)

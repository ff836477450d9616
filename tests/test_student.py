"""The student edition: ``tools/homework.py`` (stubs, solution removal, exercise parsing) and
``tools/student.py`` (``make student``), on a fixture book and on the real one.

The real student edition is written once per session into a temporary folder (executing
every chapter from scratch, in the background: see ``conftest.py``); the reference solutions
are checked in the instructor notebooks that ``make test`` executed
(``$BOOK_HTML/../jupyter_execute``).
"""

from __future__ import annotations

import ast
import builtins
import functools
import html
import re
import shutil
from pathlib import Path

import homework  # tools/homework.py (conftest.py puts tools/ on the path)
import nbformat
import pytest
from conftest import load_student_tool
from homework import HomeworkError
from hypothesis import given
from hypothesis import strategies as st
from leaks import all_text as _all_text
from leaks import lines as _lines
from leaks import solution_lines as _solution_lines
from leaks import split_lines as _split_lines

from weightreg.check._core import NOT_DONE

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "homework"


student = load_student_tool()

SOLUTION = '''# STUDENT: Complete my_l2_penalty: return lambd / 2 times ||w||^2.
def my_l2_penalty(w, lambd):
    """(lambd / 2) * ||w||^2."""
    # BEGIN SOLUTION
    squared = (w**2).sum()
    return lambd / 2 * squared
    # END SOLUTION'''


B, E = "    # BEGIN SOLUTION\n", "    # END SOLUTION"


def _run(source: str, name: str):
    namespace: dict = {}
    exec(compile(source, "<stub>", "exec"), namespace)
    return namespace[name]


# --------------------------------------------------------------------------- stubs


def test_stub_replaces_the_solution_and_keeps_the_rest():
    stub = homework.stub_solution(SOLUTION)
    assert "squared" not in stub and "BEGIN" not in stub and "END SOLUTION" not in stub
    assert stub.splitlines()[:3] == SOLUTION.splitlines()[:3]
    assert stub.splitlines()[3] == (
        '    raise NotImplementedError("Complete my_l2_penalty: return lambd / 2 times ||w||^2.")'
    )
    fn = _run(stub, "my_l2_penalty")
    with pytest.raises(NotImplementedError, match=r"Complete my_l2_penalty: return lambd / 2"):
        fn(1.0, 2.0)


def test_stub_keeps_the_indentation_of_each_region():
    source = "\n".join(
        [
            "# STUDENT: Finish the class.",
            "class Decay:",
            "    def step(self, w):",
            "        # BEGIN SOLUTION",
            "        return 0.9 * w",
            "        # END SOLUTION",
            "",
            "    def reset(self):",
            "        # BEGIN SOLUTION",
            "        self.t = 0",
            "        # END SOLUTION",
        ]
    )
    stub = homework.stub_solution(source)
    assert stub.count('        raise NotImplementedError("Finish the class.")') == 2
    assert "0.9" not in stub and "self.t" not in stub
    cls = _run(stub, "Decay")
    with pytest.raises(NotImplementedError, match="Finish the class."):
        cls().reset()


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1
    ).filter(lambda s: s.strip() == s and s)
)
def test_any_message_reaches_the_student_verbatim(message):
    source = f"# STUDENT: {message}\ndef f():\n" + B + "    return 1\n" + E
    fn = _run(homework.stub_solution(source), "f")
    with pytest.raises(NotImplementedError) as info:
        fn()
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION", "first line must be"),
        ("# STUDENT:   \ndef f():\n" + B + "    pass\n" + E, "no message"),
        ("# STUDENT: m\ndef f():\n    # BEGIN SOLUTION\n    return 1", "without '# END SOLUTION'"),
        ("# STUDENT: m\ndef f():\n    return 1\n    # END SOLUTION", "without '# BEGIN SOLUTION'"),
        ("# STUDENT: m\ndef f():\n    return 1", "no '# BEGIN SOLUTION'"),
        (
            "# STUDENT: m\ndef f():\n" + B + B + E,
            "inside another one",
        ),
        (
            "# STUDENT: m\ndef f():\n    # BEGIN SOLUTION\n    return 1\n# END SOLUTION",
            "not indented like",
        ),
        ("# STUDENT: m\ndef f():\n    # BEGIN SOLUTIONS\n    return 1", "misspelt marker"),
        (
            "# STUDENT: m\ndef f():\n    if True:\n    # BEGIN SOLUTION\n        return 1\n"
            "    # END SOLUTION",
            "not valid Python",
        ),
    ],
)
def test_broken_solution_cells_are_refused_with_a_reason(source, message):
    with pytest.raises(HomeworkError, match=re.escape(message)):
        homework.stub_solution(source, where="book/x, cell 3")


def test_check_calls_finds_the_checks_in_order():
    assert homework.check_calls("check.lk_grad(my_grad)\ncheck.prox( f )\ncheck_x(1)") == [
        "lk_grad",
        "prox",
    ]


# --------------------------------------------------------------------------- markdown


@pytest.mark.parametrize("colons", [3, 4, 6])
def test_solution_blocks_of_any_fence_length_are_removed(colons):
    fence = ":" * colons
    text = f"Before.\n\n{fence}{{solution}} ex-a\n:class: dropdown\n\nSECRET\n{fence}\n\nAfter."
    assert homework.strip_solution_blocks(text) == "Before.\n\nAfter."


def test_nested_blocks_inside_a_solution_go_with_it():
    text = "::::{solution} ex-a\nSECRET\n:::{note}\nSECRET NOTE\n:::\nSECRET END\n::::\nKept."
    assert homework.strip_solution_blocks(text) == "Kept."


def test_backtick_solution_blocks_are_removed():
    text = "A\n\n````{solution} ex-a\n```python\nsecret()\n```\n````\n\nB"
    assert homework.strip_solution_blocks(text) == "A\n\nB"


def test_literal_code_and_other_blocks_are_kept():
    text = (
        "````md\n:::{solution} ex-example\nLITERAL\n:::\n````\n\n"
        ":::{exercise} T [code]\n:label: ex-t\n```python\nprint(':::{solution} x')\n```\n:::\n"
    )
    assert homework.strip_solution_blocks(text) == text


def test_instructor_only_blocks_are_removed_and_other_classes_kept():
    text = (
        "Its whole update:\n\n"
        "```{literalinclude} ../../src/weightreg/optim.py\n:pyobject: adam_update_\n"
        ":class: instructor-only\n```\n\n"
        ":::{note}\n:class: tip\nKept.\n:::"
    )
    assert (
        homework.strip_solution_blocks(text)
        == "Its whole update:\n\n:::{note}\n:class: tip\nKept.\n:::"
    )


def test_an_unclosed_solution_block_is_an_error():
    with pytest.raises(HomeworkError, match="not closed"):
        homework.strip_solution_blocks("::::{solution} ex-a\nstarts here\n", where="cell 4")


@pytest.mark.parametrize("gated", ["solution-start", "solution-end"])
def test_gated_solutions_are_refused(gated):
    with pytest.raises(HomeworkError, match="gated"):
        homework.strip_solution_blocks(f":::{{{gated}}} ex-a\n:::\n")


def test_exercises_are_parsed_with_kind_label_and_time():
    text = (
        ":::{exercise} The decay factor [derivation]\n:label: ex-a\n\nDerive it.\n"
        "*Time: 15 min.*\n:::\n\n"
        "::::{exercise} No kind\n---\nlabel: ex-b\n---\nText.\n::::\n\n"
        ":::{exercise} Odd kind [essay]\n:label: ex-c\nTime: 5 minutes\n:::\n\n"
        "```md\n:::{exercise} Not an exercise [code]\n:::\n```\n"
    )
    got = homework.parse_exercises(text, "book/x")
    assert got == [
        homework.Exercise("book/x", "ex-a", "The decay factor", "derivation", 15),
        homework.Exercise("book/x", "ex-b", "No kind", None, None),
        homework.Exercise("book/x", "ex-c", "Odd kind", None, 5),
    ]


def test_solutions_are_parsed_with_target_and_class():
    text = "::::{solution} ex-a\n:class: dropdown\nX\n::::\n:::{solution} ex-b\nY\n:::"
    assert homework.parse_solutions(text, "d") == [
        homework.Solution("d", "ex-a", ("dropdown",)),
        homework.Solution("d", "ex-b", ()),
    ]


# --------------------------------------------------------------------------- notebooks


def _nb(*cells):
    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}, "jupytext": {}}
    )
    for kind, source, tags in cells:
        new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        cell = new(source)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    return nb


def test_student_notebook_stubs_tags_strips_and_clears():
    nb = _nb(
        ("markdown", "# T\n\n:::{exercise} E [code]\n:label: ex-e\n:::", []),
        ("code", SOLUTION, ["solution"]),
        ("code", "check.l2_penalty(my_l2_penalty)", ["check"]),
        ("markdown", "::::{solution} ex-e\nSECRET\n::::", []),
        ("code", "print(1)", []),
        ("code", "print(inspect.getsource(weightreg.optim.adam_update_))", ["instructor-only"]),
    )
    nb.cells[4].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.cells[4].execution_count = 3
    before = nbformat.writes(nb)
    out = homework.student_notebook(nb, where="book/x")
    assert nbformat.writes(nb) == before  # the input is not changed
    assert [c.cell_type for c in out.cells] == ["markdown", "code", "code", "code"]
    assert "squared" not in out.cells[1].source
    assert out.cells[2].metadata["tags"] == ["check", "raises-exception"]
    assert out.cells[3].outputs == [] and out.cells[3].execution_count is None
    assert [c.id for c in out.cells] == ["cell-0", "cell-1", "cell-2", "cell-3"]
    assert "jupytext" not in out.metadata
    nbformat.validate(out)


def test_a_solution_cell_needs_a_check_cell_after_it():
    nb = _nb(("code", SOLUTION, ["solution"]), ("code", "print(1)", []))
    with pytest.raises(HomeworkError, match="followed by a code cell tagged 'check'"):
        homework.student_notebook(nb, where="book/x")


def test_messages_number_identical_cells_by_position():
    """Defect 16: cells were numbered by content (``nb.cells.index``), so the second of two
    identical solution cells was reported as the first one."""
    nb = _nb(
        ("code", SOLUTION, ["solution"]),
        ("code", "check.l2_penalty(my_l2_penalty)", ["check"]),
        ("code", SOLUTION, ["solution"]),
        ("code", "print(1)", []),
    )
    nb.nbformat_minor = 4  # no cell ids, as in notebooks written before nbformat 4.5
    for cell in nb.cells:
        del cell["id"]
    assert nb.cells[0] == nb.cells[2]
    with pytest.raises(HomeworkError, match=r"^book/x, cell 3: a solution cell must be followed"):
        homework.student_notebook(nb, where="book/x")


def test_a_check_cell_must_call_a_check():
    nb = _nb(("code", SOLUTION, ["solution"]), ("code", "my_l2_penalty(1, 2)", ["check"]))
    with pytest.raises(HomeworkError, match=r"must call check.<name>"):
        homework.student_notebook(nb, where="book/x")


# --------------------------------------------------------------------------- leaks: answers


LK_SOLUTION = '''# STUDENT: Complete my_lk_grad: the gradient of alpha * mean(|w|**k).
def my_lk_grad(w, k, alpha):
    """Gradient of alpha * mean(|w|**k) (same shape as w)."""
    # BEGIN SOLUTION
    return alpha * k * w.sign() * w.abs() ** (k - 1) / w.numel()
    # END SOLUTION'''


def _answer_notebook(*uses: str):
    return _nb(
        ("code", "import torch\nfrom weightreg.penalties import lk_grad, lk_penalty", []),
        ("code", "from weightreg.penalties import (\n    lk_grad,\n)", []),
        *(("code", use, []) for use in uses),
        ("code", LK_SOLUTION, ["solution"]),
        ("code", "check.lk_grad(my_lk_grad)", ["check"]),
    )


def test_the_library_answer_is_not_imported_but_written_in_full():
    nb = _answer_notebook(
        "w = torch.tensor([1.0, -2.0])\ng = lk_grad(w, 2, 0.5)  # lk_grad: the library's\n"
        "name = 'lk_grad'; f = lambda v: lk_grad(v, 1,\n    0.5)\nh = f(w)",
        "lk_penalty(w, 2)",
    )
    assert homework.answer_imports(nb) == [
        "cell 1: weightreg.penalties.lk_grad",
        "cell 2: weightreg.penalties.lk_grad",
    ]
    out = homework.student_notebook(nb, where="book/x")
    assert out.cells[0].source == (
        "import torch\nfrom weightreg.penalties import lk_penalty\nimport weightreg.penalties"
    )
    assert out.cells[1].source == "import weightreg.penalties"
    assert out.cells[2].source == (
        "w = torch.tensor([1.0, -2.0])\n"
        "g = weightreg.penalties.lk_grad(w, 2, 0.5)  # lk_grad: the library's\n"
        "name = 'lk_grad'; f = lambda v: weightreg.penalties.lk_grad(v, 1,\n    0.5)\nh = f(w)"
    )
    assert homework.answer_imports(out) == []
    namespace: dict = {}
    for cell in out.cells[:4]:  # the chapter's cells still run, with the library's function
        exec(cell.source, namespace)
    assert "lk_grad" not in namespace and namespace["g"].tolist() == [0.5, -1.0]


def test_an_answer_used_nowhere_else_is_just_not_imported():
    out = homework.student_notebook(_answer_notebook("lk_penalty(1.0, 2)"), where="book/x")
    assert out.cells[0].source == "import torch\nfrom weightreg.penalties import lk_penalty"
    assert out.cells[1].source == ""
    assert "import weightreg.penalties" not in _all_text(out)


def test_a_chapter_without_the_answer_is_left_as_it_is():
    nb = _answer_notebook()
    nb.cells[-1].source = "check.prox_l1(my_lk_grad)"  # the answer of prox_l1 is not imported
    out = homework.student_notebook(nb, where="book/x")
    assert out.cells[0].source == nb.cells[0].source
    assert homework.hidden_answers(out) == {"prox_l1": "weightreg.penalties"}


@pytest.mark.parametrize(
    ("use", "message"),
    [
        ("lk_grad = 3", "binds the name lk_grad"),
        ("def lk_grad(w):\n    return w", "binds the name lk_grad"),
        ("from weightreg.penalties import lk_grad as g", "under its own name"),
        ("x = f'{lk_grad(1.0, 2, 1)}'", "could not write lk_grad in full"),
        ("f(lk_grad=1)", "not valid Python"),
    ],
)
def test_answers_that_cannot_be_written_in_full_are_refused(use, message):
    with pytest.raises(HomeworkError, match=message):
        homework.student_notebook(_answer_notebook(use), where="book/x")


def test_every_answer_is_a_library_function_of_a_check():
    import importlib

    checks = homework.available_checks()
    for check, answers in homework.ANSWERS.items():
        assert check in checks, f"ANSWERS names check.{check}, which does not exist"
        for full in answers:
            module, _, name = full.rpartition(".")
            assert callable(getattr(importlib.import_module(module), name)), full


# --------------------------------------------------------------------------- leaks: numbers


def test_glued_keys_follow_literals_fstrings_sums_and_dicts():
    def keys(source):
        found = homework.glued_keys(source)
        return None if found is None else [k.pattern for k in found]

    assert keys("glue('a_b', 1, display=False)") == ["a_b"]
    assert keys("for t in (1, 2):\n    glue(f'x_{t}_y', t)") == ["x_.+_y"]
    assert keys("glue('cut_' + key.replace(' ', '_'), 1)") == ["cut_.+"]
    assert keys("for name, v in {'p': 1, f'q_{i}': 2}.items():\n    glue(name, v)") == [
        "p",
        "q_.+",
    ]
    assert keys("print(1)") == []
    assert keys("glue(name, 1)") is None  # a key this cannot follow
    refs = homework.glue_references(
        "{glue:text}`a_b:.2f` and {glue}`p`\n```{glue:figure} fig_1\n:name: f\n```"
    )
    assert refs == {"a_b", "p", "fig_1"}


def test_a_cell_that_computes_numbers_only_a_solution_quotes_is_found():
    nb = _nb(
        ("markdown", "Text quotes {glue:text}`shown`.\n\n:::{exercise} E [experiment]\n:::", []),
        ("code", "glue('shown', 1)\nglue('both', 2)", ["remove-cell"]),
        ("code", "# Numbers quoted in the solution.\nglue('answer', 42)", ["remove-cell"]),
        ("code", "glue('answer2', 43)", ["remove-cell", "instructor-only"]),
        ("code", "glue('unused', 0)", ["remove-cell"]),
        ("code", "glue('shown', 1)\nglue('answer3', 44)", ["remove-cell"]),  # one is enough
        ("markdown", "::::{solution} ex\n{glue:text}`answer` {glue:text}`answer2`\n::::", []),
        ("markdown", "::::{solution} ex2\n{glue:text}`answer3` {glue:text}`shown`\n::::", []),
    )
    assert homework.solution_only_cells(nb) == [3, 6]  # numbered from 1
    out = homework.student_notebook(nb, where="book/x")
    assert "answer2" not in _all_text(out)  # the instructor-only cell is left out


def _error(ename):
    return nbformat.v4.new_output("error", ename=ename, evalue="", traceback=[])


def test_student_errors_accepts_only_the_stubs_errors():
    nb = _nb(
        ("code", "check.a(f)", ["check", "raises-exception"]),
        ("code", "check.b(g)", ["check", "raises-exception"]),
        ("code", "1 / 0", []),
        ("code", "raise TrainingDiverged", ["raises-exception"]),
        ("code", "check.c(h)", ["check", "raises-exception"]),
    )
    nb.cells[0].outputs = [_error("NotImplementedError")]
    nb.cells[1].outputs = [_error("CheckFailed")]
    nb.cells[2].outputs = [_error("ZeroDivisionError")]
    nb.cells[3].outputs = [_error("TrainingDiverged")]
    problems, allowed = student.student_errors(nb)
    assert problems == [
        "cell 2 (check): expected the stub's NotImplementedError, got CheckFailed",
        "cell 3: ZeroDivisionError",
        "cell 5 (check): expected the stub's NotImplementedError, got no error",
    ]
    assert allowed == [
        "cell 1: NotImplementedError (stub)",
        "cell 4: TrainingDiverged (raises-exception in the source)",
    ]


def test_student_config_hides_solutions_and_does_not_execute():
    config = student.student_config(ROOT)
    assert config["sphinx"]["config"]["hide_solutions"] is True
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["title"].endswith("(student edition)")


def test_the_makefile_has_a_student_target():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^student:.*\n\t.*tools/student\.py", makefile, re.MULTILINE)


# --------------------------------------------------------------------------- helpers


def _html_text(page: Path) -> str:
    """The text of an HTML page, tags removed (code lines come out as written)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def _class_lists(html: str) -> list[set[str]]:
    return [set(m.split()) for m in re.findall(r'class="([^"]*)"', html)]


def _solution_admonitions(html_dir: Path) -> list[str]:
    return [
        str(page.relative_to(html_dir))
        for page in html_dir.rglob("*.html")
        if any({"solution", "admonition"} <= c for c in _class_lists(page.read_text()))
    ]


# --------------------------------------------------------------------------- the fixture book


@pytest.fixture(scope="module")
def fixture_edition(tmp_path_factory) -> Path:
    """The student edition of tests/fixtures/homework (a two-page book), with its HTML."""
    root = tmp_path_factory.mktemp("book")
    shutil.copytree(FIXTURE, root, dirs_exist_ok=True)
    for name in ("_config.yml", "_ext", "_static", "_vendor", "references.bib", "src"):
        if (ROOT / name).exists():
            (root / name).symlink_to(ROOT / name)
    out = root / "_build" / "student"
    student.make_student(root, out, use_cache=False)
    return out


def test_fixture_handout_has_stubs_and_no_solution(fixture_edition):
    nb = nbformat.read(fixture_edition / "notebooks" / "demo.ipynb", as_version=4)
    text = _all_text(nb)
    reference = homework.read_page(FIXTURE / "book" / "demo.md")
    secrets = _solution_lines(reference)
    assert {"squared = (w**2).sum()  # SOLUTION_CODE_MARKER"} <= secrets
    assert any("DERIVATION_ANSWER_TEXT" in s for s in secrets)
    assert secrets <= _lines(_all_text(reference))  # what is looked for, as whole lines
    assert not secrets & _lines(text)
    for marker in ("ANSWER_TEXT", "SOLUTION_CODE_MARKER", "INSTRUCTOR_ONLY_TEXT", "::::"):
        assert marker not in text
    assert "LITERAL_EXAMPLE_TEXT" in text  # a literal example of the syntax survives
    assert 'raise NotImplementedError("Complete my_l2_penalty' in text
    assert all(c.get("outputs", []) == [] for c in nb.cells)
    assert not (fixture_edition / "notebooks" / "index.ipynb").exists()  # not a chapter


def test_fixture_executes_with_only_the_stub_failing(fixture_edition):
    nb = nbformat.read(fixture_edition / "source" / "book" / "demo.ipynb", as_version=4)
    problems, allowed = student.student_errors(nb)
    assert problems == []
    assert len(allowed) == 1 and "NotImplementedError" in allowed[0]
    check_cell = next(c for c in nb.cells if "check" in c.metadata.get("tags", []))
    (error,) = check_cell.outputs
    assert error.evalue.startswith("Complete my_l2_penalty")
    # shown as the stub's message and what to do, without a traceback through the check
    assert error.traceback == [f"NotImplementedError: {error.evalue}", NOT_DONE]


def test_fixture_html_has_no_solution_but_the_rest(fixture_edition):
    html_dir = fixture_edition / "html"
    assert _solution_admonitions(html_dir) == []
    page = (html_dir / "book" / "demo.html").read_text()
    for marker in ("ANSWER_TEXT", "SOLUTION_CODE_MARKER", "INSTRUCTOR_ONLY_TEXT"):
        assert marker not in page
    assert "squared = (w**2).sum()" not in _html_text(html_dir / "book" / "demo.html")
    download = nbformat.read(html_dir / "_sources" / "book" / "demo.ipynb", as_version=4)
    assert all(c.get("outputs", []) == [] for c in download.cells)  # the clean handout
    assert "colab.research.google.com" not in page  # no launch button to a missing file
    assert page.count('class="exercise admonition"') == 3
    assert '<span class="pasted-text">2</span>' in page  # glue works from the executed pages
    assert "(student edition)" in page
    assert "NotImplementedError" in page


def _check_cells_html(page_html: str) -> list[str]:
    """The HTML of each check cell of a page (input and output)."""
    parts = re.split(r'(?=<div class="cell[ "])', page_html)
    return [p for p in parts if re.match(r'<div class="cell[^"]*\btag_check\b', p)]


def test_html_pages_show_check_errors_as_plain_text_and_handouts_stay_clean():
    nb = _nb(
        ("code", SOLUTION, ["solution"]),
        ("code", "check.l2_penalty(my_l2_penalty)", ["check"]),
        ("code", "print(1)", []),
    )
    handout = homework.student_notebook(nb, where="book/x")
    page = student.html_page(handout)
    assert page.cells[1].metadata["mystnb"] == {"error_lexer": "text"}
    assert "mystnb" not in page.cells[2].metadata
    assert all("mystnb" not in c.metadata for c in handout.cells)  # the handout is unchanged


def test_fixture_html_check_output_is_plain_text_that_wraps(fixture_edition):
    page = (fixture_edition / "html" / "book" / "demo.html").read_text()
    (cell,) = _check_cells_html(page)
    assert "NotImplementedError" in cell and "not done yet" in cell
    assert "highlight-text" in cell and "highlight-ipythontb" not in cell
    css = (fixture_edition / "html" / "_static" / "book.css").read_text()
    rule = re.search(r"div\.cell\.tag_check div\.cell_output pre\s*\{([^}]*)\}", css)
    assert rule and "pre-wrap" in rule[1], "check output must wrap (_static/book.css)"
    stub = re.search(r"div\.cell\.tag_solution div\.cell_input pre[^{]*\{([^}]*)\}", css)
    assert stub and "pre-wrap" in stub[1], "a stub's long lines must wrap (_static/book.css)"


def test_the_reference_fixture_really_has_solutions():
    """The negative checks above are meaningful: the instructor source has what they look for."""
    chapter = homework.read_chapter(FIXTURE, "book/demo")
    assert chapter.solution_cells == 1 and len(chapter.solutions) == 2
    assert chapter.checks == ("l2_penalty",)


def test_a_student_function_used_outside_its_check_breaks_the_edition(tmp_path):
    root = tmp_path / "book"
    shutil.copytree(FIXTURE, root)
    (root / "src").symlink_to(ROOT / "src")
    demo = root / "book" / "demo.md"
    demo.write_text(demo.read_text() + "\n```{code-cell} ipython3\nmy_l2_penalty(1.0, 2.0)\n```\n")
    pages = student.write_sources(root, tmp_path / "out" / "source", tmp_path / "out" / "nb")
    with pytest.raises(student.StudentEditionError, match="only check cells may"):
        student.execute_page(pages["book/demo"], cache=None, digest="")


def test_included_fragments_reach_the_student_source(tmp_path):
    """A page that includes a fragment (``_notation.md``) builds in the student edition too."""
    root = tmp_path / "book"
    shutil.copytree(FIXTURE, root)
    (root / "book" / "_fragment.md").write_text("FRAGMENT_TEXT\n")
    student.write_sources(root, tmp_path / "out" / "source", tmp_path / "out" / "nb")
    copied = tmp_path / "out" / "source" / "book" / "_fragment.md"
    assert copied.read_text() == "FRAGMENT_TEXT\n"


# --------------------------------------------------------------------------- the real book


DOCNAMES = homework.chapter_docnames(ROOT)


@functools.cache
def _chapter(docname: str) -> homework.Chapter:
    return homework.read_chapter(ROOT, docname)


def _chapters() -> list[homework.Chapter]:
    return [_chapter(d) for d in DOCNAMES]


@pytest.fixture(params=DOCNAMES)
def chapter(request) -> homework.Chapter:
    """Each chapter of the book (read when a test needs it, so a broken one fails there)."""
    return _chapter(request.param)


def test_student_edition_is_written(_student_pages, _student_html):
    """``make student`` succeeds: every page executes as it should, the HTML book builds.

    (The tests below skip when it does not, so that its error is reported once, here.)
    """
    for _, error in (_student_pages, _student_html):
        if error is not None:
            pytest.fail(str(error), pytrace=False)


def _instructor(docname: str):
    return homework.read_page(homework.page_path(ROOT, docname))


@functools.cache
def _public_lines() -> frozenset[str]:
    """Every line the book shows outside its solutions, on any page: such a line in a solution
    (``split = high_dim_regression(seed=0, ...)``) gives nothing away."""
    public: set[str] = set()
    for docname in homework.toc_docnames(ROOT):
        public |= _split_lines(_instructor(docname))[1]
    return frozenset(public)


def test_chapter_follows_the_exercise_rules(chapter):
    if chapter.stub:
        pytest.skip("chapter being written")
    ex = chapter.exercises
    assert len(ex) >= 3, f"{chapter.docname}: {len(ex)} exercises, the book wants at least 3"
    kinds = {e.kind for e in ex}
    assert set(homework.KINDS) <= kinds, f"{chapter.docname}: missing kinds {homework.KINDS}"
    for e in ex:
        assert e.label, f"{chapter.docname}: exercise {e.title!r} has no :label:"
        assert e.kind, f"{e.label}: end the title with one of {homework.KINDS} in brackets"
        assert e.minutes, f"{e.label}: state a time estimate, '*Time: 15 min.*'"
    solved = {s.target: s for s in chapter.solutions}
    for e in ex:
        if e.kind != "code":
            assert e.label in solved, f"{e.label}: no {{solution}} block"
            assert "dropdown" in solved[e.label].classes, f"{e.label}: solution not collapsed"
    n_code = sum(e.kind == "code" for e in ex)
    assert chapter.solution_cells >= n_code, f"{chapter.docname}: a code exercise lacks a cell"
    assert len(chapter.checks) >= chapter.solution_cells


def _student_page(docname: str):
    return homework.student_notebook(_instructor(docname), where=docname)


def test_no_student_notebook_imports_the_answer_to_its_own_exercise(chapter):
    """``from weightreg.penalties import prox_l1`` would hand the answer of ``check.prox_l1``
    to the student by name: the student edition writes the library's function in full."""
    page = _student_page(chapter.docname)
    assert homework.answer_imports(page) == []
    hidden = set(homework.hidden_answers(page))
    for n, cell in enumerate(page.cells, start=1):
        if cell.cell_type == "code" and hidden:
            names = {x.id for x in ast.walk(ast.parse(cell.source)) if isinstance(x, ast.Name)}
            assert not names & hidden, f"{chapter.docname}, cell {n} uses {names & hidden}"


def test_the_answer_rule_has_teeth():
    """The test above is meaningful: instructor notebooks do import some answers."""
    found = [d for d in DOCNAMES if homework.answer_imports(_instructor(d))]
    assert len(found) >= 5, found


def test_no_student_cell_computes_numbers_only_solutions_quote(chapter):
    cells = homework.solution_only_cells(_instructor(chapter.docname))
    assert cells == [], (
        f"{chapter.docname}: code cells {cells} glue numbers that only solutions quote; that "
        "belongs to the solution: move it to a cell tagged [remove-cell, instructor-only]"
    )


def _stored_and_loaded(source: str) -> tuple[set[str], set[str]]:
    stored, loaded = set(), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else stored).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            stored.add(node.name)
        elif isinstance(node, ast.alias):
            stored.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.arg):
            stored.add(node.arg)
    return stored, loaded


def test_no_cell_of_the_student_edition_needs_an_instructor_only_cell(chapter):
    """What an instructor-only cell defines is used by no later cell of the student edition
    (read from the code: the execution in ``make student`` would find it only at the end)."""
    kept, dropped = set(dir(builtins)), {}
    for n, cell in enumerate(_instructor(chapter.docname).cells, start=1):
        if cell.cell_type != "code":
            continue
        stored, loaded = _stored_and_loaded(cell.source)
        if homework.INSTRUCTOR_ONLY in cell.metadata.get("tags", []):
            dropped.update({name: n for name in stored - kept if name not in dropped})
            continue
        needs = {name: dropped[name] for name in (loaded - stored - kept) & set(dropped)}
        assert not needs, f"{chapter.docname}, cell {n} uses names of instructor-only cells {needs}"
        kept |= stored


def test_every_check_called_exists_and_every_check_is_called():
    checks = homework.available_checks()
    called = {name for ch in _chapters() for name in ch.checks}
    assert called <= set(checks), f"chapters call unknown checks: {sorted(called - set(checks))}"
    assert set(checks) <= called, f"checks no chapter calls: {sorted(set(checks) - called)}"


def test_every_chapter_is_handed_out(student_edition):
    names = sorted(p.stem for p in (student_edition / "notebooks").glob("*.ipynb"))
    assert names == sorted(Path(d).name for d in DOCNAMES)


def test_handout_contains_no_solution(student_edition, chapter):
    name = Path(chapter.docname).name
    handout = nbformat.read(student_edition / "notebooks" / f"{name}.ipynb", as_version=4)
    text = _all_text(handout)
    secrets = _solution_lines(_instructor(chapter.docname))
    assert secrets or chapter.stub, "found no solution text to look for"
    leaked = sorted(secrets & _lines(text))
    assert leaked == [], f"{name}.ipynb shows solution text: {leaked}"
    for cell in handout.cells:
        assert cell.get("outputs", []) == [], f"{name}.ipynb has outputs"
        if cell.cell_type == "markdown":
            assert homework.parse_solutions(cell.source) == []
    assert text.count("raise NotImplementedError(") >= chapter.solution_cells


def test_student_html_page_contains_no_solution(student_html, chapter):
    """No page of the student book shows a line of the chapter's solutions, and the notebook
    that the chapter's download button offers does not either."""
    secrets = _solution_lines(_instructor(chapter.docname), _public_lines())
    for page in sorted((student_html / "book").rglob("*.html")):
        leaked = sorted(secrets & _lines(_html_text(page)))
        assert leaked == [], f"{page.relative_to(student_html)} shows {leaked}"
    download = nbformat.read(student_html / "_sources" / f"{chapter.docname}.ipynb", 4)
    assert sorted(secrets & _lines(_all_text(download))) == []
    assert all(c.get("outputs", []) == [] for c in download.cells)


def test_handout_executes_with_only_the_stubs_failing(student_edition, chapter):
    executed = nbformat.read(student_edition / "source" / f"{chapter.docname}.ipynb", 4)
    handout = nbformat.read(
        student_edition / "notebooks" / f"{Path(chapter.docname).name}.ipynb", as_version=4
    )
    assert [c.source for c in executed.cells] == [c.source for c in handout.cells]
    problems, _ = student.student_errors(executed)  # each check cell: NotImplementedError
    assert problems == []


def test_student_html_check_outputs_are_plain_text(student_html, chapter):
    if not chapter.checks:
        pytest.skip("no code exercise")
    page = (student_html / f"{chapter.docname}.html").read_text()
    cells = _check_cells_html(page)
    source = _instructor(chapter.docname).cells
    n_checks = sum(homework.CHECK_TAG in c.metadata.get("tags", []) for c in source)
    assert len(cells) == n_checks, f"{chapter.docname}: {len(cells)} check cells in the HTML"
    for cell in cells:
        assert "highlight-ipythontb" not in cell and "highlight-text" in cell
        assert "NotImplementedError" in cell


def test_student_html_has_no_solution_block(student_html):
    assert (student_html / "index.html").exists()
    assert _solution_admonitions(student_html) == []


def test_instructor_html_has_the_solution_blocks(book_html):
    """Counterpart of the test above: the same class does appear in the instructor book."""
    n_solutions = sum(len(c.solutions) for c in _chapters())
    if n_solutions == 0:
        pytest.skip("no markdown solutions yet")
    assert _solution_admonitions(book_html)


def test_reference_solution_passes_its_check(book_html, chapter):
    executed = book_html.parent / "jupyter_execute" / f"{chapter.docname}.ipynb"
    if not chapter.checks:
        pytest.skip("no code exercise")
    nb = nbformat.read(executed, as_version=4)
    checks = [c for c in nb.cells if homework.CHECK_TAG in c.metadata.get("tags", [])]
    assert checks, f"{executed} has no check cell"
    for cell in checks:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert errors == [], f"{chapter.docname}: {cell.source!r} failed on the reference"
        assert "Well done:" in text, f"{chapter.docname}: {cell.source!r} printed {text!r}"


# --------------------------------------------------------------------------- the book's structure


def test_toc_and_chapters_of_the_fixture_and_of_the_book():
    assert homework.toc_docnames(FIXTURE) == ["book/index", "book/demo"]
    assert homework.chapter_docnames(FIXTURE) == ["book/demo"]
    chapters = homework.chapter_docnames(ROOT)
    assert chapters[0] == "book/overfitting"
    assert not [d for d in chapters if d.startswith("book/reference/") or d == "book/preface"]
    assert homework.find_root(FIXTURE / "book") == FIXTURE.resolve()
    with pytest.raises(FileNotFoundError, match="no _toc.yml"):
        homework.find_root("/")
    with pytest.raises(FileNotFoundError, match="book/missing"):
        homework.page_path(FIXTURE, "book/missing")


def test_exercise_table_links_every_exercise_and_totals_the_time():
    demo = homework.read_chapter(FIXTURE, "book/demo")
    stub = homework.Chapter("book/later", "Later", True, (), (), 0)
    table = homework.exercise_table([demo, stub])
    assert "{ref}`Gradient of the penalty <ex-demo-derive>`" in table
    assert "| {doc}`/book/demo` | *reading the chapter* | | ? |" in table  # first row: reading
    assert "|  | {ref}`Gradient" in table
    assert "| | **total** | | **45** |" in table  # no reading time stated: it counts 0
    assert "| {doc}`/book/later` | *being written* | | |" in table


def test_exercise_titles_lose_their_tex_in_links():
    assert (
        homework.plain_title(r"AdamW's fixed point with $\epsilon$") == "AdamW's fixed point with ϵ"
    )
    assert homework.plain_title(r"The $L_{0.5}$ prox, $\lambda$ and $\eta t$") == (
        "The L0.5 prox, λ and η t"
    )
    assert homework.plain_title("no math") == "no math"


def test_checks_markdown_shows_each_docstring_and_where_it_is_used():
    def lk_grad(fn):
        """Check the gradient of the Lk penalty, see :func:`weightreg.penalties.lk_grad`.

        Diagnoses the sign at negative weights.
        """

    demo = homework.Chapter("book/demo", "Demo", False, (), (), 1, ("lk_grad",))
    text = homework.checks_markdown([demo], {"lk_grad": lk_grad, "unused": lk_grad})
    assert "`check.lk_grad` (used in {doc}`/book/demo`)\n: Check the gradient" in text
    assert "see `weightreg.penalties.lk_grad`" in text  # reST roles become code
    assert "\n  Diagnoses the sign at negative weights." in text
    assert "`check.unused` (used in no chapter yet)" in text
    assert homework.checks_markdown([demo], {}) == "*No self-checks yet.*"

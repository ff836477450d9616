"""The self-check machinery (``weightreg.check._core``) and the rules every check follows.

Every check in ``weightreg.check`` must be exported, documented (the instructor page shows
its docstring) and tested in ``tests/test_check_<part>.py`` on at least two typical wrong
answers, each expected to fail with its own message (``pytest.raises(CheckFailed,
match=...)``, parametrized or not). The test files are scanned, not imported, so a check
whose tests are missing is reported by name here.
"""

from __future__ import annotations

import ast
import inspect
import math
from collections import Counter
from pathlib import Path

import pytest
from homework import HomeworkError, available_checks  # tools/homework.py (see conftest.py)

import weightreg.check
from weightreg.check._core import NOT_DONE, CheckFailed, call_student, fail, passed

TESTS = Path(__file__).parent
CHECKS = available_checks()


# --------------------------------------------------------------------------- _core


def test_fail_raises_check_failed_with_the_message():
    with pytest.raises(CheckFailed, match="^the factor 1/2 is missing.$"):
        fail("the factor 1/2 is missing.")
    assert issubclass(CheckFailed, AssertionError)
    assert weightreg.check.CheckFailed is CheckFailed


def test_passed_prints_one_line(capsys):
    passed("l2_penalty", 4)
    assert capsys.readouterr().out == "Well done: l2_penalty passed all 4 checks.\n"


def test_call_student_returns_the_result():
    assert call_student(lambda a, b=0: a + b, 1, b=2, what="a = 1") == 3


def test_call_student_lets_an_unfinished_stub_through():
    def stub(w):
        raise NotImplementedError("Complete my_grad")

    with pytest.raises(NotImplementedError, match="Complete my_grad"):
        call_student(stub, 1.0, what="w = 1")


def test_an_unfinished_stub_shows_its_message_and_what_to_do():
    def stub(w):
        raise NotImplementedError("Complete my_grad")

    with pytest.raises(NotImplementedError) as info:
        call_student(stub, 1.0, what="w = 1")
    assert info.value._render_traceback_() == ["NotImplementedError: Complete my_grad", NOT_DONE]


def test_a_failed_check_shows_its_message_without_a_traceback():
    with pytest.raises(CheckFailed) as info:
        fail("the sign is wrong at negative w.")
    assert info.value._render_traceback_() == ["CheckFailed: the sign is wrong at negative w."]


def test_call_student_turns_a_crash_into_a_hint():
    def crashes(w):
        raise ValueError("shapes do not match")

    with pytest.raises(
        CheckFailed, match=r"raised ValueError: shapes do not match when called on w = \[1, 2\]"
    ):
        call_student(crashes, [1, 2], what="w = [1, 2]")


@pytest.mark.parametrize("not_a_function", [None, 3.0, "my_grad"])
def test_call_student_wants_the_function_itself(not_a_function):
    with pytest.raises(TypeError, match=r"pass your function itself .* got"):
        call_student(not_a_function, 1.0, what="w = 1")


# --------------------------------------------------------------------------- every check


def test_every_check_is_exported_by_weightreg_check():
    """``from weightreg.check import *`` and the instructor page see every check."""
    missing = sorted(set(CHECKS) - set(weightreg.check.__all__))
    assert not missing, (
        f"add {missing} to weightreg.check.__all__ (e.g. __all__ = ['CheckFailed', "
        "*baseline.__all__, *lk.__all__, ...] in src/weightreg/check/__init__.py)"
    )
    for name, fn in CHECKS.items():
        assert getattr(weightreg.check, name) is fn, f"check.{name} is shadowed"


def test_weightreg_check_exports_only_checks():
    extra = set(weightreg.check.__all__) - set(CHECKS) - {"CheckFailed"}
    assert not extra, f"weightreg.check.__all__ lists {sorted(extra)}, which no module defines"


def test_no_two_check_modules_export_the_same_name():
    available_checks()  # raises HomeworkError on a clash
    assert issubclass(HomeworkError, ValueError)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_is_documented_and_takes_the_students_function(name):
    fn = CHECKS[name]
    doc = inspect.getdoc(fn)
    assert doc and len(doc.split()) >= 5, f"check.{name} needs a docstring saying what it covers"
    params = list(inspect.signature(fn).parameters.values())
    assert params and params[0].kind in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ), f"check.{name} must take the student's function as its first argument"


# --------------------------------------------------------------------------- their tests


def _is_check_failed(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "CheckFailed") or (
        isinstance(node, ast.Attribute) and node.attr == "CheckFailed"
    )


def _raises_with_match(node: ast.AST) -> bool:
    """``pytest.raises(CheckFailed, match=...)`` (or ``check.CheckFailed``)."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "raises"
        and bool(node.args)
        and _is_check_failed(node.args[0])
        and any(k.arg == "match" for k in node.keywords)
    )


def _n_cases(decorator: ast.expr, literals: dict[str, int]) -> int:
    """Number of cases of a ``@pytest.mark.parametrize(names, values)`` decorator (else 1)."""
    if not (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr == "parametrize"
        and len(decorator.args) >= 2
    ):
        return 1
    values = decorator.args[1]
    if isinstance(values, ast.List | ast.Tuple):
        return len(values.elts)
    if isinstance(values, ast.Name):
        return literals.get(values.id, 1)
    return 1


def scan_check_tests(sources: dict[str, str], names: set[str]) -> dict[str, Counter[str]]:
    """For each check name, what the test ``sources`` do with it.

    Returns ``{name: Counter(wrong=..., other=...)}``: ``wrong`` counts the cases expected to
    fail with a message (``pytest.raises(CheckFailed, match=...)`` blocks in a test function
    that refers to the check, times the cases of its ``parametrize`` decorators); ``other``
    counts the test functions that refer to it without expecting a failure (e.g. the
    reference solution passing).
    """
    found: dict[str, Counter[str]] = {name: Counter() for name in names}
    for source in sources.values():
        tree = ast.parse(source)
        literals = {
            target.id: len(node.value.elts)
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.List | ast.Tuple)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef) or not func.name.startswith("test"):
                continue
            nodes = list(ast.walk(func))
            referred = {n.attr for n in nodes if isinstance(n, ast.Attribute)}
            referred |= {n.id for n in nodes if isinstance(n, ast.Name)}
            raises = sum(_raises_with_match(n) for n in nodes)
            cases = math.prod(_n_cases(d, literals) for d in func.decorator_list)
            for name in referred & names:
                if raises:
                    found[name]["wrong"] += raises * cases
                else:
                    found[name]["other"] += 1
    return found


def test_the_scanner_counts_parametrized_and_plain_wrong_answers():
    sources = {
        "a": (
            "WRONG = [(f, 'x'), (g, 'y'), (h, 'z')]\n"
            "@pytest.mark.parametrize(('fn', 'msg'), WRONG)\n"
            "def test_a(fn, msg):\n"
            "    with pytest.raises(check.CheckFailed, match=msg):\n"
            "        check.alpha(fn)\n"
            "def test_b():\n"
            "    with pytest.raises(CheckFailed, match='1/2'):\n"
            "        beta(f)\n"
            "    with pytest.raises(CheckFailed, match='sign'):\n"
            "        beta(g)\n"
            "def test_c():\n"
            "    with pytest.raises(CheckFailed):\n"  # no match=: not counted
            "        gamma(f)\n"
            "def test_ok(capsys):\n"
            "    check.alpha(ref)\n"
        )
    }
    found = scan_check_tests(sources, {"alpha", "beta", "gamma", "delta"})
    assert found["alpha"] == Counter(wrong=3, other=1)
    assert found["beta"] == Counter(wrong=2)
    assert found["gamma"] == Counter(other=1)
    assert found["delta"] == Counter()


def _check_test_sources() -> dict[str, str]:
    return {
        path.name: path.read_text()
        for path in sorted(TESTS.glob("test_check_*.py"))
        if path.name != Path(__file__).name
    }


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_is_tested_on_typical_wrong_answers(name):
    found = scan_check_tests(_check_test_sources(), set(CHECKS))[name]
    module = CHECKS[name].__module__.rsplit(".", 1)[-1]
    assert found["wrong"] >= 2, (
        f"check.{name}: tests/test_check_{module}.py should feed it at least two typical wrong "
        f"answers, each in pytest.raises(CheckFailed, match=<its message>); found {found['wrong']}"
    )
    assert found["other"] >= 1, f"check.{name}: no test shows a correct solution passing"

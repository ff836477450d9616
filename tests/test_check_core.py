"""The self-check machinery (``weightreg.check._core``) and the rules every check follows.

Every check in ``weightreg.check`` must be exported, documented (the instructor page shows
its docstring) and tested in ``tests/test_check_<part>.py`` on at least two typical wrong
answers, each expected to fail with its own message (``pytest.raises(CheckFailed,
match=...)``, parametrized or not). The test files are scanned, not imported, so a check
whose tests are missing is reported by name here.
"""

from __future__ import annotations

import ast
import functools
import inspect
import math
from collections import Counter
from pathlib import Path

import pytest
import torch
from homework import HomeworkError, available_checks  # tools/homework.py (see conftest.py)

import weightreg
import weightreg.check
import weightreg.penalties
from weightreg.check._core import (
    NOT_DONE,
    CheckFailed,
    NotAFunction,
    Verdict,
    agrees,
    as_float,
    as_tensor,
    call_student,
    call_untouched,
    describe,
    fail,
    note,
    passed,
    selfcheck,
    uses_library,
)
from weightreg.penalties import prox_l1 as library_prox_l1

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


# --------------------------------------------------------------------------- selfcheck


@selfcheck
def _toy_check(fn, scale=1.0):
    """A toy check: fn(x) must return 2 * x (used to test the decorator)."""
    x = torch.tensor([1.0, -2.0], dtype=torch.float64) * scale
    out = call_student(fn, x, what="x = [1, -2]")
    if not agrees(as_tensor(out, what="x", shape=x.shape), 2 * x, dtype=torch.float64, what="x"):
        fail("the result is not twice x.")
    passed("toy", 1)


def test_a_verdict_is_true_exactly_when_it_passed():
    assert Verdict(True, "ok") and not Verdict(False, "wrong")
    assert Verdict(True, "ok").notes == ()


def test_a_decorated_check_prints_and_raises_as_before(capsys):
    assert _toy_check(lambda x: 2 * x) is None  # a cell ending in the check shows only its line
    assert capsys.readouterr().out == "Well done: toy passed all 1 checks.\n"
    with pytest.raises(CheckFailed, match="not twice"):
        _toy_check(lambda x: 3 * x)


def test_quiet_returns_a_verdict_and_prints_nothing(capsys):
    def noisy(x):
        print("debugging output")
        return 2 * x

    assert _toy_check(noisy, quiet=True) == Verdict(True, "Well done: toy passed all 1 checks.")
    verdict = _toy_check(lambda x: 3 * x, quiet=True)
    assert verdict == Verdict(False, "the result is not twice x.") and not verdict
    assert capsys.readouterr().out == ""


def test_quiet_keeps_the_arguments_of_the_check():
    assert _toy_check(lambda x: 2 * x, 3.0, quiet=True)
    assert "quiet" in inspect.signature(_toy_check).parameters


def test_an_unfinished_stub_is_a_failed_verdict_when_quiet_and_unchanged_otherwise():
    def stub(x):
        raise NotImplementedError("Complete my_double")

    verdict = _toy_check(stub, quiet=True)
    assert not verdict and "Complete my_double" in verdict.message and NOT_DONE in verdict.message
    with pytest.raises(NotImplementedError) as info:
        _toy_check(stub)
    assert info.value._render_traceback_() == ["NotImplementedError: Complete my_double", NOT_DONE]


@selfcheck
def _broken_check(fn):
    """A check whose own code crashes on the student's result (as a dtype mismatch would)."""
    out = call_student(fn, torch.ones(2, dtype=torch.float64), what="w = [1, 1]")
    torch.ones(2, dtype=torch.float64).add_(out)  # reference code that crashes on bad input
    passed("broken", 1)


@pytest.mark.parametrize("quiet", [False, True])
def test_no_error_from_inside_a_check_reaches_the_student(quiet):
    student = lambda w: torch.ones(2, 2, dtype=torch.int64)  # noqa: E731
    if quiet:
        verdict = _broken_check(student, quiet=True)
        message = verdict.message
        assert not verdict
    else:
        with pytest.raises(CheckFailed) as info:
            _broken_check(student)
        message = str(info.value)
        assert info.value.__suppress_context__  # no chained traceback either
    assert "on w = [1, 1]" in message and "torch.int64" in message and "(2, 2)" in message
    assert "add_" not in message and "RuntimeError" not in message


def test_a_not_implemented_error_of_the_check_itself_is_not_taken_for_a_stub():
    @selfcheck
    def unfinished_check(fn):
        """A check that raises NotImplementedError itself (not the student's stub)."""
        call_student(fn, 1.0, what="x = 1")
        raise NotImplementedError("internal")

    verdict = unfinished_check(lambda x: x, quiet=True)
    assert not verdict and "internal" not in verdict.message


@pytest.mark.parametrize("not_a_function", [None, 3.0, "my_double"])
def test_a_decorated_check_wants_the_function_itself(not_a_function):
    with pytest.raises(NotAFunction, match="pass your function itself"):
        _toy_check(not_a_function)
    assert issubclass(NotAFunction, TypeError) and issubclass(NotAFunction, CheckFailed)
    assert not _toy_check(not_a_function, quiet=True)


# --------------------------------------------------------------------------- dtype policy


F64 = torch.tensor([1.0, 1.0 / 3.0, -2.5], dtype=torch.float64)


def test_a_result_in_the_chapters_dtype_is_compared_at_its_tolerance():
    assert agrees(F64.clone(), F64, dtype=torch.float64, what="w")
    assert not agrees(F64 + 1e-3, F64, dtype=torch.float64, what="w")
    assert agrees(F64.float(), F64, dtype=torch.float32, what="w")
    assert not agrees(F64.float() * 1.001, F64, dtype=torch.float32, what="w")


def test_a_float32_result_from_float64_inputs_passes_with_a_note(capsys):
    @selfcheck
    def check_f32(fn):
        """Toy check in a float64 chapter."""
        out = call_student(fn, F64, what="w")
        if not agrees(out, 2 * F64, dtype=torch.float64, what="w"):
            fail("wrong")
        passed("f32", 1)

    verdict = check_f32(lambda w: torch.zeros(3).copy_(2 * w), quiet=True)
    assert verdict and len(verdict.notes) == 1
    assert "your result is float32 while the inputs are float64" in verdict.notes[0]
    assert "torch.zeros(shape)" in verdict.notes[0] and "zeros_like" in verdict.notes[0]
    check_f32(lambda w: (2 * w).float())
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Well done: f32 passed all 1 checks." and out[1].startswith(
        "Note: your result"
    )


def test_a_float64_result_in_a_float32_chapter_passes_with_a_note():
    @selfcheck
    def check_in_f32(fn):
        """Toy check in a float32 chapter."""
        w = F64.float()
        if not agrees(call_student(fn, w, what="w"), 2 * F64, dtype=torch.float32, what="w"):
            fail("wrong")
        passed("f64", 1)

    verdict = check_in_f32(lambda w: 2 * w.double(), quiet=True)
    assert verdict and "your result is float64 while the inputs are float32" in verdict.notes[0]
    assert check_in_f32(lambda w: 2 * w, quiet=True).notes == ()


def test_a_float64_result_with_float32_precision_says_so():
    rounded = F64.float().double()
    with pytest.raises(CheckFailed, match="agrees .* to about 7 digits only.*float32 somewhere"):
        agrees(rounded, F64, dtype=torch.float64, what="w")


def test_a_python_number_is_compared_at_float32_tolerance_with_a_remark():
    """A Python float does not show the precision it was computed in."""
    third = torch.tensor(1 / 3, dtype=torch.float64)

    @selfcheck
    def check_number(fn):
        """Toy check of a function returning a Python float, in a float64 chapter."""
        if not agrees(call_student(fn, what="x"), third, dtype=torch.float64, what="x"):
            fail("wrong")
        passed("number", 1)

    assert check_number(lambda: 1 / 3, quiet=True).notes == ()
    verdict = check_number(lambda: float(torch.tensor(1 / 3, dtype=torch.float32)), quiet=True)
    assert verdict and "7 digits only" in verdict.notes[0]
    assert not check_number(lambda: 0.3334, quiet=True)


def test_a_failure_on_a_lower_precision_result_says_so():
    @selfcheck
    def check_f64(fn):
        """Toy check in a float64 chapter whose answer fails."""
        out = call_student(fn, F64, what="w")
        if not agrees(out, 2 * F64, dtype=torch.float64, what="w"):
            fail("the values are wrong.")
        passed("f64", 1)

    verdict = check_f64(lambda w: (3 * w).float(), quiet=True)
    assert not verdict and verdict.message.startswith("the values are wrong. (Your result is")
    assert "float32 while the inputs are float64" in verdict.message
    assert check_f64(lambda w: 3 * w, quiet=True).message == "the values are wrong."


def test_describe_names_a_0d_tensor():
    assert describe(torch.tensor(1.0)) == "a 0-d tensor of dtype torch.float32 and shape ()"
    assert describe([1.0, 2]) == "a list of 2 items (float, int)"


def test_python_floats_are_float64_and_half_precision_is_refused():
    assert agrees(1 / 3, torch.tensor(1 / 3, dtype=torch.float64), dtype=torch.float64, what="x")
    with pytest.raises(CheckFailed, match="float16"):
        agrees(F64.half(), F64, dtype=torch.float64, what="w")


def test_as_tensor_names_the_type_dtype_and_shape():
    with pytest.raises(CheckFailed, match="returned a list"):
        as_tensor([1.0], what="w")
    with pytest.raises(CheckFailed, match="ndarray.*NumPy"):
        as_tensor(F64.numpy(), what="w")
    with pytest.raises(CheckFailed, match="torch.int64"):
        as_tensor(torch.ones(3, dtype=torch.int64), what="w")
    with pytest.raises(CheckFailed, match=r"shape \(1, 3\).*shape \(3,\)"):
        as_tensor(F64[None], what="w", shape=(3,))
    assert as_tensor(F64, what="w", shape=(3,)) is F64


def test_as_float_refuses_a_tensor_where_a_float_is_asked():
    assert as_float(2, what="x") == 2.0 and as_float(F64[0], what="x", strict=False) == 1.0
    with pytest.raises(CheckFailed, match="Python float.*float\\(...\\) or .item\\(\\)"):
        as_float(torch.tensor(2.0), what="x")
    with pytest.raises(CheckFailed, match="shape \\(3,\\)"):
        as_float(F64, what="x", strict=False)


def test_a_note_outside_a_check_is_printed(capsys):
    note("something kind")
    assert capsys.readouterr().out == "Note: something kind\n"


# --------------------------------------------------------------------------- call_untouched


@pytest.mark.parametrize(
    "student",
    [
        lambda w, g: w.abs_(),
        lambda w, g: g.neg_() * 0 + w,
        lambda w, g: w.data.pow_(2).sum(),
        lambda w, g: w.clamp_(min=-10.0),  # leaves the values, still in place
        lambda w, g: w.__setitem__(0, 0.0),
    ],
    ids=["abs_", "neg_ on grad", "data.pow_", "no-op clamp_", "setitem"],
)
def test_call_untouched_names_the_argument_changed_in_place(student):
    w = torch.tensor([-1.0, 2.0], dtype=torch.float64)
    g = torch.tensor([0.5, -0.5], dtype=torch.float64)
    with pytest.raises(CheckFailed, match="changed its input (w|grad) in place") as info:
        call_untouched(student, w, g, what="w = [-1, 2]", names=("w", "grad"))
    assert torch.equal(w, torch.tensor([-1.0, 2.0], dtype=torch.float64))  # the original
    assert torch.equal(g, torch.tensor([0.5, -0.5], dtype=torch.float64))
    assert "on w = [-1, 2]" in str(info.value)


def test_call_untouched_takes_the_names_from_the_students_function():
    with pytest.raises(CheckFailed, match="changed its input weights in place"):
        call_untouched(lambda weights: weights.neg_(), torch.ones(2), what="w")


def test_call_untouched_keeps_requires_grad_and_returns_the_result():
    w = torch.ones(3, requires_grad=True)
    out = call_untouched(lambda v: (v**2).sum(), w, what="w")
    assert out.requires_grad and float(out.detach()) == 3.0 and w.grad is None
    out, (copy,) = call_untouched(lambda v: (v**2).sum(), w, what="w", return_copies=True)
    assert copy is not w and torch.equal(torch.autograd.grad(out, copy)[0], 2 * torch.ones(3))


@pytest.mark.parametrize("student", [lambda w: w, lambda w: w.view(-1), lambda w: w[:]])
def test_call_untouched_with_fresh_refuses_the_input_itself(student):
    with pytest.raises(CheckFailed, match="returned its input w itself"):
        call_untouched(student, torch.ones(3), what="w", names=("w",), fresh=True)
    assert call_untouched(lambda w: w.clone(), torch.ones(3), what="w", fresh=True) is not None
    call_untouched(student, torch.ones(3), what="w")  # allowed without fresh


# --------------------------------------------------------------------------- uses_library


def _alias_import(z, t):
    import weightreg.penalties as P

    return P.prox_l1(z, t)


def _from_import(z, t):
    from weightreg.penalties import prox_l1 as soft

    return soft(z, t)


def _attribute(z, t):
    return weightreg.penalties.prox_l1(z, t)


_helper = lambda z, t: library_prox_l1(z, t)  # noqa: E731


def _through_a_helper(z, t):
    return _helper(z, t)


def _nested(z, t):
    def inner():
        return library_prox_l1(z, t)

    return inner()


@pytest.mark.parametrize(
    "student",
    [_alias_import, _from_import, _attribute, _through_a_helper, _nested, library_prox_l1],
)
def test_uses_library_notices_a_call_to_the_answer(student):
    with pytest.raises(CheckFailed, match="calls weightreg's prox_l1, which is the answer"):
        uses_library(student, weightreg.penalties.prox_l1)


def _make_closure():
    soft = weightreg.penalties.prox_l1

    def student(z, t):
        return soft(z, t)

    return student


@pytest.mark.parametrize(
    "student",
    [_make_closure(), functools.partial(library_prox_l1), lambda z, t, f=library_prox_l1: f(z, t)],
    ids=["closure", "partial", "default argument"],
)
def test_uses_library_sees_closures_partials_and_defaults(student):
    with pytest.raises(CheckFailed, match="calls weightreg's prox_l1"):
        uses_library(student, weightreg.penalties.prox_l1)


def test_uses_library_lets_an_own_computation_through():
    def own(z, t):
        return torch.sign(z) * torch.clamp(z.abs() - t, min=0)

    uses_library(own, weightreg.penalties.prox_l1)
    uses_library(lambda z, t: weightreg.penalties.lk_grad(z, 1, t), weightreg.penalties.prox_l1)


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


def _stub(*args, **kwargs):
    raise NotImplementedError("Complete this exercise")


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_check_accepts_quiet_and_returns_a_verdict(name):
    """The API for tools: ``check.x(fn, quiet=True)`` never raises and never prints."""
    fn = CHECKS[name]
    assert getattr(fn, "__weightreg_selfcheck__", False), (
        f"check.{name} is not decorated with weightreg.check._core.selfcheck"
    )
    verdict = fn(_stub, quiet=True)
    assert isinstance(verdict, Verdict) and not verdict and NOT_DONE in verdict.message
    for nonsense in (lambda *a, **k: "a string", lambda *a, **k: torch.ones(7, 3, 2)):
        verdict = fn(nonsense, quiet=True)
        assert isinstance(verdict, Verdict) and not verdict, name


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

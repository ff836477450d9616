"""Shared machinery of the self-checks: how a check fails, passes and calls student code.

**Failing.** In a notebook, a failing check shows its message alone, without a traceback through
the check's own code (which would only distract, and could show the expected computation):
both :class:`CheckFailed` and the ``NotImplementedError`` of an unfinished stub passing through
:func:`call_student` render as short messages in IPython (``_render_traceback_``).

**Every check is decorated with** :func:`selfcheck`, which gives it a keyword ``quiet=False``:
``check.x(fn)`` prints its success line (and any notes) or raises :class:`CheckFailed`;
``check.x(fn, quiet=True)`` prints nothing and returns a :class:`Verdict` (``bool(v)`` is
``v.passed``), the API that grading tools use.  The decorator also guarantees that no exception
from the check's own code reaches the student: anything but :class:`CheckFailed` and a stub's
``NotImplementedError`` becomes a :class:`CheckFailed` that describes what the student's
function returned (its type, dtype and shape), never the reference computation.

**The dtype policy** (one helper, :func:`agrees`, used by every check).  A check knows its
chapter's dtype (``torch.float32`` for the chapters that train in float32: *Overfitting in high
dimensions*, *The hard-constraint view*, *The soft-constraint view*, *SGD with weight decay*,
*AdamW*; ``torch.float64`` for the others, which set it as the default) and feeds its inputs
in that dtype.  The reference is computed in float64.

* A result in the chapter's dtype is compared at that dtype's tolerance (:data:`TOLERANCE`).
* A result in another floating dtype (float32 from float64 inputs: ``torch.zeros(shape)`` and
  ``torch.Tensor(...)`` make float32; or float64 in a float32 chapter) is compared at the looser
  of the two tolerances; if it agrees, it passes with a printed note saying so.
* A float64 tensor in a float64 chapter that agrees only to float32 precision fails with
  "agrees to 7 digits: float32 somewhere?".
* A Python (or NumPy float64) number, whose type does not show the precision it was computed
  in, is compared at float32 tolerance; in a float64 chapter, agreeing only to 7 digits passes
  with that remark as a note.
* A failure on a result of lower precision than the inputs says so ("your result is float32
  while the inputs are float64").
* float16/bfloat16 and non-floating results fail with a message naming their dtype.

**Inputs untouched.** :func:`call_untouched` calls the student's function on clones of its
tensor arguments and fails, naming the argument, if one was changed in place (``abs_()``,
``neg_()``, ``.data`` tricks), or, with ``fresh=True``, if the result *is* one of the inputs.

**No library answers.** :func:`uses_library` fails kindly when the student's function simply
calls the library function that answers the exercise (``weightreg.penalties.prox_l1`` for
``check.prox_l1``).
"""

from __future__ import annotations

import builtins
import contextlib
import contextvars
import dis
import functools
import inspect
import io
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, NoReturn

import torch

__all__ = [
    "TOLERANCE",
    "CheckFailed",
    "NotAFunction",
    "Tol",
    "Verdict",
    "agrees",
    "as_float",
    "as_tensor",
    "call_student",
    "call_untouched",
    "close",
    "describe",
    "fail",
    "note",
    "passed",
    "result_dtype",
    "selfcheck",
    "tolerance",
    "uses_library",
]

NOT_DONE = (
    "This exercise is not done yet: replace the line raise NotImplementedError(...) in the "
    "cell above with your code, run that cell, then run this check again."
)
"""What a student reads under the stub's message when a check meets an unfinished stub."""

DTYPE_HINT = (
    "torch.zeros(shape) and torch.Tensor(...) make float32; torch.zeros_like(w) and "
    "w.new_zeros(shape) keep the dtype of w"
)
"""Where an unexpected float32 usually comes from."""


class CheckFailed(AssertionError):
    """A self-check found a mistake. The message says what is wrong, never the answer."""

    def _render_traceback_(self) -> list[str]:
        """How IPython shows the failure: the message, without the check's traceback."""
        return [f"CheckFailed: {self}"]


class NotAFunction(CheckFailed, TypeError):
    """The check was handed something that is not a function (a ``TypeError`` too)."""


@dataclass(frozen=True)
class Verdict:
    """What a check returns with ``quiet=True``: ``bool(verdict)`` is ``verdict.passed``.

    ``message`` is the success line or the failure message; ``notes`` are the kind remarks
    printed under a success (e.g. a result in another dtype that agrees).
    """

    passed: bool
    message: str
    notes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.passed


@dataclass
class _Run:
    """The state of one running check (a context variable, so nested checks do not mix)."""

    quiet: bool = False
    notes: list[str] = field(default_factory=list)
    success: str = ""
    last_what: str | None = None
    last_result: Any = None
    has_result: bool = False
    low_precision: tuple[torch.dtype, torch.dtype] | None = None  # (result's, chapter's) dtype


_RUN: contextvars.ContextVar[_Run | None] = contextvars.ContextVar(
    "weightreg_check_run", default=None
)


def fail(message: str) -> NoReturn:
    """Stop the check with a kind, specific ``message``."""
    raise CheckFailed(message)


def note(message: str) -> None:
    """Add a kind remark printed under the success line (once, however often it is noted)."""
    run = _RUN.get()
    if run is None:
        print(f"Note: {message}")
    elif message not in run.notes:
        run.notes.append(message)


def passed(name: str, n_cases: int) -> None:
    """Print the one-line success message of a check (and its notes); nothing when quiet."""
    line = f"Well done: {name} passed all {n_cases} checks."
    run = _RUN.get()
    if run is None:
        print(line)
        return
    run.success = line
    if not run.quiet:
        print(line)
        for text in run.notes:
            print(f"Note: {text}")


def call_student(fn: Callable[..., Any], *args: Any, what: str, **kwargs: Any) -> Any:
    """Call the student's ``fn`` on ``args``/``kwargs``, described as ``what`` in messages.

    Any exception raised inside ``fn`` becomes a :class:`CheckFailed` naming its type, its
    message and ``what``. ``NotImplementedError`` (an unfinished stub) passes through
    unchanged, so an unfinished exercise reads as unfinished, not as wrong; in IPython it is
    shown as the stub's message and :data:`NOT_DONE`, without a traceback.  Anything that is
    not callable raises :class:`NotAFunction`.
    """
    if not callable(fn):
        raise NotAFunction(
            f"pass your function itself (e.g. check.x(my_x)), got {type(fn).__name__}"
        )
    run = _RUN.get()
    try:
        out = fn(*args, **kwargs)
    except NotImplementedError as exc:
        message = f"NotImplementedError: {exc}"
        exc._render_traceback_ = lambda: [message, NOT_DONE]  # type: ignore[attr-defined]
        exc._weightreg_stub = True  # type: ignore[attr-defined]
        raise
    except CheckFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - any error in student code becomes a hint
        fail(f"your function raised {type(exc).__name__}: {exc} when called on {what}.")
    if run is not None:
        run.last_what, run.last_result, run.has_result = what, out, True
    return out


# --------------------------------------------------------------------------- the decorator


def describe(out: object) -> str:
    """A short description of a student's result: type, and dtype and shape for a tensor."""
    if isinstance(out, torch.Tensor):
        zero_d = "0-d " if out.dim() == 0 else ""
        return f"a {zero_d}tensor of dtype {out.dtype} and shape {tuple(out.shape)}"
    if hasattr(out, "dtype") and hasattr(out, "shape"):
        return f"a {type(out).__name__} of dtype {out.dtype} and shape {tuple(out.shape)}"
    if isinstance(out, tuple | list):
        inner = ", ".join(type(x).__name__ for x in out[:4])
        return (
            f"a {type(out).__name__} of {len(out)} items ({inner}{', ...' if len(out) > 4 else ''})"
        )
    return f"a {type(out).__name__}"


def _internal_error_message(run: _Run, exc: BaseException) -> str:
    if not run.has_result:
        return (
            "the check could not run your function on its cases "
            f"({type(exc).__name__}); check that it takes the arguments the exercise names."
        )
    return (
        f"the check could not use what your function returned on {run.last_what}: "
        f"{describe(run.last_result)}. Return what the exercise asks for (a floating tensor "
        f"of the input's dtype and shape, or a number); {DTYPE_HINT}."
    )


def _with_precision_remark(exc: CheckFailed, run: _Run) -> CheckFailed:
    """Add to a failure that the student's result was in a lower precision than the inputs."""
    if run.low_precision is None or "float32" in str(exc) or isinstance(exc, NotAFunction):
        return exc
    got, want = (_NAMES.get(d, str(d)) for d in run.low_precision)
    return CheckFailed(
        f"{exc} (Your result is {got} while the inputs are {want}: compute in {want}; "
        f"{DTYPE_HINT}.)"
    )


def selfcheck(check: Callable[..., None]) -> Callable[..., Any]:
    """Give a check the keyword ``quiet`` and the guarantee that no traceback reaches students.

    ``check(fn, ..., quiet=False)`` prints and raises as the undecorated check does (and
    returns None, so that a cell ending in the check shows only its line); ``quiet=True``
    prints nothing and returns a :class:`Verdict`.  Exceptions other than :class:`CheckFailed`
    and the stub's ``NotImplementedError`` become a :class:`CheckFailed` about the student's
    result.
    """

    @functools.wraps(check)
    def wrapper(
        fn: Callable[..., Any], *args: Any, quiet: bool = False, **kwargs: Any
    ) -> Verdict | None:
        run = _Run(quiet=bool(quiet))
        token = _RUN.set(run)
        sink = contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext()
        try:
            with sink:
                if not callable(fn):
                    raise NotAFunction(
                        f"pass your function itself (e.g. check.{check.__name__}(my_"
                        f"{check.__name__})), got {type(fn).__name__}"
                    )
                try:
                    check(fn, *args, **kwargs)
                except CheckFailed:
                    raise
                except NotImplementedError as exc:
                    if getattr(exc, "_weightreg_stub", False):
                        raise
                    raise CheckFailed(_internal_error_message(run, exc)) from None
                except Exception as exc:  # noqa: BLE001 - never a traceback for students
                    raise CheckFailed(_internal_error_message(run, exc)) from None
        except CheckFailed as exc:
            exc = _with_precision_remark(exc, run)
            if not quiet:
                raise exc from None
            return Verdict(False, str(exc))
        except NotImplementedError as exc:
            if not quiet:
                raise
            return Verdict(False, f"NotImplementedError: {exc}\n{NOT_DONE}")
        finally:
            _RUN.reset(token)
        if not quiet:
            return None  # a notebook cell ending in check.x(fn) shows the printed line only
        success = run.success or f"Well done: {check.__name__} passed."
        return Verdict(True, success, tuple(run.notes))

    signature = inspect.signature(check)
    params = list(signature.parameters.values())
    params.append(inspect.Parameter("quiet", inspect.Parameter.KEYWORD_ONLY, default=False))
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=params, return_annotation="Verdict | None"
    )
    wrapper.__weightreg_selfcheck__ = True  # type: ignore[attr-defined]
    return wrapper


# --------------------------------------------------------------------------- the dtype policy


class Tol(NamedTuple):
    """A tolerance ``|a - b| <= atol * scale + rtol * |b|``."""

    rtol: float
    atol: float


TOLERANCE: dict[torch.dtype, Tol] = {
    torch.float64: Tol(1e-9, 1e-12),
    torch.float32: Tol(2e-5, 1e-6),
}
"""The tolerance of a comparison with the float64 reference, by the dtype a result is in."""

_NAMES = {torch.float64: "float64", torch.float32: "float32"}


def result_dtype(out: object) -> torch.dtype | None:
    """The dtype a result was computed in: a tensor's, float64 for a Python float."""
    if isinstance(out, torch.Tensor):
        return out.dtype
    if isinstance(out, bool):
        return None
    if isinstance(out, float | int):
        return torch.float64
    dtype = getattr(out, "dtype", None)  # NumPy arrays and scalars
    if dtype is not None:
        return {"float64": torch.float64, "float32": torch.float32}.get(str(dtype))
    return None


def tolerance(result: torch.dtype | None, dtype: torch.dtype) -> Tol:
    """The looser of the tolerances of the result's dtype and the chapter's ``dtype``."""
    a = TOLERANCE.get(dtype, TOLERANCE[torch.float32])
    b = TOLERANCE.get(result, a) if result is not None else a
    return Tol(max(a.rtol, b.rtol), max(a.atol, b.atol))


def _float64(x: object) -> torch.Tensor:
    """``x`` as a float64 tensor (a Python float is not rounded through float32 on the way)."""
    if isinstance(x, torch.Tensor):
        return x.detach().to(torch.float64)
    return torch.as_tensor(x, dtype=torch.float64)


def close(a: object, b: object, tol: Tol, scale: float = 1.0) -> bool:
    """Whether ``a`` and ``b`` (tensors or numbers) agree at ``tol``, compared in float64.

    Shapes must match (a Python number matches a 0-d or one-element tensor); NaN and inf agree
    only with themselves at the same positions.
    """
    try:
        ta, tb = _float64(a), _float64(b)
    except (TypeError, ValueError, RuntimeError):
        return False
    if ta.shape != tb.shape:
        if ta.numel() == tb.numel() == 1:
            ta, tb = ta.reshape(()), tb.reshape(())
        else:
            return False
    finite = torch.isfinite(tb)
    if not torch.equal(torch.isfinite(ta), finite) or not torch.equal(ta[~finite], tb[~finite]):
        return False
    diff = (ta[finite] - tb[finite]).abs()
    return bool((diff <= tol.atol * scale + tol.rtol * tb[finite].abs()).all())


def _dtype_note(result: torch.dtype, dtype: torch.dtype) -> str:
    got, want = _NAMES.get(result, str(result)), _NAMES.get(dtype, str(dtype))
    if result == torch.float32:
        return (
            f"your result is {got} while the inputs are {want}: it agrees to {got} precision, "
            f"so it passes, but somewhere your code leaves {want} ({DTYPE_HINT})."
        )
    return (
        f"your result is {got} while the inputs are {want}: it agrees, so it passes; the "
        f"chapter computes in {want}, so keep the dtype of the inputs ({DTYPE_HINT})."
    )


def _is_number(out: object) -> bool:
    """A Python or NumPy scalar: a number whose precision its type does not show."""
    if isinstance(out, torch.Tensor | bool):
        return False
    return isinstance(out, float | int) or (
        getattr(out, "shape", None) == () and str(getattr(out, "dtype", "")) == "float64"
    )


SEVEN_DIGITS = (
    "agrees with the expected one to about 7 digits only, where float64 gives 15: float32 "
    f"somewhere? ({DTYPE_HINT}.)"
)


def agrees(
    out: object, expected: object, *, dtype: torch.dtype, what: str, scale: float = 1.0
) -> bool:
    """Whether the student's ``out`` agrees with the float64 ``expected`` under the dtype policy.

    A tensor in the chapter's ``dtype`` is compared at that dtype's tolerance; one in another
    floating dtype at the looser of the two, passing with a :func:`note` if it agrees.  A float64
    tensor in a float64 chapter that agrees only to float32 precision fails with a message
    ("agrees to 7 digits: float32 somewhere?").  A Python (or NumPy float64) number, whose type
    does not show the precision it was computed in, is compared at float32 tolerance; in a
    float64 chapter, one that agrees only to float32 precision passes with that remark as a
    note.  ``scale`` multiplies the absolute tolerance (the size of the numbers the result was
    computed from).
    """
    if _is_number(out):
        if not close(out, expected, tolerance(torch.float32, dtype), scale):
            return False
        if dtype == torch.float64 and not close(out, expected, TOLERANCE[dtype], scale):
            note(f"your number {SEVEN_DIGITS}")
        return True
    got = result_dtype(out)
    _refuse_low_precision(got, what)
    tol = tolerance(got, dtype)
    if close(out, expected, tol, scale):
        if got is not None and got != dtype:
            note(_dtype_note(got, dtype))
        return True
    if got == dtype == torch.float64 and close(out, expected, TOLERANCE[torch.float32], scale):
        fail(f"on {what}: your result {SEVEN_DIGITS}")
    run = _RUN.get()
    if run is not None and got is not None and _precision(got) < _precision(dtype):
        run.low_precision = (got, dtype)  # named in the failure message, if one follows
    return False


def _precision(dtype: torch.dtype) -> int:
    return torch.finfo(dtype).bits if dtype.is_floating_point else 0


def _refuse_low_precision(got: torch.dtype | None, what: str) -> None:
    if got in (torch.float16, torch.bfloat16):
        fail(
            f"on {what} your result has dtype {got}, which keeps only about 3 digits: compute "
            "in the dtype of the inputs."
        )


def as_tensor(
    out: object,
    *,
    what: str,
    shape: tuple[int, ...] | torch.Size | None = None,
    purpose: str = "one entry per input entry",
) -> torch.Tensor:
    """The student's result as a floating tensor, or a kind failure naming what is wrong.

    Fails on a non-tensor (a NumPy array, a list, a float), a non-floating or half-precision
    dtype, and, when ``shape`` is given, a different shape (``purpose`` says why the shape).
    """
    if not isinstance(out, torch.Tensor):
        hint = (
            " (a NumPy array: build the result with torch operations)"
            if hasattr(out, "__array__") and not isinstance(out, float | int)
            else ""
        )
        fail(f"on {what} your function returned {describe(out)}{hint}; return a torch tensor.")
    if not out.is_floating_point():
        fail(
            f"on {what} your result has dtype {out.dtype}; it should hold real numbers in the "
            "dtype of the inputs (an integer or boolean result loses the values)."
        )
    _refuse_low_precision(out.dtype, what)
    if shape is not None and tuple(out.shape) != tuple(shape):
        fail(
            f"on {what} your result has shape {tuple(out.shape)}, but it should have shape "
            f"{tuple(shape)} ({purpose})."
        )
    return out


def as_float(out: object, *, what: str, strict: bool = True) -> float:
    """The student's result as a Python float, where the exercise asks for a float.

    With ``strict`` a tensor (even 0-d) fails with a kind message: the exercise asks for a
    Python float (``float(x)`` or ``x.item()``).  Without it a one-element tensor is accepted.
    """
    if isinstance(out, bool):
        fail(f"on {what} your function returned a bool; return a number.")
    if isinstance(out, torch.Tensor):
        if out.numel() != 1:
            fail(
                f"on {what} your function returned a tensor of shape {tuple(out.shape)}; "
                "return one number."
            )
        if strict:
            fail(
                f"on {what} your function returned {describe(out)}, where the exercise asks "
                "for a Python float: convert it with float(...) or .item()."
            )
        _refuse_low_precision(out.dtype, what)
        return float(out.detach())
    if isinstance(out, int | float):
        return float(out)
    try:
        value = float(out)  # NumPy scalars
    except (TypeError, ValueError):
        fail(f"on {what} your function returned {describe(out)}; return a number.")
    return value


# --------------------------------------------------------------------------- inputs untouched


def _copy(a: Any) -> Any:
    if isinstance(a, torch.Tensor):
        return a.detach().clone().requires_grad_(a.requires_grad)
    return a


def call_untouched(
    fn: Callable[..., Any],
    *args: Any,
    what: str,
    names: tuple[str, ...] | None = None,
    fresh: bool = False,
    return_copies: bool = False,
    **kwargs: Any,
) -> Any:
    """Call the student's ``fn`` on copies of ``args``; fail if it changed one in place.

    ``names`` names the arguments in messages (default: the parameter names of ``fn``).  A
    tensor argument counts as changed if its values differ afterwards or if its version counter
    moved (an in-place operation such as ``abs_()``, ``neg_()``, ``pow_()`` even where it
    leaves the values, or a write through ``.data``).  With ``fresh=True``, a result that *is*
    one of the tensor arguments (or a view of one) fails too: the exercise asks for a new tensor.
    The original ``args`` are never touched.  Returns the result, or ``(result, copies)`` with
    ``return_copies=True`` (e.g. to differentiate the result with respect to the copy).
    """
    if names is None:
        try:
            names = tuple(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            names = ()
    names = tuple(names) + tuple(f"argument {i + 1}" for i in range(len(names), len(args)))
    copies = [_copy(a) for a in args]
    versions = [c._version if isinstance(c, torch.Tensor) else None for c in copies]
    out = call_student(fn, *copies, what=what, **kwargs)
    for name, a, c, v in zip(names, args, copies, versions, strict=False):
        if not isinstance(a, torch.Tensor):
            continue
        changed = c._version != v or c.shape != a.shape or c.dtype != a.dtype
        if not changed:
            same = torch.equal(c.detach(), a.detach()) or (
                bool(torch.isnan(a).any())
                and torch.equal(torch.isnan(c.detach()), torch.isnan(a))
                and torch.equal(c.detach().nan_to_num(), a.detach().nan_to_num())
            )
            changed = not same
        if changed:
            fail(
                f"your function changed its input {name} in place (on {what}): the caller's "
                f"tensor must stay as it was. Avoid in-place operations on {name} (methods ending "
                f"in _ such as abs_(), neg_(), pow_(), writes through {name}.data or "
                f"{name}[...] = ...); compute a new tensor instead."
            )
    if fresh and isinstance(out, torch.Tensor):
        for name, c in zip(names, copies, strict=False):
            if isinstance(c, torch.Tensor) and (
                out is c
                or (
                    out.numel() > 0
                    and c.numel() > 0
                    and out.untyped_storage().data_ptr() == c.untyped_storage().data_ptr()
                )
            ):
                fail(
                    f"on {what} your function returned its input {name} itself (or a view of "
                    f"it); the result must be a new tensor, which later changes to {name} do not "
                    f"alter (e.g. {name}.clone())."
                )
    return (out, copies) if return_copies else out


# --------------------------------------------------------------------------- library answers


def _code_objects(code: types.CodeType) -> list[types.CodeType]:
    found = [code]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found.extend(_code_objects(const))
    return found


def _resolve_module(name: str) -> Any:
    """An already imported module by its dotted name (never imports anything)."""
    return sys.modules.get(name)


def _referenced(fn: Any, depth: int, seen: set[int]) -> list[tuple[str, Any]]:
    """Objects that ``fn``'s code names: globals, their attributes, imports, closure cells.

    Functions defined by the student (outside weightreg, torch and numpy) are followed, to
    ``depth`` levels.
    """
    if isinstance(fn, functools.partial):
        return [("a partial", fn.func), *_referenced(fn.func, depth, seen)]
    fn = inspect.unwrap(fn) if callable(fn) else fn
    if isinstance(fn, types.MethodType):
        fn = fn.__func__
    code = getattr(fn, "__code__", None)
    if not isinstance(code, types.CodeType) or id(fn) in seen:
        return []
    seen.add(id(fn))
    glob = getattr(fn, "__globals__", {})
    found: list[tuple[str, Any]] = []
    for co in _code_objects(code):
        local: dict[str, Any] = {}
        current: Any = None  # the object the last instruction put on the stack, if known
        for ins in dis.get_instructions(co):
            op, arg = ins.opname, ins.argval
            if op in ("LOAD_GLOBAL", "LOAD_NAME"):
                current = glob.get(arg, getattr(builtins, str(arg), None))
            elif op in ("LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_DEREF", "LOAD_CLOSURE"):
                current = local.get(arg)
            elif op == "IMPORT_NAME":
                full = _resolve_module(str(arg))
                top = _resolve_module(str(arg).split(".")[0])
                local["__import_full__"], local["__import_top__"] = full, top
                current = top  # ``import a.b`` binds ``a``; ``from a.b import c`` follows
            elif op == "IMPORT_FROM":
                current = getattr(local.get("__import_full__"), str(arg), None)
                if current is None:  # ``import a.b as c``: IMPORT_FROM b on ``a``
                    current = getattr(local.get("__import_top__"), str(arg), None)
            elif op in ("LOAD_ATTR", "LOAD_METHOD") and current is not None:
                try:
                    current = (
                        getattr(current, str(arg))
                        if isinstance(current, types.ModuleType)
                        else inspect.getattr_static(current, str(arg))
                    )
                except AttributeError:
                    current = None
            elif op in ("STORE_FAST", "STORE_NAME", "STORE_DEREF") and current is not None:
                local[arg] = current
                continue
            else:
                current = None
                continue
            if current is not None:
                found.append((str(arg), current))
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            found.append(("a variable", cell.cell_contents))
        except ValueError:
            pass
    for default in getattr(fn, "__defaults__", None) or ():
        found.append(("a default argument", default))
    if depth > 0:
        for _, obj in list(found):
            target = obj.func if isinstance(obj, functools.partial) else obj
            module = getattr(target, "__module__", "") or ""
            if isinstance(target, types.FunctionType) and not module.startswith(
                ("weightreg", "torch", "numpy", "scipy", "sklearn")
            ):
                found.extend(_referenced(target, depth - 1, seen))
    return found


def uses_library(
    fn: Callable[..., Any], *functions: Callable[..., Any], exercise: str = ""
) -> None:
    """Fail kindly if ``fn`` calls one of ``functions``, the library's answers to the exercise.

    Found by identity of the objects ``fn``'s code refers to (globals, attribute chains such as
    ``weightreg.penalties.prox_l1``, closure variables, default arguments), in nested functions
    and lambdas too, and in the student's own helper functions that ``fn`` calls.
    """
    targets = {id(f): f for f in functions}
    for f in functions:
        wrapped = inspect.unwrap(f)
        targets[id(wrapped)] = f
    for _name, obj in [("fn", fn), *_referenced(fn, depth=3, seen=set())]:
        try:
            hit = targets.get(id(obj))
        except TypeError:
            hit = None
        if hit is None and isinstance(obj, functools.partial):
            hit = targets.get(id(obj.func))
        if hit is not None:
            module = (getattr(hit, "__module__", "") or "").split(".")
            where = (
                "weightreg" if module and module[0] == "weightreg" else module[0] or "the library"
            )
            fail(
                f"your function calls {where}'s {hit.__name__}, which is the answer"
                f"{' to ' + exercise if exercise else ''}: write the computation yourself "
                "(the check tests your version, not the library's)."
            )

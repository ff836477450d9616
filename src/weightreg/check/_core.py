"""Shared machinery of the self-checks: how a check fails, passes and calls student code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

__all__ = ["CheckFailed", "call_student", "fail", "passed"]


class CheckFailed(AssertionError):
    """A self-check found a mistake. The message says what is wrong, never the answer."""


def fail(message: str) -> NoReturn:
    """Stop the check with a kind, specific ``message``."""
    raise CheckFailed(message)


def passed(name: str, n_cases: int) -> None:
    """Print the one-line success message of a check."""
    print(f"Well done: {name} passed all {n_cases} checks.")


def call_student(fn: Callable[..., Any], *args: Any, what: str, **kwargs: Any) -> Any:
    """Call the student's ``fn``; turn an unexpected exception into a readable failure.

    ``NotImplementedError`` (an unfinished stub) passes through unchanged, so an
    unfinished exercise reads as unfinished, not as wrong.
    """
    if not callable(fn):
        raise TypeError(f"pass your function itself (e.g. check.x(my_x)), got {type(fn).__name__}")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - any error in student code becomes a hint
        fail(f"your function raised {type(exc).__name__}: {exc} when called on {what}.")

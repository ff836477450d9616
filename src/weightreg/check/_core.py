"""Shared machinery of the self-checks: how a check fails, passes and calls student code.

In a notebook, a failing check shows its message alone, without a traceback through the
check's own code (which would only distract, and could show the expected computation): both
:class:`CheckFailed` and the ``NotImplementedError`` of an unfinished stub passing through
:func:`call_student` render as short messages in IPython (``_render_traceback_``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

__all__ = ["CheckFailed", "call_student", "fail", "passed"]

NOT_DONE = (
    "This exercise is not done yet: replace the line raise NotImplementedError(...) in the "
    "cell above with your code, run that cell, then run this check again."
)
"""What a student reads under the stub's message when a check meets an unfinished stub."""


class CheckFailed(AssertionError):
    """A self-check found a mistake. The message says what is wrong, never the answer."""

    def _render_traceback_(self) -> list[str]:
        """How IPython shows the failure: the message, without the check's traceback."""
        return [f"CheckFailed: {self}"]


def fail(message: str) -> NoReturn:
    """Stop the check with a kind, specific ``message``."""
    raise CheckFailed(message)


def passed(name: str, n_cases: int) -> None:
    """Print the one-line success message of a check."""
    print(f"Well done: {name} passed all {n_cases} checks.")


def call_student(fn: Callable[..., Any], *args: Any, what: str, **kwargs: Any) -> Any:
    """Call the student's ``fn`` on ``args``/``kwargs``, described as ``what`` in messages.

    Any exception raised inside ``fn`` becomes a :class:`CheckFailed` naming its type, its
    message and ``what``. ``NotImplementedError`` (an unfinished stub) passes through
    unchanged, so an unfinished exercise reads as unfinished, not as wrong; in IPython it is
    shown as the stub's message and :data:`NOT_DONE`, without a traceback.
    """
    if not callable(fn):
        raise TypeError(f"pass your function itself (e.g. check.x(my_x)), got {type(fn).__name__}")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        message = f"NotImplementedError: {exc}"
        exc._render_traceback_ = lambda: [message, NOT_DONE]  # type: ignore[attr-defined]
        raise
    except Exception as exc:  # noqa: BLE001 - any error in student code becomes a hint
        fail(f"your function raised {type(exc).__name__}: {exc} when called on {what}.")

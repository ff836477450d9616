"""Argument checks shared by every public helper of :mod:`weightreg`.

Each function raises a ``TypeError`` or ``ValueError`` whose message names the
argument and the accepted range, so that a mistake in a notebook points at its
cause.  They return the (possibly converted) value so that a caller can write
``alpha = check_nonnegative("alpha", alpha)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = [
    "as_tensor_list",
    "check_bool",
    "check_choice",
    "check_int",
    "check_real",
    "check_seed",
    "check_finite_tensor",
    "check_float_dtype",
    "check_nonnegative",
    "check_positive",
    "check_probability",
    "check_positive_int",
    "check_same_shape",
]


def _check_name(name: object, param: str = "name") -> str:
    """The ``name`` every check takes must be a non-empty str (it goes into the message)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"{param} must be a non-empty str (the argument's name), got {name!r}")
    return name


def _check_real(name: str, value: object) -> float:
    _check_name(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        if (
            isinstance(value, torch.Tensor)
            and value.numel() == 1
            and not value.is_complex()
            and value.dtype != torch.bool
        ):
            value = float(value)
        else:
            kind = type(value).__name__
            if isinstance(value, torch.Tensor):
                kind = f"a tensor of dtype {value.dtype} and shape {tuple(value.shape)}"
            raise TypeError(f"{name} must be a real number, got {kind}")
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_real(name: str, value: object) -> float:
    """Return ``value`` as a float; raise unless it is a finite real number (not a bool)."""
    return _check_real(name, value)


def check_bool(name: str, value: object) -> bool:
    """Return ``value``; raise ``TypeError`` unless it is a ``bool``.

    Strings such as ``'False'`` and numbers such as ``0`` are refused: ``bool('False')`` is
    ``True``, the silent wrong answer this check exists to prevent.
    """
    _check_name(name)
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return value


def check_int(name: str, value: object, *, minimum: int | None = None) -> int:
    """Return ``value``; raise unless it is an int (not a bool) and ``>= minimum``."""
    _check_name(name)
    if minimum is not None and (isinstance(minimum, bool) or not isinstance(minimum, int)):
        raise TypeError(f"minimum must be None or an int, got {type(minimum).__name__}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_seed(name: str, value: object) -> int:
    """Return ``value``; raise unless it is an int ``>= 0`` (``None`` is refused: the book is
    deterministic, every random draw names its seed)."""
    _check_name(name)
    if value is None:
        raise TypeError(f"{name} must be an int >= 0, got None (every draw in the book is seeded)")
    return check_int(name, value, minimum=0)


def check_choice(name: str, value: object, choices: Sequence[object]) -> object:
    """Return ``value``; raise ``ValueError`` unless it is one of ``choices`` (a non-empty
    tuple or list; ``True`` is refused even where ``1`` is a choice)."""
    _check_name(name)
    if not isinstance(choices, tuple | list) or not choices:
        raise TypeError(
            f"choices must be a non-empty tuple or list of the accepted values, got {choices!r}"
        )
    if isinstance(value, bool) or value not in tuple(choices):
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_positive(name: str, value: object) -> float:
    """Return ``value`` as a float; raise unless it is a finite number > 0."""
    value = _check_real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_nonnegative(name: str, value: object) -> float:
    """Return ``value`` as a float; raise unless it is a finite number >= 0."""
    value = _check_real(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_probability(name: str, value: object) -> float:
    """Return ``value`` as a float; raise unless ``0 <= value < 1``."""
    value = _check_real(name, value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must lie in [0, 1), got {value}")
    return value


def check_positive_int(name: str, value: object) -> int:
    """Return ``value``; raise unless it is an int >= 1."""
    return check_int(name, value, minimum=1)


def check_finite_tensor(name: str, value: object, *, allow_empty: bool = False) -> torch.Tensor:
    """Return ``value``; raise unless it is a real floating torch tensor with finite entries.

    Integer, boolean and complex tensors are refused with a ``TypeError`` (an integer weight
    tensor silently truncates every update; a complex one has no order for ``|w| <= t``).
    ``allow_empty=True`` accepts a tensor with no entries.
    """
    _check_name(name)
    check_bool("allow_empty", allow_empty)
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(
            f"{name} must have a real floating dtype (torch.float32 or torch.float64), "
            f"got {value.dtype}"
        )
    if value.numel() == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    if not bool(torch.isfinite(value.detach()).all()):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return value


def check_float_dtype(name: str, value: object) -> torch.dtype:
    """Return ``value``; raise unless it is a real floating ``torch.dtype`` (e.g. float32).

    Integer, boolean and complex dtypes are refused: an integer weight tensor silently truncates
    every update (all-zero initial weights), a complex one has no order.
    """
    _check_name(name)
    if not isinstance(value, torch.dtype):
        raise TypeError(
            f"{name} must be a torch.dtype such as torch.float32, got {type(value).__name__} "
            f"{value!r}"
        )
    if not value.is_floating_point:
        raise TypeError(
            f"{name} must be a real floating dtype (torch.float32 or torch.float64), got {value}"
        )
    return value


def as_tensor_list(name: str, value: object) -> list[torch.Tensor]:
    """Accept a tensor or a non-empty sequence of tensors; return a list of checked tensors."""
    _check_name(name)
    if isinstance(value, torch.Tensor):
        return [check_finite_tensor(name, value)]
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0:
        return [check_finite_tensor(f"{name}[{i}]", v) for i, v in enumerate(value)]
    raise TypeError(
        f"{name} must be a torch.Tensor or a non-empty list of tensors, got {type(value).__name__}"
    )


def check_same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """Raise unless the tensors ``a`` and ``b`` have the same shape."""
    for param, n, t in (("name_a", name_a, a), ("name_b", name_b, b)):
        _check_name(n, param)
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{n} must be a torch.Tensor, got {type(t).__name__}")
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} "
            f"and {tuple(b.shape)}"
        )

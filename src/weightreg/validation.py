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
    "check_nonnegative",
    "check_positive",
    "check_probability",
    "check_positive_int",
    "check_same_shape",
]


def _check_real(name: str, value: object) -> float:
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
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return value


def check_int(name: str, value: object, *, minimum: int | None = None) -> int:
    """Return ``value``; raise unless it is an int (not a bool) and ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_seed(name: str, value: object) -> int:
    """Return ``value``; raise unless it is an int ``>= 0`` (``None`` is refused: the book is
    deterministic, every random draw names its seed)."""
    if value is None:
        raise TypeError(f"{name} must be an int >= 0, got None (every draw in the book is seeded)")
    return check_int(name, value, minimum=0)


def check_choice(name: str, value: object, choices: Sequence[object]) -> object:
    """Return ``value``; raise ``ValueError`` unless it is one of ``choices``."""
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
    """
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


def as_tensor_list(name: str, value: object) -> list[torch.Tensor]:
    """Accept a tensor or a non-empty sequence of tensors; return a list of checked tensors."""
    if isinstance(value, torch.Tensor):
        return [check_finite_tensor(name, value)]
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0:
        return [check_finite_tensor(f"{name}[{i}]", v) for i, v in enumerate(value)]
    raise TypeError(
        f"{name} must be a torch.Tensor or a non-empty list of tensors, got {type(value).__name__}"
    )


def check_same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """Raise unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} "
            f"and {tuple(b.shape)}"
        )

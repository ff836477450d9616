"""One divergence policy for every trainer of the book.

Introduced in the chapter *Overfitting in high dimensions* (``book/overfitting.md``); used by
:func:`weightreg.train.train`, the batched linear engine :mod:`weightreg.linear`, the
proximal solver :mod:`weightreg.proximal` and the MLP sweep :mod:`weightreg.optim_sweep`.

The policy
----------
* A **configuration** is one model being trained: the single model of
  :func:`weightreg.train.train`, or one row (one ``k``, ``alpha``, learning rate, seed, ...)
  of a batched run.
* It has **diverged** when its training loss (or, for a solver that computes no loss, the norm
  of its parameters) is not finite, or exceeds ``BLOWUP_FACTOR`` times its value at the start,
  taken as at least 1: ``value > BLOWUP_FACTOR * max(value_0, 1)``.  A run whose loss grows a
  million-fold has diverged even while the numbers are still finite (float64 overflows only
  near ``1e308``).
* A diverged configuration is **frozen** at the step it diverged: it takes no further update,
  and what is reported for it from then on (parameters, losses) is NaN.  The others go on.
* When the run ends, :func:`report` raises :class:`TrainingDiverged` if **every**
  configuration diverged, and otherwise warns (:class:`DivergenceWarning`) naming the
  diverged ones by index, with the advice to lower the learning rate.  Results carry a boolean
  ``diverged`` mask so that a chapter can show the diverged cells (grey in a heatmap).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch

from .validation import check_finite_tensor

__all__ = [
    "BLOWUP_FACTOR",
    "DivergenceWarning",
    "TrainingDiverged",
    "blowup_limit",
    "diverged_rows",
    "report",
]

BLOWUP_FACTOR = 1e6
"""A loss (or parameter norm) this many times its starting value (at least 1) has diverged."""


class TrainingDiverged(RuntimeError):
    """Every configuration of a run diverged (see :mod:`weightreg.divergence`).

    ``indices`` lists the diverged configurations (all of them).
    """

    def __init__(self, message: str, indices: Sequence[int] = ()) -> None:
        super().__init__(message)
        self.indices = list(indices)


class DivergenceWarning(RuntimeWarning):
    """Some, not all, configurations of a batched run diverged; they are reported as NaN."""


def blowup_limit(initial: torch.Tensor) -> torch.Tensor:
    """``BLOWUP_FACTOR * max(initial, 1)``, elementwise: the value above which a run diverged.

    ``initial`` holds the starting loss (or parameter norm) of each configuration: a real
    floating tensor with finite entries.  A starting value that is already NaN or inf is an
    error in the data or the initial parameters, not a learning rate too large, and raises a
    ``ValueError`` saying so.
    """
    if not isinstance(initial, torch.Tensor) or not initial.is_floating_point():
        check_finite_tensor("initial", initial)  # raises the TypeError naming it
    if initial.numel() == 0:
        raise ValueError("initial must not be empty (one starting value per configuration)")
    if not bool(torch.isfinite(initial.detach()).all()):
        raise ValueError(
            "initial (the starting loss of each configuration) must be finite: a NaN or inf "
            "before the first step comes from the data or the initial parameters (check them "
            "for NaN/inf), not from the learning rate"
        )
    limit = BLOWUP_FACTOR * torch.clamp(initial.detach(), min=1.0)
    return torch.clamp(limit, max=torch.finfo(limit.dtype).max)  # finite, even from 1e307


def _check_real_tensor(name: str, value: object) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must have a real floating dtype, got {value.dtype}")
    return value


def diverged_rows(value: torch.Tensor, limit: torch.Tensor) -> torch.Tensor:
    """Boolean mask: ``value`` (one per configuration) is not finite or exceeds ``limit``.

    ``value`` is a real floating tensor (NaN and inf allowed: that is what is detected);
    ``limit`` (from :func:`blowup_limit`) has the same shape and finite entries.  Inner loops
    call the unchecked kernel ``diverged_rows_kernel``.
    """
    _check_real_tensor("value", value)
    _check_real_tensor("limit", limit)
    if value.shape != limit.shape:
        raise ValueError(
            f"value and limit must have the same shape (one entry per configuration), got "
            f"{tuple(value.shape)} and {tuple(limit.shape)}"
        )
    if not bool(torch.isfinite(limit).all()):
        raise ValueError("limit must be finite (build it with blowup_limit), got NaN or inf")
    return diverged_rows_kernel(value, limit)


def diverged_rows_kernel(value: torch.Tensor, limit: torch.Tensor) -> torch.Tensor:
    """The unchecked kernel of :func:`diverged_rows`, for inner loops."""
    value = value.detach()
    return ~torch.isfinite(value) | (value > limit)


def _check_mask(diverged: object) -> torch.Tensor:
    if isinstance(diverged, torch.Tensor | np.ndarray):
        if diverged.dtype not in (torch.bool, np.bool_):
            raise TypeError(
                f"diverged must be a boolean mask (one True/False per configuration), got dtype "
                f"{diverged.dtype}"
            )
        mask = torch.as_tensor(diverged).reshape(-1)
    elif isinstance(diverged, list | tuple) and all(isinstance(d, bool) for d in diverged):
        mask = torch.tensor(diverged, dtype=torch.bool)
    else:
        raise TypeError(
            "diverged must be a boolean tensor or array (one True/False per configuration), got "
            f"{type(diverged).__name__}"
        )
    if mask.numel() == 0:
        raise ValueError("diverged must not be empty (one entry per configuration)")
    return mask


def _check_text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a non-empty str, got {value!r}")
    return value


def report(
    diverged: torch.Tensor,
    *,
    labels: Sequence[str] | None = None,
    advice: str = "lower the learning rate",
    what: str = "configurations",
) -> None:
    """Apply the end-of-run policy to the boolean mask ``diverged`` (one entry per configuration).

    Nothing happens when none diverged; :class:`DivergenceWarning` when some did; and
    :class:`TrainingDiverged` when all did.  ``labels[i]`` (e.g. ``"lr=10, alpha=0.1"``)
    describes configuration ``i`` in the message (one str per configuration); ``advice`` says
    what to change; ``what`` names the configurations (``"rows"``).
    """
    mask = _check_mask(diverged)
    if labels is not None:
        if isinstance(labels, str) or not isinstance(labels, Sequence):
            raise TypeError(f"labels must be None or a list of str, got {type(labels).__name__}")
        if len(labels) != mask.numel() or not all(isinstance(x, str) for x in labels):
            raise ValueError(
                f"labels must hold one str per configuration ({mask.numel()}), got {labels!r}"
            )
    advice = _check_text("advice", advice)
    what = _check_text("what", what)
    idx = torch.nonzero(mask).reshape(-1).tolist()
    if not idx:
        return
    shown = idx[:8]
    names = ", ".join(f"{i} ({labels[i]})" if labels is not None else str(i) for i in shown)
    more = f" and {len(idx) - len(shown)} more" if len(idx) > len(shown) else ""
    rule = f"loss not finite or above {BLOWUP_FACTOR:g} x its start"
    if len(idx) == mask.numel():
        raise TrainingDiverged(
            f"every one of the {mask.numel()} {what} diverged ({rule}): {names}{more}. "
            f"To fix it, {advice}.",
            idx,
        )
    warnings.warn(
        f"{len(idx)} of {mask.numel()} {what} diverged ({rule}) and were frozen, their results "
        f"reported as NaN: {names}{more}. To train them, {advice}.",
        DivergenceWarning,
        stacklevel=3,
    )

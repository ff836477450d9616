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

import torch

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
    """``BLOWUP_FACTOR * max(initial, 1)``, elementwise: the value above which a run diverged."""
    return BLOWUP_FACTOR * torch.clamp(initial.detach(), min=1.0)


def diverged_rows(value: torch.Tensor, limit: torch.Tensor) -> torch.Tensor:
    """Boolean mask: ``value`` (one per configuration) is not finite or exceeds ``limit``."""
    value = value.detach()
    return ~torch.isfinite(value) | (value > limit)


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
    describes configuration ``i`` in the message; ``advice`` says what to change.
    """
    mask = torch.as_tensor(diverged, dtype=torch.bool).reshape(-1)
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

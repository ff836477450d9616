"""Asserting comparative claims as the book states them: optima inside their grids, differences
larger than their spread.

The house rules on comparative claims (``CONTRIBUTING.md``, "Claims"): a chapter that says
"alpha = 3 is best" or "A beats B" calls one of these in a hidden cell, so the build fails the
day the claim stops being true.

Conventions
-----------
* A **grid** of results is an array with one axis per hyper-parameter (extra trailing axes, such
  as seeds, are averaged by the caller first).  Its best cell is inside the grid when, along
  every axis with at least three values, its index is neither the first nor the last.  An axis
  with one or two values has no inside, and the claim "best" cannot be made along it.
* A **comparison** takes the measurements of A and B over at least ``MIN_DRAWS`` seeds or data
  draws.  The spread is the larger of the two sample standard deviations (``ddof=1``); the
  difference of the means must exceed it.  That is a deliberately simple, visible rule (the
  chapters show the spread as error bars), not a significance test.
* A failed claim raises :class:`ClaimFailed` (an ``AssertionError``) with a message that says
  what was measured; bad input raises ``TypeError``/``ValueError`` naming the argument.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .validation import check_bool, check_int

__all__ = ["MIN_DRAWS", "ClaimFailed", "best_inside_grid", "difference_exceeds_spread"]

MIN_DRAWS = 5
"""The fewest seeds or data draws a comparison may rest on."""


class ClaimFailed(AssertionError):
    """A comparative claim of the book does not hold on the measurements."""


def _as_array(name: str, values: object, *, ndim_min: int = 1) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        arr = values.detach().cpu().numpy() if values.dtype != torch.bfloat16 else None
    elif isinstance(values, np.ndarray):
        arr = values
    else:
        raise TypeError(
            f"{name} must be a torch tensor or a NumPy array of floats, got {type(values).__name__}"
        )
    if arr is None or not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"{name} must hold real floating numbers, got dtype {values.dtype}")
    if arr.ndim < ndim_min or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty array with at least {ndim_min} dimension(s)")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (a diverged cell is NaN: mask or drop it first)")
    return arr.astype(np.float64)


def best_inside_grid(
    values: object, *, minimize: bool = True, axes_names: Sequence[str] | None = None
) -> tuple[int, ...]:
    """The index of the best cell of ``values``; raise :class:`ClaimFailed` if it is on an edge.

    ``values`` has one axis per hyper-parameter (e.g. ``(n_lr, n_decay)`` mean test errors);
    ``minimize=True`` means smaller is better.  Every axis must have at least three values, and
    the best index along each must be neither the first nor the last: otherwise the grid does
    not bracket the optimum, and it must be widened.  ``axes_names`` (one per axis) make the
    message say which hyper-parameter to widen.
    """
    arr = _as_array("values", values)
    minimize = check_bool("minimize", minimize)
    if isinstance(axes_names, str):
        raise TypeError("axes_names must be a sequence of str (one per axis), not a single str")
    names = list(axes_names) if axes_names is not None else [f"axis {i}" for i in range(arr.ndim)]
    if len(names) != arr.ndim or not all(isinstance(n, str) for n in names):
        raise ValueError(f"axes_names must give one name (a str) per axis of values ({arr.ndim})")
    short = [n for n, size in zip(names, arr.shape, strict=True) if size < 3]
    if short:
        raise ValueError(
            f"values must have at least 3 entries along every axis to locate an optimum inside "
            f"the grid; too few along {short} (shape {arr.shape})"
        )
    flat = int(np.argmin(arr) if minimize else np.argmax(arr))
    index = tuple(int(i) for i in np.unravel_index(flat, arr.shape))
    edges = [
        f"{n} (index {i} of {size})"
        for n, i, size in zip(names, index, arr.shape, strict=True)
        if i in (0, size - 1)
    ]
    if edges:
        raise ClaimFailed(
            f"the best cell {index} (value {arr[index]:.4g}) lies on the edge of the grid along "
            f"{', '.join(edges)}: widen the grid there until the optimum is inside"
        )
    return index


def difference_exceeds_spread(
    a: object, b: object, *, labels: tuple[str, str] = ("A", "B"), min_draws: int = MIN_DRAWS
) -> float:
    """``mean(a) - mean(b)``, after checking that it exceeds the spread of the measurements.

    ``a`` and ``b`` are 1-D measurements of the two things compared, one per seed or data draw
    (at least ``min_draws`` each).  The spread is ``max(std(a), std(b))`` (``ddof=1``).  Raises
    :class:`ClaimFailed` saying "no measurable difference" when ``|mean(a) - mean(b)|`` does not
    exceed it: the chapter must then say so instead of naming a winner.
    """
    min_draws = check_int("min_draws", min_draws, minimum=2)
    if not (
        isinstance(labels, tuple) and len(labels) == 2 and all(isinstance(n, str) for n in labels)
    ):
        raise TypeError("labels must be a pair of strings naming what a and b measure")
    xa, xb = _as_array("a", a), _as_array("b", b)
    for label, x in (("a", xa), ("b", xb)):
        if x.ndim != 1:
            raise ValueError(f"{label} must be 1-D (one measurement per draw), got shape {x.shape}")
        if len(x) < min_draws:
            raise ValueError(f"{label} must hold at least {min_draws} draws, got {len(x)}")
    diff = float(xa.mean() - xb.mean())
    spread = float(max(xa.std(ddof=1), xb.std(ddof=1)))
    if not abs(diff) > spread:
        raise ClaimFailed(
            f"no measurable difference between {labels[0]} (mean {xa.mean():.4g}) and {labels[1]} "
            f"(mean {xb.mean():.4g}): the difference {diff:.3g} does not exceed the spread "
            f"{spread:.3g} (largest standard deviation over {min(len(xa), len(xb))}+ draws)"
        )
    return diff

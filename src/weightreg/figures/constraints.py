"""Two-parameter pictures of constrained problems: loss contours, an Lp ball, the optimum.

Introduced in the chapter *The hard-constraint view* (``book/constraints/hard.md``) and reused
by the explorer of *The soft-constraint view* (``book/constraints/soft.md``).  The math it
draws (the quadratic loss, the Lp spheres, the brute-force optimum) is in
:mod:`weightreg.constraint_geometry`.
"""

from __future__ import annotations

import math

import torch
from matplotlib.axes import Axes

from ..constraint_geometry import Quadratic2D, lp_sphere
from ..validation import (
    check_finite_tensor,
    check_nonnegative,
    check_positive,
    check_positive_int,
)

__all__ = ["BALL_POINTS", "draw_constrained_problem"]

BALL_POINTS = 721
"""Points of the ball's outline drawn by :func:`draw_constrained_problem`."""


def draw_constrained_problem(
    ax: Axes,
    quad: Quadratic2D,
    p: float | None,
    radius: float,
    *,
    solution: torch.Tensor | None = None,
    lim: float = 2.4,
    levels: int = 12,
    color: str = "#d6542a",
    title: str | None = None,
) -> Axes:
    """Loss contours of ``quad``, the Lp ball of ``radius >= 0`` (shaded) and a solution marker.

    Draws on ``ax``: ``levels`` grey contours of the loss on ``[-lim, lim]^2``; the
    unconstrained optimum ``quad.center`` as a black star (label ``"unconstrained
    optimum"``); unless ``p`` is None, the outline of ``{||w||_p <= radius}``
    (:data:`BALL_POINTS` points, in ``color``) and its shaded inside; and, if ``solution``
    (shape ``(2,)``) is given, a dot with a black edge labelled ``"constrained optimum"``.
    Contour levels are the loss values at evenly spaced distances from the center, so the
    picture reads the same for every radius.  Returns ``ax``.
    """
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    if not isinstance(quad, Quadratic2D):
        raise TypeError(f"quad must be a Quadratic2D, got {type(quad).__name__}")
    if p is not None and not (isinstance(p, float) and math.isinf(p) and p > 0):
        check_positive("p", p)
    radius = check_nonnegative("radius", radius)
    lim = check_positive("lim", lim)
    levels = check_positive_int("levels", levels)
    if solution is not None:
        solution = check_finite_tensor("solution", solution)
        if solution.shape != (2,):
            raise ValueError(f"solution must have shape (2,), got {tuple(solution.shape)}")
    if not isinstance(color, str):
        raise TypeError(f"color must be a matplotlib color string, got {type(color).__name__}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    g = torch.linspace(-lim, lim, 241, dtype=quad.center.dtype)
    G1, G2 = torch.meshgrid(g, g, indexing="xy")
    Z = quad.loss(torch.stack([G1, G2], dim=-1))
    lv = torch.linspace(0.15, 1.0, levels) ** 2 * float(Z.max())
    ax.contour(
        G1.numpy(), G2.numpy(), Z.numpy(), levels=lv.numpy(), colors="#8a8a8a", linewidths=0.7
    )
    w_hat = quad.center
    ax.plot(float(w_hat[0]), float(w_hat[1]), "k*", ms=9, label="unconstrained optimum")
    if p is not None:
        P = lp_sphere(p, radius, BALL_POINTS)
        ax.fill(P[:, 0].numpy(), P[:, 1].numpy(), color=color, alpha=0.18, lw=0)
        ax.plot(P[:, 0].numpy(), P[:, 1].numpy(), color=color, lw=1.6, label="_ball")
    if solution is not None:
        ax.plot(
            float(solution[0]),
            float(solution[1]),
            "o",
            color=color,
            ms=7,
            mec="k",
            label="constrained optimum",
        )
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xlabel=r"$w_1$", ylabel=r"$w_2$")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax

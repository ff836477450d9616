"""Two-parameter pictures of constrained problems: a quadratic loss, Lp balls, their optimum.

Introduced in the chapter *The hard-constraint view* (``book/constraints/hard.md``), where it
draws the loss contours against the L2, L1, L0.5 and L-infinity balls, and reused by the
explorer of *The soft-constraint view* (``book/constraints/soft.md``).

Conventions
-----------
* The loss is the quadratic ``l(w) = (1/2) (w - c)^T H (w - c)`` with a symmetric positive
  definite ``H`` (2 x 2) and its unconstrained minimizer ``c``; functions act on the last
  dimension, so ``W`` of shape ``(..., 2)`` holds many points.
* The Lp "ball" of radius ``r`` is ``{w : (|w_1|^p + |w_2|^p)^(1/p) <= r}`` for any
  ``p > 0`` (``p = inf``: ``max(|w_1|, |w_2|) <= r``).  For ``p < 1`` it is not convex.
* When ``c`` lies outside the ball, the constrained minimizer lies on the ball's boundary
  (an interior minimizer would be a local, hence global, unconstrained minimizer of the
  convex ``l``).  :func:`constrained_argmin_2d` therefore searches the boundary by brute
  force, which works for the non-convex balls too, where projections and Lagrange
  multipliers do not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from matplotlib.axes import Axes

from .validation import check_finite_tensor, check_nonnegative, check_positive, check_positive_int

__all__ = [
    "Quadratic2D",
    "constrained_argmin_2d",
    "draw_constrained_problem",
    "example_quadratic",
    "lp_norm_2d",
    "lp_sphere",
]


@dataclass(frozen=True)
class Quadratic2D:
    """The loss ``l(w) = (1/2) (w - center)^T H (w - center)`` of two parameters."""

    H: torch.Tensor
    center: torch.Tensor

    def __post_init__(self) -> None:
        check_finite_tensor("H", self.H)
        check_finite_tensor("center", self.center)
        if self.H.shape != (2, 2) or self.center.shape != (2,):
            raise ValueError(
                f"H must have shape (2, 2) and center shape (2,), got {tuple(self.H.shape)} "
                f"and {tuple(self.center.shape)}"
            )
        if not torch.allclose(self.H, self.H.T) or float(torch.linalg.eigvalsh(self.H)[0]) <= 0:
            raise ValueError("H must be symmetric positive definite")

    def loss(self, W: torch.Tensor) -> torch.Tensor:
        """``l(w)`` for every point ``w`` along the last dimension of ``W`` (shape ``(..., 2)``)."""
        D = W - self.center
        return 0.5 * ((D @ self.H) * D).sum(dim=-1)

    def grad(self, W: torch.Tensor) -> torch.Tensor:
        """``H (w - center)`` for every point of ``W``."""
        return (W - self.center) @ self.H

    @property
    def lipschitz(self) -> float:
        """The largest eigenvalue of ``H``: ``1 / lipschitz`` is a safe gradient step."""
        return float(torch.linalg.eigvalsh(self.H)[-1])


def example_quadratic(dtype: torch.dtype = torch.float64) -> Quadratic2D:
    """The book's 2-D example: eigenvalues 1 and 3 along axes turned by -30 degrees,
    minimum at ``(2, 0.3)``.

    Chosen so that, with radius 1, the L1 and L0.5 optima sit on a corner (``w_2 = 0``)
    while the L2 and L-infinity optima have two non-zero coordinates.
    """
    a = math.radians(-30.0)
    R = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=dtype)
    H = R @ torch.diag(torch.tensor([1.0, 3.0], dtype=dtype)) @ R.T
    return Quadratic2D((H + H.T) / 2, torch.tensor([2.0, 0.3], dtype=dtype))


def _check_p(p: object) -> float:
    p = check_positive("p", p) if not (isinstance(p, float) and math.isinf(p)) else p
    return float(p)


def lp_norm_2d(W: torch.Tensor, p: float) -> torch.Tensor:
    """``(|w_1|^p + |w_2|^p)^(1/p)`` along the last dimension (``p = inf``: the max)."""
    p = _check_p(p)
    if math.isinf(p):
        return W.abs().amax(dim=-1)
    return (W.abs() ** p).sum(dim=-1) ** (1 / p)


def lp_sphere(p: float, radius: float = 1.0, num: int = 2001) -> torch.Tensor:
    """``num`` points of the boundary ``{w : ||w||_p = radius}``, in order around it; ``(num, 2)``.

    The direction ``(cos t, sin t)`` for ``t`` evenly spaced in ``[0, 2 pi]`` is rescaled
    onto the sphere, so every direction is hit (the corners included, at ``t = k pi / 2``).
    """
    p = _check_p(p)
    radius = check_nonnegative("radius", radius)
    num = check_positive_int("num", num)
    t = torch.linspace(0, 2 * math.pi, num, dtype=torch.float64)
    U = torch.stack([torch.cos(t), torch.sin(t)], dim=-1)
    U[U.abs() < 1e-12] = 0.0  # exact zeros at the corners on the axes (cos(pi / 2) != 0)
    return radius * U / lp_norm_2d(U, p)[:, None]


def constrained_argmin_2d(
    quad: Quadratic2D, p: float, radius: float, *, num: int = 200001
) -> torch.Tensor:
    """Brute-force ``argmin l(w)`` subject to ``||w||_p <= radius``, for any ``p > 0``.

    Evaluates the loss at ``num`` boundary points and returns the best (accurate to about
    ``2 pi radius / num``).  Requires the unconstrained minimizer ``center`` to lie outside
    the ball, so that the minimizer is on the boundary (see the module docstring); raises
    ``ValueError`` otherwise.
    """
    radius = check_positive("radius", radius)
    if float(lp_norm_2d(quad.center, p)) <= radius:
        raise ValueError(
            "the unconstrained minimizer lies inside the ball (radius too large): the answer is "
            "quad.center itself"
        )
    P = lp_sphere(p, radius, num).to(quad.center.dtype)
    return P[int(quad.loss(P).argmin())]


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
    """Loss contours of ``quad``, the Lp ball of ``radius`` (shaded) and a solution marker.

    ``p=None`` draws no ball.  Contour levels are the loss values at evenly spaced distances
    from the center, so the picture reads the same for every radius.
    """
    g = torch.linspace(-lim, lim, 241, dtype=quad.center.dtype)
    G1, G2 = torch.meshgrid(g, g, indexing="xy")
    Z = quad.loss(torch.stack([G1, G2], dim=-1))
    lv = torch.linspace(0.15, 1.0, levels) ** 2 * float(Z.max())
    ax.contour(
        G1.numpy(), G2.numpy(), Z.numpy(), levels=lv.numpy(), colors="#8a8a8a", linewidths=0.7
    )
    c = quad.center
    ax.plot(float(c[0]), float(c[1]), "k*", ms=9, label="unconstrained optimum")
    if p is not None:
        P = lp_sphere(p, radius, 721)
        ax.fill(P[:, 0].numpy(), P[:, 1].numpy(), color=color, alpha=0.18, lw=0)
        ax.plot(P[:, 0].numpy(), P[:, 1].numpy(), color=color, lw=1.6)
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

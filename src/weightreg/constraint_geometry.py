"""Constrained problems in two parameters: a quadratic loss, Lp balls, their optimum (math only).

Introduced in the chapter *The hard-constraint view* (``book/constraints/hard.md``), where the
loss contours are drawn against the L2, L1, L0.5 and L-infinity balls, and reused by *The
soft-constraint view* (``book/constraints/soft.md``) and the Lk chapters.  The drawing lives
in :mod:`weightreg.figures.constraints`.

Conventions
-----------
* The loss is the quadratic ``l(w) = (1/2) (w - w_hat)^T H (w - w_hat)`` with a symmetric
  positive definite ``H`` (2 x 2) and its unconstrained minimizer ``w_hat`` (attribute
  ``center``; the book writes it as a hatted w, since ``c`` is reserved for the max-norm bound);
  functions act on the last dimension, so ``W`` of shape ``(..., 2)`` holds many points.
* The Lp "ball" of radius ``r`` is ``{w : (|w_1|^p + |w_2|^p)^(1/p) <= r}`` for any
  ``p > 0`` (``p = inf``: the box ``B_inf(r)``, ``max(|w_1|, |w_2|) <= r``).  For ``p < 1`` it
  is not convex.
* When ``w_hat`` lies outside the ball, the constrained minimizer lies on the ball's boundary
  (an interior minimizer would be a local, hence global, unconstrained minimizer of the
  convex ``l``).  :func:`constrained_argmin_2d` therefore searches the boundary by brute
  force, which works for the non-convex balls too, where projections and Lagrange
  multipliers do not.
* The public functions check their arguments (a ``TypeError`` or ``ValueError`` naming the
  argument); :meth:`Quadratic2D.loss` and :meth:`Quadratic2D.grad`, called inside solver
  loops, check only the shape of ``W`` (a last dimension of 2, never broadcast).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .validation import check_finite_tensor, check_nonnegative, check_positive, check_positive_int

__all__ = [
    "Quadratic2D",
    "constrained_argmin_2d",
    "example_quadratic",
    "lp_norm_2d",
    "lp_sphere",
]


def _check_points(name: str, W: object) -> torch.Tensor:
    if not isinstance(W, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (..., 2), got {type(W).__name__}")
    if W.dim() < 1 or W.shape[-1] != 2:
        raise ValueError(
            f"{name} must have shape (..., 2) (points of the plane along the last dimension), "
            f"got {tuple(W.shape)}"
        )
    return W


@dataclass(frozen=True)
class Quadratic2D:
    """The loss ``l(w) = (1/2) (w - center)^T H (w - center)`` of two parameters; ``center`` is
    the unconstrained minimizer (the book's hatted w).

    ``H`` (2 x 2, symmetric positive definite) and ``center`` (shape ``(2,)``) are real
    floating tensors of the same dtype.
    """

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
        if self.H.dtype != self.center.dtype:
            raise TypeError(
                f"H and center must have the same dtype, got {self.H.dtype} and {self.center.dtype}"
            )
        if not torch.allclose(self.H, self.H.T) or float(torch.linalg.eigvalsh(self.H)[0]) <= 0:
            raise ValueError("H must be symmetric positive definite")

    def loss(self, W: torch.Tensor) -> torch.Tensor:
        """``l(w)`` for every point ``w`` along the last dimension of ``W`` (shape ``(..., 2)``)."""
        D = _check_points("W", W) - self.center
        return 0.5 * ((D @ self.H) * D).sum(dim=-1)

    def grad(self, W: torch.Tensor) -> torch.Tensor:
        """``H (w - center)`` for every point of ``W`` (shape ``(..., 2)``)."""
        return (_check_points("W", W) - self.center) @ self.H

    @property
    def lipschitz(self) -> float:
        """The largest eigenvalue of ``H``: ``1 / lipschitz`` is a safe gradient step."""
        return float(torch.linalg.eigvalsh(self.H)[-1])


def example_quadratic(dtype: torch.dtype = torch.float64) -> Quadratic2D:
    """The book's 2-D example: eigenvalues 1 and 3 along axes turned by -30 degrees,
    minimum at ``(2, 0.3)``; ``dtype`` a real floating torch dtype.

    Chosen so that, with radius 1, the L1 and L0.5 optima sit on a corner (``w_2 = 0``)
    while the L2 and L-infinity optima have two non-zero coordinates.
    """
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(
            f"dtype must be a real floating torch dtype (torch.float32 or torch.float64), got "
            f"{dtype!r}"
        )
    a = math.radians(-30.0)
    R = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=dtype)
    H = R @ torch.diag(torch.tensor([1.0, 3.0], dtype=dtype)) @ R.T
    return Quadratic2D((H + H.T) / 2, torch.tensor([2.0, 0.3], dtype=dtype))


def _check_p(p: object) -> float:
    if isinstance(p, float) and math.isinf(p):
        if p < 0:
            raise ValueError("p must be > 0 or inf, got -inf")
        return p
    return check_positive("p", p)


def lp_norm_2d(W: torch.Tensor, p: float) -> torch.Tensor:
    """``(|w_1|^p + |w_2|^p)^(1/p)`` along the last dimension of ``W`` (shape ``(..., 2)``;
    ``p > 0``, ``p = inf``: the max).  Raises ``ValueError`` if the norm overflows (a tiny
    ``p`` gives ``2^(1/p)`` times the max)."""
    W = _check_points("W", W)
    check_finite_tensor("W", W)
    p = _check_p(p)
    out = _lp_norm_2d(W, p)
    if not bool(torch.isfinite(out).all()):
        raise ValueError(f"the L{p:g} norm of W overflows {W.dtype}: p is too small for W")
    return out


def _lp_norm_2d(W: torch.Tensor, p: float) -> torch.Tensor:
    # m * ||W / m||_p with m = max |w_i|: no overflow or underflow in the powers.
    m = W.abs().amax(dim=-1)
    if math.isinf(p):
        return m
    safe = m.clamp_min(torch.finfo(W.dtype).tiny)[..., None]
    return m * ((W.abs() / safe) ** p).sum(dim=-1) ** (1 / p)


def lp_sphere(p: float, radius: float = 1.0, num: int = 2001) -> torch.Tensor:
    """``num`` points of the boundary ``{w : ||w||_p = radius}``, in order around it; ``(num, 2)``.

    The direction ``(cos t, sin t)`` for ``t`` evenly spaced in ``[0, 2 pi]`` is rescaled
    onto the sphere, so every direction is hit (the corners included, at ``t = k pi / 2``).
    ``p > 0`` or ``inf``, ``radius >= 0``, ``num >= 1``; float64.
    """
    p = _check_p(p)
    radius = check_nonnegative("radius", radius)
    num = check_positive_int("num", num)
    t = torch.linspace(0, 2 * math.pi, num, dtype=torch.float64)
    U = torch.stack([torch.cos(t), torch.sin(t)], dim=-1)
    U[U.abs() < 1e-12] = 0.0  # exact zeros at the corners on the axes (cos(pi / 2) != 0)
    return radius * U / _lp_norm_2d(U, p)[:, None]


def constrained_argmin_2d(
    quad: Quadratic2D, p: float, radius: float, *, num: int = 200001
) -> torch.Tensor:
    """Brute-force ``argmin l(w)`` subject to ``||w||_p <= radius``, for any ``p > 0``.

    Evaluates the loss at ``num`` boundary points and returns the best (accurate to about
    ``2 pi radius / num``).  Requires the unconstrained minimizer ``center`` to lie outside
    the ball, so that the minimizer is on the boundary (see the module docstring); raises
    ``ValueError`` otherwise.
    """
    if not isinstance(quad, Quadratic2D):
        raise TypeError(f"quad must be a Quadratic2D, got {type(quad).__name__}")
    p = _check_p(p)
    radius = check_positive("radius", radius)
    num = check_positive_int("num", num)
    if float(_lp_norm_2d(quad.center, p)) <= radius:
        raise ValueError(
            "the unconstrained minimizer lies inside the ball (radius too large): the answer is "
            "quad.center itself"
        )
    P = lp_sphere(p, radius, num).to(quad.center.dtype)
    return P[int(quad.loss(P).argmin())]

"""Lk norms and their unit balls: the geometric picture of the penalties.

Introduced in the chapter *The Lk family side by side* (``book/lk/family.md``);
:func:`lk_norm` with ``k = inf`` also appears in *L3 and L10* as the limit of
the Lk penalties.

Conventions
-----------
* ``lk_norm(w, k) = (sum_j |w_j|**k)**(1/k)`` and ``lk_norm(w, inf) = max_j |w_j|``.
  For ``k < 1`` this is only a quasi-norm (the triangle inequality fails and its
  unit ball is not convex), but it is still the function whose level sets the
  penalty ``alpha * mean(|w|**k) = alpha * lk_norm(w, k)**k / n`` follows.
* A unit ball ``{x : lk_norm(x, k) <= 1}`` in the plane is drawn through its
  boundary, the unit directions ``(cos th, sin th)`` rescaled by their Lk norm.
"""

from __future__ import annotations

import math

import torch

from .validation import check_finite_tensor, check_positive, check_positive_int

__all__ = ["lk_norm", "unit_ball_boundary", "ball_argmin_2d"]


def _check_k_inf(k: object) -> float:
    if isinstance(k, int | float) and not isinstance(k, bool) and k == math.inf:
        return math.inf
    return check_positive("k", k)


def lk_norm(w: torch.Tensor, k: float, *, dim: int | None = None) -> torch.Tensor:
    r"""The Lk (quasi-)norm ``(sum |w_j|**k)**(1/k)``; ``k = math.inf`` gives ``max |w_j|``.

    .. math:: \|w\|_k = \Bigl(\sum_j |w_j|^k\Bigr)^{1/k}, \qquad
              \|w\|_\infty = \max_j |w_j| = \lim_{k\to\infty} \|w\|_k .

    ``dim=None`` reduces over all entries; an integer reduces over that axis only
    (e.g. ``dim=-1`` for one norm per row).  The power is computed after dividing
    by the largest entry, so ``k = 10`` or ``k = 100`` does not overflow.
    Introduced in *The Lk family side by side*.
    """
    check_finite_tensor("w", w)
    k = _check_k_inf(k)
    a = w.abs()
    if dim is None:
        a = a.reshape(-1)
        dim = 0
    top = a.amax(dim=dim, keepdim=True)
    if k == math.inf:
        return top.squeeze(dim)
    scale = torch.where(top > 0, top, torch.ones_like(top))
    return (scale * ((a / scale) ** k).sum(dim=dim, keepdim=True) ** (1 / k)).squeeze(dim)


def unit_ball_boundary(k: float, num: int = 401) -> torch.Tensor:
    r"""Points on the boundary of the 2-D unit ball ``{x : ||x||_k = 1}``, shape ``(num, 2)``.

    The point at angle ``th`` is ``u / ||u||_k`` with ``u = (cos th, sin th)``, for
    ``num`` angles evenly spaced over ``[0, 2 pi]`` (first and last coincide, so a
    plotted line closes).  When ``num - 1`` is a multiple of 4, the four points on
    the axes, ``(+-1, 0)`` and ``(0, +-1)``, are included exactly.  ``k = math.inf``
    gives the square ``max(|x|, |y|) = 1``.  Returned in float64.
    Introduced in *The Lk family side by side*.
    """
    k = _check_k_inf(k)
    num = check_positive_int("num", num)
    if num < 5:
        raise ValueError(f"num must be >= 5 to outline a ball, got {num}")
    th = torch.linspace(0, 2 * math.pi, num, dtype=torch.float64)
    u = torch.stack([torch.cos(th), torch.sin(th)], dim=1)
    u = torch.where(u.abs() < 1e-12, torch.zeros_like(u), u)  # exact zeros on the axes
    return u / lk_norm(u, k, dim=1).unsqueeze(1)


def ball_argmin_2d(
    center: torch.Tensor, hessian: torch.Tensor, k: float, radius: float, *, num: int = 20001
) -> torch.Tensor:
    r"""Minimizer of a 2-D quadratic over the Lk ball of a given radius, by dense search.

    .. math:: \arg\min_{\|x\|_k \le \rho}\ \tfrac12 (x - c)^\top H (x - c)

    for a symmetric positive definite ``H`` (``hessian``, shape ``(2, 2)``) and a
    ``center`` ``c`` (shape ``(2,)``) *outside* the ball, where the minimizer lies on
    the boundary (an interior minimizer of a convex function would be ``c`` itself).
    The boundary is searched at ``num`` points of :func:`unit_ball_boundary`, which
    include the four points on the axes exactly, so a corner solution (one
    coordinate exactly 0, as for ``k <= 1``) is found exactly.
    Introduced in *The Lk family side by side*.
    """
    check_finite_tensor("center", center)
    check_finite_tensor("hessian", hessian)
    if center.shape != (2,):
        raise ValueError(f"center must have shape (2,), got {tuple(center.shape)}")
    if hessian.shape != (2, 2):
        raise ValueError(f"hessian must have shape (2, 2), got {tuple(hessian.shape)}")
    H = hessian.to(torch.float64)
    if not torch.allclose(H, H.T) or bool((torch.linalg.eigvalsh(H) <= 0).any()):
        raise ValueError("hessian must be symmetric positive definite")
    k = _check_k_inf(k)
    radius = check_positive("radius", radius)
    num = check_positive_int("num", num)
    c = center.to(torch.float64)
    if float(lk_norm(c, k)) <= radius:
        raise ValueError(
            f"center must lie outside the ball (its L{k} norm must exceed radius={radius})"
        )
    pts = radius * unit_ball_boundary(k, num)
    d = pts - c
    f = 0.5 * ((d @ H) * d).sum(dim=1)
    return pts[int(torch.argmin(f))]

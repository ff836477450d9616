r"""Early stopping as a spectral filter, beside ridge.

Introduced in the chapter *Early stopping is L2* (``book/implicit/early_stopping.md``), after
Goodfellow, Bengio & Courville (2016), section 7.8.

Conventions
-----------
* Least squares as in the book: ``L(w) = (1/(2n)) ||X_c w - y_c||^2`` on centred data (a free,
  unpenalized bias), ``H = X_c^T X_c / n = Q diag(sigma_i^2) Q^T`` with eigenvalues
  ``eigvals`` :math:`= \sigma_i^2 \ge 0`, and ``w^+ = X_c^+ y_c`` the minimum-norm solution.
* ``lr`` is the learning rate :math:`\eta` of full-batch gradient descent, ``steps`` the number
  of steps :math:`t`.
* ``alpha`` of :func:`ridge_filter` is **the book's** :math:`\lambda`, the coefficient of the
  L2 penalty :math:`\frac{\lambda}{2}\lVert\mathbf w\rVert^2` (the weight-decay scaling; the
  name ``alpha`` is scikit-learn's, whose ``Ridge(alpha=a)`` on the summed loss is
  :math:`\lambda = a / n`).  It is *not* the Lk weight :math:`\alpha` of
  :func:`weightreg.linear.ridge_path`, for which :math:`\lambda = 2\alpha/d`.

The math
--------
Gradient descent from ``w_0 = 0`` satisfies ``w_{t+1} - w^+ = (I - eta H)(w_t - w^+)``, so

    w_t = Q diag(1 - (1 - eta sigma_i^2)^t) Q^T w^+          (gd_filter)

while the L2-penalized minimizer is (the chapter *L2, direction by direction*)

    w_lambda = Q diag(sigma_i^2 / (sigma_i^2 + lambda)) Q^T w^+.   (ridge_filter)

For ``eta sigma_i^2 << 1`` and ``eta sigma_i^2 t << 1`` both factors are
``~ eta t sigma_i^2`` and ``~ sigma_i^2 / lambda``: they agree when ``lambda = 1 / (eta t)``.
Directions with ``sigma_i^2 = 0`` get the factor 0 from both (``w^+`` has no component there).
"""

from __future__ import annotations

import torch

from .validation import check_finite_tensor, check_int, check_nonnegative, check_positive

__all__ = ["gd_filter", "ridge_filter"]


def _check_eigvals(eigvals: object) -> torch.Tensor:
    eigvals = check_finite_tensor("eigvals", eigvals)
    if bool((eigvals < 0).any()):
        raise ValueError(
            f"eigvals must be >= 0 (the eigenvalues sigma_i^2 of H = X^T X / n), "
            f"got a minimum of {float(eigvals.min()):.3g}"
        )
    return eigvals


def gd_filter(eigvals: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    r"""The factor :math:`1 - (1 - \eta\sigma_i^2)^t` gradient descent from zero applies.

    After ``steps`` (:math:`t`, an int ``>= 0``) full-batch steps with learning rate ``lr``
    (:math:`\eta > 0`) from ``w = 0`` on the least-squares loss ``(1/(2n)) ||X_c w - y_c||^2``,
    the component of the weights along the eigenvector of ``H`` with eigenvalue ``eigvals[i]``
    (:math:`\sigma_i^2`) is this factor times that of the minimum-norm solution ``w^+`` (see
    the module docstring).  ``eigvals`` is a real floating tensor of any shape with finite
    entries ``>= 0``; the result has its shape and dtype.

    For ``0 < lr * eigvals <= 1`` the factor rises monotonically from 0 (``steps = 0``)
    toward 1; for ``1 < lr * eigvals < 2`` it overshoots 1 and oscillates around it; for
    ``lr * eigvals > 2`` gradient descent diverges and the factor grows without bound (it is
    still returned while it is finite).  Computed in float64 as
    ``-expm1(t * log1p(-eta sigma^2))`` where ``eta sigma^2 < 1``, so that tiny
    ``eta sigma^2`` keeps its precision.  Raises ``TypeError``/``ValueError`` naming the
    argument for bad input, and ``ValueError`` if the factor overflows.

    Chapter: *Early stopping is L2* (``book/implicit/early_stopping.md``).
    """
    eigvals = _check_eigvals(eigvals)
    lr = check_positive("lr", lr)
    steps = check_int("steps", steps, minimum=0)
    x = eigvals.detach().to(torch.float64) * lr
    if not bool(torch.isfinite(x).all()):
        raise ValueError(
            f"lr * eigvals overflows (lr = {lr:.3g}, largest eigvals {float(eigvals.max()):.3g})"
        )
    small = x < 1
    stable = -torch.expm1(steps * torch.log1p(-torch.where(small, x, torch.zeros_like(x))))
    direct = 1 - (1 - x) ** steps
    out = torch.where(small, stable, direct)
    if not bool(torch.isfinite(out.to(eigvals.dtype)).all()):
        raise ValueError(
            f"the factor 1 - (1 - lr * eigvals)**steps overflows {eigvals.dtype}: "
            f"lr * max(eigvals) = {float(x.max()):.3g} > 2 makes gradient descent diverge "
            f"(steps = {steps}); lower lr or steps"
        )
    return out.to(eigvals.dtype)


def ridge_filter(eigvals: torch.Tensor, alpha: float) -> torch.Tensor:
    r"""The factor :math:`\sigma_i^2 / (\sigma_i^2 + \lambda)` the L2 penalty applies.

    The L2-penalized least-squares minimizer (free bias) is the minimum-norm solution with its
    component along each eigenvector of ``H`` multiplied by this factor (the proposition
    "Eigen-direction shrinkage" of *L2, direction by direction*).  ``alpha`` (``>= 0``) is
    **the book's** :math:`\lambda`, the coefficient of :math:`\frac{\lambda}{2}\lVert
    \mathbf w\rVert^2` (scikit-learn's ``Ridge(alpha=n * lambda)``; ``ridge_path``'s
    ``alpha = lambda * d / 2``).  ``eigvals`` is a real floating tensor of any shape with
    finite entries ``>= 0``; the result has its shape and dtype.  At ``alpha = 0`` the factor is
    1 for ``eigvals > 0`` and 0 for ``eigvals == 0`` (the minimum-norm solution itself).
    Raises ``TypeError``/``ValueError`` naming the argument for bad input.

    Chapter: *Early stopping is L2* (``book/implicit/early_stopping.md``).
    """
    eigvals = _check_eigvals(eigvals)
    alpha = check_nonnegative("alpha", alpha)
    s = eigvals.detach().to(torch.float64)
    denom = s + alpha
    safe = torch.where(denom > 0, denom, torch.ones_like(denom))
    out = torch.where(denom > 0, s / safe, torch.zeros_like(s))
    return out.to(eigvals.dtype)

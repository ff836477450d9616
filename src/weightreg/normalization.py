"""Weight decay on scale-invariant weights: the exponential schedule and the equilibrium.

Introduced in the part *Weight decay in normalized networks*: the chapters *Scale
invariance* (``book/normalized/scale_invariance.md``) and *The equilibrium of weight decay*
(``book/normalized/equilibrium.md``).

A weight vector :math:`\\mathbf w` is **scale-invariant** when the loss does not change if it
is multiplied by any :math:`c > 0`, :math:`\\ell(c\\mathbf w) = \\ell(\\mathbf w)`, as for the
incoming weights of a unit followed by batch or layer normalization.  Conventions (the book's
glossary): :math:`\\eta` is the learning rate and :math:`\\lambda` PyTorch's ``weight_decay``
(gradient descent with decay adds :math:`\\lambda\\mathbf w` to the gradient, or, decoupled,
multiplies by :math:`1 - \\eta\\lambda`); steps are :math:`t = 0, 1, \\dots, T-1`; angles are
in radians.
"""

from __future__ import annotations

import torch

from .validation import check_positive, check_positive_int

__all__ = ["exponential_lr_schedule"]


def exponential_lr_schedule(lr: float, weight_decay: float, steps: int) -> torch.Tensor:
    """Learning rates of the decay-free run that matches gradient descent with weight decay.

    Li & Arora (2020): on a scale-invariant loss, gradient descent with learning rate
    :math:`\\eta` and weight decay :math:`\\lambda` (``w <- w - eta (grad + lambda w)``) gives,
    at every step, the same direction :math:`\\mathbf w_t/\\lVert\\mathbf w_t\\rVert` as
    gradient descent **without** decay with the learning rates

    .. math:: \\eta_t = \\eta\\,(1 - \\eta\\lambda)^{-2t-1}, \\qquad t = 0, \\dots, T-1,

    which this function returns as a float64 tensor of shape ``(steps,)``.  Requires
    ``lr > 0``, ``weight_decay > 0`` with ``lr * weight_decay < 1`` (else the decayed run's
    factor :math:`1 - \\eta\\lambda` is not positive), and ``steps >= 1``.  Chapter: *Scale
    invariance* (``book/normalized/scale_invariance.md``).
    """
    lr = check_positive("lr", lr)
    weight_decay = check_positive("weight_decay", weight_decay)
    steps = check_positive_int("steps", steps)
    if lr * weight_decay >= 1:
        raise ValueError(
            f"lr * weight_decay must be < 1 (the decay factor 1 - lr * weight_decay must be "
            f"positive), got lr={lr:g}, weight_decay={weight_decay:g}"
        )
    t = torch.arange(steps, dtype=torch.float64)
    return lr * torch.exp(
        -(2 * t + 1) * torch.log1p(torch.tensor(-lr * weight_decay, dtype=torch.float64))
    )

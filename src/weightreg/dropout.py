"""Dropout on the inputs of a linear model is an adaptive L2 penalty, in closed form.

Introduced in the chapter *Dropout is an adaptive L2* (``book/implicit/dropout.md``), after
Srivastava et al. (2014), section 9, and Wager, Wang & Liang (2013).

Conventions
-----------
* Least squares as in the book: ``ell(w) = (1/(2n)) ||y - X w||^2`` with ``X`` of shape
  ``(n, d)`` (one example per row, no bias) and ``H = X^T X / n``.
* **Inverted dropout** on the inputs with drop probability ``p`` (the book's :math:`p`,
  ``0 <= p < 1``): every entry ``x_ij`` is kept independently with probability ``1 - p``
  and the kept entries are divided by ``1 - p``, so the noisy input
  ``x~_ij = m_ij x_ij / (1 - p)`` with ``m_ij ~ Bernoulli(1 - p)`` has mean ``x_ij``
  (``torch.nn.functional.dropout``'s convention); the chapter writes the keep indicators
  ``delta_ij``.
* The dropout loss of one draw of the masks is ``(1/(2n)) sum_i (y_i - x~_i^T w)^2``.

The math
--------
``E[x~_ij] = x_ij`` and ``Var[x~_ij] = x_ij^2 p / (1 - p)``, independently over ``j``, so
``E[(y_i - x~_i^T w)^2] = (y_i - x_i^T w)^2 + (p / (1 - p)) sum_j x_ij^2 w_j^2``.  Averaged over
the examples, the expected dropout loss is the plain loss plus

    Omega_p(w) = (p / (1 - p)) (1/(2n)) sum_j w_j^2 sum_i x_ij^2
               = (lambda / 2) sum_j H_jj w_j^2,      lambda = p / (1 - p),

an L2 penalty in the book's convention (``lambda / 2 ||w||^2``) except that every ``w_j^2``
carries its own coefficient ``lambda H_jj``: the mean of ``x_j^2`` over the examples, times
``p / (1 - p)``.  It does not depend on ``y``.  Minimizing ``ell + Omega_p`` is ridge regression
with penalty ``lambda / 2 ||v||^2``, ``lambda = p / (1 - p)``, on the rescaled inputs
``X D^{-1}`` (``D = diag(H)^{1/2}``: every column divided by its root mean square), mapped
back by ``w = D^{-1} v``.
"""

from __future__ import annotations

import torch

from .validation import check_finite_tensor, check_probability

__all__ = ["dropout_penalty"]


def dropout_penalty(X: torch.Tensor, w: torch.Tensor, p: float) -> torch.Tensor:
    """The exact expected increase of the least-squares loss under inverted input dropout.

    For ``X`` of shape ``(n, d)``, weights ``w`` of shape ``(d,)`` and drop probability
    ``p`` (``0 <= p < 1``), returns

        E_m[(1/(2n)) sum_i (y_i - (m_i * x_i)^T w / (1 - p))^2] - (1/(2n)) ||y - X w||^2
            = (p / (1 - p)) (1/(2n)) sum_j w_j^2 sum_i x_ij^2,

    the same for every target ``y`` (the masks ``m_ij ~ Bernoulli(1 - p)``, the chapter's
    keep indicators ``delta_ij``, are independent; see the module docstring for the
    derivation).  Equivalently ``(lambda / 2) sum_j H_jj w_j^2`` with ``lambda = p / (1 - p)``
    and ``H = X^T X / n``: an L2 penalty in the book's convention (``lambda / 2 ||w||^2``)
    whose coefficient ``lambda H_jj`` differs per weight.

    Returns a 0-d tensor in the promoted dtype of ``X`` and ``w``; differentiable in ``w``
    and ``X``.  Raises ``TypeError``/``ValueError`` naming the argument for a non-tensor,
    non-floating, non-finite or wrongly shaped ``X`` or ``w``, or ``p`` outside ``[0, 1)``;
    ``ValueError`` if the penalty overflows the dtype.

    Chapter: *Dropout is an adaptive L2* (``book/implicit/dropout.md``).
    """
    X = check_finite_tensor("X", X)
    w = check_finite_tensor("w", w)
    p = check_probability("p", p)
    if X.dim() != 2:
        raise ValueError(f"X must be a matrix of shape (n, d), got shape {tuple(X.shape)}")
    n, d = X.shape
    if w.shape != (d,):
        raise ValueError(
            f"w must have shape (d,) = ({d},), one weight per column of X, got {tuple(w.shape)}"
        )
    dtype = torch.promote_types(X.dtype, w.dtype)
    X, w = X.to(dtype), w.to(dtype)
    # scale before squaring so that large but representable inputs do not overflow early
    sx = X.detach().abs().amax()
    sw = w.detach().abs().amax()
    if sx == 0 or sw == 0:
        return (X * 0).sum() + (w * 0).sum()  # zero, keeping the graph and the dtype
    mean_sq = ((X / sx) ** 2).mean(dim=0)  # H_jj / sx^2
    scaled = (mean_sq * (w / sw) ** 2).sum()  # sum_j H_jj w_j^2 / (sx sw)^2
    value = (0.5 * p / (1.0 - p)) * scaled * (sx * sw) ** 2
    if not bool(torch.isfinite(value.detach())):
        raise ValueError(
            f"the dropout penalty overflows {dtype} for these X and w (entries up to "
            f"{float(sx):.3g} and {float(sw):.3g}): rescale X or w"
        )
    return value

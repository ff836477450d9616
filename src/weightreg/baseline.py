r"""References for the overfitting baseline: what an unregularized linear model ends at, and why.

Introduced in *Overfitting in high dimensions* and used by every chapter that reuses the
baseline (d = 200 weights, n = 20 examples).  Gradient descent on the squared loss of a linear
model changes the parameters only inside the row space of the inputs: with
:math:`\tilde X = [X\ \mathbf 1]` (the inputs with a column of ones for the bias) and
:math:`\boldsymbol\vartheta = (\mathbf w, b)`, every gradient
:math:`\tilde X^\top(\tilde X\boldsymbol\vartheta - \mathbf y)/n` lies in
:math:`\operatorname{row}(\tilde X)`.  So the part of the start in the null space
:math:`\mathcal N(\tilde X)` is never touched, and unpenalized gradient descent from
:math:`\boldsymbol\vartheta_0` ends at

.. math:: \boldsymbol\vartheta_\infty = \tilde X^+\mathbf y + P_{\mathcal N}\boldsymbol\vartheta_0 ,

the minimum-norm interpolant plus the start's null-space part (:func:`null_space_part`).  An L2
penalty on ``w`` shrinks that part by the factor :math:`1 - \eta\lambda` per step: on this
baseline, most of what it does is erase the initialization.

Conventions: one data set at a time (``X`` of shape ``(n, d)``, ``y`` of shape ``(n,)`` or
``(n, 1)``); weights are vectors ``(d,)``; losses are the book's
:math:`\frac{1}{n}\sum_i\frac12(\hat y_i - y_i)^2`.  Computations run in the data's dtype (use
float64 where exactness is the point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .validation import check_finite_tensor, check_real

__all__ = [
    "BaselineReferences",
    "min_norm_interpolant",
    "null_space_part",
    "references",
]


def _check_xy(X: object, y: object) -> tuple[torch.Tensor, torch.Tensor]:
    check_finite_tensor("X", X)
    check_finite_tensor("y", y)
    if X.dim() != 2:
        raise ValueError(f"X must have shape (n, d), got {tuple(X.shape)}")
    n = X.shape[0]
    if tuple(y.shape) not in ((n,), (n, 1)):
        raise ValueError(
            f"y must have shape (n,) or (n, 1) with n = {n} (X's rows), got {tuple(y.shape)}"
        )
    if y.dtype != X.dtype:
        raise TypeError(f"y must have X's dtype {X.dtype}, got {y.dtype}")
    return X, y.reshape(-1)


def _check_finite_result(what: str, value: torch.Tensor) -> None:
    if not bool(torch.isfinite(value).all()):
        raise ValueError(
            f"{what}: the pseudo-inverse overflowed in {value.dtype}; X (and y, w0) must be of "
            "moderate size (rescale the data)"
        )


def _augmented(X: torch.Tensor) -> torch.Tensor:
    return torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype)], dim=1)


def min_norm_interpolant(
    X: torch.Tensor, y: torch.Tensor, *, bias_in_norm: bool = True
) -> tuple[torch.Tensor, float]:
    r"""A minimum-norm least-squares solution ``(w, b)``; which norm is ``bias_in_norm``'s choice.

    * ``bias_in_norm=True``: :math:`(\mathbf w, b) = \tilde X^+\mathbf y`, the least-squares
      solution of least :math:`\lVert\mathbf w\rVert_2^2 + b^2`.  This is where gradient descent
      on ``w`` and ``b`` from zero ends (every step lies in the row space of
      :math:`\tilde X = [X\ \mathbf 1]`).
    * ``bias_in_norm=False``: :math:`\mathbf w^+ = X_c^+\mathbf y_c` and
      :math:`b = \bar y - \bar{\mathbf x}^\top\mathbf w^+` (centred data), the solution of least
      :math:`\lVert\mathbf w\rVert_2` with a free bias: the limit of the L2-penalized minimizer
      (bias not penalized) as the penalty goes to zero.

    When ``n <= d`` both interpolate the training set (inputs in general position).  Returns
    ``(w, b)`` with ``w`` of shape ``(d,)``.
    """
    X, y = _check_xy(X, y)
    if not isinstance(bias_in_norm, bool):
        raise TypeError(f"bias_in_norm must be True or False, got {bias_in_norm!r:.60}")
    if bias_in_norm:
        theta = torch.linalg.pinv(_augmented(X)) @ y
        _check_finite_result("min_norm_interpolant", theta)
        return theta[:-1], float(theta[-1])
    x_mean, y_mean = X.mean(dim=0), y.mean()
    w = torch.linalg.pinv(X - x_mean) @ (y - y_mean)
    _check_finite_result("min_norm_interpolant", w)
    return w, float(y_mean - x_mean @ w)


def null_space_part(
    X: torch.Tensor, w0: torch.Tensor, b0: float = 0.0
) -> tuple[torch.Tensor, float]:
    r"""The part of a start :math:`(\mathbf w_0, b_0)` in :math:`\mathcal N(\tilde X)`.

    :math:`P_{\mathcal N}\boldsymbol\vartheta_0 = \boldsymbol\vartheta_0 - \tilde X^+\tilde X
    \boldsymbol\vartheta_0`, with :math:`\tilde X = [X\ \mathbf 1]`: the component that gradient
    steps on the loss never change.  Returns ``(w, b)``; ``w0`` has shape ``(d,)`` (or
    ``(d, 1)``) and the data's dtype.
    """
    check_finite_tensor("X", X)
    check_finite_tensor("w0", w0)
    if X.dim() != 2:
        raise ValueError(f"X must have shape (n, d), got {tuple(X.shape)}")
    if tuple(w0.shape) not in ((X.shape[1],), (X.shape[1], 1)):
        raise ValueError(
            f"w0 must have shape (d,) or (d, 1) with d = {X.shape[1]}, got {tuple(w0.shape)}"
        )
    if w0.dtype != X.dtype:
        raise TypeError(f"w0 must have X's dtype {X.dtype}, got {w0.dtype}")
    b0 = check_real("b0", b0)
    if not math.isfinite(b0):
        raise ValueError(f"b0 must be a finite real number, got {b0}")
    Xa = _augmented(X)
    theta0 = torch.cat([w0.reshape(-1), torch.tensor([float(b0)], dtype=X.dtype)])
    null = theta0 - torch.linalg.pinv(Xa) @ (Xa @ theta0)
    _check_finite_result("null_space_part", null)
    return null[:-1], float(null[-1])


@dataclass(frozen=True)
class BaselineReferences:
    """Test losses that every result on a baseline split should be read against.

    ``null``: predict the mean training target (no weights).  ``min_norm``: the minimum-norm
    interpolant with a free bias, the limit of the L2 penalty as it goes to zero.
    ``gd_from_zero``: where unpenalized gradient descent on ``w`` and ``b`` from zero ends.
    ``from_start``: where unpenalized gradient descent from the given start ends
    (``gd_from_zero``'s solution plus the start's null-space part); ``None`` without a start.
    ``null_part_norm``: the norm of the null-space part of ``w0`` (``None`` without a start).
    """

    null: float
    min_norm: float
    gd_from_zero: float
    from_start: float | None = None
    null_part_norm: float | None = None


def _loss(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: float) -> float:
    return float(((X @ w + b - y.reshape(-1)) ** 2).mean() / 2)


def references(split, w0: torch.Tensor | None = None, b0: float = 0.0) -> BaselineReferences:
    r"""The null model, the minimum-norm interpolants and (given a start) the unpenalized limit.

    ``split`` is a :class:`weightreg.data.Split`; ``w0``/``b0`` the initial weights and bias of
    gradient descent.  All are test losses in the book's convention
    (:math:`\frac1n\sum\frac12(\hat y - y)^2`).  See the module docstring for the math.
    """
    from .data import Split

    if not isinstance(split, Split):
        raise TypeError(f"split must be a weightreg.data.Split, got {type(split).__name__}")
    X, y = _check_xy(split.X_train, split.y_train)
    try:
        Xt, yt = _check_xy(split.X_test, split.y_test)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"split's test set: {exc}") from exc
    if Xt.shape[1] != X.shape[1] or Xt.dtype != X.dtype:
        raise ValueError(
            f"split's X_test must have the training set's d = {X.shape[1]} columns and dtype "
            f"{X.dtype}, got {Xt.shape[1]} and {Xt.dtype}"
        )
    null = float(((y.mean() - yt) ** 2).mean() / 2)
    min_norm = _loss(Xt, yt, *min_norm_interpolant(X, y, bias_in_norm=False))
    w_gd, b_gd = min_norm_interpolant(X, y, bias_in_norm=True)
    gd_from_zero = _loss(Xt, yt, w_gd, b_gd)
    if w0 is None:
        return BaselineReferences(null, min_norm, gd_from_zero)
    w_null, b_null = null_space_part(X, w0, b0)
    start = _loss(Xt, yt, w_gd + w_null, b_gd + b_null)
    if not math.isfinite(start):
        raise ValueError(
            f"references: the test loss from the start overflows in {X.dtype}; w0 and b0 must be "
            "of moderate size"
        )
    return BaselineReferences(null, min_norm, gd_from_zero, start, float(w_null.norm()))

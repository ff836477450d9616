"""Penalized linear regression for many penalty strengths at once: exact ridge, full-batch descent.

Introduced in the chapter *L2: shrinking every weight* (``book/lk/l2.md``) and used by
*L1: exact zeros* (``book/lk/l1.md``).

Conventions
-----------
* Row ``c`` of a weight matrix ``W`` (shape ``(C, d)``) with bias ``b[c]`` is one model
  ``x -> x @ W[c] + b[c]``; ``alphas`` (shape ``(C,)``) holds one penalty strength per row.
  A sweep over ``alpha`` is therefore one batched tensor computation, not a Python loop.
* Every row minimizes the book's objective (:mod:`weightreg.train`, :mod:`weightreg.penalties`)

  ``F_c(w, b) = mean_i (x_i @ w + b - y_i)**2 / 2 + alphas[c] * mean_j phi(w_j)``,

  with ``phi(w) = w**2`` for ridge; the bias is never penalized.
* ``y`` may be given as ``(n,)`` or ``(n, 1)``.  Everything runs in the dtype of ``X``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .validation import check_finite_tensor, check_positive, check_positive_int

__all__ = ["loss_rows", "max_stable_lr", "ridge_rows", "fit_rows"]

Grad = Callable[[torch.Tensor], torch.Tensor]
Prox = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _check_data(X: object, y: object) -> tuple[torch.Tensor, torch.Tensor]:
    X = check_finite_tensor("X", X)
    y = check_finite_tensor("y", y)
    if X.dim() != 2:
        raise ValueError(f"X must have shape (n, d), got {tuple(X.shape)}")
    y = y.reshape(-1) if y.dim() == 2 and y.shape[1] == 1 else y
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"y must have shape (n,) or (n, 1) with n={X.shape[0]}, got {tuple(y.shape)}"
        )
    return X, y.to(X.dtype)


def _check_alphas(alphas: object, dtype: torch.dtype, *, positive: bool) -> torch.Tensor:
    a = check_finite_tensor("alphas", torch.as_tensor(alphas, dtype=dtype).reshape(-1))
    if positive and bool((a <= 0).any()):
        raise ValueError("alphas must all be > 0 (alpha = 0 has no unique solution when d > n)")
    if bool((a < 0).any()):
        raise ValueError("alphas must all be >= 0")
    return a


def loss_rows(X: torch.Tensor, y: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    r"""The mean squared loss of every row, shape ``(C,)``:

    .. math:: \ell_c = \frac1n \sum_{i=1}^n \tfrac12 (x_i^\top W_c + b_c - y_i)^2

    (with the factor 1/2 of :func:`weightreg.train.squared_loss`).  Introduced in *L2*.
    """
    X, y = _check_data(X, y)
    residual = X @ W.T + b - y[:, None]  # (n, C)
    return (residual**2 / 2).mean(dim=0)


def max_stable_lr(X: torch.Tensor) -> float:
    r"""``1 / L``, with ``L`` the largest eigenvalue of the loss Hessian in ``(w, b)``.

    .. math:: L = \lambda_{\max}\Big(\tfrac1n A^\top A\Big), \qquad A = [X \;\; \mathbf 1]

    ``1/L`` is the classical safe constant step of (proximal) gradient descent on the
    mean squared loss: every step decreases the objective.  (Plain gradient descent on a
    quadratic stays stable up to ``2 / L``, less the penalty's curvature.)
    Introduced in *L2*.
    """
    X = check_finite_tensor("X", X)
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)
    return float(1.0 / torch.linalg.eigvalsh(A.T @ A / len(X)).max())


def ridge_rows(
    X: torch.Tensor, y: torch.Tensor, alphas: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The exact minimizer of ``mean_i (x_i @ w + b - y_i)**2 / 2 + alpha * mean_j w_j**2``.

    For each ``alpha > 0`` (one row per entry of ``alphas``), with centred data
    ``X_c = X - mean(X)``, ``y_c = y - mean(y)``, ``alpha' = 2 * alpha / d``:

    .. math:: \Big(\tfrac1n X_c^\top X_c + \alpha' I\Big) w = \tfrac1n X_c^\top y_c,
              \qquad b = \bar y - \bar x^\top w .

    Setting the gradient in ``b`` to zero gives ``b``; substituting it leaves the
    centred normal equations.  All systems are solved in one batched call.  Returns
    ``W (C, d)`` and ``b (C,)``.  Equivalent to scikit-learn's
    ``Ridge(alpha=2 * n * alpha / d, fit_intercept=True)``.  Introduced in *L2*.
    """
    X, y = _check_data(X, y)
    a = _check_alphas(alphas, X.dtype, positive=True)
    n, d = X.shape
    x_mean, y_mean = X.mean(dim=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    H = Xc.T @ Xc / n
    eye = torch.eye(d, dtype=X.dtype)
    rhs = (Xc.T @ yc / n).repeat(len(a), 1).unsqueeze(-1)  # (C, d, 1)
    # The matrices are symmetric positive definite: Cholesky.  (Batched LU in
    # torch.linalg.solve fails on some MKL builds with 2 threads: "Pivots given to lu_solve".)
    chol = torch.linalg.cholesky(H + (2 * a / d)[:, None, None] * eye)
    W = torch.cholesky_solve(rhs, chol).squeeze(-1)
    return W, y_mean - W @ x_mean


def fit_rows(
    X: torch.Tensor,
    y: torch.Tensor,
    alphas: torch.Tensor,
    *,
    lr: float,
    steps: int,
    grad: Grad | None = None,
    prox: Prox | None = None,
    W0: torch.Tensor | None = None,
    accelerate: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Full-batch (proximal) gradient descent on every row's penalized objective at once.

    The penalty of row ``c`` is ``alphas[c] * mean_j phi(w_j)``; pass exactly one of

    * ``grad``: the elementwise derivative ``phi'`` (e.g. ``torch.sign`` for
      ``phi = |w|``, ``lambda W: 2 * W`` for ``phi = w**2``); the step is plain
      (sub)gradient descent

      .. math:: W_c \leftarrow W_c
                - \eta \big(\nabla_{w}\ell_c + \tfrac{\alpha_c}{d}\,\phi'(W_c)\big);

    * ``prox``: the elementwise proximal operator
      ``prox(Z, t) = argmin_x 0.5 * (x - z)**2 + t * phi(x)``
      (e.g. :func:`weightreg.penalties.prox_l1`); the step is proximal gradient descent (ISTA)

      .. math:: W_c \leftarrow \operatorname{prox}\big(W_c - \eta \nabla_{w}\ell_c,\;
                t_c = \eta \alpha_c / d\big),

      with ``t`` passed as a ``(C, 1)`` tensor.

    The bias always takes a plain gradient step ``b <- b - lr * mean(residual)``.
    ``W0`` (shape ``(d,)`` or ``(C, d)``) is the start, zeros by default; ``b`` starts at 0.
    ``accelerate=True`` takes each step from the extrapolated point
    ``V = W + beta_k (W - W_prev)`` (FISTA, Beck & Teboulle 2009) and resets the momentum of
    a row whenever its step points against its last move (the gradient restart of
    O'Donoghue & Candes 2015); same fixed points, far fewer steps on ill-conditioned rows.
    Returns the final ``W (C, d)`` and ``b (C,)``.  Introduced in *L2*; the proximal
    step and acceleration in *L1: exact zeros*.
    """
    X, y = _check_data(X, y)
    a = _check_alphas(alphas, X.dtype, positive=False)
    lr = check_positive("lr", lr)
    steps = check_positive_int("steps", steps)
    if (grad is None) == (prox is None):
        raise ValueError("pass exactly one of grad (subgradient step) or prox (proximal step)")
    if not callable(grad if grad is not None else prox):
        raise TypeError("grad and prox must be callables")
    n, d = X.shape
    if W0 is None:
        W = torch.zeros(len(a), d, dtype=X.dtype)
    else:
        check_finite_tensor("W0", W0)
        if W0.shape not in ((d,), (len(a), d)):
            raise ValueError(f"W0 must have shape ({d},) or ({len(a)}, {d}), got {tuple(W0.shape)}")
        W = W0.to(X.dtype).expand(len(a), d).clone()
    b = torch.zeros(len(a), dtype=X.dtype)
    t = (lr * a / d)[:, None]
    W_prev, b_prev = W, b
    theta = torch.ones(len(a), 1, dtype=X.dtype)
    for _ in range(steps):
        if accelerate:
            theta_next = (1 + torch.sqrt(1 + 4 * theta**2)) / 2
            beta = (theta - 1) / theta_next
            V, c = W + beta * (W - W_prev), b + beta[:, 0] * (b - b_prev)
        else:
            V, c = W, b
        residual = X @ V.T + c - y[:, None]  # (n, C)
        g_w = residual.T @ X / n  # (C, d)
        if prox is None:
            W_new = V - lr * g_w - t * grad(V)
        else:
            W_new = prox(V - lr * g_w, t)
        b_new = c - lr * residual.mean(dim=0)
        if accelerate:
            against = ((V - W_new) * (W_new - W)).sum(dim=1) + (c - b_new) * (b_new - b) > 0
            theta = torch.where(against[:, None], torch.ones_like(theta), theta_next)
        W_prev, b_prev, W, b = W, b, W_new, b_new
    return W, b

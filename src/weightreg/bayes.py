r"""The evidence of Bayesian ridge regression.

Introduced in the chapter *The Bayesian view: priors, posteriors and the evidence*
(``book/implicit/bayes.md``).

The model (Bishop 2006, chapter 3; MacKay 1992): a Gaussian prior on the weights and Gaussian
noise on the targets, with no bias (centre ``X`` and ``y`` first),

.. math:: \mathbf w \sim \mathcal N(\mathbf 0, \alpha^{-1} I_d), \qquad
          \mathbf y \mid X, \mathbf w \sim \mathcal N(X\mathbf w, \beta^{-1} I_n).

``alpha`` is the **precision of the prior** and ``beta`` the **precision of the noise**: in the
book's symbols the prior's scale is :math:`\rho = \alpha^{-1/2}` and the noise's standard
deviation :math:`\gamma = \beta^{-1/2}` (the issue keeps the names ``alpha``/``beta`` of
Bishop; this ``alpha`` is *not* the book's Lk penalty weight).  The posterior mean is the
ridge solution with the weight-decay coefficient :math:`\lambda = \alpha/(n\beta) =
\gamma^2/(n\rho^2)`.  scikit-learn's ``BayesianRidge`` names them the other way round: its
``lambda_`` is our ``alpha`` (weight precision) and its ``alpha_`` our ``beta`` (noise
precision).

The **evidence** (marginal likelihood) integrates the weights out: ``y`` is Gaussian with mean 0
and covariance :math:`C = \beta^{-1} I_n + \alpha^{-1} X X^\top`, so

.. math:: \log p(\mathbf y \mid X, \alpha, \beta) = -\tfrac12\big(n\log 2\pi + \log\det C
          + \mathbf y^\top C^{-1}\mathbf y\big).

With the thin SVD :math:`X = U\operatorname{diag}(s)V^\top` (:math:`r = \min(n, d)` singular
values), :math:`C` has eigenvalues :math:`\beta^{-1} + s_i^2/\alpha` along the columns of
:math:`U` and :math:`\beta^{-1}` on the :math:`n - r` others, which gives the log determinant
and the quadratic form without forming or inverting :math:`C` (no cancellation: the part of
``y`` outside the columns of :math:`U` is computed as a residual, not as a difference of
norms).  This equals Bishop's (3.86) and scikit-learn's ``BayesianRidge.scores_`` with its
hyper-priors switched off.
"""

from __future__ import annotations

import math

import torch

from .validation import check_finite_tensor

__all__ = ["ridge_log_evidence"]


def _check_precision(name: str, value: object) -> torch.Tensor:
    """A real number > 0, or a 0-d/1-D real floating tensor of finite entries > 0 (float64)."""
    if isinstance(value, bool) or not isinstance(value, int | float | torch.Tensor):
        raise TypeError(
            f"{name} must be a real number > 0 or a 0-d/1-D real floating tensor of them, "
            f"got {type(value).__name__}"
        )
    if isinstance(value, torch.Tensor):
        value = check_finite_tensor(name, value)
        if value.dim() > 1:
            raise ValueError(
                f"{name} must be a number or a 0-d/1-D tensor (one value per configuration), "
                f"got shape {tuple(value.shape)}"
            )
        t = value.detach().to(torch.float64)
    else:
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"{name} must be finite, got {value}")
        t = torch.tensor(float(value), dtype=torch.float64)
    if not bool((t > 0).all()):
        raise ValueError(f"{name} must be > 0 (a precision), got {t.min().item():.3g}")
    return t


def ridge_log_evidence(
    X: torch.Tensor, y: torch.Tensor, alpha: float | torch.Tensor, beta: float | torch.Tensor
) -> torch.Tensor:
    r"""The log evidence :math:`\log p(\mathbf y \mid X, \alpha, \beta)` of Bayesian ridge.

    ``X`` is ``(n, d)`` and ``y`` is ``(n,)`` or ``(n, 1)``, real floating and finite; there is
    no bias (centre both first).  ``alpha`` (weight precision, :math:`1/\rho^2`) and ``beta``
    (noise precision, :math:`1/\gamma^2`) are each a number ``> 0`` or a 0-d/1-D tensor of
    them; two 1-D tensors must have the same length ``C`` (one configuration per entry; flatten
    a grid first).  Returns a float64 tensor: 0-d for two numbers or 0-d tensors, else ``(C,)``.
    Computed in float64 from the SVD of ``X`` (see the module docstring), for any ``n`` and
    ``d``.  Equals ``scipy.stats.multivariate_normal(mean=0, cov=C).logpdf(y)`` with
    ``C = I / beta + X @ X.T / alpha``.
    """
    X = check_finite_tensor("X", X)
    if X.dim() != 2:
        raise ValueError(f"X must have shape (n, d), got {tuple(X.shape)}")
    y = check_finite_tensor("y", y)
    y = y.reshape(-1) if y.dim() == 2 and y.shape[1] == 1 else y
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"y must have shape (n,) or (n, 1) with n = {X.shape[0]} (the rows of X), "
            f"got {tuple(y.shape)}"
        )
    a = _check_precision("alpha", alpha)
    b = _check_precision("beta", beta)
    if a.dim() == 1 and b.dim() == 1 and a.shape != b.shape:
        raise ValueError(
            f"alpha and beta must have the same length when both are 1-D, got {a.shape[0]} "
            f"and {b.shape[0]} (flatten a grid of both first)"
        )
    Xd, yd = X.detach().to(torch.float64), y.detach().to(torch.float64)
    n = Xd.shape[0]
    U, s, _ = torch.linalg.svd(Xd, full_matrices=False)  # U (n, r), s (r,)
    if not bool(torch.isfinite(s**2).all()):
        raise ValueError("X is too large: its squared singular values overflow float64")
    z = U.T @ yd
    outside = float(((yd - U @ z) ** 2).sum())  # part of y orthogonal to the columns of U
    if not (math.isfinite(outside) and bool(torch.isfinite(z**2).all())):
        raise ValueError("y is too large: its squared norm overflows float64")
    a_, b_ = torch.broadcast_tensors(a, b)
    shape = a_.shape
    a_, b_ = a_.reshape(-1, 1), b_.reshape(-1, 1)
    # eigenvalues of C along U: 1/beta + s^2/alpha = (1 + beta s^2/alpha) / beta
    ratio = b_ * s**2 / a_  # (C, r)
    log_c = torch.log1p(ratio) - torch.log(b_)
    logdet = log_c.sum(dim=1) - (n - s.shape[0]) * torch.log(b_[:, 0])
    quad = (b_ * z**2 / (1 + ratio)).sum(dim=1) + b_[:, 0] * outside
    out = -0.5 * (n * math.log(2 * math.pi) + logdet + quad)
    if not bool(torch.isfinite(out).all()):
        raise ValueError(
            "the log evidence overflows float64 for these X, y, alpha and beta: rescale X or y, "
            "or bring alpha and beta closer to 1"
        )
    return out.reshape(shape)

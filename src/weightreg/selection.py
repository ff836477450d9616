r"""Choosing the strength of a penalty: cross-validation folds, the exact leave-one-out
shortcut of ridge, generalized cross-validation, and the one-standard-error rule.

Introduced in the chapter *Elastic net, and choosing the strength*
(``book/implicit/elastic_net.md``).

Conventions
-----------
* **Ridge in scikit-learn's convention**, no intercept: ``w(alpha)`` minimizes
  ``||y - X w||**2 + alpha * ||w||**2`` (a *sum* of squares), so
  ``w = (X^T X + alpha I)^{-1} X^T y``.  In the book's symbols (loss
  :math:`\frac{1}{2n}\lVert X\mathbf w - \mathbf y\rVert^2`, penalty
  :math:`\frac{\lambda}{2}\lVert\mathbf w\rVert^2`) that is :math:`\lambda = \alpha/n`; in the
  Lk convention :math:`\alpha_{\mathrm{book}}\operatorname{mean}(w_j^2)` it is
  :math:`\alpha_{\mathrm{book}} = d\,\alpha/(2n)` (``Ridge(alpha=2 n alpha_book / d)``, as in
  :func:`weightreg.penalties.prox_lk`).  The functions accept one ``alpha > 0`` (a number)
  or a 1-D tensor of them, and then return one row per value.
* The **hat matrix** :math:`S = X (X^\top X + \alpha I)^{-1} X^\top` maps ``y`` to the
  fitted values.  With the thin SVD :math:`X = U \operatorname{diag}(s) V^\top` it is
  :math:`S = U \operatorname{diag}\big(s_k^2/(s_k^2 + \alpha)\big) U^\top` (the filter
  factors of *L2, direction by direction*, with :math:`\sigma_k^2 = s_k^2/n`).
* **Leave-one-out** residual of example ``i``: :math:`y_i - \mathbf x_i^\top
  \mathbf w_{(-i)}` with :math:`\mathbf w_{(-i)}` fitted without example ``i``.  It equals
  :math:`(y_i - \hat y_i)/(1 - S_{ii})` exactly (the Sherman-Morrison identity), so all
  ``n`` come from one fit.
* **Generalized cross-validation** (Golub, Heath and Wahba 1979) replaces every
  :math:`S_{ii}` by their mean :math:`\operatorname{tr}(S)/n`:
  :math:`\mathrm{GCV}(\alpha) = \frac{1}{n}\lVert\mathbf y - S\mathbf y\rVert^2 /
  (1 - \operatorname{tr}(S)/n)^2`.
* **K folds** (:func:`kfold_indices`): ``n`` examples in ``k`` contiguous blocks of the order
  (the identity, or a permutation drawn from :func:`weightreg.seeding.streams`), the first
  ``n % k`` blocks one longer; the same folds as ``sklearn.model_selection.KFold(k)`` when not
  shuffled.
* **One standard error** (:func:`one_standard_error`): per-fold errors ``(K, G)`` over a
  grid ordered from the weakest to the strongest penalty; the rule picks the strongest
  penalty whose mean error is within one standard error (sample standard deviation over the
  folds, ``ddof=1``, divided by :math:`\sqrt K`) of the best mean.
"""

from __future__ import annotations

import math

import torch

from .seeding import streams
from .validation import check_finite_tensor, check_int, check_positive

__all__ = ["kfold_indices", "one_standard_error", "ridge_gcv", "ridge_loo_residuals"]


def _check_xy(X: object, y: object) -> tuple[torch.Tensor, torch.Tensor]:
    X = check_finite_tensor("X", X)
    if X.dim() != 2:
        raise ValueError(f"X must be a matrix (n, d), got shape {tuple(X.shape)}")
    y = check_finite_tensor("y", y)
    if y.dim() != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y must be a vector of n = {X.shape[0]} targets (one per row of X), got shape "
            f"{tuple(y.shape)}"
        )
    if X.shape[0] < 2:
        raise ValueError(f"X must have at least 2 rows (examples), got {X.shape[0]}")
    return X, y.to(X.dtype)


def _check_alpha(alpha: object, dtype: torch.dtype) -> tuple[torch.Tensor, bool]:
    """``alpha > 0``: a number (returned as a (1,) tensor, flag True) or a 1-D tensor."""
    if isinstance(alpha, torch.Tensor) and alpha.dim() > 0:
        check_finite_tensor("alpha", alpha)
        if alpha.dim() != 1:
            raise ValueError(f"alpha must be a number or a 1-D tensor, got shape {alpha.shape}")
        if bool((alpha <= 0).any()):
            raise ValueError("alpha must be > 0 (every value)")
        return alpha.to(dtype), False
    if isinstance(alpha, torch.Tensor):
        alpha = check_finite_tensor("alpha", alpha).item()
    return torch.tensor([check_positive("alpha", alpha)], dtype=dtype), True


def _hat(X: torch.Tensor, y: torch.Tensor, alphas: torch.Tensor):
    """Fitted values ``(A, n)``, hat diagonals ``(A, n)`` and traces ``(A,)``; unchecked."""
    U, s, _ = torch.linalg.svd(X, full_matrices=False)
    f = s**2 / (s**2 + alphas[:, None])  # (A, r) filter factors
    fitted = (f * (U.T @ y)) @ U.T  # (A, n)
    diag = f @ (U**2).T  # (A, n)
    return fitted, diag, f.sum(dim=1)


def _finite(out: torch.Tensor) -> torch.Tensor:
    if not bool(torch.isfinite(out).all()):
        raise ValueError(
            f"X and y are too large for {out.dtype} (the squares of their entries overflow) "
            "or alpha is too small for this X (a leverage S_ii rounds to 1): rescale X and y "
            "or raise alpha"
        )
    return out


def ridge_loo_residuals(
    X: torch.Tensor, y: torch.Tensor, alpha: float | torch.Tensor
) -> torch.Tensor:
    r"""Leave-one-out residuals :math:`y_i - \mathbf x_i^\top\mathbf w_{(-i)}` of ridge, exactly.

    Ridge in scikit-learn's convention (``||y - X w||**2 + alpha ||w||**2``, no intercept;
    the book's :math:`\lambda = \alpha/n`, see the module notes).  Without refitting:

    .. math:: y_i - \mathbf x_i^\top\mathbf w_{(-i)} = \frac{y_i - \hat y_i}{1 - S_{ii}},
              \qquad S = X (X^\top X + \alpha I)^{-1} X^\top ,

    from one SVD of ``X``.  ``X`` is ``(n, d)`` (any ``d``, also ``d > n``), ``y`` is ``(n,)``;
    ``alpha > 0`` a number (returns ``(n,)``) or a 1-D tensor of ``A`` values (returns
    ``(A, n)``).  The mean of their squares is what ``sklearn.linear_model.RidgeCV`` (with
    ``fit_intercept=False`` and no ``cv``) minimizes.  Introduced in *Elastic net, and choosing
    the strength*.
    """
    X, y = _check_xy(X, y)
    alphas, scalar = _check_alpha(alpha, X.dtype)
    fitted, diag, _ = _hat(X, y, alphas)
    out = _finite((y - fitted) / (1 - diag))
    return out[0] if scalar else out


def ridge_gcv(X: torch.Tensor, y: torch.Tensor, alpha: float | torch.Tensor) -> torch.Tensor:
    r"""Generalized cross-validation score of ridge (scikit-learn's convention, no intercept).

    .. math:: \mathrm{GCV}(\alpha) = \frac{\frac1n\lVert \mathbf y - S\mathbf y\rVert^2}
              {\big(1 - \operatorname{tr}(S)/n\big)^2},
              \qquad \operatorname{tr}(S) = \sum_k \frac{s_k^2}{s_k^2 + \alpha}

    (Golub, Heath and Wahba 1979): the mean squared leave-one-out residual of
    :func:`ridge_loo_residuals` with every :math:`S_{ii}` replaced by their mean.  It is
    unchanged when the rows of ``(X, y)`` are rotated by one orthogonal matrix (the
    leave-one-out score is not).  Shapes and ``alpha`` as in :func:`ridge_loo_residuals`;
    returns a 0-d tensor or ``(A,)``.  Introduced in *Elastic net, and choosing the strength*.
    """
    X, y = _check_xy(X, y)
    alphas, scalar = _check_alpha(alpha, X.dtype)
    n = X.shape[0]
    fitted, _, trace = _hat(X, y, alphas)
    out = _finite(((y - fitted) ** 2).mean(dim=1) / (1 - trace / n) ** 2)
    return out[0] if scalar else out


def kfold_indices(
    n: int, k: int, *, seed: int | None = None
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``k`` (train, validation) pairs of index tensors (``int64``) that partition ``range(n)``.

    The order is ``0, ..., n-1`` (``seed=None``) or a permutation drawn from
    ``streams(seed).shuffle``; fold ``j`` validates on the ``j``-th contiguous block of that
    order (the first ``n % k`` blocks have ``n // k + 1`` entries, the others ``n // k``) and
    trains on all other indices, in increasing order.  Unshuffled, these are exactly the folds
    of ``sklearn.model_selection.KFold(n_splits=k)``.  ``2 <= k <= n``.  Introduced in
    *Elastic net, and choosing the strength*.
    """
    n = check_int("n", n, minimum=2)
    k = check_int("k", k, minimum=2)
    if k > n:
        raise ValueError(f"k must be <= n = {n} (at least one example per fold), got {k}")
    if seed is None:
        order = torch.arange(n)
    else:
        order = torch.randperm(n, generator=streams(seed).shuffle)
    sizes = [n // k + (1 if j < n % k else 0) for j in range(k)]
    folds, start = [], 0
    for size in sizes:
        val = order[start : start + size]
        mask = torch.ones(n, dtype=torch.bool)
        mask[val] = False
        folds.append((torch.nonzero(mask).flatten(), val.clone()))
        start += size
    return folds


def one_standard_error(fold_errors: torch.Tensor) -> tuple[int, int]:
    r"""The best index and the one-standard-error index of a cross-validation curve.

    ``fold_errors`` is ``(K, G)``: the validation error of each of ``K >= 2`` folds for ``G``
    penalty strengths ordered from the **weakest to the strongest** penalty (simplest model
    last).  With the mean :math:`\bar e_g` over folds and the standard error
    :math:`\mathrm{se}_g = \mathrm{std}_g/\sqrt K` (sample standard deviation, ``ddof=1``),
    returns ``(best, one_se)``: :math:`\mathrm{best} = \arg\min_g \bar e_g` (the first on a
    tie) and the largest :math:`g` with :math:`\bar e_g \le \bar e_{\mathrm{best}} +
    \mathrm{se}_{\mathrm{best}}`, the strongest penalty "as good as the best within noise"
    (Hastie, Tibshirani and Friedman 2009, sec. 7.10).  Introduced in *Elastic net, and
    choosing the strength*.
    """
    E = check_finite_tensor("fold_errors", fold_errors)
    if E.dim() != 2 or E.shape[0] < 2:
        raise ValueError(
            f"fold_errors must be (K, G) with K >= 2 folds (rows), got shape {tuple(E.shape)}"
        )
    E = E.detach().to(torch.float64)
    if float(E.abs().max()) > 1e300:
        raise ValueError("fold_errors are too large (above 1e300): rescale them")
    mean = E.mean(dim=0)
    best = int(torch.argmin(mean))
    se = float(E[:, best].std()) / math.sqrt(E.shape[0])
    within = torch.nonzero(mean <= mean[best] + se).flatten()
    return best, int(within.max())

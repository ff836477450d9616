"""Self-checks for the exercises of ``book/implicit/elastic_net.md``.

The chapter computes in float64 (its default dtype): the inputs are float64 and the residuals
are compared with the float64 reference at float64's tolerance; a float32 answer that agrees
to float32 precision passes with a note (the dtype policy of
``weightreg.check._core.agrees``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .. import selection as _library
from ..selection import ridge_loo_residuals as _reference
from ._core import TOLERANCE, agrees, as_tensor, call_untouched, close, fail, passed, selfcheck
from ._core import uses_library as _uses_library

__all__ = ["ridge_loo"]


def _cases() -> list[tuple[torch.Tensor, torch.Tensor, float]]:
    gen = torch.Generator().manual_seed(12)
    out = []
    for n, d, alpha in [(12, 4, 1.0), (10, 25, 0.5), (30, 6, 20.0), (8, 8, 3.0)]:
        X = torch.randn(n, d, generator=gen, dtype=torch.float64)
        y = X[:, 0] - 0.5 * X[:, 1] + 0.3 * torch.randn(n, generator=gen, dtype=torch.float64)
        out.append((X, y, alpha))
    return out


def _close(a: torch.Tensor, b: torch.Tensor, scale: float) -> bool:
    """Equal up to float32 rounding: for recognizing mistakes, which differ by far more."""
    return close(a, b, TOLERANCE[torch.float32], scale)


def _loo_refit_with_intercept(X: torch.Tensor, y: torch.Tensor, alpha: float) -> torch.Tensor:
    """Leave-one-out residuals of ridge *with* an intercept, refitted n times."""
    n, d = X.shape
    out = torch.empty(n, dtype=X.dtype)
    for i in range(n):
        keep = torch.arange(n) != i
        Xk, yk = X[keep], y[keep]
        xm, ym = Xk.mean(0), yk.mean()
        Xc = Xk - xm
        w = torch.linalg.solve(Xc.T @ Xc + alpha * torch.eye(d, dtype=X.dtype), Xc.T @ (yk - ym))
        out[i] = y[i] - ym - (X[i] - xm) @ w
    return out


def _loo(X: torch.Tensor, y: torch.Tensor, ridge: float) -> torch.Tensor:
    """Leave-one-out residuals with ``ridge`` on the diagonal of ``X^T X``."""
    d = X.shape[1]
    S = X @ torch.linalg.solve(X.T @ X + ridge * torch.eye(d, dtype=X.dtype), X.T)
    return (y - S @ y) / (1 - torch.diagonal(S))


@selfcheck
def ridge_loo(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> None:
    """Check ``fn(X, y, alpha)`` = the leave-one-out residuals ``y_i - x_i^T w_(-i)`` of ridge.

    Ridge in scikit-learn's convention (``||y - X w||**2 + alpha ||w||**2``, no intercept),
    compared with :func:`weightreg.selection.ridge_loo_residuals` on four problems (``n > d``,
    ``n < d``, ``n = d``).  Diagnoses: the ordinary (in-sample) residuals without the division
    by ``1 - S_ii``; dividing by the mean leverage (that is generalized cross-validation);
    ``1 + S_ii`` instead of ``1 - S_ii``; the wrong sign (``x_i^T w - y_i``); the penalty scaled
    as ``alpha / 2``, ``n * alpha`` or ``alpha / n`` (the book's convention); an intercept
    fitted (centred data); squared residuals; a wrong shape; inputs changed in place; a call
    to the library's ``weightreg.selection.ridge_loo_residuals``.  Accepts float32 answers
    (with a note).
    """
    _uses_library(fn, _library.ridge_loo_residuals, exercise="this exercise")
    cases = _cases()
    for X, y, alpha in cases:
        n, d = X.shape
        what = f"an {n}x{d} X with alpha={alpha:g}"
        raw = call_untouched(fn, X, y, alpha, what=what, names=("X", "y"))
        if not isinstance(raw, torch.Tensor):
            fail(f"on {what} your function returned a {type(raw).__name__}; return a tensor.")
        if raw.shape != (n,):
            fail(
                f"on {what} your function returned shape {tuple(raw.shape)}: return one "
                f"residual per example, shape ({n},)."
            )
        raw = as_tensor(raw, what=what)
        out = raw.detach().to(torch.float64)
        expected = _reference(X, y, alpha)
        S = X @ torch.linalg.solve(X.T @ X + alpha * torch.eye(d, dtype=X.dtype), X.T)
        # float32 rounding is amplified by 1 / (1 - S_ii) and by the conditioning of the solve
        A = X.T @ X + alpha * torch.eye(d, dtype=X.dtype)
        amplify = float(torch.linalg.cond(A)) / float((1 - torch.diagonal(S)).min())
        scale = max(1.0, float(expected.abs().max())) * amplify
        if agrees(raw.detach(), expected, dtype=torch.float64, what=what, scale=scale):
            continue
        scale = max(1.0, float(expected.abs().max()))
        h, plain = torch.diagonal(S), y - S @ y
        Xc, yc = X - X.mean(0), y - y.mean()
        diagnoses = [
            (
                plain,
                "these are the in-sample residuals y - S y: each one must still be "
                "divided by 1 - S_ii to undo example i's pull on its own fit.",
            ),
            (
                plain / (1 - h.mean()),
                "you divided by 1 minus the *mean* leverage: that is "
                "generalized cross-validation, not leave-one-out; use each example's own S_ii.",
            ),
            (
                plain / (1 + h),
                "the denominator is 1 + S_ii; leaving example i out makes its "
                "residual larger, not smaller.",
            ),
            (-expected, "the sign is flipped: the residual is y_i minus the prediction."),
            (expected**2, "you returned squared residuals; return the residuals themselves."),
            (
                _reference(X, y, alpha / 2),
                "the penalty is alpha * ||w||^2 (no 1/2): solve with X^T X + alpha I.",
            ),
            (
                _reference(X, y, alpha * n),
                "the penalty here is not multiplied by n: solve "
                "with X^T X + alpha I (a sum of squares, scikit-learn's convention).",
            ),
            (
                _loo(X, y, alpha / n),
                "you used alpha / n, the book's lambda convention (a mean loss); this exercise "
                "follows scikit-learn's: ||y - X w||^2 + alpha ||w||^2, so X^T X + alpha I.",
            ),
            (
                _loo(Xc, yc, alpha),
                "you centred the data, which fits an intercept; this ridge has no intercept: "
                "use X and y as they are.",
            ),
            (
                _loo_refit_with_intercept(X, y, alpha),
                "your fits have an intercept (scikit-learn's Ridge fits one unless "
                "fit_intercept=False); this ridge has no intercept.",
            ),
            (
                y - X @ torch.linalg.solve(X.T @ X + alpha * torch.eye(d, dtype=X.dtype), X.T @ y),
                "these are the in-sample residuals y - X w: each one must still be divided by "
                "1 - S_ii to undo example i's pull on its own fit.",
            ),
        ]
        for value, message in diagnoses:
            if _close(out, value, scale) and not _close(value, expected, scale):
                fail(f"On {what}: {message}")
        fail(
            f"wrong values on {what}; compare your residuals with refitting ridge n times, "
            "each time without one example."
        )
    passed("ridge_loo", len(cases))

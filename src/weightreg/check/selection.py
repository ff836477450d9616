"""Self-checks for the exercises of ``book/implicit/elastic_net.md``."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..selection import ridge_loo_residuals as _reference
from ._core import call_student, fail, passed

__all__ = ["ridge_loo"]


def _cases() -> list[tuple[torch.Tensor, torch.Tensor, float]]:
    gen = torch.Generator().manual_seed(12)
    out = []
    for n, d, alpha in [(12, 4, 1.0), (10, 25, 0.5), (30, 6, 20.0), (8, 8, 3.0)]:
        X = torch.randn(n, d, generator=gen, dtype=torch.float64)
        y = X[:, 0] - 0.5 * X[:, 1] + 0.3 * torch.randn(n, generator=gen, dtype=torch.float64)
        out.append((X, y, alpha))
    return out


def _close(a: torch.Tensor, b: torch.Tensor, low: bool) -> bool:
    rtol, atol = (2e-4, 1e-5) if low else (1e-8, 1e-10)
    return bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def ridge_loo(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> None:
    """Check ``fn(X, y, alpha)`` = the leave-one-out residuals ``y_i - x_i^T w_(-i)`` of ridge.

    Ridge in scikit-learn's convention (``||y - X w||**2 + alpha ||w||**2``, no intercept),
    compared with :func:`weightreg.selection.ridge_loo_residuals` on four problems (``n > d``,
    ``n < d``, ``n = d``).  Diagnoses: the ordinary (in-sample) residuals without the division
    by ``1 - S_ii``; dividing by the mean leverage (that is generalized cross-validation);
    ``1 + S_ii`` instead of ``1 - S_ii``; the wrong sign (``x_i^T w - y_i``); the penalty scaled
    as ``alpha / 2`` or ``n * alpha``; squared residuals; a wrong shape.  Accepts float32
    answers.
    """
    cases = _cases()
    for X, y, alpha in cases:
        n, d = X.shape
        what = f"an {n}x{d} X with alpha={alpha:g}"
        raw = call_student(fn, X.clone(), y.clone(), alpha, what=what)
        if not isinstance(raw, torch.Tensor):
            fail(f"on {what} your function returned a {type(raw).__name__}; return a tensor.")
        if raw.shape != (n,):
            fail(
                f"on {what} your function returned shape {tuple(raw.shape)}: return one "
                f"residual per example, shape ({n},)."
            )
        low = raw.dtype in (torch.float32, torch.float16, torch.bfloat16)
        out = raw.detach().to(torch.float64)
        expected = _reference(X, y, alpha)
        if _close(out, expected, low):
            continue
        S = X @ torch.linalg.solve(X.T @ X + alpha * torch.eye(d, dtype=X.dtype), X.T)
        h, plain = torch.diagonal(S), y - S @ y
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
        ]
        for value, message in diagnoses:
            if _close(out, value, low) and not _close(value, expected, low):
                fail(f"On {what}: {message}")
        fail(
            f"wrong values on {what}; compare your residuals with refitting ridge n times, "
            "each time without one example."
        )
    passed("ridge_loo", len(cases))

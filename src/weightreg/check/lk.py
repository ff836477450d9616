"""Self-checks for the exercises of the chapters *L2: shrinking every weight*, *L2, direction by
direction* and *L1* (``book/lk/l2.md``, ``l2_eigen.md``, ``l1.md``)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..penalties import lk_grad as _library_lk_grad
from ._core import call_student, fail, passed

__all__ = ["lk_grad", "prox_l1", "ridge_eigen"]


def _as_result(out: object, like: torch.Tensor, what: str) -> torch.Tensor:
    if not isinstance(out, torch.Tensor):
        fail(
            f"on {what} your function returned a {type(out).__name__}; return a torch "
            "tensor with the same shape as its input."
        )
    if out.shape != like.shape:
        fail(
            f"on {what} your function returned shape {tuple(out.shape)}, but the input has "
            f"shape {tuple(like.shape)}: the result has one entry per weight."
        )
    return out.detach().to(torch.float64)


# Tolerances of a comparison with the float64 reference: tight for a float64 answer, float32
# rounding for an answer computed in float32 (or lower), which is correct too.
_TOL_F64 = (1e-9, 1e-12)
_TOL_F32 = (2e-5, 1e-6)


def _tolerance(out: object) -> tuple[float, float]:
    low = isinstance(out, torch.Tensor) and out.dtype in (
        torch.float32,
        torch.float16,
        torch.bfloat16,
    )
    return _TOL_F32 if low else _TOL_F64


def _close(a: torch.Tensor, b: torch.Tensor, tol: tuple[float, float] = _TOL_F64) -> bool:
    return bool(torch.allclose(a, b, rtol=tol[0], atol=tol[1]))


def _reference_grad(w: torch.Tensor, k: float, alpha: float) -> torch.Tensor:
    return _library_lk_grad(w, k, alpha)  # the one implementation, in weightreg.penalties


def lk_grad(fn: Callable[[torch.Tensor, float, float], torch.Tensor]) -> None:
    """Check ``fn(w, k, alpha)`` = the gradient of ``alpha * mean(|w|**k)``, with 0 at ``w = 0``.

    Diagnoses: a missing sign at negative weights, NaN or inf at ``w = 0`` (for
    ``k <= 1``), a sum instead of a mean (or a mean over the wrong axis), an ignored or
    doubled ``alpha``, a missing factor ``k``, the exponent ``k`` instead of ``k - 1``,
    a changed shape, a non-tensor result, an input modified in place.  Accepts float32
    answers (compared up to float32 rounding).
    """
    gen = torch.Generator().manual_seed(3)
    cases = [
        (torch.rand(5, generator=gen, dtype=torch.float64) + 0.2, 2.0, 1.0),
        (torch.tensor([-1.5, -0.3, 0.4, 2.0], dtype=torch.float64), 1.0, 1.0),
        (torch.tensor([-2.0, -0.5, 0.25, 1.0, 3.0], dtype=torch.float64), 3.0, 0.8),
        (torch.tensor([0.0, -1.0, 0.0, 2.0], dtype=torch.float64), 1.0, 2.0),
        (torch.tensor([0.0, 0.49, -0.81, 0.0, 1.0], dtype=torch.float64), 0.5, 1.0),
        (torch.randn(3, 4, generator=gen, dtype=torch.float64), 1.5, 0.5),
        (torch.randn(2, 6, generator=gen, dtype=torch.float64), 2.0, 3.0),
    ]
    for w, k, alpha in cases:
        shape = "x".join(map(str, w.shape))
        what = f"a {shape} tensor with k={k:g}, alpha={alpha:g}"
        w_in = w.clone()
        raw = call_student(fn, w_in, k, alpha, what=what)
        out, tol = _as_result(raw, w, what), _tolerance(raw)
        if not torch.equal(w_in, w):
            fail(f"your function changed its input w in place (on {what}); leave w untouched.")
        expected = _reference_grad(w, k, alpha)
        if _close(out, expected, tol):
            continue
        zero = w == 0
        if bool(zero.any()) and not bool(torch.isfinite(out[zero]).all()):
            fail(
                f"on {what}: at w = 0 your gradient is {out[zero][0].item()}. The derivative of "
                f"|w|**{k:g} does not exist there; the convention is to return 0 at w = 0 "
                "(avoid computing 0 ** negative)."
            )
        nz = ~zero
        if not _close(out[nz], expected[nz], tol):
            n = w.numel()
            no_sign = alpha * k * w.abs() ** (k - 1) / n
            diagnoses = [
                (
                    no_sign,
                    "the sign is missing: at a negative weight the gradient of "
                    "|w|**k points the other way (multiply by sign(w)).",
                ),
                (
                    expected * n,
                    "you summed over the entries; the penalty is a mean, so divide "
                    "by the number of entries of w.",
                ),
                (expected / alpha, "the value does not change with alpha: multiply by alpha."),
                (expected * alpha, "alpha is applied twice."),
                (expected / k, "the factor k from the power rule is missing."),
                (
                    alpha * torch.sign(w) * w.abs() ** k / n,
                    "the power is wrong: the derivative of |w|**k has exponent k - 1.",
                ),
            ]
            if w.dim() > 1:
                for m in {w.shape[0], w.shape[-1]} - {n}:
                    diagnoses.append(
                        (
                            expected * n / m,
                            "you divided by the length of one "
                            "axis; the mean runs over all entries of w.",
                        )
                    )
            for value, message in diagnoses:
                if _close(out[nz], value[nz], tol) and not _close(value[nz], expected[nz], tol):
                    fail(f"On {what}: {message}")
            fail(
                f"wrong values on {what}; compare with alpha * k * sign(w) * |w|**(k-1) "
                "divided by the number of entries."
            )
        fail(
            f"on {what}: the gradient at w = 0 should be 0 (the convention where the "
            f"derivative does not exist), got {out[zero].tolist()}."
        )
    passed("lk_grad", len(cases))


def prox_l1(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> None:
    """Check ``fn(z, t)`` = soft thresholding ``sign(z) * max(|z| - t, 0)``, elementwise.

    Diagnoses: hard thresholding (big entries not moved), shrinking without stopping at
    zero (small entries pushed past 0), negative entries mishandled, the L2 prox
    ``z / (1 + t)``, zeros that are only nearly zero, a changed shape, a non-tensor result,
    an input modified in place.  Accepts float32 answers (compared up to float32 rounding).
    """
    cases = [
        (torch.tensor([-3.0, -1.0, -0.2, 0.0, 0.3, 0.5, 2.5], dtype=torch.float64), 0.5),
        (torch.tensor([1.2, -0.7, 0.05, -2.0], dtype=torch.float64), 0.1),
        (torch.tensor([[0.9, -0.1], [-1.4, 0.4]], dtype=torch.float64), 0.3),
        (torch.tensor([-0.4, 0.2, 1.0], dtype=torch.float64), 0.0),
        (torch.tensor([0.1 + 0.2, -0.7, 0.29], dtype=torch.float64), 0.3),
    ]
    for z, t in cases:
        shape = "x".join(map(str, z.shape))
        what = f"z = {z.flatten().tolist()} (shape {shape}) with t={t:g}"
        z_in = z.clone()
        raw = call_student(fn, z_in, t, what=what)
        out, tol = _as_result(raw, z, what), _tolerance(raw)
        if not torch.equal(z_in, z):
            fail(f"your function changed its input z in place (on {what}); leave z untouched.")
        expected = torch.sign(z) * torch.clamp(z.abs() - t, min=0)
        if _close(out, expected, tol):
            inside = z.abs() <= t
            if bool(inside.any()) and not bool((out[inside] == 0).all()):
                fail(
                    f"on {what}: entries with |z| <= t must be exactly 0, not merely tiny "
                    "(that is the point of this operator); clamp instead of subtracting."
                )
            continue
        diagnoses = [
            (
                z * (z.abs() > t),
                "entries above the threshold must also move toward 0 by t "
                "(that was hard thresholding).",
            ),
            (
                z - t * torch.sign(z),
                "entries with |z| <= t must stop at exactly 0 instead "
                "of crossing to the other side.",
            ),
            (
                torch.clamp(z - t, min=0),
                "negative entries must move up toward 0 too: "
                "the operator is odd, prox(-z) = -prox(z).",
            ),
            (z / (1 + t), "that is the proximal operator of (t/2) x**2 (L2), not of t |x|."),
        ]
        for value, message in diagnoses:
            if _close(out, value, tol) and not _close(value, expected, tol):
                fail(f"On {what}: {message}")
        fail(f"wrong values on {what}; compare with sign(z) * max(|z| - t, 0).")
    passed("prox_l1", len(cases))


def _ridge_cases() -> list[tuple[torch.Tensor, torch.Tensor, float]]:
    """Small data sets with non-zero means (so that centring matters), d > n and d < n."""
    gen = torch.Generator().manual_seed(11)

    def data(n: int, d: int, shift: float) -> tuple[torch.Tensor, torch.Tensor]:
        X = torch.randn(n, d, generator=gen, dtype=torch.float64) + shift
        y = X @ torch.randn(d, generator=gen, dtype=torch.float64) + 2.0
        y = y + 0.3 * torch.randn(n, generator=gen, dtype=torch.float64)
        return X, y

    return [
        (*data(6, 10, 0.5), 0.5),  # d > n: many directions the data cannot see
        (*data(12, 4, 1.0), 0.2),  # d < n
        (*data(5, 8, -0.7), 2.0),
        (*data(9, 9, 0.3), 0.05),
    ]


def _ridge_reference(X: torch.Tensor, y: torch.Tensor, lambd: float) -> torch.Tensor:
    """The solve (H + lambd I)^{-1} X_c^T y_c / n on centred data: independent of the eigenbasis."""
    n, d = X.shape
    Xc, yc = X - X.mean(dim=0), y - y.mean()
    return torch.linalg.solve(Xc.T @ Xc / n + lambd * torch.eye(d, dtype=X.dtype), Xc.T @ yc / n)


def _close_float32(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Close up to float32 rounding (a correct float32 answer passes)."""
    scale = float(b.abs().max()) + 1e-12
    return bool((a - b).abs().max() <= 1e-4 * scale)


def ridge_eigen(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> None:
    r"""Check ``fn(X, y, lambd)`` = the ridge weights by eigen-shrinkage, bias free.

    The expected result is the minimizer in ``w`` of
    :math:`\frac1n\sum_i \frac12(\mathbf x_i^\top\mathbf w + b - y_i)^2 + \frac{\lambda}{2}
    \lVert\mathbf w\rVert^2` (bias not penalized), i.e.
    :math:`Q\operatorname{diag}(\sigma_i^2/(\sigma_i^2 + \lambda))Q^\top\mathbf w^+` with
    :math:`H = X_c^\top X_c/n = Q\operatorname{diag}(\sigma_i^2)Q^\top` and
    :math:`\mathbf w^+ = X_c^+\mathbf y_c` (chapter *L2, direction by direction*).  Accepts
    float32 answers.  Diagnoses: data not centred (the bias forgotten), the complementary factor
    :math:`\lambda/(\sigma_i^2 + \lambda)`, the penalty ignored (:math:`\mathbf w^+`), singular
    values :math:`\sigma_i` instead of eigenvalues :math:`\sigma_i^2`, :math:`X_c^\top X_c`
    without the :math:`1/n`, the coefficient read in the book's other scaling
    (:math:`2\lambda/d`), a changed shape, a non-tensor result, inputs modified in place.
    """
    cases = _ridge_cases()
    for X, y, lambd in cases:
        n, d = X.shape
        what = f"X of shape ({n}, {d}), y of shape ({n},), lambd={lambd:g}"
        X_in, y_in = X.clone(), y.clone()
        out = call_student(fn, X_in, y_in, lambd, what=what)
        if not torch.equal(X_in, X) or not torch.equal(y_in, y):
            fail(f"your function changed X or y in place (on {what}); leave its inputs untouched.")
        expected = _ridge_reference(X, y, lambd)
        out = _as_result(out, expected, what)
        if _close_float32(out, expected):
            continue
        Xc, yc = X - X.mean(dim=0), y - y.mean()
        sig2, Q = torch.linalg.eigh(Xc.T @ Xc / n)
        sig2 = sig2.clamp(min=0)
        coords = Q.T @ (torch.linalg.pinv(Xc) @ yc)
        diagnoses = [
            (
                torch.linalg.solve(X.T @ X / n + lambd * torch.eye(d, dtype=X.dtype), X.T @ y / n),
                "the data are not centred: with a free (unpenalized) bias, subtract the column "
                "means of X and the mean of y first.",
            ),
            (
                Q @ (lambd / (sig2 + lambd) * coords),
                "the factor is the wrong way round: a direction with a large eigenvalue must be "
                "kept almost unchanged, one with a small eigenvalue shrunk.",
            ),
            (
                Q @ coords,
                "the result does not depend on lambd: that is the minimum-norm solution w+; "
                "multiply each eigen-coordinate by its shrink factor.",
            ),
            (
                Q @ (sig2.sqrt() / (sig2.sqrt() + lambd) * coords),
                "the shrink factor uses the square roots of the eigenvalues (the singular "
                "values); the eigenvalues of H are already squares, sigma_i**2.",
            ),
            (
                _ridge_reference(X, y, lambd / n),
                "H is the mean, X_c^T X_c / n, not the sum X_c^T X_c: divide by n.",
            ),
            (
                _ridge_reference(X, y, 2 * lambd / d),
                "lambd is the coefficient of (lambd/2) ||w||**2 itself; do not convert it "
                "with 2 / d (that conversion turns the book's alpha into lambd).",
            ),
        ]
        for value, message in diagnoses:
            if _close_float32(out, value) and not _close_float32(value, expected):
                fail(f"On {what}: {message}")
        fail(
            f"wrong values on {what}; compare with the solution of "
            "(X_c^T X_c / n + lambd I) w = X_c^T y_c / n on centred data."
        )
    passed("ridge_eigen", len(cases))

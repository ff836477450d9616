"""Self-checks for the exercises of the chapters *L2: shrinking every weight*, *L2, direction by
direction* and *L1* (``book/lk/l2.md``, ``l2_eigen.md``, ``l1.md``).

These chapters compute in float64 (``DTYPE``): the checks feed float64 inputs and follow the
dtype policy of ``weightreg.check._core`` (a float32 result passes at float32 tolerance,
with a note).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .. import linear, penalties
from ..penalties import lk_grad as _library_lk_grad
from ._core import (
    CheckFailed,
    agrees,
    as_tensor,
    call_untouched,
    close,
    fail,
    passed,
    result_dtype,
    selfcheck,
    tolerance,
    uses_library,
)

__all__ = ["lk_grad", "prox_l1", "ridge_eigen"]

DTYPE = torch.float64
"""The dtype of these chapters (each sets it as torch's default)."""


def _reference_grad(w: torch.Tensor, k: float, alpha: float) -> torch.Tensor:
    return _library_lk_grad(w, k, alpha)  # the one implementation, in weightreg.penalties


@selfcheck
def lk_grad(fn: Callable[[torch.Tensor, float, float], torch.Tensor]) -> None:
    """Check ``fn(w, k, alpha)`` = the gradient of ``alpha * mean(|w|**k)``, with 0 at ``w = 0``.

    Diagnoses: a missing sign at negative weights, NaN or inf at ``w = 0`` (for
    ``k <= 1``), a sum instead of a mean (or a mean over the wrong axis), an ignored or
    doubled ``alpha``, a missing factor ``k``, the exponent ``k`` instead of ``k - 1``,
    a changed shape, a non-tensor result, an input modified in place, a call to the library's
    ``lk_grad``.  Inputs are float64; a float32 answer passes at float32 tolerance, with a note.
    """
    uses_library(fn, penalties.lk_grad, penalties.lk_grad_rows, penalties.lk_grad_per_weight)
    gen = torch.Generator().manual_seed(3)
    cases = [
        (torch.rand(5, generator=gen, dtype=DTYPE) + 0.2, 2.0, 1.0),
        (torch.tensor([-1.5, -0.3, 0.4, 2.0], dtype=DTYPE), 1.0, 1.0),
        (torch.tensor([-2.0, -0.5, 0.25, 1.0, 3.0], dtype=DTYPE), 3.0, 0.8),
        (torch.tensor([0.0, -1.0, 0.0, 2.0], dtype=DTYPE), 1.0, 2.0),
        (torch.tensor([0.0, 0.49, -0.81, 0.0, 1.0], dtype=DTYPE), 0.5, 1.0),
        (torch.randn(3, 4, generator=gen, dtype=DTYPE), 1.5, 0.5),
        (torch.randn(2, 6, generator=gen, dtype=DTYPE), 2.0, 3.0),
    ]
    for w, k, alpha in cases:
        shape = "x".join(map(str, w.shape))
        what = f"a {shape} tensor with k={k:g}, alpha={alpha:g}"
        raw = call_untouched(fn, w, k, alpha, what=what, names=("w", "k", "alpha"))
        out = as_tensor(raw, what=what, shape=w.shape, purpose="one entry per weight")
        expected = _reference_grad(w, k, alpha)
        if agrees(out, expected, dtype=DTYPE, what=what, scale=float(expected.abs().max())):
            continue
        out, tol = out.detach().to(DTYPE), tolerance(result_dtype(raw), DTYPE)
        zero = w == 0
        if bool(zero.any()) and not bool(torch.isfinite(out[zero]).all()):
            fail(
                f"on {what}: at w = 0 your gradient is {out[zero][0].item()}. The derivative of "
                f"|w|**{k:g} does not exist there; the convention is to return 0 at w = 0 "
                "(avoid computing 0 ** negative)."
            )
        nz = ~zero
        if not close(out[nz], expected[nz], tol):
            n = w.numel()
            no_sign = alpha * k * w.abs() ** (k - 1) / n
            diagnoses = [
                (
                    no_sign,
                    "the sign is missing: at a negative weight the gradient of "
                    "|w|**k points the other way.",
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
                (
                    alpha * k * torch.sign(w) * w.abs() ** k / n,
                    "the power is wrong: the derivative of |w|**k has exponent k - 1, not k.",
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
                if close(out[nz], value[nz], tol) and not close(value[nz], expected[nz], tol):
                    fail(f"On {what}: {message}")
            fail(
                f"wrong values on {what}. Check, one at a time: the sign at negative weights, "
                "the power of |w| after differentiating, the factor from the power rule, alpha, "
                "and the mean over all the entries."
            )
        fail(
            f"on {what}: the gradient at w = 0 should be 0 (the convention where the "
            f"derivative does not exist), got {out[zero].tolist()}."
        )
    passed("lk_grad", len(cases))


def _soft(z: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    return torch.sign(z) * torch.clamp(z.abs() - t, min=0)


def _prox_l1_cases() -> list[tuple[torch.Tensor, float | torch.Tensor, str]]:
    """Float thresholds, then tensor ones as the chapter's proximal solver passes them."""
    cases: list[tuple[torch.Tensor, float | torch.Tensor, str]] = []
    for z, t in [
        (torch.tensor([-3.0, -1.0, -0.2, 0.0, 0.3, 0.5, 2.5], dtype=DTYPE), 0.5),
        (torch.tensor([1.2, -0.7, 0.05, -2.0], dtype=DTYPE), 0.1),
        (torch.tensor([[0.9, -0.1], [-1.4, 0.4]], dtype=DTYPE), 0.3),
        (torch.tensor([-0.4, 0.2, 1.0], dtype=DTYPE), 0.0),
        (torch.tensor([0.1 + 0.2, -0.7, 0.29], dtype=DTYPE), 0.3),
    ]:
        cases.append((z, t, f"t={t:g}"))
    z = torch.tensor([-2.0, -0.6, 0.1, 0.45, 1.5], dtype=DTYPE)
    cases.append((z, torch.tensor(0.5, dtype=DTYPE), "t = tensor(0.5), a 0-d tensor"))
    Z = torch.tensor([[1.0, -0.3, 0.2], [-1.0, 0.8, 2.0]], dtype=DTYPE)
    cases.append(
        (Z, torch.tensor([[0.25], [0.9]], dtype=DTYPE), "t a (2, 1) tensor, one threshold per row")
    )
    return cases


@selfcheck
def prox_l1(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> None:
    """Check ``fn(z, t)`` = soft thresholding, the proximal operator of ``t|x|``, elementwise.

    ``t`` is a number, and also a tensor (0-d, or one threshold per row), as the chapter's
    proximal solver passes it.  Diagnoses: hard thresholding (big entries not moved), shrinking
    without stopping at zero (small entries pushed past 0), a forgotten sign, negative entries
    mishandled, a threshold t/2 or 2t, the L2 prox ``z / (1 + t)``, zeros that are only nearly
    zero, a function that works only for a number t, a changed shape, a non-tensor result, an
    input modified in place, a call to the library's ``prox_l1``.  Inputs are float64; a
    float32 answer passes at float32 tolerance, with a note.
    """
    uses_library(fn, penalties.prox_l1, penalties.prox_lk, penalties.prox_elastic_net)
    cases = _prox_l1_cases()
    for z, t, t_what in cases:
        shape = "x".join(map(str, z.shape))
        what = f"z = {z.flatten().tolist()} (shape {shape}) with {t_what}"
        if isinstance(t, torch.Tensor):
            try:
                raw = call_untouched(fn, z, t, what=what, names=("z", "t"))
            except CheckFailed as exc:
                if "raised" not in str(exc):
                    raise
                fail(
                    f"{exc} Your function works with a number t but not with a tensor t: the "
                    "chapter's proximal solver passes the threshold as a tensor (one per row), "
                    "so use operations that accept a tensor threshold (F.softshrink and "
                    "float(t) need a Python number)."
                )
        else:
            raw = call_untouched(fn, z, t, what=what, names=("z", "t"))
        out = as_tensor(raw, what=what, shape=z.shape, purpose="one entry per entry of z")
        expected = _soft(z, t)
        if agrees(out, expected, dtype=DTYPE, what=what, scale=float(z.abs().max())):
            inside = (z.abs() <= t).expand_as(z)
            if bool(inside.any()) and not bool((out.detach()[inside] == 0).all()):
                fail(
                    f"on {what}: entries with |z| <= t must be exactly 0, not merely tiny "
                    "(that is the point of this operator)."
                )
            continue
        tol = tolerance(result_dtype(raw), DTYPE)
        out = out.detach().to(DTYPE)
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
                torch.clamp(z.abs() - t, min=0),
                "the sign is missing: negative entries come out positive; the operator is odd, "
                "prox(-z) = -prox(z).",
            ),
            (
                torch.clamp(z - t, min=0),
                "negative entries must move up toward 0 too: "
                "the operator is odd, prox(-z) = -prox(z).",
            ),
            (
                _soft(z, t / 2),
                "your threshold is t/2, half of what it should be: the prox of t |x| moves "
                "entries by t itself (the 1/2 belongs to the squared distance only).",
            ),
            (_soft(z, 2 * t), "your threshold is 2t, twice what it should be."),
            (z / (1 + t), "that is the proximal operator of (t/2) x**2 (L2), not of t |x|."),
        ]
        for value, message in diagnoses:
            if close(out, value, tol) and not close(value, expected, tol):
                fail(f"On {what}: {message}")
        fail(
            f"wrong values on {what}: entries with |z| <= t must become exactly 0, the others "
            "move toward 0 by t, keeping their sign."
        )
    passed("prox_l1", len(cases))


def _ridge_cases() -> list[tuple[torch.Tensor, torch.Tensor, float]]:
    """Small data sets with non-zero means (so that centring matters), d > n and d < n."""
    gen = torch.Generator().manual_seed(11)

    def data(n: int, d: int, shift: float) -> tuple[torch.Tensor, torch.Tensor]:
        X = torch.randn(n, d, generator=gen, dtype=DTYPE) + shift
        y = X @ torch.randn(d, generator=gen, dtype=DTYPE) + 2.0
        y = y + 0.3 * torch.randn(n, generator=gen, dtype=DTYPE)
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


@selfcheck
def ridge_eigen(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> None:
    r"""Check ``fn(X, y, lambd)`` = the ridge weights by eigen-shrinkage, bias free.

    The expected result is the minimizer in ``w`` of
    :math:`\frac1n\sum_i \frac12(\mathbf x_i^\top\mathbf w + b - y_i)^2 + \frac{\lambda}{2}
    \lVert\mathbf w\rVert^2` (bias not penalized), i.e.
    :math:`Q\operatorname{diag}(\sigma_i^2/(\sigma_i^2 + \lambda))Q^\top\mathbf w^+` with
    :math:`H = X_c^\top X_c/n = Q\operatorname{diag}(\sigma_i^2)Q^\top` and
    :math:`\mathbf w^+ = X_c^+\mathbf y_c` (chapter *L2, direction by direction*).  Inputs are
    float64; a float32 answer passes at float32 tolerance, with a note.  Diagnoses: data not
    centred (the bias forgotten, also only for :math:`\mathbf w^+`), the complementary factor
    :math:`\lambda/(\sigma_i^2 + \lambda)`, the penalty ignored (:math:`\mathbf w^+`), singular
    values :math:`\sigma_i` instead of eigenvalues :math:`\sigma_i^2`, :math:`X_c^\top X_c`
    without the :math:`1/n`, :math:`\lambda/2` in place of :math:`\lambda`, the eigenvectors
    taken as rows of :math:`Q`, the coefficient read in the book's other scaling
    (:math:`2\lambda/d`), a changed shape, a non-tensor result, inputs modified in place, a
    call to the library's ``ridge_path``.
    """
    uses_library(fn, linear.ridge_path)
    cases = _ridge_cases()
    for X, y, lambd in cases:
        n, d = X.shape
        what = f"X of shape ({n}, {d}), y of shape ({n},), lambd={lambd:g}"
        raw = call_untouched(fn, X, y, lambd, what=what, names=("X", "y", "lambd"))
        expected = _ridge_reference(X, y, lambd)
        out = as_tensor(raw, what=what, shape=expected.shape, purpose="one weight per column of X")
        scale = float(expected.abs().max())
        if agrees(out, expected, dtype=DTYPE, what=what, scale=scale):
            continue
        tol = tolerance(result_dtype(raw), DTYPE)
        out = out.detach().to(DTYPE)
        Xc, yc = X - X.mean(dim=0), y - y.mean()
        sig2, Q = torch.linalg.eigh(Xc.T @ Xc / n)
        sig2 = sig2.clamp(min=0)
        w_plus = torch.linalg.pinv(Xc) @ yc
        coords = Q.T @ w_plus
        shrink = sig2 / (sig2 + lambd)
        diagnoses = [
            (
                torch.linalg.solve(X.T @ X / n + lambd * torch.eye(d, dtype=X.dtype), X.T @ y / n),
                "the data are not centred: with a free (unpenalized) bias, subtract the column "
                "means of X and the mean of y first.",
            ),
            (
                Q @ (shrink * (Q.T @ (torch.linalg.pinv(X) @ y))),
                "w+ is computed from X and y that are not centred: with a free bias, centre "
                "both (subtract the means) before the pseudo-inverse as well.",
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
                Q.T @ (shrink * (Q @ w_plus)),
                "Q and Q^T are swapped: torch.linalg.eigh returns the eigenvectors as the "
                "columns of Q, so the eigen-coordinates of w+ are Q^T w+ and the way back is Q.",
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
                _ridge_reference(X, y, lambd / 2),
                "your shrinkage uses lambd / 2: the penalty (lambd/2) ||w||**2 has gradient "
                "lambd * w, so the factor 2 cancels and the shrink factor has lambd itself.",
            ),
            (
                _ridge_reference(X, y, 2 * lambd / d),
                "lambd is the coefficient of (lambd/2) ||w||**2 itself; do not convert it "
                "with 2 / d (that conversion turns the book's alpha into lambd).",
            ),
        ]
        for value, message in diagnoses:
            if close(out, value, tol, scale) and not close(value, expected, tol, scale):
                fail(f"On {what}: {message}")
        fail(
            f"wrong values on {what}. Check the centring, the eigen-decomposition of "
            "H = X_c^T X_c / n, the shrink factor of each direction and the way back from "
            "eigen-coordinates."
        )
    passed("ridge_eigen", len(cases))

"""Self-checks for the exercises of the chapter *Overfitting in high dimensions*.

The chapter trains in float32 (``DTYPE``): the checks feed float32 inputs, compare with a
float64 reference at float32 tolerance, and accept a float64 result with a note (the dtype
policy of ``weightreg.check._core``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .. import baseline
from ._core import (
    CheckFailed,
    agrees,
    as_tensor,
    call_untouched,
    close,
    describe,
    fail,
    passed,
    result_dtype,
    selfcheck,
    tolerance,
    uses_library,
)

__all__ = ["l2_penalty", "null_space_part"]

DTYPE = torch.float32
"""The dtype the chapter trains in."""


@selfcheck
def l2_penalty(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> None:
    """Check ``fn(w, lambd) == lambd / 2 * ||w||_2^2`` (sum over all entries, differentiable).

    Inputs are float32, as in the chapter.  Diagnoses: the norm instead of its square, a missing
    1/2, a mean instead of a sum, absolute values instead of squares, an ignored ``lambd``, a
    non-tensor result, a result of shape ``(1,)`` or a sum over one axis only (the penalty is a
    0-d tensor), a result autograd cannot differentiate, ``w`` changed in place (``w.data``
    tricks included).
    """
    gen = torch.Generator().manual_seed(1)
    cases = [
        (torch.randn(6, generator=gen, dtype=torch.float64), 0.7),
        (torch.randn(3, 4, generator=gen, dtype=torch.float64), 2.0),
        (-torch.rand(5, generator=gen, dtype=torch.float64) - 0.5, 3.0),
        (torch.zeros(4, dtype=torch.float64), 1.5),
    ]
    for w64, lambd in cases:
        w = w64.to(DTYPE).requires_grad_(True)
        shape = "x".join(map(str, w.shape))
        what = f"a {shape} tensor with lambd={lambd}"
        out, (w_in, _) = call_untouched(
            fn, w, lambd, what=what, names=("w", "lambd"), return_copies=True
        )
        if not isinstance(out, torch.Tensor):
            fail(
                f"on {what} your function returned {describe(out)}; return a torch tensor "
                "(no float(), .item() or NumPy) so that autograd can differentiate the penalty."
            )
        if out.shape != ():
            extra = (
                " The penalty sums over all entries of a tensor of any shape."
                if out.numel() > 1
                else ""
            )
            fail(
                f"on {what} your function returned a tensor of shape {tuple(out.shape)}; the "
                f"penalty is a single number, a scalar (0-d) tensor of shape ().{extra}"
            )
        wd = w.detach().double()
        sq = float((wd**2).sum())
        expected = lambd / 2 * sq
        if agrees(out, expected, dtype=DTYPE, what=what, scale=max(1.0, expected)):
            if not out.requires_grad:
                fail(
                    "the value is right, but autograd cannot differentiate it: build it "
                    "from tensor operations on w (no detach() or .data)."
                )
            (grad,) = torch.autograd.grad(out, w_in)
            if not close(grad, lambd * wd, tolerance(grad.dtype, DTYPE), max(1.0, lambd)):
                fail(
                    "the value is right but its gradient is not; avoid in-place tricks and "
                    "detach() inside the penalty."
                )
            continue
        got = float(out.detach())
        tol = tolerance(result_dtype(out), DTYPE)
        diagnoses = [
            (
                lambd * sq,
                "the factor 1/2 is missing: the penalty is lambd/2 times the sum of "
                "squares, so that its gradient is exactly lambd * w.",
            ),
            (
                lambd / 2 * sq**0.5,
                "you used the norm itself, ||w||, instead of its square ||w||^2 (the squared "
                "norm).",
            ),
            (
                lambd * sq**0.5,
                "you used the norm itself, ||w||, instead of its square ||w||^2 (the squared "
                "norm).",
            ),
            (
                lambd / 2 * sq / wd.numel(),
                "you averaged over the entries (a mean); the L2 penalty sums the squares.",
            ),
            (
                lambd / 2 * float(wd.abs().sum()),
                "you summed absolute values (that is L1); square the entries instead.",
            ),
            (sq / 2, "the value does not change with lambd: multiply by lambd."),
        ]
        for value, message in diagnoses:
            if close(got, value, tol, max(1.0, value)) and not close(value, expected, tol):
                fail(f"On {what}: {message}")
        if w.dim() > 1:
            fail(
                f"wrong value on a {shape} matrix: the penalty sums over all entries of a "
                "tensor of any shape."
            )
        fail(
            f"wrong value on {what}; compare your formula with lambd/2 times the squared "
            "Euclidean norm."
        )
    passed("l2_penalty", len(cases))


def _project_null(X: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return w - torch.linalg.pinv(X) @ (X @ w)


@selfcheck
def null_space_part(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    r"""Check ``fn(X, w) == P_N w``, the orthogonal projection of ``w`` onto ``X``'s null space.

    :math:`P_{\mathcal N}\mathbf w = \mathbf w - X^+X\mathbf w` for ``X`` of shape ``(n, d)`` and
    ``w`` of shape ``(d,)`` (the chapter *Overfitting in high dimensions*).  Cases: ``n < d``,
    a rank-deficient ``X`` (repeated rows), ``n > d`` (the null space is ``{0}``) and a ``w``
    already in the null space.  Inputs are float32, as in the chapter; a float64 result passes
    with a note.

    Diagnoses: the row-space part returned instead (the part that gradient steps change), the
    sign flipped, ``w`` returned unchanged, a result with the wrong shape, a result that ``X``
    does not send to zero, a result not orthogonal to the rows of ``X`` (an oblique, not
    orthogonal, projection), the inverse of ``X X^T`` used where ``X`` is rank-deficient, inputs
    changed in place, a call to the library's ``null_space_part`` (which also projects the
    bias).
    """
    uses_library(fn, baseline.null_space_part)
    gen = torch.Generator().manual_seed(7)
    X1 = torch.randn(4, 9, generator=gen, dtype=torch.float64)
    X2 = torch.cat([X1[:3], X1[:3]])  # rank 3 with 6 rows
    X3 = torch.randn(12, 5, generator=gen, dtype=torch.float64)
    w_in_null = _project_null(X1, torch.randn(9, generator=gen, dtype=torch.float64))
    cases = [
        (X1, torch.randn(9, generator=gen, dtype=torch.float64), "a 4x9 X (n < d)"),
        (X2, torch.randn(9, generator=gen, dtype=torch.float64), "a 6x9 X of rank 3"),
        (X3, torch.randn(5, generator=gen, dtype=torch.float64), "a 12x5 X (n > d)"),
        (X1, w_in_null, "a w already in the null space"),
    ]
    for X64, w64, what in cases:
        X, w = X64.to(DTYPE), w64.to(DTYPE)
        try:
            out = call_untouched(fn, X, w, what=what, names=("X", "w"))
        except CheckFailed as exc:
            if "singular" in str(exc).lower():
                fail(
                    f"on {what} your function tried to invert a singular matrix: with repeated "
                    "rows (or n > d) X X^T has no inverse; use the pseudo-inverse "
                    "(torch.linalg.pinv)."
                )
            raise
        out = as_tensor(out, what=what)
        if out.numel() != w.numel() or out.dim() not in (1, 2):
            fail(
                f"on {what} your function returned shape {tuple(out.shape)}; the null-space "
                f"part of w has w's shape {tuple(w.shape)} (a vector of d entries)."
            )
        got = out.detach().reshape(-1)
        if not bool(torch.isfinite(got).all()):
            fail(
                f"on {what} your result has NaN or infinite entries: with repeated rows X X^T "
                "is singular; use the pseudo-inverse (torch.linalg.pinv)."
            )
        Xd, wd = X.double(), w.double()  # the float32 inputs, exactly
        expected = _project_null(Xd, wd)
        # float32 pinv loses digits in proportion to X's condition number: scale the tolerance
        scale = 10 * max(1.0, float(wd.abs().max()))
        if agrees(got, expected, dtype=DTYPE, what=what, scale=scale):
            continue
        tol = tolerance(result_dtype(out), DTYPE)
        got = got.double()
        if close(got, wd - expected, tol, scale):
            fail(
                f"on {what} you returned the row-space part, the part of w that gradient steps "
                "change; the null-space part is the rest of w."
            )
        if close(got, -expected, tol, scale):
            fail(
                f"on {what} your result has the sign flipped (X^+ X w - w): it is the negative "
                "of the null-space part, w minus its row-space part."
            )
        if close(got, wd, tol, scale):
            fail(f"on {what} you returned w unchanged; remove its component in the row space of X.")
        if float((Xd @ got).norm()) > 1e-4 * scale * float(torch.linalg.matrix_norm(Xd, ord=2)):
            fail(
                f"on {what} X times your result is not zero, so it is not in the null space of "
                "X (a projection onto it needs the pseudo-inverse X^+, not X^T)."
            )
        fail(
            f"on {what} your result is in the null space of X but is not the orthogonal "
            "projection of w: w minus your result must lie in the row space of X."
        )
    passed("null_space_part", len(cases))

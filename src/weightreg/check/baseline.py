"""Self-checks for the exercises of the chapter *Overfitting in high dimensions*."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._core import CheckFailed, call_student, fail, passed

__all__ = ["l2_penalty", "null_space_part"]


def _close(a: float, b: float) -> bool:
    """Equal up to float32 rounding: a correct answer computed in float32 passes."""
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def l2_penalty(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> None:
    """Check ``fn(w, lambd) == lambd / 2 * ||w||_2^2`` (sum over all entries, differentiable).

    Diagnoses: the norm instead of its square, a missing 1/2, a mean instead of a sum,
    absolute values instead of squares, an ignored ``lambd``, a non-tensor result, a
    result autograd cannot differentiate.
    """
    gen = torch.Generator().manual_seed(1)
    cases = [
        (torch.randn(6, generator=gen, dtype=torch.float64), 0.7),
        (torch.randn(3, 4, generator=gen, dtype=torch.float64), 2.0),
        (-torch.rand(5, generator=gen, dtype=torch.float64) - 0.5, 3.0),
        (torch.zeros(4, dtype=torch.float64), 1.5),
    ]
    for w, lambd in cases:
        w = w.clone().requires_grad_(True)
        shape = "x".join(map(str, w.shape))
        out = call_student(fn, w, lambd, what=f"a {shape} tensor with lambd={lambd}")
        if not isinstance(out, torch.Tensor):
            fail(
                f"your function returned a {type(out).__name__}; return a torch tensor "
                "(no .item() or NumPy) so that autograd can differentiate the penalty."
            )
        if out.numel() != 1:
            fail(
                f"your function returned a tensor of shape {tuple(out.shape)}; "
                "the penalty is a single number (a scalar tensor)."
            )
        got = float(out.detach())
        wd = w.detach()
        sq = float((wd**2).sum())
        expected = lambd / 2 * sq
        if _close(got, expected):
            if not out.requires_grad:
                fail(
                    "the value is right, but autograd cannot differentiate it: build it "
                    "from tensor operations on w."
                )
            (grad,) = torch.autograd.grad(out, w)
            if not torch.allclose(grad, lambd * wd):
                fail(
                    "the value is right but its gradient is not; avoid in-place tricks and "
                    "detach() inside the penalty."
                )
            continue
        diagnoses = [
            (
                lambd * sq,
                "the factor 1/2 is missing: the penalty is lambd/2 times the sum of "
                "squares, so that its gradient is exactly lambd * w.",
            ),
            (lambd / 2 * sq**0.5, "you used the norm ||w||, not its square."),
            (lambd * sq**0.5, "you used the norm ||w||, not its square."),
            (
                lambd / 2 * sq / wd.numel(),
                "you averaged over the entries; the L2 penalty sums the squares.",
            ),
            (
                lambd / 2 * float(wd.abs().sum()),
                "you summed absolute values (that is L1); square the entries instead.",
            ),
            (sq / 2, "the value does not change with lambd: multiply by lambd."),
        ]
        for value, message in diagnoses:
            if _close(got, value) and not _close(value, expected):
                fail(f"On a {shape} tensor with lambd={lambd}: {message}")
        if w.dim() > 1:
            fail(
                f"wrong value on a {shape} matrix: the penalty sums over all entries of a "
                "tensor of any shape."
            )
        fail(
            f"wrong value on a {shape} tensor with lambd={lambd}; compare your formula with "
            "lambd/2 times the squared Euclidean norm."
        )
    passed("l2_penalty", len(cases))


def _project_null(X: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return w - torch.linalg.pinv(X) @ (X @ w)


def null_space_part(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    r"""Check ``fn(X, w) == P_N w``, the orthogonal projection of ``w`` onto ``X``'s null space.

    :math:`P_{\mathcal N}\mathbf w = \mathbf w - X^+X\mathbf w` for ``X`` of shape ``(n, d)`` and
    ``w`` of shape ``(d,)`` (the chapter *Overfitting in high dimensions*).  Cases: ``n < d``,
    a rank-deficient ``X`` (repeated rows), ``n > d`` (the null space is ``{0}``) and a ``w``
    already in the null space.  Answers in float32 are accepted (relative tolerance ``1e-4``).

    Diagnoses: the row-space part returned instead (the part that gradient steps change), ``w``
    returned unchanged, a result with the wrong shape, a result that ``X`` does not send to
    zero, a result not orthogonal to the rows of ``X`` (an oblique, not orthogonal,
    projection), the inverse of ``X X^T`` used where ``X`` is rank-deficient.
    """
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
    for X, w, what in cases:
        try:
            out = call_student(fn, X.clone(), w.clone(), what=what)
        except CheckFailed as exc:
            if "singular" in str(exc).lower():
                fail(
                    f"on {what} your function tried to invert a singular matrix: with repeated "
                    "rows (or n > d) X X^T has no inverse; use the pseudo-inverse "
                    "(torch.linalg.pinv)."
                )
            raise
        if not isinstance(out, torch.Tensor):
            fail(f"on {what} your function returned a {type(out).__name__}; return a torch tensor.")
        if out.numel() != w.numel() or out.dim() not in (1, 2):
            fail(
                f"on {what} your function returned shape {tuple(out.shape)}; the null-space "
                f"part of w has w's shape {tuple(w.shape)} (a vector of d entries)."
            )
        got = out.detach().reshape(-1).to(torch.float64)
        if not bool(torch.isfinite(got).all()):
            fail(
                f"on {what} your result has NaN or infinite entries: with repeated rows X X^T "
                "is singular; use the pseudo-inverse (torch.linalg.pinv)."
            )
        expected = _project_null(X, w)
        scale = max(1.0, float(w.norm()))
        if float((got - expected).norm()) <= 1e-4 * scale:
            continue
        if float((got - (w - expected)).norm()) <= 1e-4 * scale:
            fail(
                f"on {what} you returned the row-space part, the part of w that gradient steps "
                "change; the null-space part is the rest of w."
            )
        if float((got - w).norm()) <= 1e-4 * scale:
            fail(f"on {what} you returned w unchanged; remove its component in the row space of X.")
        if float((X @ got).norm()) > 1e-4 * scale * float(torch.linalg.matrix_norm(X, ord=2)):
            fail(f"on {what} X times your result is not zero, so it is not in the null space of X.")
        fail(
            f"on {what} your result is in the null space of X but is not the orthogonal "
            "projection of w: w minus your result must lie in the row space of X."
        )
    passed("null_space_part", len(cases))

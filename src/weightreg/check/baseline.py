"""Self-checks for the exercises of the chapter *Overfitting in high dimensions*."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._core import call_student, fail, passed

__all__ = ["l2_penalty"]


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


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

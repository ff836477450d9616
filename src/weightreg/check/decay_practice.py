"""Self-checks for the exercises of ``book/normalized/practice.md``.

* :func:`clip_grad_norm`: gradient clipping by the global norm, as
  ``torch.nn.utils.clip_grad_norm_`` does it (*Weight decay in practice*).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._core import call_student, fail, passed, selfcheck

__all__ = ["clip_grad_norm"]


def _reference(grads: list[torch.Tensor], max_norm: float) -> list[torch.Tensor]:
    g64 = [g.to(torch.float64) for g in grads]
    total = torch.sqrt(sum((g**2).sum() for g in g64))
    coef = min(1.0, max_norm / (float(total) + 1e-6))
    return [g * coef for g in g64]


def _cases() -> list[tuple[list[torch.Tensor], float, str]]:
    """``(grads, max_norm, description)``: a long gradient spread over tensors of different
    shapes (clipped), a short one (left alone), one where every tensor alone is shorter than
    ``max_norm`` but the whole is longer, a single tensor, and float32 tensors."""
    gen = torch.Generator().manual_seed(5)
    big = [
        torch.randn(3, 4, generator=gen, dtype=torch.float64) * 2,
        torch.randn(5, generator=gen, dtype=torch.float64),
    ]
    small = [g * 0.01 for g in big]
    parts = [
        torch.full((4,), 0.4, dtype=torch.float64),
        torch.full((2, 2), -0.4, dtype=torch.float64),
    ]
    single = [torch.tensor([3.0, -4.0, 0.0], dtype=torch.float64)]
    return [
        (big, 1.0, "a long gradient spread over two tensors"),
        (small, 1.0, "a gradient shorter than max_norm"),
        (parts, 1.0, "two tensors each shorter than max_norm, together longer"),
        (single, 2.5, "one tensor with one entry larger than max_norm"),
        ([g.float() for g in big], 0.5, "float32 tensors"),
    ]


def _same(got: list[torch.Tensor], candidate: list[torch.Tensor], tol: float) -> bool:
    return all(
        torch.allclose(a, b, rtol=tol, atol=1e-9) for a, b in zip(got, candidate, strict=True)
    )


@selfcheck
def clip_grad_norm(fn: Callable[[list[torch.Tensor], float], list[torch.Tensor]]) -> None:
    """Check ``fn(grads, max_norm) -> clipped``.

    ``grads`` is a list of gradient tensors (one per parameter), ``max_norm`` the threshold
    g_max; the answer is a list of tensors of the same shapes: all of them multiplied by
    ``min(1, g_max / ||g||)`` where ``||g||`` is the norm of *all* the entries together
    (``clip_grad_norm_``; its ``1e-6`` in the denominator is accepted, not required).  Accepts
    float32 and float64.

    Diagnoses: each tensor clipped by its own norm, value clipping (clamping entries),
    short gradients scaled *up* to ``max_norm``, the squared norm used for the norm, a list of
    the wrong length or shapes.
    """
    for grads, max_norm, what in _cases():
        originals = [g.clone() for g in grads]
        raw = call_student(fn, [g.clone() for g in grads], max_norm, what=what)
        if isinstance(raw, torch.Tensor) or not isinstance(raw, list | tuple):
            fail(f"on {what} return a list of tensors, one per gradient; got {type(raw).__name__}.")
        if len(raw) != len(grads) or not all(isinstance(r, torch.Tensor) for r in raw):
            fail(f"on {what} return one tensor per gradient ({len(grads)} tensors).")
        if any(r.shape != g.shape for r, g in zip(raw, grads, strict=True)):
            fail(f"on {what} each clipped tensor must keep the shape of its gradient.")
        got = [r.detach().to(torch.float64) for r in raw]
        expected = _reference(originals, max_norm)
        tol = 1e-5  # float32 answers accepted
        if all(
            torch.allclose(a, b, rtol=tol, atol=1e-9) for a, b in zip(got, expected, strict=True)
        ):
            continue
        g64 = [g.to(torch.float64) for g in originals]
        total = float(torch.sqrt(sum((g**2).sum() for g in g64)))
        per_tensor = [g * min(1.0, max_norm / float(g.norm())) for g in g64]
        clamped = [g.clamp(-max_norm, max_norm) for g in g64]
        scaled_up = [g * max_norm / total for g in g64]
        squared = [g * min(1.0, max_norm / total**2) for g in g64]

        if _same(got, per_tensor, tol):
            fail(
                f"on {what} you clipped each tensor by its own norm: clip_grad_norm_ uses the norm "
                "of all the gradients together, so the direction of the whole gradient is kept."
            )
        if _same(got, clamped, tol):
            fail(
                f"on {what} you clamped each entry (value clipping, clip_grad_value_): "
                "that changes the direction. Rescale the whole gradient instead."
            )
        if _same(got, scaled_up, tol):
            fail(
                f"on {what} a gradient shorter than max_norm was changed: clipping only shortens "
                "gradients that are longer than max_norm."
            )
        if _same(got, squared, tol):
            fail(
                f"on {what} the norm is the square root of the sum of squares, not the sum itself."
            )
        fail(
            f"on {what} the clipped gradients are wrong: multiply every tensor by "
            "min(1, max_norm / total norm), with the total norm over all entries."
        )
    passed("clip_grad_norm", len(_cases()))

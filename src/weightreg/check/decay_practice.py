"""Self-checks for the exercises of ``book/normalized/practice.md``.

* :func:`clip_grad_norm`: gradient clipping by the global norm, as
  ``torch.nn.utils.clip_grad_norm_`` does it (*Weight decay in practice*).

The chapter computes in float64 (``DTYPE``): the check feeds float64 gradients (and one case in
float32, compared at float32's tolerance) under the dtype policy of
``weightreg.check._core.agrees``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import utils as _torch_utils

from ._core import (
    CheckFailed,
    Tol,
    agrees,
    as_tensor,
    call_student,
    close,
    describe,
    fail,
    passed,
    selfcheck,
    tolerance,
    uses_library,
)

__all__ = ["clip_grad_norm"]

DTYPE = torch.float64
"""The dtype the chapter computes in."""

EPS_MAX = 1e-5
"""The largest epsilon added to the norm that is accepted (``clip_grad_norm_`` adds 1e-6)."""

EPSILON_HINT = (
    "the total norm is 0 here: clip_grad_norm_ adds a small epsilon (1e-6) to the norm before "
    "dividing by it (or divide only when the norm exceeds max_norm)"
)


def _cases() -> list[tuple[list[torch.Tensor], float, str]]:
    """``(grads, max_norm, description)``: a long gradient spread over tensors of different
    shapes (clipped), a short one (left alone), one just below ``max_norm``, one where every
    tensor alone is shorter than ``max_norm`` but the whole is longer, a single tensor, all-zero
    gradients, one zero tensor among others, and float32 tensors."""
    gen = torch.Generator().manual_seed(5)
    f64 = torch.float64
    big = [
        torch.randn(3, 4, generator=gen, dtype=f64) * 2,
        torch.randn(5, generator=gen, dtype=f64),
    ]
    small = [g * 0.01 for g in big]
    below = [g * (0.9 / float(torch.cat([b.reshape(-1) for b in big]).norm())) for g in big]
    parts = [torch.full((4,), 0.4, dtype=f64), torch.full((2, 2), -0.4, dtype=f64)]
    single = [torch.tensor([3.0, -4.0, 0.0], dtype=f64)]
    zeros = [torch.zeros(2, 3, dtype=f64), torch.zeros(4, dtype=f64)]
    three = [
        torch.randn(6, generator=gen, dtype=f64),
        torch.zeros(2, 2, dtype=f64),
        torch.randn(3, generator=gen, dtype=f64) * 3,
    ]
    return [
        (big, 1.0, "a long gradient spread over two tensors"),
        (small, 1.0, "a gradient much shorter than max_norm"),
        (below, 1.0, "a gradient of norm 0.9, just below max_norm = 1"),
        (parts, 1.0, "two tensors each shorter than max_norm, together longer"),
        (single, 2.5, "one tensor with one entry larger than max_norm"),
        (zeros, 1.0, "all-zero gradients"),
        (three, 2.0, "three tensors, the middle one all zero"),
        ([g.float() for g in big], 0.5, "float32 tensors"),
    ]


def _call(fn: Callable, grads: list[torch.Tensor], max_norm: float, what: str) -> object:
    """The student's result on copies of ``grads``; fails if one was changed in place."""
    copies = [g.clone() for g in grads]
    versions = [c._version for c in copies]
    zero = all(float(g.abs().max()) == 0 for g in grads)
    try:
        raw = call_student(fn, list(copies), max_norm, what=what)
    except CheckFailed as exc:
        if zero and ("Division" in str(exc) or "division" in str(exc)):
            fail(f"{exc} Missing epsilon? {EPSILON_HINT[0].upper()}{EPSILON_HINT[1:]}.")
        raise
    for i, (g, c, v) in enumerate(zip(grads, copies, versions, strict=True)):
        if c._version != v or c.shape != g.shape or not torch.equal(c, g):
            fail(
                f"your function changed the caller's gradient grads[{i}] in place (on {what}): "
                "this exercise returns new tensors and leaves the gradients as they were "
                "(clip_grad_norm_ works in place; here avoid mul_(), *=, div_() and writes "
                "through .data on the gradients)."
            )
    needed = float(_flat([c.to(torch.float64) for c in copies]).norm()) > max_norm
    if isinstance(raw, list | tuple):
        for out in raw:
            for i, c in enumerate(copies):
                if (
                    isinstance(out, torch.Tensor)
                    and out.numel() > 0
                    and out.untyped_storage().data_ptr() == c.untyped_storage().data_ptr()
                ):
                    if needed and torch.equal(out, c):
                        fail(
                            f"on {what} your function returned the caller's gradient "
                            f"grads[{i}] itself, unchanged: the gradients together are longer "
                            "than max_norm, so it should come back shortened, as a new tensor "
                            "(assigning to the loop variable, g = g * s, changes nothing in "
                            "the list)."
                        )
                    fail(
                        f"on {what} your function returned the caller's gradient grads[{i}] "
                        "itself (or a view of it): return a new tensor for every gradient, "
                        "even where nothing is clipped (e.g. g.clone()), so that later changes "
                        "to the gradients (zero_grad, the next backward) do not alter it."
                    )
    return raw


def _as_list(raw: object, grads: list[torch.Tensor], what: str) -> list[torch.Tensor]:
    if isinstance(raw, torch.Tensor) or not isinstance(raw, list | tuple):
        fail(f"on {what} return a list of tensors, one per gradient; got {describe(raw)}.")
    if len(raw) != len(grads):
        fail(
            f"on {what} return one tensor per gradient ({len(grads)} tensors); got "
            f"{len(raw)} items."
        )
    return [
        as_tensor(
            r,
            what=f"{what} (tensor {i})",
            shape=g.shape,
            purpose="each clipped tensor keeps the shape of its gradient",
        ).detach()
        for i, (r, g) in enumerate(zip(raw, grads, strict=True))
    ]


def _flat(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for t in tensors])


def _scaled(g64: list[torch.Tensor], coef: float) -> torch.Tensor:
    return _flat([g * coef for g in g64])


def _reference(got: torch.Tensor, g: torch.Tensor, max_norm: float) -> torch.Tensor:
    """The clipped gradient (flat, float64) with the student's epsilon, if it is in
    ``[0, EPS_MAX]``: ``clip_grad_norm_`` divides by the norm plus 1e-6, and 0, 1e-8 or 1e-6
    are all right."""
    total = float(g.norm())
    if total <= max_norm:
        return g.clone()
    gg = float(g @ g)
    c = float(got.to(torch.float64) @ g) / gg if gg > 0 else 0.0
    eps = max_norm / c - total if c > 0 else 0.0
    eps = min(max(eps, 0.0), EPS_MAX)
    return g * min(1.0, max_norm / (total + eps))


def _diagnose(got, grads, max_norm, what, tol, scale, ref) -> None:
    g64 = [g.to(torch.float64) for g in grads]
    flat = _flat(g64)
    total = float(flat.norm())

    # the variants are compared loosely: a student's epsilon (up to 1e-5) moves them a little
    loose = Tol(max(tol.rtol, 1e-4), max(tol.atol, 1e-6))

    def like(variant: torch.Tensor) -> bool:
        return (
            bool(torch.isfinite(variant).all())
            and close(got, variant, loose, scale)
            and not close(variant, ref, loose, scale)
        )

    def clip_by(norm: float) -> torch.Tensor:
        return _scaled(g64, min(1.0, max_norm / norm) if norm > 0 else 1.0)

    norms = [float(g.norm()) for g in g64]
    per_tensor = _flat(
        [g * (min(1.0, max_norm / n) if n > 0 else 1.0) for g, n in zip(g64, norms, strict=True)]
    )
    mistakes = [
        (
            flat,
            "a gradient longer than max_norm was left as it is: clipping must shorten it so "
            "that its norm is at most max_norm (a max where a min belongs?).",
        ),
        (
            per_tensor,
            "you clipped each tensor by its own norm: clip_grad_norm_ uses the norm of all the "
            "gradients together, so the direction of the whole gradient is kept.",
        ),
        (
            _flat([g.clamp(-max_norm, max_norm) for g in g64]),
            "you clamped each entry (value clipping, clip_grad_value_): that changes the "
            "direction. Rescale the whole gradient instead.",
        ),
        (
            _scaled(g64, max_norm / total) if total > 0 else flat,
            "a gradient shorter than max_norm was changed: clipping only shortens gradients "
            "that are longer than max_norm; shorter ones are left as they are.",
        ),
        (
            clip_by(total**2),
            "the norm is the square root of the sum of squares, not the sum itself.",
        ),
        (
            clip_by(sum(norms)),
            "you added the norms of the tensors: the total norm is the norm of all the entries "
            "together (the squares add up, not the norms).",
        ),
        (
            clip_by(total / flat.numel() ** 0.5),
            "you took the mean of the squares (a root mean square): the total norm sums the "
            "squares of all the entries, it does not average them.",
        ),
        (
            clip_by(norms[-1]),
            "the total norm uses only one tensor (the last one: a variable overwritten in a "
            "loop?); it must cover all the gradients.",
        ),
        (
            clip_by(norms[0]),
            "the total norm uses only one tensor (the first one); it must cover all the gradients.",
        ),
        (
            clip_by(float(flat.abs().sum())),
            "your norm sums absolute values (the L1 norm); clip_grad_norm_ uses the Euclidean "
            "(L2) norm.",
        ),
        (
            _scaled(g64, total / max_norm) if total > max_norm else flat,
            "the factor is upside down: a long gradient must be multiplied by a factor below 1.",
        ),
    ]
    for variant, message in mistakes:
        if like(variant):
            fail(f"on {what} {message}")


@selfcheck
def clip_grad_norm(fn: Callable[[list[torch.Tensor], float], list[torch.Tensor]]) -> None:
    """Check ``fn(grads, max_norm) -> clipped``.

    ``grads`` is a list of gradient tensors (one per parameter), ``max_norm`` the threshold
    g_max; the answer is a list of new tensors of the same shapes: the gradients rescaled as
    ``clip_grad_norm_`` rescales them, with the norm of *all* the entries together (its
    ``1e-6`` in the denominator is accepted, not required: any epsilon up to 1e-5).  Eight
    cases, among them a gradient just below ``max_norm`` (left untouched), tensors each
    shorter than ``max_norm`` but longer together, all-zero gradients and a zero tensor among
    others; float64 as in the chapter, one case in float32.

    Diagnoses: each tensor clipped by its own norm, value clipping (clamping entries),
    short gradients scaled *up* to ``max_norm``, the squared norm, the sum of the tensors'
    norms, a root mean square, a norm of one tensor only, the L1 norm, an inverted factor,
    a division by the zero norm (a missing epsilon or guard: NaN or ZeroDivisionError), the
    caller's gradients changed in place or returned themselves, a list of the wrong length or
    shapes, a call to ``torch.nn.utils.clip_grad_norm_`` (the answer).
    """
    answers = ("clip_grad_norm_", "clip_grad_norm", "clip_grads_with_norm_")
    library = [getattr(_torch_utils, name) for name in answers if hasattr(_torch_utils, name)]
    uses_library(fn, *library, exercise="this exercise")
    cases = _cases()
    for grads, max_norm, what in cases:
        dtype = grads[0].dtype
        raw = _call(fn, grads, max_norm, what)
        outs = _as_list(raw, grads, what)
        got = _flat(outs)
        if not bool(torch.isfinite(got).all()):
            if all(float(g.abs().max()) == 0 for g in grads):
                fail(
                    f"on {what} your result has NaN or inf. Missing epsilon? "
                    f"{EPSILON_HINT[0].upper()}{EPSILON_HINT[1:]}."
                )
            if any(float(g.abs().max()) == 0 for g in grads):
                fail(
                    f"on {what} your result has NaN or inf: a division by the norm of the zero "
                    "tensor? The clipping factor uses the norm of all the gradients together."
                )
            fail(f"on {what} your result has NaN or inf.")
        g64 = _flat([g.to(torch.float64) for g in grads])
        ref = _reference(got, g64, max_norm)
        scale = max(float(g64.abs().max()), 1e-12)
        if agrees(got, ref, dtype=dtype, what=what, scale=scale):
            continue
        _diagnose(got, grads, max_norm, what, tolerance(got.dtype, dtype), scale, ref)
        fail(
            f"on {what} the clipped gradients differ from what clip_grad_norm_ gives (largest "
            f"difference {float((got.to(torch.float64) - ref).abs().max()):.3g})."
        )
    passed("clip_grad_norm", len(cases))

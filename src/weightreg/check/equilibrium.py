"""Self-checks for the exercises of ``book/normalized/equilibrium.md``
(*The equilibrium of weight decay*)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..normalization import _angle, angle
from ._core import call_student, fail, passed, selfcheck, uses_library

__all__ = ["consecutive_angles"]

F64 = torch.float64


def _reference(W: torch.Tensor) -> torch.Tensor:
    """Angle between W[..., t, :] and W[..., t + 1, :], accurate for small and large angles."""
    return _angle(W[..., :-1, :], W[..., 1:, :])


def _cases() -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(13)
    cases = []
    # a random walk whose norm jumps by factors 0.2 to 5 between steps: (T + 1, C)
    for T, C, step in [(6, 20, 0.3), (9, 50, 0.1)]:
        W = [torch.randn(C, generator=gen, dtype=F64)]
        for _ in range(T):
            scale = math.exp(float(torch.empty(1).uniform_(-1.6, 1.6, generator=gen)))
            W.append(
                scale
                * (
                    W[-1]
                    + step * W[-1].norm() * torch.randn(C, generator=gen, dtype=F64) / math.sqrt(C)
                )
            )
        cases.append(torch.stack(W))
    # a batch of runs (S, T + 1, C), with one obtuse angle (2.5 rad) in the first run
    W = torch.randn(3, 5, 8, generator=gen, dtype=F64)
    W[0, 2] = 3.0 * (math.cos(2.5) * W[0, 1] / W[0, 1].norm())
    e = torch.randn(8, generator=gen, dtype=F64)
    e = e - (e @ W[0, 1]) / (W[0, 1] @ W[0, 1]) * W[0, 1]
    W[0, 2] += 3.0 * math.sin(2.5) * e / e.norm()
    cases.append(W)
    return cases


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal up to float32 rounding of an angle >= 0.02 rad: a correct float32 answer passes."""
    return bool(torch.allclose(a, b, rtol=2e-3, atol=1e-5))


@selfcheck
def consecutive_angles(fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(W) -> angles``: the angle (radians) between consecutive iterates.

    ``W`` has shape ``(..., T + 1, C)`` (iterates along the second-to-last dimension, entries
    along the last); the answer has shape ``(..., T)``, entry ``t`` the angle between
    ``W[..., t, :]`` and ``W[..., t + 1, :]``.  Diagnoses: the step length instead of the
    angle, degrees, the cosine, angles measured from the first iterate, a formula that fails
    for obtuse angles (``asin``), a wrong shape, and a call to ``weightreg.normalization.angle``
    (the library's answer).
    """
    uses_library(fn, angle, exercise="this exercise")
    cases = _cases()
    for W in cases:
        what = f"W of shape {tuple(W.shape)}"
        out = call_student(fn, W.clone(), what=what)
        if not isinstance(out, torch.Tensor):
            fail(f"return a torch tensor of angles; got a {type(out).__name__}.")
        expected_shape = (*W.shape[:-2], W.shape[-2] - 1)
        if tuple(out.shape) != expected_shape:
            fail(
                f"on {what} the answer has shape {tuple(out.shape)}; it needs one angle per pair "
                f"of consecutive iterates, shape {expected_shape}."
            )
        out = out.detach().to(F64)
        ref = _reference(W)
        if _close(out, ref):
            continue
        if _close(out, (W[..., 1:, :] - W[..., :-1, :]).norm(dim=-1)):
            fail(
                "you returned the step length ||w_{t+1} - w_t||; the angle ignores the norms: "
                "normalize both iterates first (the norm jumps between steps in this check)."
            )
        if _close(out, torch.rad2deg(ref)):
            fail("the angles are in degrees; the book measures them in radians.")
        if _close(out, torch.cos(ref)):
            fail("you returned the cosine of the angle; return the angle itself, in radians.")
        first = W[..., :1, :] / W[..., :1, :].norm(dim=-1, keepdim=True)
        later = W[..., 1:, :] / W[..., 1:, :].norm(dim=-1, keepdim=True)
        if _close(out, torch.acos(torch.clamp((first * later).sum(-1), -1.0, 1.0))):
            fail(
                "you measured each angle from the first iterate; the chapter's phi_t is between "
                "consecutive iterates w_t and w_{t+1}."
            )
        obtuse = ref > math.pi / 2
        if bool(obtuse.any()) and _close(out[~obtuse], ref[~obtuse]):
            fail(
                "the angles are right below pi/2 but wrong for an obtuse angle (asin or an "
                "absolute value of the cosine?): use atan2 or acos of the cosine."
            )
        fail(f"the angles are wrong on {what}.")
    passed("consecutive_angles", len(cases))

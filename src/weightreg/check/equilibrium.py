"""Self-checks for the exercises of ``book/normalized/equilibrium.md``
(*The equilibrium of weight decay*).

The check feeds float64 iterates (``DTYPE``, the precision the chapter's simulator computes
in) and applies the dtype policy of ``weightreg.check._core.agrees``: a float32 result passes
with a note, a float64 result that agrees only to 7 digits fails ("float32 somewhere?").
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .. import normalization
from ._core import (
    agrees,
    as_tensor,
    call_untouched,
    close,
    describe,
    fail,
    passed,
    selfcheck,
    tolerance,
    uses_library,
)

__all__ = ["consecutive_angles"]

F64 = torch.float64
DTYPE = F64
"""The dtype of the check's inputs (the chapter's simulator computes in float64)."""

SMALL = 1e-3
"""Below this angle (radians) acos of the cosine loses digits that float64 keeps."""


def _reference(W: torch.Tensor) -> torch.Tensor:
    """Angle between W[..., t, :] and W[..., t + 1, :], accurate for small and large angles."""
    return normalization._angle(W[..., :-1, :], W[..., 1:, :])


def _turn(w: torch.Tensor, angle: float, scale: float, gen: torch.Generator) -> torch.Tensor:
    """``w`` turned by ``angle`` radians in a random plane, its norm multiplied by ``scale``."""
    e = torch.randn(w.shape, generator=gen, dtype=F64)
    e = e - (e @ w) / (w @ w) * w
    e = e * (w.norm() / e.norm())
    return scale * (math.cos(angle) * w + math.sin(angle) * e)


def _cases() -> list[tuple[torch.Tensor, str]]:
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
        cases.append((torch.stack(W), f"a run of {T} steps whose norm jumps"))
    # a batch of runs (S, T + 1, C), with one obtuse angle (2.5 rad) in the first run
    W = torch.randn(3, 5, 8, generator=gen, dtype=F64)
    W[0, 2] = 3.0 * (math.cos(2.5) * W[0, 1] / W[0, 1].norm())
    e = torch.randn(8, generator=gen, dtype=F64)
    e = e - (e @ W[0, 1]) / (W[0, 1] @ W[0, 1]) * W[0, 1]
    W[0, 2] += 3.0 * math.sin(2.5) * e / e.norm()
    cases.append((W, "a batch of 3 runs of 4 steps, one angle obtuse"))
    # a single step
    cases.append((torch.randn(2, 7, generator=gen, dtype=F64), "a single step (T = 1)"))
    # steps that only rescale (angle 0: a computed cosine rounds above 1), and small angles
    w = torch.randn(16, generator=torch.Generator().manual_seed(36), dtype=F64)
    W = [w, 3.0 * w]
    W += [0.3 * W[-1]]
    W += [5.0 * W[-1]]
    W += [_turn(W[-1], 1e-5, 0.5, gen)]
    W += [_turn(W[-1], 0.7, 2.0, gen)]
    W += [_turn(W[-1], 3e-6, 1.0, gen)]
    cases.append((torch.stack(W), "a run with steps that only rescale and small angles"))
    return cases


def _shape_message(out: torch.Tensor, W: torch.Tensor, what: str) -> str:
    want = (*W.shape[:-2], W.shape[-2] - 1)
    got = tuple(out.shape)
    if W.dim() == 3 and got == (W.shape[0] - 1, W.shape[1]):
        return (
            f"on {what} the answer has shape {got}: you paired the runs (the first dimension), "
            "not the iterates. The iterates run along the second-to-last dimension: slice "
            "with W[..., :-1, :] and W[..., 1:, :]."
        )
    if W.shape[-2] == 2 and out.numel() == 1:
        return (
            f"on {what} the answer has shape {got}; it should keep one entry "
            f"per step, shape {want} (a squeeze() drops it)."
        )
    return (
        f"on {what} the answer has shape {got}; it needs one angle per pair of consecutive "
        f"iterates, shape {want}."
    )


def _unit(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    return x / x.norm(dim=dim, keepdim=True)


def _kahan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return 2 * torch.atan2((a - b).norm(dim=-1), (a + b).norm(dim=-1))


def _diagnose(out, W, ref, tol, what) -> None:
    def like(variant: torch.Tensor) -> bool:
        return (
            bool(torch.isfinite(variant).all())
            and close(out, variant, tol)
            and not close(variant, ref, tol)
        )

    first, later = _unit(W[..., :1, :]), _unit(W[..., 1:, :])
    Wd = _unit(W, dim=-2) if W.shape[-2] > 1 else W
    mistakes = [
        (
            (W[..., 1:, :] - W[..., :-1, :]).norm(dim=-1),
            "you returned the step length ||w_{t+1} - w_t||; the angle ignores the norms: "
            "normalize both iterates first (the norm jumps between steps in this check).",
        ),
        (torch.rad2deg(ref), "the angles are in degrees; the book measures them in radians."),
        (
            torch.cos(ref),
            "you returned the cosine of the angle; return the angle itself, in radians.",
        ),
        (
            torch.acos(torch.clamp((first * later).sum(-1), -1.0, 1.0)),
            "you measured each angle from the first iterate; the chapter's phi_t is between "
            "consecutive iterates w_t and w_{t+1}.",
        ),
        (
            _kahan(W[..., :-1, :], W[..., 1:, :]),
            "the formula of the exercise holds for unit vectors: normalize each iterate first "
            "(the norm jumps between steps in this check).",
        ),
        (
            _kahan(Wd[..., :-1, :], Wd[..., 1:, :]),
            "you normalized along the wrong dimension: each iterate is a vector along the last "
            "dimension, so its norm is taken over dim=-1.",
        ),
        (
            math.pi - ref,
            "you returned pi minus the angle: the angle between w_t and w_{t+1} is 0 when they "
            "point the same way.",
        ),
    ]
    for variant, message in mistakes:
        if like(variant):
            fail(f"on {what}: {message}")
    obtuse = ref > math.pi / 2
    if bool(obtuse.any()) and close(out[~obtuse], ref[~obtuse], tol):
        fail(
            f"on {what} the angles are right below pi/2 but wrong for an obtuse angle (asin, "
            "atan of a ratio, or an absolute value of the cosine?): the angle lies in [0, pi]."
        )


@selfcheck
def consecutive_angles(fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(W) -> angles``: the angle (radians) between consecutive iterates.

    ``W`` has shape ``(..., T + 1, C)`` (iterates along the second-to-last dimension, entries
    along the last); the answer has shape ``(..., T)``, entry ``t`` the angle between
    ``W[..., t, :]`` and ``W[..., t + 1, :]``.  Five cases: two runs whose norm jumps, a batch
    of runs with an obtuse angle, a single step, and a run with steps that only rescale (angle
    0) and small angles (1e-5, 3e-6 rad).  Inputs are float64: a float32 result passes with a
    note, a float64 one that agrees only to 7 digits fails.

    Diagnoses: acos of the cosine (which loses small angles) and the NaN of an unclamped
    cosine that rounds above 1, the step length instead of the angle, degrees, the cosine,
    angles measured from the first iterate, the formula for unit vectors used on unnormalized
    iterates, a normalization along the wrong dimension, a formula that fails for obtuse
    angles (``asin``), the runs paired instead of the iterates, a wrong shape (also a
    ``squeeze()`` at a single step), ``W`` changed in place, and a call to
    ``weightreg.normalization.angle`` (the library's answer).
    """
    uses_library(fn, normalization.angle, normalization._angle, exercise="this exercise")
    cases = _cases()
    for W, what in cases:
        what = f"{what}, W of shape {tuple(W.shape)}"
        raw = call_untouched(fn, W, what=what, names=("W",), fresh=True)
        if not isinstance(raw, torch.Tensor):
            fail(f"on {what} return a torch tensor of angles; got {describe(raw)}.")
        expected_shape = (*W.shape[:-2], W.shape[-2] - 1)
        if tuple(raw.shape) != expected_shape:
            fail(_shape_message(raw, W, what))
        out = as_tensor(raw, what=what).detach()
        ref = _reference(W)
        tol = tolerance(out.dtype, DTYPE)
        nan = ~torch.isfinite(out)
        if bool(nan.any()):
            if bool((ref[nan] < SMALL).all()):
                fail(
                    f"on {what} your angle is NaN where a step only rescales w (angle 0): the "
                    "computed cosine rounds above 1 there, and acos of it is NaN. acos also "
                    "loses small angles; the form the exercise suggests has neither problem."
                )
            fail(f"on {what} your angles contain NaN or inf.")
        small = ref < SMALL
        if bool(small.any()) and not close(out[small], ref[small], tol):
            if close(out[~small], ref[~small], tol):
                worst = int((out[small].to(F64) - ref[small]).abs().argmax())
                fail(
                    f"on {what} the small angles are wrong (an angle of "
                    f"{float(ref[small][worst]):.10g} rad came out as "
                    f"{float(out[small][worst]):.10g}): acos of the cosine, like any formula that "
                    "goes through the cosine or the squared dot product, loses half the digits "
                    "of a small angle, because that cosine is within rounding of 1. Use the "
                    "form the exercise suggests."
                )
        if agrees(out, ref, dtype=DTYPE, what=what):
            continue
        _diagnose(out, W, ref, tol, what)
        fail(f"the angles are wrong on {what}.")
    passed("consecutive_angles", len(cases))

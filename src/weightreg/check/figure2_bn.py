"""Self-checks for the exercises of ``book/normalized/figure2_bn.md`` (*Figure 2 with
normalization*).

* :func:`weight_angle`: the angle between a weight tensor before and after a step, the
  quantity ``weightreg.optim_sweep.sweep`` records as ``history["w1_angle"]``.

The check feeds float64 tensors (``DTYPE``: a tiny angle of 1e-9 rad exists only in float64)
and one case in float32, under the dtype policy of ``weightreg.check._core.agrees``: a result
in another floating dtype that agrees passes with a note; a float64 result that agrees only to
7 digits fails ("float32 somewhere?").
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .. import normalization, optim_sweep
from ._core import (
    DTYPE_HINT,
    SEVEN_DIGITS,
    TOLERANCE,
    CheckFailed,
    agrees,
    call_untouched,
    describe,
    fail,
    note,
    passed,
    result_dtype,
    selfcheck,
    tolerance,
    uses_library,
)

__all__ = ["weight_angle"]

F64 = torch.float64
DTYPE = F64
"""The dtype of the check's inputs (but for its float32 case)."""

TINY_RTOL = 1e-6
"""Relative tolerance at the tiny angle: accurate float64 formulas agree to about 1e-7 there."""


def _reference(u: torch.Tensor, v: torch.Tensor) -> float:
    """The angle (radians) between ``u`` and ``v`` as vectors, in float64, accurate for tiny
    angles: ``atan2(||u|| ||delta_perp||, u . v)`` with ``delta = v - u``."""
    a, b = u.detach().to(F64).flatten(), v.detach().to(F64).flatten()
    delta = b - a
    perp = delta - (a @ delta) / (a @ a) * a
    return math.atan2(float(a.norm() * perp.norm()), float(a @ b))


def _pair(shape: tuple[int, ...], angle: float, scale: float, seed: int) -> tuple:
    """``(u, v)`` of ``shape`` with ``v`` at ``angle`` from ``u`` and ``||v|| = scale ||u||``."""
    gen = torch.Generator().manual_seed(seed)
    u = torch.randn(shape, generator=gen, dtype=F64)
    e = torch.randn(shape, generator=gen, dtype=F64)
    e = e - (e * u).sum() / (u * u).sum() * u
    e = e * (u.norm() / e.norm())
    return u, scale * (math.cos(angle) * u + math.sin(angle) * e)


def _cases() -> list[tuple[torch.Tensor, torch.Tensor, str, str]]:
    """``(W_before, W_after, description, kind)``; kind ``normal``, ``zero`` or ``tiny``."""
    cases = []
    u, v = _pair((64, 32), 0.3, 0.9, 1)
    cases.append((u, v, "a 64 x 32 weight matrix turned by 0.3 rad and shrunk by 10%", "normal"))
    u, v = _pair((20, 5), 2.5, 1.7, 2)
    cases.append((u, v, "a 20 x 5 matrix turned by 2.5 rad (more than a right angle)", "normal"))
    u, v = _pair((10, 4), 0.02, 1.0, 4)
    # the columns turn by different angles: the whole matrix is one vector
    v = v.clone()
    v[:, 0] = u[:, 0] * 3.0
    cases.append((u, v, "a 10 x 4 matrix whose first column only grows", "normal"))
    u, v = _pair((64, 32), 1e-3, 1.0, 5)
    cases.append((u.float(), v.float(), "a float32 64 x 32 matrix turned by 1e-3 rad", "normal"))
    u = torch.randn(8, 8, generator=torch.Generator().manual_seed(17), dtype=F64)
    cases.append((u, 5.0 * u, "an 8 x 8 matrix only rescaled (angle 0)", "zero"))
    u, v = _pair((64, 32), 1e-9, 1.0 - 1e-4, 3)
    cases.append((u, v, "a 64 x 32 matrix turned by 1e-9 rad (a tiny step)", "tiny"))
    u, v = _pair((3, 4, 5), 0.8, 1.2, 6)
    cases.append((u, v, "a 3 x 4 x 5 tensor (a convolution kernel) turned by 0.8 rad", "normal"))
    return cases


def _as_angle(out: object, what: str) -> float:
    if isinstance(out, torch.Tensor):
        if out.numel() != 1:
            fail(
                f"on {what} you returned a tensor of shape {tuple(out.shape)}: return one angle "
                "for the whole tensor (flatten W into one vector), not one per row or column."
            )
        if not out.is_floating_point():
            fail(
                f"on {what} your angle has dtype {out.dtype}; an angle in radians is a real "
                "number (a float or a floating tensor)."
            )
        return float(out.detach().to(F64))
    if isinstance(out, bool):
        fail(f"on {what} your function returned a bool; return the angle, a number.")
    if isinstance(out, float | int):
        return float(out)
    try:
        import numpy as np

        if isinstance(out, np.ndarray | np.floating) and np.size(out) == 1:
            return float(out)
        if isinstance(out, np.ndarray):
            fail(
                f"on {what} you returned an array of shape {out.shape}: return one angle for "
                "the whole tensor (flatten W into one vector)."
            )
    except ImportError:  # pragma: no cover - NumPy ships with torch
        pass
    fail(f"on {what} return the angle as a float or a 0-d tensor; got {describe(out)}.")


def _call(fn, u: torch.Tensor, v: torch.Tensor, what: str) -> object:
    try:
        return call_untouched(fn, u, v, what=what, names=("W_before", "W_after"))
    except CheckFailed as exc:
        text = str(exc)
        if u.dim() > 1 and ("shape" in text or "1D" in text or "size" in text):
            fail(
                f"{text} The inputs are matrices here: flatten both tensors into vectors first "
                "(@ between matrices is a matrix product, torch.dot wants 1-D tensors)."
            )
        raise


def _variants(u: torch.Tensor, v: torch.Tensor, want: float) -> list[tuple[float, str]]:
    """Values of the typical mistakes on ``(u, v)``, with their messages."""
    a, b = u.to(F64).flatten(), v.to(F64).flatten()
    delta = b - a
    perp = delta - (a @ delta) / (a @ a) * a
    dot = float(a @ b)
    out = [
        (
            math.degrees(want),
            "your answer is in degrees; the book measures angles in radians.",
        ),
        (
            math.pi - want,
            "you returned pi minus the angle (an arcsine, or an absolute value of the cosine?): "
            "the angle lies in [0, pi] and is beyond a right angle here; atan2 of the "
            "orthogonal part and the dot product gets the quadrant right.",
        ),
        (
            want - math.pi,
            "your angle is negative: atan of a ratio loses the quadrant beyond a right angle; "
            "atan2 (two arguments) keeps it.",
        ),
        (
            math.sin(want),
            "you returned the sine of the angle (or an arcsine of it, which cannot tell an "
            "angle from pi minus it): return the angle itself.",
        ),
        (math.cos(want), "you returned the cosine, not the angle."),
        (
            math.pi / 2 - want,
            "you got pi/2 minus the angle: the arguments of atan2 are swapped (atan2(y, x) "
            "takes the part across W_before first, the part along it second).",
        ),
        (
            math.atan2(float(perp.norm()), dot),
            "the first argument of atan2 lacks the norm of W_before: both arguments must "
            "scale the same way with the tensors (the dot product scales with both norms).",
        ),
        (
            math.atan2(float(a.norm() * delta.norm()), dot),
            "you used the whole step delta = W_after - W_before; only its part orthogonal to "
            "W_before turns it (remove the component along W_before first).",
        ),
        (
            2 * math.atan2(float((a - b).norm()), float((a + b).norm())),
            "this formula holds for unit vectors: normalize both tensors first (their norms "
            "differ here).",
        ),
        (float((a - b).norm()), "you returned the distance ||W_after - W_before||, not the angle."),
    ]
    if a.dim() == 1 and u.dim() == 2:
        cols = [_reference(u[:, j], v[:, j]) for j in range(u.shape[1])]
        out.append(
            (
                sum(cols) / len(cols),
                "you averaged the angles of the columns; the angle of the whole tensor is the "
                "one between the two tensors as single vectors: flatten both first.",
            )
        )
    return out


def _name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def _diagnose(got: float, u, v, want: float, rtol: float, what: str) -> None:
    for value, message in _variants(u, v, want):
        if math.isfinite(value) and abs(got - value) <= rtol * abs(value) + 1e-12:
            if abs(value - want) > rtol * abs(want) + 1e-12:
                fail(f"on {what} {message}")


def _tiny(raw, got: float, u, v, want: float, kind: str, what: str) -> bool:
    """Whether ``got`` is right at the tiny or zero angle; fails naming acos or float32."""
    rd = result_dtype(raw)
    low = isinstance(raw, torch.Tensor) and rd == torch.float32 and u.dtype == F64
    rtol = TOLERANCE[torch.float32].rtol if low else TINY_RTOL
    if abs(got - want) <= rtol * want + 1e-12:
        if low:
            note(
                f"your result is float32 while the inputs are float64: it agrees, so it "
                f"passes, but somewhere your code leaves float64 ({DTYPE_HINT})."
            )
        return True
    if kind == "tiny":
        _diagnose(got, u, v, want, 1e-3, what)
    if low:
        fail(
            f"on {what} your angle is {got:.3g} instead of {want:.3g}: your result is float32, "
            "which cannot resolve so small an angle; compute in float64, the dtype of the "
            f"inputs ({DTYPE_HINT})."
        )
    shown = "0" if want < 1e-14 else f"{want:.6g}"
    fail(
        f"on {what} you got {got:.3g} instead of {shown}: the cosine of a tiny angle rounds to "
        "1, so acos of the cosine loses the angle (the precision is gone before acos is "
        "called, as in any formula that goes through the cosine; a float32 step anywhere "
        "does the same). The exercise says which formula "
        "keeps it."
    )


@selfcheck
def weight_angle(fn: Callable[[torch.Tensor, torch.Tensor], object]) -> None:
    """Check ``fn(W_before, W_after) -> angle``: the angle in radians (in ``[0, pi]``) between
    the two tensors taken as single vectors (all entries flattened), accurate also for tiny
    angles.  Seven cases: matrices turned by 0.3 rad and by 2.5 rad (obtuse), a matrix whose
    columns turn differently, a float32 matrix turned by 1e-3 rad, a matrix only rescaled
    (angle 0: a computed cosine rounds above 1), a tiny step of 1e-9 rad (float64, relative
    tolerance 1e-6), a 3-d tensor.  The result may be a Python float or a 0-d tensor.

    Diagnoses: one angle per column or row instead of one for the tensor, matrices not
    flattened, degrees instead of radians, ``acos`` of the cosine (which loses tiny angles)
    and its NaN where the cosine rounds above 1, ``asin`` of the sine or ``atan`` of a ratio
    (which fold or negate angles above a right angle), a distance, a sine or a cosine
    returned instead of an angle, per-column angles averaged, the norm of ``W_before`` left
    out, the whole step used where its orthogonal part is needed, the unit-vector formula on
    unnormalized tensors, a float32 computation at the tiny angle, an input changed in place,
    a call to the library's ``weightreg.normalization.angle``.
    """
    uses_library(
        fn,
        normalization.angle,
        normalization._angle,
        optim_sweep._step_angle,
        exercise="this exercise",
    )
    cases = _cases()
    for u, v, what, kind in cases:
        want = _reference(u, v)
        raw = _call(fn, u, v, what)
        got = _as_angle(raw, what)
        if not math.isfinite(got):
            if kind == "zero":
                fail(
                    f"on {what} your angle is {got}: the computed cosine rounds above 1 when "
                    "W_after only rescales W_before, and acos of it is NaN. acos also loses "
                    "tiny angles; the exercise says which formula has neither problem."
                )
            fail(f"on {what} your angle is {got}; it must be a finite number of radians.")
        if kind in ("zero", "tiny"):
            if _tiny(raw, got, u, v, want, kind, what):
                continue
        if agrees(raw, want, dtype=u.dtype, what=what, scale=want):
            continue
        rd = result_dtype(raw) if isinstance(raw, torch.Tensor) else torch.float32
        _diagnose(got, u, v, want, max(tolerance(rd, u.dtype).rtol, 1e-6), what)
        if abs(got - want) <= TOLERANCE[torch.float32].rtol * want and rd == F64:
            fail(f"on {what}: your result {SEVEN_DIGITS}")
        if want < 0.05 and abs(got - want) < 0.5 * want:
            fail(
                f"on {what} your angle is {got:.6g} instead of {want:.6g}: a small angle computed "
                f"with acos of the cosine loses digits (in {_name(u.dtype)} already at this "
                "size), because that cosine is within rounding of 1. The exercise says which "
                "formula keeps them."
            )
        fail(f"on {what} your angle is {got:.6g}; it should be {want:.6g} radians.")
    passed("weight_angle", len(cases))

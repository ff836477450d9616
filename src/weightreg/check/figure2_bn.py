"""Self-checks for the exercises of ``book/normalized/figure2_bn.md`` (*Figure 2 with
normalization*).

* :func:`weight_angle`: the angle between a weight tensor before and after a step, the
  quantity ``weightreg.optim_sweep.sweep`` records as ``history["w1_angle"]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._core import call_student, fail, passed, selfcheck

__all__ = ["weight_angle"]

F64 = torch.float64


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


def _cases() -> list[tuple[torch.Tensor, torch.Tensor, str, float]]:
    """``(W_before, W_after, description, rtol)``."""
    cases = []
    u, v = _pair((64, 32), 0.3, 0.9, 1)
    cases.append((u, v, "a 64 x 32 weight matrix turned by 0.3 rad and shrunk by 10%", 1e-9))
    u, v = _pair((20, 5), 2.5, 1.7, 2)
    cases.append((u, v, "a 20 x 5 matrix turned by 2.5 rad (more than a right angle)", 1e-9))
    u, v = _pair((64, 32), 1e-9, 1.0 - 1e-4, 3)
    cases.append((u, v, "a 64 x 32 matrix turned by 1e-9 rad (a tiny step)", 1e-6))
    u, v = _pair((10, 4), 0.02, 1.0, 4)
    # the columns turn by different angles: the whole matrix is one vector
    v = v.clone()
    v[:, 0] = u[:, 0] * 3.0
    cases.append((u, v, "a 10 x 4 matrix whose first column only grows", 1e-9))
    u, v = _pair((64, 32), 1e-3, 1.0, 5)
    cases.append(
        (u.float(), v.float(), "a float32 64 x 32 matrix turned by 1e-3 rad (float32)", 1e-3)
    )
    return cases


def _as_angle(out: object, what: str) -> float:
    if isinstance(out, torch.Tensor):
        if out.numel() != 1:
            fail(
                f"on {what} you returned a tensor of shape {tuple(out.shape)}: return one angle "
                "for the whole tensor (flatten W into one vector), not one per row or column."
            )
        return float(out.detach().to(F64))
    if isinstance(out, float | int) and not isinstance(out, bool):
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
    fail(f"on {what} return the angle as a float or a 0-d tensor; got {type(out).__name__}.")


@selfcheck
def weight_angle(fn: Callable[[torch.Tensor, torch.Tensor], object]) -> None:
    """Check ``fn(W_before, W_after) -> angle``: the angle in radians (in ``[0, pi]``) between
    the two tensors taken as single vectors (all entries flattened), accurate also for tiny
    angles (a step of 1e-9 rad).  Float32 inputs may give a float32 answer (relative
    tolerance 1e-3 there).

    Diagnoses: one angle per column or row instead of one for the tensor, degrees instead of
    radians, ``acos`` of the cosine (which loses tiny angles), ``asin`` of the sine (which
    folds angles above a right angle), a distance or a cosine returned instead of an angle,
    per-column angles averaged.
    """
    for u, v, what, rtol in _cases():
        want = _reference(u, v)
        got = _as_angle(call_student(fn, u.clone(), v.clone(), what=what), what)
        if not math.isfinite(got):
            fail(f"on {what} your angle is {got}; it must be a finite number of radians.")
        if abs(got - want) <= rtol * want:
            continue
        if abs(got - math.degrees(want)) <= 1e-3 * math.degrees(want):
            fail(f"on {what} your answer is in degrees ({got:.4g}); return radians ({want:.4g}).")
        if abs(got - (math.pi - want)) <= 1e-6 or abs(got - math.sin(want)) <= 1e-6 * want:
            fail(
                f"on {what} you got {got:.6g} instead of {want:.6g}: an arcsine (or the sine "
                "itself) cannot tell an angle from pi minus it; use atan2 of the orthogonal "
                "part and the dot product."
            )
        if abs(got - math.cos(want)) <= 1e-6:
            fail(f"on {what} you returned the cosine ({got:.6g}), not the angle ({want:.6g}).")
        if want < 1e-6:
            fail(
                f"on {what} you got {got:.3g} instead of {want:.6g}: the cosine of a tiny angle "
                "rounds to 1, so acos(cos) loses it. Use atan2(||u|| ||delta_perp||, u . v) "
                "with delta = v - u and delta_perp its part orthogonal to u."
            )
        a, b = u.to(F64), v.to(F64)
        cols = [_reference(a[:, j], b[:, j]) for j in range(a.shape[1])]
        if abs(got - sum(cols) / len(cols)) <= 1e-6 * max(cols):
            fail(
                f"on {what} you averaged the angles of the columns ({got:.6g}); the angle of "
                f"the whole tensor as one vector is {want:.6g}: flatten both tensors first."
            )
        if abs(got - float((a - b).norm())) <= 1e-6 * got:
            fail(f"on {what} you returned the distance ||W_after - W_before||, not the angle.")
        fail(f"on {what} your angle is {got:.6g}; it should be {want:.6g} radians.")
    passed("weight_angle", len(_cases()))

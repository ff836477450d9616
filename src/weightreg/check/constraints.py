"""Self-checks for the exercises of the constraints chapters.

* :func:`project_l2_ball`: *The hard-constraint view* (``book/constraints/hard.md``);
* :func:`l2_multiplier`: *The soft-constraint view* (``book/constraints/soft.md``).

Both chapters train in float32 (``DTYPE``): the checks feed float32 inputs, compare with a
float64 reference at float32 tolerance and accept a float64 result with a note (the dtype
policy of ``weightreg.check._core``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .. import constraints
from ._core import (
    TOLERANCE,
    agrees,
    as_float,
    as_tensor,
    call_untouched,
    close,
    fail,
    passed,
    selfcheck,
    uses_library,
)

__all__ = ["l2_multiplier", "project_l2_ball"]

DTYPE = torch.float32
"""The dtype the constraints chapters train in."""

TOL = TOLERANCE[DTYPE].rtol
"""Relative tolerance of the geometric tests (norms, angles): float32 rounding."""


def _result(out: object, what: str, shape: torch.Size) -> torch.Tensor:
    out = as_tensor(
        out, what=what, shape=shape, purpose="a projection keeps the shape of its input"
    )
    if not bool(torch.isfinite(out).all()):
        fail(
            f"your result contains NaN or inf for {what}. Is there a division by zero (by the "
            "norm of the zero vector)?"
        )
    return out


def _project(fn: Callable[..., object], w: torch.Tensor, radius: float, what: str) -> torch.Tensor:
    """The student's projection of ``w`` (float32), checked for in-place changes and kind."""
    out = call_untouched(fn, w, radius, what=what, names=("w", "radius"))
    return _result(out, what, w.shape)


def _expected(w: torch.Tensor, radius: float) -> torch.Tensor:
    w = w.double()
    norm = float(w.norm())
    return w.clone() if norm <= radius else w * (radius / norm)


@selfcheck
def project_l2_ball(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> None:
    """Check ``fn(w, radius)``: the Euclidean projection of ``w`` onto ``{z : ||z||_2 <= radius}``.

    The whole tensor is one vector (a matrix is not projected row by row).  Inputs are float32,
    as in the chapter.  Diagnoses: a point inside moved (always rescaling), the squared norm
    compared with the radius, a division by the squared norm, the sphere of radius
    ``radius**2``, clipping to a box, NaN at the zero vector, a matrix projected row by row or
    column by column, ``w`` changed in place, a non-tensor or reshaped result, a call to the
    library's ``project_l2_ball``.
    """
    uses_library(fn, constraints.project_l2_ball, constraints.ball_projection)
    n = 0

    def f32(*values: float) -> torch.Tensor:
        return torch.tensor(values, dtype=DTYPE)

    # 1. a point outside: it must land on the sphere, in its own direction
    w = f32(3.0, -4.0)
    z = _project(fn, w, 1.0, "w=[3, -4], radius=1").double()
    n += 1
    norm = float(z.norm())
    if abs(norm - 1.0) > TOL:
        if abs(norm - 0.2) < TOL:
            fail(
                "for w=[3, -4] and radius 1 your result has norm 0.2, not 1: did you divide by "
                "the squared norm instead of the norm?"
            )
        if bool((z.abs() <= 1.0 + TOL).all()) and abs(float(z.abs().max()) - 1.0) < TOL:
            fail(
                "your result looks like clipping every coordinate to [-radius, radius] (entry "
                "by entry): that is the projection onto the L-infinity ball (a box), not the L2 "
                "ball, and it turns the direction of w."
            )
        fail(
            f"a point outside the ball should land on its surface: for w=[3, -4] and radius 1 "
            f"your result has L2 norm {norm:.4g}, not 1."
        )
    n += 1
    cos = float(z @ w.double()) / (norm * float(w.double().norm()))
    if cos < 1 - TOL:
        fail("the projection onto a ball centred at 0 keeps the direction of w: yours turns it.")
    n += 1

    # 2. a point outside a ball of radius other than 1: the sphere has radius `radius`
    w = f32(0.0, 6.0, 8.0)
    z = _project(fn, w, 2.0, "w=[0, 6, 8], radius=2").double()
    norm = float(z.norm())
    if abs(norm - 2.0) > 2 * TOL:
        if abs(norm - 4.0) < 4 * TOL:
            fail(
                "for w=[0, 6, 8] and radius 2 your result has norm 4 = radius**2: the sphere has "
                "radius `radius`, not radius squared (theta = radius**2 bounds the squared "
                "norm)."
            )
        if abs(norm - 0.4) < TOL:
            fail(
                "for w=[0, 6, 8] and radius 2 your result has norm 0.4: did you divide by the "
                "squared norm instead of the norm?"
            )
        fail(
            f"for w=[0, 6, 8] and radius 2 the result should lie on the sphere of radius 2; the "
            f"norm of your result is {norm:.4g}."
        )
    n += 1

    # 3. a point inside stays where it is, also where ||w||^2 > radius (the squared norm trap)
    for values, radius in (((0.3, -0.1, 0.2), 1.0), ((1.2, -1.0, 0.6), 2.0), ((0.5, 0.4), 0.7)):
        w = f32(*values)
        what = f"w={list(values)}, radius={radius} (||w|| = {float(w.double().norm()):.3g})"
        z = _project(fn, w, radius, what).double()
        if close(z, _expected(w, radius), TOLERANCE[DTYPE]):
            n += 1
            continue
        sq = float((w.double() ** 2).sum())
        if (sq > radius) != (sq > radius**2):
            fail(
                f"for {what} you compared the squared norm ||w||**2 with the radius; compare "
                "the norm with the radius (or ||w||**2 with radius**2, the book's theta)."
            )
        if float(w.double().norm()) <= radius:
            fail(
                f"a point inside the ball is already its own projection: for {what} your "
                "function moved it. Scale only when ||w|| > radius, return w unchanged "
                "otherwise."
            )
        fail(f"for {what} your result is not the nearest point of the ball.")

    # 4. the zero vector and a zero radius
    z = _project(fn, torch.zeros(4, dtype=DTYPE), 2.0, "the zero vector w=0")
    if not bool((z == 0).all()):
        fail("the zero vector w = 0 is inside every ball: its projection is itself.")
    n += 1
    w = f32(1.0, 2.0)
    z = _project(fn, w, 0.0, "radius=0")
    if float(z.abs().max()) > TOL:
        fail("the ball of radius 0 is the single point 0: every w must be sent to 0.")
    n += 1

    # 5. a matrix is one vector: its Frobenius norm is what the ball bounds
    W = torch.tensor([[3.0, 0.0], [0.0, 4.0]], dtype=DTYPE)
    Z = _project(fn, W, 2.5, "a 2x2 matrix").double()
    if abs(float(Z.norm()) - 2.5) > TOL * 2.5:
        rows, cols = Z.norm(dim=-1), Z.norm(dim=0)
        full = torch.full((2,), 2.5, dtype=Z.dtype)
        if close(rows, full, TOLERANCE[DTYPE]) or close(cols, full, TOLERANCE[DTYPE]):
            fail(
                "for a matrix your function projects every row (or column) separately. Here "
                "the whole tensor is one vector: use the norm of all its entries."
            )
        fail(
            f"for the matrix [[3, 0], [0, 4]] and radius 2.5 the result should have norm 2.5 "
            f"(all entries together), yours has {float(Z.norm()):.4g}."
        )
    n += 1

    # 6. random points, in and out, against the float64 projection of the same float32 input
    g = torch.Generator().manual_seed(0)
    for k in range(6):
        w = (torch.randn(5, generator=g, dtype=torch.float64) * (0.2 + k)).to(DTYPE)
        r = 1.5
        what = f"a random w of norm {float(w.double().norm()):.3g}, radius {r}"
        z = _project(fn, w, r, what)
        if not agrees(z, _expected(w, r), dtype=DTYPE, what=what, scale=float(w.abs().max())):
            if float(z.double().norm()) > r * (1 + TOL):
                fail(f"for {what} your result lies outside the ball: its norm must be <= radius.")
            fail(f"for {what} your result is not the nearest point of the ball.")
        n += 1
    passed("project_l2_ball", n)


def _cases_on_projected_points() -> list[tuple[torch.Tensor, float, float]]:
    """Points put on the sphere by the library's float32 projection, as in the chapter.

    Their float32 squared norm lands a few float32 ulps below or above ``theta``: a
    constraint that is tight up to rounding.
    """
    g = torch.Generator().manual_seed(5)
    cases = []
    for _ in range(8):
        theta = float(torch.rand(1, generator=g, dtype=torch.float64)) * 4 + 0.5
        w = constraints.project_l2_ball(
            (torch.randn(7, generator=g, dtype=torch.float64) * 3).to(DTYPE), math.sqrt(theta)
        )
        lam = float(torch.rand(1, generator=g, dtype=torch.float64)) * 5 + 0.1
        cases.append((w, lam, theta))
    return cases


@selfcheck
def l2_multiplier(fn: Callable[[torch.Tensor, torch.Tensor, float], float]) -> None:
    """Check ``fn(w, grad, theta)``: the penalty weight ``lambda`` recovered from KKT.

    ``w`` solves ``min l(w)`` subject to ``||w||^2 <= theta`` and ``grad`` is the gradient of
    ``l`` at ``w``.  Expected: ``-<grad, w> / ||w||^2`` when the constraint is active
    (``||w||^2 >= (1 - 1e-6) theta``), and ``0`` when it is not; a Python float.  The answer is
    the coefficient ``lambda = 2 nu`` of the penalty ``(lambda / 2) ||w||^2``, not the Lagrange
    multiplier ``nu`` of ``nu (||w||^2 - theta)`` (the book's notation: ``nu`` for multipliers,
    ``mu`` only for momentum).  Inputs are float32, as in the chapter, including points put on
    the sphere by ``project_l2_ball`` (whose squared norm falls just below ``theta``).
    Diagnoses: the sign, ``nu`` instead of ``lambda``, a division by the norm, ``||w||``
    compared with ``theta``, no tolerance for a constraint tight up to rounding, a non-zero
    value for a slack constraint, a single coordinate used, a tensor (even 0-d) returned, the
    caller's ``grad`` or ``w`` changed in place.
    """
    n = 0

    def run(w: torch.Tensor, grad: torch.Tensor, theta: float, what: str) -> float:
        out = call_untouched(fn, w, grad, theta, what=what, names=("w", "grad", "theta"))
        value = as_float(out, what=what)
        if not math.isfinite(value):
            fail(f"your function returned {value} for {what}. Is there a division by zero?")
        return value

    def expected(w: torch.Tensor, grad: torch.Tensor) -> float:
        w64, g64 = w.double(), grad.double()
        return float(-(g64 * w64).sum() / (w64**2).sum())

    def right(got: float, want: float, what: str) -> bool:
        return agrees(got, want, dtype=DTYPE, what=what, scale=max(1.0, abs(want)))

    # 1. an active constraint: grad = -lambda * w exactly
    w = torch.tensor([0.6, 0.8], dtype=DTYPE)  # ||w||^2 = 1 up to float32 rounding
    theta = float((w.double() ** 2).sum())
    grad = -0.5 * w
    lam = expected(w, grad)
    got = run(w, grad, theta, "an active constraint")
    if not right(got, lam, "an active constraint"):
        if close(got, -lam, TOLERANCE[DTYPE]):
            fail(
                "your multiplier has the wrong sign (a minus is missing). At the constrained "
                "optimum the loss gradient points *into* the ball, against w; the multiplier "
                "is >= 0."
            )
        if close(got, lam / 2, TOLERANCE[DTYPE]):
            fail(
                "you returned half the expected value: that is the multiplier nu of the "
                "Lagrangian nu * (||w||^2 - theta), whose gradient is 2 nu w. The penalty here "
                "is (lambda / 2) ||w||^2, with gradient lambda * w, so lambda = 2 nu."
            )
        if got == 0:
            fail(
                "for w=[0.6, 0.8] and theta = ||w||^2 (computed exactly) the constraint is "
                "tight, yet you returned 0. Computed in float32, ||w||^2 can land just below "
                "theta: the constraint counts as tight when ||w||^2 >= (1 - 1e-6) theta (a "
                "tolerance for rounding), and only below that is the multiplier 0."
            )
        fail(f"for w=[0.6, 0.8], grad=-0.5*w and theta=1 the multiplier is not {got:.4g}.")
    n += 1

    # 2. a norm other than 1 exposes norm-versus-squared-norm mistakes
    w = torch.tensor([0.0, 2.0, 0.0], dtype=DTYPE)  # ||w||^2 = 4, and w[0] = 0
    lam = 3.0
    got = run(w, -lam * w, 4.0, "w=[0, 2, 0], grad=-3*w, theta=4")
    if not right(got, lam, "w=[0, 2, 0]"):
        if close(got, lam * 2, TOLERANCE[DTYPE]):
            fail(
                "your value is off by the factor ||w||: divide <grad, w> by the *squared* "
                "norm ||w||^2, not by the norm."
            )
        if got == 0:
            fail(
                "for w=[0, 2, 0] and theta=4 the constraint is active (||w||^2 = 4 = theta) but "
                "you returned 0: did you compare the norm ||w|| = 2 with theta? The bound is on "
                "the squared norm, ||w||^2 <= theta."
            )
        fail(
            f"for w=[0, 2, 0] and grad=-3*w the multiplier is not {got:.4g}. Use all the "
            "entries of w and grad (the inner product <grad, w>)."
        )
    n += 1

    # 3. an inactive constraint gives a zero multiplier (complementary slackness)
    w = torch.tensor([0.1, -0.2], dtype=DTYPE)
    got = run(w, torch.tensor([1e-7, -2e-7], dtype=DTYPE), 1.0, "an inactive constraint")
    if got != 0 and not right(got, 0.0, "an inactive constraint"):
        fail(
            "when ||w||^2 < theta the constraint is not active (slack) and its multiplier is 0 "
            "(complementary slackness); your function returned a non-zero value."
        )
    n += 1
    w = torch.tensor([0.3, 0.4], dtype=DTYPE)  # ||w||^2 = 0.25 < theta = 1, grad not parallel
    got = run(w, torch.tensor([0.2, -0.7], dtype=DTYPE), 1.0, "an inactive constraint")
    if got != 0:
        fail("when ||w||^2 < theta (slack) the multiplier is 0, whatever the gradient is.")
    n += 1

    # 4. tight up to rounding: ||w||^2 just below theta, within the tolerance 1e-6
    w = torch.tensor([0.6, 0.8], dtype=DTYPE) * (1 - 2e-7)
    theta = 1.0
    sq = float((w.double() ** 2).sum())
    # (1 - 1e-6) theta <= sq < theta: tests/test_check_constraints.py checks the premise
    grad = -2.0 * w
    got = run(w, grad, theta, "||w||^2 just below theta")
    if not right(got, expected(w, grad), "||w||^2 just below theta"):
        if got == 0:
            fail(
                f"for ||w||^2 = {sq:.9f} just below theta = 1 you returned 0: the constraint "
                "counts as tight when ||w||^2 >= (1 - 1e-6) theta, a tolerance for rounding (a "
                "float32 solution on the sphere lands slightly below theta)."
            )
        fail("for ||w||^2 just below theta (tight up to rounding) the multiplier is not 0 here.")
    n += 1

    # 5. points on the sphere as the chapter's float32 projection leaves them
    for w, lam, theta in _cases_on_projected_points():
        grad = -lam * w
        what = "a point projected onto the sphere ||w||^2 = theta in float32"
        got = run(w, grad, theta, what)
        if not right(got, expected(w, grad), what):
            if got == 0:
                sq = float((w.double() ** 2).sum())
                fail(
                    f"for {what} (||w||^2 = {sq:.9g}, theta = {theta:.9g}) you returned 0: the "
                    "constraint counts as tight when ||w||^2 >= (1 - 1e-6) theta, a tolerance "
                    "for rounding."
                )
            fail(f"for {what} your multiplier differs from the expected value.")
        n += 1

    # 6. random active cases, with a gradient parallel to w
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        w = torch.randn(6, generator=g, dtype=torch.float64).to(DTYPE)
        lam = float(torch.rand(1, generator=g, dtype=torch.float64)) * 10
        theta = float((w.double() ** 2).sum())
        grad = -lam * w
        got = run(w, grad, theta, "a random active case")
        if not right(got, expected(w, grad), "a random active case"):
            fail("for some active case your multiplier differs from the expected value.")
        n += 1
    passed("l2_multiplier", n)

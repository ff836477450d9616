"""Self-checks for the exercises of the constraints chapters.

* :func:`project_l2_ball`: *The hard-constraint view* (``book/constraints/hard.md``);
* :func:`l2_multiplier`: *The soft-constraint view* (``book/constraints/soft.md``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._core import call_student, fail, passed

TOL = 1e-6
"""Tolerance of the checks: loose enough for a correct answer computed in float32 (relative
rounding about 6e-8), tight enough for every wrong answer the checks name."""

__all__ = ["l2_multiplier", "project_l2_ball"]


def _as_tensor(out: object, what: str, shape: torch.Size) -> torch.Tensor:
    if not isinstance(out, torch.Tensor):
        fail(f"your function should return a torch.Tensor, got {type(out).__name__} for {what}.")
    if out.shape != shape:
        fail(
            f"for {what} your result has shape {tuple(out.shape)}, but a projection keeps the "
            f"shape of its input, {tuple(shape)}."
        )
    if not out.is_floating_point():
        fail(f"your result for {what} has dtype {out.dtype}: a projection returns real numbers.")
    if not bool(torch.isfinite(out).all()):
        fail(f"your result contains NaN or inf for {what}. Is there a division by zero?")
    return out.to(torch.float64)  # a correct float32 answer is compared in float64


def project_l2_ball(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> None:
    """Check ``fn(w, radius)``: the Euclidean projection of ``w`` onto ``{z : ||z||_2 <= radius}``.

    The whole tensor is one vector (a matrix is not projected row by row).  The inputs are
    float64; an answer computed in float32 passes (tolerance ``TOL``).
    """
    n = 0
    dt = torch.float64

    # 1. a point outside: it must land on the sphere, in its own direction
    w = torch.tensor([3.0, -4.0], dtype=dt)
    before = w.clone()
    z = _as_tensor(call_student(fn, w, 1.0, what="w=[3, -4], radius=1"), "w=[3, -4]", w.shape)
    n += 1
    if not torch.equal(w, before):
        fail("your function changed its input w in place. Return a new tensor instead.")
    norm = float(z.norm())
    if abs(norm - 1.0) > TOL:
        if abs(norm - 0.2) < TOL:
            fail(
                "for w=[3, -4] and radius 1 your result has norm 0.2, not 1: did you divide by "
                "the squared norm instead of the norm?"
            )
        if bool((z.abs() <= 1.0 + TOL).all()) and abs(float(z.abs().max()) - 1.0) < TOL:
            fail(
                "your result looks like clipping every coordinate to [-radius, radius]: that "
                "is the projection onto the L-infinity ball (a box), not the L2 ball."
            )
        fail(
            f"a point outside the ball should land on its surface: for w=[3, -4] and radius 1 "
            f"your result has L2 norm {norm:.4g}, not 1."
        )
    n += 1
    cos = float(z @ w) / (norm * float(w.norm()))
    if cos < 1 - TOL:
        fail("the projection onto a ball centred at 0 keeps the direction of w: yours turns it.")
    n += 1

    # 2. a point inside stays where it is
    w = torch.tensor([0.3, -0.1, 0.2], dtype=dt)
    z = _as_tensor(
        call_student(fn, w, 1.0, what="a point inside the ball"), "a point inside", w.shape
    )
    if not torch.allclose(z, w, atol=TOL, rtol=0):
        fail(
            "a point inside the ball is already its own projection: for w=[0.3, -0.1, 0.2] and "
            "radius 1 your function moved it. Scale only when ||w|| > radius."
        )
    n += 1

    # 3. the zero vector and a zero radius
    z = _as_tensor(
        call_student(fn, torch.zeros(4, dtype=dt), 2.0, what="w=0"), "w=0", torch.Size([4])
    )
    if not bool((z == 0).all()):
        fail("the zero vector is inside every ball: its projection is itself.")
    n += 1
    w = torch.tensor([1.0, 2.0], dtype=dt)
    z = _as_tensor(call_student(fn, w, 0.0, what="radius=0"), "radius=0", w.shape)
    if float(z.abs().max()) > TOL:
        fail("the ball of radius 0 is the single point 0: every w must be sent to 0.")
    n += 1

    # 4. a matrix is one vector: its Frobenius norm is what the ball bounds
    W = torch.tensor([[3.0, 0.0], [0.0, 4.0]], dtype=dt)
    Z = _as_tensor(call_student(fn, W, 2.5, what="a 2x2 matrix"), "a 2x2 matrix", W.shape)
    if abs(float(Z.norm()) - 2.5) > TOL * 2.5:
        row_norms = Z.norm(dim=-1)
        if torch.allclose(row_norms, torch.full_like(row_norms, 2.5)) or torch.allclose(
            Z.norm(dim=0), torch.full((2,), 2.5, dtype=Z.dtype)
        ):
            fail(
                "for a matrix your function projects every row (or column) separately. Here "
                "the whole tensor is one vector: use the norm of all its entries."
            )
        fail(
            f"for the matrix [[3, 0], [0, 4]] and radius 2.5 the result should have norm 2.5 "
            f"(all entries together), yours has {float(Z.norm()):.4g}."
        )
    n += 1

    # 5. random points, in and out, against the formula's properties
    g = torch.Generator().manual_seed(0)
    for k in range(6):
        w = torch.randn(5, generator=g, dtype=dt) * (0.2 + k)
        r = 1.5
        z = _as_tensor(call_student(fn, w, r, what="a random w"), "a random w", w.shape)
        if float(z.norm()) > r * (1 + TOL):
            fail("your result lies outside the ball for some w: the norm must end up <= radius.")
        if float((z - w).norm()) > float((w - w * min(1.0, r / float(w.norm()))).norm()) + TOL * (
            1 + float(w.norm())
        ):
            fail("for some w your result is not the nearest point of the ball.")
        n += 1
    passed("project_l2_ball", n)


def l2_multiplier(fn: Callable[[torch.Tensor, torch.Tensor, float], float]) -> None:
    """Check ``fn(w, grad, theta)``: the penalty weight ``lambda`` recovered from KKT.

    ``w`` solves ``min l(w)`` subject to ``||w||^2 <= theta`` and ``grad`` is the gradient of
    ``l`` at ``w``.  Expected: ``-<grad, w> / ||w||^2`` when the constraint is active
    (``||w||^2 >= (1 - 1e-6) theta``), and ``0`` when it is not.  The answer is the
    coefficient ``lambda = 2 nu`` of the penalty ``(lambda / 2) ||w||^2``, not the Lagrange
    multiplier ``nu`` of ``nu (||w||^2 - theta)`` (the book's notation: ``nu`` for multipliers,
    ``mu`` only for momentum).  An answer computed in float32 passes (relative tolerance
    ``TOL``).
    """
    n = 0
    dt = torch.float64

    def run(w: torch.Tensor, grad: torch.Tensor, theta: float, what: str) -> float:
        out = call_student(fn, w, grad, theta, what=what)
        try:
            value = float(out)
        except (TypeError, ValueError, RuntimeError):
            fail(f"your function should return one number, got {type(out).__name__} for {what}.")
        if not math.isfinite(value):
            fail(f"your function returned {value} for {what}. Is there a division by zero?")
        return value

    # 1. an active constraint: grad = -lambda * w exactly
    w = torch.tensor([0.6, 0.8], dtype=dt)  # ||w||^2 = 1
    lam = 0.5
    got = run(w, -lam * w, 1.0, "an active constraint")
    if abs(got - lam) > TOL * lam:
        if abs(got + lam) < TOL * lam:
            fail(
                "your multiplier has the wrong sign. At the constrained optimum the loss "
                "gradient points *into* the ball, against w; the multiplier is >= 0."
            )
        if abs(got - lam / 2) < TOL * lam:
            fail(
                "you returned half the expected value: that is the multiplier nu of the "
                "Lagrangian nu * (||w||^2 - theta), whose gradient is 2 nu w. The penalty here "
                "is (lambda / 2) ||w||^2, with gradient lambda * w, so lambda = 2 nu."
            )
        fail(f"for w=[0.6, 0.8], grad=-0.5*w and theta=1 the multiplier is not {got:.4g}.")
    n += 1

    # 2. a norm other than 1 exposes norm-versus-squared-norm mistakes
    w = torch.tensor([0.0, 2.0, 0.0], dtype=dt)  # ||w||^2 = 4, and w[0] = 0
    lam = 3.0
    got = run(w, -lam * w, 4.0, "w with a zero first entry")
    if abs(got - lam) > TOL * lam:
        if abs(got - lam * 2) < TOL * lam:
            fail(
                "your value is off by the factor ||w||: divide <grad, w> by the *squared* "
                "norm ||w||^2 (or use the whole vectors, not the norm itself)."
            )
        fail(
            f"for w=[0, 2, 0] and grad=-3*w the multiplier is not {got:.4g}. Use all the "
            "entries (a single coordinate may be zero)."
        )
    n += 1

    # 3. an inactive constraint gives a zero multiplier (complementary slackness)
    w = torch.tensor([0.1, -0.2], dtype=dt)
    got = run(w, torch.tensor([1e-13, -2e-13], dtype=dt), 1.0, "an inactive constraint")
    if abs(got) > TOL:
        fail(
            "when ||w||^2 < theta the constraint is not active and its multiplier is 0 "
            "(complementary slackness); your function returned a non-zero value."
        )
    n += 1
    w = torch.tensor([0.3, 0.4], dtype=dt)  # ||w||^2 = 0.25 < theta = 1, grad not parallel
    got = run(w, torch.tensor([0.2, -0.7], dtype=dt), 1.0, "an inactive constraint")
    if abs(got) > TOL:
        fail("when ||w||^2 < theta the multiplier is 0, whatever the gradient is.")
    n += 1

    # 4. random active cases, with a gradient parallel to w
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        w = torch.randn(6, generator=g, dtype=dt)
        lam = float(torch.rand(1, generator=g, dtype=dt)) * 10
        theta = float((w**2).sum())
        got = run(w, -lam * w, theta, "a random active case")
        if abs(got - lam) > TOL * max(1.0, lam):
            fail("for some active case your multiplier differs from the expected value.")
        n += 1
    passed("l2_multiplier", n)

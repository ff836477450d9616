"""Tests of weightreg.constraint_geometry: spheres, brute-force optima, the book's example."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from weightreg.constraint_geometry import (
    Quadratic2D,
    constrained_argmin_2d,
    example_quadratic,
    lp_norm_2d,
    lp_sphere,
)
from weightreg.constraints import (
    project_l1_ball,
    project_l2_ball,
    project_linf_ball,
    projected_gradient_descent,
)

# exactness is the point here: float64 (the float32 chapters' uses are tested explicitly)
pytestmark = pytest.mark.usefixtures("float64_default")

PROJ = {1: project_l1_ball, 2: project_l2_ball, math.inf: project_linf_ball}


@settings(max_examples=50, deadline=None)
@given(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, math.inf]), st.floats(0.1, 10.0))
def test_sphere_points_have_the_right_norm(p, radius):
    P = lp_sphere(p, radius, 1001)
    torch.testing.assert_close(lp_norm_2d(P, p), torch.full((1001,), radius, dtype=P.dtype))
    # every quadrant is visited, and the corners on the axes are exact
    assert {(bool(a > 0), bool(b > 0)) for a, b in P if a != 0 and b != 0} == {
        (True, True),
        (True, False),
        (False, True),
        (False, False),
    }
    assert any(float(a) == 0.0 for a in P[:, 0]) and any(float(b) == 0.0 for b in P[:, 1])


def test_lp_norm_matches_torch():
    W = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    for p in (1, 2, 3, math.inf):
        torch.testing.assert_close(lp_norm_2d(W, p), torch.linalg.vector_norm(W, ord=p, dim=-1))


def test_quadratic_grad_is_autograd():
    q = example_quadratic()
    W = torch.randn(7, 2, generator=torch.Generator().manual_seed(1), requires_grad=True)
    q.loss(W).sum().backward()
    torch.testing.assert_close(W.grad, q.grad(W.detach()))
    assert q.lipschitz == pytest.approx(3.0)
    assert float(q.loss(q.center)) == 0.0


@pytest.mark.parametrize("p", [1, 2, math.inf])
@pytest.mark.parametrize("radius", [0.4, 1.0, 1.5])
def test_brute_force_agrees_with_projected_gradient_descent(p, radius):
    q = example_quadratic()
    brute = constrained_argmin_2d(q, p, radius)
    pgd = projected_gradient_descent(
        q.grad,
        lambda W: PROJ[p](W, radius, dim=1),
        torch.zeros(1, 2, dtype=q.center.dtype),
        lr=1 / q.lipschitz,
        steps=2000,
    )
    torch.testing.assert_close(brute, pgd.W[0], atol=1e-4, rtol=0)


def test_brute_force_on_the_nonconvex_ball_beats_every_interior_grid_point():
    q = example_quadratic()
    w = constrained_argmin_2d(q, 0.5, 1.0)
    g = torch.linspace(-1, 1, 801)
    G = torch.stack(torch.meshgrid(g, g, indexing="xy"), dim=-1).reshape(-1, 2)
    inside = G[lp_norm_2d(G, 0.5) <= 1.0]
    assert float(q.loss(w)) <= float(q.loss(inside).min()) + 1e-9


def test_example_quadratic_has_the_advertised_corners():
    q = example_quadratic()
    for p in (0.5, 1):
        w = constrained_argmin_2d(q, p, 1.0)
        assert float(w[1]) == 0.0 and float(w[0]) == pytest.approx(1.0)
    for p in (2, math.inf):
        w = constrained_argmin_2d(q, p, 1.0)
        assert float(w.abs().min()) > 0.3


def test_bad_inputs():
    with pytest.raises(ValueError, match="p must be > 0"):
        lp_sphere(0.0)
    with pytest.raises(ValueError, match="radius must be >= 0"):
        lp_sphere(2, -1.0)
    q = example_quadratic()
    with pytest.raises(ValueError, match="inside the ball"):
        constrained_argmin_2d(q, 2, 5.0)
    with pytest.raises(ValueError, match="positive definite"):
        Quadratic2D(torch.tensor([[1.0, 0.0], [0.0, -1.0]]), torch.zeros(2))
    with pytest.raises(ValueError, match="shape"):
        Quadratic2D(torch.eye(3), torch.zeros(3))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        # no silent broadcasting: points of the plane have a last dimension of 2
        (lambda: lp_norm_2d(torch.ones(5, 1), 2), ValueError, r"W must have shape \(\.\.\., 2\)"),
        (lambda: lp_norm_2d(torch.ones(5, 3), 2), ValueError, "W must have shape"),
        (lambda: lp_norm_2d([1.0, 2.0], 2), TypeError, "W must be a torch.Tensor"),
        (lambda: lp_norm_2d(torch.tensor([1.0, math.nan]), 2), ValueError, "W must contain"),
        (lambda: lp_norm_2d(torch.ones(2, dtype=torch.long), 2), TypeError, "W must have a real"),
        (lambda: lp_norm_2d(torch.ones(2), -1.0), ValueError, "p must be > 0"),
        (lambda: lp_norm_2d(torch.ones(2), -math.inf), ValueError, "p must be > 0"),
        (lambda: lp_norm_2d(torch.ones(2), True), TypeError, "p must be a real number"),
        (lambda: lp_norm_2d(torch.ones(2), "2"), TypeError, "p must be a real number"),
        (lambda: example_quadratic().loss(torch.ones(4, 1)), ValueError, "W must have shape"),
        (lambda: example_quadratic().grad(torch.ones(4, 1)), ValueError, "W must have shape"),
        (lambda: example_quadratic(torch.int64), TypeError, "dtype must be a real floating"),
        (lambda: example_quadratic("float64"), TypeError, "dtype must be a real floating"),
        (
            lambda: Quadratic2D(
                torch.eye(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float32)
            ),
            TypeError,
            "H and center must have the same dtype",
        ),
        (
            lambda: Quadratic2D(torch.eye(2), torch.tensor([math.inf, 0.0])),
            ValueError,
            "center must contain only finite",
        ),
        (
            lambda: Quadratic2D(torch.eye(2, dtype=torch.complex64), torch.zeros(2)),
            TypeError,
            "H must have a real floating",
        ),
        (lambda: constrained_argmin_2d("quad", 2, 1.0), TypeError, "quad must be a Quadratic2D"),
        (lambda: constrained_argmin_2d(example_quadratic(), 0, 1.0), ValueError, "p must be > 0"),
        (lambda: constrained_argmin_2d(example_quadratic(), 2, math.nan), ValueError, "radius"),
        (lambda: constrained_argmin_2d(example_quadratic(), 2, 1.0, num=0), ValueError, "num"),
        (lambda: constrained_argmin_2d(example_quadratic(), 2, 1.0, num=True), TypeError, "num"),
        (lambda: lp_sphere(2, 1.0, 10.5), TypeError, "num must be an int"),
        (lambda: lp_norm_2d(torch.ones(2), 1e-300), ValueError, "p is too small"),
        (lambda: lp_sphere(2, math.inf), ValueError, "radius must be finite"),
    ],
)
def test_bad_inputs_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_points_of_any_batch_shape():
    q = example_quadratic()
    W = torch.randn(3, 4, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert q.loss(W).shape == (3, 4) and q.grad(W).shape == (3, 4, 2)
    assert lp_norm_2d(W, 1).shape == (3, 4)
    torch.testing.assert_close(lp_norm_2d(q.center, math.inf), torch.tensor(2.0, dtype=W.dtype))


def test_lp_norm_does_not_overflow_or_underflow():
    W = torch.tensor([[1e307, 1e307], [1e-300, 0.0], [3.0, -4.0]], dtype=torch.float64)
    torch.testing.assert_close(
        lp_norm_2d(W, 2), torch.tensor([1e307 * math.sqrt(2), 1e-300, 5.0], dtype=W.dtype)
    )
    # a huge p is the max norm, not NaN
    torch.testing.assert_close(lp_norm_2d(W, 1e300), lp_norm_2d(W, math.inf))
    P = lp_sphere(1e300, 1.0, 9)
    torch.testing.assert_close(P.abs().amax(dim=1), torch.ones(9, dtype=P.dtype))

"""Tests of weightreg.constraint_geometry: spheres, brute-force optima, the book's example."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from weightreg.constraint_geometry import (  # noqa: E402
    Quadratic2D,
    constrained_argmin_2d,
    draw_constrained_problem,
    example_quadratic,
    lp_norm_2d,
    lp_sphere,
)
from weightreg.constraints import (  # noqa: E402
    project_l1_ball,
    project_l2_ball,
    project_linf_ball,
    projected_gradient_descent,
)

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
        q.grad, torch.zeros(2), lambda w: PROJ[p](w, radius), lr=1 / q.lipschitz, num_steps=2000
    )
    torch.testing.assert_close(brute, pgd, atol=1e-4, rtol=0)


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


def test_drawing_puts_the_ball_and_the_solution_where_they_belong():
    q = example_quadratic()
    fig, ax = plt.subplots()
    w = constrained_argmin_2d(q, 1, 1.0)
    draw_constrained_problem(ax, q, 1, 1.0, solution=w)
    ball = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 721][0]
    xy = torch.tensor(np.array([ball.get_xdata(), ball.get_ydata()])).T
    torch.testing.assert_close(lp_norm_2d(xy, 1), torch.ones(721, dtype=xy.dtype))
    marks = {ln.get_label(): (ln.get_xdata()[0], ln.get_ydata()[0]) for ln in ax.get_lines()}
    assert marks["constrained optimum"] == pytest.approx((1.0, 0.0))
    assert marks["unconstrained optimum"] == pytest.approx((2.0, 0.3))
    plt.close(fig)

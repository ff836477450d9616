"""Tests of weightreg.figures.constraints: what is drawn (line data, markers, contours)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

from weightreg.constraint_geometry import (  # noqa: E402
    constrained_argmin_2d,
    example_quadratic,
    lp_norm_2d,
)
from weightreg.figures.constraints import BALL_POINTS, draw_constrained_problem  # noqa: E402

# exactness is the point here: float64 (the float32 chapters' uses are tested explicitly)
pytestmark = pytest.mark.usefixtures("float64_default")


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def _lines(ax):
    return {ln.get_label(): ln for ln in ax.get_lines()}


@pytest.mark.parametrize(("p", "radius"), [(1, 1.0), (2, 0.7), (0.5, 1.3), (math.inf, 0.9)])
def test_the_ball_outline_lies_on_the_sphere_and_is_filled(ax, p, radius):
    q = example_quadratic()
    draw_constrained_problem(ax, q, p, radius, color="#123456")
    ball = _lines(ax)["_ball"]
    xy = torch.tensor(np.column_stack([ball.get_xdata(), ball.get_ydata()]))
    assert xy.shape == (BALL_POINTS, 2)
    torch.testing.assert_close(lp_norm_2d(xy, p), torch.full((BALL_POINTS,), radius))
    assert ball.get_color() == "#123456"
    # the inside is shaded with the same outline
    fills = [pt for pt in ax.patches if isinstance(pt, Polygon)]
    assert len(fills) == 1
    np.testing.assert_allclose(fills[0].get_xy()[:BALL_POINTS], xy.numpy())


def test_markers_sit_on_the_two_optima(ax):
    q = example_quadratic()
    w = constrained_argmin_2d(q, 1, 1.0)
    draw_constrained_problem(ax, q, 1, 1.0, solution=w, title="L1 ball")
    lines = _lines(ax)
    star, dot = lines["unconstrained optimum"], lines["constrained optimum"]
    assert star.get_marker() == "*" and star.get_linestyle() == "None"
    assert (star.get_xdata()[0], star.get_ydata()[0]) == pytest.approx((2.0, 0.3))
    assert dot.get_marker() == "o" and dot.get_markeredgecolor() == "k"
    assert (dot.get_xdata()[0], dot.get_ydata()[0]) == pytest.approx((1.0, 0.0))  # the corner
    assert ax.get_title() == "L1 ball"


def test_contours_are_levels_of_the_loss_and_the_window_is_square(ax):
    q = example_quadratic()
    draw_constrained_problem(ax, q, None, 1.0, lim=2.0, levels=7)
    contours = [c for c in ax.collections if not isinstance(c, PolyCollection)]
    assert len(contours) == 1
    levels = np.asarray(contours[0].levels)
    assert len(levels) == 7 and (np.diff(levels) > 0).all()
    # every drawn contour vertex has the loss value of its level
    for level, path in zip(levels, contours[0].get_paths(), strict=True):
        if len(path.vertices) == 0:
            continue
        values = q.loss(torch.tensor(path.vertices)).numpy()
        np.testing.assert_allclose(values, level, rtol=2e-2)
    assert ax.get_xlim() == (-2.0, 2.0) and ax.get_ylim() == (-2.0, 2.0)
    # p=None: no ball, no solution marker
    markers = [ln for ln in ax.get_lines() if ln.get_marker() not in ("None", None)]
    assert [ln.get_label() for ln in markers] == ["unconstrained optimum"]
    assert "_ball" not in _lines(ax)
    assert not ax.patches


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"ax": None}, TypeError, "ax must be a matplotlib Axes"),
        ({"quad": "q"}, TypeError, "quad must be a Quadratic2D"),
        ({"p": -1.0}, ValueError, "p must be > 0"),
        ({"p": "1"}, TypeError, "p must be a real number"),
        ({"radius": -1.0}, ValueError, "radius must be >= 0"),
        ({"radius": math.nan}, ValueError, "radius must be finite"),
        ({"solution": torch.zeros(3)}, ValueError, r"solution must have shape \(2,\)"),
        ({"solution": torch.tensor([math.nan, 0.0])}, ValueError, "solution must contain only"),
        ({"solution": torch.tensor([1, 0])}, TypeError, "solution must have a real floating"),
        ({"color": None}, TypeError, "color must be a matplotlib color string"),
        ({"title": 1}, TypeError, "title must be a str or None"),
        ({"levels": 0}, ValueError, "levels must be >= 1"),
        ({"lim": 0.0}, ValueError, "lim must be > 0"),
    ],
)
def test_bad_inputs(ax, kwargs, error, match):
    args = {"ax": ax, "quad": example_quadratic(), "p": 1, "radius": 1.0} | kwargs
    with pytest.raises(error, match=match):
        draw_constrained_problem(
            args.pop("ax"), args.pop("quad"), args.pop("p"), args.pop("radius"), **args
        )

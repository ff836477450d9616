"""weightreg.geometry: norms against numpy/torch, ball boundaries, constrained minimizers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from weightreg.geometry import ball_argmin_2d, lk_norm, unit_ball_boundary
from weightreg.penalties import lk_penalty

KS = [0.5, 1.0, 1.5, 2.0, 3.0, 10.0, math.inf]


@pytest.mark.parametrize("k", KS)
def test_lk_norm_matches_numpy(k):
    w = torch.randn(7, 5, generator=torch.Generator().manual_seed(3))
    ours = lk_norm(w, k)
    ref = np.max(np.abs(w.numpy())) if k == math.inf else np.sum(np.abs(w.numpy()) ** k) ** (1 / k)
    assert float(ours) == pytest.approx(float(ref), rel=1e-12)
    rows = lk_norm(w, k, dim=1)
    for i in range(7):
        assert float(rows[i]) == pytest.approx(float(lk_norm(w[i], k)), rel=1e-12)


@pytest.mark.parametrize("k", [1.0, 2.0, 3.0, math.inf])
def test_lk_norm_matches_torch_for_true_norms(k):
    w = torch.randn(50, generator=torch.Generator().manual_seed(4))
    assert float(lk_norm(w, k)) == pytest.approx(float(torch.linalg.vector_norm(w, ord=k)))


@pytest.mark.parametrize("k", [0.5, 1.5, 3.0, 10.0])
def test_penalty_is_the_kth_power_of_the_norm_over_n(k):
    w = torch.randn(30, generator=torch.Generator().manual_seed(5))
    assert float(lk_penalty(w, k, 2.0)) == pytest.approx(2.0 * float(lk_norm(w, k)) ** k / 30)


def test_lk_norm_does_not_overflow_for_large_k():
    w = torch.tensor([1e30, -2e30, 5.0])
    assert float(lk_norm(w, 100.0)) == pytest.approx(2e30 * (1 + 2.0**-100) ** 0.01, rel=1e-12)
    assert float(lk_norm(torch.zeros(3), 3.0)) == 0.0


@settings(max_examples=60, deadline=None)
@given(
    v=st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=12),
    k1=st.sampled_from([0.5, 1.0, 2.0, 3.0]),
    k2=st.sampled_from([1.5, 3.0, 10.0, math.inf]),
    c=st.floats(-5, 5),
)
def test_norm_properties(v, k1, k2, c):
    """Homogeneity; ||w||_k decreases in k; n^(-1/k) ||w||_inf... sandwich of the max norm."""
    w = torch.tensor(v)
    n = len(v)
    assert float(lk_norm(c * w, k1)) == pytest.approx(abs(c) * float(lk_norm(w, k1)), abs=1e-9)
    if k1 < k2:
        assert float(lk_norm(w, k2)) <= float(lk_norm(w, k1)) * (1 + 1e-12) + 1e-300
    top = float(lk_norm(w, math.inf))
    assert top <= float(lk_norm(w, k1)) * (1 + 1e-12) + 1e-300
    assert float(lk_norm(w, k1)) <= n ** (1 / k1) * top * (1 + 1e-12) + 1e-300


@pytest.mark.parametrize("k", KS)
def test_boundary_points_have_unit_norm_and_hit_the_axes(k):
    pts = unit_ball_boundary(k, 401)
    assert pts.shape == (401, 2) and pts.dtype == torch.float64
    torch.testing.assert_close(lk_norm(pts, k, dim=1), torch.ones(401, dtype=torch.float64))
    for axis_pt in ([1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]):
        assert (pts == torch.tensor(axis_pt, dtype=torch.float64)).all(dim=1).any()
    torch.testing.assert_close(pts[0], pts[-1])


def test_inf_ball_is_the_square():
    pts = unit_ball_boundary(math.inf, 801)
    assert torch.allclose(pts.abs().amax(dim=1), torch.ones(801, dtype=torch.float64))
    corner = torch.tensor([1.0, 1.0], dtype=torch.float64)
    assert (pts - corner).norm(dim=1).min() < 1e-12


@pytest.mark.parametrize("k", [1.0, 1.5, 2.0, 3.0, 10.0])
def test_ball_argmin_matches_scipy(k):
    """For convex balls (k >= 1) compare with SLSQP on the constrained problem."""
    c = torch.tensor([2.0, 0.8], dtype=torch.float64)
    H = torch.tensor([[1.0, 0.3], [0.3, 2.0]], dtype=torch.float64)
    ours = ball_argmin_2d(c, H, k, 1.0, num=40001).numpy()
    Hn, cn = H.numpy(), c.numpy()

    def f(x):
        return 0.5 * (x - cn) @ Hn @ (x - cn)

    def g(x):
        return 1.0 - np.sum(np.abs(x) ** k) ** (1 / k)

    best = min(
        (
            minimize(f, x0, constraints=[{"type": "ineq", "fun": g}], method="SLSQP")
            for x0 in ([0.5, 0.1], [0.1, 0.5], [0.3, 0.3])
        ),
        key=lambda r: r.fun,
    )
    assert f(ours) <= best.fun + 1e-5
    np.testing.assert_allclose(ours, best.x, atol=2e-3)


@pytest.mark.parametrize(("k", "sparse"), [(0.5, True), (1.0, True), (1.5, False), (2.0, False)])
def test_corner_solutions_only_for_k_at_most_1(k, sparse):
    c = torch.tensor([2.0, 0.8], dtype=torch.float64)
    x = ball_argmin_2d(c, torch.eye(2, dtype=torch.float64), k, 1.0)
    assert bool((x == 0).any()) == sparse


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: lk_norm(torch.ones(3), 0.0), "k must be > 0"),
        (lambda: lk_norm(torch.ones(3), -math.inf), "k must be"),
        (lambda: lk_norm([1.0], 2.0), "w must be a torch.Tensor"),
        (lambda: unit_ball_boundary(2.0, 3), "num must be >= 5"),
        (lambda: unit_ball_boundary(math.nan), "k must be finite"),
        (
            lambda: ball_argmin_2d(torch.tensor([0.1, 0.1]), torch.eye(2), 2.0, 1.0),
            "outside the ball",
        ),
        (lambda: ball_argmin_2d(torch.ones(3), torch.eye(2), 2.0, 1.0), "center must have shape"),
        (
            lambda: ball_argmin_2d(torch.tensor([2.0, 0.0]), -torch.eye(2), 2.0, 1.0),
            "positive definite",
        ),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()

"""weightreg.dynamics: closed forms against numerical ODE solutions and simulated descent."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from weightreg import dynamics as D
from weightreg.divergence import TrainingDiverged
from weightreg.penalties import penalty_descent

KS = [0.5, 1.0, 1.5, 2.0, 3.0, 10.0]


pytestmark = pytest.mark.usefixtures("float64_default")  # exactness tests


@pytest.mark.parametrize("k", KS)
def test_flow_solution_matches_numerical_ode(k):
    alpha, w0 = 0.7, 0.9
    t_end = 0.8 * float(D.extinction_time(torch.tensor([w0]), k, alpha)) if k < 2 else 3.0
    ts = np.linspace(0, t_end, 9)

    def rhs(_, w):
        return -alpha * k * np.sign(w) * np.abs(w) ** (k - 1)

    sol = solve_ivp(rhs, (0, t_end), [w0], t_eval=ts, rtol=1e-11, atol=1e-13)
    closed = D.flow_solution(torch.tensor([w0]), k, alpha, torch.tensor(ts))[:, 0]
    np.testing.assert_allclose(closed.numpy(), sol.y[0], rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("k", KS)
def test_flow_solution_satisfies_ode_by_autograd(k):
    """d/dt of the closed form equals -alpha k sign(w) |w|^(k-1) (before extinction)."""
    alpha = 1.3
    w0 = torch.tensor([0.8, -1.1, 0.3])
    t = torch.tensor(0.05, requires_grad=True)
    w = D.flow_solution(w0, k, alpha, t)
    dwdt = torch.stack([torch.autograd.grad(w[i], t, retain_graph=True)[0] for i in range(3)])
    expected = -alpha * k * torch.sign(w) * w.abs() ** (k - 1)
    torch.testing.assert_close(dwdt, expected.detach(), rtol=1e-9, atol=1e-12)


def test_flow_k2_is_geometric_and_signs_kept():
    w0 = torch.tensor([2.0, -3.0, 0.0])
    w = D.flow_solution(w0, 2.0, 0.5, torch.tensor([0.0, 1.0, 2.0]))
    torch.testing.assert_close(w[1], w0 * math.exp(-1.0))
    torch.testing.assert_close(w[0], w0)
    assert w[2, 2] == 0
    w3 = D.flow_solution(w0, 3.0, 0.5, 4.0)
    assert (torch.sign(w3) == torch.sign(w0)).all()


@pytest.mark.parametrize("k", [0.5, 1.0, 1.5])
def test_extinction_time_is_where_flow_reaches_zero(k):
    w0 = torch.tensor([0.6, -2.0])
    t_star = D.extinction_time(w0, k, 0.4)
    before = D.flow_solution(w0, k, 0.4, 0.999 * t_star[0])[0]
    after = D.flow_solution(w0, k, 0.4, t_star)  # both entries at their own time scale
    assert before != 0
    assert float(D.flow_solution(w0[:1], k, 0.4, float(t_star[0]) * 1.0001)[0]) == 0.0
    assert after.shape == (2, 2)


def test_extinction_time_infinite_for_k_at_least_2():
    assert torch.isinf(D.extinction_time(torch.tensor([0.5]), 2.0, 1.0)).all()
    assert torch.isinf(D.extinction_time(torch.tensor([0.5]), 3.0, 1.0)).all()
    assert D.extinction_time(torch.tensor([0.0]), 3.0, 1.0)[0] == 0


@pytest.mark.parametrize("k", [0.5, 1.0, 1.5, 2.0, 3.0, 10.0])
def test_halving_time_halves(k):
    r0 = torch.tensor([0.3, 1.7])
    th = D.halving_time(r0, k, 0.9)
    for i in range(2):
        r = D.flow_solution(r0[i : i + 1], k, 0.9, float(th[i]))[0]
        assert float(r) == pytest.approx(float(r0[i]) / 2, rel=1e-10)


def test_halving_time_is_continuous_at_k2():
    r0 = torch.tensor([0.5])
    near = D.halving_time(r0, 2.0 + 1e-7, 1.0)
    at = D.halving_time(r0, 2.0, 1.0)
    assert float(near) == pytest.approx(float(at), rel=1e-5)


@pytest.mark.parametrize("k", [3.0, 4.0, 10.0])
def test_dead_zone_radius_is_where_halving_time_equals_horizon(k):
    r = D.dead_zone_radius(k, 2.0, 50.0)
    assert float(D.halving_time(torch.tensor([r]), k, 2.0)) == pytest.approx(50.0, rel=1e-10)
    # smaller weights take longer than the horizon, larger ones less
    assert float(D.halving_time(torch.tensor([0.9 * r]), k, 2.0)) > 50.0
    assert float(D.halving_time(torch.tensor([1.1 * r]), k, 2.0)) < 50.0


@pytest.mark.parametrize("k", [0.5, 1.5, 3.0, 10.0])
def test_two_cycle_radius_is_a_two_cycle_of_descent(k):
    alpha, lr = 0.8, 0.05
    r = D.gd_two_cycle_radius(k, alpha, lr)
    traj = penalty_descent(torch.tensor([r]), k, alpha, lr, 4)[:, 0]
    expected = torch.tensor([r, -r, r, -r, r])
    torch.testing.assert_close(traj, expected, rtol=1e-9, atol=0)


@pytest.mark.parametrize("k", [0.5, 1.25, 1.5, 1.75, 3.0])
def test_two_cycle_slope_matches_finite_differences(k):
    alpha, lr = 0.8, 0.05
    c = lr * alpha * k
    r = D.gd_two_cycle_radius(k, alpha, lr)
    h = 1e-7 * r

    def g(x):
        return abs(x - c * x ** (k - 1))

    fd = -(g(r + h) - g(r - h)) / (2 * h)  # the magnitude map flips the sign: g = c r^(k-1) - r
    assert fd == pytest.approx(-D.gd_two_cycle_slope(k), rel=1e-5)


def test_two_cycle_attracts_only_between_1_and_2():
    alpha, lr = 1.0, 0.1
    for k, attracts in [(0.5, False), (1.5, True), (1.75, True)]:
        r = D.gd_two_cycle_radius(k, alpha, lr)
        traj = penalty_descent(torch.tensor([r * (1 + 1e-6)]), k, alpha, lr, 40)[:, 0]
        gap = abs(float(traj[-1].abs()) - r) / r
        assert (gap < 1e-8) == attracts, (k, gap)


def test_descent_for_k_above_2_converges_below_and_diverges_above_the_cycle():
    k, alpha, lr = 3.0, 1.0, 0.1
    r = D.gd_two_cycle_radius(k, alpha, lr)
    inside = penalty_descent(torch.tensor([0.99 * r]), k, alpha, lr, 3000)[-1, 0]
    outside = penalty_descent(torch.tensor([1.01 * r]), k, alpha, lr, 6)[:, 0].abs()
    assert abs(float(inside)) < 0.05 * r
    assert (outside.diff() > 0).all() and float(outside[-1]) > 6 * r
    with pytest.raises(TrainingDiverged):  # a million times the start: the divergence policy
        penalty_descent(torch.tensor([1.01 * r]), k, alpha, lr, 12)


def test_overshoot_free_radius():
    k, alpha, lr = 3.0, 2.0, 0.05
    r = D.overshoot_free_radius(k, alpha, lr)
    below = penalty_descent(torch.tensor([0.999 * r]), k, alpha, lr, 50)[:, 0]
    above = penalty_descent(torch.tensor([1.05 * r]), k, alpha, lr, 1)[:, 0]
    assert (below > 0).all()
    assert above[1] < 0


@settings(max_examples=40, deadline=None)
@given(
    k=st.sampled_from([2.5, 3.0, 4.0, 6.0, 10.0]),
    alpha=st.floats(0.05, 5.0),
    lr=st.floats(1e-3, 0.1),
    frac=st.floats(0.05, 0.9),
)
def test_descent_lies_between_the_flow_bounds(k, alpha, lr, frac):
    """Property: flow(gamma t) <= |w_s| <= flow(t), and the relative gap bound holds."""
    r_max = D.overshoot_free_radius(k, alpha, lr)
    w0 = torch.tensor([frac * r_max, -0.5 * frac * r_max])
    steps = 200
    traj = penalty_descent(w0, k, alpha, lr, steps).abs()
    lower, upper = D.gd_flow_bounds(w0, k, alpha, lr, steps)
    assert (traj <= upper * (1 + 1e-10)).all()
    assert (traj >= lower * (1 - 1e-10)).all()
    gap = (1 - traj / upper).max(dim=0).values
    assert (gap <= D.gd_flow_gap_bound(w0, k, alpha, lr) + 1e-10).all()


def test_flow_bounds_are_tight_for_small_steps():
    w0 = torch.tensor([0.5])
    lo, up = D.gd_flow_bounds(w0, 3.0, 1.0, 1e-5, 100)
    assert float((1 - lo / up).max()) < 1e-4


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: D.flow_solution([1.0], 3.0, 1.0, 1.0), "w0 must be a torch.Tensor"),
        (lambda: D.flow_solution(torch.tensor([1.0]), 0.0, 1.0, 1.0), "k must be > 0"),
        (lambda: D.flow_solution(torch.tensor([1.0]), 3.0, -1.0, 1.0), "alpha must be >= 0"),
        (lambda: D.flow_solution(torch.tensor([1.0]), 3.0, 1.0, -1.0), "t must be >= 0"),
        (lambda: D.flow_solution(torch.tensor([math.nan]), 3.0, 1.0, 1.0), "finite"),
        (lambda: D.dead_zone_radius(2.0, 1.0, 1.0), "k must be > 2"),
        (lambda: D.dead_zone_radius(3.0, 0.0, 1.0), "alpha must be > 0"),
        (lambda: D.dead_zone_radius(3.0, 1.0, 0.0), "horizon must be > 0"),
        (lambda: D.gd_two_cycle_radius(2.0, 1.0, 0.1), "k must differ from 2"),
        (lambda: D.gd_two_cycle_radius(3.0, 1.0, 0.0), "lr must be > 0"),
        (lambda: D.halving_time(torch.tensor([0.0]), 3.0, 1.0), "r0 must be > 0"),
        (lambda: D.gd_flow_bounds(torch.tensor([10.0]), 3.0, 1.0, 0.1, 5), "must be < 1"),
        (lambda: D.gd_flow_bounds(torch.tensor([0.1]), 1.5, 1.0, 0.1, 5), "k must be > 2"),
        (lambda: D.gd_flow_bounds(torch.tensor([0.1]), 3.0, 1.0, 0.1, 0), "steps must be >= 1"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


def test_flow_solution_accepts_a_0d_start_as_its_docstring_says():
    w0 = torch.tensor(0.5, dtype=torch.float64)
    for k in (1.5, 2.0, 3.0):
        out = D.flow_solution(w0, k, 1.0, 0.2)
        assert out.shape == ()
        ref = D.flow_solution(w0.reshape(1), k, 1.0, 0.2)[0]
        torch.testing.assert_close(out, ref)
    times = torch.tensor([0.0, 0.2], dtype=torch.float64)
    assert D.flow_solution(w0, 3.0, 1.0, times).shape == (2,)


def test_two_cycle_slope_and_radius_agree_on_rejecting_k_2():
    """D11: gd_two_cycle_slope(2) returned 1 while gd_two_cycle_radius rejected k = 2."""
    with pytest.raises(ValueError, match="k must differ from 2"):
        D.gd_two_cycle_radius(2.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="k must differ from 2"):
        D.gd_two_cycle_slope(2.0)
    for k in (0.5, 1.0, 1.5, 3.0):
        assert D.gd_two_cycle_slope(k) == 2 * k - 3


def test_closed_forms_refuse_to_overflow():
    w0 = torch.tensor([0.5, -0.3])
    with pytest.raises(ValueError, match="k = 1e\\+300 is too large"):
        D.gd_flow_bounds(w0, 1e300, 0.1, 0.1, 5)
    with pytest.raises(ValueError, match="too large"):
        D.flow_solution(w0, 1e300, 0.1, 2.0)

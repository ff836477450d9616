"""Tests of weightreg.figures.lk: what the shared Lk figures draw and the tables show."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from weightreg.constraint_geometry import (  # noqa: E402
    constrained_argmin_2d,
    example_quadratic,
)
from weightreg.dynamics import flow_solution  # noqa: E402
from weightreg.figures.lk import (  # noqa: E402
    START_WEIGHTS,
    _nan_at_jumps,
    draw_ball_optima,
    draw_implicit_euler,
    draw_penalty_dynamics,
    draw_priors,
    draw_prox_maps,
    dynamics_explorer,
    plot_penalty_and_grad,
    step_table,
    step_table_markdown,
)
from weightreg.penalties import penalty_descent, prox_descent, prox_l1, prox_lhalf  # noqa: E402


@pytest.mark.parametrize("k", [0.5, 1.0, 2.0, 3.0])
def test_step_table_moves_are_lr_alpha_k_w_to_the_k_minus_1(k):
    sizes = (2.0, 0.5, 0.01)
    table = step_table(k, alpha=0.3, lr=0.1, sizes=sizes)
    for row, w in zip(table.itertuples(index=False), sizes, strict=True):
        move = 0.1 * 0.3 * k * w ** (k - 1)
        assert row[1] == pytest.approx(move, rel=1e-12)
        assert row[2] == pytest.approx(move / w, rel=1e-12)
        assert row[3] == pytest.approx(w - move, rel=1e-12)


def test_step_table_l2_relative_move_is_constant_and_l1_absolute_move_is_constant():
    l2 = step_table(2, alpha=1.0, lr=0.05)
    assert np.allclose(l2["move / |w|"], 0.1)
    l1 = step_table(1, alpha=1.0, lr=0.05)
    assert np.allclose(l1["move lr*|grad|"], 0.05)


def test_step_table_rejects_non_positive_sizes():
    with pytest.raises(ValueError, match="sizes must all be > 0"):
        step_table(2, alpha=1.0, lr=0.1, sizes=(1.0, 0.0))


@pytest.mark.parametrize("k", [0.5, 1.0, 2.0, 10.0])
def test_plot_penalty_and_grad_draws_the_penalty_and_its_derivative(k):
    fig, ax = plt.subplots()
    plot_penalty_and_grad(k, alpha=0.7, ax=ax, xlim=1.5, num=301)
    pen, der = ax.lines[0], ax.lines[1]
    w = np.asarray(pen.get_xdata())
    np.testing.assert_allclose(pen.get_ydata(), 0.7 * np.abs(w) ** k, rtol=1e-12)
    g = np.asarray(der.get_ydata(), dtype=float)
    ok = np.isfinite(g)
    expected = 0.7 * k * np.sign(w) * np.abs(np.where(w == 0, 1, w)) ** (k - 1)
    np.testing.assert_allclose(g[ok], expected[ok], rtol=1e-12)
    assert ok.sum() >= len(w) - 1
    plt.close(fig)


def test_draw_penalty_dynamics_plots_the_gradient_descent_trajectories():
    fig = plt.figure()
    draw_penalty_dynamics(fig, 2.0, 1.0, 0.1, steps=5, w0=(1.0, -0.5))
    ax2 = fig.axes[1]
    ys = np.array([line.get_ydata() for line in ax2.lines[:2]])
    np.testing.assert_allclose(ys[0], 0.8 ** np.arange(6), rtol=1e-12)
    np.testing.assert_allclose(ys[1], -0.5 * 0.8 ** np.arange(6), rtol=1e-12)
    plt.close(fig)


def test_step_table_columns_are_size_move_relative_move_and_the_weight_after():
    table = step_table(1.5, alpha=2.0, lr=0.05, sizes=(1.0, 0.04))
    assert list(table.columns) == ["|w|", "move lr*|grad|", "move / |w|", "w after one step"]
    np.testing.assert_allclose(table["|w|"], [1.0, 0.04])
    np.testing.assert_allclose(table["move lr*|grad|"], [0.15, 0.15 * 0.2], rtol=1e-12)
    np.testing.assert_allclose(table["w after one step"], [0.85, 0.04 - 0.03], rtol=1e-12)


def test_draw_penalty_dynamics_proximal_draws_the_prox_trajectories():
    fig = plt.figure()
    draw_penalty_dynamics(fig, 1.0, 0.5, 0.2, method="proximal", steps=8, w0=(0.35, -0.05))
    ax1, ax2 = fig.axes
    ys = np.array([line.get_ydata() for line in ax2.lines[:2]])
    expected = prox_descent(torch.tensor([0.35, -0.05], dtype=torch.float64), 1, 0.5, 0.2, 8)
    np.testing.assert_allclose(ys, expected.T.numpy(), rtol=0, atol=0)
    assert ys[0, 4] == 0 and ys[1, 1] == 0  # exact zeros after ceil(|w| / (lr alpha)) steps
    assert "proximal steps" in ax2.get_title() and "0.1" in ax2.get_title()
    # the left panel is the penalty and its derivative of plot_penalty_and_grad
    w = np.asarray(ax1.lines[0].get_xdata())
    np.testing.assert_allclose(ax1.lines[0].get_ydata(), 0.5 * np.abs(w), rtol=1e-12)
    plt.close(fig)


def test_draw_penalty_dynamics_shows_divergence_as_lines_leaving_the_axes():
    """k = 10 from the largest start diverges: that line stops (NaN), the others are drawn,
    a note says so, and nothing is raised or warned (the figure shows what happens)."""
    import warnings

    fig = plt.figure()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw_penalty_dynamics(fig, 10.0, 1.0, 0.6, steps=10)
    ax2 = fig.axes[1]
    ys = np.array([line.get_ydata() for line in ax2.lines[: len(START_WEIGHTS)]], dtype=float)
    assert np.isnan(ys[0, -1]) and np.isfinite(ys[0, 0])  # -1.6 blows up
    np.testing.assert_allclose(
        ys[1:, 1],
        np.array(START_WEIGHTS[1:]) * (1 - 6 * np.abs(START_WEIGHTS[1:]) ** 8),
        rtol=1e-12,
    )
    assert any("diverge" in t.get_text() for t in ax2.texts)
    with pytest.raises(ValueError, match="method must be 'gradient' or 'proximal'"):
        draw_penalty_dynamics(plt.figure(), 2.0, 1.0, 0.1, method="newton")
    plt.close("all")


def test_draw_penalty_dynamics_without_a_prox_draws_the_flow_and_a_note():
    """No empty frame: for a k without a closed-form prox the panel shows the gradient flow."""
    fig = plt.figure()
    draw_penalty_dynamics(fig, 1.5, 1.0, 0.1, method="proximal", steps=3)
    ax2 = fig.axes[1]
    assert any("no closed-form prox for $k = 1.5$" in t.get_text() for t in ax2.texts)
    flows = [line for line in ax2.lines if line.get_linestyle() == ":"]
    assert len(flows) == len(START_WEIGHTS)
    x = np.asarray(flows[0].get_xdata())
    # flow of 1.0 * |w|^1.5: |w|^0.5 falls linearly at rate 0.75 per unit time (time = lr * t)
    r = np.clip(np.sqrt(abs(START_WEIGHTS[0])) - 0.75 * 0.1 * x, 0, None) ** 2
    np.testing.assert_allclose(np.abs(flows[0].get_ydata()), r, rtol=1e-10, atol=1e-14)
    plt.close(fig)


def test_every_frame_draws_the_flow_behind_the_steps():
    fig = plt.figure()
    draw_penalty_dynamics(fig, 1.0, 1.0, 0.2, method="proximal", steps=10, w0=(0.9,))
    ax2 = fig.axes[1]
    steps, flow = ax2.lines[0], [ln for ln in ax2.lines if ln.get_linestyle() == ":"][0]
    # L1: proximal steps land exactly on the flow max(|w0| - alpha * lr * t, 0)
    t = np.asarray(steps.get_xdata())
    np.testing.assert_allclose(steps.get_ydata(), np.clip(0.9 - 0.2 * t, 0, None), atol=1e-12)
    np.testing.assert_allclose(
        flow.get_ydata(), np.clip(0.9 - 0.2 * np.asarray(flow.get_xdata()), 0, None), atol=1e-12
    )
    assert r"\eta\alpha" in ax2.get_title() and "$" in ax2.get_xlabel() + ax2.get_ylabel()
    plt.close(fig)


def test_dynamics_explorer_renders_one_distinct_frame_per_combination(monkeypatch):
    monkeypatch.setenv("WEIGHTREG_STATIC_WIDGETS", "1")
    ex = dynamics_explorer(
        ks=(1.0, 2.0), alphas=(1.0,), lrs=(0.1,), methods=("gradient", "proximal")
    )
    assert ex.controls == {
        "k": [1.0, 2.0],
        "alpha": [1.0],
        "lr": [0.1],
        "method": ["gradient", "proximal"],
    }
    assert sorted(ex.frames) == ["0,0,0,0", "0,0,0,1", "1,0,0,0", "1,0,0,1"]
    assert len(set(ex.frames.values())) == 4  # four different pictures
    single = dynamics_explorer(ks=(2.0,), alphas=(1.0,), lrs=(0.1, 0.2))
    assert "method" not in single.controls and len(single.frames) == 2


def test_gradient_panel_matches_penalty_descent():
    fig = plt.figure()
    draw_penalty_dynamics(fig, 0.5, 1.0, 0.05, steps=6)
    ys = np.array([line.get_ydata() for line in fig.axes[1].lines[: len(START_WEIGHTS)]])
    ref = penalty_descent(torch.tensor(START_WEIGHTS, dtype=torch.float64), 0.5, 1.0, 0.05, 6)
    np.testing.assert_allclose(ys, ref.T.numpy(), rtol=0, atol=0)
    plt.close(fig)


def test_penalty_trajectories_are_penalty_descent_with_silent_nan_for_divergence():
    import warnings

    from weightreg.figures.lk import penalty_trajectories

    w0 = torch.tensor([0.5, 2.0], dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = penalty_trajectories(w0, 10.0, 1.0, 0.1, 30)
        every = penalty_trajectories(torch.tensor([3.0]), 2.0, 1.0, 10.0, 50)
    ref = penalty_descent(w0[:1], 10.0, 1.0, 0.1, 30)
    np.testing.assert_array_equal(traj[:, 0].numpy(), ref[:, 0].numpy())
    assert torch.isnan(traj[-1, 1]) and torch.isnan(every[-1]).all()
    with pytest.raises(ValueError, match="lr must be > 0"):
        penalty_trajectories(w0, 2.0, 1.0, 0.0, 3)


def test_step_table_markdown_has_typeset_headers_and_the_table_numbers():
    md = step_table_markdown(0.5, alpha=1.0, lr=0.05, sizes=(2.0, 1e-4)).data
    lines = md.splitlines()
    assert len(lines) == 4 and lines[0].count("$") >= 8  # every header typeset
    assert "lr*" not in md and "index" not in md
    table = step_table(0.5, alpha=1.0, lr=0.05, sizes=(2.0, 1e-4))
    cells = [float(c) for c in lines[3].strip("| ").split(" | ")]
    np.testing.assert_allclose(cells, table.iloc[1].to_numpy(), rtol=5e-3)


def test_nan_at_jumps_breaks_only_at_the_jumps():
    x = np.linspace(-1, 1, 201)
    y = np.where(np.abs(x) > 0.5, x, 0.0)
    xb, yb = _nan_at_jumps(x, y, 0.2)
    assert np.isnan(yb).sum() == 2 and np.isnan(xb).sum() == 2
    np.testing.assert_array_equal(yb[~np.isnan(yb)], y)
    finite = np.split(yb, np.nonzero(np.isnan(yb))[0])
    assert all(np.all(np.abs(np.diff(seg[~np.isnan(seg)])) <= 0.2) for seg in finite)


def test_draw_prox_maps_has_no_vertical_segment_and_draws_the_two_proxes():
    fig = plt.figure()
    draw_prox_maps(fig, 0.2, zlim=1.5)
    ax = fig.axes[0]
    half, soft = ax.lines[0], [ln for ln in ax.lines if ln.get_linestyle() == "--"][0]
    x, y = np.asarray(half.get_xdata(), float), np.asarray(half.get_ydata(), float)
    assert np.isnan(y).sum() == 2  # one break at each of the two jumps
    ok = ~np.isnan(y)
    expected = prox_lhalf(torch.tensor(x[ok], dtype=torch.float64), 0.2).numpy()
    np.testing.assert_allclose(y[ok], expected, rtol=0, atol=0)
    steps = np.abs(np.diff(y))
    assert np.nanmax(steps) < 0.01  # 3001 points on [-1.5, 1.5]: no segment bridges the jump
    xs = torch.tensor(np.asarray(soft.get_xdata(), float), dtype=torch.float64)
    np.testing.assert_allclose(soft.get_ydata(), prox_l1(xs, 0.2).numpy(), atol=0)
    assert "$" in ax.get_xlabel() and r"\tau" in ax.get_title()
    plt.close(fig)


@pytest.mark.parametrize("k", [0.5, 1.0, 2.0])
def test_draw_implicit_euler_draws_steps_flow_and_step_maps(k):
    fig = plt.figure()
    draw_implicit_euler(fig, k, 1.0, 0.3, w0=1.0, steps=8)
    ax1, ax2 = fig.axes
    by_label = {ln.get_label(): ln for ln in ax2.lines}
    start = torch.tensor([1.0], dtype=torch.float64)
    grad = penalty_descent(start, k, 1.0, 0.3, 8)[:, 0].numpy()
    prox = prox_descent(start, k, 1.0, 0.3, 8)[:, 0].numpy()
    np.testing.assert_allclose(by_label["gradient steps"].get_ydata(), grad, atol=0)
    np.testing.assert_allclose(by_label["proximal steps"].get_ydata(), prox, atol=0)
    flow = by_label[r"gradient flow at $\eta t$"]
    u = 0.3 * torch.tensor(np.asarray(flow.get_xdata()), dtype=torch.float64)
    np.testing.assert_allclose(flow.get_ydata(), flow_solution(start, k, 1.0, u)[:, 0], atol=1e-12)
    # left panel: the proximal step map is drawn without a vertical segment
    pmap = [ln for ln in ax1.lines if ln.get_label() == "proximal step (implicit)"][0]
    y = np.asarray(pmap.get_ydata(), float)
    assert np.nanmax(np.abs(np.diff(y))) < 0.05
    if k == 1.0:  # for L1 the proximal steps lie exactly on the flow
        np.testing.assert_allclose(prox, np.clip(1.0 - 0.3 * np.arange(9), 0, None), atol=1e-12)
    plt.close(fig)
    with pytest.raises(ValueError, match="k must be one of"):
        draw_implicit_euler(plt.figure(), 1.5, 1.0, 0.3)
    with pytest.raises(ValueError, match="w0 must be non-zero"):
        draw_implicit_euler(plt.figure(), 1.0, 1.0, 0.3, w0=0.0)
    plt.close("all")


def test_draw_ball_optima_draws_the_touching_level_sets_and_the_sparse_corner():
    quad = example_quadratic()
    w1, w2 = constrained_argmin_2d(quad, 1.0, 1.0), constrained_argmin_2d(quad, 2.0, 1.0)
    fig = plt.figure()
    draw_ball_optima(fig, quad, 1.0, w1, w2)
    ax1, ax2 = fig.axes
    texts1 = " ".join(t.get_text() for t in ax1.texts)
    assert "(1.00,\\ 0.00)" in texts1  # the corner: w_2 = 0
    for ax, w in ((ax1, w1), (ax2, w2)):
        levels = [float(v) for c in ax.collections if hasattr(c, "levels") for v in c.levels]
        assert any(abs(v - float(quad.loss(w))) < 1e-12 for v in levels)
        assert "$" in ax.get_title() and "$" in ax.get_xlabel()
    plt.close(fig)


def test_draw_priors_densities_have_equal_variance_and_penalties_are_their_neg_logs():
    fig = plt.figure()
    draw_priors(fig, scale=0.5, wlim=8.0)
    ax1, ax2 = fig.axes
    lap, gau = ax1.lines[0], ax1.lines[1]
    w = np.asarray(lap.get_xdata())
    dw = w[1] - w[0]
    for line in (lap, gau):
        p = np.asarray(line.get_ydata())
        assert abs(p.sum() * dw - 1) < 1e-3  # a density
        assert abs((w**2 * p).sum() * dw - 2 * 0.5**2) < 1e-3  # variance 2 b^2
    for dens, pen in zip(ax1.lines[:2], ax2.lines[:2], strict=True):
        p = np.asarray(dens.get_ydata())
        np.testing.assert_allclose(pen.get_ydata(), -np.log(p) + np.log(p.max()), atol=1e-9)
    plt.close(fig)

"""Tests of weightreg.figures.lk: what the shared Lk figures draw and the tables show."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from weightreg.figures.lk import (  # noqa: E402
    START_WEIGHTS,
    draw_penalty_dynamics,
    dynamics_explorer,
    plot_penalty_and_grad,
    step_table,
)
from weightreg.penalties import penalty_descent, prox_descent  # noqa: E402


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


def test_draw_penalty_dynamics_without_a_prox_shows_a_note():
    fig = plt.figure()
    draw_penalty_dynamics(fig, 1.5, 1.0, 0.1, method="proximal", steps=3)
    assert any("no closed-form prox for k = 1.5" in t.get_text() for t in fig.axes[1].texts)
    assert len(fig.axes[1].lines) == 1  # only the zero line
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

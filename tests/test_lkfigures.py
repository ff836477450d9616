"""Tests of weightreg.lkfigures: the numbers behind the shared Lk figures and tables."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from weightreg.lkfigures import (  # noqa: E402
    draw_penalty_dynamics,
    dynamics_explorer,
    plot_penalty_and_grad,
    prox_descent,
    step_table,
)
from weightreg.penalties import lhalf_threshold  # noqa: E402


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


def test_prox_descent_l1_reaches_exact_zero_in_ceil_steps_and_stays():
    w0 = torch.tensor([1.03, -0.37, 0.05, 0.0], dtype=torch.float64)  # not multiples of t
    traj = prox_descent(w0, 1, alpha=0.5, lr=0.2, steps=20)
    for j, w in enumerate(w0.tolist()):
        s_star = math.ceil(abs(w) / 0.1 - 1e-12)
        assert (traj[s_star:, j] == 0).all()
        if s_star > 0:
            assert traj[s_star - 1, j] != 0


def test_prox_descent_l2_is_division_by_one_plus_two_lr_alpha():
    w0 = torch.tensor([1.5, -0.2], dtype=torch.float64)
    traj = prox_descent(w0, 2, alpha=0.5, lr=0.3, steps=10)
    s = torch.arange(11, dtype=torch.float64)[:, None]
    torch.testing.assert_close(traj, w0 / (1 + 2 * 0.3 * 0.5) ** s)


def test_prox_descent_lhalf_zeroes_weights_below_the_threshold_in_one_step():
    t = 0.2 * 1.0
    thr = lhalf_threshold(t)
    w0 = torch.tensor([0.99 * thr, -0.5 * thr, 3.0], dtype=torch.float64)
    traj = prox_descent(w0, 0.5, alpha=1.0, lr=0.2, steps=3)
    assert (traj[1, :2] == 0).all() and traj[1, 2] != 0


def test_prox_descent_rejects_k_without_a_prox():
    with pytest.raises(ValueError, match="k must be 0.5, 1 or 2"):
        prox_descent(torch.ones(2), 1.5, 1.0, 0.1, 3)
    with pytest.raises(ValueError, match="lr must be > 0"):
        prox_descent(torch.ones(2), 1, 1.0, -0.1, 3)


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


def test_dynamics_explorer_renders_one_frame_per_combination(monkeypatch):
    monkeypatch.setenv("WEIGHTREG_STATIC_WIDGETS", "1")
    ex = dynamics_explorer(
        ks=(1.0, 2.0), alphas=(1.0,), lrs=(0.1,), methods=("gradient", "proximal")
    )
    assert len(ex.frames) == 4
    assert "method" in ex._repr_html_()

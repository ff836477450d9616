"""The weight-decay chapters' figures draw what the sweep measured, where it belongs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from weightreg.figures.decay import (
    DIVERGED_GREY,
    _edges,
    error_colorbar,
    sweep_heatmap,
    trajectory_panel,
)
from weightreg.optim_sweep import SweepResult


def _result() -> SweepResult:
    lrs, wds = np.logspace(-3, 0, 4), np.logspace(-4, -1, 5)
    L, W = np.meshgrid(np.log10(lrs), np.log10(wds), indexing="ij")
    err = 0.1 + 0.02 * (W + 2.5) ** 2 + 0.01 * (L + 1.5) ** 2
    err[-1, -1] = np.nan  # one diverged cell
    err = err[..., None]
    return SweepResult(lrs, wds, (0,), err, err, np.isnan(err), [], 0.0)


def test_edges_are_geometric_midpoints():
    e = _edges(np.array([1e-3, 1e-2, 1e-1]))
    np.testing.assert_allclose(np.log10(e), [-3.5, -2.5, -1.5, -0.5])


@pytest.mark.parametrize("per_step", [False, True])
def test_heatmap_cells_values_and_best_marker(per_step):
    res = _result()
    fig, ax = plt.subplots()
    mesh = sweep_heatmap(ax, res, per_step=per_step)
    values = mesh.get_array()
    assert values.shape == (4, 5)
    assert values.mask[-1, -1] and not values.mask[:-1].any()  # the diverged cell is masked
    np.testing.assert_allclose(values[:-1].data, res.mean_error()[:-1])
    coords = mesh.get_coordinates()  # (n_lr + 1, n_wd + 1, 2) cell corners
    lr_e, wd_e = _edges(res.lrs), _edges(res.weight_decays)
    np.testing.assert_allclose(coords[:, 0, 0], lr_e)
    expected_y = wd_e[None, :] * (lr_e[:, None] if per_step else 1.0)
    np.testing.assert_allclose(coords[..., 1], np.broadcast_to(expected_y, coords[..., 1].shape))
    assert not ax.xaxis.get_minorticklocs().size and not ax.yaxis.get_minorticklocs().size
    lr_b, wd_b, _ = res.best()
    star = ax.lines[0]
    assert star.get_marker() == "*"
    assert star.get_xdata()[0] == lr_b
    assert star.get_ydata()[0] == pytest.approx(wd_b * (lr_b if per_step else 1.0))
    # the dashed ridge line has slope ridge_slope (+1 when y is lr * weight decay)
    ridge = ax.lines[2]
    x, y = np.log10(ridge.get_xdata()), np.log10(ridge.get_ydata())
    slope = (y[1] - y[0]) / (x[1] - x[0])
    assert slope == pytest.approx(res.ridge_slope() + (1.0 if per_step else 0.0))
    plt.close(fig)


def test_trajectory_panel_draws_paths_ends_and_targets():
    fig, ax = plt.subplots()
    paths = {
        "a": torch.tensor([[0.0, 0.0], [0.5, 0.2], [1.0, 0.4]], dtype=torch.float64),
        "b": np.zeros((3, 2)),
    }
    trajectory_panel(ax, paths, targets={"goal": [1.0, 0.5]})
    lines = ax.lines
    assert len(lines) == 2 * len(paths) + 1  # a path and an end marker each, plus the target
    np.testing.assert_allclose(lines[0].get_xydata(), paths["a"].numpy())
    assert tuple(lines[1].get_xydata()[0]) == (1.0, 0.4)
    assert lines[-1].get_marker() == "x" and tuple(lines[-1].get_xydata()[0]) == (1.0, 0.5)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    plt.close(fig)


def test_vmin_zero_is_used():
    """D7: `vmin or best` used to ignore vmin=0.0."""
    fig, ax = plt.subplots()
    mesh = sweep_heatmap(ax, _result(), vmin=0.0, vmax=0.5)
    assert mesh.norm.vmin == 0.0 and mesh.norm.vmax == 0.5
    mesh = sweep_heatmap(ax, _result())
    assert mesh.norm.vmin == pytest.approx(float(np.nanmin(_result().mean_error())))
    plt.close(fig)


@pytest.mark.parametrize("n_wd", [1, 2])
def test_grids_with_fewer_than_three_decays(n_wd):
    """D7: grids with 1 or 2 decays used to fail (best_decays needs 3): no dots, no line."""
    res = _result()
    small = dataclasses.replace(
        res,
        weight_decays=res.weight_decays[:n_wd],
        test_error=res.test_error[:, :n_wd],
        train_loss=res.train_loss[:, :n_wd],
        diverged=res.diverged[:, :n_wd],
    )
    fig, ax = plt.subplots()
    mesh = sweep_heatmap(ax, small, per_step=True)
    assert mesh.get_array().shape == (4, n_wd)
    assert len(ax.lines) == 1 and ax.lines[0].get_marker() == "*"
    plt.close(fig)


class _Fixed(SweepResult):
    """A result whose ridge fit is given: the figure must draw it, not refit."""

    def ridge_fit(self, within=0.25):
        return 0.3, -2.0


@pytest.mark.parametrize("per_step", [False, True])
def test_the_ridge_line_is_the_results_fit_not_a_refit(per_step):
    res = _result()
    fixed = _Fixed(**{f.name: getattr(res, f.name) for f in dataclasses.fields(res)})
    fig, ax = plt.subplots()
    sweep_heatmap(ax, fixed, per_step=per_step)
    ridge = ax.lines[2]
    x, y = np.log10(ridge.get_xdata()), np.log10(ridge.get_ydata())
    expected = 0.3 + (1.0 if per_step else 0.0)  # the docstring's "plus 1 with per_step"
    assert (y[1] - y[0]) / (x[1] - x[0]) == pytest.approx(expected)
    assert y[0] == pytest.approx(-2.0 + expected * x[0])
    plt.close(fig)


def test_docstring_states_the_per_step_slope():
    """D7: the docstring called the line's slope ridge_slope also with per_step=True."""
    doc = sweep_heatmap.__doc__
    assert "plus 1 with ``per_step=True``" in doc


def test_edges_of_a_single_value_and_zero():
    np.testing.assert_allclose(np.log10(_edges(np.array([1e-2]))), [-2.5, -1.5])
    with pytest.raises(ValueError, match="log axis needs values > 0"):
        _edges(np.array([0.0, 1e-3, 1e-2]))


def test_labels_are_typeset():
    """Issue 11: axis labels in mathtext, eta for the learning rate, lambda for the decay."""
    fig, (a, b) = plt.subplots(1, 2)
    sweep_heatmap(a, _result())
    sweep_heatmap(b, _result(), per_step=True, ylabel=r"$\lambda'$")
    assert a.get_xlabel() == r"learning rate $\eta$"
    assert a.get_ylabel() == r"weight decay $\lambda$"
    assert b.get_ylabel() == r"$\eta\,\times$ $\lambda'$"
    plt.close(fig)


def test_diverged_cells_are_drawn_grey():
    fig, ax = plt.subplots()
    mesh = sweep_heatmap(ax, _result())
    bad = mesh.get_cmap().get_bad()
    np.testing.assert_allclose(bad[:3], [float(DIVERGED_GREY)] * 3)
    plt.close(fig)


@pytest.mark.parametrize("many", [False, True])
def test_error_colorbar_says_which_end_is_better(many):
    """Issue 11: the colour bar names the good end; low errors (yellow in viridis_r) on top."""
    fig, axes = plt.subplots(1, 2)
    mesh = sweep_heatmap(axes[0], _result())
    cbar = error_colorbar(mesh, axes if many else axes[0], label="test error")
    assert cbar.ax.get_ylabel() == "test error (%), lower is better"
    low, high = cbar.ax.get_ylim()
    assert low > high  # inverted: the smallest error is at the top
    texts = [t.get_text() for t in cbar.ax.texts]
    assert "better" in texts and any("diverged" in t for t in texts)
    arrow = next(t for t in cbar.ax.texts if t.get_text() == "better")
    assert arrow.xy[1] == 1.0  # the arrow points at the top of the bar, the low errors
    # ticks read as percentages of the fractions the sweep returns
    assert cbar.ax.yaxis.get_major_formatter()(0.1, 0) == "10%"
    plt.close(fig)


def test_error_colorbar_refuses_bad_input():
    fig, ax = plt.subplots()
    mesh = sweep_heatmap(ax, _result())
    with pytest.raises(TypeError, match="mesh"):
        error_colorbar("mesh", ax)
    with pytest.raises(TypeError, match="ax must"):
        error_colorbar(mesh, [])
    with pytest.raises(TypeError, match="ax must"):
        error_colorbar(mesh, [ax, "x"])
    with pytest.raises(TypeError, match="label"):
        error_colorbar(mesh, ax, label=3)
    plt.close(fig)

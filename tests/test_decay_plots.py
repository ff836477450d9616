"""The weight-decay chapters' figures draw what the sweep measured, where it belongs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from weightreg.decay_plots import _edges, sweep_heatmap, trajectory_panel
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
    paths = {"a": torch.tensor([[0.0, 0.0], [0.5, 0.2], [1.0, 0.4]]), "b": np.zeros((3, 2))}
    trajectory_panel(ax, paths, targets={"goal": [1.0, 0.5]})
    lines = ax.lines
    assert len(lines) == 2 * len(paths) + 1  # a path and an end marker each, plus the target
    np.testing.assert_allclose(lines[0].get_xydata(), paths["a"].numpy())
    assert tuple(lines[1].get_xydata()[0]) == (1.0, 0.4)
    assert lines[-1].get_marker() == "x" and tuple(lines[-1].get_xydata()[0]) == (1.0, 0.5)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    plt.close(fig)

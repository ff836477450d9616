"""Figures of the weight-decay chapters: sweep heatmaps and optimizer trajectories.

Introduced in *L2 regularization is weight decay under SGD* (``book/decay/sgd.md``) and
used in *Why L2 fails under Adam, and what AdamW does* (``book/decay/adamw.md``).  Drawing
only: every number comes from :mod:`weightreg.optim_sweep` (the heatmap calls the
:class:`~weightreg.optim_sweep.SweepResult`'s own methods, it refits nothing) and
:mod:`weightreg.optim`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import QuadMesh

from ..optim_sweep import SweepResult

__all__ = ["sweep_heatmap", "trajectory_panel"]


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges of a log-spaced axis: geometric midpoints, extended at both ends.

    A single value gets the cell of half a decade on each side.
    """
    values = np.asarray(values, dtype=float)
    if np.any(values <= 0):
        raise ValueError(f"a log axis needs values > 0, got {values.tolist()}")
    logs = np.log10(values)
    if len(logs) == 1:
        return 10 ** np.array([logs[0] - 0.5, logs[0] + 0.5])
    step = np.diff(logs)
    mids = logs[:-1] + step / 2
    return 10 ** np.concatenate([[logs[0] - step[0] / 2], mids, [logs[-1] + step[-1] / 2]])


def sweep_heatmap(
    ax: Axes,
    result: SweepResult,
    *,
    title: str | None = None,
    ylabel: str = "weight decay",
    per_step: bool = False,
    vmin: float | None = None,
    vmax: float | None = None,
    within: float = 0.25,
) -> QuadMesh:
    """Mean test error over the (learning rate, weight decay) grid of ``result``.

    x is the learning rate, y the weight decay (both log scale, every value ``> 0``); with
    ``per_step=True`` y is ``lr * weight_decay`` instead, so every cell becomes a
    parallelogram.  The colour scale runs from ``vmin`` (default: the best error) to
    ``vmax`` (default: ``min(1, 2.5 * best)``); the axes have major ticks only.  Diverged
    cells are grey; the best cell gets a star.  With at least 3 weight decays the best
    decay of each good learning rate
    (:meth:`~weightreg.optim_sweep.SweepResult.best_decays` with ``within``) gets a white
    dot, and a dashed line draws the fit of
    :meth:`~weightreg.optim_sweep.SweepResult.ridge_fit`: its slope on the plot is
    ``result.ridge_slope(within)``, plus 1 with ``per_step=True`` (``log(lr * decay) =
    log(lr) + log(decay)``).  Returns the mesh (for a colour bar).
    """
    err = np.ma.masked_invalid(result.mean_error())
    X, Y = np.meshgrid(_edges(result.lrs), _edges(result.weight_decays), indexing="ij")
    if per_step:
        Y = Y * X
    cmap = plt.get_cmap("viridis_r").with_extremes(bad="0.75")
    best = float(err.min())
    mesh = ax.pcolormesh(
        X,
        Y,
        err,
        cmap=cmap,
        vmin=best if vmin is None else vmin,
        vmax=min(1.0, 2.5 * best) if vmax is None else vmax,
        shading="flat",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.minorticks_off()  # the grid is discrete; log minor ticks tripled the drawing time
    lr_b, wd_b, _ = result.best()
    ax.plot([lr_b], [wd_b * (lr_b if per_step else 1)], "*", color="white", ms=12, mec="k")
    if len(result.weight_decays) >= 3:
        lrs, decays = result.best_decays(within)
        ax.plot(lrs, decays * (lrs if per_step else 1), "o", color="white", mec="k", ms=5)
        slope, intercept = result.ridge_fit(within)
        if np.isfinite(slope):
            slope += 1.0 if per_step else 0.0
            xs = np.array([lrs.min(), lrs.max()])
            ax.plot(xs, 10 ** (intercept + slope * np.log10(xs)), "--", color="white", lw=1.5)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("lr x " + ylabel if per_step else ylabel)
    ax.grid(False)
    if title:
        ax.set_title(title)
    return mesh


def trajectory_panel(
    ax: Axes,
    paths: dict[str, torch.Tensor | np.ndarray],
    *,
    targets: dict[str, Sequence[float]] | None = None,
    contour: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
) -> None:
    """Two-dimensional optimizer paths (arrays of shape ``(steps, 2)``), with markers.

    ``targets`` maps a label to a point drawn as a cross (for example a closed-form
    limit); ``contour`` is ``(W1, W2, Z)`` drawn as light level sets behind the paths.
    The axis labels default to :math:`w_1` and :math:`w_2`.
    """
    xlabel = r"$w_1$" if xlabel is None else xlabel
    ylabel = r"$w_2$" if ylabel is None else ylabel
    if contour is not None:
        ax.contour(*contour, levels=12, colors="0.8", linewidths=0.8)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (name, path), color in zip(paths.items(), colors, strict=False):
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], "-", color=color, lw=1.4, label=name)
        ax.plot(path[-1, 0], path[-1, 1], "o", color=color, ms=5)
    for name, point in (targets or {}).items():
        ax.plot([point[0]], [point[1]], "x", color="k", ms=9, mew=2)
        ax.annotate(name, point, textcoords="offset points", xytext=(6, 6), fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize=8)

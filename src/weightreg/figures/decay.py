r"""Figures of the weight-decay chapters: sweep heatmaps and optimizer trajectories.

Introduced in *L2 regularization is weight decay under SGD* (``book/decay/sgd.md``) and
used in *Why L2 fails under Adam, and what AdamW does* (``book/decay/adamw.md``) and *The
paper's Figure 2, replicated* (``book/decay/adamw_figure2.md``).  Drawing only: every number
comes from :mod:`weightreg.optim_sweep` (the heatmap calls the
:class:`~weightreg.optim_sweep.SweepResult`'s own methods, it refits nothing) and
:mod:`weightreg.optim`.

Notation (the book's glossary): :math:`\eta` the learning rate, :math:`\lambda` the
weight-decay coefficient in PyTorch's convention (L2 penalty :math:`\frac{\lambda}{2}\lVert
\mathbf{w}\rVert^2`, or the decoupled shrink factor :math:`1 - \eta\lambda` per step), so that
:math:`\eta\lambda` is the decay per step, which is also Loshchilov and Hutter's
:math:`\lambda_{\mathrm{LH}}`.  Axis labels are typeset with mathtext.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import QuadMesh
from matplotlib.colorbar import Colorbar
from matplotlib.ticker import PercentFormatter

from ..optim_sweep import SweepResult
from ..plotting import _check_str
from ..validation import check_bool, check_nonnegative, check_real

__all__ = ["error_colorbar", "sweep_heatmap", "trajectory_panel"]

DIVERGED_GREY = "0.75"
"""The colour of a diverged cell (its result is NaN) in :func:`sweep_heatmap`."""


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


def _check_axes(ax: object) -> Axes:
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    return ax


def _point(name: str, value: object) -> np.ndarray:
    """A finite real 2-d point: a pair of numbers."""
    if isinstance(value, str | bytes) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a point (x, y), got {value!r}")
    return np.array([check_real(f"{name}[{i}]", _py(v)) for i, v in enumerate(value)])


def _py(value: object) -> object:
    """A NumPy or 0-d torch float as a Python float (other values unchanged)."""
    if isinstance(value, np.floating | np.integer) or (
        isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point()
    ):
        return float(value)
    return value


def _check_path(name: str, value: object) -> np.ndarray:
    """A finite real array of shape ``(steps, 2)``, steps >= 1."""
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            raise TypeError(f"{name} must be a real floating tensor, got {value.dtype}")
        value = value.detach().cpu().numpy()
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a real tensor or array of shape (steps, 2), got {value!r}")
    if value.ndim != 2 or value.shape[1] != 2 or value.shape[0] == 0:
        raise ValueError(f"{name} must have shape (steps, 2), steps >= 1, got {value.shape}")
    if not np.isfinite(value).all():
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return value


def _check_contour(contour: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(contour, tuple | list) or len(contour) != 3:
        raise TypeError(f"contour must be a tuple (W1, W2, Z) of arrays, got {contour!r}")
    arrays = []
    for part, value in zip(("W1", "W2", "Z"), contour, strict=True):
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        value = np.asarray(value) if isinstance(value, np.ndarray | list) else value
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
            raise TypeError(f"contour's {part} must be a real array, got {type(value).__name__}")
        arrays.append(value)
    if not arrays[0].shape == arrays[1].shape == arrays[2].shape or arrays[0].ndim != 2:
        raise ValueError(
            "contour's W1, W2 and Z must be 2-d arrays of one shape, got shapes "
            f"{[a.shape for a in arrays]}"
        )
    if not (np.isfinite(arrays[0]).all() and np.isfinite(arrays[1]).all()):
        raise ValueError("contour's W1 and W2 must contain only finite values")
    return arrays[0], arrays[1], arrays[2]


def sweep_heatmap(
    ax: Axes,
    result: SweepResult,
    *,
    title: str | None = None,
    ylabel: str | None = None,
    per_step: bool = False,
    vmin: float | None = None,
    vmax: float | None = None,
    within: float = 0.25,
) -> QuadMesh:
    r"""Mean test error over the (learning rate, weight decay) grid of ``result``.

    x is the learning rate :math:`\eta`, y the weight decay (both log scale, every value
    ``> 0``); with ``per_step=True`` y is ``lr * weight_decay`` (:math:`\eta\lambda`, the decay
    per step, which is Loshchilov and Hutter's :math:`\lambda_{\mathrm{LH}}` for decoupled
    decay) instead, so every cell becomes a parallelogram and the label gets the prefix
    :math:`\eta\times`; ``ylabel=None`` labels it "weight decay" with the typeset
    :math:`\lambda`.  The colour scale (``viridis_r``: yellow is a low error, dark a high
    one) runs from ``vmin`` (default: the best error) to ``vmax`` (default: ``min(1, 2.5 *
    best)``); the axes have major ticks only.  Diverged cells (NaN) are grey
    (``DIVERGED_GREY``); the best cell gets a star.  Draw the colour bar with
    :func:`error_colorbar`: it says which end is better and what grey means.  With at least
    3 weight decays the best decay of each good learning rate
    (:meth:`~weightreg.optim_sweep.SweepResult.best_decays` with ``within``) gets a white
    dot, and a dashed line draws the fit of
    :meth:`~weightreg.optim_sweep.SweepResult.ridge_fit`: its slope on the plot is
    ``result.ridge_slope(within)``, plus 1 with ``per_step=True`` (``log(lr * decay) =
    log(lr) + log(decay)``).  Returns the mesh (for a colour bar).

    Raises ``TypeError``/``ValueError`` for an ``ax`` that is not an Axes, a ``result`` that
    is not a :class:`~weightreg.optim_sweep.SweepResult`, non-str labels, a non-bool
    ``per_step``, a non-finite ``vmin``/``vmax`` or ``within < 0``.
    """
    _check_axes(ax)
    if not isinstance(result, SweepResult):
        raise TypeError(f"result must be a SweepResult (from sweep()), got {type(result).__name__}")
    _check_str("title", title, optional=True)
    _check_str("ylabel", ylabel, optional=True)
    if ylabel is None:
        ylabel = r"weight decay $\lambda$"
    check_bool("per_step", per_step)
    vmin = None if vmin is None else check_real("vmin", vmin)
    vmax = None if vmax is None else check_real("vmax", vmax)
    within = check_nonnegative("within", within)
    err = np.ma.masked_invalid(result.mean_error())
    X, Y = np.meshgrid(_edges(result.lrs), _edges(result.weight_decays), indexing="ij")
    if per_step:
        Y = Y * X
    cmap = plt.get_cmap("viridis_r").with_extremes(bad=DIVERGED_GREY)
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
    ax.set_xlabel(r"learning rate $\eta$")
    ax.set_ylabel(r"$\eta\,\times$ " + ylabel if per_step else ylabel)
    ax.grid(False)
    if title:
        ax.set_title(title)
    return mesh


def error_colorbar(mesh: ScalarMappable, ax: object, *, label: str = "mean test error") -> Colorbar:
    """A colour bar for :func:`sweep_heatmap` that says which end is better.

    Drawn next to ``ax`` (an Axes, or a sequence or array of Axes that share it), with the
    label ``label + " (%), lower is better"``, ticks in percent (the sweep's errors are
    fractions), an arrow and the word "better" at the low end (at the top: the colour map is
    ``viridis_r``, so yellow is better), and a grey swatch below the bar labelled
    "diverged" (the colour of NaN cells).  Returns the colour bar.

    Raises ``TypeError`` for a ``mesh`` that is not a matplotlib mappable, an ``ax`` that is
    not an Axes or a non-empty sequence of Axes, or a non-str ``label``.
    """
    if not isinstance(mesh, ScalarMappable):
        raise TypeError(
            f"mesh must be the mappable sweep_heatmap returned, got {type(mesh).__name__}"
        )
    axes = np.asarray(ax, dtype=object).ravel().tolist() if not isinstance(ax, Axes) else [ax]
    if not axes or not all(isinstance(a, Axes) for a in axes):
        raise TypeError(f"ax must be a matplotlib Axes or a non-empty sequence of Axes, got {ax!r}")
    _check_str("label", label)
    fig = axes[0].figure
    cbar = fig.colorbar(mesh, ax=axes if len(axes) > 1 else axes[0])
    cbar.set_label(label + " (%), lower is better")
    cbar.ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    cbar.ax.invert_yaxis()  # low error (better) at the top
    cbar.ax.annotate(
        "better",
        xy=(0.5, 1.0),
        xytext=(0.5, 1.07),
        xycoords="axes fraction",
        ha="center",
        va="bottom",
        fontsize=8,
        arrowprops={"arrowstyle": "->", "lw": 1.2},
        annotation_clip=False,
    )
    cbar.ax.text(
        0.5,
        -0.04,
        "grey:\ndiverged",
        transform=cbar.ax.transAxes,
        ha="center",
        va="top",
        fontsize=7,
        bbox={"facecolor": DIVERGED_GREY, "edgecolor": "k", "lw": 0.5, "pad": 1.5},
    )
    return cbar


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
    The axis labels default to :math:`w_1` and :math:`w_2`.  Raises ``TypeError``/``ValueError``
    for an ``ax`` that is not an Axes, an empty ``paths``, a path that is not a finite real
    ``(steps, 2)`` array, a target that is not a finite point, a ``contour`` that is not three
    2-d arrays of one shape, and labels that are not str.
    """
    _check_axes(ax)
    if not isinstance(paths, dict):
        raise TypeError(f"paths must be a dict of label -> (steps, 2) array, got {paths!r}")
    if not paths:
        raise ValueError("paths must not be empty (nothing to draw)")
    checked = {}
    for name, path in paths.items():
        checked[_check_str("a key of paths", name)] = _check_path(f"paths[{name!r}]", path)
    points = {}
    if targets is not None:
        if not isinstance(targets, dict):
            raise TypeError(f"targets must be a dict of label -> (x, y) or None, got {targets!r}")
        for name, point in targets.items():
            points[_check_str("a key of targets", name)] = _point(f"targets[{name!r}]", point)
    if contour is not None:
        contour = _check_contour(contour)
    _check_str("xlabel", xlabel, optional=True)
    _check_str("ylabel", ylabel, optional=True)
    _check_str("title", title, optional=True)
    xlabel = r"$w_1$" if xlabel is None else xlabel
    ylabel = r"$w_2$" if ylabel is None else ylabel
    if contour is not None:
        ax.contour(*contour, levels=12, colors="0.8", linewidths=0.8)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (name, path), color in zip(checked.items(), colors, strict=False):
        ax.plot(path[:, 0], path[:, 1], "-", color=color, lw=1.4, label=name)
        ax.plot(path[-1, 0], path[-1, 1], "o", color=color, ms=5)
    for name, point in points.items():
        ax.plot([point[0]], [point[1]], "x", color="k", ms=9, mew=2)
        ax.annotate(name, tuple(point), textcoords="offset points", xytext=(6, 6), fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize=8)

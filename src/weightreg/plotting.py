"""One figure style for the whole book, and the plots several chapters share.

Introduced in the chapter *Overfitting in high dimensions* (``book/overfitting.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

__all__ = ["COLORS", "use_book_style", "plot_curves", "weight_histogram"]

COLORS = ["#1f6fb4", "#d6542a", "#2a9d5c", "#8e44ad", "#c49a00", "#555555", "#e377c2"]
"""The book's colour cycle (colour-blind-safe enough, readable in light and dark mode)."""


def use_book_style() -> None:
    """Apply the book's matplotlib style: white figures, light grid, readable sizes."""
    mpl.rcParams.update(
        {
            "figure.figsize": (7.0, 3.4),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.prop_cycle": mpl.cycler(color=COLORS),
            "font.size": 10,
            "axes.titlesize": 11,
            "legend.frameon": False,
            "lines.linewidth": 1.8,
            "svg.hashsalt": "weightreg",
        }
    )


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    *,
    ax: Axes | None = None,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    logy: bool = True,
    title: str | None = None,
) -> Axes:
    """Plot named curves (e.g. ``{"train": [...], "test": [...]}``) against 1, 2, ...

    ``logy=True`` uses a log scale on y, the natural scale for losses.
    """
    if ax is None:
        _, ax = plt.subplots()
    for name, values in curves.items():
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


def weight_histogram(
    weights: Mapping[str, torch.Tensor | np.ndarray],
    *,
    ax: Axes | None = None,
    bins: int = 40,
    title: str | None = None,
) -> Axes:
    """Overlaid histograms of several weight vectors (one per label) on shared bins."""
    if ax is None:
        _, ax = plt.subplots()
    arrays = {
        k: np.asarray(torch.as_tensor(v).detach().flatten(), dtype=float)
        for k, v in weights.items()
    }
    lo = min(a.min() for a in arrays.values())
    hi = max(a.max() for a in arrays.values())
    edges = np.linspace(lo, hi, bins + 1) if hi > lo else bins
    for name, a in arrays.items():
        ax.hist(a, bins=edges, alpha=0.55, label=name)
    ax.set_xlabel("weight value")
    ax.set_ylabel("count")
    if title:
        ax.set_title(title)
    ax.legend()
    return ax

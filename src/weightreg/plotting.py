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

from .validation import check_bool, check_positive_int

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


def _check_ax(ax: object) -> Axes | None:
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _check_str(name: str, value: object, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        accepted = "a str or None" if optional else "a str"
        raise TypeError(f"{name} must be {accepted}, got {type(value).__name__} {value!r}")
    return value


def _check_mapping(name: str, value: object) -> Mapping:
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{name} must be a dict of label -> values, e.g. {{'train': [...]}}, got "
            f"{type(value).__name__}"
        )
    if not value:
        raise ValueError(f"{name} must not be empty (nothing to plot)")
    return value


def _as_real_1d(name: str, values: object, *, allow_nan: bool) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        if values.is_complex() or values.dtype == torch.bool:
            raise TypeError(f"{name} must hold real numbers, got a tensor of dtype {values.dtype}")
        values = values.detach().cpu().numpy()
    if values is None or isinstance(values, str | bytes):
        raise TypeError(f"{name} must be a sequence of real numbers, got {type(values).__name__}")
    try:
        a = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a sequence of real numbers ({exc})") from None
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got {a.dtype} values")
    a = a.astype(float)
    if a.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.isfinite(a[~np.isnan(a)] if allow_nan else a).all():
        allowed = "finite or NaN (a gap, e.g. after divergence)" if allow_nan else "finite"
        raise ValueError(f"{name} must hold {allowed} values, got {a[~np.isfinite(a)][:3]}")
    return a


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

    Each curve is a non-empty 1-D sequence of real numbers; NaN is drawn as a gap (a diverged
    run is reported as NaN, see :mod:`weightreg.divergence`), inf is refused.  ``logy=True``
    uses a log scale on y, the natural scale for losses, and then needs positive values.
    Introduced in *Overfitting in high dimensions*.
    """
    curves = _check_mapping("curves", curves)
    arrays = {}
    for name, values in curves.items():
        a = _as_real_1d(f"curves[{name!r}]", values, allow_nan=True)
        if a.ndim != 1:
            raise ValueError(f"curves[{name!r}] must be 1-D (one value per epoch), got {a.shape}")
        arrays[str(name)] = a
    ax = _check_ax(ax)
    xlabel = _check_str("xlabel", xlabel)
    ylabel = _check_str("ylabel", ylabel)
    logy = check_bool("logy", logy)
    title = _check_str("title", title, optional=True)
    if logy:
        for name, a in arrays.items():
            if (a[~np.isnan(a)] <= 0).any():
                raise ValueError(
                    f"curves[{name!r}] has values <= 0, which a log scale cannot show: "
                    "pass logy=False"
                )
    if ax is None:
        _, ax = plt.subplots()
    for name, values in arrays.items():
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
    """Overlaid histograms of several weight vectors (one per label) on shared bins.

    Each value is a non-empty tensor or array of finite real weights (any shape, flattened);
    ``bins >= 1`` equal bins span the joint range.  Introduced in *Overfitting in high
    dimensions*.
    """
    weights = _check_mapping("weights", weights)
    arrays = {
        str(k): _as_real_1d(f"weights[{k!r}]", v, allow_nan=False).reshape(-1)
        for k, v in weights.items()
    }
    ax = _check_ax(ax)
    bins = check_positive_int("bins", bins)
    title = _check_str("title", title, optional=True)
    if ax is None:
        _, ax = plt.subplots()
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

"""Figures, tables and the explorer that every Lk-penalty chapter shares (drawing only).

Introduced in the chapter *L2: shrinking every weight* (``book/lk/l2.md``) and used by
*L1: exact zeros* (``book/lk/l1.md``) and the other Lk chapters, so that each chapter
shows its penalty the same way and no plotting code is copied between chapters.

Conventions
-----------
Everything here is about **one** weight and its per-weight penalty ``alpha * |w|**k``
(see :func:`weightreg.penalties.lk_grad_per_weight`, :func:`weightreg.penalties.penalty_descent`
and :func:`weightreg.penalties.prox_descent`, the math these figures draw).  In a model with
``n`` weights and the book's mean penalty ``alpha * mean(|w|**k)``, each weight feels
``alpha / n``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..penalties import PROX_KS, _penalty_descent, lk_grad_per_weight, prox_descent
from ..validation import (
    check_finite_tensor,
    check_int,
    check_nonnegative,
    check_positive,
    check_positive_int,
)
from ..widgets import explorer

__all__ = [
    "plot_penalty_and_grad",
    "step_table",
    "penalty_trajectories",
    "draw_penalty_dynamics",
    "dynamics_explorer",
    "START_WEIGHTS",
]

START_WEIGHTS = (-1.6, -0.45, 0.3, 1.1)
"""Starting weights of the pure-penalty dynamics figures (two large, two small, both signs)."""


def _numbers(name: str, values: object, *, minimum: str | None = None) -> list[float]:
    """A non-empty sequence of finite real numbers (``minimum``: ``"> 0"`` or ``">= 0"``)."""
    if isinstance(values, str | bytes | dict) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(values).__name__}")
    out = []
    for v in values:
        if isinstance(v, torch.Tensor) and v.numel() == 1 and v.is_floating_point():
            v = float(v)
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{name} must hold real numbers, got {v!r:.40}")
        v = float(v)
        if not math.isfinite(v):
            raise ValueError(f"{name} must hold finite numbers, got {v}")
        if (minimum == "> 0" and v <= 0) or (minimum == ">= 0" and v < 0):
            raise ValueError(f"{name} must all be {minimum}, got {v:g}")
        out.append(v)
    if not out:
        raise ValueError(f"{name} must not be empty")
    return out


def plot_penalty_and_grad(
    k: float,
    *,
    alpha: float = 1.0,
    xlim: float = 2.0,
    ax: Axes | None = None,
    num: int = 801,
) -> Axes:
    r"""Plot the per-weight penalty ``alpha * |w|**k`` and its derivative on ``[-xlim, xlim]``.

    The derivative ``alpha * k * sign(w) * |w|**(k-1)`` is drawn with the value 0 at
    ``w = 0`` that :func:`weightreg.penalties.lk_grad` uses; for ``k < 1`` it is
    clipped to the axes (it is unbounded near 0).  Introduced in *L2*.
    """
    check_positive("k", k)
    check_nonnegative("alpha", alpha)
    check_positive("xlim", xlim)
    num = check_int("num", num, minimum=2)
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be None or a matplotlib Axes, got {type(ax).__name__}")
    try:
        top = float(alpha * xlim**k)
    except OverflowError:
        top = math.inf
    if not math.isfinite(top):
        raise ValueError(
            f"the penalty alpha * xlim**k overflows a float (xlim = {xlim:g}, k = {k:g}, "
            f"alpha = {alpha:g}): use a smaller xlim"
        )
    w = torch.linspace(-xlim, xlim, num, dtype=torch.float64)
    g = lk_grad_per_weight(w, k, alpha)
    if ax is None:
        _, ax = plt.subplots()
    if k <= 1:  # a jump at 0: break the line there and mark the value 0 used at w = 0
        g = torch.where(w.abs() < xlim / num, torch.nan, g)
    ax.plot(w, alpha * w.abs() ** k, label=f"penalty α|w|^{k:g}")
    (line,) = ax.plot(w, g, label="its derivative", ls="--")
    if k <= 1:
        ax.plot([0], [0], "o", color=line.get_color(), ms=4)
    ax.set_ylim(-1.15 * max(top, float(g[-1])), 1.15 * max(top, float(g[-1])))
    ax.axhline(0, color="k", lw=0.6)
    ax.axvline(0, color="k", lw=0.6)
    # plain-text labels (no mathtext): the explorer draws many frames, and parsing is slow
    ax.set(xlabel="w", title=f"k = {k:g}, α = {alpha:g}")
    ax.legend(loc="lower right", fontsize=8)
    return ax


def step_table(
    k: float, *, alpha: float, lr: float, sizes: Sequence[float] = (2.0, 1.0, 0.1, 0.01, 0.001)
) -> pd.DataFrame:
    r"""How far one gradient step on ``alpha * |w|**k`` moves a weight of each size.

    For each ``|w|`` in ``sizes`` (positive weights; the move is mirrored for negative
    ones) the columns are the move ``lr * alpha * k * |w|**(k-1)`` (computed with
    :func:`weightreg.penalties.lk_grad_per_weight`), the move relative to ``|w|``, and
    the weight after the step.  Introduced in *L2*.
    """
    check_nonnegative("alpha", alpha)
    check_positive("lr", lr)
    w = torch.tensor(_numbers("sizes", sizes, minimum="> 0"), dtype=torch.float64)
    move = lr * lk_grad_per_weight(w, k, alpha)
    return pd.DataFrame(
        {
            "|w|": w.numpy(),
            "move lr*|grad|": move.numpy(),
            "move / |w|": (move / w).numpy(),
            "w after one step": (w - move).numpy(),
        }
    )


def penalty_trajectories(
    w0: torch.Tensor, k: float, alpha: float, lr: float, steps: int
) -> torch.Tensor:
    """:func:`weightreg.penalties.penalty_descent` for a figure: same trajectories, shape
    ``(steps + 1, *w0.shape)``, but an entry that diverges is NaN from that step on without a
    warning or an error (even when all diverge): the figure shows the divergence, e.g. as a
    line that leaves the axes.  Introduced in *L3 and L10*.
    """
    check_finite_tensor("w0", w0)
    k = check_positive("k", k)
    alpha = check_nonnegative("alpha", alpha)
    lr = check_positive("lr", lr)
    steps = check_positive_int("steps", steps)
    return _penalty_descent(w0.detach(), k, alpha, lr, steps)


def draw_penalty_dynamics(
    fig: Figure,
    k: float,
    alpha: float,
    lr: float,
    method: str = "gradient",
    *,
    steps: int = 30,
    w0: Sequence[float] = START_WEIGHTS,
) -> None:
    """Draw the penalty with its derivative (left) and descent on it from ``w0`` (right).

    ``method="gradient"`` draws :func:`penalty_trajectories` (weights that diverge leave the
    axes: the figure shows divergence rather than reporting it);
    ``"proximal"`` draws :func:`weightreg.penalties.prox_descent` (``k`` in {0.5, 1, 2}; other
    ``k`` show a note instead).  The right panel's title gives ``lr * alpha``: the trajectories
    depend on ``lr`` and ``alpha`` only through that product.  The draw function of
    :func:`dynamics_explorer`.  Introduced in *L2*.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    check_positive("k", k)
    alpha = check_nonnegative("alpha", alpha)
    lr = check_positive("lr", lr)
    steps = check_positive_int("steps", steps)
    if method not in ("gradient", "proximal"):
        raise ValueError(f"method must be 'gradient' or 'proximal', got {method!r}")
    start = torch.tensor(_numbers("w0", w0), dtype=torch.float64)
    ax1, ax2 = fig.subplots(1, 2)
    plot_penalty_and_grad(k, alpha=alpha, ax=ax1, xlim=1.6)
    if method == "proximal" and float(k) not in PROX_KS:
        ax2.text(
            0.5, 0.5, f"no closed-form prox for k = {k:g}", ha="center", transform=ax2.transAxes
        )
        traj = None
    elif method == "proximal":
        traj = prox_descent(start, k, alpha, lr, steps)
    else:
        traj = penalty_trajectories(start, k, alpha, lr, steps)  # diverged entries: NaN
    if traj is not None:
        ax2.plot(range(steps + 1), traj.numpy(), marker=".", ms=3, lw=1)
        if bool(torch.isnan(traj).any()) or bool((traj.abs() > 2.5).any()):
            ax2.text(
                0.5, 0.92, "some weights diverge", ha="center", color="C1", transform=ax2.transAxes
            )
    ax2.axhline(0, color="k", lw=0.6)
    ax2.set(
        xlabel="step",
        ylabel="w",
        ylim=(-2.5, 2.5),
        title=f"{method} steps, lr·α = {lr * alpha:.3g}",
    )
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.16, top=0.88, wspace=0.25)


def dynamics_explorer(
    *,
    ks: Sequence[float] = (0.5, 1.0, 1.5, 2.0, 3.0, 10.0),
    alphas: Sequence[float] = (0.25, 1.0),
    lrs: Sequence[float] = (0.05, 0.2, 0.6),
    methods: Sequence[str] = ("gradient",),
    initial: dict | None = None,
    title: str | None = None,
):
    """The explorer of the Lk chapters: sliders for ``k``, ``alpha``, ``lr`` (and ``method``).

    Wraps :func:`weightreg.widgets.explorer` around :func:`draw_penalty_dynamics`; live
    in Jupyter, pre-rendered in the HTML book.  Keep the product of the numbers of
    values small (each combination is one pre-rendered frame).  Introduced in *L2*.
    """
    _numbers("ks", ks, minimum="> 0")
    _numbers("alphas", alphas, minimum=">= 0")
    _numbers("lrs", lrs, minimum="> 0")
    if isinstance(methods, str | bytes) or not isinstance(methods, Iterable):
        raise TypeError(f"methods must be a sequence of method names, got {methods!r:.60}")
    methods = list(methods)
    if not methods or any(m not in ("gradient", "proximal") for m in methods):
        raise ValueError(
            f"methods must be a non-empty sequence of 'gradient' and 'proximal', got {methods!r}"
        )
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be None or a str, got {type(title).__name__}")
    controls = {"k": list(ks), "alpha": list(alphas), "lr": list(lrs)}
    if len(methods) > 1 or methods[0] != "gradient":
        controls["method"] = methods
    return explorer(
        draw_penalty_dynamics,
        controls,
        initial=initial,
        title=title,
        figsize=(8.0, 3.0),
    )

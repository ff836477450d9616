"""Figures, tables and the explorer that every Lk-penalty chapter shares (drawing only).

Introduced in the chapter *L2: shrinking every weight* (``book/lk/l2.md``) and used by
*L1: exact zeros* (``book/lk/l1.md``) and the other Lk chapters, so that each chapter
shows its penalty the same way and no plotting code is copied between chapters.

Conventions
-----------
Everything here is about **one** weight and its per-weight penalty ``alpha * |w|**k``
(see :func:`weightreg.penalties.lk_grad_per_weight`, :func:`weightreg.penalties.penalty_descent`
and :func:`weightreg.penalties.prox_descent`, the math these figures draw).  In a model with
``d`` weights and the book's mean penalty ``alpha * mean(|w|**k)``, each weight feels
``alpha / d``, and a proximal step of learning rate ``lr`` (``eta``) thresholds at
``tau = eta * alpha / d``.  All labels are typeset with mathtext; a discontinuous map is drawn
with a break (NaN) at each jump, never with a vertical segment.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..constraint_geometry import Quadratic2D
from ..dynamics import flow_solution
from ..penalties import (
    PROX_KS,
    _check_prox_k,
    _penalty_descent,
    _prox_descent,
    lk_grad_per_weight,
    prox_descent,
    prox_l1,
    prox_lhalf,
)
from ..validation import (
    check_finite_tensor,
    check_int,
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_real,
)
from ..widgets import explorer

__all__ = [
    "plot_penalty_and_grad",
    "step_table",
    "penalty_trajectories",
    "draw_penalty_dynamics",
    "dynamics_explorer",
    "step_table_markdown",
    "draw_prox_maps",
    "draw_implicit_euler",
    "draw_ball_optima",
    "draw_priors",
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
    ax.plot(w, alpha * w.abs() ** k, label=rf"penalty $\alpha|w|^{{{k:g}}}$")
    (line,) = ax.plot(w, g, label="its derivative", ls="--")
    if k <= 1:
        ax.plot([0], [0], "o", color=line.get_color(), ms=4)
    ax.set_ylim(-1.15 * max(top, float(g[-1])), 1.15 * max(top, float(g[-1])))
    ax.axhline(0, color="k", lw=0.6)
    ax.axvline(0, color="k", lw=0.6)
    ax.set(xlabel=r"$w$", title=rf"$k = {k:g},\ \alpha = {alpha:g}$")
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
    r"""Draw the penalty with its derivative (left) and descent on it from ``w0`` (right).

    ``method="gradient"`` draws :func:`penalty_trajectories` (weights that diverge leave the
    axes: the figure shows divergence rather than reporting it); ``"proximal"`` draws
    :func:`weightreg.penalties.prox_descent` for ``k`` in {0.5, 1, 2}.  Every frame also draws
    the gradient flow :func:`weightreg.dynamics.flow_solution` at the times ``lr * t`` (thin
    dotted lines, one per start), the curve both kinds of step approximate.  For a ``k``
    without a closed-form prox, ``"proximal"`` draws that flow alone, with a note: the frame
    is never empty.  The right panel's title gives ``lr * alpha`` (:math:`\eta\alpha`): the
    trajectories depend on ``lr`` and ``alpha`` only through that product.  The draw
    function of :func:`dynamics_explorer`.  Introduced in *L2*.
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
    has_prox = float(k) in PROX_KS
    if method == "proximal" and has_prox:
        traj = prox_descent(start, k, alpha, lr, steps)
    elif method == "gradient":
        traj = penalty_trajectories(start, k, alpha, lr, steps)  # diverged entries: NaN
    else:
        traj = None
    colors = [f"C{j % 10}" for j in range(len(start))]
    if traj is not None:
        for j, col in enumerate(colors):
            ax2.plot(range(steps + 1), traj[:, j].numpy(), marker=".", ms=3, lw=1, color=col)
        if bool(torch.isnan(traj).any()) or bool((traj.abs() > 2.5).any()):
            ax2.text(
                0.5, 0.92, "some weights diverge", ha="center", color="C1", transform=ax2.transAxes
            )
    s_fine = torch.linspace(0, steps, 8 * steps + 1, dtype=torch.float64)
    try:
        flow = flow_solution(start, k, alpha, lr * s_fine)
    except ValueError:  # a huge k overflows the closed form: no flow line then
        flow = None
    if flow is not None:
        for j, col in enumerate(colors):
            ax2.plot(
                s_fine.numpy(),
                flow[:, j].numpy(),
                ls=":",
                lw=1.2 if traj is None else 0.8,
                color=col,
            )
    if traj is None:
        ax2.text(
            0.5,
            0.92,
            f"no closed-form prox for $k = {k:g}$: dotted, the gradient flow",
            ha="center",
            fontsize=8,
            transform=ax2.transAxes,
        )
    ax2.axhline(0, color="k", lw=0.6)
    ax2.set(
        xlabel=r"step $t$ (dotted: gradient flow)",
        ylabel=r"$w_t$",
        ylim=(-2.5, 2.5),
        title=rf"{method} steps, $\eta\alpha = {lr * alpha:.3g}$",
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


_STEP_TABLE_HEADERS = (
    r"$\lvert w\rvert$",
    r"move $\eta\,\lvert\partial\Omega/\partial w\rvert$",
    r"move $/\ \lvert w\rvert$",
    r"$w$ after one step",
)


def step_table_markdown(
    k: float, *, alpha: float, lr: float, sizes: Sequence[float] = (2.0, 1.0, 0.1, 0.01, 0.001)
):
    r""":func:`step_table`, formatted for reading: a Markdown table (``IPython.display.Markdown``).

    Same rows and columns as :func:`step_table` (the size :math:`|w|`, the move
    :math:`\eta\alpha k|w|^{k-1}` of one gradient step on :math:`\alpha|w|^k`, the move relative
    to :math:`|w|`, the weight after the step), with typeset headers and numbers to three
    significant digits; no index column.  Introduced in *L1*.
    """
    from IPython.display import Markdown

    table = step_table(k, alpha=alpha, lr=lr, sizes=sizes)
    lines = [
        "| " + " | ".join(_STEP_TABLE_HEADERS) + " |",
        "|" + "---:|" * len(_STEP_TABLE_HEADERS),
    ]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(f"{float(v):.3g}" for v in row) + " |")
    return Markdown("\n".join(lines))


def _nan_at_jumps(x: np.ndarray, y: np.ndarray, jump: float) -> tuple[np.ndarray, np.ndarray]:
    """Insert a NaN point between neighbours whose ``y`` differs by more than ``jump``: a plot
    of the result breaks at each discontinuity instead of drawing a vertical segment."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    cuts = np.nonzero(np.abs(np.diff(y)) > jump)[0] + 1
    return np.insert(x, cuts, np.nan), np.insert(y, cuts, np.nan)


def draw_prox_maps(fig: Figure, tau: float, *, zlim: float = 1.5) -> None:
    r"""Half thresholding and soft thresholding with threshold ``tau``, as maps :math:`z \mapsto x`.

    One panel: :func:`weightreg.penalties.prox_lhalf` (the prox of :math:`\tau\sqrt{|x|}`),
    :func:`weightreg.penalties.prox_l1` (the prox of :math:`\tau|x|`) and the identity on
    :math:`[-z_{\lim}, z_{\lim}]`.  Half thresholding jumps at :math:`|z| = \frac32\tau^{2/3}`
    from 0 to :math:`\tau^{2/3}`: the curve breaks there (no vertical segment), a filled dot
    marks the value taken at the jump (0, the tie-break) and an open dot the value approached
    from above.  Introduced in *L0.5*.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    tau = check_positive("tau", tau)
    zlim = check_positive("zlim", zlim)
    z = torch.linspace(-zlim, zlim, 3001, dtype=torch.float64)
    ax = fig.subplots()
    half, soft = prox_lhalf(z, tau), prox_l1(z, tau)
    cut, gap = 1.5 * tau ** (2 / 3), tau ** (2 / 3)
    (line,) = ax.plot(*_nan_at_jumps(z, half, 0.5 * gap), label=r"half thresholding (L0.5)")
    if cut < zlim:
        for sign in (-1.0, 1.0):
            ax.plot([sign * cut], [0.0], "o", ms=5, color=line.get_color())
            ax.plot([sign * cut], [sign * gap], "o", ms=5, mfc="white", color=line.get_color())
    ax.plot(z, soft, ls="--", label=r"soft thresholding (L1)")
    ax.plot(z, z, color="0.5", lw=0.6, label="identity")
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set(
        xlabel=r"$z$",
        ylabel=r"$\operatorname{prox}(z)$",
        title=rf"proximal maps, $\tau = {tau:g}$",
    )
    ax.legend(fontsize=8, loc="upper left")


def draw_implicit_euler(
    fig: Figure, k: float, alpha: float, lr: float, *, w0: float = 1.0, steps: int = 12
) -> None:
    r"""The proximal step as an implicit Euler step of the gradient flow of :math:`\alpha|w|^k`.

    Left panel, the *step maps* :math:`w_t \mapsto w_{t+1}`: the gradient step (explicit
    Euler, :math:`w_{t+1} = w_t - \eta\,\partial_w(\alpha|w_t|^k)`), the proximal step
    (implicit Euler, :math:`w_{t+1} = w_t - \eta\,\partial_w(\alpha|w_{t+1}|^k)`, i.e.
    :math:`\operatorname{prox}_{\eta\alpha|\cdot|^k}(w_t)`) and the exact flow over the time
    :math:`\eta` (:func:`weightreg.dynamics.flow_solution`).  Right panel, the trajectories
    from ``w0`` over ``steps`` steps (:func:`weightreg.penalties.penalty_descent`,
    :func:`weightreg.penalties.prox_descent`) against the flow at the times :math:`\eta t`.
    ``k`` in {0.5, 1, 2}.  Jumps are drawn as breaks.  Introduced in *L1*; drawn for L0.5 in
    *L0.5*.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    k = _check_prox_k(k)
    alpha = check_positive("alpha", alpha)
    lr = check_positive("lr", lr)
    w0 = check_real("w0", w0)
    if w0 == 0:
        raise ValueError("w0 must be non-zero (a weight at 0 stays there under every method)")
    steps = check_positive_int("steps", steps)
    tau = lr * alpha
    lim = 1.15 * abs(w0)
    z = torch.linspace(-lim, lim, 2001, dtype=torch.float64)
    grad_map = _penalty_descent(z, k, alpha, lr, 1)[1]
    prox_map = _prox_descent(z, k, alpha, lr, 1)[1]
    flow_map = flow_solution(z, k, alpha, lr)
    ax1, ax2 = fig.subplots(1, 2)
    jump = 0.25 * lim
    ax1.plot(
        *_nan_at_jumps(z, grad_map, jump), color="C1", ls="--", label="gradient step (explicit)"
    )
    ax1.plot(*_nan_at_jumps(z, prox_map, jump), color="C0", label="proximal step (implicit)")
    ax1.plot(z, flow_map, color="k", lw=0.9, ls=":", label=r"flow over time $\eta$")
    ax1.axhline(0, color="k", lw=0.5)
    ax1.axvline(0, color="k", lw=0.5)
    ax1.set(
        xlabel=r"$w_t$",
        ylabel=r"$w_{t+1}$",
        xlim=(-lim, lim),
        ylim=(-lim, lim),
        title=rf"one step, $k = {k:g}$, $\eta\alpha = {tau:.3g}$",
    )
    ax1.legend(fontsize=7, loc="upper left")
    start = torch.tensor([w0], dtype=torch.float64)
    s = np.arange(steps + 1)
    grad = _penalty_descent(start, k, alpha, lr, steps)[:, 0].numpy()
    prox = _prox_descent(start, k, alpha, lr, steps)[:, 0].numpy()
    s_fine = torch.linspace(0, steps, 20 * steps + 1, dtype=torch.float64)
    flow = flow_solution(start, k, alpha, lr * s_fine)[:, 0].numpy()
    ax2.plot(s, grad, "s--", ms=3.5, lw=0.8, color="C1", label="gradient steps")
    ax2.plot(s, prox, "o-", ms=4, lw=1, color="C0", label="proximal steps")
    ax2.plot(s_fine.numpy(), flow, color="k", lw=0.9, ls=":", label=r"gradient flow at $\eta t$")
    ax2.axhline(0, color="k", lw=0.5)
    ax2.set(xlabel=r"step $t$", ylabel=r"$w_t$", ylim=(-lim, lim), title=rf"from $w_0 = {w0:g}$")
    ax2.legend(fontsize=7, loc="upper right")
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.16, top=0.88, wspace=0.3)


def draw_ball_optima(
    fig: Figure,
    quad: Quadratic2D,
    radius: float,
    w_l1: torch.Tensor,
    w_l2: torch.Tensor,
    *,
    lim: float = 2.4,
) -> None:
    r"""The L1 diamond and the L2 disc of the same radius, touched by the loss's level sets.

    Two panels (:func:`weightreg.figures.constraints.draw_constrained_problem` each): grey
    contours of the quadratic loss ``quad``, the ball :math:`\lVert\mathbf w\rVert_1 \le r`
    (left) or :math:`\lVert\mathbf w\rVert_2 \le r` (right), and the constrained optimum
    (``w_l1``, ``w_l2``: shape ``(2,)``, computed by the caller, e.g. with
    :func:`weightreg.constraint_geometry.constrained_argmin_2d`).  The level set through each
    optimum, the one that *touches* the ball, is drawn bold, and the optimum's coordinates are
    written next to it: a zero coordinate is a sparse solution.  Introduced in *L1*.
    """
    from .constraints import draw_constrained_problem

    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(quad, Quadratic2D):
        raise TypeError(f"quad must be a Quadratic2D, got {type(quad).__name__}")
    radius = check_positive("radius", radius)
    lim = check_positive("lim", lim)
    points = []
    for name, w in (("w_l1", w_l1), ("w_l2", w_l2)):
        check_finite_tensor(name, w)
        if w.shape != (2,):
            raise ValueError(f"{name} must have shape (2,), got {tuple(w.shape)}")
        points.append(w.to(quad.center.dtype))
    g = torch.linspace(-lim, lim, 241, dtype=quad.center.dtype)
    G1, G2 = torch.meshgrid(g, g, indexing="xy")
    Z = quad.loss(torch.stack([G1, G2], dim=-1))
    axes = fig.subplots(1, 2)
    balls = (
        (1.0, "#d6542a", r"L1 ball $\|\mathbf{w}\|_1 \leq %g$"),
        (2.0, "#3a78b5", r"L2 ball $\|\mathbf{w}\|_2 \leq %g$"),
    )
    for ax, (p, color, title), w in zip(axes, balls, points, strict=True):
        draw_constrained_problem(
            ax, quad, p, radius, solution=w, lim=lim, color=color, title=title % radius
        )
        level = float(quad.loss(w))
        ax.contour(G1.numpy(), G2.numpy(), Z.numpy(), levels=[level], colors=color, linewidths=1.8)
        w1, w2 = (0.0 if abs(float(v)) < 5e-3 else float(v) for v in w)
        ax.annotate(
            rf"$\mathbf{{w}} = ({w1:.2f},\ {w2:.2f})$",
            xy=(float(w[0]), float(w[1])),
            xytext=(-0.95 * lim, -0.85 * lim),
            fontsize=9,
            bbox=dict(boxstyle="round", fc="white", ec=color),
            arrowprops=dict(arrowstyle="->", color=color, lw=1),
        )
    axes[0].legend(fontsize=7, loc="upper left")
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.9, wspace=0.25)


def draw_priors(fig: Figure, *, scale: float = 1.0, wlim: float = 4.0) -> None:
    r"""The Laplace and the Gaussian prior of the same variance, and the penalties they imply.

    Left: the densities :math:`p(w) = \frac{1}{2\rho}e^{-|w|/\rho}` (Laplace, scale
    :math:`\rho` = ``scale``) and :math:`\mathcal N(0, 2\rho^2)` (the Gaussian with the
    same variance :math:`2\rho^2`), on :math:`[-w_{\lim}, w_{\lim}]`.  Right: their negative
    logarithms minus the value at 0, :math:`|w|/\rho` and :math:`w^2/(4\rho^2)`: the L1 and
    the L2 penalty that maximum a posteriori estimation adds to the loss.
    Introduced in *L1* (the MAP view).
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    b = check_positive("scale", scale)
    wlim = check_positive("wlim", wlim)
    if b > 1e150:  # the variance 2 b^2 would overflow a float
        raise ValueError(f"scale must be at most 1e150 (its square must fit a float), got {b:g}")
    w = np.linspace(-wlim, wlim, 801)
    var = 2 * b**2
    laplace = np.exp(-np.abs(w) / b) / (2 * b)
    gauss = np.exp(-(w**2) / (2 * var)) / math.sqrt(2 * math.pi * var)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(w, laplace, color="#d6542a", label=rf"Laplace, $\rho = {b:g}$")
    ax1.plot(w, gauss, color="#3a78b5", ls="--", label=r"Gaussian, variance $2\rho^2$")
    ax1.set(xlabel=r"$w$", ylabel=r"prior density $p(w)$", title="same variance")
    ax1.legend(fontsize=8)
    ax2.plot(w, np.abs(w) / b, color="#d6542a", label=r"$|w|/\rho$ (L1)")
    ax2.plot(w, w**2 / (2 * var), color="#3a78b5", ls="--", label=r"$w^2/(4\rho^2)$ (L2)")
    ax2.set(
        xlabel=r"$w$",
        ylabel=r"$-\log p(w) + \log p(0)$",
        title="the penalty it implies",
        ylim=(0, 1.1 * wlim / b),
    )
    ax2.legend(fontsize=8)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.16, top=0.88, wspace=0.3)

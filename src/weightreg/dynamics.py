"""Closed-form dynamics of a single weight under its Lk penalty alone.

Introduced in the chapter *L3 and L10: penalties that ignore small weights*
(``book/lk/l3_l10.md``) and used by *L0.5* and *The Lk family side by side*.

Conventions
-----------
Everything here concerns **one** weight ``w`` and the per-weight penalty
``alpha * |w|**k`` (no mean over entries), the convention of
:func:`weightreg.penalties.penalty_descent`; tensors of starting weights are
handled entrywise, each entry an independent weight.  With the book's mean
penalty ``alpha * mean(|w|**k)`` over ``d`` weights, pass ``alpha / d``.

* **Gradient flow** is the ODE ``dw/dt_flow = -alpha * k * sign(w) * |w|**(k-1)`` in a
  continuous *flow time* ``t_flow`` (the argument called ``t`` or ``horizon`` below; not a
  step count).  After ``t`` steps, gradient descent with learning rate ``lr`` (the book's
  eta) is near the flow at ``t_flow = lr * t``, as long as one step moves ``w`` by a small
  fraction of itself.
* Writing ``m = k - 2``, the flow has the closed form

  ``|w(t_flow)|**(-m) = |w0|**(-m) + m * k * alpha * t_flow``   (``k != 2``),
  ``w(t_flow) = w0 * exp(-2 * alpha * t_flow)``                  (``k == 2``),

  so ``k > 2`` decays algebraically (never reaching 0), ``k == 2`` geometrically,
  and ``k < 2`` reaches exactly 0 in finite time.
"""

from __future__ import annotations

import math

import torch

from .penalties import _abs_pow_safe
from .validation import check_finite_tensor, check_nonnegative, check_positive, check_positive_int

__all__ = [
    "flow_solution",
    "extinction_time",
    "halving_time",
    "dead_zone_radius",
    "overshoot_free_radius",
    "gd_two_cycle_radius",
    "gd_two_cycle_slope",
    "gd_flow_bounds",
    "gd_flow_gap_bound",
]


def _finite(k: float, *results: torch.Tensor) -> None:
    """Raise a ``ValueError`` naming ``k`` if a closed form overflowed (NaN or inf)."""
    for r in results:
        if not bool(torch.isfinite(r).all()):
            raise ValueError(
                f"k = {k:g} is too large for these weights: the closed form overflows the range "
                f"of {r.dtype} (|w|**(k-2) is not representable); use a smaller k"
            )


def _power_of_two(k: float, m: float) -> float:
    """``2**m - 1`` for ``m = k - 2``; a ``ValueError`` naming ``k`` if it overflows a float."""
    try:
        return 2.0**m - 1
    except OverflowError:
        raise ValueError(
            f"k = {k:g} is too large: 2**(k-2) overflows the range of a float (k must be below "
            "about 1026 here); use a smaller k"
        ) from None


def _times(t: float | torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(t, torch.Tensor):
        check_finite_tensor("t", t)
        if bool((t < 0).any()):
            raise ValueError("t must be >= 0 everywhere, got a negative time")
        return t.to(dtype)
    return torch.tensor(check_nonnegative("t", t), dtype=dtype)


def flow_solution(
    w0: torch.Tensor, k: float, alpha: float, t: float | torch.Tensor
) -> torch.Tensor:
    r"""Gradient flow of ``alpha * |w|**k`` from ``w0``, in closed form, at flow time(s) ``t``.

    With the flow time :math:`t_{\mathrm{flow}}` = ``t`` (a continuous time, not a step count:
    ``t`` steps of size :math:`\eta` reach :math:`t_{\mathrm{flow}} = \eta t`, see the module
    notes),

    .. math:: \begin{aligned}
              |w(t_{\mathrm{flow}})|^{2-k} &= \max\bigl(|w_0|^{2-k}
              - (2-k)\,k\,\alpha\, t_{\mathrm{flow}},\ 0\bigr) && (k \ne 2), \\
              w(t_{\mathrm{flow}}) &= w_0 e^{-2\alpha t_{\mathrm{flow}}} && (k = 2),
              \end{aligned}

    with the sign of ``w0`` kept.  For ``k > 2`` the bracket never reaches 0 and
    ``|w| = (|w0|**(2-k) + (k-2) k alpha t)**(-1/(k-2))``: an algebraic decay,
    ``|w| ~ (k (k-2) alpha t)**(-1/(k-2))`` for large ``t`` whatever the start.  For
    ``k < 2`` the weight reaches 0 at :func:`extinction_time` and stays there.

    ``t`` is a number or a tensor of flow times; the result has shape
    ``(*t.shape, *w0.shape)``.  Introduced in *L3 and L10*.
    """
    check_finite_tensor("w0", w0)
    k = check_positive("k", k)
    alpha = check_nonnegative("alpha", alpha)
    times = _times(t, w0.dtype)
    tt = times.reshape(tuple(times.shape) + (1,) * w0.dim())  # also for 0-d times and w0
    if k == 2:
        return w0 * torch.exp(-2 * alpha * tt)
    r0 = w0.abs()
    m = k - 2
    if m > 0:
        # |w|^(-m) grows linearly; a zero start stays at zero.
        start = _abs_pow_safe(r0, -m)
        _finite(k, start)
        r = _abs_pow_safe(start + m * k * alpha * tt, -1 / m)
        r = torch.where(r0 > 0, r, torch.zeros_like(r))
    else:
        # |w|^(2-k) falls linearly until it hits zero.
        base = torch.clamp(r0 ** (-m) - (-m) * k * alpha * tt, min=0)
        r = base ** (1 / (-m))
    _finite(k, r)
    return torch.sign(w0) * r


def extinction_time(w0: torch.Tensor, k: float, alpha: float) -> torch.Tensor:
    r"""Flow time at which the gradient flow of ``alpha * |w|**k`` reaches exactly 0.

    .. math:: t_{\mathrm{flow}}^\star = \frac{|w_0|^{2-k}}{(2-k)\,k\,\alpha} \quad (k < 2),
              \qquad t_{\mathrm{flow}}^\star = \infty \quad (k \ge 2 \text{ and } w_0 \ne 0).

    A flow time, not a step count: gradient descent with learning rate ``lr`` would need about
    ``t_flow / lr`` steps.

    ``alpha = 0`` gives ``inf`` (nothing moves); ``w0 = 0`` gives 0.
    Introduced in *L3 and L10*; the contrast ``k < 2`` versus ``k >= 2`` is the
    subject of *The Lk family side by side*.
    """
    check_finite_tensor("w0", w0)
    k = check_positive("k", k)
    alpha = check_nonnegative("alpha", alpha)
    r0 = w0.abs()
    if k >= 2 or alpha == 0:
        return torch.where(r0 > 0, torch.full_like(r0, math.inf), torch.zeros_like(r0))
    return r0 ** (2 - k) / ((2 - k) * k * alpha)


def halving_time(r0: torch.Tensor, k: float, alpha: float) -> torch.Tensor:
    r"""Flow time the gradient flow of ``alpha * |w|**k`` needs to halve ``|w|`` from ``r0``.

    .. math:: t_{\mathrm{flow}}^{1/2}(r_0) = \frac{2^{k-2} - 1}{(k-2)\,k\,\alpha}\; r_0^{\,2-k}
              \quad (k \ne 2), \qquad t_{\mathrm{flow}}^{1/2} = \frac{\ln 2}{2\alpha}
              \quad (k = 2).

    For ``k > 2`` small weights take *longer* to halve (``r0**(2-k)`` grows as
    ``r0`` shrinks); for ``k < 2`` they take less; for ``k = 2`` every weight halves
    in the same time.  ``r0`` must be > 0 and ``alpha`` > 0.  Introduced in *L3 and L10*.
    """
    check_finite_tensor("r0", r0)
    if bool((r0 <= 0).any()):
        raise ValueError("r0 must be > 0 everywhere (a magnitude to halve)")
    k = check_positive("k", k)
    alpha = check_positive("alpha", alpha)
    if k == 2:
        return torch.full_like(r0, math.log(2) / (2 * alpha))
    m = k - 2
    return _power_of_two(k, m) / (m * k * alpha) * r0 ** (-m)


def dead_zone_radius(k: float, alpha: float, horizon: float) -> float:
    r"""The magnitude below which the penalty does not even halve a weight within ``horizon``.

    Solving :func:`halving_time` ``= horizon`` for ``r0`` (``k > 2`` only), where ``horizon``
    is a flow time, :math:`\eta T` for :math:`T` steps of gradient descent with learning rate
    :math:`\eta`:

    .. math:: r_{\text{dead}} = \left(\frac{2^{k-2} - 1}{(k-2)\,k\,\alpha\,\eta T}\right)^{1/(k-2)}.

    A weight with ``|w0| < r_dead`` keeps more than half of its size over the flow time
    ``horizon`` (``horizon = lr * steps`` for gradient descent), from the penalty alone.
    For ``k <= 2`` there is no such zone (small weights are removed as fast as or
    faster than large ones), so ``k`` must be > 2.  Introduced in *L3 and L10*.
    """
    k = check_positive("k", k)
    if k <= 2:
        raise ValueError(f"k must be > 2 for a dead zone (for k <= 2 there is none), got {k}")
    alpha = check_positive("alpha", alpha)
    horizon = check_positive("horizon", horizon)
    m = k - 2
    return (_power_of_two(k, m) / (m * k * alpha * horizon)) ** (1 / m)


def overshoot_free_radius(k: float, alpha: float, lr: float) -> float:
    r"""For ``k > 2``: the largest ``|w0|`` from which gradient descent never crosses zero.

    One step multiplies ``w`` by ``1 - lr * alpha * k * |w|**(k-2)``; that factor
    lies in ``[0, 1)`` exactly when ``|w| <= (lr * alpha * k)**(-1/(k-2))``, and
    since ``|w|`` then only shrinks, it stays so for every later step.
    Introduced in *L3 and L10*.
    """
    k = check_positive("k", k)
    if k <= 2:
        raise ValueError(f"k must be > 2, got {k}")
    alpha = check_positive("alpha", alpha)
    lr = check_positive("lr", lr)
    return (lr * alpha * k) ** (-1 / (k - 2))


def gd_two_cycle_radius(k: float, alpha: float, lr: float) -> float:
    r"""The size ``r*`` of the 2-cycle ``r*, -r*, r*, ...`` of gradient descent on ``alpha |w|**k``.

    A step from ``w = r`` lands on ``-r`` when ``lr * alpha * k * r**(k-1) = 2 r``:

    .. math:: r^\star = \left(\frac{\eta \alpha k}{2}\right)^{1/(2-k)} \qquad (k \ne 2).

    For ``k < 2`` it is the size of the chatter around 0 (``k = 0.5``:
    ``(lr alpha / 4)**(2/3)``); for ``k > 2`` it is the stability limit: gradient
    descent converges to 0 from ``|w0| < r*`` and diverges from ``|w0| > r*``.
    Its stability is :func:`gd_two_cycle_slope`.  ``k = 2`` has no isolated cycle
    (the step is linear), so it is rejected.  Introduced in *L0.5*.
    """
    k = check_positive("k", k)
    if k == 2:
        raise ValueError("k must differ from 2: for k = 2 the step is linear and has no 2-cycle")
    alpha = check_positive("alpha", alpha)
    lr = check_positive("lr", lr)
    return (lr * alpha * k / 2) ** (1 / (2 - k))


def gd_two_cycle_slope(k: float) -> float:
    r"""Derivative of the magnitude map ``r -> |r - lr alpha k r**(k-1)|`` at the 2-cycle ``r*``.

    On the crossing branch the map is ``g(r) = a r^{k-1} - r`` with
    ``a = lr alpha k``, and ``a r*^{k-2} = 2`` gives

    .. math:: g'(r^\star) = 2(k-1) - 1 = 2k - 3,

    independent of ``alpha`` and ``lr``.  The cycle attracts when ``|2k - 3| < 1``,
    i.e. ``1 < k < 2`` (superattracting at ``k = 1.5``), is neutral at ``k = 1``
    and repels for ``k < 1`` (L0.5: slope ``-2``) and ``k > 2``.  Like
    :func:`gd_two_cycle_radius`, it rejects ``k = 2``: there the step is linear and has no
    isolated 2-cycle (the formula's value 1 would describe no cycle).
    Introduced in *L0.5*.
    """
    k = check_positive("k", k)
    if k == 2:
        raise ValueError("k must differ from 2: for k = 2 the step is linear and has no 2-cycle")
    return 2 * k - 3


def _no_overshoot_x0(
    w0: torch.Tensor, k: float, alpha: float, lr: float
) -> tuple[float, float, float, torch.Tensor]:
    """Check the arguments of the descent-vs-flow bounds; return them and ``x0``.

    ``x0 = lr * alpha * k * |w0|**(k-2)`` must be < 1 everywhere (no step overshoots zero).
    """
    check_finite_tensor("w0", w0)
    k = check_positive("k", k)
    if k <= 2:
        raise ValueError(f"k must be > 2 for these bounds, got {k}")
    alpha = check_positive("alpha", alpha)
    lr = check_positive("lr", lr)
    x0 = lr * alpha * k * w0.abs() ** (k - 2)
    if bool((x0 >= 1).any()):
        raise ValueError(
            "lr * alpha * k * |w0|**(k-2) must be < 1 for every entry of w0 "
            f"(no step may overshoot zero), got a maximum of {float(x0.max()):.3g}"
        )
    return k, alpha, lr, x0


def gd_flow_bounds(
    w0: torch.Tensor, k: float, alpha: float, lr: float, steps: int
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Bounds on ``|w_t|`` of gradient descent by the gradient flow, for ``k > 2``.

    With ``x0 = lr * alpha * k * |w0|**(k-2) < 1`` (no overshoot; see
    :func:`overshoot_free_radius`) and ``gamma = (1 - x0)**(-(k-1))``, for every step ``t``

    .. math:: |w(\gamma\,\eta t)| \;\le\; |w_t| \;\le\; |w(\eta t)|,

    where :math:`w(\cdot)` is :func:`flow_solution` at the flow time in brackets (``t`` steps
    of size :math:`\eta` = ``lr`` reach the flow time :math:`\eta t`): descent is never slower
    than the flow and at most ``gamma`` times faster.  Returns ``(lower, upper)``, each of
    shape ``(steps + 1, *w0.shape)``.  Introduced in *L3 and L10*, where the two
    inequalities are proved.
    """
    k, alpha, lr, x0 = _no_overshoot_x0(w0, k, alpha, lr)
    steps = check_positive_int("steps", steps)
    s = torch.arange(steps + 1, dtype=w0.dtype)
    upper = flow_solution(w0, k, alpha, lr * s).abs()
    gamma = (1 - x0) ** (-(k - 1))
    r0 = w0.abs()
    m = k - 2
    tt = (lr * s).reshape((-1,) + (1,) * w0.dim())
    lower = _abs_pow_safe(_abs_pow_safe(r0, -m) + m * k * alpha * gamma * tt, -1 / m)
    lower = torch.where(r0 > 0, lower, torch.zeros_like(lower))
    _finite(k, lower, upper)
    return lower, upper


def gd_flow_gap_bound(w0: torch.Tensor, k: float, alpha: float, lr: float) -> torch.Tensor:
    r"""Bound on the relative gap ``1 - |w_t| / |w(lr t)|`` between descent and flow, ``k > 2``.

    From :func:`gd_flow_bounds`, for every step ``t``:

    .. math:: 0 \le 1 - \frac{|w_t|}{|w(\eta t)|} \le 1 - (1 - x_0)^{(k-1)/(k-2)}
              \approx \frac{k-1}{k-2}\, x_0,

    with :math:`x_0 = \eta\alpha k |w_0|^{k-2}`.

    Introduced in *L3 and L10*.
    """
    k, alpha, lr, x0 = _no_overshoot_x0(w0, k, alpha, lr)
    gap = 1 - (1 - x0) ** ((k - 1) / (k - 2))
    _finite(k, gap)
    return gap

"""AdamW's weights as an exponential moving average of its updates, and its timescale.

Introduced in the chapter *The timescale of AdamW* (``book/normalized/timescale.md``),
after Wang & Aitchison, *How to set AdamW's weight decay as you scale model and dataset size*
(arXiv:2405.13698, ICML 2025).

Conventions (the book's glossary): ``lr`` is the learning rate :math:`\\eta` (or the
per-step rates :math:`\\eta_t = \\eta s_t` of a schedule), ``weight_decay`` is PyTorch's
:math:`\\lambda` (``torch.optim.AdamW(weight_decay=...)``), so one AdamW step is

.. math::

    \\mathbf w_{t+1} = (1 - \\eta_t\\lambda)\\,\\mathbf w_t - \\eta_t\\,\\mathbf u_t,
    \\qquad \\mathbf u_t = \\hat{\\mathbf m}_t / (\\sqrt{\\hat{\\mathbf v}_t} + \\epsilon),

the decay applied to :math:`\\mathbf w_t` *before* the Adam step is added (``torch.optim``
multiplies the parameter by ``1 - lr * weight_decay``, then adds the step).  This is the
exponential moving average :math:`\\mathbf w_{t+1} = (1-\\eta_t\\lambda)\\mathbf w_t +
\\eta_t\\lambda(-\\mathbf u_t/\\lambda)` of :math:`-\\mathbf u_t/\\lambda`, and unrolled

.. math::

    \\mathbf w_T = \\Big(\\prod_{t'=0}^{T-1}(1-\\eta_{t'}\\lambda)\\Big)\\mathbf w_0
    - \\sum_{t=0}^{T-1}\\eta_t\\Big(\\prod_{t'=t+1}^{T-1}(1-\\eta_{t'}\\lambda)\\Big)\\mathbf u_t .

With a constant rate the weight of an update ``j`` steps old is :math:`\\eta(1-\\eta\\lambda)^j
\\approx \\eta e^{-j/\\tau_{\\mathrm{iter}}}`: the average runs over about
:math:`\\tau_{\\mathrm{iter}} = 1/(\\eta\\lambda)` steps, :math:`\\tau_{\\mathrm{epoch}} =
\\tau_{\\mathrm{iter}} B/n` epochs of ``n`` examples in minibatches of ``B``.
"""

from __future__ import annotations

import torch

from .validation import (
    check_finite_tensor,
    check_nonnegative,
    check_positive,
    check_positive_int,
)

__all__ = ["ema_weights", "timescale_epochs", "timescale_iters"]


def timescale_iters(lr: float, weight_decay: float) -> float:
    """AdamW's timescale in steps, :math:`\\tau_{\\mathrm{iter}} = 1/(\\eta\\lambda)`.

    ``lr`` is :math:`\\eta > 0` and ``weight_decay`` PyTorch's :math:`\\lambda > 0` (the decay
    factor per step is ``1 - lr * weight_decay``).  The weight of an update ``j`` steps old in
    the current weights is proportional to :math:`(1-\\eta\\lambda)^j \\approx
    e^{-j/\\tau_{\\mathrm{iter}}}` (:func:`ema_weights`); the exact e-folding time
    :math:`-1/\\ln(1-\\eta\\lambda)` is :math:`\\tau_{\\mathrm{iter}} - 1/2 + O(\\eta\\lambda)`.
    Wang & Aitchison (2024) call it the EMA timescale.  Chapter *The timescale of AdamW*.
    """
    lr = check_positive("lr", lr)
    weight_decay = check_positive("weight_decay", weight_decay)
    rate = lr * weight_decay
    tau = 1.0 / rate if 0.0 < rate < float("inf") else float("inf")
    if not 0.0 < tau < float("inf"):
        raise ValueError(
            f"lr * weight_decay must be a positive normal number, got {rate} "
            f"(lr={lr}, weight_decay={weight_decay})"
        )
    return tau


def timescale_epochs(lr: float, weight_decay: float, n: int, batch_size: int) -> float:
    """AdamW's timescale in epochs, :math:`\\tau_{\\mathrm{epoch}} = \\tau_{\\mathrm{iter}}
    B/n = B/(\\eta\\lambda n)`.

    ``n`` training examples (an int ``>= 1``; Wang & Aitchison's ``N``) in minibatches of
    ``batch_size`` :math:`B` (an int, ``1 <= B <= n``): an epoch is :math:`n/B` steps (the
    book's engine drops the last incomplete batch, so its epochs are exactly that many steps
    when ``B`` divides ``n``).  Keeping :math:`\\tau_{\\mathrm{epoch}}` fixed as ``n`` grows at
    a fixed ``lr`` and ``B`` means :math:`\\lambda \\propto 1/(\\eta n)`: Wang & Aitchison's
    scaling rule.  Chapter *The timescale of AdamW*.
    """
    tau = timescale_iters(lr, weight_decay)
    n = check_positive_int("n", n)
    batch_size = check_positive_int("batch_size", batch_size)
    if batch_size > n:
        raise ValueError(f"batch_size must be <= n ({n}), got {batch_size}")
    return tau * batch_size / n


def _rates(lr: object, steps: int) -> torch.Tensor:
    """The per-step learning rates ``(T,)`` in float64 from a number or a 1-D tensor."""
    if isinstance(lr, torch.Tensor) and lr.dim() == 1:
        check_finite_tensor("lr", lr)
        if lr.shape[0] != steps:
            raise ValueError(
                f"lr must be a number or a 1-D tensor with one rate per update ({steps}), "
                f"got shape {tuple(lr.shape)}"
            )
        if bool((lr < 0).any()):
            raise ValueError("lr must hold rates >= 0 (eta_t = eta * s_t)")
        return lr.detach().to(torch.float64)
    if isinstance(lr, torch.Tensor) and lr.dim() > 1:
        raise ValueError(f"lr must be a number or a 1-D tensor, got shape {tuple(lr.shape)}")
    return torch.full((steps,), check_positive("lr", lr), dtype=torch.float64)


def ema_weights(
    w0: torch.Tensor, updates: torch.Tensor, lr: float | torch.Tensor, weight_decay: float
) -> torch.Tensor:
    """Every iterate of AdamW rebuilt from its start and its logged updates, in float64.

    ``w0`` is the initial tensor (any shape ``S``), ``updates`` the Adam directions
    :math:`\\mathbf u_0, \\dots, \\mathbf u_{T-1}` stacked, shape ``(T, *S)`` (the step
    subtracted, :math:`\\hat{\\mathbf m}_t/(\\sqrt{\\hat{\\mathbf v}_t}+\\epsilon)`, before the
    learning rate), ``lr`` the learning rate :math:`\\eta > 0` or a 1-D tensor of the ``T``
    rates :math:`\\eta_t \\ge 0` of a schedule, ``weight_decay`` PyTorch's :math:`\\lambda \\ge
    0`.  Returns ``(T + 1, *S)``: row ``t`` is :math:`\\mathbf w_t` of the recursion
    :math:`\\mathbf w_{t+1} = (1-\\eta_t\\lambda)\\mathbf w_t - \\eta_t\\mathbf u_t` (module
    docstring), row 0 is ``w0``.

    How: the steps are affine maps :math:`\\mathbf w \\mapsto a_t\\mathbf w + \\mathbf b_t`; a
    prefix scan by doubling composes them in :math:`\\lceil\\log_2 T\\rceil` vectorized passes
    (no loop over steps, no division by products of factors, so no underflow however small
    :math:`\\prod(1-\\eta_t\\lambda)` gets).  Chapter *The timescale of AdamW*.
    """
    w0 = check_finite_tensor("w0", w0)
    updates = check_finite_tensor("updates", updates)
    weight_decay = check_nonnegative("weight_decay", weight_decay)
    if updates.dim() != w0.dim() + 1 or tuple(updates.shape[1:]) != tuple(w0.shape):
        raise ValueError(
            f"updates must have shape (T, *w0.shape) = (T, {', '.join(map(str, w0.shape))}), "
            f"got {tuple(updates.shape)}"
        )
    steps = updates.shape[0]
    rates = _rates(lr, steps)
    view = (steps,) + (1,) * w0.dim()
    a = (1.0 - rates * weight_decay).reshape(view)  # the factors a_t (T, 1, ..., 1)
    b = -rates.reshape(view) * updates.detach().to(torch.float64)  # the offsets b_t
    k = 1
    while k < steps:  # row t becomes the composition of steps max(0, t - 2k + 1) .. t
        b = torch.cat([b[:k], a[k:] * b[:-k] + b[k:]])
        a = torch.cat([a[:k], a[k:] * a[:-k]])
        k *= 2
    start = w0.detach().to(torch.float64)
    out = torch.cat([start.unsqueeze(0), a * start + b])
    if not bool(torch.isfinite(out).all()):
        raise ValueError(
            "the rebuilt weights overflow float64: w0, updates, lr or weight_decay too large "
            "(a factor 1 - lr * weight_decay far below -1 grows the weights geometrically)"
        )
    return out

"""Lk penalties, their gradients, and the proximal operators of L1, L2 and L0.5.

Introduced in the chapters *L2: shrinking every weight* (``book/lk/l2.md``) and
*L1: exact zeros* (``book/lk/l1.md``); used by every chapter on Lk penalties.

Conventions
-----------
* The penalty of a weight tensor ``w`` with ``n`` entries is the **mean**

  ``lk_penalty(w, k, alpha) = alpha * mean(|w|**k) = (alpha / n) * sum_j |w_j|**k``,

  so ``alpha`` does not have to be re-tuned when a layer gets wider.  d2l's
  ``(lambd / 2) * ||w||^2`` is the case ``k = 2`` with ``lambd = 2 * alpha / n``.
* ``lk_grad`` is the analytic gradient of that mean, ``alpha * k * sign(w) * |w|**(k-1) / n``;
  at ``w = 0`` with ``k <= 1``, where no derivative exists, it returns ``0``.
* The proximal operator of a function ``g`` is
  ``prox_g(z) = argmin_x 0.5 * (x - z)**2 + g(x)``, applied elementwise.  The three operators
  here take a step ``t``: ``prox_l1(z, t)`` is ``prox_g`` for ``g(x) = t * |x|``,
  ``prox_lhalf(z, t)`` for ``g(x) = t * |x|**0.5``, and ``prox_l2(z, t)`` for
  ``g(x) = (t / 2) * x**2`` (note the 1/2).  A proximal gradient step on ``loss + g`` with
  learning rate ``lr`` is ``w <- prox_{lr * g}(w - lr * grad loss(w))``.
* :func:`prox_lk` is the **only** place that maps the book's penalty to those operators:
  the prox of ``lr * alpha * mean(|w|**k)`` over ``d`` weights is ``prox_l1(z, lr * alpha / d)``
  for ``k = 1``, ``prox_lhalf(z, lr * alpha / d)`` for ``k = 0.5`` and
  ``prox_l2(z, 2 * lr * alpha / d)`` for ``k = 2``.
* :func:`penalty_descent` simulates gradient descent on the *per-weight* penalty
  ``alpha * |w|**k`` (no mean), every entry of ``w0`` being one independent weight.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from .validation import (
    as_tensor_list,
    check_finite_tensor,
    check_nonnegative,
    check_positive,
    check_positive_int,
)

__all__ = [
    "lk_penalty",
    "lk_grad",
    "lk_grad_per_weight",
    "prox_l1",
    "prox_l2",
    "prox_lhalf",
    "prox_lk",
    "PROX_KS",
    "lhalf_threshold",
    "penalty_descent",
]

Weights = torch.Tensor | Sequence[torch.Tensor]


def _check_k(k: object) -> float:
    return check_positive("k", k)


def _check_t(t: object, z: torch.Tensor) -> float | torch.Tensor:
    """``t`` is a number >= 0 or a tensor of such numbers broadcastable against ``z``."""
    if isinstance(t, torch.Tensor) and t.numel() != 1:
        check_finite_tensor("t", t)
        if bool((t < 0).any()):
            raise ValueError("t must be >= 0 everywhere, got a negative entry")
        try:
            torch.broadcast_shapes(t.shape, z.shape)
        except RuntimeError:
            raise ValueError(
                f"t must be a number or a tensor broadcastable to z's shape {tuple(z.shape)}, "
                f"got shape {tuple(t.shape)}"
            ) from None
        return t.to(z.dtype)
    return check_nonnegative("t", t)


def _abs_pow(w: torch.Tensor, k: float) -> torch.Tensor:
    """``|w|**k`` whose autograd gradient at ``w = 0`` is 0 (not NaN) for every ``k > 0``.

    Even integer ``k``: ``w**k`` (smooth, so higher derivatives are right at 0 too).
    ``k >= 1``: ``|w|**k``, whose autograd gradient at 0 is already 0.  ``k < 1``: the
    "double where": the power is taken of a copy of ``w`` in which zeros are
    replaced by ones, so no ``0**(negative)`` ever enters the backward pass.
    """
    if k == int(k) and int(k) % 2 == 0:
        return w ** int(k)
    if k >= 1:
        return w.abs() ** k
    zero = w == 0
    safe = torch.where(zero, torch.ones_like(w), w)
    return torch.where(zero, torch.zeros_like(w), safe.abs() ** k)


def _elementwise_grad(w: torch.Tensor, k: float) -> torch.Tensor:
    """``d/dw |w|**k = k * sign(w) * |w|**(k-1)``, with the value 0 at ``w = 0``."""
    zero = w == 0
    safe = torch.where(zero, torch.ones_like(w), w)
    g = k * torch.sign(safe) * safe.abs() ** (k - 1)
    return torch.where(zero, torch.zeros_like(w), g)


def lk_penalty(w: Weights, k: float, alpha: float = 1.0) -> torch.Tensor:
    r"""The Lk penalty ``alpha * mean(|w|**k)``, a differentiable scalar tensor.

    .. math:: \Omega_k(w) = \frac{\alpha}{n} \sum_{j=1}^{n} |w_j|^k

    ``w`` is a tensor or a list of tensors; with a list, the mean runs over all
    their entries together (``n`` is the total count).  Autograd gives the same
    gradient as :func:`lk_grad`, including the value 0 at ``w = 0`` for ``k <= 1``.
    Note the name: for ``k = 2`` this is a mean of *squares*, not a norm.
    Introduced in *L2: shrinking every weight*.
    """
    k = _check_k(k)
    alpha = check_nonnegative("alpha", alpha)
    tensors = as_tensor_list("w", w)
    n = sum(t.numel() for t in tensors)
    total = sum(_abs_pow(t, k).sum() for t in tensors)
    return alpha * total / n


def lk_grad(w: Weights, k: float, alpha: float = 1.0) -> torch.Tensor | list[torch.Tensor]:
    r"""The analytic gradient of :func:`lk_penalty` with respect to ``w``, same shape.

    .. math:: \frac{\partial \Omega_k}{\partial w_j} = \frac{\alpha k}{n}
              \operatorname{sign}(w_j)\, |w_j|^{k-1}

    For ``k > 1`` this is the true derivative everywhere (it vanishes at 0).  For
    ``k <= 1`` the penalty has a kink (``k = 1``) or a cusp (``k < 1``) at 0 and no
    derivative there; we return 0.  For ``k = 1`` that is the element of the
    subdifferential ``[-alpha/n, alpha/n]`` of smallest magnitude (the one that lets
    a weight that *is* zero stay zero, and what ``torch.sign`` and autograd of
    ``abs`` give).  For ``k < 1`` the one-sided derivatives are infinite, and 0 is the
    only choice that keeps a step finite.  Given a list of tensors it returns a
    list of gradients, with ``n`` the total number of entries.
    Introduced in *L2: shrinking every weight*.
    """
    k = _check_k(k)
    alpha = check_nonnegative("alpha", alpha)
    tensors = as_tensor_list("w", w)
    n = sum(t.numel() for t in tensors)
    grads = [alpha / n * _elementwise_grad(t.detach(), k) for t in tensors]
    return grads[0] if isinstance(w, torch.Tensor) else grads


def lk_grad_per_weight(w: torch.Tensor, k: float, alpha: float = 1.0) -> torch.Tensor:
    r"""The derivative of the *per-weight* penalty ``alpha * |w|**k``, entry by entry.

    .. math:: \frac{d}{dw}\, \alpha |w|^k = \alpha k \operatorname{sign}(w) |w|^{k-1}
              \quad (0 \text{ at } w = 0)

    That is :func:`lk_grad` without the division by the number of entries: each entry
    of ``w`` is treated as a weight on its own (the convention of
    :func:`penalty_descent` and of the "one step" tables).  The choice 0 at ``w = 0``
    is explained in :func:`lk_grad`.  Introduced in *L2: shrinking every weight*.
    """
    k = _check_k(k)
    alpha = check_nonnegative("alpha", alpha)
    check_finite_tensor("w", w)
    return alpha * _elementwise_grad(w.detach(), k)


def prox_l1(z: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    r"""Soft thresholding, the proximal operator of ``t * |x|``, elementwise.

    .. math:: \operatorname{prox}_{t|\cdot|}(z) = \arg\min_x \tfrac12 (x - z)^2 + t|x|
              = \operatorname{sign}(z) \max(|z| - t, 0)

    Every ``|z| <= t`` maps to an *exact* zero; larger entries move ``t`` toward 0.
    ``t`` is a number ``>= 0`` or a tensor of them broadcastable to ``z`` (one
    threshold per row of a batched sweep, say).  Introduced in *L1: exact zeros*.
    """
    check_finite_tensor("z", z)
    t = _check_t(t, z)
    return torch.sign(z) * torch.clamp(z.abs() - t, min=0)


def prox_l2(z: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    r"""The proximal operator of ``(t / 2) * x**2``, elementwise: a pure rescaling.

    .. math:: \operatorname{prox}(z) = \arg\min_x \tfrac12 (x - z)^2 + \tfrac{t}{2} x^2
              = \frac{z}{1 + t}

    It never produces a zero from a non-zero ``z``.  ``t`` as in :func:`prox_l1`.
    Introduced in *L2: shrinking every weight*.
    """
    check_finite_tensor("z", z)
    t = _check_t(t, z)
    return z / (1 + t)


PROX_KS = (0.5, 1.0, 2.0)
"""The exponents ``k`` whose penalty has a closed-form proximal operator here."""


def prox_lk(
    z: torch.Tensor,
    k: float | torch.Tensor,
    alpha: float | torch.Tensor,
    lr: float | torch.Tensor,
    num_weights: int,
) -> torch.Tensor:
    r"""The proximal operator of the book's penalty ``lr * alpha * mean(|w|**k)``, elementwise.

    For a weight vector of ``d = num_weights`` entries the penalty puts
    ``lr * alpha / d * |w_j|**k`` on each entry, so with ``t = lr * alpha / d``

    .. math:: \operatorname{prox}(z) = \arg\min_x \tfrac12 (x - z)^2 + t |x|^k
              = \begin{cases} \texttt{prox\_lhalf}(z, t) & k = 1/2 \\
                              \texttt{prox\_l1}(z, t) & k = 1 \\
                              \texttt{prox\_l2}(z, 2t) = z / (1 + 2t) & k = 2 \end{cases}

    (``prox_l2`` is the prox of ``(t/2) x**2``, hence ``2t``).  ``k``, ``alpha`` and ``lr``
    are numbers or tensors broadcastable against ``z`` (one value per row of a batched sweep:
    shape ``(C, 1)`` for ``z`` of shape ``(C, d)``); every ``k`` must be in :data:`PROX_KS`.
    Tested against the closed-form ridge and lasso solutions.  Introduced in *L1: exact zeros*.
    """
    check_finite_tensor("z", z)
    num_weights = check_positive_int("num_weights", num_weights)
    k_t = torch.as_tensor(k, dtype=z.dtype) if not isinstance(k, bool) else None
    if k_t is None or not bool(torch.isin(k_t, torch.tensor(PROX_KS, dtype=z.dtype)).all()):
        raise ValueError(f"k must be one of {PROX_KS} (a penalty with a closed-form prox), got {k}")
    t = _check_t(torch.as_tensor(alpha, dtype=z.dtype) * torch.as_tensor(lr, dtype=z.dtype), z)
    return _prox_lk(z, k_t, t / num_weights)


def _prox_lk(z: torch.Tensor, k: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Unchecked kernel of :func:`prox_lk`: ``t`` is the per-entry threshold ``lr * alpha / d``."""
    if k.numel() == 1:
        kk = float(k)
        if kk == 1.0:
            return torch.sign(z) * torch.clamp(z.abs() - t, min=0)
        if kk == 2.0:
            return z / (1 + 2 * t)
        return _prox_lhalf(z, t)
    out = torch.where(k == 1.0, torch.sign(z) * torch.clamp(z.abs() - t, min=0), z / (1 + 2 * t))
    return torch.where(k == 0.5, _prox_lhalf(z, t), out)


def lhalf_threshold(t: float | torch.Tensor) -> float | torch.Tensor:
    r"""The jump point of :func:`prox_lhalf`: ``(3/2) * t**(2/3)``.

    For ``|z|`` below it the proximal point is 0; at it, 0 and ``sign(z) * t**(2/3)``
    tie; above it, the non-zero root wins.  (Xu et al. 2012 write it as
    ``54**(1/3) / 4 * lam**(2/3)`` for their objective ``(x - z)**2 + lam * |x|**0.5``,
    which is ours with ``lam = 2 t``.)  Introduced in *L0.5*.
    """
    if isinstance(t, torch.Tensor) and t.numel() != 1:
        return 1.5 * _check_t(t, t) ** (2.0 / 3.0)
    t = check_nonnegative("t", t)
    return 1.5 * t ** (2.0 / 3.0)


def prox_lhalf(z: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    r"""Half thresholding: the exact proximal operator of ``t * |x|**0.5``, elementwise.

    .. math:: \operatorname{prox}(z) = \arg\min_x \tfrac12 (x - z)^2 + t\sqrt{|x|}

    Closed form of Xu, Chang, Xu and Zhang (2012), rewritten for this objective
    (theirs is ``(x - z)**2 + lam * |x|**0.5``, so ``lam = 2 t``):

    .. math:: \operatorname{prox}(z) = \begin{cases}
              \tfrac23 z \left(1 + \cos\left(\tfrac{2\pi}{3} - \tfrac23 \varphi(z)\right)\right)
              & |z| > \tfrac32 t^{2/3} \\ 0 & |z| \le \tfrac32 t^{2/3} \end{cases},
              \qquad \varphi(z) = \arccos\left(\tfrac{t}{4} \left(\tfrac{|z|}{3}\right)^{-3/2}
              \right).

    The map is discontinuous: at the threshold ``|z| = 1.5 t**(2/3)`` the objective
    has two global minimizers, ``0`` and ``sign(z) * t**(2/3)`` (two thirds of ``z``),
    with equal values.  **Tie-break:** we return 0 there (the sparser point, as in
    Xu et al.), so any ``|z|`` at or below the threshold gives an exact zero and the
    smallest non-zero output has magnitude above ``t**(2/3)``.  ``t`` as in
    :func:`prox_l1`; ``t = 0`` returns ``z``.  Introduced in *L0.5*.
    """
    check_finite_tensor("z", z)
    return _prox_lhalf(z, _check_t(t, z))


def _prox_lhalf(z: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Unchecked kernel of :func:`prox_lhalf`."""
    t_t = torch.as_tensor(t, dtype=z.dtype)
    a = z.abs()
    keep = a > 1.5 * t_t ** (2.0 / 3.0)  # lhalf_threshold, unchecked
    # phi is only evaluated where it is defined (|z| above the threshold > 0).
    a_safe = torch.where(keep, a, torch.ones_like(a))
    arg = torch.clamp(t_t / 4 * (a_safe / 3) ** -1.5, -1.0, 1.0)
    phi = torch.arccos(arg)
    x = 2.0 / 3.0 * z * (1 + torch.cos(2 * math.pi / 3 - 2.0 / 3.0 * phi))
    return torch.where(keep, x, torch.zeros_like(z))


def penalty_descent(
    w0: torch.Tensor, k: float, alpha: float, lr: float, steps: int
) -> torch.Tensor:
    r"""Gradient descent on the per-weight penalty ``alpha * |w|**k`` alone; the trajectory.

    .. math:: w_{s+1} = w_s - \eta\, \alpha k \operatorname{sign}(w_s) |w_s|^{k-1}

    with the gradient 0 at ``w = 0`` (see :func:`lk_grad`).  Every entry of ``w0``
    (any shape) is an independent weight, so one call runs many starting points at
    once.  Returns a tensor of shape ``(steps + 1, *w0.shape)`` whose row ``s`` is
    the weights after ``s`` steps (row 0 is ``w0``).  Note that the penalty here is
    *not* averaged over the entries: batching starting points does not change any
    single trajectory.  Introduced in *L2: shrinking every weight*.
    """
    check_finite_tensor("w0", w0)
    k = _check_k(k)
    alpha = check_nonnegative("alpha", alpha)
    lr = check_positive("lr", lr)
    steps = check_positive_int("steps", steps)
    w = w0.detach().clone()
    out = torch.empty((steps + 1, *w0.shape), dtype=w0.dtype)
    out[0] = w
    for s in range(steps):
        w = w - lr * alpha * _elementwise_grad(w, k)
        out[s + 1] = w
    return out

r"""Lk penalties, their gradients, and the proximal operators of L1, L2 and L0.5.

Introduced in the chapters *L2: shrinking every weight* (``book/lk/l2.md``) and
*L1: exact zeros* (``book/lk/l1.md``); used by every chapter on Lk penalties.

Conventions
-----------
* The penalty of a weight tensor ``w`` with ``d`` entries is the **mean**

  ``lk_penalty(w, k, alpha) = alpha * mean(|w|**k) = (alpha / d) * sum_j |w_j|**k``,

  so ``alpha`` does not have to be re-tuned when a layer gets wider.  The weight-decay form
  ``(lambd / 2) * ||w||^2`` (d2l's, and PyTorch's ``weight_decay``: the book's
  :math:`\lambda`) is the case ``k = 2`` with ``lambd = 2 * alpha / d``, the conversion of the
  glossary's "Two scalings of the same penalty".
* ``lk_grad`` is the analytic gradient of that mean, ``alpha * k * sign(w) * |w|**(k-1) / d``;
  at ``w = 0`` with ``k <= 1``, where no derivative exists, it returns ``0``.
* The proximal operator of a function ``g`` is
  ``prox_g(z) = argmin_x 0.5 * (x - z)**2 + g(x)``, applied elementwise.  The three operators
  here take a coefficient ``t`` (a threshold, the book's :math:`\tau`, not a step index):
  ``prox_l1(z, t)`` is ``prox_g`` for ``g(x) = t * |x|``, ``prox_lhalf(z, t)`` for
  ``g(x) = t * |x|**0.5``, and ``prox_l2(z, t)`` for ``g(x) = (t / 2) * x**2`` (note the 1/2).
  A proximal gradient step on ``loss + g`` with learning rate ``lr`` (:math:`\eta`) is
  ``w <- prox_{lr * g}(w - lr * grad loss(w))``.
* :func:`prox_lk` is the **only** place that maps the book's penalty to those operators:
  the prox of ``lr * alpha * mean(|w|**k)`` over ``d`` weights, with the threshold
  ``tau = lr * alpha / d``, is ``prox_l1(z, tau)``
  for ``k = 1``, ``prox_lhalf(z, tau)`` for ``k = 0.5`` and ``prox_l2(z, 2 * tau)`` for
  ``k = 2``.
* :func:`lk_penalty_rows` and :func:`lk_grad_rows` are the same penalty and gradient for a
  batch of weight vectors (the rows of ``W``, one ``k`` and ``alpha`` per row), the form the
  batched linear engine :mod:`weightreg.linear` uses.  One implementation of ``|w|**p`` with
  the value 0 at ``w = 0`` (no ``0**negative``, forward or backward) serves all of them.
* :func:`penalty_descent` and :func:`prox_descent` simulate gradient and proximal descent on
  the *per-weight* penalty ``alpha * |w|**k`` (no mean), every entry of ``w0`` being one
  independent weight.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from .divergence import blowup_limit, diverged_rows_kernel, report
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
    "lk_penalty_rows",
    "lk_grad_rows",
    "prox_l1",
    "prox_l2",
    "prox_lhalf",
    "prox_lk",
    "prox_elastic_net",
    "PROX_KS",
    "lhalf_threshold",
    "penalty_descent",
    "prox_descent",
]

Weights = torch.Tensor | Sequence[torch.Tensor]


def _check_k(k: object) -> float:
    return check_positive("k", k)


def _check_t(t: object, z: torch.Tensor) -> float | torch.Tensor:
    """``t`` is a number >= 0 or a tensor of such numbers broadcastable against ``z``."""
    if isinstance(t, torch.Tensor) and t.numel() != 1:
        return _nonneg_tensor("t", t, z, positive=False)
    return check_nonnegative("t", t)


def _abs_pow_safe(w: torch.Tensor, p: float | torch.Tensor) -> torch.Tensor:
    """``|w|**p`` with the value 0 where ``w == 0``, for any real ``p`` (a number or a tensor
    broadcastable against ``w``), and no ``0**negative`` anywhere, forward or backward.

    The "double where": the power is taken of a copy of ``|w|`` in which zeros are replaced by
    ones, and the zeros are put back afterwards, so neither the value nor the autograd gradient
    at ``w = 0`` is ever ``inf`` or NaN.  The one implementation of this trick in the package:
    the penalties, their gradients (single tensors and rows), and :mod:`weightreg.dynamics`.
    """
    zero = w == 0
    safe = torch.where(zero, torch.ones_like(w), w.abs())
    return torch.where(zero, torch.zeros_like(w), safe**p)


def _abs_pow(w: torch.Tensor, k: float | torch.Tensor) -> torch.Tensor:
    """``|w|**k`` whose autograd gradient at ``w = 0`` is 0 (not NaN) for every ``k > 0``.

    Even integer ``k`` up to 64 (a number): ``w**k`` (smooth, so higher derivatives are right
    at 0 too).  Otherwise :func:`_abs_pow_safe`.
    """
    if not isinstance(k, torch.Tensor) and k <= 64 and k == int(k) and int(k) % 2 == 0:
        return w ** int(k)
    return _abs_pow_safe(w, k)


def _elementwise_grad(w: torch.Tensor, k: float | torch.Tensor) -> torch.Tensor:
    """``d/dw |w|**k = k * sign(w) * |w|**(k-1)``, with the value 0 at ``w = 0``; ``k`` a
    number or a tensor broadcastable against ``w`` (one value per row, say)."""
    if not isinstance(k, torch.Tensor) and k >= 1:  # no negative power of 0: the plain form
        return k * torch.sign(w) * w.abs() ** (k - 1)
    return k * torch.sign(w) * _abs_pow_safe(w, k - 1)


def _overflow_check(
    result: torch.Tensor, tensors: list[torch.Tensor], k: float, what: str, w: str = "w"
):
    """Raise a ``ValueError`` naming ``w`` (the weights' argument name) and ``k`` if ``result``
    overflowed (finite input)."""
    if not bool(torch.isfinite(result.detach()).all()):
        top = max(float(t.detach().abs().max()) for t in tensors)
        raise ValueError(
            f"{what} overflows the range of {result.dtype} for these {w} and k (largest |{w}| = "
            f"{top:.3g}, k = {k:g}): rescale {w} or use a smaller k"
        )
    return result


def lk_penalty(w: Weights, k: float, alpha: float = 1.0) -> torch.Tensor:
    r"""The Lk penalty ``alpha * mean(|w|**k)``, a differentiable scalar tensor.

    .. math:: \Omega_k(w) = \frac{\alpha}{d} \sum_{j=1}^{d} |w_j|^k

    ``w`` is a tensor or a list of tensors; with a list, the mean runs over all
    their entries together (``d`` is the total count).  Autograd gives the same
    gradient as :func:`lk_grad`, including the value 0 at ``w = 0`` for ``k <= 1``.
    Note the name: for ``k = 2`` this is a mean of *squares*, not a norm.
    Introduced in *L2: shrinking every weight*.
    """
    k = _check_k(k)
    alpha = check_nonnegative("alpha", alpha)
    tensors = as_tensor_list("w", w)
    n = sum(t.numel() for t in tensors)
    total = sum(_abs_pow(t, k).sum() for t in tensors)
    return _overflow_check(alpha * total / n, tensors, k, "the penalty alpha * mean(|w|**k)")


def lk_grad(w: Weights, k: float, alpha: float = 1.0) -> torch.Tensor | list[torch.Tensor]:
    r"""The analytic gradient of :func:`lk_penalty` with respect to ``w``, same shape.

    .. math:: \frac{\partial \Omega_k}{\partial w_j} = \frac{\alpha k}{d}
              \operatorname{sign}(w_j)\, |w_j|^{k-1}

    For ``k > 1`` this is the true derivative everywhere (it vanishes at 0).  For
    ``k <= 1`` the penalty has a kink (``k = 1``) or a cusp (``k < 1``) at 0 and no
    derivative there; we return 0.  For ``k = 1`` that is the element of the
    subdifferential ``[-alpha/d, alpha/d]`` of smallest magnitude (the one that lets
    a weight that *is* zero stay zero, and what ``torch.sign`` and autograd of
    ``abs`` give).  For ``k < 1`` the one-sided derivatives are infinite, and 0 is the
    only choice that keeps a step finite.  Given a list of tensors it returns a
    list of gradients, with ``d`` the total number of entries.
    Introduced in *L2: shrinking every weight*.
    """
    k = _check_k(k)
    alpha = check_nonnegative("alpha", alpha)
    tensors = as_tensor_list("w", w)
    n = sum(t.numel() for t in tensors)
    grads = [alpha / n * _elementwise_grad(t.detach(), k) for t in tensors]
    for g in grads:
        _overflow_check(g, tensors, k, "the gradient alpha * k * |w|**(k-1) / n")
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
    g = alpha * _elementwise_grad(w.detach(), k)
    return _overflow_check(g, [w], k, "the derivative alpha * k * |w|**(k-1)")


def _row_values(name: str, value: object, W: torch.Tensor, *, positive: bool) -> torch.Tensor:
    """A number or one value per row of ``W`` (shape ``(C,)``), as a ``(C, 1)`` column."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number or a 1-D tensor (one value per row), got bool")
    if isinstance(value, torch.Tensor):
        if value.dim() > 1 or value.numel() not in (1, W.shape[0]):
            raise ValueError(
                f"{name} must be a number or one value per row, shape ({W.shape[0]},), "
                f"got shape {tuple(value.shape)}"
            )
        t = check_finite_tensor(name, value).to(W.dtype).reshape(-1, 1)
        bad = (t <= 0) if positive else (t < 0)
        if bool(bad.any()):
            raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'} for every row")
        return t
    v = check_positive(name, value) if positive else check_nonnegative(name, value)
    return torch.tensor([[v]], dtype=W.dtype)


def _check_rows(W: object) -> torch.Tensor:
    W = check_finite_tensor("W", W)
    if W.dim() != 2:
        raise ValueError(
            f"W must have shape (rows, d), one weight vector per row, got {tuple(W.shape)}"
        )
    return W


def lk_penalty_rows(
    W: torch.Tensor, k: float | torch.Tensor, alpha: float | torch.Tensor
) -> torch.Tensor:
    r"""The penalty ``alpha[c] * mean_j |W[c, j]|**k[c]`` of every row ``c``, shape ``(C,)``.

    The row-wise batch of :func:`lk_penalty` (same values), with ``k > 0`` and ``alpha >= 0``
    numbers or one value per row (shape ``(C,)``).  Introduced in *L0.5*.
    """
    W = _check_rows(W)
    k_c = _row_values("k", k, W, positive=True)
    a_c = _row_values("alpha", alpha, W, positive=False)
    value = _lk_penalty_rows(W, k_c, a_c)
    return _overflow_check(value, [W], float(k_c.max()), "the penalty", w="W")


def _lk_penalty_rows(W: torch.Tensor, k: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Unchecked kernel of :func:`lk_penalty_rows`: ``k`` and ``alpha`` are ``(C, 1)`` columns."""
    return alpha[:, 0] * _abs_pow_safe(W, k).mean(dim=1)


def lk_grad_rows(
    W: torch.Tensor, k: float | torch.Tensor, alpha: float | torch.Tensor
) -> torch.Tensor:
    r"""Gradient of ``alpha[c] * mean_j |W[c, j]|**k[c]`` for every row ``c`` at once.

    .. math:: \frac{\partial}{\partial W_{cj}} = \frac{\alpha_c k_c}{d}
              \operatorname{sign}(W_{cj}) |W_{cj}|^{k_c - 1}, \quad \text{0 where } W_{cj} = 0,

    the row-wise batch of :func:`lk_grad` (same values, same choice 0 at ``w = 0``), with
    ``k > 0`` and ``alpha >= 0`` numbers or one value per row (shape ``(C,)``).
    Introduced in *L0.5*.
    """
    W = _check_rows(W)
    k_c = _row_values("k", k, W, positive=True)
    a_c = _row_values("alpha", alpha, W, positive=False)
    g = _lk_grad_rows(W, k_c, a_c)
    return _overflow_check(
        g, [W], float(k_c.max()), "the gradient alpha * k * |W|**(k-1) / d", w="W"
    )


def _lk_grad_rows(W: torch.Tensor, k: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Unchecked kernel of :func:`lk_grad_rows`: ``k`` and ``alpha`` are ``(C, 1)`` columns."""
    return alpha / W.shape[1] * _elementwise_grad(W, k)


def prox_l1(z: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    r"""Soft thresholding, the proximal operator of ``t * |x|``, elementwise.

    .. math:: \operatorname{prox}_{\tau|\cdot|}(z) = \arg\min_x \tfrac12 (x - z)^2 + \tau|x|
              = \operatorname{sign}(z) \max(|z| - \tau, 0), \qquad \tau = \mathtt{t}

    Every ``|z| <= t`` maps to an *exact* zero; larger entries move ``t`` toward 0.
    The threshold ``t`` is a number ``>= 0`` or a tensor of them broadcastable to ``z`` (one
    threshold per row of a batched sweep, say).  Introduced in *L1: exact zeros*.
    """
    check_finite_tensor("z", z)
    t = _check_t(t, z)
    return torch.sign(z) * torch.clamp(z.abs() - t, min=0)


def prox_l2(z: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    r"""The proximal operator of ``(t / 2) * x**2``, elementwise: a pure rescaling.

    .. math:: \operatorname{prox}(z) = \arg\min_x \tfrac12 (x - z)^2 + \tfrac{\mathtt{t}}{2} x^2
              = \frac{z}{1 + \mathtt{t}}

    With ``t = lr * lambd`` (:math:`\eta\lambda`) this is the proximal step of the L2 penalty
    :math:`\frac{\lambda}{2}\lVert w\rVert_2^2`: the factor :math:`1/(1 + \eta\lambda)`.
    It never produces a zero from a non-zero ``z``.  ``t`` is a number ``>= 0`` or a tensor
    of them, as in :func:`prox_l1`.
    Introduced in *L2: shrinking every weight*.
    """
    check_finite_tensor("z", z)
    t = _check_t(t, z)
    return z / (1 + t)


def prox_elastic_net(
    z: torch.Tensor, t: float | torch.Tensor, l1_ratio: float | torch.Tensor
) -> torch.Tensor:
    r"""The proximal operator of the elastic-net penalty ``t * (rho |x| + (1 - rho)/2 x**2)``.

    Elementwise, with :math:`\rho` = ``l1_ratio`` in ``[0, 1]``:

    .. math:: \operatorname{prox}(z) = \arg\min_x \tfrac12 (x - z)^2
              + t\left(\rho|x| + \tfrac{1-\rho}{2} x^2\right)
              = \frac{\operatorname{sign}(z)\max(|z| - t\rho, 0)}{1 + t(1-\rho)}

    soft thresholding at ``t * rho`` (:func:`prox_l1`), then the rescaling of :func:`prox_l2`
    with ``t * (1 - rho)``: ``prox_l2(prox_l1(z, t * rho), t * (1 - rho))``.  ``rho = 1`` is
    soft thresholding, ``rho = 0`` the L2 prox.  In scikit-learn's ``ElasticNet(alpha=a,
    l1_ratio=rho)`` (objective ``||y - X w||**2 / (2 n) + a rho ||w||_1 + a (1 - rho) / 2
    ||w||**2``) a proximal gradient step of size ``lr`` uses ``t = lr * a``.  ``t`` is a number
    ``>= 0`` or a tensor of them broadcastable to ``z`` (one per row of a batched sweep);
    ``l1_ratio`` a number in ``[0, 1]`` or such a tensor.
    Introduced in *Elastic net, and choosing the strength*.
    """
    check_finite_tensor("z", z)
    t = _check_t(t, z)
    if isinstance(l1_ratio, torch.Tensor) and l1_ratio.numel() != 1:
        rho = _nonneg_tensor("l1_ratio", l1_ratio, z, positive=False)
        if bool((rho > 1).any()):
            raise ValueError("l1_ratio must be in [0, 1] everywhere")
    else:
        if isinstance(l1_ratio, torch.Tensor):
            l1_ratio = check_finite_tensor("l1_ratio", l1_ratio).item()
        rho = check_nonnegative("l1_ratio", l1_ratio)
        if rho > 1:
            raise ValueError(f"l1_ratio must be in [0, 1], got {rho}")
    return torch.sign(z) * torch.clamp(z.abs() - t * rho, min=0) / (1 + t * (1 - rho))


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
    ``lr * alpha / d * |w_j|**k`` on each entry, so with the threshold
    :math:`\tau = \eta\alpha/d` (``lr * alpha / d``)

    .. math:: \begin{aligned}
              \operatorname{prox}(z) &= \arg\min_x \tfrac12 (x - z)^2 + \tau |x|^k \\
              &= \begin{cases} \mathtt{prox\_lhalf}(z, \tau) & k = 1/2 \\
                               \mathtt{prox\_l1}(z, \tau) & k = 1 \\
                               \mathtt{prox\_l2}(z, 2\tau) = z / (1 + 2\tau) & k = 2
                 \end{cases}
              \end{aligned}

    (``prox_l2(z, t)`` is the prox of ``(t/2) x**2``, hence :math:`2\tau`; and
    :math:`2\tau = \eta\lambda` with the weight-decay coefficient :math:`\lambda = 2\alpha/d`).
    ``k``, ``alpha`` and ``lr`` are numbers or tensors broadcastable against ``z`` (one value
    per row of a batched sweep: shape ``(C, 1)`` for ``z`` of shape ``(C, d)``); every ``k``
    must be in :data:`PROX_KS`.
    Proximal gradient descent with this step (and ``lr <= 1/L``) converges to the minimizer of
    ``mean_i (x_i w + b - y_i)**2 / 2 + alpha * mean_j |w_j|**k``; in scikit-learn's terms
    (objective ``||y - X w - b||**2 / (2 n) + a ||w||_1`` for ``Lasso`` and
    ``||y - X w - b||**2 + a ||w||**2`` for ``Ridge``), that is ``Lasso(alpha=alpha / d)`` for
    ``k = 1`` and ``Ridge(alpha=2 * n * alpha / d)`` for ``k = 2``, with ``n`` examples and
    ``d`` weights.  Tested against both, and against the closed-form ridge solution
    :func:`weightreg.linear.ridge_path`.  Introduced in *L1: exact zeros*.
    """
    check_finite_tensor("z", z)
    num_weights = check_positive_int("num_weights", num_weights)
    k_t = _prox_k_tensor(k, z)
    a_t = _nonneg_tensor("alpha", alpha, z, positive=False)
    lr_t = _nonneg_tensor("lr", lr, z, positive=True)
    return _prox_lk(z, k_t, a_t * lr_t / num_weights)


def _check_prox_k(k: object) -> float:
    k = _check_k(k)
    if k not in PROX_KS:
        raise ValueError(f"k must be one of {PROX_KS} (a penalty with a closed-form prox), got {k}")
    return k


def _prox_k_tensor(k: object, z: torch.Tensor) -> torch.Tensor:
    if not isinstance(k, torch.Tensor):
        return torch.tensor(_check_prox_k(k), dtype=z.dtype)
    k_t = _nonneg_tensor("k", k, z, positive=True)
    if not bool(torch.isin(k_t, torch.tensor(PROX_KS, dtype=z.dtype)).all()):
        raise ValueError(
            f"k must be one of {PROX_KS} (a penalty with a closed-form prox) everywhere"
        )
    return k_t


def _nonneg_tensor(name: str, value: object, z: torch.Tensor, *, positive: bool) -> torch.Tensor:
    """A number (> 0 or >= 0) or a tensor of them broadcastable against ``z``, in z's dtype."""
    if not isinstance(value, torch.Tensor):
        v = check_positive(name, value) if positive else check_nonnegative(name, value)
        return torch.tensor(v, dtype=z.dtype)
    check_finite_tensor(name, value)
    if bool(((value <= 0) if positive else (value < 0)).any()):
        raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'} everywhere")
    try:
        torch.broadcast_shapes(value.shape, z.shape)
    except RuntimeError:
        raise ValueError(
            f"{name} must be a number or a tensor broadcastable to z's shape {tuple(z.shape)}, "
            f"got shape {tuple(value.shape)}"
        ) from None
    return value.to(z.dtype)


def _prox_lk(z: torch.Tensor, k: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
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
    r"""The jump point of :func:`prox_lhalf` for the threshold ``t``: ``(3/2) * t**(2/3)``.

    For ``|z|`` below it the proximal point is 0; at it, 0 and ``sign(z) * t**(2/3)``
    tie; above it, the non-zero root wins.  (Xu et al. 2012 minimize
    ``(x - z)**2 + 2 t * |x|**0.5``, twice our objective, and write the same point as
    ``54**(1/3) / 4 * (2 t)**(2/3)``.)  Introduced in *L0.5*.
    """
    if isinstance(t, torch.Tensor) and t.numel() != 1:
        return 1.5 * _check_t(t, t) ** (2.0 / 3.0)
    t = check_nonnegative("t", t)
    return 1.5 * t ** (2.0 / 3.0)


def prox_lhalf(z: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    r"""Half thresholding: the exact proximal operator of ``t * |x|**0.5``, elementwise.

    .. math:: \operatorname{prox}(z) = \arg\min_x \tfrac12 (x - z)^2 + \tau\sqrt{|x|},
              \qquad \tau = \mathtt{t}

    Closed form of Xu, Chang, Xu and Zhang (2012), rewritten for this objective
    (theirs is twice it, ``(x - z)**2 + 2 t * |x|**0.5``):

    .. math:: \operatorname{prox}(z) = \begin{cases}
              \tfrac23 z \left(1 + \cos\left(\tfrac{2\pi}{3} - \tfrac23 \varphi(z)\right)\right)
              & |z| > \tfrac32 \tau^{2/3} \\ 0 & |z| \le \tfrac32 \tau^{2/3} \end{cases}

    with

    .. math:: \varphi(z) = \arccos\left(\tfrac{\tau}{4} \left(\tfrac{|z|}{3}\right)^{-3/2}
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

    .. math:: w_{t+1} = w_t - \eta\, \alpha k \operatorname{sign}(w_t) |w_t|^{k-1}

    with the learning rate :math:`\eta` = ``lr`` and the gradient 0 at ``w = 0`` (see
    :func:`lk_grad`).  Every entry of ``w0``
    (any shape) is an independent weight, so one call runs many starting points at
    once.  Returns a tensor of shape ``(steps + 1, *w0.shape)`` whose row ``t`` is
    the weights after ``t`` steps (row 0 is ``w0``).  Note that the penalty here is
    *not* averaged over the entries: batching starting points does not change any
    single trajectory.

    Divergence follows :mod:`weightreg.divergence`, each entry of ``w0`` being one
    configuration watched through ``|w|``: an entry that is not finite or exceeds
    ``BLOWUP_FACTOR * max(|w0|, 1)`` is frozen and NaN from that step on, and reported
    (a warning naming the entries; :class:`~weightreg.divergence.TrainingDiverged` when all
    diverge).  Introduced in *L2: shrinking every weight*.
    """
    check_finite_tensor("w0", w0)
    k = _check_k(k)
    alpha = check_nonnegative("alpha", alpha)
    lr = check_positive("lr", lr)
    steps = check_positive_int("steps", steps)
    traj = _penalty_descent(w0.detach(), k, alpha, lr, steps)
    report(
        torch.isnan(traj[-1]).reshape(-1),
        advice=(
            f"lower the step lr * alpha (here lr = {lr:.3g}, alpha = {alpha:.3g}), lower k "
            f"(here k = {k:g}: |w|**(k-1) grows fast for |w| > 1) or start closer to 0"
        ),
        what="starting weights",
    )
    return traj


def _penalty_descent(w0: torch.Tensor, k: float, alpha: float, lr: float, steps: int):
    """Unchecked kernel of :func:`penalty_descent` (no report: diverged entries are NaN)."""
    w = w0.clone()
    out = torch.empty((steps + 1, *w0.shape), dtype=w0.dtype)
    out[0] = w
    step = lr * alpha
    for s in range(steps):
        w = w - step * _elementwise_grad(w, k)
        out[s + 1] = w
    # Entries are independent, so freezing can be done afterwards: from the first step at which
    # an entry diverged, it is NaN.
    bad = diverged_rows_kernel(out.abs(), blowup_limit(w0.abs()))
    bad = torch.cummax(bad.to(torch.uint8), dim=0).values.bool()
    return torch.where(bad, torch.full_like(out, math.nan), out)


def prox_descent(w0: torch.Tensor, k: float, alpha: float, lr: float, steps: int) -> torch.Tensor:
    r"""Proximal steps on the per-weight penalty ``alpha * |w|**k`` alone; the trajectory.

    .. math:: w_{t+1} = \operatorname{prox}_{\eta\alpha|\cdot|^k}(w_t)
              = \arg\min_x \tfrac12 (x - w_t)^2 + \eta\alpha |x|^k

    for ``k`` in :data:`PROX_KS`, through :func:`prox_lk` with one weight per penalty
    (``num_weights=1``).  Every entry of ``w0`` (any shape) is an independent weight; returns
    a tensor of shape ``(steps + 1, *w0.shape)`` as :func:`penalty_descent` does (proximal
    steps never diverge: every step shrinks ``|w|``).  Introduced in *L1: exact zeros*.
    """
    check_finite_tensor("w0", w0)
    k = _check_prox_k(k)
    alpha = check_nonnegative("alpha", alpha)
    lr = check_positive("lr", lr)
    steps = check_positive_int("steps", steps)
    return _prox_descent(w0.detach(), k, alpha, lr, steps)


def _prox_descent(w0: torch.Tensor, k: float, alpha: float, lr: float, steps: int):
    """Unchecked kernel of :func:`prox_descent`."""
    k_t, t = torch.tensor(k, dtype=w0.dtype), lr * alpha  # t a Python float: no rounding
    out = [w0.clone()]
    for _ in range(steps):
        out.append(_prox_lk(out[-1], k_t, t))
    return torch.stack(out)

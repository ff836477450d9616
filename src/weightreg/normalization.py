"""Weight decay on scale-invariant weights: the exponential schedule and the equilibrium.

Introduced in the part *Weight decay in normalized networks*: the chapters *Scale
invariance* (``book/normalized/scale_invariance.md``) and *The equilibrium of weight decay*
(``book/normalized/equilibrium.md``).

A weight vector :math:`\\mathbf w` is **scale-invariant** when the loss does not change if it
is multiplied by any :math:`c > 0`, :math:`\\ell(c\\mathbf w) = \\ell(\\mathbf w)`, as for the
incoming weights of a unit followed by batch or layer normalization.  Conventions (the book's
glossary): :math:`\\eta` is the learning rate and :math:`\\lambda` PyTorch's ``weight_decay``
(gradient descent with decay adds :math:`\\lambda\\mathbf w` to the gradient, or, decoupled,
multiplies by :math:`1 - \\eta\\lambda`); steps are :math:`t = 0, 1, \\dots, T-1`; angles are
in radians.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .optim import adam_kernel_, sgd_kernel_
from .validation import (
    check_choice,
    check_finite_tensor,
    check_int,
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_probability,
    check_same_shape,
    check_seed,
)

__all__ = [
    "EquilibriumRun",
    "adamw_equilibrium_norm",
    "angle",
    "equilibrium_angle",
    "exponential_lr_schedule",
    "sgd_equilibrium_norm",
    "simulate_equilibrium",
]


def exponential_lr_schedule(lr: float, weight_decay: float, steps: int) -> torch.Tensor:
    """Learning rates of the decay-free run that matches gradient descent with weight decay.

    Li & Arora (2020): on a scale-invariant loss, gradient descent with learning rate
    :math:`\\eta` and weight decay :math:`\\lambda` (``w <- w - eta (grad + lambda w)``) gives,
    at every step, the same direction :math:`\\mathbf w_t/\\lVert\\mathbf w_t\\rVert` as
    gradient descent **without** decay with the learning rates

    .. math:: \\eta_t = \\eta\\,(1 - \\eta\\lambda)^{-2t-1}, \\qquad t = 0, \\dots, T-1,

    which this function returns as a float64 tensor of shape ``(steps,)``.  Requires
    ``lr > 0``, ``weight_decay > 0`` with ``lr * weight_decay < 1`` (else the decayed run's
    factor :math:`1 - \\eta\\lambda` is not positive), and ``steps >= 1``; raises
    ``ValueError`` if the last rates overflow float64 (never returns ``inf``).  Chapter: *Scale
    invariance* (``book/normalized/scale_invariance.md``).
    """
    lr = check_positive("lr", lr)
    weight_decay = check_positive("weight_decay", weight_decay)
    steps = check_positive_int("steps", steps)
    if lr * weight_decay >= 1:
        raise ValueError(
            f"lr * weight_decay must be < 1 (the decay factor 1 - lr * weight_decay must be "
            f"positive), got lr={lr:g}, weight_decay={weight_decay:g}"
        )
    t = torch.arange(steps, dtype=torch.float64)
    log_shrink = torch.log1p(torch.tensor(-lr * weight_decay, dtype=torch.float64))
    rates = lr * torch.exp(-(2 * t + 1) * log_shrink)
    if not bool(torch.isfinite(rates).all()):
        first = int((~torch.isfinite(rates)).nonzero()[0, 0])
        raise ValueError(
            f"the schedule overflows float64 at step {first} of steps={steps} (it grows like "
            f"(1 - lr * weight_decay)**(-2t)): use fewer steps or a smaller lr * weight_decay"
        )
    return rates


# --------------------------------------------------------------------------------------------
# The equilibrium of weight decay (chapter *The equilibrium of weight decay*,
# ``book/normalized/equilibrium.md``)

_OPTIMIZERS = ("sgd", "adamw")


def _check_decay_pair(lr: object, weight_decay: object) -> tuple[float, float]:
    """``lr > 0`` and ``weight_decay > 0`` with ``lr * weight_decay < 1``."""
    lr = check_positive("lr", lr)
    weight_decay = check_positive("weight_decay", weight_decay)
    if lr * weight_decay >= 1:
        raise ValueError(
            f"lr * weight_decay must be < 1 (the decay factor 1 - lr * weight_decay must be "
            f"positive), got lr={lr:g}, weight_decay={weight_decay:g}"
        )
    return lr, weight_decay


def _check_betas(betas: object) -> tuple[float, float]:
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    return check_probability("betas[0]", betas[0]), check_probability("betas[1]", betas[1])


def equilibrium_angle(
    optimizer: str,
    lr: float,
    weight_decay: float,
    momentum: float = 0.0,
    betas: tuple[float, float] = (0.9, 0.999),
) -> float:
    """Predicted angle (radians) between consecutive iterates of a scale-invariant weight.

    The model (chapter *The equilibrium of weight decay*, ``book/normalized/equilibrium.md``):
    the stochastic gradient of a scale-invariant weight vector :math:`\\mathbf w` is orthogonal
    to :math:`\\mathbf w` and uncorrelated across steps.  At equilibrium, where weight decay's
    shrinking balances the gradient's growing of :math:`\\lVert\\mathbf w\\rVert`, the angle
    :math:`\\varphi_t` between :math:`\\mathbf w_t` and :math:`\\mathbf w_{t+1}` settles at

    * ``"sgd"`` (``torch.optim.SGD(lr, momentum, weight_decay)``: :math:`\\lambda\\mathbf w`
      added to the gradient, momentum :math:`\\mu`, no dampening) -- Wan et al. (2021):

      .. math:: \\varphi_{\\mathrm{eq}} = \\sqrt{2\\eta\\lambda/(1 + \\mu)};

    * ``"adamw"`` (``torch.optim.AdamW(lr, betas, weight_decay)``: factor
      :math:`1 - \\eta\\lambda` per step, Adam's update :math:`\\hat m/(\\sqrt{\\hat v} +
      \\epsilon)` whose normalized gradient has entries of mean square 1):

      .. math::
         \\varphi_{\\mathrm{eq}} = \\sqrt{2\\eta\\lambda\\,\\frac{1 - \\beta_1}{1 + \\beta_1}},

      the chapter's derivation; the same expression is the equilibrium angular update that
      Kosson et al. (2024) use for AdamW in their public code.  Without momentum
      (:math:`\\beta_1 = 0`) it is :math:`\\sqrt{2\\eta\\lambda}`; the first moment, an average
      of uncorrelated gradients, shrinks the expected squared step by
      :math:`(1 - \\beta_1)/(1 + \\beta_1)` (0.053 for :math:`\\beta_1 = 0.9`) without changing
      the equilibrium norm (:func:`adamw_equilibrium_norm`).  :math:`\\beta_2` plays no role.

    Both are leading order in :math:`\\eta\\lambda` (corrections of relative size
    :math:`O(\\eta\\lambda/(1-\\mu))` for SGD, :math:`O(\\eta\\lambda/(1-\\beta_1))` for
    AdamW), for many entries and a second moment :math:`\\hat v` that tracks the gradient's
    (AdamW).  ``momentum`` is used by ``"sgd"`` only and ``betas`` by ``"adamw"`` only, but
    both are checked.  Raises
    ``ValueError`` unless ``optimizer`` is ``"sgd"`` or ``"adamw"``, ``lr > 0``,
    ``weight_decay > 0`` (without decay there is no equilibrium), ``lr * weight_decay < 1``,
    ``momentum`` and both betas in ``[0, 1)``.
    """
    check_choice("optimizer", optimizer, _OPTIMIZERS)
    lr, weight_decay = _check_decay_pair(lr, weight_decay)
    momentum = check_probability("momentum", momentum)
    beta1, _ = _check_betas(betas)
    if optimizer == "sgd":
        return math.sqrt(2 * lr * weight_decay / (1 + momentum))
    return math.sqrt(2 * lr * weight_decay * (1 - beta1) / (1 + beta1))


def adamw_equilibrium_norm(lr: float, weight_decay: float, num_entries: int) -> float:
    """Predicted equilibrium norm of a scale-invariant weight of ``num_entries`` under AdamW.

    Under the model of :func:`equilibrium_angle` (``torch.optim.AdamW``, normalized gradient
    orthogonal to :math:`\\mathbf w`, uncorrelated across steps, :math:`C` entries each of mean
    square 1), the decay removes :math:`2\\eta\\lambda\\lVert\\mathbf w\\rVert^2` per step and
    the updates add :math:`\\eta^2 C` (a random walk: each gradient enters the steps with total
    weight 1 whatever :math:`\\beta_1`), so

    .. math:: \\lVert\\mathbf w\\rVert_{\\mathrm{eq}} = \\sqrt{\\eta C/(2\\lambda)}

    (leading order in :math:`\\eta\\lambda`).  :math:`\\beta_1` does **not** change it: it
    only changes how the same growth is split between the steps (the angle,
    :func:`equilibrium_angle`), which is why this signature has no ``betas``.  Entries whose
    gradient is always zero (for example the weights of an input pixel that is constant in the
    training set) do not count in :math:`C`: they only decay.  Chapter: *The equilibrium of
    weight decay* (``book/normalized/equilibrium.md``).  Raises unless ``lr > 0``,
    ``weight_decay > 0``, ``lr * weight_decay < 1`` and ``num_entries`` is an int ``>= 1``.
    """
    lr, weight_decay = _check_decay_pair(lr, weight_decay)
    num_entries = check_positive_int("num_entries", num_entries)
    return math.sqrt(lr * num_entries / (2 * weight_decay))


def sgd_equilibrium_norm(
    lr: float, weight_decay: float, grad_norm: float, momentum: float = 0.0
) -> float:
    """Predicted equilibrium norm of a scale-invariant weight under ``torch.optim.SGD``.

    For a scale-invariant loss the gradient at :math:`\\mathbf w` is the gradient at the
    direction :math:`\\hat{\\mathbf w}` divided by :math:`\\lVert\\mathbf w\\rVert`; let
    ``grad_norm`` :math:`= \\sqrt{\\mathbb E\\lVert\\nabla\\ell(\\hat{\\mathbf w})\\rVert^2}` be
    its root-mean-square size at unit norm.  With :math:`\\lambda\\mathbf w` added to the
    gradient and momentum :math:`\\mu` (the model of :func:`equilibrium_angle`), the decay
    removes :math:`2\\eta\\lambda\\lVert\\mathbf w\\rVert^2/(1-\\mu)` per step and the updates
    add :math:`\\eta^2\\,\\mathtt{grad\\_norm}^2/((1-\\mu)^2\\lVert\\mathbf w\\rVert^2)`, so

    .. math:: \\lVert\\mathbf w\\rVert_{\\mathrm{eq}}
       = \\Big(\\frac{\\eta\\,\\mathtt{grad\\_norm}^2}{2\\lambda(1 - \\mu)}\\Big)^{1/4}

    (leading order in :math:`\\eta\\lambda/(1-\\mu)`).  Unlike AdamW's
    (:func:`adamw_equilibrium_norm`) it depends on the gradient's size; the angle does not.
    Chapter: *The equilibrium of weight decay*.  Raises unless ``lr > 0``,
    ``weight_decay > 0``, ``lr * weight_decay < 1``, ``grad_norm > 0`` and ``momentum`` in
    ``[0, 1)``.
    """
    lr, weight_decay = _check_decay_pair(lr, weight_decay)
    grad_norm = check_positive("grad_norm", grad_norm)
    momentum = check_probability("momentum", momentum)
    return math.sqrt(grad_norm) * (lr / (2 * weight_decay * (1 - momentum))) ** 0.25


@dataclass(frozen=True)
class EquilibriumRun:
    """The result of :func:`simulate_equilibrium`.

    ``norms[r, s, t]`` is :math:`\\lVert\\mathbf w_t\\rVert` for ``t = 0, ..., steps`` and
    ``angles[r, s, t]`` is :math:`\\varphi_t`, the angle in radians between
    :math:`\\mathbf w_t` and :math:`\\mathbf w_{t+1}` for ``t = 0, ..., steps - 1``, for
    configuration ``r`` (entry of ``lrs``/``weight_decays``) and seed ``seeds[s]``.
    """

    norms: torch.Tensor
    angles: torch.Tensor
    optimizer: str
    lrs: tuple[float, ...]
    weight_decays: tuple[float, ...]
    seeds: tuple[int, ...]
    momentum: float
    betas: tuple[float, float]
    num_entries: int

    def tail_means(self, fraction: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean angle and mean norm over the last ``fraction`` of the steps, each ``(R, S)``."""
        fraction = check_positive("fraction", fraction)
        if fraction > 1:
            raise ValueError(f"fraction must be <= 1, got {fraction}")
        steps = self.angles.shape[-1]
        k = max(1, int(round(fraction * steps)))
        return self.angles[..., -k:].mean(-1), self.norms[..., -k:].mean(-1)


def _as_values(name: str, value: object) -> tuple[float, ...]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, str | bytes) or not hasattr(value, "__len__"):
        raise TypeError(f"{name} must be a number or a sequence of numbers, got {value!r}")
    if len(value) == 0:
        raise ValueError(f"{name} must list at least one value")
    return tuple(value)


def _initial_weights(
    seeds: tuple[int, ...], num_entries: int, init_norm: float, dtype: torch.dtype
) -> tuple[torch.Tensor, list[torch.Generator]]:
    """``(S, C)`` initial weights (random direction, norm ``init_norm``) and the generators.

    Seed ``s`` gives its own ``torch.Generator``: first the initial direction, then, step by
    step, the gradients (:func:`_gradient_noise`); all configurations of a seed share both.
    """
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    w0 = torch.stack([torch.randn(num_entries, generator=g, dtype=dtype) for g in gens])
    return init_norm * w0 / w0.norm(dim=-1, keepdim=True), gens


_CHUNK = 256


def _gradient_noise(gens: list[torch.Generator], steps: int, num_entries: int, dtype: torch.dtype):
    """Yield, for ``t = 0, ..., steps - 1``, the ``(S, C)`` standard normal draws of step ``t``.

    Drawn per seed in chunks of ``_CHUNK`` steps, so a seed's stream does not depend on the
    other seeds or on the configurations.
    """
    for start in range(0, steps, _CHUNK):
        n = min(_CHUNK, steps - start)
        block = torch.stack(
            [torch.randn(n, num_entries, generator=g, dtype=dtype) for g in gens], dim=1
        )
        yield from block


def _orthogonal_gradient(w: torch.Tensor, z: torch.Tensor, norm: torch.Tensor) -> torch.Tensor:
    """The model's gradient: ``z`` projected orthogonal to ``w``, divided by ``norm = ||w||``.

    Along the last dimension, ``g = (z - (z . w_hat) w_hat) / ||w||``: orthogonal to ``w`` and
    scaled as the gradient of a scale-invariant loss (``grad l(c w) = grad l(w) / c``).
    """
    w_hat = w / norm
    return (z - (z * w_hat).sum(-1, keepdim=True) * w_hat) / norm


def angle(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The angle in radians between the vectors ``a`` and ``b`` along their last dimension.

    For the unit vectors :math:`\\hat{\\mathbf a}, \\hat{\\mathbf b}` it returns
    :math:`2\\operatorname{atan2}(\\lVert\\hat{\\mathbf a} - \\hat{\\mathbf b}\\rVert,
    \\lVert\\hat{\\mathbf a} + \\hat{\\mathbf b}\\rVert)`, which stays accurate for
    tiny angles (``acos`` of the cosine returns 0 below about 1e-8 in float64) and near
    :math:`\\pi`; the angular update :math:`\\varphi_t` of the book is
    ``angle(w_t, w_next)``.  ``a`` and ``b`` are finite floating tensors of the same shape
    (the leading dimensions are batch dimensions) with nonzero vectors.  Chapter: *The
    equilibrium of weight decay* (``book/normalized/equilibrium.md``).
    """
    check_finite_tensor("a", a)
    check_finite_tensor("b", b)
    check_same_shape("a", a, "b", b)
    if bool((a.norm(dim=-1) == 0).any() or (b.norm(dim=-1) == 0).any()):
        raise ValueError("a and b must not contain zero vectors (their angle is undefined)")
    return _angle(a, b)


def _angle(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """:func:`angle` without the argument checks (for inner loops)."""
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    return 2 * torch.atan2((a - b).norm(dim=-1), (a + b).norm(dim=-1))


def simulate_equilibrium(
    optimizer: str,
    lr: float | Sequence[float],
    weight_decay: float | Sequence[float],
    *,
    momentum: float = 0.0,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    num_entries: int = 512,
    steps: int = 2000,
    seeds: Sequence[int] = (0, 1, 2),
    init_norm: float = 1.0,
    dtype: torch.dtype = torch.float64,
) -> EquilibriumRun:
    """Simulate the model of :func:`equilibrium_angle` with the real update rules, batched.

    A weight vector of ``num_entries`` :math:`= C` entries starts in a random direction with
    norm ``init_norm``; at every step its gradient is a fresh standard normal draw
    :math:`\\mathbf z_t` projected orthogonal to :math:`\\mathbf w_t` and divided by
    :math:`\\lVert\\mathbf w_t\\rVert`, :math:`\\mathbf g_t = (\\mathbf z_t - (\\mathbf
    z_t\\cdot\\hat{\\mathbf w}_t)\\hat{\\mathbf w}_t)/\\lVert\\mathbf w_t\\rVert`
    (orthogonal to :math:`\\mathbf w_t`, independent across steps, scaled as a scale-invariant
    loss's gradient, :math:`\\nabla\\ell(c\\mathbf w) = \\nabla\\ell(\\mathbf w)/c`, with
    :math:`\\mathbb E\\lVert\\nabla\\ell(\\hat{\\mathbf w})\\rVert^2 = C - 1`), and the
    optimizer steps:

    * ``"sgd"``: ``weightreg.optim.sgd_kernel_`` with coupled decay (``decoupled=False``),
      that is ``torch.optim.SGD(lr, momentum, weight_decay)``;
    * ``"adamw"``: ``weightreg.optim.adam_kernel_`` with decoupled decay, that is
      ``torch.optim.AdamW(lr, betas, eps, weight_decay)``.

    ``lr`` and ``weight_decay`` are numbers or sequences of one length ``R`` (a number is
    repeated): configuration ``r`` uses ``(lr[r], weight_decay[r])``.  All ``R`` configurations
    and all ``seeds`` (``S`` of them) run as one stack of shape ``(R, S, C)``; seed ``s`` fixes
    the initial direction and the gradient draws, shared by every configuration.  Returns an
    :class:`EquilibriumRun` with ``norms`` ``(R, S, steps + 1)`` and ``angles`` ``(R, S,
    steps)``.  Chapter: *The equilibrium of weight decay* (``book/normalized/equilibrium.md``).

    Raises ``TypeError``/``ValueError`` unless ``optimizer`` is ``"sgd"`` or ``"adamw"``, every
    ``lr > 0`` and ``weight_decay >= 0`` with ``lr * weight_decay < 1``, the sequences have
    one length, ``momentum`` and the betas lie in ``[0, 1)``, ``eps > 0``, ``num_entries`` is
    an int ``>= 2``, ``steps`` an int ``>= 1``, ``seeds`` a non-empty sequence of ints
    ``>= 0``, ``init_norm`` in ``[1e-100, 1e100]`` and ``dtype`` is ``torch.float32`` or
    ``torch.float64``.
    """
    check_choice("optimizer", optimizer, _OPTIMIZERS)
    lrs = tuple(check_positive(f"lr[{i}]", v) for i, v in enumerate(_as_values("lr", lr)))
    wds = tuple(
        check_nonnegative(f"weight_decay[{i}]", v)
        for i, v in enumerate(_as_values("weight_decay", weight_decay))
    )
    if len(lrs) != len(wds) and 1 not in (len(lrs), len(wds)):
        raise ValueError(
            f"lr and weight_decay must have one length (or one of them a single number), got "
            f"{len(lrs)} and {len(wds)}"
        )
    n_conf = max(len(lrs), len(wds))
    lrs, wds = lrs * (n_conf // len(lrs)), wds * (n_conf // len(wds))
    for a, b in zip(lrs, wds, strict=True):
        if a * b >= 1:
            raise ValueError(
                f"lr * weight_decay must be < 1 (the decay factor must be positive), got "
                f"lr={a:g}, weight_decay={b:g}"
            )
    momentum = check_probability("momentum", momentum)
    betas = _check_betas(betas)
    eps = check_positive("eps", eps)
    num_entries = check_int("num_entries", num_entries, minimum=2)
    steps = check_positive_int("steps", steps)
    if isinstance(seeds, str | bytes) or not hasattr(seeds, "__len__"):
        raise TypeError(f"seeds must be a sequence of ints >= 0, got {seeds!r}")
    if len(seeds) == 0:
        raise ValueError("seeds must list at least one seed")
    seeds = tuple(check_seed(f"seeds[{i}]", s) for i, s in enumerate(seeds))
    init_norm = check_positive("init_norm", init_norm)
    if not 1e-100 <= init_norm <= 1e100:
        raise ValueError(
            f"init_norm must lie in [1e-100, 1e100] (squared norms must not overflow), got "
            f"{init_norm:g}"
        )
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")

    w0, gens = _initial_weights(seeds, num_entries, init_norm, dtype)
    w = w0.unsqueeze(0).repeat(n_conf, 1, 1)  # (R, S, C)
    lr_t = torch.tensor(lrs, dtype=dtype).reshape(-1, 1, 1)
    wd_t = torch.tensor(wds, dtype=dtype).reshape(-1, 1, 1)
    norms = torch.empty(steps + 1, n_conf, len(seeds), dtype=dtype)
    angles = torch.empty(steps, n_conf, len(seeds), dtype=dtype)
    norm = w.norm(dim=-1, keepdim=True)
    norms[0] = norm[..., 0]
    buf = torch.zeros_like(w) if (optimizer == "sgd" and momentum > 0) else None
    exp_avg, exp_avg_sq = torch.zeros_like(w), torch.zeros_like(w)
    for t, z in enumerate(_gradient_noise(gens, steps, num_entries, dtype)):
        g = _orthogonal_gradient(w, z, norm)
        before = w.clone()
        if optimizer == "sgd":
            sgd_kernel_(w, g, buf, lr=lr_t, momentum=momentum, weight_decay=wd_t)
        else:
            adam_kernel_(
                w,
                g,
                exp_avg,
                exp_avg_sq,
                t + 1,
                lr=lr_t,
                betas=betas,
                eps=eps,
                weight_decay=wd_t,
                decoupled=True,
            )
        norm = w.norm(dim=-1, keepdim=True)
        norms[t + 1] = norm[..., 0]
        angles[t] = _angle(before, w)
    return EquilibriumRun(
        norms=norms.permute(1, 2, 0).contiguous(),
        angles=angles.permute(1, 2, 0).contiguous(),
        optimizer=optimizer,
        lrs=lrs,
        weight_decays=wds,
        seeds=seeds,
        momentum=momentum,
        betas=betas,
        num_entries=num_entries,
    )

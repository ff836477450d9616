"""SGD and Adam written from scratch, with coupled (L2) or decoupled weight decay.

Introduced in the chapter *L2 regularization is weight decay under SGD*
(``book/decay/sgd.md``, SGD) and used again in *Why L2 fails under Adam, and what
AdamW does* (``book/decay/adamw.md``, Adam) and *The paper's Figure 2, replicated*
(``book/decay/adamw_figure2.md``, the two conventions).

Conventions (the book's notation)
---------------------------------
``lr`` is the learning rate ``eta`` of the step (with a schedule, ``eta_t = eta * s_t``,
``s_t`` the schedule multiplier); ``momentum`` is ``mu``; ``weight_decay`` is ``lambda``,
PyTorch's coefficient.  Both optimizers take a flag ``decoupled``:

* ``decoupled=False`` (**coupled**, L2): ``lambda * p`` (the gradient of the penalty
  ``lambda / 2 * ||p||^2``) is added to the gradient before anything else, as
  ``torch.optim.SGD`` and ``torch.optim.Adam`` do.  The decay then goes through the momentum
  buffer and, in Adam, through the adaptive scaling ``1 / (sqrt(v_hat) + eps)``.
* ``decoupled=True``: the parameter is shrunk directly, ``p <- p * (1 - lr * lambda)``,
  *before* the gradient step and outside momentum and the adaptive scaling, as
  ``torch.optim.AdamW`` does.  Note PyTorch's convention: the shrink factor is multiplied by
  the current learning rate ``eta_t`` (schedule included), so ``eta_t * lambda`` is the decay
  per step.  Loshchilov & Hutter (2019) multiply their coefficient ``lambda_LH`` by the
  schedule multiplier ``s_t`` only, ``p <- (1 - s_t * lambda_LH) p - ...``, so
  ``lambda_LH = eta * lambda``; :func:`torch_weight_decay` converts.  (The paper writes
  ``alpha`` for our ``eta`` and ``eta_t`` for our ``s_t``.)

Ranges (the same everywhere in the book): ``lr > 0``, ``weight_decay >= 0``, ``momentum``
and each beta in ``[0, 1)``, ``eps > 0``, ``step`` an int ``>= 1``.

Checked functions and kernels
-----------------------------
The update rules are the **unchecked kernels** ``sgd_kernel_`` and ``adam_kernel_``: a few
lines of tensor code each, with **no argument checks** (so they are importable by name, as
the chapters do, but not in ``__all__``, not on the API page, and not in the bad-input
battery: bad input gives a silent wrong answer), called in inner loops (the optimizers'
``step()``, the batched sweep of :mod:`weightreg.optim_sweep`) whose arguments were checked
once.  :func:`sgd_update_` and :func:`adam_update_` are their checked public forms: they
raise ``TypeError``/``ValueError`` naming the argument (a non-finite or non-floating tensor,
shapes that differ, a value out of range, ``'False'`` for ``decoupled``), then call the
kernel.  ``lr``, ``momentum`` and ``weight_decay`` may be Python numbers or tensors that
broadcast against the parameter, so the same code updates one tensor (the :class:`SGD` and
:class:`Adam` optimizers) or a stack of many configurations at once.  Per-parameter-group
options (for example no decay on biases) work as in :mod:`torch.optim`: ``SGD([{"params":
weights, "weight_decay": 1e-3}, {"params": biases, "weight_decay": 0.0}], lr=0.1)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch

from .validation import (
    check_bool,
    check_finite_tensor,
    check_int,
    check_nonnegative,
    check_positive,
    check_probability,
    check_real,
)

__all__ = [
    "SGD",
    "Adam",
    "adam_update_",
    "sgd_update_",
    "torch_weight_decay",
]

Scalar = float | torch.Tensor


def sgd_kernel_(
    p: torch.Tensor,
    grad: torch.Tensor,
    momentum_buffer: torch.Tensor | None,
    *,
    lr: Scalar,
    momentum: Scalar = 0.0,
    weight_decay: Scalar = 0.0,
    decoupled: bool = False,
) -> None:
    """One SGD step on ``p``, in place (momentum buffer updated in place too); unchecked.

    With ``lr`` the learning rate ``eta_t``, ``momentum`` ``mu`` and ``weight_decay``
    ``lambda``.  Coupled (L2)::

        g = grad + lambda * p;   b = mu * b + g;   p = p - lr * b

    Decoupled::

        p = p * (1 - lr * lambda);   b = mu * b + grad;   p = p - lr * b

    With ``momentum_buffer=None`` there is no buffer: ``b = g``.  A buffer starting at zero
    gives ``b_1 = g_1``, which is ``torch.optim.SGD``'s first step (no dampening, no
    Nesterov).  No argument checks: :func:`sgd_update_` is the checked form.
    """
    if decoupled:
        p.mul_(1 - lr * weight_decay)
    else:
        grad = grad + weight_decay * p
    if momentum_buffer is not None:
        momentum_buffer.mul_(momentum).add_(grad)
        grad = momentum_buffer
    p.sub_(lr * grad)


def adam_kernel_(
    p: torch.Tensor,
    grad: torch.Tensor,
    exp_avg: torch.Tensor,
    exp_avg_sq: torch.Tensor,
    step: int,
    *,
    lr: Scalar,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: Scalar = 0.0,
    decoupled: bool = False,
) -> None:
    """One Adam step number ``step`` (1, 2, ...) on ``p``, in place (moments too); unchecked.

    ::

        coupled:    g = grad + lambda * p          decoupled:  p = p * (1 - lr * lambda); g = grad
        m = beta1 * m + (1 - beta1) * g            m_hat = m / (1 - beta1**step)
        v = beta2 * v + (1 - beta2) * g**2         v_hat = v / (1 - beta2**step)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    Coupled is ``torch.optim.Adam(weight_decay=lambda)``; decoupled is
    ``torch.optim.AdamW(weight_decay=lambda)``.  No argument checks: :func:`adam_update_`
    is the checked form.
    """
    beta1, beta2 = betas
    if decoupled:
        p.mul_(1 - lr * weight_decay)
    else:
        grad = grad + weight_decay * p
    exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    m_hat = exp_avg / (1 - beta1**step)
    v_hat = exp_avg_sq / (1 - beta2**step)
    p.sub_(m_hat.div_(v_hat.sqrt_().add_(eps)).mul_(lr))  # lr * m_hat / (sqrt(v_hat) + eps)


def _check_state(name: str, value: object, p: torch.Tensor) -> torch.Tensor:
    """A finite real floating tensor of ``p``'s shape."""
    value = check_finite_tensor(name, value)
    if value.shape != p.shape:
        raise ValueError(
            f"{name} must have the shape of p, {tuple(p.shape)}, got {tuple(value.shape)}"
        )
    return value


def _check_hyper(
    name: str, value: object, p: torch.Tensor, *, positive: bool = False, below_one: bool = False
) -> Scalar:
    """A number, or a finite real tensor that broadcasts to ``p``, in the stated range.

    ``positive``: ``> 0``; otherwise ``>= 0``; ``below_one``: also ``< 1``.
    """
    if isinstance(value, torch.Tensor) and value.numel() != 1:
        check_finite_tensor(name, value)
        try:
            shape = torch.broadcast_shapes(value.shape, p.shape)
        except RuntimeError:
            shape = None
        if shape != p.shape:
            raise ValueError(
                f"{name} must broadcast to p's shape {tuple(p.shape)}, got {tuple(value.shape)}"
            )
        low = float(value.min())
        high = float(value.max())
        bad = (low <= 0) if positive else (low < 0)
        if bad or (below_one and high >= 1):
            rng = "> 0" if positive else ("in [0, 1)" if below_one else ">= 0")
            raise ValueError(
                f"every entry of {name} must be {rng}, got one of {low if bad else high}"
            )
        return value
    if below_one:
        check_probability(name, value)
    elif positive:
        check_positive(name, value)
    else:
        check_nonnegative(name, value)
    return value if isinstance(value, torch.Tensor) else check_real(name, value)


def sgd_update_(
    p: torch.Tensor,
    grad: torch.Tensor,
    momentum_buffer: torch.Tensor | None,
    *,
    lr: Scalar,
    momentum: Scalar = 0.0,
    weight_decay: Scalar = 0.0,
    decoupled: bool = False,
) -> None:
    """One SGD step on ``p``, in place: the checked form of ``sgd_kernel_``.

    Coupled (L2): ``g = grad + lambda * p;  b = mu * b + g;  p = p - lr * b``.
    Decoupled: ``p = p * (1 - lr * lambda);  b = mu * b + grad;  p = p - lr * b``.
    Without a buffer (``momentum_buffer=None``) ``b = g`` and ``momentum`` is not used.

    Raises ``TypeError``/``ValueError`` unless ``p``, ``grad`` and the buffer are finite real
    floating tensors of one shape, ``lr > 0``, ``0 <= momentum < 1``, ``weight_decay >= 0``
    (numbers, or tensors broadcasting to ``p``) and ``decoupled`` is a bool.
    """
    check_finite_tensor("p", p)
    _check_state("grad", grad, p)
    if momentum_buffer is not None:
        _check_state("momentum_buffer", momentum_buffer, p)
    sgd_kernel_(
        p,
        grad,
        momentum_buffer,
        lr=_check_hyper("lr", lr, p, positive=True),
        momentum=_check_hyper("momentum", momentum, p, below_one=True),
        weight_decay=_check_hyper("weight_decay", weight_decay, p),
        decoupled=check_bool("decoupled", decoupled),
    )


def adam_update_(
    p: torch.Tensor,
    grad: torch.Tensor,
    exp_avg: torch.Tensor,
    exp_avg_sq: torch.Tensor,
    step: int,
    *,
    lr: Scalar,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: Scalar = 0.0,
    decoupled: bool = False,
) -> None:
    """One Adam step number ``step`` on ``p``, in place: the checked form of ``adam_kernel_``.

    ``m = beta1 m + (1 - beta1) g``, ``v = beta2 v + (1 - beta2) g**2``, then
    ``p = p - lr * m_hat / (sqrt(v_hat) + eps)`` with the bias-corrected moments; the decay
    enters ``g`` (coupled) or shrinks ``p`` by ``1 - lr * lambda`` first (decoupled).

    Raises ``TypeError``/``ValueError`` unless ``p``, ``grad``, ``exp_avg`` and ``exp_avg_sq``
    are finite real floating tensors of one shape with ``exp_avg_sq >= 0``, ``step`` is an
    int ``>= 1``, ``lr > 0`` and ``weight_decay >= 0`` (numbers or tensors broadcasting to
    ``p``), both betas lie in ``[0, 1)``, ``eps > 0`` and ``decoupled`` is a bool.
    """
    check_finite_tensor("p", p)
    _check_state("grad", grad, p)
    _check_state("exp_avg", exp_avg, p)
    _check_state("exp_avg_sq", exp_avg_sq, p)
    if bool((exp_avg_sq < 0).any()):
        raise ValueError("exp_avg_sq must be >= 0 (a running mean of squared gradients)")
    step = check_int("step", step, minimum=1)
    beta1, beta2 = _check_betas(betas)
    adam_kernel_(
        p,
        grad,
        exp_avg,
        exp_avg_sq,
        step,
        lr=_check_hyper("lr", lr, p, positive=True),
        betas=(beta1, beta2),
        eps=check_positive("eps", eps),
        weight_decay=_check_hyper("weight_decay", weight_decay, p),
        decoupled=check_bool("decoupled", decoupled),
    )


def _check_betas(betas: object) -> tuple[float, float]:
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    return check_probability("betas[0]", betas[0]), check_probability("betas[1]", betas[1])


def torch_weight_decay(paper_lambda: float, lr: float) -> float:
    """PyTorch's ``weight_decay`` ``lambda`` that reproduces the paper's decoupled ``lambda_LH``.

    Loshchilov & Hutter (2019, Algorithms 1 and 2) shrink the weights by the factor
    ``1 - s_t * lambda_LH`` per step, where ``s_t`` is the schedule multiplier (their
    ``eta_t``) and ``eta`` the base learning rate (their ``alpha``, here ``lr``);
    ``torch.optim.AdamW`` shrinks by ``1 - eta_t * lambda = 1 - eta * s_t * lambda``.  They
    agree when ``lambda = lambda_LH / eta``.  Introduced in ``book/decay/adamw_figure2.md``.
    """
    paper_lambda = check_nonnegative("paper_lambda", paper_lambda)
    lr = check_positive("lr", lr)
    return paper_lambda / lr


def _check_options(options: dict[str, Any]) -> None:
    """Validate the options of a parameter group (names match the constructors)."""
    if "lr" in options:
        check_positive("lr", options["lr"])
    if "weight_decay" in options:
        check_nonnegative("weight_decay", options["weight_decay"])
    if "momentum" in options:
        check_probability("momentum", options["momentum"])
    if "eps" in options:
        check_positive("eps", options["eps"])
    if "betas" in options:
        _check_betas(options["betas"])
    if "decoupled" in options:
        check_bool("decoupled", options["decoupled"])


def _check_params(params: object) -> list[Any]:
    """The parameters (or parameter groups) of an optimizer, as a non-empty list."""
    if isinstance(params, torch.Tensor | str | bytes) or not isinstance(params, Iterable):
        raise TypeError(
            "params must be an iterable of tensors or of parameter-group dicts, got "
            f"{type(params).__name__}"
        )
    params = list(params)
    if not params:
        raise ValueError("params must not be empty: the optimizer has nothing to optimize")
    return params


class _Base(torch.optim.Optimizer):
    """Shared plumbing: option checks for every parameter group, the closure protocol."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        _check_options(param_group)
        super().add_param_group(param_group)

    def _closure(self, closure: Callable[[], torch.Tensor] | None) -> torch.Tensor | None:
        if closure is None:
            return None
        with torch.enable_grad():
            return closure()

    def _with_grads(self) -> Iterator[tuple[dict[str, Any], torch.Tensor, dict[str, Any]]]:
        """``(group, p, state[p])`` for every parameter that has a gradient."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    yield group, p, self.state[p]


class SGD(_Base):
    """Stochastic gradient descent with momentum and coupled or decoupled weight decay.

    The update is ``sgd_kernel_`` (arguments checked once, per parameter group).
    ``SGD(params, lr, momentum, weight_decay)`` follows ``torch.optim.SGD`` with the same
    arguments (no dampening, no Nesterov); ``decoupled=True`` gives SGDW (Loshchilov &
    Hutter 2019, with PyTorch's shrink factor ``1 - lr * weight_decay``, that is
    ``1 - eta_t * lambda``).
    Introduced in ``book/decay/sgd.md``.

    Raises ``ValueError`` for ``lr <= 0``, ``weight_decay < 0`` or ``momentum``
    outside ``[0, 1)``, in the constructor and in every parameter group.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        decoupled: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "weight_decay": weight_decay,
            "decoupled": decoupled,
        }
        _check_options(defaults)
        super().__init__(_check_params(params), defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """Update every parameter that has a gradient; return ``closure()`` if given."""
        loss = self._closure(closure)
        for group, p, state in self._with_grads():
            buf = None
            if group["momentum"] != 0:
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(p)
                buf = state["momentum_buffer"]
            sgd_kernel_(
                p,
                p.grad,
                buf,
                lr=group["lr"],
                momentum=group["momentum"],
                weight_decay=group["weight_decay"],
                decoupled=group["decoupled"],
            )
        return loss


class Adam(_Base):
    """Adam with coupled (``torch.optim.Adam``) or decoupled (``torch.optim.AdamW``) decay.

    The update is ``adam_kernel_`` (arguments checked once, per parameter group).
    ``state[p]`` holds ``step`` (an int), ``exp_avg`` (``m``) and ``exp_avg_sq`` (``v``).
    Introduced in ``book/decay/adamw.md``.

    Raises ``ValueError`` for ``lr <= 0``, ``weight_decay < 0``, ``eps <= 0`` or a
    beta outside ``[0, 1)``, in the constructor and in every parameter group.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "decoupled": decoupled,
        }
        _check_options(defaults)
        super().__init__(_check_params(params), defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """Update every parameter that has a gradient; return ``closure()`` if given."""
        loss = self._closure(closure)
        for group, p, state in self._with_grads():
            if not state:
                state["step"] = 0
                state["exp_avg"] = torch.zeros_like(p)
                state["exp_avg_sq"] = torch.zeros_like(p)
            state["step"] += 1
            adam_kernel_(
                p,
                p.grad,
                state["exp_avg"],
                state["exp_avg_sq"],
                state["step"],
                lr=group["lr"],
                betas=tuple(group["betas"]),
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                decoupled=group["decoupled"],
            )
        return loss

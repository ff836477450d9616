"""Self-checks for the exercises of ``book/normalized/scale_invariance.md`` (*Scale invariance*)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..normalization import _angle, exponential_lr_schedule
from ._core import (
    agrees,
    as_tensor,
    call_untouched,
    describe,
    fail,
    passed,
    selfcheck,
    uses_library,
)

__all__ = ["decay_free_run"]

F64 = torch.float64


def _toy_loss(d: int, seed: int) -> tuple[Callable[[torch.Tensor], torch.Tensor], torch.Tensor]:
    """A scale-invariant loss l(w) = 1/2 w^T A w / ||w||^2 + b^T w / ||w|| and its gradient.

    The gradient is (I - w_hat w_hat^T)(A w_hat + b) / ||w||: orthogonal to w, and divided by c
    when w is multiplied by c > 0.  Returns the gradient function and a starting point.
    """
    gen = torch.Generator().manual_seed(seed)
    M = torch.randn(d, d, generator=gen, dtype=F64)
    A, b = M @ M.T / d, torch.randn(d, generator=gen, dtype=F64)

    def grad_fn(w: torch.Tensor) -> torch.Tensor:
        w64 = w.to(F64)
        norm = w64.norm()
        u = w64 / norm
        v = A @ u + b
        return ((v - (u @ v) * u) / norm).to(w.dtype)

    return grad_fn, 0.5 * torch.randn(d, generator=gen, dtype=F64)


def _run(grad_fn, w0, lr, weight_decay, steps, rate, decay=0.0, shrink=None) -> torch.Tensor:
    """Iterates w_0..w_T of w <- (1 - lr_t decay) w - lr_t grad(w), lr_t = rate(t); with
    ``shrink``, the factor ``shrink`` replaces ``1 - lr_t decay``."""
    w, out = w0.clone(), [w0.clone()]
    for t in range(steps):
        eta_t = rate(t)
        factor = (1 - eta_t * decay) if shrink is None else shrink
        w = factor * w - eta_t * grad_fn(w)
        out.append(w.clone())
    return torch.stack(out)


def _max_angle(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(_angle(a, b).max())


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same iterates up to float32 rounding (directions and norms)."""
    if not bool(torch.isfinite(a).all()):
        return False
    norms = a.norm(dim=1) / b.norm(dim=1)
    return _max_angle(a, b) < 1e-4 and bool(((norms - 1).abs() < 1e-4).all())


def _check_case(fn, d: int, lr: float, wd: float, steps: int, seed: int) -> None:
    """One case of :func:`decay_free_run`; returns when the answer is right."""
    grad_fn, w0 = _toy_loss(d, seed)
    what = f"a scale-invariant loss on {d} weights, lr={lr}, weight_decay={wd}, steps={steps}"
    out = call_untouched(
        fn,
        grad_fn,
        w0,
        lr,
        wd,
        steps,
        what=what,
        names=("grad_fn", "w0", "lr", "weight_decay", "steps"),
        fresh=True,
    )
    if not isinstance(out, torch.Tensor):
        fail(f"on {what} return a torch tensor of the iterates; got {describe(out)}.")
    if tuple(out.shape) == (steps, d):
        fail(
            f"the result has shape {tuple(out.shape)}: return all steps + 1 iterates, "
            f"w_0 (the start) first, shape ({steps + 1}, {d})."
        )
    if tuple(out.shape) != (steps + 1, d):
        fail(f"the result has shape {tuple(out.shape)}; it should be ({steps + 1}, {d}).")
    out = as_tensor(out, what=what)
    q = 1 - lr * wd
    decayed = _run(grad_fn, w0, lr, wd, steps, lambda t: lr, decay=wd)
    want = decayed * q ** -torch.arange(steps + 1, dtype=F64)[:, None]
    if agrees(out.detach(), want, dtype=F64, what=what, scale=float(want.abs().max())):
        return
    W = out.detach().to(F64)
    if not bool(torch.isfinite(W).all()):
        fail(f"on {what} your iterates contain NaN or inf.")
    if steps >= 2 and bool((W[1:] == W[-1]).all()) and not torch.equal(W[1], W[0]):
        fail(
            f"on {what} the rows after w_0 are all the same tensor: you appended the iterate "
            "and then changed it in place (w -= ...), which changes every row that is that "
            "same tensor. Append a new tensor at every step (w = w - ..., or w.clone())."
        )
    if _same(W, decayed):
        fail(
            "you returned the run WITH weight decay (its norms shrink); the check asks for "
            "the run without decay on the growing learning rates, whose norms grow like "
            "(1 - lr * weight_decay)^(-t) times those."
        )
    variants = {
        "the exponent is -2t: off by one step (at t = 0, the first step, the rate is already "
        "larger than lr, to make up for that step's own shrink factor)": lambda t: (
            lr * q ** (-2 * t)
        ),
        "the rates grow like (1 - lr * weight_decay)^(-t): too slowly, they must grow twice as "
        "fast in the exponent: the gradient at c w is the gradient at w divided by c, and the "
        "step must scale like c^2": lambda t: lr * q ** (-t),
        "the learning rate is constant: without decay the weights grow and the steps in "
        "direction shrink; the rates must grow as the chapter's schedule says": lambda t: lr,
        "the exponent is off by one step (t counted from 1?): the first step is t = 0 in the "
        "chapter's schedule": lambda t: lr * q ** (-2 * t - 3),
        "the exponent is off by one step: at t = 0, the first step, the rate is larger than "
        "lr, not smaller": lambda t: lr * q ** (-2 * t + 1),
        "your rates shrink from step to step; they must grow (the exponent of "
        "1 - lr * weight_decay is negative)": lambda t: lr * q ** (2 * t + 1),
        "the factor is 1 - weight_decay; in PyTorch's convention the shrink of one decayed "
        "step is 1 - lr * weight_decay": lambda t: lr * (1 - wd) ** (-2 * t - 1),
    }
    for message, rate in variants.items():
        if _same(W, _run(grad_fn, w0, lr, wd, steps, rate)):
            fail(message + ".")
    kept = _run(grad_fn, w0, lr, wd, steps, lambda t: lr * q ** (-2 * t - 1), decay=wd)
    kept_q = _run(grad_fn, w0, lr, wd, steps, lambda t: lr * q ** (-2 * t - 1), shrink=q)
    if _max_angle(W, kept) < 1e-4 or _max_angle(W, kept_q) < 1e-4:
        fail(
            "the decay-free run still applies weight decay: drop the term "
            "lr_t * weight_decay * w, the schedule replaces it."
        )
    if _max_angle(W, want) < 1e-4:
        fail(
            "the directions are right but the norms are not: start from w0 itself and take "
            "plain gradient steps w <- w - lr_t * grad_fn(w)."
        )
    fail(f"the iterates do not follow the decayed run's directions on {what}.")


@selfcheck
def decay_free_run(
    fn: Callable[..., torch.Tensor],
) -> None:
    """Check ``fn(grad_fn, w0, lr, weight_decay, steps) -> W`` of the scale-invariance chapter.

    ``W`` has shape ``(steps + 1, d)``: the iterates :math:`\\tilde{\\mathbf w}_0 = \\mathbf w_0,
    \\dots, \\tilde{\\mathbf w}_T` of gradient descent **without** weight decay on the learning
    rates :math:`\\eta_t = \\eta(1 - \\eta\\lambda)^{-2t-1}` (Li & Arora), which reproduce the
    directions of gradient descent with decay, :math:`\\tilde{\\mathbf w}_t = (1 -
    \\eta\\lambda)^{-t}\\mathbf w_t`.  ``grad_fn(w)`` is the gradient of a scale-invariant loss.
    Five cases, among them a single step and two steps.  Diagnoses: the exponent :math:`-2t`,
    :math:`-t`, or off by one step (:math:`-2t-3`, :math:`-2t+1`) instead of :math:`-2t-1`,
    shrinking rates, the factor :math:`1-\\lambda` without the learning rate, a constant
    learning rate, the decay kept in the decay-free run, the decayed run itself returned, the
    same tensor appended at every step and changed in place, a result of the wrong shape or
    kind, NaN, ``w0`` changed in place or returned, a call to the library's
    ``exponential_lr_schedule``.  Inputs are float64 (the chapter's dtype); a float32 answer
    passes at float32 tolerance, with a note.
    """
    uses_library(fn, exponential_lr_schedule, exercise="this exercise")
    cases = [
        (5, 0.3, 0.1, 20, 1),
        (4, 0.2, 0.1, 30, 2),
        (8, 0.1, 0.5, 15, 3),
        (6, 0.4, 0.5, 1, 4),
        (3, 0.25, 0.2, 2, 5),
    ]
    for case in cases:
        _check_case(fn, *case)
    passed("decay_free_run", len(cases))

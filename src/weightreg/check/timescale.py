"""Self-checks for the exercises of ``book/normalized/timescale.md``.

* :func:`ema_weights`: AdamW's final weights rebuilt from the start and the logged updates
  (*The timescale of AdamW*).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._core import call_student, fail, passed, selfcheck

__all__ = ["ema_weights"]

f64 = torch.float64


def _final(w0, updates, rates, weight_decay, *, own=False, with_lr=True, with_w0=True, sign=-1):
    """``w_T`` of ``w_{t+1} = (1 - eta_t lambda) w_t - eta_t u_t`` (``own``: update ``t`` also
    shrunk by its own step's factor; ``with_lr=False``: the update without its rate; ``sign``
    +1: the update added), by a loop in float64."""
    w = w0.to(f64) if with_w0 else torch.zeros_like(w0, dtype=f64)
    for u, lr in zip(updates.to(f64), rates.tolist(), strict=True):
        factor = 1.0 - lr * weight_decay
        step = (lr if with_lr else 1.0) * u
        w = factor * (w + sign * step) if own else factor * w + sign * step
    return w


def _cases() -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, float, str]]:
    """``(w0, updates, rates, weight_decay, description)``."""
    gen = torch.Generator().manual_seed(13)
    w0 = torch.randn(4, 3, generator=gen, dtype=f64)
    u = torch.randn(12, 4, 3, generator=gen, dtype=f64).clamp(-1, 1)
    cosine = torch.tensor(
        [0.08 * 0.5 * (1 + math.cos(math.pi * t / 20)) for t in range(20)], dtype=f64
    )
    u20 = torch.randn(20, 5, generator=gen, dtype=f64).clamp(-1, 1)
    w5 = torch.randn(5, generator=gen, dtype=f64)
    return [
        (w0, u, torch.full((12,), 0.05, dtype=f64), 2.0, "a constant rate 0.05, lambda = 2"),
        (w5, u20, cosine, 1.5, "a cosine schedule of the rates, lambda = 1.5"),
        (
            w5.float(),
            u20.float(),
            cosine.float(),
            1.5,
            "the same schedule with float32 tensors",
        ),
        (w5, u20[:7], torch.full((7,), 0.1, dtype=f64), 0.0, "no decay (lambda = 0)"),
    ]


def _close(got: torch.Tensor, ref: torch.Tensor) -> bool:
    return bool(torch.allclose(got, ref, rtol=2e-5, atol=2e-6))


@selfcheck
def ema_weights(fn: Callable[..., torch.Tensor]) -> None:
    """Check ``fn(w0, updates, lrs, weight_decay) -> w_T``.

    ``w0`` a tensor of any shape ``S``, ``updates`` the ``T`` logged Adam directions ``(T,
    *S)``, ``lrs`` the ``T`` learning rates ``eta_t`` (a 1-D tensor), ``weight_decay``
    PyTorch's ``lambda``; the answer is the final weights ``w_T`` (shape ``S``) of
    ``w_{t+1} = (1 - eta_t lambda) w_t - eta_t u_t``.  Float32 answers are accepted.

    Diagnoses: an update shrunk by its own step's factor (the decay applied after the step,
    or the exponent off by one), the update without its learning rate, the factor ``1 -
    lambda`` instead of ``1 - eta_t lambda`` (Loshchilov & Hutter's convention), the update
    added instead of subtracted, the first rate used for every step, the start ``w0``
    forgotten, the whole trajectory returned instead of ``w_T``.
    """
    for w0, u, rates, lam, what in _cases():
        raw = call_student(fn, w0.clone(), u.clone(), rates.clone(), lam, what=what)
        if not isinstance(raw, torch.Tensor):
            fail(f"return a torch tensor (the final weights); got {type(raw).__name__}.")
        got = raw.detach().to(f64)
        if got.shape != w0.shape:
            if got.shape == (u.shape[0] + 1, *w0.shape) or got.shape == u.shape:
                fail(
                    f"on {what} you return one tensor per step, shape {tuple(got.shape)}; "
                    f"return only the final weights w_T, shape {tuple(w0.shape)}."
                )
            fail(f"on {what} your answer has shape {tuple(got.shape)}; it needs {tuple(w0.shape)}.")
        if not bool(torch.isfinite(got).all()):
            fail(f"on {what} your answer has NaN or inf entries.")
        ref = _final(w0, u, rates, lam)
        if _close(got, ref):
            continue
        if _close(got, _final(w0, u, rates, lam, own=True)):
            fail(
                f"on {what} each update is shrunk by its own step's decay factor too: in "
                "PyTorch's AdamW the factor multiplies w_t, before the update of step t is "
                "subtracted, so update t is shrunk only by the factors of the later steps."
            )
        if _close(got, _final(w0, u, rates, lam, with_lr=False)):
            fail(f"on {what} the update of step t must enter multiplied by its learning rate.")
        if lam > 0 and _close(got, _no_lr(w0, u, rates, lam)):
            fail(
                f"on {what} the decay factor per step is 1 - lr * weight_decay in PyTorch's "
                "convention, not 1 - weight_decay."
            )
        if _close(got, _final(w0, u, rates, lam, sign=+1)):
            fail(f"on {what} the update is subtracted from the weights, not added.")
        first = torch.full_like(rates, float(rates[0]))
        if not torch.equal(first, rates) and _close(got, _final(w0, u, first, lam)):
            fail(f"on {what} the rates change from step to step: use lrs[t] at step t.")
        if _close(got, _final(w0, u, rates, lam, with_w0=False)):
            fail(
                f"on {what} the start w0 is missing: it survives, shrunk by the product of all "
                "the decay factors."
            )
        fail(
            f"on {what} your w_T differs from the weights of the AdamW recursion (largest "
            f"difference {float((got - ref).abs().max()):.3g})."
        )
    passed("ema_weights", len(_cases()))


def _no_lr(w0, u, rates, lam):
    """``w_T`` with the factor ``1 - lambda`` (the rate left out of the decay)."""
    w = w0.to(f64)
    for ut, lr in zip(u.to(f64), rates.tolist(), strict=True):
        w = (1.0 - lam) * w - lr * ut
    return w

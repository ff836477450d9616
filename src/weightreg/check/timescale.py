"""Self-checks for the exercises of ``book/normalized/timescale.md``.

* :func:`ema_weights`: AdamW's final weights rebuilt from the start and the logged updates
  (*The timescale of AdamW*).

The chapter computes in float64 (``DTYPE``): the check feeds float64 inputs (and one case in
float32, compared at float32's tolerance) and applies the dtype policy of
``weightreg.check._core.agrees``: a float32 result from float64 inputs passes with a note, a
float64 result that agrees only to 7 digits fails ("float32 somewhere?").
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .. import timescale as _library
from ._core import (
    agrees,
    as_tensor,
    call_untouched,
    close,
    fail,
    passed,
    selfcheck,
    tolerance,
    uses_library,
)

__all__ = ["ema_weights"]

f64 = torch.float64
DTYPE = f64
"""The dtype the chapter computes in."""


def _final(
    w0,
    updates,
    rates,
    weight_decay,
    *,
    own=False,
    with_lr=True,
    with_w0=True,
    sign=-1,
    factor=None,
    decay_rates=None,
):
    """``w_T`` of ``w_{t+1} = (1 - eta_t lambda) w_t - eta_t u_t`` by a loop in float64.

    Variants (typical mistakes): ``own``: update ``t`` also shrunk by its own step's factor;
    ``with_lr=False``: the update without its rate; ``sign`` +1: the update added; ``factor``:
    a function ``(lr, lambda) -> factor`` replacing ``1 - lr lambda``; ``decay_rates``: the
    rates used in the factors (shifted by a step, say) when they differ from the update's.
    """
    w = w0.to(f64) if with_w0 else torch.zeros_like(w0, dtype=f64)
    decay_rates = rates if decay_rates is None else decay_rates
    for u, lr, lr_d in zip(updates.to(f64), rates.tolist(), decay_rates.tolist(), strict=True):
        shrink = factor(lr_d, weight_decay) if factor else 1.0 - lr_d * weight_decay
        step = (lr if with_lr else 1.0) * u
        w = shrink * (w + sign * step) if own else shrink * w + sign * step
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
    w1 = torch.randn(6, generator=gen, dtype=f64)
    u1 = torch.randn(1, 6, generator=gen, dtype=f64)
    return [
        (w0, u, torch.full((12,), 0.05, dtype=f64), 2.0, "a constant rate 0.05, lambda = 2"),
        (w5, u20, cosine, 1.5, "a cosine schedule of the rates, lambda = 1.5"),
        (w1, u1, torch.tensor([0.2], dtype=f64), 0.5, "a single step (T = 1), lambda = 0.5"),
        (
            w5.float(),
            u20.float(),
            cosine.float(),
            1.5,
            "the same schedule with float32 tensors",
        ),
        (w5, u20[:7], torch.full((7,), 0.1, dtype=f64), 0.0, "no decay (lambda = 0)"),
    ]


def _shifted(rates: torch.Tensor, by: int) -> torch.Tensor:
    """The rates one step later (``by=1``) or earlier (``by=-1``), the end repeated."""
    if rates.numel() < 2:
        return rates
    if by > 0:
        return torch.cat([rates[1:], rates[-1:]])
    return torch.cat([rates[:1], rates[:-1]])


def _diagnose(got, w0, u, rates, lam, what, tol, scale, ref) -> None:
    """Fail with the message of the first typical mistake ``got`` matches."""

    def like(variant: torch.Tensor) -> bool:
        return close(got, variant, tol, scale) and not close(variant, ref, tol, scale)

    T = u.shape[0]
    mistakes = [
        (
            _final(w0, u, rates, lam, own=True),
            "each update is shrunk by its own step's decay factor too (the decay applied after "
            "the update, or an exponent off by one): in PyTorch's AdamW the factor multiplies "
            "w_t before the update of step t is subtracted, so update t is shrunk only by the "
            "factors of the later steps.",
        ),
        (
            _final(w0, u, rates, lam, factor=lambda lr, lam_: 1.0)
            + (_final(w0, torch.zeros_like(u), rates, lam) - w0.to(f64)),
            "each update enters without the decay factors of the later steps: an update "
            "logged at step t is shrunk by the factors of all the steps after it.",
        ),
        (
            _final(w0, u, rates, lam, with_lr=False),
            "the update of step t must enter multiplied by its learning rate.",
        ),
        (
            _final(w0, u, rates, lam, factor=lambda lr, lam_: 1.0 - lam_),
            "the decay factor per step is 1 - lr * weight_decay in PyTorch's convention, not "
            "1 - weight_decay (that reads weight_decay as Loshchilov and Hutter's decay per "
            "step).",
        ),
        (
            _final(w0, u, rates, lam, factor=lambda lr, lam_: math.exp(-lr * lam_)),
            "you shrink by exp(-lr * weight_decay), the continuous-time approximation; AdamW's "
            "step multiplies by its factor exactly, and the two differ at these rates.",
        ),
        (
            _final(w0, u, rates, lam, factor=lambda lr, lam_: 1.0),
            "the weights are never decayed: weight_decay must shrink w at every step.",
        ),
        (
            _final(w0, u, rates, lam, factor=lambda lr, lam_: 1.0 + lr * lam_),
            "the decay has the wrong sign: the factor must shrink w, not grow it.",
        ),
        (
            _final(w0, u, rates, lam, sign=+1),
            "the update is subtracted from the weights, not added.",
        ),
        (
            _final(w0, u, torch.full_like(rates, float(rates[0])), lam),
            "the rates change from step to step: use lrs[t] at step t, not the first rate "
            "throughout.",
        ),
        (
            _final(w0, u, rates, lam, decay_rates=_shifted(rates, 1)),
            "the decay factor of step t uses the next step's rate (off by one step): both the "
            "factor and the update of step t take lrs[t].",
        ),
        (
            _final(w0, u, rates, lam, decay_rates=_shifted(rates, -1)),
            "the decay factor of step t uses the previous step's rate (off by one step): both "
            "the factor and the update of step t take lrs[t].",
        ),
        (
            _final(w0, u, _shifted(rates, 1), lam),
            "step t uses the rate of step t + 1 (off by one step): use lrs[t] at step t.",
        ),
        (
            _final(w0, u, rates, lam, with_w0=False),
            "the start w0 is missing: it survives, shrunk by the product of all the decay factors.",
        ),
    ]
    if T > 1:
        mistakes += [
            (
                _final(w0, u[:-1], rates[:-1], lam),
                f"you applied {T - 1} steps, not {T}: the last logged update is missing (a "
                "loop one step short).",
            ),
            (
                _final(w0, u[1:], rates[1:], lam),
                f"you applied {T - 1} steps, not {T}: the first logged update is missing (a "
                "loop starting at 1).",
            ),
            (
                _final(w0, u.flip(0), rates.flip(0), lam),
                "the updates are applied in reverse order: the first logged update is the "
                "oldest, the one shrunk by the most later factors.",
            ),
        ]
    for variant, message in mistakes:
        if bool(torch.isfinite(variant).all()) and like(variant):
            fail(f"on {what}: {message}")


@selfcheck
def ema_weights(fn: Callable[..., torch.Tensor]) -> None:
    """Check ``fn(w0, updates, lrs, weight_decay) -> w_T``.

    ``w0`` a tensor of any shape ``S``, ``updates`` the ``T`` logged Adam directions ``(T,
    *S)``, ``lrs`` the ``T`` learning rates ``eta_t`` (a 1-D tensor), ``weight_decay``
    PyTorch's ``lambda``; the answer is the final weights ``w_T`` (shape ``S``) of AdamW's
    recursion, decay then update at every step.  Five cases: a constant rate, a cosine
    schedule (in float64 and in float32), a single step, no decay.  The chapter computes in
    float64: a float32 result passes with a note, a float64 one that agrees only to 7 digits
    fails.

    Diagnoses: an update shrunk by its own step's factor (the decay applied after the step,
    or the exponent off by one), the update without its learning rate, the factor ``1 -
    lambda`` (Loshchilov & Hutter's convention) or ``exp(-eta_t lambda)``, no decay or a
    growing factor, the update added instead of subtracted, the first rate used for every
    step, rates shifted by one step, a step too few (the first or the last update skipped),
    the updates in reverse order, the start ``w0`` forgotten, the whole trajectory returned
    instead of ``w_T``, NaN or inf, ``w0`` changed in place, a call to the library's
    ``weightreg.timescale.ema_weights``.
    """
    uses_library(fn, _library.ema_weights, exercise="this exercise")
    cases = _cases()
    for w0, u, rates, lam, what in cases:
        dtype = w0.dtype
        raw = call_untouched(
            fn,
            w0,
            u,
            rates,
            lam,
            what=what,
            names=("w0", "updates", "lrs", "weight_decay"),
            fresh=True,
        )
        if isinstance(raw, torch.Tensor) and tuple(raw.shape) != tuple(w0.shape):
            if tuple(raw.shape) in ((u.shape[0] + 1, *w0.shape), tuple(u.shape)):
                fail(
                    f"on {what} you return one tensor per step, shape {tuple(raw.shape)}; "
                    f"return only the final weights w_T, shape {tuple(w0.shape)}."
                )
        got = as_tensor(raw, what=what, shape=w0.shape, purpose="the final weights w_T")
        got = got.detach()
        if not bool(torch.isfinite(got).all()):
            fail(f"on {what} your answer has NaN or inf entries.")
        ref = _final(w0, u, rates, lam)
        scale = max(
            float(w0.abs().max()),
            float((rates[:, None] * u.reshape(len(u), -1)).abs().max()),
            1e-12,
        )
        if agrees(got, ref, dtype=dtype, what=what, scale=scale):
            continue
        _diagnose(got, w0, u, rates, lam, what, tolerance(got.dtype, dtype), scale, ref)
        fail(
            f"on {what} your w_T differs from the weights of the AdamW recursion (largest "
            f"difference {float((got.to(f64) - ref).abs().max()):.3g})."
        )
    passed("ema_weights", len(cases))

"""Self-checks for the exercises of the L0.5, L3/L10 and Lk-family chapters.

* :func:`lhalf_prox_step` (*L0.5: weights that jump across zero*, ``book/lk/lhalf.md``);
* :func:`flow_decay` (*L3 and L10*, ``book/lk/l3_l10.md``);
* :func:`lk_norm` (*The Lk family side by side*, ``book/lk/family.md``).

These chapters compute in float64 (``DTYPE``): the checks feed float64 inputs and follow the
dtype policy of ``weightreg.check._core``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .. import dynamics
from ..dynamics import flow_solution
from ..penalties import lk_grad, prox_l1, prox_lhalf
from ._core import (
    CheckFailed,
    agrees,
    as_float,
    as_tensor,
    call_student,
    call_untouched,
    close,
    fail,
    passed,
    result_dtype,
    selfcheck,
    tolerance,
    uses_library,
)

__all__ = ["lhalf_prox_step", "flow_decay", "lk_norm"]

DTYPE = torch.float64
"""The dtype of these chapters (each sets it as torch's default)."""


@selfcheck
def lhalf_prox_step(fn: Callable[..., torch.Tensor]) -> None:
    """Check ``fn(w, grad, lr, alpha)``: a proximal gradient step, ``loss + alpha mean|w|^0.5``.

    The expected value is ``prox_lhalf(w - lr * grad, lr * alpha / w.numel())`` (``w.numel()``
    is the book's ``d``).  Diagnoses the threshold without the ``1/d`` or the learning rate,
    half the threshold, prox and gradient step in the wrong order, a step up the loss (``+ lr *
    grad``), soft instead of half thresholding, a missing penalty, a subgradient step, in-place
    updates of ``w`` or ``grad`` and, for a matrix, ``d`` taken as the number of rows.  Inputs
    are float64; a float32 answer passes at float32 tolerance, with a note.
    """
    gen = torch.Generator().manual_seed(0)
    cases = []
    for d, lr, alpha in ((8, 0.1, 2.0), (50, 0.03, 20.0), (12, 0.5, 0.3)):
        w = torch.randn(d, generator=gen, dtype=DTYPE)
        w[0] = 0.0
        w[1] = 0.02
        grad = torch.randn(d, generator=gen, dtype=DTYPE)
        cases.append((w, grad, lr, alpha))
    w = torch.randn(4, 5, generator=gen, dtype=DTYPE)  # a matrix: d counts all entries
    cases.append((w, torch.randn(4, 5, generator=gen, dtype=DTYPE), 0.3, 5.0))

    for w, grad, lr, alpha in cases:
        d = w.numel()
        what = f"a weight tensor of shape {tuple(w.shape)} with lr={lr}, alpha={alpha}"
        raw = call_untouched(fn, w, grad, lr, alpha, what=what, names=("w", "grad", "lr", "alpha"))
        out = as_tensor(raw, what=what, shape=w.shape, purpose="the shape of w")
        z = w - lr * grad
        expected = prox_lhalf(z, lr * alpha / d)
        scale = float(z.abs().max())
        if agrees(out, expected, dtype=DTYPE, what=what, scale=scale):
            continue
        tol = tolerance(result_dtype(raw), DTYPE)
        out = out.detach().to(DTYPE)
        diagnoses = [
            (
                prox_lhalf(z, lr * alpha),
                "your threshold is d times too large: the penalty is alpha * MEAN(|w|^0.5), so "
                "each weight carries alpha / d of it, not alpha.",
            ),
            (
                prox_lhalf(z, alpha / d),
                "the threshold misses the learning rate: the prox of a step of size lr uses "
                "lr times the penalty's weight.",
            ),
            (
                prox_lhalf(z, lr * alpha / d / 2),
                "your threshold is half of what it should be; the prox of tau*|x|^0.5 uses "
                "tau itself.",
            ),
            (
                prox_lhalf(w, lr * alpha / d) - lr * grad,
                "the order is reversed: first take the gradient step on the loss, then apply the "
                "prox to the result.",
            ),
            (
                prox_lhalf(w + lr * grad, lr * alpha / d),
                "the gradient step has the wrong sign: w + lr * grad climbs the loss (ascent); "
                "step against the gradient, minus lr * grad.",
            ),
            (
                prox_l1(z, lr * alpha / d),
                "that is soft thresholding, the prox of L1; this penalty needs half thresholding "
                "(the prox of the L0.5 penalty).",
            ),
            (z, "the penalty is missing: no weight was thresholded."),
            (
                z - lr * lk_grad(w, 0.5, alpha),
                "that is a (sub)gradient step on the penalty; the exercise asks for its proximal "
                "step.",
            ),
            (-expected, "the result has the wrong sign: the gradient step subtracts lr * grad."),
        ]
        if w.dim() > 1:
            diagnoses.insert(
                0,
                (
                    prox_lhalf(z, lr * alpha / w.shape[0]),
                    "for a matrix, d is the number of ALL its entries (w.numel()), "
                    "not the number of rows.",
                ),
            )
        for wrong, message in diagnoses:
            if close(out, wrong, tol, scale):
                fail(f"On {what}: {message}")
        fail(
            f"the result does not match a proximal gradient step for {what}. "
            "Check the gradient step and the threshold lr * alpha / d (d = w.numel())."
        )
    passed("lhalf_prox_step", len(cases))


@selfcheck
def flow_decay(fn: Callable[..., object]) -> None:
    """Check ``fn(w0, k, alpha, t_flow)``: the gradient flow of ``alpha |w|^k`` at flow time
    ``t_flow`` (``k > 2``), as :func:`weightreg.dynamics.flow_solution`.

    Diagnoses a lost sign (the flow keeps the sign of ``w0``), a wrong root (``-1/k`` instead
    of ``-1/(k-2)``), a missing factor ``k`` or ``k - 2``, the start term with the wrong power,
    the exponential decay of ``k = 2`` used for every ``k``, a crash or non-finite value at
    ``w0 = 0``, a wrong value at ``t_flow = 0``, and a call to the library's ``flow_solution``.
    A number or a one-element tensor is accepted; float64 precision is expected (a float32
    tensor passes at float32 tolerance, with a note).
    """
    uses_library(fn, flow_solution, dynamics.extinction_time)
    cases = [
        (0.8, 3.0, 1.0, 2.0),
        (-0.8, 3.0, 1.0, 2.0),
        (1.5, 10.0, 0.5, 0.3),
        (-0.4, 4.0, 2.0, 5.0),
        (0.6, 3.0, 1.0, 0.0),
        (0.0, 3.0, 1.0, 1.0),
    ]
    for w0, k, alpha, t in cases:
        what = f"w0={w0}, k={k}, alpha={alpha}, t_flow={t}"
        try:
            out = call_student(fn, w0, k, alpha, t, what=what)
        except CheckFailed as exc:
            if w0 == 0:
                fail(
                    f"{exc} A weight that starts at 0 stays at 0: handle the start w0 = 0 "
                    "separately (0 to a negative power is a division by zero)."
                )
            raise
        value = as_float(out, what=what, strict=False)
        expected = float(flow_solution(torch.tensor([w0], dtype=DTYPE), k, alpha, t)[0])
        if agrees(
            out if isinstance(out, torch.Tensor) else value, expected, dtype=DTYPE, what=what
        ):
            continue
        if not math.isfinite(value):
            fail(
                f"your function returned {value} for {what}; "
                "a weight that starts at 0 stays at 0, and no time gives an infinite weight."
            )
        tol = tolerance(result_dtype(out), DTYPE)
        m = k - 2
        r0 = abs(w0)
        if r0 > 0:
            if close(value, -expected, tol):
                fail(
                    f"wrong sign for {what}: the flow shrinks |w| but never changes the sign "
                    "of w (use the sign of w0)."
                )
            hint = "differentiate |w|^(2-k) along the flow and integrate from 0 to t_flow."
            wrong = [
                (
                    (r0**-m + m * k * alpha * t) ** (-1 / k),
                    f"check the exponent of the root: {hint}",
                ),
                (
                    (r0**-m + m * alpha * t) ** (-1 / m),
                    f"check the factor k in your formula: {hint}",
                ),
                (
                    (r0**-m + k * alpha * t) ** (-1 / m),
                    f"check the factor k - 2 in your formula: {hint}",
                ),
                (
                    (r0**m + m * k * alpha * t) ** (-1 / m),
                    "check the start term: at t_flow = 0 the formula must give back |w0|, so "
                    "the bracket holds |w0| to the power 2 - k (not k - 2).",
                ),
            ]
            for decay in (2.0, k):
                wrong.append(
                    (
                        r0 * math.exp(-decay * alpha * t),
                        "that is an exponential decay, the law of k = 2 (L2); for k > 2 the "
                        "force k |w|^(k-1) fades faster than |w| and the flow follows a power law.",
                    )
                )
            for wrong_value, message in wrong:
                if close(abs(value), wrong_value, tol):
                    fail(f"{message} (case {what})")
            if t == 0:
                fail(f"at t_flow = 0 the flow must return w0 itself ({what}).")
        fail(f"your value {value:.6g} differs from the gradient flow for {what}.")
    passed("flow_decay", len(cases))


def _lk_norm_cases() -> list[tuple[torch.Tensor, float]]:
    gen = torch.Generator().manual_seed(1)
    v = torch.randn(9, generator=gen, dtype=DTYPE)
    v[2] = -3.0
    M = torch.tensor([[1.0, -2.0, 0.5], [-0.5, 3.0, -1.0], [2.0, 0.25, -4.0]], dtype=DTYPE)
    return [
        (torch.tensor([3.0, -4.0], dtype=DTYPE), 2.0),
        (v, 1.0),
        (v, 0.5),
        (v, 3.0),
        (v, 10.0),
        (v, math.inf),
        (v.reshape(3, 3), 1.5),
        (torch.tensor([-1.0, -2.0], dtype=DTYPE), math.inf),
        (M, 2.0),  # torch.linalg.norm(M, ord=2) would be the spectral norm
        (M, 1.0),  # ... and the largest column sum here
        (M, math.inf),
        (torch.zeros(5, dtype=DTYPE), 0.5),  # the norm of 0 is 0, not NaN
        (torch.zeros(2, 2, dtype=DTYPE), 2.0),
    ]


@selfcheck
def lk_norm(fn: Callable[..., object]) -> None:
    """Check ``fn(w, k)``: the Lk (quasi-)norm ``(sum |w_i|^k)^(1/k)``, ``k = inf`` the max.

    Vectors and matrices (the norm runs over all entries), and all-zero tensors.  Diagnoses a
    missing absolute value, the k-th power without the root, a mean instead of a sum, the root
    1/2 for every k, the largest entry instead of the largest absolute entry for ``k = inf``,
    ``k = inf`` not treated separately, a matrix norm (``torch.linalg.norm(w, ord=k)`` on a
    matrix) or a norm over one row or axis only, NaN on an all-zero tensor, and ``w`` changed in
    place (``w.abs_()``).  Inputs are float64; a float32 answer passes at float32 tolerance.
    """
    cases = _lk_norm_cases()
    for w, k in cases:
        what = f"a tensor of shape {tuple(w.shape)} and k={k}"
        try:
            out = call_untouched(fn, w, k, what=what, names=("w", "k"))
        except CheckFailed as exc:
            if w.dim() > 1 and "matrix" in str(exc):
                fail(
                    f"on {what} {exc} On a matrix, torch.linalg.norm(w, ord=k) computes a matrix "
                    "norm; the Lk norm here runs over all the entries as one vector (flatten "
                    "w first)."
                )
            raise
        value = as_float(out, what=what, strict=False)
        a = w.abs().flatten()
        expected = float(a.max()) if k == math.inf else float((a**k).sum() ** (1 / k))
        if agrees(
            out if isinstance(out, torch.Tensor) else value, expected, dtype=DTYPE, what=what
        ):
            continue
        tol = tolerance(result_dtype(out), DTYPE)
        if not a.any():
            fail(
                f"on {what} (all entries zero) your function returned {value}: the norm of the "
                "zero tensor is 0. Is there a division by zero (by the largest entry, or by the "
                "norm)?"
            )
        if w.dim() > 1 and k in (1.0, 2.0, math.inf):
            matrix = float(torch.linalg.matrix_norm(w, ord=k))
            if close(value, matrix, tol):
                fail(
                    f"on {what} your value is the matrix norm of w (torch.linalg.norm(w, ord=k) "
                    "treats a 2-D tensor as a matrix, e.g. the spectral norm for k=2); the Lk "
                    f"norm here runs over all {a.numel()} entries as one vector: flatten w first."
                )
        if k == math.inf:
            if close(value, float(w.max()), tol):
                fail("for k = inf take the largest ABSOLUTE value: here all entries are negative.")
            if not math.isfinite(value) or close(value, 1.0, tol):
                fail(
                    f"on {what} your value is {value}: k = inf must be treated separately, "
                    "as the largest absolute entry max |w_j| (a power inf and root 1/inf do not "
                    "give it)."
                )
            fail(f"for k = inf the norm is the largest absolute entry, max |w_j| ({what}).")
        n = a.numel()
        wrong = {
            "take the absolute value of the entries before the power (negative entries!)": (
                float((w.flatten() ** k).sum() ** (1 / k)) if k == int(k) else None
            ),
            "this is the k-th power of the norm (the penalty's sum), not the norm: "
            "take the 1/k-th root": float((a**k).sum()),
            "use a sum over the entries, not a mean": float((a**k).mean() ** (1 / k)),
            "the root is 1/k, not 1/2": float((a**k).sum() ** 0.5),
        }
        for message, wrong_value in wrong.items():
            if wrong_value is not None and close(value, wrong_value, tol):
                fail(f"{message} (case {what}).")
        if w.dim() > 1:
            fail(f"for a matrix ({what}) the norm runs over all {n} entries together.")
        fail(f"your value {value:.6g} differs from the L{k} norm for {what}.")
    passed("lk_norm", len(cases))

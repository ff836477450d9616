"""Self-checks for the exercises of the L0.5, L3/L10 and Lk-family chapters.

* :func:`lhalf_prox_step` (*L0.5: weights that jump across zero*, ``book/lk/lhalf.md``);
* :func:`flow_decay` (*L3 and L10*, ``book/lk/l3_l10.md``);
* :func:`lk_norm` (*The Lk family side by side*, ``book/lk/family.md``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..dynamics import flow_solution
from ..penalties import lk_grad, prox_l1, prox_lhalf
from ._core import call_student, fail, passed

__all__ = ["lhalf_prox_step", "flow_decay", "lk_norm"]


def _as_tensor(result: object, what: str) -> torch.Tensor:
    if not isinstance(result, torch.Tensor):
        fail(
            f"your function should return a torch tensor, but returned {type(result).__name__} "
            f"for {what}."
        )
    return result


def _close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-9) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=tol, atol=tol))


def lhalf_prox_step(fn: Callable[..., torch.Tensor]) -> None:
    """Check ``fn(w, grad, lr, alpha)``: a proximal gradient step, ``loss + alpha mean|w|^0.5``.

    The expected value is ``prox_lhalf(w - lr * grad, lr * alpha / w.numel())`` (``w.numel()``
    is the book's ``d``).  Diagnoses the threshold without the ``1/d`` or the learning rate,
    half the threshold, prox and gradient step in the wrong order, soft instead of half
    thresholding, a missing penalty, a subgradient step, in-place updates and, for a matrix,
    ``d`` taken as the number of rows.  Accepts float32 answers (tolerance 1e-5).
    """
    gen = torch.Generator().manual_seed(0)
    cases = []
    for d, lr, alpha in ((8, 0.1, 2.0), (50, 0.03, 20.0), (12, 0.5, 0.3)):
        w = torch.randn(d, generator=gen, dtype=torch.float64)
        w[0] = 0.0
        w[1] = 0.02
        grad = torch.randn(d, generator=gen, dtype=torch.float64)
        cases.append((w, grad, lr, alpha))
    w = torch.randn(4, 5, generator=gen, dtype=torch.float64)  # a matrix: d counts all entries
    cases.append((w, torch.randn(4, 5, generator=gen, dtype=torch.float64), 0.3, 5.0))

    for w, grad, lr, alpha in cases:
        d = w.numel()
        what = f"a weight tensor of shape {tuple(w.shape)} with lr={lr}, alpha={alpha}"
        w_in, g_in = w.clone(), grad.clone()
        out = _as_tensor(call_student(fn, w_in, g_in, lr, alpha, what=what), what)
        if not torch.equal(w_in, w) or not torch.equal(g_in, grad):
            fail(
                "your function changed its input w (or grad) in place; return a new tensor "
                "instead, e.g. build it from w - lr * grad."
            )
        if out.shape != w.shape:
            fail(
                f"the result should have the shape of w, {tuple(w.shape)}, "
                f"got {tuple(out.shape)} for {what}."
            )
        z = w - lr * grad
        expected = prox_lhalf(z, lr * alpha / d)
        tol = 1e-5 if out.dtype in (torch.float32, torch.float16, torch.bfloat16) else 1e-9
        if _close(out.to(torch.float64), expected, tol):
            continue
        out = out.to(torch.float64)
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
                prox_l1(z, lr * alpha / d),
                "that is soft thresholding, the prox of L1; this penalty needs half thresholding.",
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
            if _close(out, wrong, tol):
                fail(message)
        fail(
            f"the result does not match a proximal gradient step for {what}. "
            "Check the gradient step and the threshold lr * alpha / d (d = w.numel())."
        )
    passed("lhalf_prox_step", len(cases))


def flow_decay(fn: Callable[..., object]) -> None:
    """Check ``fn(w0, k, alpha, t_flow)``: the gradient flow of ``alpha |w|^k`` at flow time
    ``t_flow`` (``k > 2``), as :func:`weightreg.dynamics.flow_solution`.

    Diagnoses a lost sign (the flow keeps the sign of ``w0``), a wrong root (``-1/k`` instead
    of ``-1/(k-2)``), a missing factor ``k`` or ``k - 2``, a crash or non-finite value at
    ``w0 = 0``, and a wrong value at ``t_flow = 0``.  Accepts float32 answers (relative
    tolerance 1e-6).
    """
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
        out = call_student(fn, w0, k, alpha, t, what=what)
        try:
            value = float(out)
        except (TypeError, ValueError):
            fail(
                f"your function should return a number (or a one-element tensor), "
                f"got {type(out).__name__} for {what}."
            )
        expected = float(flow_solution(torch.tensor([w0], dtype=torch.float64), k, alpha, t)[0])
        if math.isclose(value, expected, rel_tol=1e-6, abs_tol=1e-12):
            continue
        if not math.isfinite(value):
            fail(
                f"your function returned {value} for {what}; "
                "a weight that starts at 0 stays at 0, and no time gives an infinite weight."
            )
        m = k - 2
        r0 = abs(w0)
        if r0 > 0:
            if math.isclose(value, -expected, rel_tol=1e-6):
                fail(
                    f"wrong sign for {what}: the flow shrinks |w| but never changes the sign "
                    "of w (use the sign of w0)."
                )
            wrong = {
                "the exponent": (r0**-m + m * k * alpha * t) ** (-1 / k),
                "the factor k": (r0**-m + m * alpha * t) ** (-1 / m),
                "the factor k - 2": (r0**-m + k * alpha * t) ** (-1 / m),
            }
            for name, wrong_value in wrong.items():
                if math.isclose(abs(value), wrong_value, rel_tol=1e-6):
                    fail(
                        f"check {name} in your formula (case {what}): differentiate "
                        "|w|^(2-k) along the flow and integrate from 0 to t_flow."
                    )
            if t == 0:
                fail(f"at t_flow = 0 the flow must return w0 itself ({what}).")
        fail(f"your value {value:.6g} differs from the gradient flow for {what}.")
    passed("flow_decay", len(cases))


def lk_norm(fn: Callable[..., object]) -> None:
    """Check ``fn(w, k)``: the Lk (quasi-)norm ``(sum |w_i|^k)^(1/k)``, ``k = inf`` the max.

    Diagnoses a missing absolute value, the k-th power without the root, a mean instead of a
    sum, the root 1/2 for every k, the largest entry instead of the largest absolute entry for
    ``k = inf``, and a matrix norm over one row only.  Accepts float32 answers.
    """
    gen = torch.Generator().manual_seed(1)
    v = torch.randn(9, generator=gen, dtype=torch.float64)
    v[2] = -3.0
    cases = [
        (torch.tensor([3.0, -4.0], dtype=torch.float64), 2.0),
        (v, 1.0),
        (v, 0.5),
        (v, 3.0),
        (v, 10.0),
        (v, math.inf),
        (v.reshape(3, 3), 1.5),
        (torch.tensor([-1.0, -2.0], dtype=torch.float64), math.inf),
    ]
    for w, k in cases:
        what = f"a tensor of shape {tuple(w.shape)} and k={k}"
        out = call_student(fn, w.clone(), k, what=what)
        try:
            value = float(out)
        except (TypeError, ValueError):
            fail(
                f"your function should return a number (a one-element tensor is fine), "
                f"got {type(out).__name__} for {what}."
            )
        a = w.abs().flatten()
        expected = float(a.max()) if k == math.inf else float((a**k).sum() ** (1 / k))
        if math.isclose(value, expected, rel_tol=1e-6):
            continue
        if k == math.inf:
            if math.isclose(value, float(w.max()), rel_tol=1e-6):
                fail("for k = inf take the largest ABSOLUTE value: here all entries are negative.")
            fail("for k = inf the norm is the largest absolute entry, max |w_j|.")
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
            if wrong_value is not None and math.isclose(value, wrong_value, rel_tol=1e-6):
                fail(f"{message} (case {what}).")
        if w.dim() > 1:
            fail(f"for a matrix ({what}) the norm runs over all {n} entries together.")
        fail(f"your value {value:.6g} differs from the L{k} norm for {what}.")
    passed("lk_norm", len(cases))

"""Self-checks for the exercises of ``book/implicit/dropout.md`` (*Dropout is an adaptive L2*).

* :func:`dropout_penalty`: the expected increase of the least-squares loss under inverted
  dropout on the inputs (:func:`weightreg.dropout.dropout_penalty`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._core import call_student, fail, passed

TOL = 1e-5
"""Relative tolerance: loose enough for a correct answer computed in float32 (relative
rounding about 6e-8 per operation), tight enough for every wrong answer the check names."""

__all__ = ["dropout_penalty"]


def _reference(X: torch.Tensor, w: torch.Tensor, p: float) -> float:
    return float(p / (1 - p) / (2 * X.shape[0]) * (w**2 * (X**2).sum(0)).sum())


def _value(out: object, what: str) -> float:
    if isinstance(out, torch.Tensor):
        if out.numel() != 1:
            fail(
                f"for {what} your function returned a tensor of shape {tuple(out.shape)}: the "
                "expected increase of the loss is one number (sum over the weights and average "
                "over the examples)."
            )
        if out.is_complex():
            fail(f"for {what} your function returned a complex number: the penalty is real.")
        out = float(out.detach().reshape(()))
    elif isinstance(out, bool) or not isinstance(out, int | float):
        fail(
            f"your function should return a number or a 0-d torch.Tensor, got "
            f"{type(out).__name__} for {what}."
        )
    value = float(out)
    if value != value or value in (float("inf"), float("-inf")):
        fail(f"your result is NaN or inf for {what}. Is there a division by zero?")
    return value


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(abs(b), 1e-12)


def _factor_of_p(got: float, want: float, p: float) -> None:
    """Fail with a hint if ``got`` is ``want`` off by the factor ``1 - p`` or its inverse."""
    if _close(got, want * (1 - p)):
        fail(
            f"for p = {p} your value is {got:.6g}, too small by the factor 1 - p: did you use "
            "p instead of p / (1 - p)? The kept inputs are divided by 1 - p (inverted dropout)."
        )
    if _close(got, want / (1 - p)):
        fail(
            f"for p = {p} your value is {got:.6g}, too large by the factor 1 / (1 - p): the "
            "variance of m / (1 - p) for m ~ Bernoulli(1 - p) is p (1 - p) / (1 - p)^2."
        )


def dropout_penalty(fn: Callable[[torch.Tensor, torch.Tensor, float], object]) -> None:
    """Check ``fn(X, w, p)``: the exact expected increase of ``(1/(2n)) ||y - X w||^2`` when
    every input entry is dropped with probability ``p`` and the kept ones divided by ``1 - p``.

    The inputs are float64; a number, or a 0-d tensor in float32 or float64, is accepted
    (tolerance ``TOL``, relative).
    """
    n_cases = 0
    dt = torch.float64

    # 1. one example, one weight: the variance of the noisy input
    X1, w1 = torch.tensor([[2.0]], dtype=dt), torch.tensor([3.0], dtype=dt)
    got = _value(call_student(fn, X1, w1, 0.25, what="X=[[2]], w=[3], p=0.25"), "X=[[2]], w=[3]")
    want = _reference(X1, w1, 0.25)  # (0.25 / 0.75) / 2 * 9 * 4 = 6
    n_cases += 1
    if not _close(got, want):
        if _close(got, 2 * want):
            fail(
                "for X=[[2]], w=[3], p=0.25 your value is twice the expected increase: the loss "
                "is (1/(2n)) times the sum of squares; did you forget the 1/2?"
            )
        _factor_of_p(got, want, 0.25)
        if _close(got, 0.0):
            fail(
                "for X=[[2]], w=[3], p=0.25 your value is 0: the noisy input has the right mean, "
                "but its variance adds to the expected squared error."
            )
        fail(
            f"for one example x = 2, one weight w = 3 and p = 0.25 the expected increase should "
            f"be positive and is not {got:.6g}. Write the noisy input as m x / (1 - p) and "
            f"compute the mean of (y - m x w / (1 - p))^2 minus (y - x w)^2."
        )
    n_cases += 1

    # 2. the dependence on p: p / (1 - p), not p, not p / (1 - p)^2
    for p in (0.2, 0.8):
        got = _value(call_student(fn, X1, w1, p, what=f"X=[[2]], w=[3], p={p}"), f"p={p}")
        want = _reference(X1, w1, p)
        if not _close(got, want):
            _factor_of_p(got, want, p)
            fail(f"for p = {p} the expected increase is not {got:.6g}: check how it depends on p.")
        n_cases += 1
    got = _value(call_student(fn, X1, w1, 0.0, what="p=0"), "p=0")
    if abs(got) > 1e-12:
        fail("with p = 0 nothing is dropped: the loss does not change, so the increase is 0.")
    n_cases += 1

    # 3. several examples and weights of different scales: per-weight, mean over examples
    X = torch.tensor([[1.0, 10.0, 0.0], [-2.0, 0.0, 0.5], [0.5, -10.0, 0.5]], dtype=dt)
    w = torch.tensor([0.5, 0.1, 2.0], dtype=dt)
    what = "a 3x3 X with columns of different scales"
    got = _value(call_student(fn, X, w, 0.3, what=what), what)
    want = _reference(X, w, 0.3)
    n_cases += 1
    if not _close(got, want):
        n = X.shape[0]
        if _close(got, n * want):
            fail(
                f"for {what} your value is n = {n} times too large: the loss averages over the "
                "examples (1/(2n)), so the penalty uses the mean of x_ij^2 over i, not the sum."
            )
        plain = 0.3 / 0.7 / 2 * float((w**2).sum()) * float((X**2).mean())
        if _close(got, plain):
            fail(
                f"for {what} your value weights every w_j^2 by the same number (the mean of all "
                "x^2): dropout weights w_j^2 by the mean of x_j^2 over the examples, column j "
                "only."
            )
        cross = 0.3 / 0.7 / (2 * n) * float(((X * w).sum(1) ** 2).sum())
        if _close(got, cross):
            fail(
                f"for {what} your value squares the whole prediction x_i^T w: the masks of "
                "different inputs are independent, so only the squares x_ij^2 w_j^2 survive."
            )
        fail(
            f"for {what} and p = 0.3 your value {got:.6g} is not the expected increase. Each "
            "weight w_j should be weighted by the mean of x_j^2 over the examples."
        )
    n_cases += 1

    # 4. random cases: invariance and the closed form
    g = torch.Generator().manual_seed(0)
    for trial in range(5):
        n, d = 2 + trial, 4
        Xr = torch.randn(n, d, generator=g, dtype=dt) * torch.logspace(-1, 1, d, dtype=dt)
        wr = torch.randn(d, generator=g, dtype=dt)
        Xc, wc = Xr.clone(), wr.clone()
        p = 0.1 + 0.15 * trial
        what = f"a random X of shape ({n}, {d}) and p = {p:g}"
        got = _value(call_student(fn, Xr, wr, p, what=what), what)
        if not (torch.equal(Xr, Xc) and torch.equal(wr, wc)):
            fail("your function changed X or w in place. Work on copies instead.")
        if not _close(got, _reference(Xr, wr, p)):
            fail(f"for {what} your value {got:.6g} is not the expected increase.")
        n_cases += 1
    passed("dropout_penalty", n_cases)

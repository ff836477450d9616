"""Self-checks for the exercises of ``book/implicit/dropout.md`` (*Dropout is an adaptive L2*).

* :func:`dropout_penalty`: the expected increase of the least-squares loss under inverted
  dropout on the inputs (:func:`weightreg.dropout.dropout_penalty`).

The chapter computes in float64 (its default dtype), so the inputs are float64 and a result
is compared at float64's tolerance; a float32 result that agrees to float32 precision passes
with a note (the dtype policy of ``weightreg.check._core.agrees``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .. import dropout as _library
from ._core import agrees, call_untouched, close, fail, passed, result_dtype, selfcheck, tolerance
from ._core import uses_library as _uses_library

__all__ = ["dropout_penalty"]

DTYPE = torch.float64
"""The chapter's dtype: the inputs handed to the student's function."""


def _reference(X: torch.Tensor, w: torch.Tensor, p: float) -> float:
    return float(p / (1 - p) / (2 * X.shape[0]) * (w**2 * (X**2).sum(0)).sum())


def _value(out: object, what: str) -> tuple[float, torch.dtype | None]:
    """The student's number and the dtype it was computed in."""
    if isinstance(out, torch.Tensor):
        if out.dim() != 0:
            if out.numel() == 1:
                fail(
                    f"for {what} your function returned a tensor of shape {tuple(out.shape)}; "
                    "return one number: a Python float or a 0-d tensor (shape ()), e.g. what "
                    ".sum() gives, or float(...) of your result."
                )
            fail(
                f"for {what} your function returned a tensor of shape {tuple(out.shape)}: the "
                "expected increase of the loss is one number (sum over the weights and average "
                "over the examples)."
            )
        if out.is_complex():
            fail(f"for {what} your function returned a complex number: the penalty is real.")
        if not out.is_floating_point():
            fail(
                f"for {what} your function returned a tensor of dtype {out.dtype}; return a "
                "real number."
            )
        value = float(out.detach())
    elif isinstance(out, bool) or result_dtype(out) is None or getattr(out, "ndim", 0) != 0:
        fail(
            f"your function should return a number or a 0-d torch.Tensor, got "
            f"{type(out).__name__} for {what}."
        )
    else:
        value = float(out)  # a Python or NumPy number
    if value != value or value in (float("inf"), float("-inf")):
        fail(f"your result is NaN or inf for {what}. Is there a division by zero?")
    return value, result_dtype(out)


def _call(fn: Callable, X: torch.Tensor, w: torch.Tensor, p: float, what: str):
    """``(value, dtype, raw)``: the student's result on copies of ``X`` and ``w``."""
    raw = call_untouched(fn, X, w, p, what=what, names=("X", "w"))
    value, dtype = _value(raw, what)
    return value, dtype, raw


class _Same:
    """Whether the student's value equals a variant, at the tolerance of the result's dtype."""

    def __init__(self, dtype: torch.dtype | None):
        self.tol = tolerance(dtype, DTYPE)

    def __call__(self, got: float, want: float) -> bool:
        return close(got, want, self.tol, scale=0.0) or abs(got - want) <= 1e-300


def _factor_of_p(same: _Same, got: float, want: float, p: float) -> None:
    """Fail with a hint if ``got`` is ``want`` off by the factor ``1 - p`` or its inverse."""
    if same(got, want * (1 - p)):
        fail(
            f"for p = {p} your value is {got:.6g}, too small by the factor 1 - p: did you use "
            "p instead of p / (1 - p)? The kept inputs are divided by 1 - p (inverted dropout)."
        )
    if same(got, want / (1 - p)):
        fail(
            f"for p = {p} your value is {got:.6g}, too large by the factor 1 / (1 - p): the "
            "variance of m / (1 - p) for m ~ Bernoulli(1 - p) is p (1 - p) / (1 - p)^2."
        )
    if same(got, want * (1 - p) ** 2):
        fail(
            f"for p = {p} your value is {got:.6g}: p (1 - p) is the variance of the mask m "
            "itself; the kept inputs are divided by 1 - p, so the variance of m / (1 - p) is "
            "p / (1 - p)."
        )
    if p > 0 and same(got, want * ((1 - p) / p) ** 2):
        fail(
            f"for p = {p} your value is {got:.6g}: the factor is upside down, (1 - p) / p "
            "instead of p / (1 - p) (p is the probability of dropping an input)."
        )


def _sampled(got: float, want: float, what: str) -> None:
    if want > 0 and abs(got - want) <= 0.25 * want:
        fail(
            f"for {what} your value {got:.6g} is close to the exact expected increase but not "
            "equal to it: are you sampling masks? The exercise asks for the exact expectation, "
            "computed from X, w and p without random numbers."
        )


def _diagnose(same: _Same, got: float, X: torch.Tensor, w: torch.Tensor, p: float, what: str):
    """Fail with the message of the first typical mistake that ``got`` reproduces."""
    want = _reference(X, w, p)
    n, d = X.shape
    if same(got, n * want):
        fail(
            f"for {what} your value is n = {n} times too large: the loss averages over the "
            "examples (1/(2n)), so the penalty uses the mean of x_ij^2 over i, not the sum."
        )
    if same(got, 2 * want):
        fail(f"for {what} your value is twice the expected increase: did you forget the 1/2?")
    plain = p / (1 - p) / 2 * float((w**2).sum()) * float((X**2).mean())
    if same(got, plain):
        fail(
            f"for {what} your value weights every w_j^2 by the same number (the mean of all "
            "x^2): dropout weights w_j^2 by the mean of x_j^2 over the examples, column j only."
        )
    cross = p / (1 - p) / (2 * n) * float(((X * w).sum(1) ** 2).sum())
    if same(got, cross):
        fail(
            f"for {what} your value squares the whole prediction x_i^T w: the masks of "
            "different inputs are independent, so only the squares x_ij^2 w_j^2 survive."
        )
    if same(got, want / d):
        fail(
            f"for {what} your value is divided by d = {d}: the penalty is a sum over the "
            "weights j (a mean over the examples i only), not a mean over the weights."
        )
    _factor_of_p(same, got, want, p)
    _sampled(got, want, what)


@selfcheck
def dropout_penalty(fn: Callable[[torch.Tensor, torch.Tensor, float], object]) -> None:
    """Check ``fn(X, w, p)``: the exact expected increase of ``(1/(2n)) ||y - X w||^2`` when
    every input entry is dropped with probability ``p`` and the kept ones divided by ``1 - p``.

    The inputs are float64 (the chapter's dtype); a number, or a 0-d tensor, is accepted (a
    float32 result that agrees to float32 precision passes with a note).  Diagnoses: a missing
    1/2, ``p`` instead of ``p / (1 - p)`` (or ``p / (1 - p)^2``, ``(1 - p) / p``), a sum over
    the examples instead of a mean, a mean over the weights instead of a sum, one coefficient
    for all weights, cross terms (the whole prediction squared), ``w`` or ``X`` not squared, a
    nonzero value at ``p = 0``, sampled masks (a value that changes from call to call, or is
    only close), a result of the wrong shape or type, ``X`` or ``w`` changed in place, a call
    to the library's ``weightreg.dropout.dropout_penalty``.
    """
    _uses_library(fn, _library.dropout_penalty, exercise="this exercise")
    n_cases = 0
    dt = DTYPE

    # 0. the same inputs twice give the same number (no sampled masks)
    X = torch.tensor([[1.0, 10.0, 0.0], [-2.0, 0.0, 0.5], [0.5, -10.0, 0.5]], dtype=dt)
    w = torch.tensor([0.5, 0.1, 2.0], dtype=dt)
    what = "a 3x3 X with columns of different scales and p = 0.3"
    first, second = (_call(fn, X, w, 0.3, what)[0] for _ in range(2))
    if first != second:
        fail(
            f"for {what} your function returned {first:.6g}, then {second:.6g} on the same "
            "inputs: it samples random masks. The exercise asks for the exact expectation, "
            "computed from X, w and p without random numbers."
        )

    # 1. one example, one weight: the variance of the noisy input
    X1, w1 = torch.tensor([[2.0]], dtype=dt), torch.tensor([3.0], dtype=dt)
    what1 = "X=[[2]], w=[3], p=0.25"
    got, dtype, raw = _call(fn, X1, w1, 0.25, what1)
    same = _Same(dtype)
    want = _reference(X1, w1, 0.25)  # (0.25 / 0.75) / 2 * 9 * 4 = 6
    n_cases += 1
    if not agrees(raw, want, dtype=DTYPE, what=what1):
        if same(got, 2 * want):
            fail(
                "for X=[[2]], w=[3], p=0.25 your value is twice the expected increase: the loss "
                "is (1/(2n)) times the sum of squares; did you forget the 1/2?"
            )
        _factor_of_p(same, got, want, 0.25)
        if same(got, 0.0):
            fail(
                "for X=[[2]], w=[3], p=0.25 your value is 0: the noisy input has the right mean, "
                "but its variance adds to the expected squared error."
            )
        if same(got, want / 3):
            fail(
                "for X=[[2]], w=[3], p=0.25 your value has w to the first power: the penalty "
                "weighs the squares w_j^2."
            )
        if same(got, want / 2):
            fail(
                "for X=[[2]], w=[3], p=0.25 your value has x to the first power: the penalty "
                "weighs w_j^2 by the squares x_ij^2."
            )
        _sampled(got, want, what1)
        fail(
            f"for one example x = 2, one weight w = 3 and p = 0.25 the expected increase should "
            f"be positive and is not {got:.6g}. Write the noisy input as m x / (1 - p) and "
            f"compute the mean of (y - m x w / (1 - p))^2 minus (y - x w)^2."
        )
    n_cases += 1

    # 2. the dependence on p: p / (1 - p), not p, not p / (1 - p)^2
    for p in (0.2, 0.8):
        got, dtype, raw = _call(fn, X1, w1, p, f"X=[[2]], w=[3], p={p}")
        want = _reference(X1, w1, p)
        if not agrees(raw, want, dtype=DTYPE, what=f"X=[[2]], w=[3], p={p}"):
            _factor_of_p(_Same(dtype), got, want, p)
            _sampled(got, want, f"X=[[2]], w=[3], p={p}")
            fail(f"for p = {p} the expected increase is not {got:.6g}: check how it depends on p.")
        n_cases += 1
    got = _call(fn, X1, w1, 0.0, "X=[[2]], w=[3], p=0")[0]
    if abs(got) > 1e-12:
        fail("with p = 0 nothing is dropped: the loss does not change, so the increase is 0.")
    n_cases += 1

    # 3. several examples and weights of different scales: per-weight, mean over examples
    X = torch.tensor([[1.0, 10.0, 0.0], [-2.0, 0.0, 0.5], [0.5, -10.0, 0.5]], dtype=dt)
    w = torch.tensor([0.5, 0.1, 2.0], dtype=dt)
    what = "a 3x3 X with columns of different scales and p = 0.3"
    got, dtype, raw = _call(fn, X, w, 0.3, what)
    same = _Same(dtype)
    want = _reference(X, w, 0.3)
    n_cases += 1
    if not agrees(raw, want, dtype=DTYPE, what=what):
        _diagnose(_Same(dtype), got, X, w, 0.3, what)
        fail(
            f"for {what} your value {got:.6g} is not the expected increase. Each "
            "weight w_j should be weighted by the mean of x_j^2 over the examples."
        )
    n_cases += 1

    # 4. random cases: the closed form
    g = torch.Generator().manual_seed(0)
    for trial in range(5):
        n, d = 2 + trial, 4
        Xr = torch.randn(n, d, generator=g, dtype=dt) * torch.logspace(-1, 1, d, dtype=dt)
        wr = torch.randn(d, generator=g, dtype=dt)
        p = 0.1 + 0.15 * trial
        what = f"a random X of shape ({n}, {d}) and p = {p:g}"
        got, dtype, raw = _call(fn, Xr, wr, p, what)
        if not agrees(raw, _reference(Xr, wr, p), dtype=DTYPE, what=what):
            _diagnose(_Same(dtype), got, Xr, wr, p, what)
            fail(f"for {what} your value {got:.6g} is not the expected increase.")
        n_cases += 1
    passed("dropout_penalty", n_cases)

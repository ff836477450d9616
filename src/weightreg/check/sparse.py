"""Self-checks for the new exercises of the chapters *L1* and *L0.5*.

``book/lk/l1.md`` and ``book/lk/lhalf.md``.  These chapters compute in float64 (``DTYPE``); one
case feeds float32 inputs, and is compared at float32 tolerance (the dtype policy of
``weightreg.check._core``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._core import (
    agrees,
    as_float,
    call_untouched,
    close,
    fail,
    passed,
    result_dtype,
    selfcheck,
    tolerance,
)

__all__ = ["lasso_kkt"]

DTYPE = torch.float64
"""The dtype of the chapter (it sets it as torch's default)."""


def _kkt(
    X,
    y,
    w,
    b,
    alpha,
    *,
    mean=True,
    per=None,
    zeros="box",
    bias=True,
    sign=1.0,
    with_b=True,
    total=False,
) -> float:
    """The largest violation of the lasso optimality conditions, and its usual mistakes.

    ``mean=False`` sums the loss gradient over the examples instead of averaging; ``per`` is
    the weight of each ``|w_j|`` (``alpha / d`` when None); ``zeros="box"`` lets a zero weight
    take any slope in ``[-per, per]``, ``"equal"`` demands ``g_j = 0`` there; ``bias=False``
    forgets the bias condition; ``sign=-1`` flips the penalty's slope; ``with_b=False`` leaves
    the bias out of the residual; ``total=True`` adds the violations up instead of taking the
    largest.
    """
    n, d = X.shape
    per = alpha / d if per is None else per
    r = X @ w + (b if with_b else 0.0) - y
    g = X.T @ r / (n if mean else 1)
    nonzero = (g + sign * per * torch.sign(w)).abs()
    zero = (g.abs() - per).clamp(min=0) if zeros == "box" else g.abs()
    each = torch.where(w != 0, nonzero, zero)
    if total:
        return float(each.sum() + (r.mean().abs() if bias else 0.0))
    viol = each.max()
    if bias:
        viol = torch.maximum(viol, r.mean().abs())
    return float(viol)


def _problem(seed: int, dtype: torch.dtype = torch.float64):
    gen = torch.Generator().manual_seed(seed)
    n, d = 30, 8
    X = torch.randn(n, d, generator=gen, dtype=torch.float64)
    true_w = torch.tensor([1.5, -1.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0], dtype=torch.float64)
    y = X @ true_w + 0.3 + 0.2 * torch.randn(n, generator=gen, dtype=torch.float64)
    return X.to(dtype), y.to(dtype)


def _lasso(X: torch.Tensor, y: torch.Tensor, alpha: float) -> tuple[torch.Tensor, float]:
    """The exact lasso solution (scikit-learn's coordinate descent, ``a = alpha / d``)."""
    from sklearn.linear_model import Lasso

    d = X.shape[1]
    model = Lasso(alpha=alpha / d, tol=1e-14, max_iter=1_000_000)
    model.fit(X.double().numpy(), y.double().numpy())
    return torch.from_numpy(model.coef_).to(X.dtype), float(model.intercept_)


def _value(out: object, what: str) -> float:
    value = as_float(out, what=what, strict=False)
    if value != value or value < 0:
        fail(f"on {what} your function returned {value}: a violation is a size, a number >= 0.")
    return value


@selfcheck
def lasso_kkt(fn: Callable[..., float]) -> None:
    """Check ``fn(X, y, w, b, alpha)``: the largest violation of the lasso's optimality
    conditions for the chapter's objective ``mean((X w + b - y)**2) / 2 + alpha * mean(|w|)``.

    With ``g = X^T (X w + b - y) / n`` and ``tau = alpha / d``, the conditions are
    ``g_j + tau * sign(w_j) = 0`` for ``w_j != 0``, ``|g_j| <= tau`` for ``w_j = 0``, and
    ``mean(X w + b - y) = 0`` for the bias; the answer is the largest of
    ``|g_j + tau sign(w_j)|``, ``max(|g_j| - tau, 0)`` and ``|mean residual|``.  Cases: an exact
    solution (scikit-learn's ``Lasso``), all weights zero below and above ``alpha_max``, a
    perturbed point, a shifted bias, float32 inputs.  Diagnoses: a sum instead of a mean in
    the loss gradient, ``alpha`` instead of ``alpha / d``, demanding ``g_j = 0`` at a zero
    weight, a forgotten bias condition, the penalty's slope with the wrong sign, a non-number
    or negative result, inputs changed in place.  A float32 answer passes at float32
    tolerance.
    """
    X, y = _problem(0)
    n, d = X.shape
    alpha = 2.0
    w_opt, b_opt = _lasso(X, y, alpha)
    alpha_max = d * float((X - X.mean(0)).T.mul(y - y.mean()).sum(1).abs().max()) / n
    w_pert = w_opt.clone()
    w_pert[0] += 0.05
    w_pert[3] = -0.02
    cases = [
        ("an exact lasso solution", (X, y, w_opt, b_opt, alpha)),
        (
            "w = 0, b = mean(y), alpha below alpha_max",
            (X, y, torch.zeros(d, dtype=X.dtype), float(y.mean()), 0.5 * alpha_max),
        ),
        (
            "w = 0, b = mean(y), alpha above alpha_max",
            (X, y, torch.zeros(d, dtype=X.dtype), float(y.mean()), 1.5 * alpha_max),
        ),
        ("a perturbed solution", (X, y, w_pert, b_opt, alpha)),
        ("the exact weights with the bias shifted by 0.1", (X, y, w_opt, b_opt + 0.1, alpha)),
    ]
    X32, y32 = _problem(1, torch.float32)
    w32, b32 = _lasso(X32, y32, alpha)
    cases.append(("float32 inputs and a perturbed solution", (X32, y32, w32 + 0.01, b32, alpha)))
    mistakes = [
        (
            dict(mean=False),
            "your loss gradient is n times too large: the loss is a *mean* "
            "over the n examples, so its gradient is X^T r / n.",
        ),
        (
            dict(per="alpha"),
            "the penalty's slope is off by a factor d: the mean penalty "
            "puts alpha / d (not alpha) on each |w_j|.",
        ),
        (
            dict(zeros="equal"),
            "at a weight that is exactly zero you demand a zero loss "
            "gradient; there the penalty is not differentiable, and any slope of size up to "
            "alpha / d is allowed (the subdifferential).",
        ),
        (
            dict(bias=False),
            "you forgot the condition for the bias, which is not "
            "penalized: the mean residual must be zero.",
        ),
        (
            dict(with_b=False),
            "your residual leaves out the bias: the model's prediction is X w + b, so the "
            "residual is X w + b - y.",
        ),
        (
            dict(total=True),
            "you summed the violations (added them up); the answer is the largest one, "
            "not the sum of them.",
        ),
        (
            dict(sign=-1.0),
            "the penalty's slope has the wrong sign: at a non-zero weight "
            "the condition is g_j + (alpha / d) sign(w_j) = 0.",
        ),
    ]
    for what, (Xc, yc, w, b, a) in cases:
        out = call_untouched(fn, Xc, yc, w, b, a, what=what, names=("X", "y", "w", "b", "alpha"))
        got = _value(out, what)
        X64, y64, w64 = Xc.double(), yc.double(), w.double()
        want = _kkt(X64, y64, w64, b, a)
        # the size of the gradients the violation is computed from
        scale = 1.0 + float((X64.T @ (X64 @ w64 + b - y64)).abs().max()) / X64.shape[0]
        if agrees(
            out if isinstance(out, torch.Tensor) else got,
            want,
            dtype=Xc.dtype,
            what=what,
            scale=scale,
        ):
            continue
        tol = tolerance(result_dtype(out), Xc.dtype)
        for kwargs, message in mistakes:
            if kwargs.get("per") == "alpha":
                kwargs = {**kwargs, "per": a}
            wrong = _kkt(X64, y64, w64, b, a, **kwargs)
            if close(got, wrong, tol, scale) and not close(wrong, want, tol, 10 * scale):
                fail(f"on {what}: {message}")
        fail(
            f"on {what} your function returned {got:.6g}, but the largest violation is "
            f"{want:.6g}. Check the three kinds of condition: non-zero weights, zero weights, "
            "and the bias."
        )
    passed("lasso_kkt", len(cases))

"""Self-checks for the exercises of the chapters *L2* and *L1* (``book/lk/l2.md``, ``l1.md``)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..penalties import lk_grad as _library_lk_grad
from ._core import call_student, fail, passed

__all__ = ["lk_grad", "prox_l1"]


def _as_result(out: object, like: torch.Tensor, what: str) -> torch.Tensor:
    if not isinstance(out, torch.Tensor):
        fail(
            f"on {what} your function returned a {type(out).__name__}; return a torch "
            "tensor with the same shape as its input."
        )
    if out.shape != like.shape:
        fail(
            f"on {what} your function returned shape {tuple(out.shape)}, but the input has "
            f"shape {tuple(like.shape)}: the result has one entry per weight."
        )
    return out.detach().to(torch.float64)


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.allclose(a, b, rtol=1e-9, atol=1e-12))


def _reference_grad(w: torch.Tensor, k: float, alpha: float) -> torch.Tensor:
    return _library_lk_grad(w, k, alpha)  # the one implementation, in weightreg.penalties


def lk_grad(fn: Callable[[torch.Tensor, float, float], torch.Tensor]) -> None:
    """Check ``fn(w, k, alpha)`` = the gradient of ``alpha * mean(|w|**k)``, with 0 at ``w = 0``.

    Diagnoses: a missing sign at negative weights, NaN or inf at ``w = 0`` (for
    ``k <= 1``), a sum instead of a mean (or a mean over the wrong axis), an ignored or
    doubled ``alpha``, a missing factor ``k``, the exponent ``k`` instead of ``k - 1``,
    a changed shape, a non-tensor result, an input modified in place.
    """
    gen = torch.Generator().manual_seed(3)
    cases = [
        (torch.rand(5, generator=gen, dtype=torch.float64) + 0.2, 2.0, 1.0),
        (torch.tensor([-1.5, -0.3, 0.4, 2.0], dtype=torch.float64), 1.0, 1.0),
        (torch.tensor([-2.0, -0.5, 0.25, 1.0, 3.0], dtype=torch.float64), 3.0, 0.8),
        (torch.tensor([0.0, -1.0, 0.0, 2.0], dtype=torch.float64), 1.0, 2.0),
        (torch.tensor([0.0, 0.49, -0.81, 0.0, 1.0], dtype=torch.float64), 0.5, 1.0),
        (torch.randn(3, 4, generator=gen, dtype=torch.float64), 1.5, 0.5),
        (torch.randn(2, 6, generator=gen, dtype=torch.float64), 2.0, 3.0),
    ]
    for w, k, alpha in cases:
        shape = "x".join(map(str, w.shape))
        what = f"a {shape} tensor with k={k:g}, alpha={alpha:g}"
        w_in = w.clone()
        out = _as_result(call_student(fn, w_in, k, alpha, what=what), w, what)
        if not torch.equal(w_in, w):
            fail(f"your function changed its input w in place (on {what}); leave w untouched.")
        expected = _reference_grad(w, k, alpha)
        if _close(out, expected):
            continue
        zero = w == 0
        if bool(zero.any()) and not bool(torch.isfinite(out[zero]).all()):
            fail(
                f"on {what}: at w = 0 your gradient is {out[zero][0].item()}. The derivative of "
                f"|w|**{k:g} does not exist there; the convention is to return 0 at w = 0 "
                "(avoid computing 0 ** negative)."
            )
        nz = ~zero
        if not _close(out[nz], expected[nz]):
            n = w.numel()
            no_sign = alpha * k * w.abs() ** (k - 1) / n
            diagnoses = [
                (
                    no_sign,
                    "the sign is missing: at a negative weight the gradient of "
                    "|w|**k points the other way (multiply by sign(w)).",
                ),
                (
                    expected * n,
                    "you summed over the entries; the penalty is a mean, so divide "
                    "by the number of entries of w.",
                ),
                (expected / alpha, "the value does not change with alpha: multiply by alpha."),
                (expected * alpha, "alpha is applied twice."),
                (expected / k, "the factor k from the power rule is missing."),
                (
                    alpha * torch.sign(w) * w.abs() ** k / n,
                    "the power is wrong: the derivative of |w|**k has exponent k - 1.",
                ),
            ]
            if w.dim() > 1:
                for m in {w.shape[0], w.shape[-1]} - {n}:
                    diagnoses.append(
                        (
                            expected * n / m,
                            "you divided by the length of one "
                            "axis; the mean runs over all entries of w.",
                        )
                    )
            for value, message in diagnoses:
                if _close(out[nz], value[nz]) and not _close(value[nz], expected[nz]):
                    fail(f"On {what}: {message}")
            fail(
                f"wrong values on {what}; compare with alpha * k * sign(w) * |w|**(k-1) "
                "divided by the number of entries."
            )
        fail(
            f"on {what}: the gradient at w = 0 should be 0 (the convention where the "
            f"derivative does not exist), got {out[zero].tolist()}."
        )
    passed("lk_grad", len(cases))


def prox_l1(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> None:
    """Check ``fn(z, t)`` = soft thresholding ``sign(z) * max(|z| - t, 0)``, elementwise.

    Diagnoses: hard thresholding (big entries not moved), shrinking without stopping at
    zero (small entries pushed past 0), negative entries mishandled, the L2 prox
    ``z / (1 + t)``, zeros that are only nearly zero, a changed shape, a non-tensor result,
    an input modified in place.
    """
    cases = [
        (torch.tensor([-3.0, -1.0, -0.2, 0.0, 0.3, 0.5, 2.5], dtype=torch.float64), 0.5),
        (torch.tensor([1.2, -0.7, 0.05, -2.0], dtype=torch.float64), 0.1),
        (torch.tensor([[0.9, -0.1], [-1.4, 0.4]], dtype=torch.float64), 0.3),
        (torch.tensor([-0.4, 0.2, 1.0], dtype=torch.float64), 0.0),
        (torch.tensor([0.1 + 0.2, -0.7, 0.29], dtype=torch.float64), 0.3),
    ]
    for z, t in cases:
        shape = "x".join(map(str, z.shape))
        what = f"z = {z.flatten().tolist()} (shape {shape}) with t={t:g}"
        z_in = z.clone()
        out = _as_result(call_student(fn, z_in, t, what=what), z, what)
        if not torch.equal(z_in, z):
            fail(f"your function changed its input z in place (on {what}); leave z untouched.")
        expected = torch.sign(z) * torch.clamp(z.abs() - t, min=0)
        if _close(out, expected):
            inside = z.abs() <= t
            if bool(inside.any()) and not bool((out[inside] == 0).all()):
                fail(
                    f"on {what}: entries with |z| <= t must be exactly 0, not merely tiny "
                    "(that is the point of this operator); clamp instead of subtracting."
                )
            continue
        diagnoses = [
            (
                z * (z.abs() > t),
                "entries above the threshold must also move toward 0 by t "
                "(that was hard thresholding).",
            ),
            (
                z - t * torch.sign(z),
                "entries with |z| <= t must stop at exactly 0 instead "
                "of crossing to the other side.",
            ),
            (
                torch.clamp(z - t, min=0),
                "negative entries must move up toward 0 too: "
                "the operator is odd, prox(-z) = -prox(z).",
            ),
            (z / (1 + t), "that is the proximal operator of (t/2) x**2 (L2), not of t |x|."),
        ]
        for value, message in diagnoses:
            if _close(out, value) and not _close(value, expected):
                fail(f"On {what}: {message}")
        fail(f"wrong values on {what}; compare with sign(z) * max(|z| - t, 0).")
    passed("prox_l1", len(cases))

"""Self-checks for the exercises of ``book/implicit/early_stopping.md``.

The chapter computes in float64 (its default dtype): the inputs are float64 and the weights
are compared with the float64 reference at float64's tolerance, relative to their size; a
float32 answer that agrees to float32 precision passes with a note (the dtype policy of
``weightreg.check._core.agrees``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._core import agrees, as_tensor, call_untouched, fail, passed, selfcheck

__all__ = ["early_stopped_weights"]


def _centre(X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return X - X.mean(dim=0), y - y.mean()


def _run_gd(X: torch.Tensor, y: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    """The brute force: ``steps`` gradient steps from zero on the centred least squares."""
    Xc, yc = _centre(X, y)
    n = X.shape[0]
    w = torch.zeros(X.shape[1], dtype=torch.float64)
    for _ in range(steps):
        w = w - lr * Xc.T @ (Xc @ w - yc) / n
    return w


def _filtered(Xc: torch.Tensor, yc: torch.Tensor, factor: Callable) -> torch.Tensor:
    n = Xc.shape[0]
    sigma2, Q = torch.linalg.eigh(Xc.T @ Xc / n)
    sigma2 = sigma2.clamp(min=0.0)
    w_plus = torch.linalg.pinv(Xc) @ yc
    return Q @ (factor(sigma2) * (Q.T @ w_plus))


def _diagnoses(
    X: torch.Tensor, y: torch.Tensor, lr: float, steps: int
) -> list[tuple[torch.Tensor, str]]:
    """The weights of the typical wrong answers, each with what to tell the student."""
    n = X.shape[0]
    Xc, yc = _centre(X, y)
    eta_t = lr * steps
    return [
        (
            -_run_gd(X, y, lr, steps),
            "your weights have the wrong sign: gradient descent steps against the gradient, "
            "w - lr * X_c^T (X_c w - y_c) / n.",
        ),
        (
            torch.linalg.pinv(Xc) @ yc,
            "you returned the minimum-norm solution, where gradient descent ends after "
            "infinitely many steps; after `steps` steps only part of each eigen-coordinate is "
            "fitted.",
        ),
        (
            _filtered(Xc, yc, lambda s: s / (s + 1 / eta_t)),
            "you used the ridge factor sigma^2 / (sigma^2 + 1/(eta t)); that is the "
            "approximation the chapter compares with, not what gradient descent does.",
        ),
        (
            _filtered(Xc, yc, lambda s: (1 - lr * s) ** steps),
            "you returned (1 - eta sigma^2)^t times the minimum-norm solution: that is the "
            "part gradient descent has NOT fitted yet; the fitted part is 1 minus it.",
        ),
        (
            _run_gd(X, y, lr, steps - 1),
            "your weights are those after steps - 1 steps: one step too few.",
        ),
        (
            _run_gd(X, y, lr, steps + 1),
            "your weights are those after steps + 1 steps: one step too many.",
        ),
        (
            _filtered(X, y - y.mean(), lambda s: 1 - (1 - lr * s) ** steps),
            "centre the inputs too: with a free bias the problem lives in X - mean(X).",
        ),
        (
            _filtered(X, y, lambda s: 1 - (1 - lr * s) ** steps),
            "centre the data: with a free bias the problem lives in X - mean(X), y - mean(y).",
        ),
        (
            _filtered(Xc, yc, lambda s: 1 - (1 - lr * n * s).clamp(-1e6, 1e6) ** steps),
            "H is X_c^T X_c / n: the 1/n is missing from your eigenvalues.",
        ),
        (
            _filtered(Xc, yc, lambda s: 1 - (1 - lr * s.sqrt()) ** steps),
            "the factor uses the eigenvalues sigma_i^2 of H, not their square roots "
            "(the singular values of X_c / sqrt(n)).",
        ),
    ]


@selfcheck
def early_stopped_weights(
    fn: Callable[[torch.Tensor, torch.Tensor, float, int], torch.Tensor],
) -> None:
    r"""Check ``fn(X, y, lr, steps)``: the weights after ``steps`` gradient steps from zero.

    The problem is the book's least squares with a free bias, on centred data:
    :math:`\frac{1}{2n}\lVert X_c\mathbf w - \mathbf y_c\rVert^2`, started at
    :math:`\mathbf w_0 = \mathbf 0`, full batch, learning rate ``lr`` (:math:`\eta`).  The
    answer, of shape ``(d,)``, is compared with running the steps in float64; answers computed
    in float32 are accepted (relative tolerance ``1e-4``).  Cases: ``d > n`` and ``d < n``,
    inputs and targets with non-zero means, ``eta sigma_max^2`` near 1 and small.

    Diagnoses: the ridge factor :math:`\sigma_i^2/(\sigma_i^2 + 1/(\eta t))` in place of the
    gradient-descent factor, the factor :math:`(1 - \eta\sigma_i^2)^t` without ``1 -`` (the
    part still missing), one step too many or too few, uncentred data, ``H = X^T X`` without
    the ``1/n``, singular values of ``X_c / sqrt(n)`` in place of eigenvalues, the
    minimum-norm solution (infinitely many steps), a wrong sign, a wrong shape, NaN or inf,
    ``X`` or ``y`` changed in place (e.g. centred with ``X -= X.mean(0)``).
    """
    gen = torch.Generator().manual_seed(12)
    cases = []
    for n, d, lr_frac, steps in [(8, 20, 0.9, 3), (30, 6, 0.5, 25), (10, 10, 0.05, 40)]:
        X = torch.randn(n, d, generator=gen, dtype=torch.float64) + 2.0
        y = torch.randn(n, generator=gen, dtype=torch.float64) - 3.0
        Xc, _ = _centre(X, y)
        smax = float(torch.linalg.eigvalsh(Xc.T @ Xc / n).max())
        cases.append((X, y, lr_frac / smax, steps, f"X of shape {n}x{d}, lr={lr_frac / smax:.3g}"))
    for X, y, lr, steps, what in cases:
        what = f"{what}, steps={steps}"
        out = call_untouched(fn, X, y, lr, steps, what=what, names=("X", "y"))
        d = X.shape[1]
        if isinstance(out, torch.Tensor) and out.numel() != d:
            fail(
                f"on {what} your function returned shape {tuple(out.shape)}; return the d = {d} "
                "weights, shape (d,)."
            )
        out = as_tensor(out, what=what)
        got = out.detach().reshape(-1).to(torch.float64)
        if not bool(torch.isfinite(got).all()):
            fail(f"on {what} your weights contain NaN or inf.")
        expected = _run_gd(X, y, lr, steps)
        scale = max(float(expected.norm()), 1e-12)

        def close(a: torch.Tensor, b: torch.Tensor = got) -> bool:
            return float((a - b).norm()) <= 1e-4 * max(float(a.norm()), 1e-12)

        if agrees(out.detach().reshape(-1), expected, dtype=torch.float64, what=what, scale=scale):
            continue
        diagnoses = _diagnoses(X, y, lr, steps)
        for value, message in diagnoses:
            if bool(torch.isfinite(value).all()) and close(value) and not close(expected, value):
                fail(f"On {what}: {message}")
        fail(
            f"wrong weights on {what} (relative error {float((got - expected).norm()) / scale:.2g}"
            "); compare each eigen-coordinate with 1 - (1 - eta sigma_i^2)^t times that of the "
            "minimum-norm solution."
        )
    passed("early_stopped_weights", len(cases))

"""Self-checks for the exercises of ``book/implicit/bayes.md`` (*The Bayesian view*)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._core import call_student, fail, passed

__all__ = ["posterior_predictive"]

F64 = torch.float64


def _reference(X, y, X_new, alpha, beta):
    """Predictive mean X_new m_N and variance 1/beta + x^T S_N x (Bishop 3.58-3.59)."""
    d = X.shape[1]
    S = torch.linalg.inv(alpha * torch.eye(d, dtype=F64) + beta * X.T @ X)
    m = beta * S @ X.T @ y
    return X_new @ m, 1 / beta + ((X_new @ S) * X_new).sum(dim=1)


def _as_vector(out, m: int, what: str) -> torch.Tensor:
    if not isinstance(out, torch.Tensor):
        fail(f"the {what} is a {type(out).__name__}; return torch tensors.")
    if out.shape not in ((m,), (m, 1)):
        fail(
            f"the {what} has shape {tuple(out.shape)}; it needs one value per row of X_new: ({m},)."
        )
    return out.detach().reshape(-1).to(F64)


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal up to float32 rounding: a correct float32 answer passes."""
    return bool(torch.allclose(a, b, rtol=1e-4, atol=1e-6))


def posterior_predictive(
    fn: Callable[..., tuple[torch.Tensor, torch.Tensor]],
) -> None:
    """Check ``fn(X, y, X_new, alpha, beta) -> (mean, var)`` of Bayesian ridge's prediction.

    Prior ``w ~ N(0, I/alpha)``, noise precision ``beta``, no bias; ``mean`` and ``var`` have
    one entry per row of ``X_new``: ``var`` includes the noise ``1/beta``.  Diagnoses: the
    noise left out of the variance, the weight uncertainty left out, a standard deviation
    instead of a variance, a posterior mean without the factor ``beta``, ``alpha`` and ``beta``
    swapped, a result that is not a pair of tensors of the right shape.
    """
    gen = torch.Generator().manual_seed(12)
    cases = []
    for n, d, m, alpha, beta in [(12, 3, 5, 2.0, 4.0), (4, 7, 3, 0.5, 10.0), (6, 2, 4, 3.0, 0.25)]:
        X = torch.randn(n, d, generator=gen, dtype=F64)
        y = (
            X @ torch.randn(d, generator=gen, dtype=F64)
            + torch.randn(n, generator=gen, dtype=F64) / beta**0.5
        )
        cases.append((X, y, 2 * torch.randn(m, d, generator=gen, dtype=F64), alpha, beta))
    for X, y, X_new, alpha, beta in cases:
        what = (
            f"X of shape {tuple(X.shape)}, X_new of shape {tuple(X_new.shape)}, "
            f"alpha={alpha}, beta={beta}"
        )
        out = call_student(fn, X.clone(), y.clone(), X_new.clone(), alpha, beta, what=what)
        if not isinstance(out, tuple | list) or len(out) != 2:
            fail("return a pair (mean, var): two tensors, the predictive mean and variance.")
        m = X_new.shape[0]
        mean, var = _as_vector(out[0], m, "mean"), _as_vector(out[1], m, "variance")
        ref_mean, ref_var = _reference(X, y, X_new, alpha, beta)
        if not _close(mean, ref_mean):
            S_wrong = torch.linalg.inv(alpha * torch.eye(X.shape[1], dtype=F64) + beta * X.T @ X)
            if _close(mean, X_new @ (S_wrong @ X.T @ y)):
                fail(
                    "the mean misses a factor beta: the posterior mean is beta S_N X^T y "
                    "(or, the same, the ridge solution with penalty alpha/beta)."
                )
            if _close(mean, _reference(X, y, X_new, beta, alpha)[0]):
                fail(
                    "alpha and beta are swapped: alpha is the prior's precision, beta the noise's."
                )
            fail(f"the predictive mean is wrong on {what}.")
        if _close(var, ref_var):
            continue
        if _close(var, ref_var - 1 / beta):
            fail(
                "the variance leaves out the noise: a new target is the prediction plus noise "
                "of variance 1/beta."
            )
        if _close(var, torch.full_like(var, 1 / beta)):
            fail(
                "the variance is the noise alone: add the uncertainty of the weights, "
                "x^T S_N x for each new input x."
            )
        if _close(var, ref_var.sqrt()):
            fail("you returned the standard deviation; the check asks for the variance.")
        if _close(var, _reference(X, y, X_new, beta, alpha)[1]):
            fail("alpha and beta are swapped: alpha is the prior's precision, beta the noise's.")
        fail(f"the predictive variance is wrong on {what}.")
    passed("posterior_predictive", len(cases))

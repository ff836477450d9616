"""Self-checks for the exercises of ``book/implicit/bayes.md`` (*The Bayesian view*).

The chapter computes in float64 (its default dtype): the inputs are float64 and the results
are compared with the float64 reference at float64's tolerance; a float32 answer that agrees
to float32 precision passes with a note (the dtype policy of
``weightreg.check._core.agrees``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._core import TOLERANCE, agrees, as_tensor, call_untouched, close, fail, passed, selfcheck

__all__ = ["posterior_predictive"]

F64 = torch.float64


def _reference(X, y, X_new, alpha, beta, *, beta_in_S=True, noise=None):
    """Predictive mean X_new m_N and variance 1/beta + x^T S_N x (Bishop 3.58-3.59).

    ``beta_in_S=False``: the mistake ``S_N^-1 = alpha I + X^T X``; ``noise``: the number added
    to the variance in place of ``1 / beta``.
    """
    d = X.shape[1]
    S = torch.linalg.inv(alpha * torch.eye(d, dtype=F64) + (beta if beta_in_S else 1.0) * X.T @ X)
    m = beta * S @ X.T @ y
    return X_new @ m, (1 / beta if noise is None else noise) + ((X_new @ S) * X_new).sum(dim=1)


def _as_vector(out, m: int, what: str, where: str) -> torch.Tensor:
    if not isinstance(out, torch.Tensor):
        fail(f"the {what} is a {type(out).__name__}; return torch tensors.")
    if out.shape not in ((m,), (m, 1)):
        fail(
            f"the {what} has shape {tuple(out.shape)}; it needs one value per row of X_new: ({m},)."
        )
    return as_tensor(out, what=f"{where} ({what})").detach().reshape(-1)


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal up to float32 rounding: for recognizing mistakes, which differ by far more."""
    return close(a, b, TOLERANCE[torch.float32], scale=max(1.0, float(b.abs().max())))


@selfcheck
def posterior_predictive(
    fn: Callable[..., tuple[torch.Tensor, torch.Tensor]],
) -> None:
    """Check ``fn(X, y, X_new, alpha, beta) -> (mean, var)`` of Bayesian ridge's prediction.

    Prior ``w ~ N(0, I/alpha)``, noise precision ``beta``, no bias; ``mean`` and ``var`` have
    one entry per row of ``X_new``: ``var`` includes the noise ``1/beta``.  Diagnoses: the
    noise left out of the variance, the weight uncertainty left out, a standard deviation
    instead of a variance, the precision ``beta`` added where the noise variance ``1/beta``
    belongs, ``S_N`` without the factor ``beta`` on ``X^T X``, a posterior mean without the
    factor ``beta``, ``alpha`` and ``beta`` swapped, ``1/alpha`` used as the prior precision,
    mean and variance returned in the other order, a result that is not a pair of tensors of
    the right shape, inputs changed in place.
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
        out = call_untouched(fn, X, y, X_new, alpha, beta, what=what, names=("X", "y", "X_new"))
        if not isinstance(out, tuple | list) or len(out) != 2:
            fail("return a pair (mean, var): two tensors, the predictive mean and variance.")
        m = X_new.shape[0]
        mean_out = _as_vector(out[0], m, "mean", what)
        var_out = _as_vector(out[1], m, "variance", what)
        mean, var = mean_out.to(F64), var_out.to(F64)
        ref_mean, ref_var = _reference(X, y, X_new, alpha, beta)
        if _close(mean, ref_var) and _close(var, ref_mean) and not _close(ref_mean, ref_var):
            fail("you returned (var, mean); return the pair in the order (mean, var).")
        # float32 rounding is amplified by the condition number of S_N^-1 (about 400 in the
        # case with d > n): the absolute tolerance's unit grows with it
        A = alpha * torch.eye(X.shape[1], dtype=F64) + beta * X.T @ X
        cond = float(torch.linalg.cond(A))
        scale = max(1.0, float(ref_mean.abs().max()), float(ref_var.abs().max())) * cond
        if not agrees(mean_out, ref_mean, dtype=F64, what=f"{what} (mean)", scale=scale):
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
            if _close(mean, _reference(X, y, X_new, alpha, beta, beta_in_S=False)[0]):
                fail(
                    "S_N misses the factor beta: its inverse is alpha I + beta X^T X (the data "
                    "term is weighted by the noise precision)."
                )
            if _close(mean, _reference(X, y, X_new, 1 / alpha, beta)[0]):
                fail(
                    "you used 1/alpha as the prior precision: alpha is the precision of the "
                    "prior (w ~ N(0, I/alpha)), so alpha I enters S_N^-1."
                )
            fail(f"the predictive mean is wrong on {what}.")
        if agrees(var_out, ref_var, dtype=F64, what=f"{what} (variance)", scale=scale):
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
        if _close(var, _reference(X, y, X_new, alpha, beta, noise=beta)[1]):
            fail("the variance adds beta, the noise's precision: the noise variance is 1/beta.")
        if _close(var, _reference(X, y, X_new, alpha, beta, beta_in_S=False)[1]):
            fail(
                "S_N misses the factor beta: its inverse is alpha I + beta X^T X (the data "
                "term is weighted by the noise precision)."
            )
        fail(f"the predictive variance is wrong on {what}.")
    passed("posterior_predictive", len(cases))

"""The self-check of the Bayesian-view chapter accepts the reference (also in float32) and
diagnoses typical mistakes, each with its own message."""

from __future__ import annotations

import pytest
import torch

from weightreg import check
from weightreg.check import CheckFailed


def good(X, y, X_new, alpha, beta):
    d = X.shape[1]
    A = alpha * torch.eye(d, dtype=X.dtype) + beta * X.T @ X
    S = torch.linalg.inv(A)
    m = beta * S @ X.T @ y
    return X_new @ m, 1 / beta + ((X_new @ S) * X_new).sum(dim=1)


def good_float32(X, y, X_new, alpha, beta):
    mean, var = good(X.float(), y.float(), X_new.float(), alpha, beta)
    return mean, var


def gp_answer(X, y, X_new, alpha, beta):
    """The same prediction in the n x n (Gaussian-process) form, k(x, x') = x^T x' / alpha."""
    K = X @ X.T / alpha + torch.eye(X.shape[0], dtype=X.dtype) / beta
    K_star = X_new @ X.T / alpha
    mean = K_star @ torch.linalg.solve(K, y)
    var = 1 / beta + (X_new * X_new).sum(dim=1) / alpha
    var = var - (K_star * torch.linalg.solve(K, K_star.T).T).sum(dim=1)
    return mean, var


def rows_loop(X, y, X_new, alpha, beta):
    A = alpha * torch.eye(X.shape[1], dtype=X.dtype) + beta * X.T @ X
    m = torch.linalg.solve(A, beta * X.T @ y)
    var = torch.stack([1 / beta + x @ torch.linalg.solve(A, x) for x in X_new])
    return torch.stack([x @ m for x in X_new]), var


def test_accepts_reference_float32_and_gp_form(capsys):
    check.posterior_predictive(good)
    check.posterior_predictive(good_float32)
    check.posterior_predictive(gp_answer)
    check.posterior_predictive(rows_loop)
    assert "Well done: posterior_predictive passed all 3 checks." in capsys.readouterr().out
    verdict = check.posterior_predictive(good_float32, quiet=True)
    assert verdict and "float32 while the inputs are float64" in verdict.notes[0]


def test_float32_inside_a_float64_answer_is_named():
    def float32_inside(*a):
        return tuple(t.double() for t in good_float32(*a))

    with pytest.raises(CheckFailed, match="7 digits"):
        check.posterior_predictive(float32_inside)


def _no_noise(*a):
    mean, var = good(*a)
    return mean, var - 1 / a[4]


def _noise_only(*a):
    mean, var = good(*a)
    return mean, torch.full_like(var, 1 / a[4])


def _std(*a):
    mean, var = good(*a)
    return mean, var.sqrt()


def _no_beta_in_mean(X, y, X_new, alpha, beta):
    mean, var = good(X, y, X_new, alpha, beta)
    return mean / beta, var


def _swapped(X, y, X_new, alpha, beta):
    return good(X, y, X_new, beta, alpha)


def _S_without_beta(X, y, X_new, alpha, beta):
    S = torch.linalg.inv(alpha * torch.eye(X.shape[1], dtype=X.dtype) + X.T @ X)
    return X_new @ (beta * S @ X.T @ y), 1 / beta + ((X_new @ S) * X_new).sum(dim=1)


def _noise_as_beta(X, y, X_new, alpha, beta):
    mean, var = good(X, y, X_new, alpha, beta)
    return mean, var - 1 / beta + beta


def _centred_in_place(X, y, X_new, alpha, beta):
    y -= 0.0 * y.mean()
    return good(X, y, X_new, alpha, beta)


def _not_a_pair(*a):
    return good(*a)[0]


def _wrong_shape(*a):
    mean, var = good(*a)
    return mean.reshape(1, -1), var


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (_no_noise, "leaves out the noise"),
        (_noise_only, "the noise alone"),
        (_std, "standard deviation"),
        (_no_beta_in_mean, "misses a factor beta"),
        (_swapped, "swapped"),
        (_not_a_pair, "return a pair"),
        (_wrong_shape, "has shape"),
        # new in issue 14: each used to get the generic message or pass
        (_S_without_beta, "S_N misses the factor beta"),
        (_noise_as_beta, "adds beta, the noise's precision"),
        (lambda *a: good(*a)[::-1], r"you returned \(var, mean\)"),
        (lambda X, y, Xn, a, b: good(X, y, Xn, 1 / a, b), "1/alpha as the prior precision"),
        (_centred_in_place, "changed its input y in place"),
    ],
)
def test_diagnoses(fn, message):
    with pytest.raises(CheckFailed, match=message):
        check.posterior_predictive(fn)
    assert not check.posterior_predictive(fn, quiet=True)


def test_unfinished_stub_passes_through():
    def stub(*a):
        raise NotImplementedError("write posterior_predictive")

    with pytest.raises(NotImplementedError):
        check.posterior_predictive(stub)

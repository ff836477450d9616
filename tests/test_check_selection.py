"""The self-check of the elastic-net chapter: the reference passes, typical mistakes fail."""

from __future__ import annotations

import pytest
import torch

from weightreg import check
from weightreg.check import CheckFailed
from weightreg.selection import ridge_loo_residuals


def good_ridge_loo(X, y, alpha):
    A = X.T @ X + alpha * torch.eye(X.shape[1], dtype=X.dtype)
    S = X @ torch.linalg.solve(A, X.T)
    return (y - S @ y) / (1 - torch.diagonal(S))


def _hat(X, alpha):
    return X @ torch.linalg.solve(X.T @ X + alpha * torch.eye(X.shape[1], dtype=X.dtype), X.T)


def test_ridge_loo_accepts_the_reference_and_the_library(capsys):
    check.ridge_loo(good_ridge_loo)
    check.ridge_loo(ridge_loo_residuals)
    assert "Well done: ridge_loo passed all 4 checks." in capsys.readouterr().out


def test_ridge_loo_accepts_float32():
    check.ridge_loo(lambda X, y, a: good_ridge_loo(X, y, a).float())
    check.ridge_loo(lambda X, y, a: good_ridge_loo(X.float(), y.float(), a))


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda X, y, a: y - _hat(X, a) @ y, "in-sample residuals"),
        (
            lambda X, y, a: (y - _hat(X, a) @ y) / (1 - torch.diagonal(_hat(X, a)).mean()),
            "generalized cross-validation",
        ),
        (
            lambda X, y, a: (y - _hat(X, a) @ y) / (1 + torch.diagonal(_hat(X, a))),
            "the denominator is 1 \\+ S_ii",
        ),
        (lambda X, y, a: -good_ridge_loo(X, y, a), "the sign is flipped"),
        (lambda X, y, a: good_ridge_loo(X, y, a) ** 2, "squared residuals"),
        (lambda X, y, a: good_ridge_loo(X, y, a / 2), "no 1/2"),
        (lambda X, y, a: good_ridge_loo(X, y, a * X.shape[0]), "not multiplied by n"),
        (lambda X, y, a: good_ridge_loo(X, y, a) + 0.1, "wrong values"),
        (lambda X, y, a: good_ridge_loo(X, y, a).tolist(), "returned a list"),
        (lambda X, y, a: good_ridge_loo(X, y, a)[:, None], "returned shape"),
        (lambda X, y, a: 1 / 0, "raised ZeroDivisionError"),
    ],
)
def test_ridge_loo_diagnoses(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.ridge_loo(wrong)

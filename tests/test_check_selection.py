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


def kernel_form(X, y, alpha):
    K = X @ X.T
    S = K @ torch.linalg.inv(K + alpha * torch.eye(X.shape[0], dtype=X.dtype))
    return (y - S @ y) / (1 - S.diagonal())


def test_ridge_loo_accepts_the_reference_and_other_forms(capsys):
    check.ridge_loo(good_ridge_loo)
    check.ridge_loo(kernel_form)
    assert "Well done: ridge_loo passed all 4 checks." in capsys.readouterr().out
    assert check.ridge_loo(good_ridge_loo, quiet=True)


def test_ridge_loo_accepts_float32_with_a_note():
    check.ridge_loo(lambda X, y, a: good_ridge_loo(X, y, a).float())
    verdict = check.ridge_loo(lambda X, y, a: good_ridge_loo(X.float(), y.float(), a), quiet=True)
    assert verdict and "float32 while the inputs are float64" in verdict.notes[0]


def _centred(X, y, a):
    return good_ridge_loo(X - X.mean(0), y - y.mean(), a)


def _sklearn_refits(X, y, a):
    from sklearn.linear_model import Ridge

    out = []
    for i in range(len(y)):
        keep = torch.arange(len(y)) != i
        model = Ridge(alpha=a).fit(X[keep].numpy(), y[keep].numpy())
        out.append(float(y[i]) - float(model.predict(X[i : i + 1].numpy())[0]))
    return torch.tensor(out, dtype=X.dtype)


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
        # new in issue 14: each used to pass or get the generic message
        (ridge_loo_residuals, "calls weightreg's ridge_loo_residuals, which is the answer"),
        (lambda X, y, a: good_ridge_loo(X, y, a / X.shape[0]), "the book's lambda convention"),
        (_centred, "you centred the data"),
        (_sklearn_refits, "your fits have an intercept"),
        (lambda X, y, a: good_ridge_loo(X, y.mul_(1.0), a), "changed its input y in place"),
    ],
)
def test_ridge_loo_diagnoses(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.ridge_loo(wrong)
    assert not check.ridge_loo(wrong, quiet=True)

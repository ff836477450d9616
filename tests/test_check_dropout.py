"""The dropout chapter's self-check accepts the reference solutions and catches the usual
mistakes with the intended message."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from weightreg import check
from weightreg.check import CheckFailed
from weightreg.dropout import dropout_penalty as library_penalty


def ref_penalty(X, w, p):
    n = X.shape[0]
    return p / (1 - p) / (2 * n) * (w**2 * (X**2).sum(0)).sum()


def ref_penalty_float(X, w, p):
    """A correct answer returned as a Python float, computed in float32."""
    X32, w32 = X.float(), w.float()
    return float(p / (1 - p) * 0.5 * (w32**2 * (X32**2).mean(0)).sum())


def ref_penalty_numpy(X, w, p):
    """A correct answer as a NumPy scalar."""
    Xn, wn = X.numpy(), w.numpy()
    return p / (1 - p) / 2 * np.mean(Xn**2, axis=0) @ wn**2


def ref_penalty_loops(X, w, p):
    n, d = X.shape
    total = 0.0
    for i in range(n):
        for j in range(d):
            total += float(X[i, j]) ** 2 * float(w[j]) ** 2
    return p / (1 - p) * total / (2 * n)


def test_reference_solutions_pass(capsys):
    check.dropout_penalty(ref_penalty)
    check.dropout_penalty(ref_penalty_float)
    check.dropout_penalty(lambda X, w, p: ref_penalty(X.float(), w.float(), p))  # float32 tensor
    check.dropout_penalty(ref_penalty_numpy)
    check.dropout_penalty(ref_penalty_loops)
    out = capsys.readouterr().out
    assert out.count("dropout_penalty passed") == 5
    assert "float32 while the inputs are float64" in out  # the float32 answers get a note
    assert check.dropout_penalty(ref_penalty, quiet=True)


def _sampled(X, w, p):
    n, total = X.shape[0], 0.0
    for _ in range(100):
        mask = (torch.rand(X.shape, dtype=X.dtype) > p).to(X.dtype) / (1 - p)
        total += float((((X * mask) @ w - X @ w) ** 2).sum()) / (2 * n)
    return total / 100


def _sampled_with_a_seed(X, w, p):
    gen = torch.Generator().manual_seed(0)
    n, total = X.shape[0], 0.0
    for _ in range(400):
        mask = (torch.rand(X.shape, generator=gen, dtype=X.dtype) > p).to(X.dtype) / (1 - p)
        total += float((((X * mask) @ w - X @ w) ** 2).sum()) / (2 * n)
    return total / 400


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda X, w, p: 2 * ref_penalty(X, w, p), "forget the 1/2"),
        (lambda X, w, p: ref_penalty(X, w, p) * (1 - p), "factor 1 - p"),
        (lambda X, w, p: ref_penalty(X, w, p) / (1 - p), "1 / \\(1 - p\\)"),
        (lambda X, w, p: ref_penalty(X, w, p) * X.shape[0], "mean of x_ij\\^2"),
        (
            lambda X, w, p: p / (1 - p) / 2 * (w**2).sum() * (X**2).mean(),
            "same number",
        ),
        (
            lambda X, w, p: p / (1 - p) / (2 * X.shape[0]) * ((X @ w) ** 2).sum(),
            "whole prediction",
        ),
        (lambda X, w, p: torch.zeros(()), "is 0"),
        (lambda X, w, p: p / (1 - p) / 2 * w**2 * (X**2).mean(0), "one number"),
        (lambda X, w, p: "0.5", "a number or a 0-d"),
        (lambda X, w, p: ref_penalty(X.mul_(1.0), w.mul_(-1.0), p), "in place"),
        (lambda X, w, p: ref_penalty(X, w, p) / p, "p = 0|NaN|inf"),
        # new in issue 14: each used to pass or get a generic message
        (library_penalty, "calls weightreg's dropout_penalty, which is the answer"),
        (lambda X, w, p: ref_penalty(X, w, p).reshape(1), r"shape \(1,\); return one number"),
        (lambda X, w, p: ref_penalty(X.pow_(2).sqrt_(), w, p), "changed its input X in place"),
        (lambda X, w, p: ref_penalty(X, w, p) / w.shape[0], "not a mean over the weights"),
        (_sampled, "then .* on the same inputs: it samples random masks"),
        (_sampled_with_a_seed, "are you sampling masks"),
        (lambda X, w, p: ref_penalty(X, w, p) * ((1 - p) / p) ** 2, "upside down"),
        (lambda X, w, p: ref_penalty(X, w, p) * (1 - p) ** 2, "variance of the mask m itself"),
        (
            lambda X, w, p: p / (1 - p) / (2 * X.shape[0]) * (w.abs() * (X**2).sum(0)).sum(),
            "w to the first power",
        ),
    ],
)
def test_catches_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.dropout_penalty(wrong)
    assert not check.dropout_penalty(wrong, quiet=True)


def test_a_float64_result_with_float32_rounding_says_so():
    def float32_inside(X, w, p):
        return ref_penalty(X.float(), w.float(), p).double()

    with pytest.raises(CheckFailed, match="7 digits"):
        check.dropout_penalty(float32_inside)


def test_unfinished_stub_reads_as_unfinished():
    def stub(X, w, p):
        raise NotImplementedError("write the penalty")

    with pytest.raises(NotImplementedError):
        check.dropout_penalty(stub)

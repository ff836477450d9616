"""The dropout chapter's self-check accepts the reference solutions and catches the usual
mistakes with the intended message."""

from __future__ import annotations

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


def test_reference_solutions_pass(capsys):
    check.dropout_penalty(ref_penalty)
    check.dropout_penalty(library_penalty)
    check.dropout_penalty(ref_penalty_float)
    check.dropout_penalty(lambda X, w, p: ref_penalty(X.float(), w.float(), p))  # float32 tensor
    out = capsys.readouterr().out
    assert out.count("dropout_penalty passed") == 4


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
    ],
)
def test_catches_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.dropout_penalty(wrong)


def test_unfinished_stub_reads_as_unfinished():
    def stub(X, w, p):
        raise NotImplementedError("write the penalty")

    with pytest.raises(NotImplementedError):
        check.dropout_penalty(stub)

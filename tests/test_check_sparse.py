"""The self-checks of the L1 and L0.5 chapters accept the reference and diagnose typical
mistakes."""

from __future__ import annotations

import pytest
import torch

from weightreg import check
from weightreg.check import CheckFailed


def good_lasso_kkt(X, y, w, b, alpha):
    """The reference solution of the chapter's exercise."""
    n, d = X.shape
    r = X @ w + b - y
    g = X.T @ r / n
    tau = alpha / d
    nonzero = (g + tau * torch.sign(w)).abs()
    zero = (g.abs() - tau).clamp(min=0)
    return float(torch.maximum(torch.where(w != 0, nonzero, zero).max(), r.mean().abs()))


def float32_lasso_kkt(X, y, w, b, alpha):
    """The same computation in float32: correct up to float32 rounding."""
    return good_lasso_kkt(X.float(), y.float(), w.float(), float(b), alpha)


def test_lasso_kkt_accepts_the_reference_in_float64_and_float32(capsys):
    check.lasso_kkt(good_lasso_kkt)
    check.lasso_kkt(float32_lasso_kkt)
    check.lasso_kkt(lambda *args: torch.tensor(good_lasso_kkt(*args)))  # a 0-d tensor is fine
    assert "Well done: lasso_kkt passed all 6 checks." in capsys.readouterr().out
    # a Python float does not show its precision: float32 rounding passes, with a remark
    verdict = check.lasso_kkt(float32_lasso_kkt, quiet=True)
    assert verdict and "7 digits only" in verdict.notes[0]
    assert check.lasso_kkt(good_lasso_kkt, quiet=True).notes == ()


def _variant(*, mean=True, per=None, zeros="box", bias=True, sign=1.0, with_b=True, total=False):
    def fn(X, y, w, b, alpha):
        n, d = X.shape
        r = X @ w + (b if with_b else 0.0) - y
        g = X.T @ r / (n if mean else 1)
        tau = (alpha / d) if per is None else alpha
        nonzero = (g + sign * tau * torch.sign(w)).abs()
        zero = (g.abs() - tau).clamp(min=0) if zeros == "box" else g.abs()
        each = torch.where(w != 0, nonzero, zero)
        if total:
            return float(each.sum() + r.mean().abs())
        out = each.max()
        return float(torch.maximum(out, r.mean().abs()) if bias else out)

    return fn


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_variant(mean=False), "n times too large"),
        (_variant(per="alpha"), "off by a factor d"),
        (_variant(zeros="equal"), "exactly zero"),
        (_variant(bias=False), "condition for the bias"),
        (_variant(sign=-1.0), "wrong sign"),
        (lambda X, y, w, b, alpha: 1.0, "largest violation is"),
        (lambda X, y, w, b, alpha: torch.zeros(3), "one number"),
        (lambda X, y, w, b, alpha: -1.0, "a number >= 0"),
        (lambda X, y, w, b, alpha: "ok", "returned a str; return a number"),
        (_variant(with_b=False), "residual leaves out the bias"),
        (_variant(total=True), "you summed the violations"),
        (
            lambda X, y, w, b, alpha: good_lasso_kkt(X, y, w.zero_(), b, alpha),
            "changed its input w",
        ),
        (lambda X, y, w, b, alpha: 1 / 0, "raised ZeroDivisionError"),
    ],
)
def test_lasso_kkt_diagnoses_typical_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.lasso_kkt(wrong)


def test_lasso_kkt_lets_an_unfinished_stub_read_as_unfinished():
    def stub(X, y, w, b, alpha):
        raise NotImplementedError("Complete my_lasso_kkt")

    with pytest.raises(NotImplementedError):
        check.lasso_kkt(stub)

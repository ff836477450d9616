"""The self-check of the code exercise of *Early stopping is L2*."""

from __future__ import annotations

import pytest
import torch

from weightreg import check
from weightreg.check import CheckFailed
from weightreg.early_stopping import gd_filter, ridge_filter


def _solution(factor, *, centre_x=True, centre_y=True, n_scale=1.0, dtype=torch.float64):
    def my_weights(X, y, lr, steps):
        X, y = X.to(dtype), y.to(dtype)
        n = X.shape[0]
        Xc = X - X.mean(dim=0) if centre_x else X
        yc = y - y.mean() if centre_y else y
        sigma2, Q = torch.linalg.eigh(Xc.T @ Xc / n * n_scale)
        sigma2 = sigma2.clamp(min=0.0)
        w_plus = torch.linalg.pinv(Xc) @ yc
        return Q @ (factor(sigma2, lr, steps) * (Q.T @ w_plus))

    return my_weights


def _gd(s, lr, steps):
    return gd_filter(s, lr, steps)


def test_reference_passes(capsys):
    check.early_stopped_weights(_solution(_gd))
    assert "Well done" in capsys.readouterr().out


def test_float32_answer_passes(capsys):
    check.early_stopped_weights(_solution(_gd, dtype=torch.float32))
    assert "Well done" in capsys.readouterr().out


def _loop(X, y, lr, steps):
    Xc, yc = X - X.mean(dim=0), y - y.mean()
    w = torch.zeros(X.shape[1], dtype=X.dtype)
    for _ in range(steps):
        w = w - lr * Xc.T @ (Xc @ w - yc) / X.shape[0]
    return w


def _centring_in_place(X, y, lr, steps):
    X -= X.mean(dim=0)
    y -= y.mean()
    return _loop(X, y, lr, steps)


def test_running_the_steps_passes(capsys):
    check.early_stopped_weights(_loop)
    assert "Well done" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_solution(lambda s, lr, t: ridge_filter(s, 1 / (lr * t))), "ridge factor"),
        (_solution(lambda s, lr, t: (1 - lr * s) ** t), "NOT fitted"),
        (_solution(lambda s, lr, t: gd_filter(s, lr, t - 1)), "one step too few"),
        (_solution(lambda s, lr, t: gd_filter(s, lr, t + 1)), "one step too many"),
        (_solution(_gd, centre_x=False), "centre the"),
        (_solution(lambda s, lr, t: 1 - (1 - lr * s.sqrt()) ** t), "square roots"),
        (lambda X, y, lr, steps: torch.zeros(3), "shape"),
        (lambda X, y, lr, steps: [0.0] * X.shape[1], "torch tensor"),
        # new in issue 14: each used to pass or get the generic message
        (_centring_in_place, "changed its input X in place"),
        (lambda *a: -_loop(*a), "wrong sign"),
        (lambda X, y, lr, steps: torch.linalg.pinv(X - X.mean(0)) @ (y - y.mean()), "minimum-norm"),
    ],
)
def test_typical_mistakes_fail_with_their_message(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.early_stopped_weights(wrong)
    assert not check.early_stopped_weights(wrong, quiet=True)


def test_a_float32_answer_gets_a_note_and_float32_inside_a_float64_one_is_named():
    verdict = check.early_stopped_weights(_solution(_gd, dtype=torch.float32), quiet=True)
    assert verdict and "float32 while the inputs are float64" in verdict.notes[0]

    def float32_inside(X, y, lr, steps):
        return _loop(X.float(), y.float(), lr, steps).double()

    with pytest.raises(CheckFailed, match="7 digits"):
        check.early_stopped_weights(float32_inside)


def test_missing_one_over_n_is_named():
    def no_n(X, y, lr, steps):
        n = X.shape[0]
        Xc, yc = X - X.mean(dim=0), y - y.mean()
        sigma2, Q = torch.linalg.eigh(Xc.T @ Xc)
        w_plus = torch.linalg.pinv(Xc) @ yc
        f = 1 - (1 - lr * sigma2.clamp(min=0.0)) ** steps
        return Q @ (f * (Q.T @ w_plus)) + 0 * n

    with pytest.raises(CheckFailed, match="1/n|wrong weights"):
        check.early_stopped_weights(no_n)


def test_unfinished_stub_reads_as_unfinished():
    def stub(X, y, lr, steps):
        raise NotImplementedError("write my_early_stopped_weights")

    with pytest.raises(NotImplementedError):
        check.early_stopped_weights(stub)

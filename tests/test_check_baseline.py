"""The overfitting chapter's self-check accepts the solution and names typical mistakes."""

from __future__ import annotations

import pytest
import torch

from weightreg import check


def test_reference_solution_passes(capsys):
    check.l2_penalty(lambda w, lambd: lambd / 2 * (w**2).sum())
    assert "passed all" in capsys.readouterr().out


def test_float32_answer_passes(capsys):
    check.l2_penalty(lambda w, lambd: lambd / 2 * (w.float() ** 2).sum())
    assert "passed all" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda w, lambd: lambd * (w**2).sum(), "factor 1/2 is missing"),
        (lambda w, lambd: lambd / 2 * w.norm(), "norm ||w||, not its square"),
        (lambda w, lambd: lambd / 2 * (w**2).mean(), "averaged over the entries"),
        (lambda w, lambd: lambd / 2 * w.abs().sum(), "absolute values"),
        (lambda w, lambd: (w**2).sum() / 2, "multiply by lambd"),
        (lambda w, lambd: float(lambd / 2 * (w**2).sum()), "return a torch tensor"),
        (lambda w, lambd: lambd / 2 * (w.detach() ** 2).sum(), "autograd cannot differentiate"),
        (lambda w, lambd: lambd / 2 * w**2, "scalar tensor"),
        (lambda w, lambd: lambd / 2 * (w**2).sum(dim=-1).mean(), "sums over all entries"),
    ],
)
def test_typical_mistakes_get_specific_messages(wrong, message):
    with pytest.raises(check.CheckFailed, match=__import__("re").escape(message)):
        check.l2_penalty(wrong)


def test_unfinished_stub_reads_as_unfinished():
    def stub(w, lambd):
        raise NotImplementedError("Complete my_l2_penalty")

    with pytest.raises(NotImplementedError):
        check.l2_penalty(stub)


def test_crash_in_student_code_is_reported_kindly():
    with pytest.raises(check.CheckFailed, match="raised ZeroDivisionError"):
        check.l2_penalty(lambda w, lambd: 1 / 0)


def test_non_callable_is_a_type_error():
    with pytest.raises(TypeError, match="pass your function itself"):
        check.l2_penalty(torch.ones(3))


def _pinv_null(X, w):
    return w - torch.linalg.pinv(X) @ (X @ w)


def test_null_space_part_reference_passes(capsys):
    check.null_space_part(_pinv_null)
    assert "passed all" in capsys.readouterr().out


def test_null_space_part_accepts_float32(capsys):
    check.null_space_part(lambda X, w: _pinv_null(X.float(), w.float()))
    assert "passed all" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda X, w: torch.linalg.pinv(X) @ (X @ w), "returned the row-space part"),
        (lambda X, w: w.clone(), "returned w unchanged"),
        (lambda X, w: _pinv_null(X, w)[:-1], "shape"),
        (lambda X, w: (_pinv_null(X, w)).tolist(), "return a torch tensor"),
        (lambda X, w: w - X.T @ torch.linalg.inv(X @ X.T) @ (X @ w), "pseudo-inverse"),
        (lambda X, w: 2 * _pinv_null(X, w), "not the orthogonal projection"),
        (lambda X, w: w - 0.5 * torch.linalg.pinv(X) @ (X @ w), "not in the null space"),
    ],
)
def test_null_space_part_typical_mistakes(wrong, message):
    with pytest.raises(check.CheckFailed, match=__import__("re").escape(message)):
        check.null_space_part(wrong)


def test_null_space_part_unfinished_stub_reads_as_unfinished():
    def stub(X, w):
        raise NotImplementedError("Complete my_null_space_part")

    with pytest.raises(NotImplementedError):
        check.null_space_part(stub)

"""The overfitting chapter's self-check accepts the solution and names typical mistakes."""

from __future__ import annotations

import pytest
import torch

from weightreg import check


def test_reference_solution_passes(capsys):
    check.l2_penalty(lambda w, lambd: lambd / 2 * (w**2).sum())
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

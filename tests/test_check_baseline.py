"""The overfitting chapter's self-check accepts the solution and names typical mistakes."""

from __future__ import annotations

import pytest
import torch

from weightreg import check


def test_reference_solution_passes(capsys):
    check.l2_penalty(lambda w, lambd: lambd / 2 * (w**2).sum())
    assert "passed all" in capsys.readouterr().out


def test_the_chapter_is_float32_and_a_float64_answer_passes_with_a_note(capsys):
    seen = []
    check.l2_penalty(lambda w, lambd: seen.append(w.dtype) or lambd / 2 * (w**2).sum())
    assert set(seen) == {torch.float32} and "Note" not in capsys.readouterr().out
    check.l2_penalty(lambda w, lambd: lambd / 2 * (w.double() ** 2).sum())
    out = capsys.readouterr().out
    assert (
        "passed all" in out and "Note: your result is float64 while the inputs are float32" in out
    )


def _data_pow_in_place(w, lambd):
    w.data.pow_(2)
    return lambd / 2 * w.sum()


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda w, lambd: lambd * (w**2).sum(), "factor 1/2 is missing"),
        (lambda w, lambd: lambd / 2 * w.norm(), "norm itself, ||w||, instead of its square"),
        (lambda w, lambd: lambd / 2 * (w**2).mean(), "averaged over the entries"),
        (lambda w, lambd: lambd / 2 * w.abs().sum(), "absolute values"),
        (lambda w, lambd: (w**2).sum() / 2, "multiply by lambd"),
        (lambda w, lambd: float(lambd / 2 * (w**2).sum()), "return a torch tensor"),
        (lambda w, lambd: lambd / 2 * (w.detach() ** 2).sum(), "autograd cannot differentiate"),
        (lambda w, lambd: lambd / 2 * w**2, "scalar (0-d) tensor"),
        # shape (1,) used to pass (numel() == 1)
        (lambda w, lambd: (lambd / 2 * (w**2).sum()).reshape(1), "shape (1,)"),
        # used to be reported as "you summed absolute values"
        (_data_pow_in_place, "changed its input w in place"),
        (lambda w, lambd: lambd / 2 * (w**2).sum(dim=0), "sums over all entries"),
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


def test_null_space_part_accepts_float32_and_float64_results(capsys):
    import numpy as np

    check.null_space_part(lambda X, w: _pinv_null(X.float(), w.float()))
    check.null_space_part(lambda X, w: _pinv_null(X.double(), w.double()))
    # torch.Tensor(numpy array) makes float32: the chapter's dtype
    check.null_space_part(
        lambda X, w: torch.Tensor(w.numpy() - np.linalg.pinv(X.numpy()) @ (X.numpy() @ w.numpy()))
    )
    assert capsys.readouterr().out.count("passed all") == 3


def test_null_space_part_notices_the_library():
    from weightreg.baseline import null_space_part

    with pytest.raises(check.CheckFailed, match="calls weightreg's null_space_part"):
        check.null_space_part(lambda X, w: null_space_part(X, w)[0])


def _subtract_in_place(X, w):
    w -= torch.linalg.pinv(X) @ (X @ w)
    return w


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
        (lambda X, w: torch.linalg.pinv(X) @ (X @ w) - w, "sign flipped"),
        (lambda X, w: w - X.T @ (X @ w), "not in the null space"),
        (_subtract_in_place, "changed its input w in place"),
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

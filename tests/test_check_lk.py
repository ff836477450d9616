"""The self-checks of the L2 and L1 chapters accept the reference and diagnose typical mistakes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import weightreg.penalties as penalties
from weightreg import check
from weightreg.check import CheckFailed
from weightreg.penalties import lk_grad
from weightreg.penalties import lk_grad as ref_lk_grad
from weightreg.penalties import prox_l1 as ref_prox_l1


def _safe_pow(w, p):
    zero = w == 0
    return torch.where(zero, torch.zeros_like(w), torch.where(zero, 1.0, w).abs() ** p)


def good_lk_grad(w, k, alpha):
    zero = w == 0
    safe = torch.where(zero, torch.ones_like(w), w)
    g = alpha * k * torch.sign(safe) * safe.abs() ** (k - 1) / w.numel()
    return torch.where(zero, torch.zeros_like(w), g)


def test_lk_grad_accepts_the_reference(capsys):
    check.lk_grad(good_lk_grad)
    assert capsys.readouterr().out == "Well done: lk_grad passed all 7 checks.\n"


@pytest.mark.parametrize(
    "student",
    [
        ref_lk_grad,
        lambda w, k, a: ref_lk_grad(w, k, a).clone(),
        lambda w, k, a: 1 * lk_grad(w, k, a),
    ],
)
def test_lk_grad_notices_the_library_answer(student):
    with pytest.raises(CheckFailed, match="calls weightreg's lk_grad, which is the answer"):
        check.lk_grad(student)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda w, k, a: a * k * _safe_pow(w, k - 1) / w.numel(),
            "the sign is missing",
        ),
        (
            lambda w, k, a: a * k * torch.sign(w) * w.abs() ** (k - 1) / w.numel(),
            "at w = 0 your gradient is nan",
        ),
        (lambda w, k, a: good_lk_grad(w, k, a) * w.numel(), "you summed over the entries"),
        (lambda w, k, a: good_lk_grad(w, k, a) / a, "does not change with alpha"),
        (lambda w, k, a: good_lk_grad(w, k, a) * a, "alpha is applied twice"),
        (lambda w, k, a: good_lk_grad(w, k, a) / k, "the factor k from the power rule"),
        (
            lambda w, k, a: a * torch.sign(w) * w.abs() ** k / w.numel(),
            "the derivative of |w|\\*\\*k has exponent k - 1",
        ),
        (
            lambda w, k, a: a * k * torch.sign(w) * w.abs() ** k / w.numel(),
            "exponent k - 1, not k",
        ),
        (
            lambda w, k, a: good_lk_grad(w, k, a) * w.numel() / w.shape[-1],
            "the mean runs over all entries",
        ),
        (lambda w, k, a: float(good_lk_grad(w, k, a).sum()), "returned a float"),
        (lambda w, k, a: good_lk_grad(w, k, a).reshape(-1, 1), "result has shape"),
        (lambda w, k, a: w.mul_(0), "changed its input w in place"),
        (
            lambda w, k, a: torch.where(w == 0, torch.ones_like(w), good_lk_grad(w, k, a)),
            "the gradient at w = 0 should be 0",
        ),
    ],
)
def test_lk_grad_diagnoses_typical_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.lk_grad(wrong)


def test_lk_grad_accepts_a_float32_answer_with_a_note_and_still_diagnoses_one(capsys):
    check.lk_grad(lambda w, k, a: good_lk_grad(w.float(), k, a))
    out = capsys.readouterr().out
    assert "Well done: lk_grad passed all 7 checks." in out
    assert "Note: your result is float32 while the inputs are float64" in out
    verdict = check.lk_grad(lambda w, k, a: good_lk_grad(w.float(), k, a), quiet=True)
    assert verdict and len(verdict.notes) == 1
    with pytest.raises(CheckFailed, match="you summed over the entries"):
        check.lk_grad(lambda w, k, a: good_lk_grad(w.float(), k, a) * w.numel())


def test_lk_grad_lets_an_unfinished_stub_through():
    def stub(w, k, alpha):
        raise NotImplementedError("Complete my_lk_grad")

    with pytest.raises(NotImplementedError):
        check.lk_grad(stub)


def _soft(z, t):
    return torch.sign(z) * torch.clamp(z.abs() - t, min=0)


def test_prox_l1_accepts_the_reference(capsys):
    check.prox_l1(_soft)
    assert capsys.readouterr().out == "Well done: prox_l1 passed all 7 checks.\n"


def test_prox_l1_notices_the_library_answer():
    with pytest.raises(CheckFailed, match="calls weightreg's prox_l1, which is the answer"):
        check.prox_l1(ref_prox_l1)
    with pytest.raises(CheckFailed, match="calls weightreg's prox_lk, which is the answer"):
        check.prox_l1(lambda z, t: penalties.prox_lk(z, 1.0, t))


def test_prox_l1_accepts_a_float32_answer_with_a_note_and_still_diagnoses_one(capsys):
    check.prox_l1(lambda z, t: _soft(z, t).float())
    out = capsys.readouterr().out
    assert (
        "Well done: prox_l1 passed all 7 checks." in out and "Note: your result is float32" in out
    )
    with pytest.raises(CheckFailed, match="that was hard thresholding"):
        check.prox_l1(lambda z, t: (z * (z.abs() > t)).float())


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda z, t: z * (z.abs() > t), "that was hard thresholding"),
        (lambda z, t: z - t * torch.sign(z), "must stop at exactly 0"),
        (lambda z, t: torch.clamp(z - t, min=0), "negative entries must move up"),
        (lambda z, t: z / (1 + t), r"proximal operator of \(t/2\) x\*\*2"),
        (
            # numerically "zero" only: (|z| - t) rounding leaves 5.5e-17 for z = 0.1 + 0.2
            lambda z, t: torch.sign(z) * (z.abs() - t) * (z.abs() > t) + 1e-17 * (z.abs() <= t),
            "must be exactly 0",
        ),
        (lambda z, t: (torch.sign(z) * torch.clamp(z.abs() - t, min=0)).flatten(), "shape"),
        (lambda z, t: z.clamp_(-t, t), "changed its input z in place"),
        (lambda z, t: torch.clamp(z.abs() - t, min=0), "the sign is missing"),
        (lambda z, t: _soft(z, t / 2), "your threshold is t/2"),
        (lambda z, t: _soft(z, 2 * t), "your threshold is 2t"),
        # approved by the float-only check before, crashed in the chapter's solver (tensor t)
        (lambda z, t: F.softshrink(z, t), "works with a number t but not with a tensor t"),
        (
            lambda z, t: _soft(z, torch.full_like(z, float(t))),
            "works with a number t but not with a tensor t",
        ),
        (lambda z, t: torch.zeros_like(z), "wrong values"),
    ],
)
def test_prox_l1_diagnoses_typical_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.prox_l1(wrong)


def good_ridge_eigen(X, y, lambd):
    """The reference solution of the exercise: eigen-shrinkage of the minimum-norm solution."""
    n = X.shape[0]
    Xc, yc = X - X.mean(dim=0), y - y.mean()
    sig2, Q = torch.linalg.eigh(Xc.T @ Xc / n)
    w_plus = torch.linalg.pinv(Xc) @ yc
    return Q @ (sig2 / (sig2 + lambd) * (Q.T @ w_plus))


def _solve_ridge(X, y, lambd, *, centre=True, scale_h=1.0):
    n, d = X.shape
    Xc, yc = (X - X.mean(dim=0), y - y.mean()) if centre else (X, y)
    H = Xc.T @ Xc / n * scale_h
    return torch.linalg.solve(H + lambd * torch.eye(d, dtype=X.dtype), Xc.T @ yc / n * scale_h)


def _eig_factor(X, y, factor):
    n = X.shape[0]
    Xc, yc = X - X.mean(dim=0), y - y.mean()
    sig2, Q = torch.linalg.eigh(Xc.T @ Xc / n)
    return Q @ (factor(sig2.clamp(min=0)) * (Q.T @ (torch.linalg.pinv(Xc) @ yc)))


def test_ridge_eigen_accepts_the_reference_the_library_and_float32(capsys):
    from weightreg.linear import ridge_path

    check.ridge_eigen(good_ridge_eigen)
    check.ridge_eigen(lambda X, y, lam: _solve_ridge(X, y, lam))
    check.ridge_eigen(lambda X, y, lam: good_ridge_eigen(X.float(), y.float(), lam))
    assert capsys.readouterr().out.count("Well done: ridge_eigen passed all 4 checks.") == 3
    # the library's ridge_path, in the book's alpha scaling (lambd = 2 alpha / d), is the answer
    with pytest.raises(CheckFailed, match="calls weightreg's ridge_path, which is the answer"):
        check.ridge_eigen(lambda X, y, lam: ridge_path(X, y, lam * X.shape[1] / 2).W[0])


def _transposed(X, y, lambd):
    n = X.shape[0]
    Xc, yc = X - X.mean(dim=0), y - y.mean()
    s, Q = torch.linalg.eigh(Xc.T @ Xc / n)
    return Q.T @ (s / (s + lambd) * (Q @ (torch.linalg.pinv(Xc) @ yc)))


def _uncentred_pinv(X, y, lambd):
    n = X.shape[0]
    Xc = X - X.mean(dim=0)
    s, Q = torch.linalg.eigh(Xc.T @ Xc / n)
    return Q @ (s / (s + lambd) * (Q.T @ (torch.linalg.pinv(X) @ y)))


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda X, y, lam: _solve_ridge(X, y, lam, centre=False), "the data are not centred"),
        (
            lambda X, y, lam: _eig_factor(X, y, lambda s: lam / (s + lam)),
            "the factor is the wrong way round",
        ),
        (lambda X, y, lam: _eig_factor(X, y, lambda s: torch.ones_like(s)), "minimum-norm"),
        (
            lambda X, y, lam: _eig_factor(X, y, lambda s: s.sqrt() / (s.sqrt() + lam)),
            "singular values",
        ),
        (lambda X, y, lam: _solve_ridge(X, y, lam, scale_h=X.shape[0]), "divide by n"),
        (
            lambda X, y, lam: _solve_ridge(X, y, 2 * lam / X.shape[1]),
            "do not convert it",
        ),
        (lambda X, y, lam: good_ridge_eigen(X, y, 1.01 * lam), "wrong values"),
        (lambda X, y, lam: good_ridge_eigen(X, y, lam).tolist(), "returned a list"),
        (lambda X, y, lam: good_ridge_eigen(X, y, lam)[None], "result has shape"),
        (lambda X, y, lam: X.sub_(X.mean(dim=0))[0], "changed its input X in place"),
        (lambda X, y, lam: y.sub_(y.mean()) @ X, "changed its input y in place"),
        (lambda X, y, lam: good_ridge_eigen(X, y, lam / 2), "uses lambd / 2"),
        (lambda X, y, lam: _transposed(X, y, lam), "Q and Q\\^T are swapped"),
        (lambda X, y, lam: _uncentred_pinv(X, y, lam), "w\\+ is computed from X and y"),
        (
            lambda X, y, lam: good_ridge_eigen(X.float(), y.float(), lam).double(),
            "7 digits only.*float32 somewhere",
        ),
    ],
)
def test_ridge_eigen_diagnoses_typical_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.ridge_eigen(wrong)


def test_ridge_eigen_lets_an_unfinished_stub_through():
    def stub(X, y, lambd):
        raise NotImplementedError("Complete my_ridge_eigen")

    with pytest.raises(NotImplementedError):
        check.ridge_eigen(stub)


def test_the_lk_grad_fallback_message_does_not_state_the_formula():
    with pytest.raises(CheckFailed) as info:
        check.lk_grad(lambda w, k, a: good_lk_grad(w, k, a) + 0.37)
    message = str(info.value)
    assert "wrong values" in message and "|w|**(k-1)" not in message and "sign(w) *" not in message


def test_the_library_checks_never_show_a_traceback_for_odd_results():
    """A bool tensor or a NumPy array used to reach torch.allclose inside the check."""
    for odd in (lambda *a: torch.ones(3, dtype=torch.bool), lambda *a: a[0].numpy()):
        for name in ("lk_grad", "prox_l1", "ridge_eigen"):
            verdict = getattr(check, name)(odd, quiet=True)
            assert not verdict and "Traceback" not in verdict.message

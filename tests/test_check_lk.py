"""The self-checks of the L2 and L1 chapters accept the reference and diagnose typical mistakes."""

from __future__ import annotations

import pytest
import torch

from weightreg import check
from weightreg.check import CheckFailed
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


def test_lk_grad_accepts_the_reference_and_the_library(capsys):
    check.lk_grad(good_lk_grad)
    check.lk_grad(ref_lk_grad)
    assert "Well done: lk_grad passed all 7 checks." in capsys.readouterr().out


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
            lambda w, k, a: good_lk_grad(w, k, a) * w.numel() / w.shape[-1],
            "the mean runs over all entries",
        ),
        (lambda w, k, a: float(good_lk_grad(w, k, a).sum()), "returned a float"),
        (lambda w, k, a: good_lk_grad(w, k, a).reshape(-1, 1), "returned shape"),
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


def test_lk_grad_accepts_a_float32_answer_and_still_diagnoses_one(capsys):
    check.lk_grad(lambda w, k, a: good_lk_grad(w.float(), k, a))
    assert "Well done: lk_grad passed all 7 checks." in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="you summed over the entries"):
        check.lk_grad(lambda w, k, a: good_lk_grad(w.float(), k, a) * w.numel())


def test_lk_grad_lets_an_unfinished_stub_through():
    def stub(w, k, alpha):
        raise NotImplementedError("Complete my_lk_grad")

    with pytest.raises(NotImplementedError):
        check.lk_grad(stub)


def test_prox_l1_accepts_the_reference_and_the_library(capsys):
    check.prox_l1(lambda z, t: torch.sign(z) * torch.clamp(z.abs() - t, min=0))
    check.prox_l1(ref_prox_l1)
    assert "Well done: prox_l1 passed all 5 checks." in capsys.readouterr().out


def test_prox_l1_accepts_a_float32_answer_and_still_diagnoses_one(capsys):
    check.prox_l1(lambda z, t: ref_prox_l1(z.float(), t))
    assert "Well done: prox_l1 passed all 5 checks." in capsys.readouterr().out
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
    # the library's ridge_path, in the book's alpha scaling: lambd = 2 alpha / d
    check.ridge_eigen(lambda X, y, lam: ridge_path(X, y, lam * X.shape[1] / 2).W[0])
    check.ridge_eigen(lambda X, y, lam: good_ridge_eigen(X.float(), y.float(), lam))
    assert capsys.readouterr().out.count("Well done: ridge_eigen passed all 4 checks.") == 4


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
        (lambda X, y, lam: good_ridge_eigen(X, y, lam)[None], "returned shape"),
        (lambda X, y, lam: X.sub_(X.mean(dim=0))[0], "changed X or y in place"),
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

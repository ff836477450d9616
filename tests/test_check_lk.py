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


def test_lk_grad_lets_an_unfinished_stub_through():
    def stub(w, k, alpha):
        raise NotImplementedError("Complete my_lk_grad")

    with pytest.raises(NotImplementedError):
        check.lk_grad(stub)


def test_prox_l1_accepts_the_reference_and_the_library(capsys):
    check.prox_l1(lambda z, t: torch.sign(z) * torch.clamp(z.abs() - t, min=0))
    check.prox_l1(ref_prox_l1)
    assert "Well done: prox_l1 passed all 5 checks." in capsys.readouterr().out


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

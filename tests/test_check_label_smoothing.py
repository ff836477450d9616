"""The self-check of the label-smoothing chapter accepts the reference and diagnoses typical
mistakes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from weightreg import check
from weightreg.check import CheckFailed


def good(logits, labels, eps):
    k = logits.shape[1]
    q = (1 - eps) * F.one_hot(labels, k).to(logits.dtype) + eps / k
    return -(q * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def targets(labels, k, on, off, dtype):
    onehot = F.one_hot(labels, k).to(dtype)
    return on * onehot + off * (1 - onehot)


def test_accepts_the_reference_torch_and_float32(capsys):
    check.smoothed_cross_entropy(good)
    check.smoothed_cross_entropy(lambda z, y, e: F.cross_entropy(z, y, label_smoothing=e))
    check.smoothed_cross_entropy(lambda z, y, e: good(z.float(), y, e))
    assert "Well done: smoothed_cross_entropy passed all 6 checks." in capsys.readouterr().out


def _other_convention(z, y, e):
    q = targets(y, z.shape[1], 1 - e, e / (z.shape[1] - 1), z.dtype)
    return -(q * F.log_softmax(z, dim=1)).sum(dim=1).mean()


def _no_share(z, y, e):
    q = targets(y, z.shape[1], 1 - e, e / z.shape[1], z.dtype)
    return -(q * F.log_softmax(z, dim=1)).sum(dim=1).mean()


def _naive_log(z, y, e):
    k = z.shape[1]
    q = (1 - e) * F.one_hot(y, k).to(z.dtype) + e / k
    return -(q * torch.log(torch.softmax(z, dim=1))).sum(dim=1).mean()


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_other_convention, "eps / \\(K - 1\\) each"),
        (_no_share, "the targets do not sum to 1"),
        (lambda z, y, e: F.cross_entropy(z, y), "does not depend on eps"),
        (lambda z, y, e: good(z, y, e) * z.shape[0], "you summed over the examples"),
        (_naive_log, "the softmax underflows"),
        (lambda z, y, e: float(good(z, y, e)), "returned a float"),
        (lambda z, y, e: good(z, y, e).reshape(1), "returned shape"),
        (lambda z, y, e: good(z.mul_(1.0 + 1e-3), y, e), "changed its inputs in place"),
        (lambda z, y, e: good(z, y, e) * 1.1, "is not the mean cross-entropy"),
    ],
)
def test_diagnoses(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.smoothed_cross_entropy(wrong)


def test_float32_wrong_answer_still_fails():
    with pytest.raises(CheckFailed, match="eps / \\(K - 1\\) each"):
        check.smoothed_cross_entropy(lambda z, y, e: _other_convention(z.float(), y, e))

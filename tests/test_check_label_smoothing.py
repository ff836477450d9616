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


def decomposed(logits, labels, eps):
    """(1 - eps) times the negative log-likelihood plus eps times the mean over classes."""
    lp = logits.log_softmax(-1)
    nll = -lp.gather(1, labels[:, None]).squeeze(1)
    return ((1 - eps) * nll - eps * lp.mean(-1)).mean()


def zeros_targets(logits, labels, eps):
    """Targets built in torch.zeros (float32, the chapter's dtype) and filled in a loop."""
    n, k = logits.shape
    q = torch.zeros(n, k) + eps / k
    for i in range(n):
        q[i, labels[i]] += 1 - eps
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_p = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    return -(q * log_p).sum() / n


@pytest.mark.parametrize(
    "solution", [good, decomposed, zeros_targets, lambda z, y, e: good(z.double(), y, e)]
)
def test_accepts_correct_answers_written_differently(solution, capsys):
    check.smoothed_cross_entropy(solution)
    assert "Well done: smoothed_cross_entropy passed all 6 checks." in capsys.readouterr().out
    assert check.smoothed_cross_entropy(solution, quiet=True)


def test_hands_float32_logits_as_the_chapter_computes():
    seen = []

    def spy(logits, labels, eps):
        seen.append(logits.dtype)
        return good(logits, labels, eps)

    check.smoothed_cross_entropy(spy)
    assert set(seen) == {torch.float32}


def test_a_float64_answer_passes_with_a_note():
    verdict = check.smoothed_cross_entropy(lambda z, y, e: good(z.double(), y, e), quiet=True)
    assert verdict and "float64 while the inputs are float32" in verdict.notes[0]


def _other_convention(z, y, e):
    q = targets(y, z.shape[1], 1 - e, e / (z.shape[1] - 1), z.dtype)
    return -(q * F.log_softmax(z, dim=1)).sum(dim=1).mean()


def _no_share(z, y, e):
    q = targets(y, z.shape[1], 1 - e, e / z.shape[1], z.dtype)
    return -(q * F.log_softmax(z, dim=1)).sum(dim=1).mean()


def _swapped(z, y, e):
    k = z.shape[1]
    q = e * F.one_hot(y, k).to(z.dtype) + (1 - e) / k
    return -(q * F.log_softmax(z, dim=1)).sum(dim=1).mean()


def _softmax_over_examples(z, y, e):
    k = z.shape[1]
    q = (1 - e) * F.one_hot(y, k).to(z.dtype) + e / k
    return -(q * F.log_softmax(z, dim=0)).sum(dim=1).mean()


def _softmax_not_log(z, y, e):
    k = z.shape[1]
    q = (1 - e) * F.one_hot(y, k).to(z.dtype) + e / k
    return -(q * F.softmax(z, dim=1)).sum(dim=1).mean()


def _naive_log(z, y, e):
    k = z.shape[1]
    q = (1 - e) * F.one_hot(y, k).to(z.dtype) + e / k
    return -(q * torch.log(torch.softmax(z, dim=1))).sum(dim=1).mean()


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_other_convention, "eps / \\(K - 1\\) each"),
        (_no_share, "the targets do not sum to 1"),
        (lambda z, y, e: -F.log_softmax(z, 1).gather(1, y[:, None]).mean(), "does not depend"),
        # new in issue 14: each used to pass or get the generic message
        (lambda z, y, e: F.cross_entropy(z, y, label_smoothing=e), "calls torch's cross_entropy"),
        (
            lambda z, y, e: torch.nn.CrossEntropyLoss(label_smoothing=e)(z, y),
            "calls torch's CrossEntropyLoss",
        ),
        (lambda z, y, e: -good(z, y, e), "wrong sign"),
        (lambda z, y, e: good(z, y, e) / z.shape[1], "averaged over the classes too"),
        (_swapped, "the two weights are swapped"),
        (_softmax_over_examples, "dim=0"),
        (_softmax_not_log, "their logarithm"),
        (lambda z, y, e: good(z, y, e) * z.shape[0], "you summed over the examples"),
        (_naive_log, "the softmax underflows"),
        (lambda z, y, e: float(good(z, y, e)), "returned a float"),
        (lambda z, y, e: good(z, y, e).reshape(1), "returned shape"),
        (lambda z, y, e: good(z.mul_(1.0 + 1e-3), y, e), "changed its input logits in place"),
        (lambda z, y, e: good(z, y, e) * 1.1, "is not the mean cross-entropy"),
    ],
)
def test_diagnoses(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.smoothed_cross_entropy(wrong)
    assert not check.smoothed_cross_entropy(wrong, quiet=True)


def test_float32_wrong_answer_still_fails():
    with pytest.raises(CheckFailed, match="eps / \\(K - 1\\) each"):
        check.smoothed_cross_entropy(lambda z, y, e: _other_convention(z.float(), y, e))

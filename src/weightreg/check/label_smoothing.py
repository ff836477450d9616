"""Self-checks for the exercises of ``book/implicit/label_smoothing.md``.

The chapter computes in PyTorch's default float32, so the logits handed to the student are
float32 and the loss is compared with a float64 reference at float32's tolerance (a float64
result that agrees passes with a note: the dtype policy of
``weightreg.check._core.agrees``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._core import agrees, as_tensor, call_untouched, close, fail, passed, selfcheck, tolerance
from ._core import uses_library as _uses_library

__all__ = ["smoothed_cross_entropy"]

DTYPE = torch.float32
"""The chapter's dtype (PyTorch's default there): the dtype of the logits handed out."""


def _soft_ce(logits: torch.Tensor, q: torch.Tensor, dim: int = 1) -> torch.Tensor:
    return -(q * F.log_softmax(logits, dim=dim)).sum(dim=1).mean()


def _targets(labels: torch.Tensor, k: int, on: float, off: float) -> torch.Tensor:
    onehot = F.one_hot(labels, k).to(torch.float64)
    return on * onehot + off * (1 - onehot)


def _cases() -> list[tuple[torch.Tensor, torch.Tensor, float]]:
    gen = torch.Generator().manual_seed(12)
    cases = []
    for n, k, eps, scale in [
        (6, 2, 0.1, 2.0),
        (8, 5, 0.2, 1.0),
        (10, 10, 0.1, 3.0),
        (7, 4, 0.0, 1.0),
        (5, 3, 0.5, 1.0),
        (9, 6, 0.05, 800.0),  # logits of several hundred: softmax underflows to 0
    ]:
        logits = torch.randn(n, k, generator=gen, dtype=torch.float64) * scale
        labels = torch.randint(0, k, (n,), generator=gen)
        cases.append((logits.to(DTYPE), labels, eps))
    return cases


def _diagnoses(logits: torch.Tensor, labels: torch.Tensor, eps: float, expected: torch.Tensor):
    """The values of the typical wrong answers (float64), each with what to tell the student."""
    n, k = logits.shape
    found = [
        (-expected, "your loss has the wrong sign: the cross-entropy is minus the sum of q log p."),
        (expected * n, "you summed over the examples; the loss is their mean."),
        (
            expected / k,
            "you averaged over the classes too: sum q_j log p_j over the classes, then take "
            "the mean over the examples.",
        ),
        (
            _soft_ce(logits, _targets(labels, k, 1 - eps + eps / k, eps / k), dim=0),
            "the log-softmax runs over the examples (dim=0); the probabilities of one example "
            "are normalized over the classes (dim=1).",
        ),
    ]
    found.append(
        (
            -(_targets(labels, k, 1 - eps + eps / k, eps / k) * F.softmax(logits, dim=1))
            .sum(dim=1)
            .mean(),
            "you weighted the probabilities themselves: the cross-entropy uses their "
            "logarithm, log softmax(logits).",
        )
    )
    if eps > 0:
        found[:0] = [
            (
                _soft_ce(logits, _targets(labels, k, 1 - eps, eps / (k - 1))),
                "you spread eps over the K - 1 other classes (eps / (K - 1) each). In this "
                "chapter's (and PyTorch's) convention every class, the true one included, "
                "gets eps / K.",
            ),
            (
                _soft_ce(logits, _targets(labels, k, 1 - eps, eps / k)),
                "the targets do not sum to 1: the true class keeps 1 - eps but must also "
                "get its share eps / K of the uniform part.",
            ),
            (
                F.cross_entropy(logits, labels),
                "the value does not depend on eps: this is the plain cross-entropy. Mix the "
                "one-hot target with the uniform distribution.",
            ),
            (
                _soft_ce(logits, _targets(labels, k, eps + (1 - eps) / k, (1 - eps) / k)),
                "the two weights are swapped: the one-hot target gets 1 - eps and the uniform "
                "part eps (eps / K per class), not the other way round.",
            ),
            (
                _soft_ce(logits, _targets(labels, k, 1 - eps + eps, eps)),
                "every class got eps: the uniform part is eps / K per class (eps in total).",
            ),
        ]
    return found


@selfcheck
def smoothed_cross_entropy(
    fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor],
) -> None:
    """Check ``fn(logits, labels, eps)``: the mean cross-entropy with targets
    ``(1 - eps) * onehot(labels) + eps / K``, PyTorch's ``label_smoothing=eps``.

    ``logits`` is ``(N, K)`` in float32 (the chapter's dtype), ``labels`` holds ``N`` class
    indices; the answer is a 0-d tensor.  Diagnoses: ``eps / (K - 1)`` spread over the other
    classes only (the other convention), ``1 - eps`` on the true class without its share
    ``eps / K``, an ignored ``eps``, the two weights swapped, ``eps`` (not ``eps / K``) on
    every class, a sum instead of a mean over the examples, a mean over the classes too, the
    log-softmax over the wrong dimension, softmax without its log, a wrong sign, a non-finite
    value for large logits (log of a softmax that underflowed: use ``log_softmax``), a result
    that is not a 0-d tensor, inputs modified in place, a call to ``F.cross_entropy`` (or
    ``nn.CrossEntropyLoss``), which the exercise rules out.
    """
    _uses_library(
        fn,
        F.cross_entropy,
        torch.nn.CrossEntropyLoss,
        exercise="this exercise (which asks you not to call it)",
    )
    cases = _cases()
    for logits, labels, eps in cases:
        n, k = logits.shape
        what = f"{n} examples with K={k} classes and eps={eps:g}"
        raw = call_untouched(fn, logits, labels, eps, what=what, names=("logits", "labels"))
        if isinstance(raw, torch.Tensor) and raw.dim() != 0:
            fail(
                f"on {what} your function returned shape {tuple(raw.shape)}; the loss is one "
                "number, the mean over the examples (a 0-d tensor)."
            )
        if not isinstance(raw, torch.Tensor):
            fail(
                f"on {what} your function returned a {type(raw).__name__}; return a 0-d torch "
                "tensor (the mean loss)."
            )
        raw = as_tensor(raw, what=what, shape=())
        value = raw.detach().to(torch.float64)
        if not bool(torch.isfinite(value)):
            fail(
                f"on {what} (logits of size up to {float(logits.abs().max()):.0f}) your loss is "
                f"{float(value)}: the softmax underflows to 0 and its log is -inf. Compute the "
                "log-probabilities in one stable step (log-sum-exp, e.g. log_softmax)."
            )
        logits64 = logits.double()
        expected = _soft_ce(logits64, _targets(labels, k, 1 - eps + eps / k, eps / k))
        scale = float(logits64.abs().max())  # the loss is computed from numbers of this size
        if agrees(raw, expected, dtype=DTYPE, what=what, scale=scale):
            continue
        tol = tolerance(raw.dtype, DTYPE)
        for ref, message in _diagnoses(logits64, labels, eps, expected):
            if close(value, ref, tol, scale) and not close(ref, expected, tol, scale):
                fail(f"on {what}: {message}")
        fail(
            f"on {what} your loss is {float(value):.6g}, which is not the mean cross-entropy "
            "with targets (1 - eps) * onehot + eps / K."
        )
    passed("smoothed_cross_entropy", len(cases))

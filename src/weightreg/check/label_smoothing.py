"""Self-checks for the exercises of ``book/implicit/label_smoothing.md``."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._core import call_student, fail, passed

__all__ = ["smoothed_cross_entropy"]


def _soft_ce(logits: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return -(q * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def _close(value: torch.Tensor, ref: torch.Tensor, rtol: float, atol: float) -> bool:
    return bool(torch.isclose(value, ref, rtol=rtol, atol=atol))


def _targets(labels: torch.Tensor, k: int, on: float, off: float) -> torch.Tensor:
    onehot = F.one_hot(labels, k).to(torch.float64)
    return on * onehot + off * (1 - onehot)


def smoothed_cross_entropy(
    fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor],
) -> None:
    """Check ``fn(logits, labels, eps)``: the mean cross-entropy with targets
    ``(1 - eps) * onehot(labels) + eps / K``, PyTorch's ``label_smoothing=eps``.

    ``logits`` is ``(N, K)``, ``labels`` holds ``N`` class indices; the answer is a 0-d tensor.
    Diagnoses: ``eps / (K - 1)`` spread over the other classes only (the other convention),
    ``1 - eps`` on the true class without its share ``eps / K``, an ignored ``eps``, a sum
    instead of a mean over the examples, a non-finite value for large logits (log of a softmax
    that underflowed: use ``log_softmax``), a result that is not a 0-d tensor, inputs modified
    in place.  Accepts float32 answers (compared up to float32 rounding).
    """
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
        cases.append((logits, labels, eps))
    for logits, labels, eps in cases:
        n, k = logits.shape
        what = f"{n} examples with K={k} classes and eps={eps:g}"
        logits_in, labels_in = logits.clone(), labels.clone()
        raw = call_student(fn, logits_in, labels_in, eps, what=what)
        if not torch.equal(logits_in, logits) or not torch.equal(labels_in, labels):
            fail(f"your function changed its inputs in place (on {what}); leave them untouched.")
        if not isinstance(raw, torch.Tensor):
            fail(
                f"on {what} your function returned a {type(raw).__name__}; return a 0-d torch "
                "tensor (the mean loss)."
            )
        if raw.dim() != 0:
            fail(
                f"on {what} your function returned shape {tuple(raw.shape)}; the loss is one "
                "number, the mean over the examples (a 0-d tensor)."
            )
        low = raw.dtype in (torch.float32, torch.float16, torch.bfloat16)
        rtol, atol = (2e-5, 1e-5) if low else (1e-9, 1e-12)
        value = raw.detach().to(torch.float64)
        if not bool(torch.isfinite(value)):
            fail(
                f"on {what} (logits of size up to {float(logits.abs().max()):.0f}) your loss is "
                f"{float(value)}: the softmax underflows to 0 and its log is -inf. Compute the "
                "log-probabilities in one stable step (log-sum-exp, e.g. log_softmax)."
            )
        expected = _soft_ce(logits, _targets(labels, k, 1 - eps + eps / k, eps / k))

        if _close(value, expected, rtol, atol):
            continue
        if eps > 0:
            diagnoses = [
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
            ]
            for ref, message in diagnoses:
                if _close(value, ref, rtol, atol):
                    fail(f"on {what}: {message}")
        if _close(value, expected * n, rtol, atol):
            fail(f"on {what}: you summed over the examples; the loss is their mean.")
        fail(
            f"on {what} your loss is {float(value):.6g}, which is not the mean cross-entropy "
            "with targets (1 - eps) * onehot + eps / K."
        )
    passed("smoothed_cross_entropy", len(cases))

"""The self-check of the scale-invariance chapter accepts the reference (also in float32) and
diagnoses typical mistakes, each with its own message."""

from __future__ import annotations

import re

import pytest
import torch

from weightreg import check
from weightreg.check import CheckFailed
from weightreg.normalization import exponential_lr_schedule


def good(grad_fn, w0, lr, weight_decay, steps):
    rates = lr * (1 - lr * weight_decay) ** (-2 * torch.arange(steps, dtype=w0.dtype) - 1)
    w, out = w0.clone(), [w0.clone()]
    for t in range(steps):
        w = w - rates[t] * grad_fn(w)
        out.append(w)
    return torch.stack(out)


def good_library(grad_fn, w0, lr, weight_decay, steps):
    """The same run with the library's schedule."""
    rates = exponential_lr_schedule(lr, weight_decay, steps)
    out = [w0.clone()]
    for t in range(steps):
        out.append(out[-1] - rates[t] * grad_fn(out[-1]))
    return torch.stack(out)


def good_float32(grad_fn, w0, lr, weight_decay, steps):
    return good(grad_fn, w0.float(), lr, weight_decay, steps)


def good_loop_rates(grad_fn, w0, lr, weight_decay, steps):
    """The rates computed one by one: eta / q, then divided by q**2 at each step."""
    q, rate = 1 - lr * weight_decay, lr / (1 - lr * weight_decay)
    out = [w0]
    for _ in range(steps):
        out.append(out[-1] - rate * grad_fn(out[-1]))
        rate = rate / q**2
    return torch.stack(out)


def good_preallocated(grad_fn, w0, lr, weight_decay, steps):
    """Rows of a preallocated tensor in the dtype of w0; the rate as a power of q**2."""
    W = torch.empty(steps + 1, w0.shape[0], dtype=w0.dtype)
    W[0] = w0
    q2 = (1 - lr * weight_decay) ** 2
    for t in range(steps):
        W[t + 1] = W[t] - lr / (1 - lr * weight_decay) / q2**t * grad_fn(W[t])
    return W


def test_accepts_reference_and_another_form(capsys):
    check.decay_free_run(good)
    check.decay_free_run(good_loop_rates)
    check.decay_free_run(good_preallocated)
    out = capsys.readouterr().out
    assert out.count("Well done: decay_free_run passed all 5 checks.") == 3
    assert "Note" not in out


def test_accepts_float32_with_a_note(capsys):
    check.decay_free_run(good_float32)
    out = capsys.readouterr().out
    assert "Well done: decay_free_run passed all 5 checks." in out and "float32" in out


def test_float64_agreeing_to_7_digits_fails_float32_somewhere():
    verdict = check.decay_free_run(lambda *a: good(*a).float().double(), quiet=True)
    assert not verdict and "float32 somewhere?" in verdict.message


def test_weird_results_get_a_verdict_not_a_traceback():
    for result in (None, 1.0, "W", torch.zeros(3, dtype=torch.long), [torch.zeros(2)]):
        verdict = check.decay_free_run(lambda *a, r=result: r, quiet=True)
        assert not verdict and verdict.message


def test_quiet_verdicts():
    assert check.decay_free_run(good, quiet=True)
    verdict = check.decay_free_run(_decayed, quiet=True)
    assert not verdict and "WITH weight decay" in verdict.message


def _with_rate(rate_fn, decay=False):
    def run(grad_fn, w0, lr, weight_decay, steps):
        w, out = w0.clone(), [w0.clone()]
        for t in range(steps):
            eta_t = rate_fn(lr, 1 - lr * weight_decay, t)
            w = (1 - eta_t * weight_decay * decay) * w - eta_t * grad_fn(w)
            out.append(w)
        return torch.stack(out)

    return run


def _decayed(grad_fn, w0, lr, weight_decay, steps):
    w, out = w0.clone(), [w0.clone()]
    for _ in range(steps):
        w = w - lr * (grad_fn(w) + weight_decay * w)
        out.append(w)
    return torch.stack(out)


def _same_tensor_appended(grad_fn, w0, lr, weight_decay, steps):
    q = 1 - lr * weight_decay
    w, out = w0.clone(), [w0.clone()]
    for t in range(steps):
        w -= lr * q ** (-2 * t - 1) * grad_fn(w)
        out.append(w)
    return torch.stack(out)


def _no_lr_in_q(grad_fn, w0, lr, weight_decay, steps):
    return good(grad_fn, w0, lr, weight_decay / lr, steps)


def _no_start(*a):
    return good(*a)[1:]


def _normalized(*a):
    W = good(*a)
    return W / W.norm(dim=1, keepdim=True)


def _list(*a):
    return list(good(*a))


def _in_place(grad_fn, w0, lr, weight_decay, steps):
    q = 1 - lr * weight_decay
    out = [w0.clone()]
    for t in range(steps):
        w0 -= lr * q ** (-2 * t - 1) * grad_fn(w0)
        out.append(w0.clone())
    return torch.stack(out)


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (_with_rate(lambda lr, q, t: lr * q ** (-2 * t)), "the exponent is -2t"),
        (_with_rate(lambda lr, q, t: lr * q ** (-t)), "grow twice as fast"),
        (_with_rate(lambda lr, q, t: lr), "the learning rate is constant"),
        (_with_rate(lambda lr, q, t: lr * q ** (-2 * t - 1), decay=True), "still applies weight"),
        (_decayed, "run WITH weight decay"),
        (_no_start, "return all steps \\+ 1 iterates"),
        (_normalized, "directions are right but the norms are not"),
        (_list, "return a torch tensor"),
        (_in_place, "w0"),
        (good_library, "exponential_lr_schedule, which is the answer"),
        (_with_rate(lambda lr, q, t: lr * q ** (-2 * t - 3)), "off by one step"),
        (_with_rate(lambda lr, q, t: lr * q ** (2 * t + 1)), "shrink"),
        (_same_tensor_appended, "same tensor"),
        (_no_lr_in_q, "1 - weight_decay"),
    ],
)
def test_diagnoses(fn, message):
    with pytest.raises(CheckFailed, match=message):
        check.decay_free_run(fn)
    verdict = check.decay_free_run(fn, quiet=True)
    assert not verdict and re.search(message, verdict.message)


def test_unfinished_stub_passes_through():
    def stub(*a):
        raise NotImplementedError("write my_decay_free_run")

    with pytest.raises(NotImplementedError):
        check.decay_free_run(stub)

"""The timescale page's self-check accepts the solutions and names typical mistakes."""

from __future__ import annotations

import re

import pytest
import torch

from weightreg import check
from weightreg.check import CheckFailed
from weightreg.timescale import ema_weights


def solution_loop(w0, updates, lrs, weight_decay):
    w = w0.clone()
    for u, lr in zip(updates, lrs, strict=True):
        w = (1 - lr * weight_decay) * w - lr * u
    return w


def solution_library(w0, updates, lrs, weight_decay):
    """An independent correct answer: the library's scan, last row."""
    return ema_weights(w0, updates, lrs, weight_decay)[-1]


def solution_float32(w0, updates, lrs, weight_decay):
    """Correct, but computed in float32 throughout."""
    return solution_loop(w0.float(), updates.float(), lrs.float(), weight_decay)


def solution_closed_form(w0, updates, lrs, weight_decay):
    """The unrolled sum with reversed cumulative products."""
    factors = 1 - lrs * weight_decay
    later = torch.cat(
        [
            torch.flip(torch.cumprod(torch.flip(factors[1:], [0]), 0), [0]),
            torch.ones(1, dtype=factors.dtype),
        ]
    )
    shape = (-1,) + (1,) * w0.dim()
    return factors.prod() * w0 - (lrs * later).reshape(shape).mul(updates).sum(0)


def solution_in_place_on_a_clone(w0, updates, lrs, weight_decay):
    w = w0.clone()
    for u, lr in zip(updates, lrs, strict=True):
        w.mul_(1 - lr * weight_decay).sub_(lr * u)
    return w


def solution_zeros_like(w0, updates, lrs, weight_decay):
    w = torch.zeros_like(w0) + w0
    for t in range(len(lrs)):
        w = w - lrs[t] * weight_decay * w - lrs[t] * updates[t]
    return w


@pytest.mark.parametrize(
    "solution",
    [solution_loop, solution_closed_form, solution_in_place_on_a_clone, solution_zeros_like],
)
def test_reference_solutions_pass(solution, capsys):
    check.ema_weights(solution)
    out = capsys.readouterr().out
    assert "ema_weights passed all 5 checks" in out and "Note" not in out


def test_a_float32_result_passes_with_a_note_naming_float32():
    verdict = check.ema_weights(solution_float32, quiet=True)
    assert verdict and any("float32" in n for n in verdict.notes)


def test_float64_agreeing_to_7_digits_fails_float32_somewhere():
    def through_float32(w0, updates, lrs, weight_decay):
        return solution_loop(w0, updates, lrs, weight_decay).float().to(w0.dtype)

    verdict = check.ema_weights(through_float32, quiet=True)
    assert not verdict and "float32 somewhere?" in verdict.message


def test_a_wrapper_around_the_library_is_noticed_kindly():
    verdict = check.ema_weights(solution_library, quiet=True)
    assert not verdict and "ema_weights, which is the answer" in verdict.message


def test_weird_results_get_a_verdict_not_a_traceback():
    for result in (None, 3, "w", torch.zeros(5, dtype=torch.long), torch.zeros(2, 2)):
        verdict = check.ema_weights(lambda w0, u, lrs, wd, r=result: r, quiet=True)
        assert not verdict and verdict.message


def _decay_after_step(w0, u, lrs, lam):
    w = w0.clone()
    for ut, lr in zip(u, lrs, strict=True):
        w = (1 - lr * lam) * (w - lr * ut)
    return w


def _no_lr_on_update(w0, u, lrs, lam):
    w = w0.clone()
    for ut, lr in zip(u, lrs, strict=True):
        w = (1 - lr * lam) * w - ut
    return w


def _factor_one_minus_lambda(w0, u, lrs, lam):
    w = w0.clone()
    for ut, lr in zip(u, lrs, strict=True):
        w = (1 - lam) * w - lr * ut
    return w


def _added(w0, u, lrs, lam):
    return solution_loop(w0, -u, lrs, lam)


def _first_rate(w0, u, lrs, lam):
    return solution_loop(w0, u, torch.full_like(lrs, float(lrs[0])), lam)


def _no_start(w0, u, lrs, lam):
    return solution_loop(torch.zeros_like(w0), u, lrs, lam)


def _trajectory(w0, u, lrs, lam):
    out = [w0.clone()]
    for ut, lr in zip(u, lrs, strict=True):
        out.append((1 - lr * lam) * out[-1] - lr * ut)
    return torch.stack(out)


def _not_a_tensor(w0, u, lrs, lam):
    return solution_loop(w0, u, lrs, lam).tolist()


def _in_place_on_w0(w0, u, lrs, lam):
    for ut, lr in zip(u, lrs, strict=True):
        w0.mul_(1 - lr * lam).sub_(lr * ut)
    return w0


def _skips_last(w0, u, lrs, lam):
    w = w0.clone()
    for t in range(len(lrs) - 1):
        w = (1 - lrs[t] * lam) * w - lrs[t] * u[t]
    return w


def _skips_first(w0, u, lrs, lam):
    w = w0.clone()
    for t in range(1, len(lrs)):
        w = (1 - lrs[t] * lam) * w - lrs[t] * u[t]
    return w


def _next_rate_in_factor(w0, u, lrs, lam):
    w = w0.clone()
    for t in range(len(lrs)):
        nxt = lrs[min(t + 1, len(lrs) - 1)]
        w = (1 - nxt * lam) * w - lrs[t] * u[t]
    return w


def _exp_factor(w0, u, lrs, lam):
    w = w0.clone()
    for ut, lr in zip(u, lrs, strict=True):
        w = torch.exp(-lr * lam) * w - lr * ut
    return w


def _no_decay(w0, u, lrs, lam):
    return solution_loop(w0, u, lrs, 0.0)


def _reversed(w0, u, lrs, lam):
    return solution_loop(w0, u.flip(0), lrs.flip(0), lam)


def _scaled(w0, u, lrs, lam):
    return 1.01 * solution_loop(w0, u, lrs, lam)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_decay_after_step, "shrunk by its own step's decay factor"),
        (_no_lr_on_update, "multiplied by its learning rate"),
        (_factor_one_minus_lambda, "not 1 - weight_decay"),
        (_added, "subtracted from the weights, not added"),
        (_first_rate, "use lrs\\[t\\] at step t"),
        (_no_start, "the start w0 is missing"),
        (_trajectory, "one tensor per step"),
        (_not_a_tensor, "return a torch tensor"),
        (_scaled, "differs from the weights of the AdamW recursion"),
        (_in_place_on_w0, "changed its input w0 in place"),
        (_skips_last, "the last logged update is missing"),
        (_skips_first, "the first logged update is missing"),
        (_next_rate_in_factor, "off by one step"),
        (_exp_factor, "exp\\(-lr \\* weight_decay\\)"),
        (_no_decay, "never decayed"),
        (_reversed, "reverse order"),
    ],
)
def test_wrong_answers_fail_with_their_message(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.ema_weights(wrong)
    verdict = check.ema_weights(wrong, quiet=True)
    assert not verdict and re.search(message, verdict.message)

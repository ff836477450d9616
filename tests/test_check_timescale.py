"""The timescale page's self-check accepts the solutions and names typical mistakes."""

from __future__ import annotations

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


@pytest.mark.parametrize(
    "solution", [solution_loop, solution_library, solution_float32, solution_closed_form]
)
def test_reference_solutions_pass(solution, capsys):
    check.ema_weights(solution)
    assert "ema_weights passed all 4 checks" in capsys.readouterr().out


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
    return ema_weights(w0, u, lrs, lam)


def _not_a_tensor(w0, u, lrs, lam):
    return solution_loop(w0, u, lrs, lam).tolist()


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
    ],
)
def test_wrong_answers_fail_with_their_message(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.ema_weights(wrong)

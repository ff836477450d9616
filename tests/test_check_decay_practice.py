"""The practice chapter's self-check accepts the solutions and names typical mistakes."""

from __future__ import annotations

import pytest
import torch

from weightreg import check
from weightreg.check import CheckFailed


def clip_solution(grads, max_norm):
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    return [g * coef for g in grads]


def clip_float32_no_eps(grads, max_norm):
    """Correct, without the 1e-6, computing in float32 and returning a tuple."""
    total = torch.cat([g.float().reshape(-1) for g in grads]).norm()
    return tuple(g.float() * min(1.0, max_norm / float(total)) for g in grads)


def clip_torch(grads, max_norm):
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad for p in params]


@pytest.mark.parametrize("solution", [clip_solution, clip_float32_no_eps, clip_torch])
def test_clip_reference_solutions_pass(solution, capsys):
    check.clip_grad_norm(solution)
    assert "clip_grad_norm passed all 5 checks" in capsys.readouterr().out


def _per_tensor(grads, max_norm):
    return [g * min(1.0, max_norm / float(g.norm())) for g in grads]


def _value_clip(grads, max_norm):
    return [g.clamp(-max_norm, max_norm) for g in grads]


def _scale_up(grads, max_norm):
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    return [g * max_norm / total for g in grads]


def _squared(grads, max_norm):
    total = sum((g**2).sum() for g in grads)
    return [g * min(1.0, max_norm / float(total)) for g in grads]


def _one_tensor(grads, max_norm):
    return torch.cat([g.reshape(-1) for g in clip_solution(grads, max_norm)])


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_per_tensor, "its own norm"),
        (_value_clip, "value clipping"),
        (_scale_up, "shorter than max_norm was changed"),
        (_squared, "square root"),
        (_one_tensor, "list of tensors"),
    ],
)
def test_clip_wrong_answers_fail(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.clip_grad_norm(wrong)

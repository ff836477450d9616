"""The practice chapter's self-check accepts the solutions and names typical mistakes."""

from __future__ import annotations

import math

import pytest
import torch

from weightreg import check
from weightreg.check import CheckFailed


def clip_solution(grads, max_norm):
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    return [g * coef for g in grads]


def clip_float32(grads, max_norm):
    """Correct, computing in float32 and returning a tuple."""
    total = torch.cat([g.float().reshape(-1) for g in grads]).norm()
    return tuple(g.float() * min(1.0, max_norm / (float(total) + 1e-6)) for g in grads)


def clip_no_eps_guarded(grads, max_norm):
    """Correct without an epsilon: only long gradients are divided by their norm."""
    total = math.sqrt(sum(float((g * g).sum()) for g in grads))
    if total <= max_norm:
        return [g.clone() for g in grads]
    return [g * (max_norm / total) for g in grads]


def clip_other_eps(grads, max_norm):
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    coef = (max_norm / (total + 1e-8)).clamp(max=1.0)
    return [g * coef for g in grads]


def clip_torch(grads, max_norm):
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad for p in params]


@pytest.mark.parametrize(
    "solution", [clip_solution, clip_no_eps_guarded, clip_other_eps, clip_float32]
)
def test_clip_reference_solutions_pass(solution, capsys):
    check.clip_grad_norm(solution)
    assert "clip_grad_norm passed all 8 checks" in capsys.readouterr().out


def test_clip_float32_from_float64_passes_with_a_note():
    verdict = check.clip_grad_norm(clip_float32, quiet=True)
    assert verdict and any("float32" in n for n in verdict.notes)
    assert not check.clip_grad_norm(clip_solution, quiet=True).notes


def test_clip_float64_agreeing_to_7_digits_fails_float32_somewhere():
    def through_float32(grads, max_norm):
        return [g.float().to(g.dtype) for g in clip_solution(grads, max_norm)]

    verdict = check.clip_grad_norm(through_float32, quiet=True)
    assert not verdict and "float32 somewhere?" in verdict.message


def test_clip_weird_results_get_a_verdict_not_a_traceback():
    for result in (None, 1.0, [None], [torch.zeros(3, dtype=torch.long)], ["a", "b"], {}):
        verdict = check.clip_grad_norm(lambda grads, m, r=result: r, quiet=True)
        assert not verdict and verdict.message


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


def _no_eps(grads, max_norm):
    total = math.sqrt(sum(float((g * g).sum()) for g in grads))
    return [g * min(1.0, max_norm / total) for g in grads]


def _in_place(grads, max_norm):
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    coef = min(1.0, max_norm / (float(total) + 1e-6))
    for g in grads:
        g.mul_(coef)
    return grads


def _returns_inputs_when_short(grads, max_norm):
    total = float(torch.sqrt(sum((g**2).sum() for g in grads)))
    if total <= max_norm:
        return grads
    return [g * (max_norm / total) for g in grads]


def _sum_of_norms(grads, max_norm):
    total = sum(float(g.norm()) for g in grads)
    return [g * min(1.0, max_norm / total) for g in grads]


def _rms(grads, max_norm):
    flat = torch.cat([g.reshape(-1) for g in grads])
    total = float(flat.pow(2).mean().sqrt())
    return [g * min(1.0, max_norm / total) for g in grads]


def _last_tensor_norm(grads, max_norm):
    for g in grads:
        total = float(g.norm())
    return [g * min(1.0, max_norm / total) for g in grads]


def _l1(grads, max_norm):
    total = sum(float(g.abs().sum()) for g in grads)
    return [g * min(1.0, max_norm / total) for g in grads]


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
        (_no_eps, "epsilon"),
        (_in_place, "in place"),
        (_returns_inputs_when_short, "new tensor"),
        (_sum_of_norms, "added the norms"),
        (_rms, "mean"),
        (_last_tensor_norm, "only one tensor"),
        (_l1, "absolute values"),
        (clip_torch, "clip_grad_norm_, which is the answer"),
    ],
)
def test_clip_wrong_answers_fail(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.clip_grad_norm(wrong)
    verdict = check.clip_grad_norm(wrong, quiet=True)
    assert not verdict and message in verdict.message


def test_a_loop_that_rebinds_its_variable_is_named() -> None:
    """``for g in out: g = g * s`` hands back the caller's tensors unclipped: the message says
    so (not only that a tensor is the caller's)."""

    def rebinds(grads, max_norm):
        total = torch.sqrt(sum((g**2).sum() for g in grads))
        out = list(grads)
        for g in out:
            g = g * min(1.0, float(max_norm / (total + 1e-6)))  # noqa: PLW2901
        return out

    verdict = check.clip_grad_norm(rebinds, quiet=True)
    assert not verdict and "unchanged" in verdict.message and "loop variable" in verdict.message

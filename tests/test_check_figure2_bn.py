"""The self-check of *Figure 2 with normalization* accepts solutions and names mistakes."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from weightreg import check
from weightreg.check import CheckFailed


def angle_solution(W_before, W_after):
    """The page's solution: atan2 of the orthogonal part of the step and the dot product."""
    u, v = W_before.flatten().double(), W_after.flatten().double()
    delta = v - u
    perp = delta - (u @ delta) / (u @ u) * u
    return torch.atan2(u.norm() * perp.norm(), u @ v)


def angle_kahan(W_before, W_after):
    """An independent correct answer (Kahan's formula), computed in the inputs' dtype."""
    a, b = W_before.flatten(), W_after.flatten()
    a, b = a / a.norm(), b / b.norm()
    return 2 * torch.atan2((a - b).norm(), (a + b).norm())


def angle_numpy(W_before, W_after):
    """A correct answer as a NumPy float."""
    u, v = W_before.numpy().ravel().astype(np.float64), W_after.numpy().ravel().astype(np.float64)
    delta = v - u
    perp = delta - (u @ delta) / (u @ u) * u
    return np.float64(math.atan2(np.linalg.norm(u) * np.linalg.norm(perp), u @ v))


def angle_chapter(W_before, W_after):
    """The chapter's solution, in the inputs' dtype."""
    u, v = W_before.flatten(), W_after.flatten()
    delta = v - u
    perp = delta - (u @ delta) / (u @ u) * u
    return torch.atan2(u.norm() * perp.norm(), u @ v)


def angle_float(W_before, W_after):
    """Correct, returning a Python float, with torch.dot and reshape(-1)."""
    u, v = W_before.reshape(-1), W_after.reshape(-1)
    d = v - u
    p = d - torch.dot(u, d) / torch.dot(u, u) * u
    return math.atan2(
        float(torch.linalg.vector_norm(u) * torch.linalg.vector_norm(p)), float(torch.dot(u, v))
    )


@pytest.mark.parametrize(
    "solution", [angle_solution, angle_kahan, angle_numpy, angle_chapter, angle_float]
)
def test_reference_solutions_pass(solution, capsys):
    check.weight_angle(solution)
    assert "weight_angle passed all 7 checks" in capsys.readouterr().out


def test_the_chapter_solution_passes_without_a_note():
    verdict = check.weight_angle(angle_chapter, quiet=True)
    assert verdict and not verdict.notes


def test_a_float32_result_of_a_float64_computation_passes_with_a_note():
    verdict = check.weight_angle(lambda a, b: angle_chapter(a, b).float(), quiet=True)
    assert verdict and any("float32" in n for n in verdict.notes)


def test_a_float32_computation_cannot_resolve_the_tiny_angle_and_says_float32():
    verdict = check.weight_angle(lambda a, b: angle_chapter(a.float(), b.float()), quiet=True)
    assert not verdict and "float32" in verdict.message


def test_float64_agreeing_to_7_digits_fails_float32_somewhere():
    def rounded(a, b):
        out = angle_chapter(a, b)
        return out.float().to(out.dtype) if out.dtype == torch.float64 else out

    verdict = check.weight_angle(rounded, quiet=True)
    assert not verdict and "float32 somewhere?" in verdict.message


def test_weird_results_get_a_verdict_not_a_traceback():
    for result in (None, "x", torch.zeros(2, 2), torch.tensor(1), [0.1], np.zeros(3)):
        verdict = check.weight_angle(lambda a, b, r=result: r, quiet=True)
        assert not verdict and verdict.message


def test_float32_answers_are_accepted(capsys):
    """Computed in the inputs' dtype: float32 in, a float32 angle out (the float32 case)."""
    seen = []

    def in_input_dtype(W_before, W_after):
        out = angle_kahan(W_before, W_after)
        seen.append(out.dtype)
        return out

    check.weight_angle(in_input_dtype)
    assert torch.float32 in seen
    assert "passed all 7 checks" in capsys.readouterr().out


def _acos(W_before, W_after):
    u, v = W_before.flatten().double(), W_after.flatten().double()
    return torch.acos(torch.clamp(u @ v / (u.norm() * v.norm()), -1, 1))


def _degrees(W_before, W_after):
    return angle_solution(W_before, W_after) * 180 / math.pi


def _asin(W_before, W_after):
    u, v = W_before.flatten().double(), W_after.flatten().double()
    delta = v - u
    perp = delta - (u @ delta) / (u @ u) * u
    return torch.asin(perp.norm() / v.norm())


def _per_column(W_before, W_after):
    return torch.stack(
        [angle_solution(W_before[:, j], W_after[:, j]) for j in range(W_before.shape[1])]
    )


def _mean_of_columns(W_before, W_after):
    return _per_column(W_before, W_after).mean()


def _cosine(W_before, W_after):
    u, v = W_before.flatten().double(), W_after.flatten().double()
    return u @ v / (u.norm() * v.norm())


def _acos_unclamped(W_before, W_after):
    u, v = W_before.flatten(), W_after.flatten()
    return torch.acos(u @ v / (u.norm() * v.norm()))


def _acos_unclamped_float64(W_before, W_after):
    return _acos_unclamped(W_before.double(), W_after.double())


def _atan_of_ratio(W_before, W_after):
    u, v = W_before.flatten(), W_after.flatten()
    delta = v - u
    perp = delta - (u @ delta) / (u @ u) * u
    return torch.atan(u.norm() * perp.norm() / (u @ v))


def _no_norm_of_u(W_before, W_after):
    u, v = W_before.flatten(), W_after.flatten()
    delta = v - u
    perp = delta - (u @ delta) / (u @ u) * u
    return torch.atan2(perp.norm(), u @ v)


def _whole_step(W_before, W_after):
    u, v = W_before.flatten(), W_after.flatten()
    return torch.atan2(u.norm() * (v - u).norm(), u @ v)


def _kahan_unnormalized(W_before, W_after):
    u, v = W_before.flatten(), W_after.flatten()
    return 2 * torch.atan2((u - v).norm(), (u + v).norm())


def _no_flatten(W_before, W_after):
    delta = W_after - W_before
    perp = delta - (W_before @ delta) / (W_before @ W_before) * W_before
    return torch.atan2(W_before.norm() * perp.norm(), (W_before * W_after).sum())


def _in_place(W_before, W_after):
    W_after -= W_before
    u, d = W_before.flatten(), W_after.flatten()
    perp = d - (u @ d) / (u @ u) * u
    return torch.atan2(u.norm() * perp.norm(), u @ (u + d))


def _library(W_before, W_after):
    from weightreg.normalization import angle

    return angle(W_before.flatten(), W_after.flatten())


def _distance(W_before, W_after):
    return (W_after - W_before).double().norm()


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (_acos, "acos"),
        (_degrees, "degrees"),
        (_asin, "arcsine"),
        (_per_column, "one angle for the whole tensor"),
        (_mean_of_columns, "averaged the angles of the columns"),
        (_cosine, "cosine"),
        (_distance, "distance"),
        (_acos_unclamped, "acos"),
        (_acos_unclamped_float64, "above 1"),
        (_atan_of_ratio, "atan2"),
        (_no_norm_of_u, "norm of W_before"),
        (_whole_step, "orthogonal"),
        (_kahan_unnormalized, "unit vectors"),
        (_no_flatten, "flatten"),
        (_in_place, "changed its input W_after in place"),
        (_library, "angle, which is the answer"),
    ],
)
def test_typical_mistakes_fail_with_their_own_message(wrong, words):
    with pytest.raises(CheckFailed, match=words):
        check.weight_angle(wrong)
    verdict = check.weight_angle(wrong, quiet=True)
    assert not verdict and re.search(words, verdict.message)


def test_quiet_verdict_and_non_function():
    verdict = check.weight_angle(_acos, quiet=True)
    assert not verdict and "acos" in verdict.message
    assert check.weight_angle(angle_solution, quiet=True)
    with pytest.raises(CheckFailed, match="pass your function itself"):
        check.weight_angle(0.3)

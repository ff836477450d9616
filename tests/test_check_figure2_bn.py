"""The self-check of *Figure 2 with normalization* accepts solutions and names mistakes."""

from __future__ import annotations

import math

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


@pytest.mark.parametrize("solution", [angle_solution, angle_kahan, angle_numpy])
def test_reference_solutions_pass(solution, capsys):
    check.weight_angle(solution)
    assert "weight_angle passed all 5 checks" in capsys.readouterr().out


def test_float32_answers_are_accepted(capsys):
    """Computed in the inputs' dtype: float32 in, a float32 angle out (the float32 case)."""
    seen = []

    def in_input_dtype(W_before, W_after):
        out = angle_kahan(W_before, W_after)
        seen.append(out.dtype)
        return out

    check.weight_angle(in_input_dtype)
    assert torch.float32 in seen
    assert "passed all 5 checks" in capsys.readouterr().out


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
    ],
)
def test_typical_mistakes_fail_with_their_own_message(wrong, words):
    with pytest.raises(CheckFailed, match=words):
        check.weight_angle(wrong)


def test_quiet_verdict_and_non_function():
    verdict = check.weight_angle(_acos, quiet=True)
    assert not verdict and "acos" in verdict.message
    assert check.weight_angle(angle_solution, quiet=True)
    with pytest.raises(CheckFailed, match="pass your function itself"):
        check.weight_angle(0.3)

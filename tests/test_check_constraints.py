"""The constraints chapters' self-checks accept the reference solutions and catch the usual
mistakes with the intended message."""

from __future__ import annotations

import pytest
import torch

from weightreg import check
from weightreg.check import CheckFailed
from weightreg.constraints import project_l2_ball as library_projection


def ref_project(w, radius):
    norm = w.norm()
    if norm <= radius:
        return w.clone()
    return w * (radius / norm)


def ref_multiplier(w, grad, theta):
    sq = float((w**2).sum())
    if sq < (1 - 1e-6) * theta:
        return 0.0
    return float(-(grad * w).sum() / sq)


def test_reference_solutions_pass(capsys):
    check.project_l2_ball(ref_project)
    check.project_l2_ball(library_projection)
    check.l2_multiplier(ref_multiplier)
    out = capsys.readouterr().out
    assert "project_l2_ball passed" in out and "l2_multiplier passed" in out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda w, r: w * (r / w.norm()), "already its own projection"),  # always rescales
        (lambda w, r: w * min(1.0, r / float((w**2).sum())), "squared norm"),
        (lambda w, r: w.clamp(-r, r), "L-infinity"),
        (lambda w, r: w.mul_(min(1.0, r / float(w.norm()))), "in place"),
        (lambda w, r: library_projection(w, r, dim=-1), r"row \(or column\)"),
        (lambda w, r: w.numpy() * min(1.0, r / float(w.norm())), "torch.Tensor"),
        (lambda w, r: w[:1], "shape"),
    ],
)
def test_project_l2_ball_catches_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.project_l2_ball(wrong)


def ref_project_float32(w, radius):
    """A correct answer computed in single precision."""
    w32 = w.float()
    norm = w32.norm()
    return w32.clone() if norm <= radius else w32 * (radius / norm)


def ref_multiplier_float32(w, grad, theta):
    w32, g32 = w.float(), grad.float()
    sq = float((w32**2).sum())
    if sq < (1 - 1e-6) * theta:
        return 0.0
    return float(-(g32 * w32).sum() / sq)


def test_correct_float32_answers_pass(capsys):
    check.project_l2_ball(ref_project_float32)
    check.project_l2_ball(lambda w, r: ref_project_float32(w, r).double())
    check.l2_multiplier(ref_multiplier_float32)
    out = capsys.readouterr().out
    assert "project_l2_ball passed" in out and "l2_multiplier passed" in out


def test_project_l2_ball_catches_nan_at_zero():
    def always_divides(w, r):
        return w / w.norm() * torch.clamp(w.norm(), max=r)

    with pytest.raises(CheckFailed, match="NaN"):
        check.project_l2_ball(always_divides)


def test_unfinished_stub_reads_as_unfinished():
    def stub(w, r):
        raise NotImplementedError("Complete my_project_l2_ball")

    with pytest.raises(NotImplementedError):
        check.project_l2_ball(stub)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda w, g, t: float((g * w).sum() / (w**2).sum()), "wrong sign"),
        (lambda w, g, t: float(-(g * w).sum() / (2 * (w**2).sum())), "multiplier nu of the"),
        (lambda w, g, t: float(-(g * w).sum() / w.norm()), "squared"),
        (lambda w, g, t: float(-g[0] / w[0]), "NaN|division by zero|single coordinate"),
        (lambda w, g, t: float(-(g * w).sum() / (w**2).sum()), "inactive|theta"),
        (lambda w, g, t: [1.0, 2.0], "one number"),
    ],
)
def test_l2_multiplier_catches_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.l2_multiplier(wrong)


def test_l2_multiplier_student_exception_becomes_a_hint():
    def crashes(w, g, t):
        return w.nonexistent

    with pytest.raises(CheckFailed, match="raised AttributeError"):
        check.l2_multiplier(crashes)

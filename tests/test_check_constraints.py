"""The constraints chapters' self-checks accept the reference solutions and catch the usual
mistakes with the intended message."""

from __future__ import annotations

import pytest
import torch

from weightreg import check, constraints
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
    check.l2_multiplier(ref_multiplier)
    out = capsys.readouterr().out
    assert "project_l2_ball passed" in out and "l2_multiplier passed" in out and "Note" not in out


def test_the_chapters_are_float32():
    seen = []
    check.project_l2_ball(lambda w, r: seen.append(w.dtype) or ref_project(w, r))
    check.l2_multiplier(lambda w, g, t: seen.append(g.dtype) or ref_multiplier(w, g, t))
    assert set(seen) == {torch.float32}


def test_project_l2_ball_notices_the_library():
    with pytest.raises(CheckFailed, match="calls weightreg's project_l2_ball, which is the answer"):
        check.project_l2_ball(library_projection)
    with pytest.raises(CheckFailed, match="calls weightreg's project_l2_ball"):
        check.project_l2_ball(lambda w, r: constraints.project_l2_ball(w.clone(), r))


def _in_float32_buffer(w, radius):
    """Correct in the chapter: torch.zeros(shape) is float32 (it used to crash the check)."""
    out = torch.zeros(w.shape)
    out[:] = w * min(1.0, radius / max(float(w.norm()), 1e-30))
    return out


def _via_numpy(w, radius):
    import numpy as np

    a = w.numpy()
    norm = np.linalg.norm(a)
    return torch.Tensor(a if norm <= radius else a * (radius / norm))


def test_correct_answers_in_the_chapters_dtype_pass(capsys):
    check.project_l2_ball(_in_float32_buffer)
    check.project_l2_ball(_via_numpy)
    out = capsys.readouterr().out
    assert out.count("project_l2_ball passed") == 2 and "Note" not in out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda w, r: w * (r / w.norm()), "already its own projection"),  # always rescales
        (lambda w, r: w * min(1.0, r / float((w**2).sum())), "squared norm"),
        (lambda w, r: w.clone() if (w**2).sum() <= r else w * (r / w.norm()), "squared norm"),
        (lambda w, r: w * min(1.0, r**2 / max(float(w.norm()), 1e-30)), "radius\\*\\*2"),
        (
            lambda w, r: w / w.norm(dim=0, keepdim=True) * r if w.dim() > 1 else ref_project(w, r),
            "column",
        ),
        (lambda w, r: w.clamp(-r, r), "L-infinity"),
        (lambda w, r: w.mul_(min(1.0, r / float(w.norm()))), "in place"),
        (
            lambda w, r: w * torch.clamp(r / w.norm(dim=-1, keepdim=True), max=1),
            r"row \(or column\)",
        ),
        (lambda w, r: w.numpy() * min(1.0, r / float(w.norm())), "NumPy.*torch tensor"),
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


def test_correct_float32_and_float64_answers_pass(capsys):
    check.project_l2_ball(ref_project_float32)
    check.l2_multiplier(ref_multiplier_float32)
    assert "Note" not in capsys.readouterr().out
    check.project_l2_ball(lambda w, r: ref_project_float32(w, r).double())
    out = capsys.readouterr().out
    assert "project_l2_ball passed" in out
    assert "Note: your result is float64 while the inputs are float32" in out


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


def _exact_threshold(w, grad, theta):
    sq = float((w**2).sum())
    return 0.0 if sq < theta else float(-(grad * w).sum() / sq)


def _neg_in_place(w, grad, theta):
    sq = float((w**2).sum())
    if sq < (1 - 1e-6) * theta:
        return 0.0
    return float((grad.neg_() * w).sum() / sq)


def _norm_vs_theta(w, grad, theta):
    if float(w.norm()) < (1 - 1e-6) * theta:
        return 0.0
    return float(-(grad * w).sum() / (w**2).sum())


def test_the_exact_threshold_mistake_is_wrong_on_projected_points():
    """The premise of the cases: float32 projection lands ||w||^2 just below theta, often."""
    from weightreg.check.constraints import _cases_on_projected_points

    below = [float((w.double() ** 2).sum()) < theta for w, _, theta in _cases_on_projected_points()]
    assert any(below) and not all(below)
    w = torch.tensor([0.6, 0.8], dtype=torch.float32) * (1 - 2e-7)
    assert 1 - 1e-6 <= float((w.double() ** 2).sum()) < 1


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda w, g, t: float((g * w).sum() / (w**2).sum()), "wrong sign"),
        (lambda w, g, t: float(-(g * w).sum() / (2 * (w**2).sum())), "multiplier nu of the"),
        (lambda w, g, t: float(-(g * w).sum() / w.norm()), "squared"),
        (lambda w, g, t: float(-g[0] / w[0]), "NaN|division by zero|single coordinate"),
        (lambda w, g, t: float(-(g * w).sum() / (w**2).sum()), "inactive|theta"),
        (lambda w, g, t: [1.0, 2.0], "return a number"),
        # the three that passed before
        (_exact_threshold, "just below theta.*1e-6"),
        (lambda w, g, t: -(g * w).sum() / (w**2).sum(), "0-d tensor.*Python float"),
        (_neg_in_place, "changed its input grad in place"),
        # used to be reported as "a single coordinate may be zero"
        (_norm_vs_theta, "compare the norm .* with theta"),
        (lambda w, g, t: ref_multiplier(w, g, t) + 0.1, "multiplier is not"),
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

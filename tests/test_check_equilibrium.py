"""The self-check of the equilibrium chapter accepts the reference (also in float32, and the
acos form) and diagnoses typical mistakes, each with its own message."""

from __future__ import annotations

import pytest
import torch

from weightreg import check
from weightreg.check import CheckFailed


def good(W):
    a = W[..., :-1, :] / W[..., :-1, :].norm(dim=-1, keepdim=True)
    b = W[..., 1:, :] / W[..., 1:, :].norm(dim=-1, keepdim=True)
    return 2 * torch.atan2((a - b).norm(dim=-1), (a + b).norm(dim=-1))


def good_float32(W):
    return good(W.float())


def acos_float32(W):
    W = W.float()
    cos = torch.nn.functional.cosine_similarity(W[..., :-1, :], W[..., 1:, :], dim=-1)
    return torch.acos(cos.clamp(-1, 1))


def acos_float64(W):
    a, b = W[..., :-1, :], W[..., 1:, :]
    cos = (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))
    return torch.acos(cos.clamp(-1, 1))


def acos_unclamped(W):
    a, b = W[..., :-1, :], W[..., 1:, :]
    return torch.acos((a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1)))


def perp_atan2(W):
    """Correct: atan2 of the part of b orthogonal to a and of a . b (no normalization)."""
    a, b = W[..., :-1, :], W[..., 1:, :]
    dot = (a * b).sum(-1, keepdim=True)
    perp = b - dot / (a * a).sum(-1, keepdim=True) * a
    return torch.atan2(a.norm(dim=-1) * perp.norm(dim=-1), dot.squeeze(-1))


def loop_kahan(W):
    """Correct: a loop over the flattened runs, the exercise's formula per pair."""
    flat = W.reshape(-1, W.shape[-2], W.shape[-1])
    out = torch.zeros(flat.shape[0], flat.shape[1] - 1, dtype=W.dtype)
    for s in range(flat.shape[0]):
        for t in range(flat.shape[1] - 1):
            a = flat[s, t] / flat[s, t].norm()
            b = flat[s, t + 1] / flat[s, t + 1].norm()
            out[s, t] = 2 * torch.atan2((a - b).norm(), (a + b).norm())
    return out.reshape(*W.shape[:-2], W.shape[-2] - 1)


@pytest.mark.parametrize("solution", [good, perp_atan2, loop_kahan])
def test_accepts_correct_answers_without_a_note(solution, capsys):
    verdict = check.consecutive_angles(solution, quiet=True)
    assert verdict and not verdict.notes, verdict.message
    check.consecutive_angles(solution)
    assert "Well done: consecutive_angles passed all 5 checks." in capsys.readouterr().out


def test_a_float32_result_passes_with_a_note_naming_float32():
    verdict = check.consecutive_angles(good_float32, quiet=True)
    assert verdict and any("float32" in n for n in verdict.notes)


def test_float64_agreeing_to_7_digits_fails_float32_somewhere():
    verdict = check.consecutive_angles(lambda W: good(W).float().double(), quiet=True)
    assert not verdict and "float32 somewhere?" in verdict.message


def lagrange_identity(W):
    """sqrt(|a|^2 |b|^2 - (a.b)^2) cancels like the cosine: small angles lose digits."""
    a, b = W[..., :-1, :], W[..., 1:, :]
    dot = (a * b).sum(-1)
    cross = torch.sqrt(torch.clamp((a * a).sum(-1) * (b * b).sum(-1) - dot**2, min=0))
    return torch.atan2(cross, dot)


@pytest.mark.parametrize("fn", [acos_float32, acos_float64, lagrange_identity])
def test_acos_loses_the_small_angles(fn):
    """The exercise asks for accuracy on small angles, which acos of the cosine loses."""
    verdict = check.consecutive_angles(fn, quiet=True)
    assert not verdict and "acos" in verdict.message and "small angle" in verdict.message


def test_an_unclamped_cosine_above_1_gives_nan_and_is_named():
    verdict = check.consecutive_angles(acos_unclamped, quiet=True)
    assert not verdict and "NaN" in verdict.message and "above 1" in verdict.message


def test_weird_results_get_a_verdict_not_a_traceback():
    for result in (None, 0.5, "x", torch.zeros(3, dtype=torch.long), [torch.zeros(2)]):
        verdict = check.consecutive_angles(lambda W, r=result: r, quiet=True)
        assert not verdict and verdict.message


def _step_length(W):
    return (W[..., 1:, :] - W[..., :-1, :]).norm(dim=-1)


def _degrees(W):
    return torch.rad2deg(good(W))


def _cosine(W):
    return torch.cos(good(W))


def _from_first(W):
    first = W[..., :1, :] / W[..., :1, :].norm(dim=-1, keepdim=True)
    later = W[..., 1:, :] / W[..., 1:, :].norm(dim=-1, keepdim=True)
    return torch.acos((first * later).sum(-1).clamp(-1, 1))


def _asin(W):
    a = W[..., :-1, :] / W[..., :-1, :].norm(dim=-1, keepdim=True)
    b = W[..., 1:, :] / W[..., 1:, :].norm(dim=-1, keepdim=True)
    cos = (a * b).sum(-1)
    return torch.asin((1 - cos**2).clamp(min=0).sqrt())


def _in_place(W):
    W /= W.norm(dim=-1, keepdim=True)
    return 2 * torch.atan2(
        (W[..., :-1, :] - W[..., 1:, :]).norm(dim=-1), (W[..., :-1, :] + W[..., 1:, :]).norm(dim=-1)
    )


def _pairs_runs(W):
    a = W[:-1] / W[:-1].norm(dim=-1, keepdim=True)
    b = W[1:] / W[1:].norm(dim=-1, keepdim=True)
    return 2 * torch.atan2((a - b).norm(dim=-1), (a + b).norm(dim=-1))


def _squeezed(W):
    return good(W).squeeze()


def _not_normalized(W):
    a, b = W[..., :-1, :], W[..., 1:, :]
    return 2 * torch.atan2((a - b).norm(dim=-1), (a + b).norm(dim=-1))


def _wrong_dim(W):
    Wn = W / W.norm(dim=-2, keepdim=True)
    a, b = Wn[..., :-1, :], Wn[..., 1:, :]
    return 2 * torch.atan2((a - b).norm(dim=-1), (a + b).norm(dim=-1))


def _flat(W):
    return good(W).reshape(-1)


def _list(W):
    return good(W).tolist()


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (_step_length, "step length"),
        (_degrees, "degrees"),
        (_cosine, "cosine"),
        (_from_first, "from the first iterate"),
        (_asin, "obtuse"),
        (_flat, "shape"),
        (_list, "torch tensor"),
        (_in_place, "changed its input W in place"),
        (_pairs_runs, "paired the runs"),
        (_squeezed, "single step"),
        (_not_normalized, "normalize"),
        (_wrong_dim, "wrong dimension"),
    ],
)
def test_typical_mistakes_have_their_own_message(fn, message):
    with pytest.raises(CheckFailed, match=message):
        check.consecutive_angles(fn)
    verdict = check.consecutive_angles(fn, quiet=True)
    assert not verdict and message in verdict.message


def test_unfinished_stub_reads_as_unfinished():
    def stub(W):
        raise NotImplementedError("write my_angles")

    with pytest.raises(NotImplementedError):
        check.consecutive_angles(stub)


def test_a_wrapper_around_the_library_angle_is_refused():
    """weightreg.normalization.angle answers the exercise: calling it is not the exercise."""
    from weightreg.normalization import angle

    def wrapper(W):
        return angle(W[..., :-1, :], W[..., 1:, :])

    with pytest.raises(CheckFailed, match="angle"):
        check.consecutive_angles(wrapper)

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


def test_accepts_reference_float32_and_acos(capsys):
    check.consecutive_angles(good)
    check.consecutive_angles(good_float32)
    check.consecutive_angles(acos_float32)
    assert "Well done: consecutive_angles passed all 3 checks." in capsys.readouterr().out


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
    ],
)
def test_typical_mistakes_have_their_own_message(fn, message):
    with pytest.raises(CheckFailed, match=message):
        check.consecutive_angles(fn)


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

"""The noise chapter's self-check accepts the solution and names typical mistakes."""

from __future__ import annotations

import re

import pytest
import torch

from weightreg import check


def reference(images, dx, dy):
    out = torch.zeros_like(images)
    h, w = images.shape[-2:]
    src = images[..., max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    out[..., max(0, dy) : h - max(0, -dy), max(0, dx) : w - max(0, -dx)] = src
    return out


def test_reference_solution_passes(capsys):
    check.shift_images(reference)
    assert "passed all" in capsys.readouterr().out


def test_float32_answer_passes(capsys):
    check.shift_images(lambda images, dx, dy: reference(images.float(), dx, dy))
    assert "passed all" in capsys.readouterr().out


def test_pad_and_crop_answer_passes(capsys):
    """An independent correct answer (pad with zeros, then crop) passes too."""

    def padded(images, dx, dy):
        h, w = images.shape[-2:]
        p = max(abs(dx), abs(dy), 1)
        big = torch.nn.functional.pad(images, (p, p, p, p))
        return big[..., p - dy : p - dy + h, p - dx : p - dx + w]

    check.shift_images(padded)
    assert "passed all" in capsys.readouterr().out


def _in_place(images, dx, dy):
    images[:] = reference(images, dx, dy)
    return images


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda im, dx, dy: torch.roll(im, shifts=(dy, dx), dims=(-2, -1)), "wrap-around"),
        (lambda im, dx, dy: reference(im, -dx, -dy), "moved the wrong way"),
        (lambda im, dx, dy: reference(im, dy, dx), "rows by dx"),
        (lambda im, dx, dy: reference(im, dx, dy)[..., 1:, :], "keeps the shape"),
        (lambda im, dx, dy: reference(im, dx, dy).numpy(), "return a torch tensor"),
        (_in_place, "changed the images"),
        (lambda im, dx, dy: reference(im, dx, 0), "not the shifted images"),
    ],
)
def test_typical_mistakes_get_specific_messages(wrong, message):
    with pytest.raises(check.CheckFailed, match=re.escape(message)):
        check.shift_images(wrong)


def test_unfinished_stub_reads_as_unfinished():
    def stub(images, dx, dy):
        raise NotImplementedError("Complete my_shift")

    with pytest.raises(NotImplementedError):
        check.shift_images(stub)


def test_crash_in_student_code_is_reported_kindly():
    with pytest.raises(check.CheckFailed, match="raised ZeroDivisionError"):
        check.shift_images(lambda images, dx, dy: 1 / 0)


def test_non_callable_is_a_type_error():
    with pytest.raises(TypeError, match="pass your function itself"):
        check.shift_images(torch.ones(3))

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


def _edge(images, dx, dy):
    h, w = images.shape[-2:]
    rows = (torch.arange(h) - dy).clamp(0, h - 1)
    cols = (torch.arange(w) - dx).clamp(0, w - 1)
    return images[..., rows, :][..., cols]


def _grid_sample(images, dx, dy):
    n, h, w = images.shape
    theta = torch.tensor(
        [[1.0, 0.0, -2.0 * dx / (w - 1)], [0.0, 1.0, -2.0 * dy / (h - 1)]], dtype=images.dtype
    ).expand(n, 2, 3)
    grid = torch.nn.functional.affine_grid(theta, (n, 1, h, w), align_corners=True)
    return torch.nn.functional.grid_sample(images[:, None], grid, align_corners=True)[:, 0]


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
        (_in_place, "changed its input images in place"),
        (lambda im, dx, dy: reference(im, dx, dy) + (dx == 2) * 1e-3, "not the shifted images"),
        # new in issue 14: each used to pass or get the generic message
        (lambda im, dx, dy: reference(im, dx, 0), "the shift by dy is missing"),
        (lambda im, dx, dy: reference(im, 0, dy), "the shift by dx is missing"),
        (_edge, "repeat the edge"),
        (lambda im, dx, dy: im if dx == dy == 0 else reference(im, dx, dy), "input images itself"),
        (_grid_sample, "grid_sample"),
    ],
)
def test_typical_mistakes_get_specific_messages(wrong, message):
    with pytest.raises(check.CheckFailed, match=re.escape(message)):
        check.shift_images(wrong)
    assert not check.shift_images(wrong, quiet=True)


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

"""Self-checks for the exercises of ``book/implicit/noise.md`` (*Noise and augmentation*).

A shift copies pixels, so the check compares exactly (up to the rounding of the result's
dtype, under the dtype policy of ``weightreg.check._core.agrees``): float64 images, the
chapter's dtype, and float32 images are both tried.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._core import CheckFailed, agrees, as_tensor, call_untouched, fail, passed, selfcheck
from ._core import uses_library as _uses_library

__all__ = ["shift_images"]


def _shift(images: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """The reference: content moved ``dx`` columns right and ``dy`` rows down, zeros enter."""
    out = torch.zeros_like(images)
    h, w = images.shape[-2:]
    rows_to, rows_from = slice(max(dy, 0), h + min(dy, 0)), slice(max(-dy, 0), h + min(-dy, 0))
    cols_to, cols_from = slice(max(dx, 0), w + min(dx, 0)), slice(max(-dx, 0), w + min(-dx, 0))
    out[..., rows_to, cols_to] = images[..., rows_from, cols_from]
    return out


@selfcheck
def shift_images(fn: Callable[[torch.Tensor, int, int], torch.Tensor]) -> None:
    """Check ``fn(images, dx, dy)``: a batch of images shifted by whole pixels, zeros entering.

    ``images`` has shape ``(N, H, W)``; the content moves ``dx`` columns to the right (left for
    ``dx < 0``) and ``dy`` rows down (up for ``dy < 0``); the pixels that enter are 0 and the
    pixels pushed over the edge are lost. The result is a new tensor of the same shape and
    dtype; ``images`` is left unchanged. Float32 images are accepted (compared to 1e-6).

    Diagnoses: a wrap-around (``torch.roll``), a shift in the wrong direction, ``dx`` and
    ``dy`` swapped (rows for columns), one of the two shifts missing, the edge repeated
    instead of zeros entering, a result of the wrong shape, a non-tensor result, an
    input modified in place, the input itself returned (at a shift of 0), ``grid_sample``
    (which the exercise rules out: it interpolates).
    """
    try:
        _uses_library(fn, F.grid_sample, F.affine_grid)
    except CheckFailed:
        fail(
            "your function uses grid_sample (or affine_grid), which the exercise rules out: it "
            "interpolates between pixels. Shift by whole pixels with indexing (slices) into a "
            "tensor of zeros."
        )
    gen = torch.Generator().manual_seed(3)
    base = torch.rand(3, 5, 6, generator=gen, dtype=torch.float64) + 0.5  # no zeros inside
    cases = [(1, 0), (-1, 0), (0, 1), (0, -1), (2, -1), (0, 0), (-3, 2)]
    n_cases = 0
    for dtype in (torch.float64, torch.float32):
        images = base.to(dtype)
        for dx, dy in cases:
            what = f"a {tuple(images.shape)} {dtype} batch with dx={dx}, dy={dy}"
            out = call_untouched(fn, images, dx, dy, what=what, names=("images",), fresh=True)
            n_cases += 1
            if not isinstance(out, torch.Tensor):
                fail(f"your function returned a {type(out).__name__}; return a torch tensor.")
            if tuple(out.shape) != tuple(images.shape):
                fail(
                    f"for {what} your result has shape {tuple(out.shape)}; a shift keeps the "
                    f"shape {tuple(images.shape)} (pixels pushed over the edge are dropped)."
                )
            out = as_tensor(out, what=what)
            got = out.detach().to(torch.float64)
            expected = _shift(images.to(torch.float64), dx, dy)
            if agrees(out, expected, dtype=dtype, what=what, scale=1.5):
                continue
            images64 = images.to(torch.float64)
            rolled = torch.roll(images64, shifts=(dy, dx), dims=(-2, -1))
            if torch.allclose(got, rolled, rtol=1e-6, atol=1e-6):
                fail(
                    f"for {what} the pixels pushed over one edge come back at the other "
                    "(a wrap-around, as torch.roll does); the entering pixels must be 0."
                )
            if torch.allclose(got, _shift(images64, -dx, -dy), rtol=1e-6, atol=1e-6):
                fail(
                    f"for {what} the content moved the wrong way: dx > 0 moves it to the "
                    "right (towards larger column indices), dy > 0 moves it down."
                )
            if torch.allclose(got, _shift(images64, dy, dx), rtol=1e-6, atol=1e-6):
                fail(
                    f"for {what} you shifted the rows by dx and the columns by dy: dx counts "
                    "columns (the last axis), dy rows (the second to last)."
                )
            if dy != 0 and torch.allclose(got, _shift(images64, dx, 0), rtol=1e-6, atol=1e-6):
                fail(f"for {what} the rows did not move: the shift by dy is missing.")
            if dx != 0 and torch.allclose(got, _shift(images64, 0, dy), rtol=1e-6, atol=1e-6):
                fail(f"for {what} the columns did not move: the shift by dx is missing.")
            h, w = images.shape[-2:]
            rows = (torch.arange(h) - dy).clamp(0, h - 1)
            cols = (torch.arange(w) - dx).clamp(0, w - 1)
            edge = images64[..., rows, :][..., cols]
            if torch.allclose(got, edge, rtol=1e-6, atol=1e-6):
                fail(
                    f"for {what} the entering pixels repeat the edge of the image; they must be 0."
                )
            fail(
                f"for {what} the result is not the shifted images: every pixel should be "
                "the pixel dx columns to the left and dy rows up of it, or 0 where that "
                "lies outside the image."
            )
    passed("shift_images", n_cases)

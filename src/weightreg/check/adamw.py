"""Self-checks for the new exercises of the AdamW pages.

* :func:`best_decay_per_lr`: the best weight decay of every learning rate of a sweep grid
  (*The paper's Figure 2, replicated*, ``book/decay/adamw_figure2.md``).

(The AdamW step of ``book/decay/adamw.md`` is checked by
:func:`weightreg.check.optim.adamw_step`.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ._core import call_student, fail, passed, selfcheck

__all__ = ["best_decay_per_lr"]


def _as_numpy(value: object) -> np.ndarray | None:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray | list | tuple):
        try:
            return np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return None
    return None


def _reference(mean_error: np.ndarray, weight_decays: np.ndarray) -> np.ndarray:
    out = np.full(mean_error.shape[0], np.nan)
    for i, row in enumerate(mean_error):
        if np.isfinite(row).any():
            out[i] = weight_decays[int(np.nanargmin(row))]
    return out


def _cases() -> list[tuple[np.ndarray, np.ndarray, str]]:
    """``(mean_error, weight_decays, description)``: a non-square grid with a valley whose
    best decay moves with the row, NaN (diverged) cells in some rows, a fully diverged row,
    float32 inputs and a grid whose decays are not sorted."""
    rng = np.random.default_rng(11)
    wds = np.logspace(-4, 0, 7)
    lrs = np.logspace(-3, 0, 5)
    L, W = np.meshgrid(np.log10(lrs), np.log10(wds), indexing="ij")
    err = 0.06 + 0.01 * (W - (-3.0 + 0.5 * (L + 3.0))) ** 2 + 0.002 * rng.random(L.shape)
    with_nan = err.copy()
    with_nan[3, :2] = np.nan  # the smallest decays diverged at a large learning rate
    with_nan[4, :] = np.nan  # the largest learning rate diverged everywhere
    with_nan[1, 0] = np.nan
    order = rng.permutation(len(wds))
    return [
        (err, wds, "a 5 x 7 grid without diverged cells"),
        (with_nan, wds, "a 5 x 7 grid with diverged (NaN) cells and a fully diverged row"),
        (with_nan.astype(np.float32), wds.astype(np.float32), "the same grid in float32"),
        (err[:, order], wds[order], "a grid whose weight decays are not sorted"),
    ]


def _unchanged(given: np.ndarray, original: np.ndarray) -> bool:
    return given.shape == original.shape and bool(np.array_equal(given, original, equal_nan=True))


@selfcheck
def best_decay_per_lr(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    """Check ``fn(mean_error, weight_decays) -> best_decays``.

    ``mean_error`` has shape ``(n_lr, n_wd)`` (one row per learning rate, NaN where the
    training diverged), ``weight_decays`` shape ``(n_wd,)``; the answer has shape ``(n_lr,)``:
    the weight decay of the lowest finite error of each row, NaN for a row where every cell
    diverged.  Accepts NumPy arrays or tensors, in float32 or float64.

    Diagnoses: the minimum taken along the wrong axis (one value per weight decay), the
    index returned instead of the weight decay, the largest error instead of the smallest,
    NaN cells not skipped (``argmin`` stops at the first NaN), a fully diverged row not
    reported as NaN, decays assumed sorted, the lowest error returned instead of its weight
    decay, the caller's grid or decays changed in place (e.g. NaN overwritten by inf).
    """
    for mean_error, wds, what in _cases():
        expected = _reference(mean_error.astype(np.float64), wds.astype(np.float64))
        given_error, given_wds = mean_error.copy(), wds.copy()
        raw = call_student(fn, given_error, given_wds, what=what)
        for name, given, original in (
            ("mean_error", given_error, mean_error),
            ("weight_decays", given_wds, wds),
        ):
            if not _unchanged(given, original):
                fail(
                    f"on {what} your function changed its input {name} in place (e.g. "
                    f"{name}[...] = ...): the caller's array must stay as it was. Work on a "
                    f"copy ({name}.copy(), np.where(...)) instead."
                )
        got = _as_numpy(raw)
        if got is None:
            fail(f"return a NumPy array (or tensor) of weight decays; got {type(raw).__name__}.")
        got = got.astype(np.float64).reshape(-1) if got.ndim <= 1 else got
        n_lr, n_wd = mean_error.shape
        if got.shape != (n_lr,):
            if got.shape == (n_wd,):
                fail(
                    f"on {what} your answer has one value per weight decay ({n_wd}); it needs "
                    f"one per learning rate ({n_lr}): rows are learning rates."
                )
            fail(f"on {what} your answer has shape {got.shape}; it needs ({n_lr},).")
        missing = np.isnan(expected)
        naive = wds.astype(np.float64)[np.argmin(mean_error, axis=1)]
        if np.isnan(mean_error).any() and np.allclose(got, naive, rtol=1e-5, equal_nan=True):
            fail(
                f"on {what} a diverged (NaN) cell decided a row's answer: argmin stops at the "
                "first NaN. Skip the NaN cells of a row."
            )
        if not np.array_equal(np.isnan(got), missing):
            if np.isnan(got[~missing]).any():
                fail(
                    f"on {what} you return NaN for a learning rate where some runs trained: "
                    "skip the diverged (NaN) cells of a row, do not let them win or spread."
                )
            fail(
                f"on {what} a learning rate where every run diverged needs NaN as its best "
                "decay (there is no best decay there)."
            )
        ok = ~missing
        if np.allclose(got[ok], expected[ok], rtol=1e-5, atol=0):
            continue
        index = np.array([np.nanargmin(r) for r in mean_error[ok].astype(np.float64)])
        worst = np.array([wds[int(np.nanargmax(r))] for r in mean_error[ok].astype(np.float64)])
        if np.allclose(got[ok], index):
            fail(f"on {what} you return the column index; return the weight decay itself.")
        zeroed = np.nan_to_num(mean_error.astype(np.float64), nan=0.0)[ok]
        if np.allclose(got[ok], wds.astype(np.float64)[zeroed.argmin(axis=1)], rtol=1e-5):
            fail(
                f"on {what} a diverged (NaN) cell counted as an error of 0 (e.g. nan_to_num) "
                "and won its row: a diverged run is the worst, not the best. Skip the NaN cells."
            )
        lowest = np.array([np.nanmin(r) for r in mean_error[ok].astype(np.float64)])
        if np.allclose(got[ok], lowest, rtol=1e-5):
            fail(
                f"on {what} you return the lowest error itself; return the weight decay at "
                "which it occurs."
            )
        if np.allclose(got[ok], worst.astype(np.float64), rtol=1e-5):
            fail(f"on {what} you picked the largest error of each row; the best is the lowest.")
        if np.allclose(got[ok], np.sort(wds)[index].astype(np.float64), rtol=1e-5):
            fail(f"on {what} your decays do not match: do not assume the decays are sorted.")
        fail(
            f"on {what} some best decays are wrong (first at learning-rate row "
            f"{int(np.flatnonzero(~np.isclose(got[ok], expected[ok], rtol=1e-5))[0])} of the "
            "rows that trained): take the decay of the lowest finite error of each row."
        )
    passed("best_decay_per_lr", len(_cases()))

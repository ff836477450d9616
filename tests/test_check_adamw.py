"""The AdamW pages' self-checks accept the solutions and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from weightreg import check
from weightreg.check import CheckFailed

# ---------------------------------------------------------------------- best_decay_per_lr


def best_decay_solution(mean_error, weight_decays):
    filled = np.where(np.isnan(mean_error), np.inf, mean_error)
    best = weight_decays[filled.argmin(axis=1)]
    return np.where(np.isfinite(filled.min(axis=1)), best, np.nan)


def best_decay_loop(mean_error, weight_decays):
    """An independent correct answer: a loop with nanargmin, as a tensor."""
    out = []
    for row in mean_error:
        out.append(np.nan if np.isnan(row).all() else float(weight_decays[np.nanargmin(row)]))
    return torch.tensor(out, dtype=torch.float32)


@pytest.mark.parametrize("solution", [best_decay_solution, best_decay_loop])
def test_best_decay_reference_solutions_pass(solution, capsys):
    check.best_decay_per_lr(solution)
    assert "best_decay_per_lr passed all 4 checks" in capsys.readouterr().out


def _wrong_axis(e, w):
    return w[np.nanargmin(np.where(np.isnan(e), np.inf, e), axis=0) % len(w)][: e.shape[1]]


def _index(e, w):
    filled = np.where(np.isnan(e), np.inf, e)
    return np.where(np.isfinite(filled.min(axis=1)), filled.argmin(axis=1), np.nan)


def _worst(e, w):
    filled = np.where(np.isnan(e), -np.inf, e)
    return np.where(np.isfinite(filled.max(axis=1)), w[filled.argmax(axis=1)], np.nan)


def _nan_not_skipped(e, w):
    return w[np.argmin(e, axis=1)]


def _all_nan_row_kept(e, w):
    return w[np.argmin(np.where(np.isnan(e), np.inf, e), axis=1)]


def _overwrites_nan(e, w):
    e[np.isnan(e)] = np.inf
    best = np.asarray(w)[e.argmin(axis=1)]
    return np.where(np.isfinite(e.min(axis=1)), best, np.nan)


def _lowest_error(e, w):
    return np.nanmin(np.where(np.isnan(e), np.inf, e), axis=1)


def _nan_as_zero(e, w):
    best = w[np.nan_to_num(e, nan=0.0).argmin(axis=1)]
    return np.where(np.isnan(e).all(axis=1), np.nan, best)


def _assumes_sorted(e, w):
    return np.sort(w)[np.argmin(np.where(np.isnan(e), np.inf, e), axis=1)] * np.where(
        np.isnan(e).all(axis=1), np.nan, 1.0
    )


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_wrong_axis, "one value per weight decay"),
        (_index, "column index"),
        (_worst, "largest error"),
        (_nan_not_skipped, "argmin stops at the first NaN"),
        (_all_nan_row_kept, "every run diverged needs NaN"),
        (_assumes_sorted, "do not assume the decays are sorted"),
        # new in issue 14: each used to pass or get the generic message
        (_overwrites_nan, "changed its input mean_error in place"),
        (_lowest_error, "the lowest error itself"),
        (_nan_as_zero, "counted as an error of 0"),
    ],
)
def test_best_decay_wrong_answers_fail(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.best_decay_per_lr(wrong)
    assert not check.best_decay_per_lr(wrong, quiet=True)

"""The one divergence policy (weightreg.divergence): blow-up limit, mask, end-of-run report."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from weightreg.divergence import (
    BLOWUP_FACTOR,
    DivergenceWarning,
    TrainingDiverged,
    blowup_limit,
    diverged_rows,
    diverged_rows_kernel,
    report,
)


def test_blowup_limit_is_factor_times_start_at_least_one():
    start = torch.tensor([0.0, 0.5, 1.0, 3.0, 1e305], dtype=torch.float64)
    limit = blowup_limit(start)
    expected = BLOWUP_FACTOR * torch.tensor([1.0, 1.0, 1.0, 3.0], dtype=torch.float64)
    assert torch.equal(limit[:4], expected[:4])
    # 1e311 would overflow float64: the limit stays finite (only inf/NaN can exceed it)
    assert limit[4] == torch.finfo(torch.float64).max and torch.isfinite(limit).all()


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_start_that_is_not_finite_blames_the_data_not_the_learning_rate(bad):
    with pytest.raises(ValueError, match=r"initial .* must be finite.*data.*not from the learning"):
        blowup_limit(torch.tensor([1.0, bad]))


def test_diverged_rows_flags_nonfinite_and_blown_up_values():
    limit = blowup_limit(torch.tensor([1.0, 1.0, 2.0, 2.0, 2.0]))
    value = torch.tensor([float("nan"), float("inf"), 2.1e6, 1.9e6, -float("inf")])
    expected = torch.tensor([True, True, True, False, True])
    assert torch.equal(diverged_rows(value, limit), expected)
    assert torch.equal(diverged_rows_kernel(value, limit), expected)


@pytest.mark.parametrize(
    ("value", "limit", "exc", "words"),
    [
        (torch.ones(3), torch.ones(2), ValueError, "value and limit must have the same shape"),
        (torch.ones(2), torch.tensor([1.0, float("nan")]), ValueError, "limit must be finite"),
        (torch.ones(2, dtype=torch.int64), torch.ones(2), TypeError, "value must have a real"),
        ([1.0, 2.0], torch.ones(2), TypeError, "value must be a torch.Tensor"),
    ],
)
def test_diverged_rows_refuses_bad_input(value, limit, exc, words):
    with pytest.raises(exc, match=words):
        diverged_rows(value, limit)


def test_report_is_silent_when_none_diverged():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report(torch.tensor([False, False, False]))
        report(np.zeros(4, dtype=bool), labels=list("abcd"))


def test_report_warns_naming_the_diverged_indices_labels_and_advice():
    with pytest.warns(DivergenceWarning) as record:
        report(
            torch.tensor([False, True, False, True]),
            labels=["lr=0.1", "lr=10", "lr=0.2", "lr=30"],
            what="rows",
        )
    message = str(record[0].message)
    assert message.startswith("2 of 4 rows diverged")
    assert "1 (lr=10), 3 (lr=30)" in message and "lower the learning rate" in message
    assert "0 (lr=0.1)" not in message and "reported as NaN" in message


def test_report_raises_when_all_diverged_with_the_indices():
    with pytest.raises(
        TrainingDiverged, match=r"every one of the 2 configurations.*0, 1.*smaller"
    ) as e:
        report(torch.tensor([True, True]), advice="try a smaller step")
    assert e.value.indices == [0, 1]


def test_report_shows_eight_indices_then_counts_the_rest():
    mask = torch.ones(20, dtype=torch.bool)
    mask[0] = False
    with pytest.warns(DivergenceWarning, match=r"1, 2, 3, 4, 5, 6, 7, 8 and 11 more"):
        report(mask)


@pytest.mark.parametrize(
    ("kwargs", "exc", "words"),
    [
        ({"diverged": torch.tensor([0.0, 1.0])}, TypeError, "diverged must be a boolean mask"),
        ({"diverged": [0.5, 0.0]}, TypeError, "diverged must be a boolean"),
        ({"diverged": torch.zeros(0, dtype=torch.bool)}, ValueError, "diverged must not be empty"),
        ({"labels": ["only one"]}, ValueError, "labels must hold one str per configuration"),
        ({"labels": "ab"}, TypeError, "labels must be None or a list of str"),
        ({"advice": None}, TypeError, "advice must be a non-empty str"),
        ({"what": 3}, TypeError, "what must be a non-empty str"),
    ],
)
def test_report_refuses_bad_input_even_when_nothing_diverged(kwargs, exc, words):
    kwargs = {"diverged": torch.tensor([False, False]), **kwargs}
    with pytest.raises(exc, match=words):
        report(**kwargs)

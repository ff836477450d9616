"""seed_everything makes runs repeatable; validation messages name the argument and range."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from weightreg import validation as v
from weightreg.seeding import seed_everything


def test_seed_everything_repeats_all_streams_and_matches_a_generator():
    gen = seed_everything(11)
    a = (random.random(), np.random.rand(), torch.randn(3))  # noqa: NPY002
    assert torch.equal(
        torch.randn(4, generator=gen), torch.randn(4, generator=torch.Generator().manual_seed(11))
    )
    seed_everything(11)
    b = (random.random(), np.random.rand(), torch.randn(3))  # noqa: NPY002
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])
    assert torch.equal(
        torch.randn(5, generator=seed_everything(2)), (seed_everything(2), torch.randn(5))[1]
    )


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises((TypeError, ValueError), match="seed"):
        seed_everything(bad)


@given(st.floats(min_value=1e-300, max_value=1e300))
def test_positive_accepts_positive_floats(x):
    assert v.check_positive("lr", x) == x


@pytest.mark.parametrize(
    ("fn", "value", "exc", "words"),
    [
        (v.check_positive, 0.0, ValueError, "lr must be > 0, got 0.0"),
        (v.check_positive, float("inf"), ValueError, "lr must be finite"),
        (v.check_nonnegative, -1e-9, ValueError, "lr must be >= 0"),
        (v.check_nonnegative, "1", TypeError, "lr must be a real number, got str"),
        (v.check_nonnegative, True, TypeError, "lr must be a real number, got bool"),
        (v.check_probability, 1.0, ValueError, r"lr must lie in \[0, 1\)"),
        (v.check_positive_int, 0, ValueError, "lr must be >= 1"),
    ],
)
def test_scalar_checks_name_argument_and_range(fn, value, exc, words):
    with pytest.raises(exc, match=words):
        fn("lr", value)


def test_tensor_checks():
    assert v.check_nonnegative("alpha", torch.tensor(2.0)) == 2.0
    with pytest.raises(TypeError, match="w must be a torch.Tensor, got list"):
        v.check_finite_tensor("w", [1.0])
    with pytest.raises(TypeError, match="floating dtype"):
        v.check_finite_tensor("w", torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="w must not be empty"):
        v.check_finite_tensor("w", torch.ones(0))
    with pytest.raises(ValueError, match="w must contain only finite values"):
        v.check_finite_tensor("w", torch.tensor([1.0, float("nan")]))
    assert len(v.as_tensor_list("w", [torch.ones(2), torch.ones(3)])) == 2
    with pytest.raises(ValueError, match=r"w\[1\] must contain only finite"):
        v.as_tensor_list("w", [torch.ones(2), torch.tensor([float("inf")])])
    with pytest.raises(TypeError, match="non-empty list"):
        v.as_tensor_list("w", [])
    with pytest.raises(
        ValueError, match=r"a and b must have the same shape, got \(2,\) and \(3,\)"
    ):
        v.check_same_shape("a", torch.ones(2), "b", torch.ones(3))

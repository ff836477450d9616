"""weightreg.claims: the asserts behind "best inside its grid" and "A beats B"."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from weightreg.claims import MIN_DRAWS, ClaimFailed, best_inside_grid, difference_exceeds_spread


def test_best_inside_grid_returns_the_interior_optimum():
    values = np.array([[3.0, 2.0, 3.0], [2.0, 1.0, 2.0], [3.0, 2.0, 3.0]])
    assert best_inside_grid(values) == (1, 1)
    assert best_inside_grid(-values, minimize=False) == (1, 1)
    assert best_inside_grid(torch.tensor(values)) == (1, 1)


@pytest.mark.parametrize("where", [(0, 1), (2, 1), (1, 0), (1, 2), (0, 0)])
def test_best_on_an_edge_fails_naming_the_axis(where):
    values = np.ones((3, 3))
    values[where] = 0.0
    with pytest.raises(ClaimFailed, match="edge of the grid along .*lr|edge of the grid along"):
        best_inside_grid(values, axes_names=["lr", "decay"])
    name = "lr" if where[0] in (0, 2) else "decay"
    with pytest.raises(ClaimFailed, match=name):
        best_inside_grid(values, axes_names=["lr", "decay"])


@given(st.integers(3, 7), st.integers(3, 7), st.data())
def test_inside_exactly_when_no_index_is_first_or_last(n, m, data):
    i, j = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, m - 1))
    values = np.ones((n, m))
    values[i, j] = 0.0
    inside = 0 < i < n - 1 and 0 < j < m - 1
    if inside:
        assert best_inside_grid(values) == (i, j)
    else:
        with pytest.raises(ClaimFailed):
            best_inside_grid(values)


def test_a_grid_needs_three_values_per_axis_and_finite_cells():
    with pytest.raises(ValueError, match="at least 3 entries"):
        best_inside_grid(np.ones((2, 5)))
    with pytest.raises(ValueError, match="values must be finite"):
        best_inside_grid(np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="axes_names"):
        best_inside_grid(np.ones((3, 3)), axes_names=["lr"])
    with pytest.raises(TypeError, match="minimize"):
        best_inside_grid(np.ones(3), minimize="False")


def test_difference_exceeds_spread_returns_the_difference():
    a = np.array([1.0, 1.1, 0.9, 1.05, 0.95])
    b = a + 1.0
    assert difference_exceeds_spread(b, a) == pytest.approx(1.0)


def test_no_measurable_difference_fails_with_the_numbers():
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 1.0, 8)
    b = a[::-1] + 0.1  # same spread, a shift far below it
    with pytest.raises(ClaimFailed, match="no measurable difference between L1 .* and L2"):
        difference_exceeds_spread(a, b, labels=("L1", "L2"))


def test_a_comparison_needs_enough_draws_and_1d_measurements():
    with pytest.raises(ValueError, match=f"at least {MIN_DRAWS} draws"):
        difference_exceeds_spread(np.ones(4), np.ones(5) + 1)
    with pytest.raises(ValueError, match="a must be 1-D"):
        difference_exceeds_spread(np.ones((5, 2)), np.ones(5))
    with pytest.raises(TypeError, match="labels"):
        difference_exceeds_spread(np.ones(5), np.zeros(5), labels="AB")
    with pytest.raises(TypeError, match="b must hold real floating numbers"):
        difference_exceeds_spread(np.ones(5), np.array([True] * 5))

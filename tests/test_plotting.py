"""The book's shared plots draw exactly the data they are given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from weightreg.plotting import COLORS, plot_curves, use_book_style, weight_histogram


def test_use_book_style_sets_the_colour_cycle():
    use_book_style()
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    assert cycle == COLORS


def test_plot_curves_draws_each_curve_against_epochs():
    fig, ax = plt.subplots()
    plot_curves({"train": [3.0, 2.0, 1.0], "test": [4.0, 3.5, 3.4]}, ax=ax, title="t")
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {"train", "test"}
    assert np.array_equal(lines["train"].get_xdata(), [1, 2, 3])
    assert np.array_equal(lines["test"].get_ydata(), [4.0, 3.5, 3.4])
    assert ax.get_yscale() == "log" and ax.get_title() == "t"
    plt.close(fig)


def test_weight_histogram_counts_every_weight_on_shared_bins():
    fig, ax = plt.subplots()
    a, b = torch.linspace(-1, 1, 101), np.array([0.0, 0.5, 0.5])
    weight_histogram({"a": a, "b": b}, ax=ax, bins=10)
    heights = [sum(p.get_height() for p in c.patches) for c in ax.containers]
    assert heights == [101, 3]
    widths = {round(p.get_width(), 12) for c in ax.containers for p in c.patches}
    assert widths == {0.2}  # one set of edges from the joint range [-1, 1]
    plt.close(fig)


def test_plot_curves_draws_nan_as_a_gap_and_linear_scale_allows_zero():
    fig, ax = plt.subplots()
    plot_curves({"diverged": [1.0, float("nan"), 2.0], "zero": [0.0, 1.0, 2.0]}, ax=ax, logy=False)
    assert ax.get_yscale() == "linear" and np.isnan(ax.get_lines()[0].get_ydata()[1])
    plt.close(fig)


@pytest.mark.parametrize(
    ("kwargs", "exc", "words"),
    [
        ({"curves": [1.0, 2.0]}, TypeError, "curves must be a dict"),
        ({"curves": {}}, ValueError, "curves must not be empty"),
        ({"curves": {"a": []}}, ValueError, r"curves\['a'\] must not be empty"),
        ({"curves": {"a": "abc"}}, TypeError, r"curves\['a'\] must be a sequence of real"),
        ({"curves": {"a": [1.0, 1j]}}, TypeError, r"curves\['a'\] must hold real numbers"),
        ({"curves": {"a": [[1.0, 2.0]]}}, ValueError, r"curves\['a'\] must be 1-D"),
        ({"curves": {"a": [1.0, float("inf")]}}, ValueError, r"curves\['a'\] must hold finite"),
        ({"curves": {"a": [1.0, 0.0]}}, ValueError, "log scale.*logy=False"),
        ({"logy": "False"}, TypeError, "logy must be True or False"),
        ({"ax": "ax"}, TypeError, "ax must be a matplotlib Axes or None"),
        ({"xlabel": None}, TypeError, "xlabel must be a str"),
        ({"title": 3}, TypeError, "title must be a str or None"),
    ],
)
def test_plot_curves_refuses_bad_input(kwargs, exc, words):
    kwargs = {"curves": {"train": [3.0, 2.0]}, **kwargs}
    with pytest.raises(exc, match=words):
        plot_curves(**kwargs)
    plt.close("all")


@pytest.mark.parametrize(
    ("kwargs", "exc", "words"),
    [
        ({"weights": [torch.ones(3)]}, TypeError, "weights must be a dict"),
        ({"weights": {"a": torch.tensor([float("nan")])}}, ValueError, "must hold finite"),
        ({"weights": {"a": torch.ones(0)}}, ValueError, r"weights\['a'\] must not be empty"),
        ({"weights": {"a": torch.ones(2, dtype=torch.complex64)}}, TypeError, "real numbers"),
        ({"bins": 0}, ValueError, "bins must be >= 1"),
        ({"bins": 2.5}, TypeError, "bins must be an int"),
        ({"ax": 1}, TypeError, "ax must be a matplotlib Axes"),
    ],
)
def test_weight_histogram_refuses_bad_input(kwargs, exc, words):
    kwargs = {"weights": {"a": torch.linspace(-1, 1, 5)}, **kwargs}
    with pytest.raises(exc, match=words):
        weight_histogram(**kwargs)
    plt.close("all")

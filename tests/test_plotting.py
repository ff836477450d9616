"""The book's shared plots draw exactly the data they are given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
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

"""weightreg.baseline against brute force: long gradient descent, NumPy and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from weightreg.baseline import (
    BaselineReferences,
    min_norm_interpolant,
    null_space_part,
    references,
)
from weightreg.data import Split, high_dim_regression

pytestmark = pytest.mark.usefixtures("float64_default")


def _small_split(seed: int = 0, n: int = 6, d: int = 15) -> Split:
    """A small under-determined problem (n < d), float64, so that long GD is cheap."""
    return high_dim_regression(num_inputs=d, n_train=n, n_test=40, seed=seed, dtype=torch.float64)


def _gd(X, y, w, b, *, steps, lr, lambd=0.0):
    """Plain full-batch gradient descent on mean (x.w + b - y)^2 / 2 + lambd/2 ||w||^2."""
    y = y.reshape(-1)
    for _ in range(steps):
        r = X @ w + b - y
        w = w - lr * (X.T @ r / len(y) + lambd * w)
        b = b - lr * r.mean()
    return w, b


def _lr(X):
    Xa = torch.cat([X, torch.ones(len(X), 1)], dim=1)
    return 1.0 / float(torch.linalg.matrix_norm(Xa, ord=2) ** 2 / len(X))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gd_from_zero_ends_at_the_min_norm_solution_of_w_and_b(seed):
    s = _small_split(seed)
    X, y = s.X_train, s.y_train
    w, b = _gd(X, y, torch.zeros(X.shape[1]), 0.0, steps=3000, lr=_lr(X))
    w_ref, b_ref = min_norm_interpolant(X, y, bias_in_norm=True)
    assert torch.allclose(w, w_ref, atol=1e-9) and abs(float(b) - b_ref) < 1e-9
    # and it is numpy's minimum-norm least-squares solution of [X 1]
    Xa = np.hstack([X.numpy(), np.ones((len(X), 1))])
    theta = np.linalg.lstsq(Xa, y.numpy().ravel(), rcond=None)[0]
    assert np.allclose(theta[:-1], w_ref.numpy(), atol=1e-10) and abs(theta[-1] - b_ref) < 1e-10


@pytest.mark.parametrize("seed", [0, 3])
def test_gd_from_a_random_start_keeps_its_null_space_part(seed):
    s = _small_split(seed)
    X, y = s.X_train, s.y_train
    gen = torch.Generator().manual_seed(10 + seed)
    w0 = torch.randn(X.shape[1], generator=gen, dtype=torch.float64)
    b0 = 0.7
    w, b = _gd(X, y, w0, b0, steps=3000, lr=_lr(X))
    w_mn, b_mn = min_norm_interpolant(X, y, bias_in_norm=True)
    w_n, b_n = null_space_part(X, w0, b0)
    assert torch.allclose(w, w_mn + w_n, atol=1e-9) and abs(float(b) - (b_mn + b_n)) < 1e-9
    # the null-space part is invisible to the inputs with a column of ones
    assert torch.allclose(X @ w_n + b_n, torch.zeros(len(X)), atol=1e-12)
    # ... and orthogonal to the row space: projecting twice changes nothing
    w_nn, b_nn = null_space_part(X, w_n, b_n)
    assert torch.allclose(w_nn, w_n, atol=1e-12) and abs(b_nn - b_n) < 1e-12


def test_null_space_part_of_a_row_space_vector_is_zero():
    s = _small_split(1)
    X = s.X_train
    v = X.T @ torch.arange(1.0, len(X) + 1)  # in row(X), bias part 0 ...
    w_n, b_n = null_space_part(X, v, 0.0)
    # ... but (v, 0) is not in row([X 1]) unless the coefficients sum to zero; check the
    # definition by brute force: P_N = I - pinv(Xa) Xa from NumPy's SVD
    Xa = np.hstack([X.numpy(), np.ones((len(X), 1))])
    _, sv, vt = np.linalg.svd(Xa)
    rank = int((sv > 1e-10 * sv[0]).sum())
    null_basis = vt[rank:].T
    theta = np.concatenate([v.numpy(), [0.0]])
    expected = null_basis @ (null_basis.T @ theta)
    assert np.allclose(np.concatenate([w_n.numpy(), [b_n]]), expected, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 2])
def test_free_bias_min_norm_is_the_limit_of_ridge(seed):
    s = _small_split(seed)
    X, y = s.X_train, s.y_train
    w, b = min_norm_interpolant(X, y, bias_in_norm=False)
    # scikit-learn's Ridge penalizes ||w||^2 only (free intercept); tiny alpha -> the limit
    r = Ridge(alpha=1e-9, fit_intercept=True, solver="svd").fit(X.numpy(), y.numpy().ravel())
    assert np.allclose(r.coef_, w.numpy(), atol=1e-6) and abs(r.intercept_ - b) < 1e-6
    # and the book's exact ridge solver, at a vanishing penalty (alpha = lambda d / 2)
    from weightreg.linear import ridge_path

    f = ridge_path(X, y, torch.tensor([1e-10]))
    assert torch.allclose(f.W[0], w, atol=1e-6) and abs(float(f.b[0]) - b) < 1e-6
    # it interpolates and has no larger weight norm than the (w, b) minimum-norm solution
    assert torch.allclose(X @ w + b, y.reshape(-1), atol=1e-10)
    w_wb, _ = min_norm_interpolant(X, y, bias_in_norm=True)
    assert float(w.norm()) <= float(w_wb.norm()) + 1e-12


def test_overdetermined_problem_gives_least_squares_for_both_norms():
    s = high_dim_regression(num_inputs=5, n_train=40, n_test=10, seed=4, dtype=torch.float64)
    X, y = s.X_train, s.y_train
    Xa = np.hstack([X.numpy(), np.ones((len(X), 1))])
    theta = np.linalg.lstsq(Xa, y.numpy().ravel(), rcond=None)[0]
    for bias_in_norm in (True, False):
        w, b = min_norm_interpolant(X, y, bias_in_norm=bias_in_norm)
        assert np.allclose(np.append(w.numpy(), b), theta, atol=1e-10)
    w_n, b_n = null_space_part(X, torch.randn(5, dtype=torch.float64), 1.0)
    assert float(w_n.abs().max()) < 1e-12 and abs(b_n) < 1e-12


def test_references_match_independent_computations():
    s = _small_split(5)
    gen = torch.Generator().manual_seed(3)
    w0 = torch.randn(s.X_train.shape[1], generator=gen, dtype=torch.float64)
    ref = references(s, w0)
    assert isinstance(ref, BaselineReferences)
    Xt, yt = s.X_test.numpy(), s.y_test.numpy().ravel()
    null = float(np.mean((s.y_train.numpy().mean() - yt) ** 2) / 2)
    assert ref.null == pytest.approx(null, rel=1e-12)
    r = Ridge(alpha=1e-10, solver="svd").fit(s.X_train.numpy(), s.y_train.numpy().ravel())
    assert ref.min_norm == pytest.approx(np.mean((r.predict(Xt) - yt) ** 2) / 2, rel=1e-5)
    X, y = s.X_train, s.y_train
    w, b = _gd(X, y, torch.zeros(X.shape[1]), 0.0, steps=3000, lr=_lr(X))
    assert ref.gd_from_zero == pytest.approx(
        float(((s.X_test @ w + b - s.y_test.reshape(-1)) ** 2).mean() / 2), rel=1e-8
    )
    w, b = _gd(X, y, w0, 0.0, steps=3000, lr=_lr(X))
    assert ref.from_start == pytest.approx(
        float(((s.X_test @ w + b - s.y_test.reshape(-1)) ** 2).mean() / 2), rel=1e-8
    )
    assert ref.null_part_norm == pytest.approx(float(null_space_part(X, w0)[0].norm()), rel=1e-12)
    plain = references(s)
    assert plain.from_start is None and plain.null_part_norm is None
    assert (plain.null, plain.min_norm, plain.gd_from_zero) == (
        ref.null,
        ref.min_norm,
        ref.gd_from_zero,
    )


def test_the_chapter_numbers_on_the_baseline():
    """d = 200, n = 20, seed 0: the start's null-space part has d - n = 180 dimensions' worth."""
    s = high_dim_regression(seed=0, dtype=torch.float64)
    gen = torch.Generator().manual_seed(1)
    w0 = torch.normal(0.0, 1.0, (200,), generator=gen).double()
    ref = references(s, w0)
    # about (d + 1 - n)/(d + 1) of ||w0||^2 stays; the leftover dominates the test loss
    assert ref.null_part_norm**2 == pytest.approx(181 / 201 * float(w0 @ w0), rel=0.2)
    assert ref.from_start > 1000 * max(ref.null, ref.min_norm, ref.gd_from_zero)
    small = references(s, 0.01 * w0)
    assert small.null_part_norm == pytest.approx(0.01 * ref.null_part_norm, rel=1e-12)


def test_float32_data_work_in_float32():
    s = high_dim_regression(num_inputs=30, n_train=8, n_test=20, seed=0)  # float32
    w, b = min_norm_interpolant(s.X_train.float(), s.y_train.float())
    assert w.dtype == torch.float32
    assert torch.allclose(s.X_train.float() @ w + b, s.y_train.float().reshape(-1), atol=1e-4)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: min_norm_interpolant(torch.ones(3), torch.ones(3)), ValueError, "shape"),
        (
            lambda: min_norm_interpolant(torch.ones(3, 2), torch.ones(4)),
            ValueError,
            "y must have shape",
        ),
        (
            lambda: min_norm_interpolant(torch.ones(3, 2), torch.ones(3), bias_in_norm=1),
            TypeError,
            "bias_in_norm",
        ),
        (
            lambda: min_norm_interpolant(torch.ones(3, 2), torch.ones(3, dtype=torch.float32)),
            TypeError,
            "dtype",
        ),
        (lambda: null_space_part(torch.ones(3, 2), torch.ones(3)), ValueError, "w0"),
        (lambda: null_space_part(torch.ones(3, 2), torch.ones(2), b0="0"), TypeError, "b0"),
        (lambda: references("split"), TypeError, "split"),
    ],
)
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()

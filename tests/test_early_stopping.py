"""Tests of weightreg.early_stopping: the two spectral filters against running the algorithms."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge

from weightreg.data import high_dim_regression
from weightreg.early_stopping import gd_filter, ridge_filter
from weightreg.linear import fit, ridge_path


def _problem(n=15, d=40, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=gen, dtype=torch.float64) + 0.5
    y = torch.randn(n, generator=gen, dtype=torch.float64) + 1.0
    return X, y


def _eigen(X, y):
    n = X.shape[0]
    Xc, yc = X - X.mean(dim=0), y - y.mean()
    sigma2, Q = torch.linalg.eigh(Xc.T @ Xc / n)
    sigma2 = sigma2.clamp(min=0.0)  # round-off negatives of the zero eigenvalues
    return Xc, yc, sigma2, Q, torch.linalg.pinv(Xc) @ yc


@pytest.mark.parametrize("steps", [0, 1, 7, 60])
@pytest.mark.parametrize("shape", [(15, 40), (50, 8)])
def test_gd_filter_matches_gradient_descent_from_zero(steps, shape):
    X, y = _problem(*shape)
    Xc, yc, sigma2, Q, w_plus = _eigen(X, y)
    lr = 0.9 / float(sigma2.max())
    w_filter = Q @ (gd_filter(sigma2, lr, steps) * (Q.T @ w_plus))
    if steps == 0:
        assert float(w_filter.abs().max()) == 0.0
        return
    # the book's engine, from zero, on centred data (the bias then stays exactly 0)
    run = fit(Xc, yc.reshape(-1, 1), 2.0, 0.0, lr=lr, epochs=steps, init="zeros")
    assert float(run.b.abs().max()) < 1e-12
    torch.testing.assert_close(run.W[0], w_filter, rtol=1e-9, atol=1e-11)


def test_gd_filter_brute_force_recursion():
    sigma2 = torch.tensor(
        [0.0, 1e-9, 0.01, 0.3, 0.5, 0.99, 1.0, 1.3, 1.9, 2.5], dtype=torch.float64
    )
    lr = 1.0
    f = torch.zeros_like(sigma2)
    for t in range(1, 40):
        f = f + lr * sigma2 * (1 - f)  # one gradient step on each coordinate, w^+ = 1
        torch.testing.assert_close(gd_filter(sigma2, lr, t), f, rtol=1e-10, atol=1e-12)


def test_gd_filter_on_the_baseline_with_a_free_bias():
    """Raw (uncentred) data and a free bias: the filter of the augmented matrix [X 1]."""
    split = high_dim_regression(seed=3, dtype=torch.float64)
    X, y = split.X_train, split.y_train.flatten()
    n = X.shape[0]
    Xa = torch.cat([X, torch.ones(n, 1, dtype=X.dtype)], dim=1)
    s2, Q = torch.linalg.eigh(Xa.T @ Xa / n)
    s2 = s2.clamp(min=0.0)
    theta_plus = torch.linalg.pinv(Xa) @ y
    lr, steps = 0.5 / float(s2.max()), 200
    theta = Q @ (gd_filter(s2, lr, steps) * (Q.T @ theta_plus))
    run = fit(X, y.reshape(-1, 1), 2.0, 0.0, lr=lr, epochs=steps, init="zeros")
    torch.testing.assert_close(run.W[0], theta[:-1], rtol=1e-9, atol=1e-11)
    torch.testing.assert_close(run.b[0], theta[-1], rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("lambd", [1e-3, 0.1, 2.0, 50.0])
def test_ridge_filter_matches_ridge_path_and_sklearn(lambd):
    X, y = _problem()
    n, d = X.shape
    _, _, sigma2, Q, w_plus = _eigen(X, y)
    w_filter = Q @ (ridge_filter(sigma2, lambd) * (Q.T @ w_plus))
    exact = ridge_path(X, y.reshape(-1, 1), lambd * d / 2)  # ridge_path's alpha = lambda d / 2
    torch.testing.assert_close(exact.W[0], w_filter, rtol=1e-8, atol=1e-10)
    sk = Ridge(alpha=n * lambd, fit_intercept=True, solver="svd").fit(X.numpy(), y.numpy())
    torch.testing.assert_close(torch.from_numpy(sk.coef_), w_filter, rtol=1e-7, atol=1e-9)


def test_ridge_filter_alpha_zero_is_min_norm():
    sigma2 = torch.tensor([0.0, 0.5, 3.0], dtype=torch.float64)
    assert ridge_filter(sigma2, 0.0).tolist() == [0.0, 1.0, 1.0]
    assert ridge_filter(sigma2, 1.0).tolist() == [0.0, 0.5 / 1.5, 3.0 / 4.0]


def test_dtype_shape_and_float32_precision():
    s = torch.tensor([[1e-6, 0.2], [0.7, 1.0]], dtype=torch.float32)
    out = gd_filter(s, 1e-3, 5)
    assert out.dtype == torch.float32 and out.shape == (2, 2)
    # tiny eta sigma^2: the naive 1 - (1 - x)^t in float32 would round to 0
    assert float(out[0, 0]) == pytest.approx(5e-9, rel=1e-6)
    assert ridge_filter(s, 0.5).dtype == torch.float32
    assert gd_filter(torch.tensor(0.3, dtype=torch.float64), 1.0, 2).shape == ()


@settings(max_examples=200, deadline=None)
@given(
    x=st.floats(1e-6, 1.0),
    t=st.integers(0, 500),
)
def test_gd_filter_monotone_in_steps_and_bounded(x, t):
    s = torch.tensor([x], dtype=torch.float64)
    a, b = float(gd_filter(s, 1.0, t)), float(gd_filter(s, 1.0, t + 1))
    assert 0.0 <= a <= b <= 1.0
    assert a == pytest.approx(1 - (1 - x) ** t, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(x=st.floats(1e-8, 1e-3), t=st.integers(1, 10_000), s=st.floats(1e-3, 1e3))
def test_the_filters_match_at_lambda_one_over_eta_t(x, t, s):
    """Small eta sigma^2: the filters differ by about (1 - e^-u) - u/(1+u), u = eta t sigma^2."""
    eta = x / s
    sig = torch.tensor([s], dtype=torch.float64)
    gd = float(gd_filter(sig, eta, t))
    ridge = float(ridge_filter(sig, 1.0 / (eta * t)))
    u = eta * t * s
    assert gd - ridge == pytest.approx(-math.expm1(-u) - u / (1 + u), abs=2e-3)
    assert abs(gd - ridge) < 0.21  # max_u of (1 - e^-u) - u/(1+u) is 0.2036, at u = 2.51


@settings(max_examples=100, deadline=None)
@given(s=st.floats(1e-6, 1e6), lambd=st.floats(1e-6, 1e6))
def test_ridge_filter_properties(s, lambd):
    sig = torch.tensor([s], dtype=torch.float64)
    f = float(ridge_filter(sig, lambd))
    assert 0.0 < f < 1.0
    assert f == pytest.approx(s / (s + lambd), rel=1e-12)
    assert float(ridge_filter(sig, 2 * lambd)) <= f


def test_overshoot_and_divergence():
    s = torch.tensor([1.5], dtype=torch.float64)
    assert float(gd_filter(s, 1.0, 1)) == pytest.approx(1.5)  # above 1: no ridge factor does it
    assert float(gd_filter(s, 1.0, 2)) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="lr"):
        gd_filter(torch.tensor([3.0], dtype=torch.float64), 1.0, 10_000)


@pytest.mark.parametrize(
    ("call", "exc", "name"),
    [
        (lambda: gd_filter([0.1, 0.2], 0.1, 3), TypeError, "eigvals"),
        (lambda: gd_filter(torch.tensor([1, 2]), 0.1, 3), TypeError, "eigvals"),
        (lambda: gd_filter(torch.tensor([-0.1, 0.2]), 0.1, 3), ValueError, "eigvals"),
        (lambda: gd_filter(torch.tensor([math.nan]), 0.1, 3), ValueError, "eigvals"),
        (lambda: gd_filter(torch.tensor([0.1]), 0.0, 3), ValueError, "lr"),
        (lambda: gd_filter(torch.tensor([0.1]), 0.1, 2.0), TypeError, "steps"),
        (lambda: gd_filter(torch.tensor([0.1]), 0.1, -1), ValueError, "steps"),
        (lambda: ridge_filter(torch.tensor([0.1]), -1.0), ValueError, "alpha"),
        (lambda: ridge_filter(torch.tensor([0.1]), "1"), TypeError, "alpha"),
        (lambda: ridge_filter(None, 1.0), TypeError, "eigvals"),
    ],
)
def test_bad_input_names_the_argument(call, exc, name):
    with pytest.raises(exc, match=name):
        call()

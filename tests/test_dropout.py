"""Tests of weightreg.dropout against enumeration of every mask, Monte Carlo with
torch.nn.functional.dropout, autograd and scikit-learn's Ridge."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import Ridge

from weightreg.dropout import dropout_penalty

DT = torch.float64


def _data(n=4, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    scales = torch.logspace(-1, 1, d, dtype=DT)
    X = torch.randn(n, d, generator=g, dtype=DT) * scales
    return X, torch.randn(n, generator=g, dtype=DT), torch.randn(d, generator=g, dtype=DT)


def _loss(X, y, w):
    return ((y - X @ w) ** 2).sum() / (2 * len(y))


def _enumerated_increase(X, y, w, p):
    """E[dropout loss] - plain loss, summing over all 2^(n d) masks with their probabilities."""
    n, d = X.shape
    total = torch.zeros((), dtype=DT)
    for bits in itertools.product((0.0, 1.0), repeat=n * d):
        m = torch.tensor(bits, dtype=DT).reshape(n, d)
        kept = int(m.sum())
        prob = (1 - p) ** kept * p ** (n * d - kept)
        total = total + prob * _loss(m * X / (1 - p), y, w)
    return total - _loss(X, y, w)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_matches_enumeration_of_every_mask(p):
    X, y, w = _data(n=3, d=3)
    exact = _enumerated_increase(X, y, w, p)
    assert torch.allclose(dropout_penalty(X, w, p), exact, rtol=1e-12, atol=0)


def test_matches_enumeration_for_a_second_target():
    """The increase does not depend on y."""
    X, y, w = _data(n=2, d=4, seed=3)
    a = _enumerated_increase(X, y, w, 0.3)
    b = _enumerated_increase(X, -5 * y + 1, w, 0.3)
    assert torch.allclose(a, b, rtol=1e-12) and torch.allclose(dropout_penalty(X, w, 0.3), a)


def test_matches_monte_carlo_with_torch_dropout():
    X, y, w = _data(n=6, d=5, seed=1)
    p, draws = 0.4, 200_000
    torch.manual_seed(0)
    noisy = F.dropout(X.expand(draws, -1, -1), p=p, training=True)  # inverted dropout
    per_draw = ((y - noisy @ w) ** 2).sum(-1) / (2 * len(y)) - _loss(X, y, w)
    mean, se = per_draw.mean(), per_draw.std() / draws**0.5
    exact = dropout_penalty(X, w, p)
    assert abs(float(mean - exact)) < 4 * float(se)
    assert float(se) < 0.02 * float(exact)  # the test has power


def test_closed_form_and_l2_form():
    X, _, w = _data(n=7, d=4, seed=2)
    p = 0.25
    n = X.shape[0]
    direct = p / (1 - p) / (2 * n) * (w**2 * (X**2).sum(0)).sum()
    H = X.T @ X / n
    lam = p / (1 - p) * torch.diagonal(H)
    assert torch.allclose(dropout_penalty(X, w, p), direct, rtol=1e-14)
    assert torch.allclose(dropout_penalty(X, w, p), 0.5 * (lam * w**2).sum(), rtol=1e-14)


def test_gradient_by_autograd_and_minimizer_is_ridge_on_rescaled_inputs():
    """argmin L + Omega_p is scikit-learn's Ridge on X / rms(X) with alpha = n p / (1 - p)."""
    X, y, _ = _data(n=30, d=5, seed=4)
    p = 0.3
    n = X.shape[0]
    rms = X.pow(2).mean(0).sqrt()
    ridge = Ridge(alpha=n * p / (1 - p), fit_intercept=False, tol=1e-14, solver="cholesky")
    v = ridge.fit((X / rms).numpy(), y.numpy()).coef_
    w = (torch.tensor(v, dtype=DT) / rms).requires_grad_()
    (_loss(X, y, w) + dropout_penalty(X, w, p)).backward()
    assert float(w.grad.abs().max()) < 1e-10
    # and the penalty's own gradient is lambda_j w_j
    w2 = torch.randn(5, dtype=DT, requires_grad=True)
    dropout_penalty(X, w2, p).backward()
    lam = p / (1 - p) * X.pow(2).mean(0)
    assert torch.allclose(w2.grad, lam * w2.detach(), rtol=1e-13)


@settings(max_examples=60, deadline=None)
@given(
    X=arrays(np.float64, (5, 3), elements=st.floats(-10, 10)),
    w=arrays(np.float64, (3,), elements=st.floats(-10, 10)),
    p=st.floats(0.0, 0.95),
    c=st.floats(0.1, 10.0),
)
def test_properties(X, w, p, c):
    X, w = torch.tensor(X), torch.tensor(w)
    value = dropout_penalty(X, w, p)
    assert value >= 0
    if p == 0:
        assert value == 0
    # quadratic in w and in X; invariant under rescaling a column of X against its weight
    assert torch.allclose(dropout_penalty(X, c * w, p), c**2 * value, rtol=1e-10, atol=1e-300)
    assert torch.allclose(dropout_penalty(c * X, w, p), c**2 * value, rtol=1e-10, atol=1e-300)
    D = torch.tensor([c, 1.0, 1 / c], dtype=DT)
    assert torch.allclose(dropout_penalty(X * D, w / D, p), value, rtol=1e-10, atol=1e-300)
    # grows with p like p / (1 - p)
    if 0 < p < 0.9 and value > 0:
        q = p + 0.05
        ratio = dropout_penalty(X, w, q) / value
        assert torch.allclose(ratio, torch.tensor(q / (1 - q) / (p / (1 - p)), dtype=DT))


def test_dtypes_and_zero():
    X, _, w = _data()
    v64 = dropout_penalty(X, w, 0.5)
    v32 = dropout_penalty(X.float(), w.float(), 0.5)
    assert v32.dtype == torch.float32 and v64.dtype == DT
    assert torch.allclose(v32.double(), v64, rtol=1e-6)
    assert dropout_penalty(X.float(), w, 0.5).dtype == DT  # promoted
    assert dropout_penalty(X, torch.zeros(3, dtype=DT), 0.5) == 0
    assert dropout_penalty(torch.zeros(4, 3, dtype=DT), w, 0.5) == 0
    huge = torch.full((4, 3), 1e150, dtype=DT)  # squares overflow, the penalty does not
    small = torch.full((3,), 1e-150, dtype=DT)
    assert torch.allclose(dropout_penalty(huge, small, 0.5), torch.tensor(1.5, dtype=DT))


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((np.ones((2, 3)), torch.ones(3), 0.5), TypeError, "X"),
        ((torch.ones(2, 3), [1.0, 1.0, 1.0], 0.5), TypeError, "w"),
        ((torch.ones(2, 3, dtype=torch.int64), torch.ones(3), 0.5), TypeError, "X"),
        ((torch.ones(3), torch.ones(3), 0.5), ValueError, "X"),
        ((torch.ones(2, 3), torch.ones(2), 0.5), ValueError, "w"),
        ((torch.ones(2, 3), torch.ones(3, 1), 0.5), ValueError, "w"),
        ((torch.ones(2, 3), torch.ones(3), 1.0), ValueError, "p"),
        ((torch.ones(2, 3), torch.ones(3), -0.1), ValueError, "p"),
        ((torch.ones(2, 3), torch.ones(3), "0.5"), TypeError, "p"),
        ((torch.full((2, 3), float("nan")), torch.ones(3), 0.5), ValueError, "X"),
        ((torch.full((2, 3), 1e300, dtype=DT), torch.ones(3), 0.5), ValueError, "overflows"),
    ],
)
def test_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        dropout_penalty(*args)

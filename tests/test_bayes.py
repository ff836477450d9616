"""weightreg.bayes.ridge_log_evidence against scipy's Gaussian density, a Cholesky brute force,
Monte Carlo over the prior, scikit-learn's BayesianRidge (scores_ and its evidence maximum),
and its argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal
from sklearn.linear_model import BayesianRidge

from weightreg.bayes import ridge_log_evidence

F64 = torch.float64


def _data(n, d, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=gen, dtype=F64)
    w = torch.randn(d, generator=gen, dtype=F64)
    return X, X @ w + 0.3 * torch.randn(n, generator=gen, dtype=F64)


def _cholesky(X, y, alpha, beta):
    """Brute force: log N(y; 0, C) with C = I/beta + X X^T/alpha, by Cholesky."""
    n = X.shape[0]
    C = torch.eye(n, dtype=F64) / beta + X @ X.T / alpha
    L = torch.linalg.cholesky(C)
    v = torch.linalg.solve_triangular(L, y.reshape(-1, 1), upper=False)
    return float(
        -0.5 * (n * math.log(2 * math.pi) + 2 * torch.log(L.diag()).sum() + v.pow(2).sum())
    )


def _sklearn(alpha, beta, **kw):
    """BayesianRidge without hyper-priors: its alpha_ is OUR beta, its lambda_ OUR alpha."""
    return BayesianRidge(
        alpha_init=beta,
        lambda_init=alpha,
        alpha_1=0.0,
        alpha_2=0.0,
        lambda_1=0.0,
        lambda_2=0.0,
        fit_intercept=False,
        compute_score=True,
        **kw,
    )


@pytest.mark.parametrize(("n", "d"), [(8, 3), (4, 9), (6, 6), (1, 5), (30, 1)])
def test_matches_scipy_and_cholesky(n, d):
    X, y = _data(n, d)
    for alpha, beta in [(0.5, 2.0), (3.0, 0.1), (1e-3, 50.0)]:
        got = float(ridge_log_evidence(X, y, alpha, beta))
        cov = np.eye(n) / beta + X.numpy() @ X.numpy().T / alpha
        ref = multivariate_normal(mean=np.zeros(n), cov=cov).logpdf(y.numpy())
        assert got == pytest.approx(float(ref), rel=1e-8, abs=1e-9)  # C is ill-conditioned
        assert got == pytest.approx(_cholesky(X, y, alpha, beta), rel=1e-8, abs=1e-9)


def test_matches_bishop_386():
    """Bishop (3.86): the evidence written with the posterior mean m_N and precision A."""
    n, d = 12, 4
    X, y = _data(n, d, seed=3)
    alpha, beta = 0.8, 4.0
    A = alpha * torch.eye(d, dtype=F64) + beta * X.T @ X
    m = beta * torch.linalg.solve(A, X.T @ y)
    e_m = beta / 2 * float(((y - X @ m) ** 2).sum()) + alpha / 2 * float(m @ m)
    ref = (
        d / 2 * math.log(alpha)
        + n / 2 * math.log(beta)
        - e_m
        - 0.5 * float(torch.logdet(A))
        - n / 2 * math.log(2 * math.pi)
    )
    assert float(ridge_log_evidence(X, y, alpha, beta)) == pytest.approx(ref, rel=1e-11)


def test_monte_carlo_over_the_prior():
    """p(y) = E_w[p(y | w)] with w drawn from the prior; log-mean-exp of 400k draws."""
    n, d = 3, 2
    X, y = _data(n, d, seed=5)
    alpha, beta = 1.0, 1.0
    gen = torch.Generator().manual_seed(0)
    W = torch.randn(400_000, d, generator=gen, dtype=F64) / math.sqrt(alpha)
    resid = (W @ X.T - y) ** 2  # (S, n)
    loglik = 0.5 * n * math.log(beta / (2 * math.pi)) - beta / 2 * resid.sum(dim=1)
    mc = float(torch.logsumexp(loglik, 0) - math.log(len(W)))
    assert float(ridge_log_evidence(X, y, alpha, beta)) == pytest.approx(mc, abs=0.02)


@pytest.mark.parametrize(("n", "d"), [(15, 4), (5, 12)])
def test_sklearn_scores_at_the_initial_precisions(n, d):
    """scores_[0] is the log evidence at (lambda_init, alpha_init) = (our alpha, our beta)."""
    X, y = _data(n, d, seed=1)
    for alpha, beta in [(0.7, 3.0), (5.0, 0.2)]:
        br = _sklearn(alpha, beta, max_iter=1).fit(X.numpy(), y.numpy())
        got = float(ridge_log_evidence(X, y, alpha, beta))
        assert got == pytest.approx(float(br.scores_[0]), rel=1e-10)


def test_sklearn_maximum_is_a_stationary_point():
    """BayesianRidge's fixed point (MacKay) maximizes our evidence: a tiny move lowers it."""
    X, y = _data(40, 5, seed=2)
    br = _sklearn(1.0, 1.0, max_iter=2000, tol=1e-14).fit(X.numpy(), y.numpy())
    alpha, beta = float(br.lambda_), float(br.alpha_)  # sklearn's names swapped
    best = float(ridge_log_evidence(X, y, alpha, beta))
    assert best == pytest.approx(float(br.scores_[-1]), rel=1e-8)
    f = torch.tensor([0.97, 1.0, 1.03], dtype=F64)
    grid_a = ridge_log_evidence(X, y, alpha * f.repeat_interleave(3), beta * f.repeat(3))
    assert int(grid_a.argmax()) == 4  # the centre of the 3 x 3 grid
    # and the evidence is smooth there: the finite-difference gradient in log alpha vanishes
    h = 1e-5
    up = float(ridge_log_evidence(X, y, alpha * math.exp(h), beta))
    down = float(ridge_log_evidence(X, y, alpha * math.exp(-h), beta))
    assert abs(up - down) / (2 * h) < 1e-4


def test_vectorized_and_scalars_agree_and_float32():
    X, y = _data(7, 3, seed=4)
    a = torch.tensor([0.1, 1.0, 10.0], dtype=F64)
    b = torch.tensor([5.0, 0.5, 2.0], dtype=F64)
    out = ridge_log_evidence(X, y.reshape(-1, 1), a, b)
    assert out.shape == (3,) and out.dtype == F64
    for i in range(3):
        assert float(out[i]) == pytest.approx(
            float(ridge_log_evidence(X, y, float(a[i]), float(b[i])))
        )
    assert ridge_log_evidence(X, y, 1.0, 2.0).shape == ()
    assert ridge_log_evidence(X, y, a, 2.0).shape == (3,)
    assert ridge_log_evidence(X, y, torch.tensor(1.0), torch.tensor(2.0)).shape == ()
    lo = float(ridge_log_evidence(X.float(), y.float(), 1.0, 2.0))
    assert lo == pytest.approx(float(ridge_log_evidence(X, y, 1.0, 2.0)), rel=1e-5)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 9),
    d=st.integers(1, 9),
    seed=st.integers(0, 10_000),
    log_a=st.floats(-3, 3),
    log_b=st.floats(-3, 3),
)
def test_property_equals_gaussian_density(n, d, seed, log_a, log_b):
    X, y = _data(n, d, seed)
    alpha, beta = 10.0**log_a, 10.0**log_b
    got = float(ridge_log_evidence(X, y, alpha, beta))
    assert got == pytest.approx(_cholesky(X, y, alpha, beta), rel=1e-8, abs=1e-8)
    # more noise spreads the density: p(y = 0) = N(0; 0, C) falls when 1/beta doubles
    zero = torch.zeros(n, dtype=F64)
    assert float(ridge_log_evidence(X, zero, alpha, beta)) >= float(
        ridge_log_evidence(X, zero, alpha, beta / 2)
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"X": torch.ones(3)}, ValueError, "X must have shape"),
        ({"X": torch.ones(3, 2, dtype=torch.long)}, TypeError, "X must have a real floating"),
        ({"y": torch.ones(4)}, ValueError, "y must have shape"),
        ({"alpha": 0.0}, ValueError, "alpha must be > 0"),
        ({"alpha": -1.0}, ValueError, "alpha must be > 0"),
        ({"beta": math.inf}, ValueError, "beta must be finite"),
        ({"beta": "1"}, TypeError, "beta must be a real number"),
        ({"beta": True}, TypeError, "beta must be a real number"),
        ({"alpha": torch.ones(2, 2)}, ValueError, "alpha must be a number or a 0-d/1-D"),
        (
            {"alpha": torch.ones(2, dtype=F64), "beta": torch.ones(3, dtype=F64)},
            ValueError,
            "same length",
        ),
    ],
)
def test_argument_checks(kwargs, error, match):
    args = {
        "X": torch.ones(3, 2, dtype=F64),
        "y": torch.ones(3, dtype=F64),
        "alpha": 1.0,
        "beta": 1.0,
    }
    args.update(kwargs)
    with pytest.raises(error, match=match):
        ridge_log_evidence(**args)

"""Tests of weightreg.selection: refitting (brute force), scikit-learn, hypothesis properties."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold

from weightreg.selection import kfold_indices, one_standard_error, ridge_gcv, ridge_loo_residuals

pytestmark = pytest.mark.usefixtures("float64_default")

ALPHAS = torch.logspace(-2, 3, 11)


def _data(n: int, d: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    return X, X[:, : min(3, d)].sum(1) + 0.5 * torch.randn(n, generator=g)


def _ridge(X: torch.Tensor, y: torch.Tensor, alpha: float) -> torch.Tensor:
    return torch.linalg.solve(X.T @ X + alpha * torch.eye(X.shape[1]), X.T @ y)


@pytest.mark.parametrize("n, d", [(25, 5), (20, 60)])
@pytest.mark.parametrize("alpha", [0.01, 1.0, 100.0])
def test_loo_matches_refitting(n, d, alpha):
    X, y = _data(n, d)
    refit = []
    for i in range(n):
        keep = torch.arange(n) != i
        refit.append(float(y[i] - X[i] @ _ridge(X[keep], y[keep], alpha)))
    assert torch.allclose(ridge_loo_residuals(X, y, alpha), torch.tensor(refit), rtol=1e-8)


@pytest.mark.parametrize("n, d", [(30, 8), (30, 50)])
def test_loo_matches_sklearn_ridgecv(n, d):
    X, y = _data(n, d, seed=2)
    r = ridge_loo_residuals(X, y, ALPHAS)  # (A, n)
    assert r.shape == (len(ALPHAS), n)
    cv = RidgeCV(alphas=ALPHAS.numpy(), fit_intercept=False, store_cv_results=True)
    cv.fit(X.numpy(), y.numpy())
    assert np.allclose(cv.cv_results_.T, (r**2).numpy(), rtol=1e-7, atol=1e-10)
    assert cv.alpha_ == float(ALPHAS[(r**2).mean(dim=1).argmin()])


def test_scalar_and_vector_alpha_agree():
    X, y = _data(15, 4)
    rows = ridge_loo_residuals(X, y, ALPHAS)
    for j, a in enumerate(ALPHAS.tolist()):
        assert torch.allclose(ridge_loo_residuals(X, y, a), rows[j])
        assert torch.allclose(ridge_gcv(X, y, a), ridge_gcv(X, y, ALPHAS)[j])
    assert ridge_gcv(X, y, 1.0).dim() == 0 and ridge_loo_residuals(X, y, 1.0).shape == (15,)


@pytest.mark.parametrize("n, d", [(25, 5), (20, 60)])
def test_gcv_matches_explicit_hat_matrix(n, d):
    X, y = _data(n, d, seed=3)
    for a in ALPHAS.tolist():
        S = X @ torch.linalg.solve(X.T @ X + a * torch.eye(d), X.T)
        expected = ((y - S @ y) ** 2).mean() / (1 - torch.trace(S) / n) ** 2
        assert torch.allclose(ridge_gcv(X, y, a), expected, rtol=1e-9)


def test_gcv_is_rotation_invariant_and_loo_is_not():
    X, y = _data(20, 6, seed=4)
    Q, _ = torch.linalg.qr(torch.randn(20, 20, generator=torch.Generator().manual_seed(5)))
    assert torch.allclose(ridge_gcv(Q @ X, Q @ y, ALPHAS), ridge_gcv(X, y, ALPHAS), rtol=1e-9)
    loo, loo_rot = (
        (ridge_loo_residuals(M, v, ALPHAS) ** 2).mean(1) for M, v in [(X, y), (Q @ X, Q @ y)]
    )
    assert not torch.allclose(loo, loo_rot, rtol=1e-3)


def test_gcv_equals_loo_when_leverages_are_equal():
    """An orthogonal design with X^T X = c I and equal row norms: S_ii = tr(S)/n for all i."""
    H = torch.tensor([[1.0, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]])
    X, y = H[:, :2], torch.tensor([0.3, -1.0, 2.0, 0.5])
    loo = (ridge_loo_residuals(X, y, ALPHAS) ** 2).mean(dim=1)
    assert torch.allclose(loo, ridge_gcv(X, y, ALPHAS), rtol=1e-12)


@pytest.mark.parametrize("n, k", [(10, 2), (11, 3), (7, 7), (100, 5)])
def test_kfold_matches_sklearn(n, k):
    ours = kfold_indices(n, k)
    theirs = list(KFold(n_splits=k).split(np.zeros(n)))
    assert len(ours) == k
    for (tr, va), (tr_s, va_s) in zip(ours, theirs, strict=True):
        assert tr.tolist() == tr_s.tolist() and va.tolist() == va_s.tolist()
        assert tr.dtype == torch.int64


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 60), data=st.data())
def test_kfold_partitions(n, data):
    k = data.draw(st.integers(2, n))
    seed = data.draw(st.none() | st.integers(0, 1000))
    folds = kfold_indices(n, k, seed=seed)
    vals = torch.cat([va for _, va in folds])
    assert sorted(vals.tolist()) == list(range(n))
    sizes = [len(va) for _, va in folds]
    assert max(sizes) - min(sizes) <= 1
    for tr, va in folds:
        assert sorted(tr.tolist() + va.tolist()) == list(range(n))
        assert tr.tolist() == sorted(tr.tolist())
    assert kfold_indices(n, k, seed=seed)[0][1].tolist() == folds[0][1].tolist()


def test_kfold_seed_shuffles():
    a = kfold_indices(50, 5, seed=0)[0][1]
    assert (
        a.tolist() != list(range(10)) and a.tolist() != kfold_indices(50, 5, seed=1)[0][1].tolist()
    )


def _one_se_brute(E: np.ndarray) -> tuple[int, int]:
    mean = E.mean(axis=0)
    best = int(np.argmin(mean))
    se = E[:, best].std(ddof=1) / np.sqrt(E.shape[0])
    return best, max(g for g in range(E.shape[1]) if mean[g] <= mean[best] + se)


def test_one_standard_error_hand_case():
    E = torch.tensor([[3.0, 1.0, 1.2, 1.5, 4.0], [3.0, 2.0, 1.4, 1.7, 4.0]])
    # means 3, 1.5, 1.3, 1.6, 4: best 2; se = std([1.2, 1.4]) / sqrt(2) = 0.1 -> 1.4; none after
    assert one_standard_error(E) == (2, 2)
    E[:, 3] = torch.tensor([1.3, 1.5])  # mean 1.4 <= 1.3 + 0.1
    assert one_standard_error(E) == (2, 3)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(2, 6).flatmap(
        lambda k: st.lists(
            st.lists(st.floats(0, 10, allow_nan=False), min_size=k, max_size=k),
            min_size=3,
            max_size=8,
        )
    )
)
def test_one_standard_error_matches_numpy(columns):
    E = np.array(columns).T  # (K, G)
    best, one_se = one_standard_error(torch.tensor(E))
    assert (best, one_se) == _one_se_brute(E)
    assert one_se >= best


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: ridge_loo_residuals(torch.ones(3, 2), torch.ones(3), 0.0), ValueError, "alpha"),
        (lambda: ridge_loo_residuals(torch.ones(3, 2), torch.ones(4), 1.0), ValueError, "y"),
        (lambda: ridge_gcv(torch.ones(3), torch.ones(3), 1.0), ValueError, "X"),
        (
            lambda: ridge_gcv(torch.ones(3, 2), torch.ones(3), torch.tensor([1.0, -1.0])),
            ValueError,
            "alpha",
        ),
        (lambda: kfold_indices(5, 6), ValueError, "k"),
        (lambda: kfold_indices(5, 2, seed=-1), ValueError, "seed"),
        (lambda: kfold_indices(5.0, 2), TypeError, "n"),
        (lambda: one_standard_error(torch.ones(1, 4)), ValueError, "fold_errors"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
